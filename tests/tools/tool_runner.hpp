#pragma once
// Runs an executable and captures its exit code, stdout and stderr.
#include <cstdlib>
#include <string>
#include <sys/wait.h>

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

}  // namespace c2f::test
