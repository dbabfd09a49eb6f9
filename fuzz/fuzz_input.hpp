#pragma once
// libFuzzer hands bytes; c2f's readers take files (that is what users give them). Each target
// writes the bytes to a file in a per-process scratch folder and calls the reader on it.
//
// The contract under test: a reader either returns or throws c2f::Error (a clear message naming
// the file). Anything else (a crash, a sanitizer report, another exception type escaping, an
// allocation beyond libFuzzer's -rss_limit_mb) is a bug that libFuzzer reports.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

namespace c2f::fuzz {

inline std::filesystem::path scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    auto d = std::filesystem::path(base && *base ? base : "/tmp") / ("c2f-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, const std::uint8_t* data, std::size_t size) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
}

}  // namespace c2f::fuzz
