#include "onnx_export.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <fmt/format.h>

#include "checkpoint.hpp"
#include "onnx_inference.hpp"
#include "../pipeline/errors.hpp"
#include "../pipeline/geometry.hpp"
#include "../pipeline/scale.hpp"
#include "../pipeline/volume.hpp"

extern char** environ;

namespace fs = std::filesystem;

namespace c2f {

namespace {
// Runs argv with stdout and stderr into `log`; returns the exit status (-1: not started).
int run_logged(const std::vector<std::string>& argv, const fs::path& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int err = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string last_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  return last;
}
}  // namespace

void export_onnx(const fs::path& checkpoint, const fs::path& out, const OnnxExporter& exporter) {
  // The whole file, weights' CRC included: a damaged one stops here.
  const nlohmann::json record = load_checkpoint(checkpoint).record;
  if (!fs::exists(exporter.script)) throw OutputError(out.string(), "the exporter " + exporter.script.string() + " is missing");
  const fs::path log = fs::path(out.string() + ".log");
  const int status = run_logged({exporter.python.string(), exporter.script.string(), checkpoint.string(), out.string()}, log);
  const std::string why = last_line(log);
  std::error_code ec;
  fs::remove(log, ec);
  if (status != 0) {
    fs::remove(out.string() + ".tmp", ec);
    throw OutputError(out.string(), status < 0 ? "cannot run " + exporter.python.string()
                                               : "the ONNX export failed: " + (why.empty() ? "no message" : why));
  }
#ifdef C2F_HAVE_OPENCV_DNN
  // The file names the checkpoint it came from: the OpenCV back end's own check.
  try {
    OnnxNetwork exported(out, record);
  } catch (const InputError& e) {
    fs::remove(out, ec);
    throw OutputError(out.string(), std::string("the exported graph is not usable: ") + e.what());
  }
#endif
}

std::vector<fs::path> export_onnx_set(const fs::path& folder, const fs::path& out_folder, const OnnxExporter& exporter) {
  std::error_code ec;
  fs::create_directories(out_folder, ec);
  if (ec) throw OutputError(out_folder.string(), "cannot create the folder: " + ec.message());
  std::vector<fs::path> written;
  for (Scale scale : {Scale::Coarse, Scale::Fine})
    for (View view : kViews) {
      const fs::path in = folder / fmt::format("{}_{}.pt", scale_name(scale), view_name(view));
      if (!fs::exists(in)) throw InputError(in.string(), "missing (a model folder holds the six <scale>_<view>.pt)");
      written.push_back(onnx_network_path(out_folder, scale, view));
      export_onnx(in, written.back(), exporter);
    }
  return written;
}

}  // namespace c2f
