// Data-parallel c2f-train: ranks started as a launcher starts them (RANK, WORLD_SIZE, MASTER_ADDR,
// MASTER_PORT), meeting over c10d, against one process training with the same batch.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include "../../model/checkpoint.hpp"
#include "free_port.hpp"
#include "test_support.hpp"
#include "tools/tool_runner.hpp"

extern char** environ;

using namespace c2f;
namespace fs = std::filesystem;

namespace {
// Starts argv with `extra` added to this process's environment, its output in `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra, const fs::path& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen(log.c_str(), "w", stdout);
    std::freopen((log.string() + ".err").c_str(), "w", stderr);
    for (const auto& kv : extra) ::putenv(const_cast<char*>(kv.c_str()));
    std::vector<char*> c;
    for (const auto& s : argv) c.push_back(const_cast<char*>(s.c_str()));
    c.push_back(nullptr);
    ::execve(c[0], c.data(), environ);
    _exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::vector<std::string> split(const std::string& args) {
  std::vector<std::string> out{C2F_TRAIN_EXE};
  std::string word;
  for (char c : args) {
    if (c == ' ') {
      if (!word.empty()) out.push_back(word);
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

// Two ranks of c2f-train on this machine; both must succeed. Returns rank 0's and rank 1's stdout.
std::pair<std::string, std::string> train_on_two_ranks(const std::string& args, const fs::path& dir, const std::string& tag) {
  const std::string port = std::to_string(test::free_tcp_port());
  pid_t pids[2];
  for (int r = 0; r < 2; ++r)
    pids[r] = spawn(split(args + " --distributed"),
                    {"RANK=" + std::to_string(r), "WORLD_SIZE=2", "LOCAL_WORLD_SIZE=2", "MASTER_ADDR=127.0.0.1",
                     "MASTER_PORT=" + port},
                    dir / fmt::format("{}-rank{}.txt", tag, r));
  for (int r = 0; r < 2; ++r) {
    const int rc = wait_for(pids[r]);
    const fs::path log = dir / fmt::format("{}-rank{}.txt", tag, r);
    REQUIRE_MESSAGE(rc == 0, tag, " rank ", r, ": ", test::read_bytes(log.string() + ".err"));
  }
  return {test::read_bytes(dir / (tag + "-rank0.txt")), test::read_bytes(dir / (tag + "-rank1.txt"))};
}

float max_weight_difference(const fs::path& a, const fs::path& b) {
  auto ma = load_checkpoint(a).model, mb = load_checkpoint(b).model;
  const auto pa = ma->parameters(), pb = mb->parameters();
  REQUIRE(pa.size() == pb.size());
  float worst = 0;
  for (std::size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<float>());
  return worst;
}
}  // namespace

TEST_CASE("2 ranks with one image each train the weights of one process with a batch of two, and resume on either") {
  test::ScratchDir dir("data-parallel");
  auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "cohort").string() + " --cases 3 --seed 21 --size 40x40x20", dir.path());
  REQUIRE(r.exit_code == 0);
  // Fine samples: each a crop of its own size, so a batch cannot be one tensor and is accumulated.
  const std::string base = "-i " + (dir / "cohort").string() +
                           " --folds 2 --scale fine --view A --checkpoint-every 10 --log-every 5 --min-share 0.001 --preset paper "
                           "--threads 1 -q --seed 5";
  const auto checkpoint = [&](const std::string& out) { return dir / out / "fine_axial.pt"; };

  // One process, a batch of two, 20 steps: the reference.
  r = test::run(C2F_TRAIN_EXE, base + " --batch 2 --iterations 20 -o " + (dir / "one").string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const CheckpointInfo one = read_checkpoint_info(checkpoint("one"));
  CHECK(one.iteration == 20);
  CHECK(one.hyper["batch"] == 2);

  // Two ranks, one image each (the batch defaults to one per rank).
  const auto [out0, out1] = train_on_two_ranks(base + " --iterations 20 -o " + (dir / "two").string(), dir.path(), "two");
  CHECK(out0.find("fine_axial") != std::string::npos);  // rank 0 prints the table
  CHECK(out1.empty());                                   // rank 1 nothing
  const CheckpointInfo two = read_checkpoint_info(checkpoint("two"));
  CHECK(two.iteration == 20);
  CHECK(two.hyper["batch"] == 2);
  CHECK(two.hyper["ranks"] == 2);
  CHECK(test::count_lines(test::read_bytes(dir / "two" / "fine_axial.csv")) == 1 + 20 / 5);  // one writer
  const float two_vs_one = max_weight_difference(checkpoint("two"), checkpoint("one"));
  MESSAGE("2 ranks vs 1 process, batch of 2, 20 steps: largest weight difference ", two_vs_one);
  CHECK(two_vs_one <= 1e-5f);
  // Not equal by accident: the first 10 steps' weights are far from the last.
  r = test::run(C2F_TRAIN_EXE, base + " --batch 2 --iterations 10 -o " + (dir / "ten").string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  CHECK(max_weight_difference(checkpoint("ten"), checkpoint("one")) > 1e-3f);

  // 2 ranks to step 10, then one process to 20 (the batch from the checkpoint).
  train_on_two_ranks(base + " --iterations 10 -o " + (dir / "two-one").string(), dir.path(), "two-one");
  r = test::run(C2F_TRAIN_EXE, base + " --resume --iterations 20 -o " + (dir / "two-one").string(), dir.path());
  REQUIRE_MESSAGE(r.exit_code == 0, r.err);
  const float two_one = max_weight_difference(checkpoint("two-one"), checkpoint("one"));
  MESSAGE("2 ranks to 10, 1 process to 20: ", two_one);
  CHECK(two_one <= 1e-5f);

  // One process to step 10, then 2 ranks to 20.
  fs::create_directories(dir / "one-two");
  fs::copy(checkpoint("ten"), checkpoint("one-two"));
  train_on_two_ranks(base + " --resume --iterations 20 -o " + (dir / "one-two").string(), dir.path(), "one-two");
  const float one_two = max_weight_difference(checkpoint("one-two"), checkpoint("one"));
  MESSAGE("1 process to 10, 2 ranks to 20: ", one_two);
  CHECK(one_two <= 1e-5f);
  CHECK(read_checkpoint_info(checkpoint("one-two")).iteration == 20);
}

TEST_CASE("c2f-train --distributed without a launcher's variables is one clear line and exit code 2") {
  test::ScratchDir dir("data-parallel-env");
  const std::string clear = "env -u RANK -u WORLD_SIZE -u SLURM_PROCID -u SLURM_NTASKS -u OMPI_COMM_WORLD_RANK ";
  const auto r = test::run(clear + C2F_TRAIN_EXE, "--distributed -i nowhere -o " + (dir / "m").string(), dir.path());
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("no launcher found") != std::string::npos);
  CHECK(test::count_lines(r.err) == 1);
}
