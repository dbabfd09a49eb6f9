#pragma once
// Runs an executable and captures its exit code, stdout and stderr; or starts one and kills it.
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include "test_support.hpp"

namespace c2f::test {

struct ToolResult {
  int exit_code = -1;
  std::string out, err;
};

inline ToolResult run(const std::string& exe, const std::string& args, const std::filesystem::path& scratch) {
  const auto out = scratch / "stdout.txt", err = scratch / "stderr.txt";
  const std::string cmd = exe + " " + args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  ToolResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_bytes(out);
  r.err = read_bytes(err);
  return r;
}

// Runs argv (argv[0] the executable's path, output discarded) and SIGKILLs it after `after`
// unless it ends first. Returns true when it was killed, false when it had already exited.
inline bool run_and_kill(std::vector<std::string> argv, std::chrono::milliseconds after) {
  const pid_t pid = fork();
  if (pid == 0) {
    std::freopen("/dev/null", "w", stdout);
    std::freopen("/dev/null", "w", stderr);
    std::vector<char*> c;
    for (auto& s : argv) c.push_back(s.data());
    c.push_back(nullptr);
    execv(c[0], c.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + after;
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return true;
}

inline std::string join_args(const std::vector<std::string>& argv) {
  std::string s;
  for (std::size_t i = 1; i < argv.size(); ++i) s += (i > 1 ? " " : "") + argv[i];
  return s;
}

}  // namespace c2f::test
