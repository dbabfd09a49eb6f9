#include "atomic_file.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {
std::string full_extension(const fs::path& p) {
  // ".nii.gz" rather than ".gz": the part of the name from the first dot after the stem's start.
  const std::string name = p.filename().string();
  const auto dot = name.find('.', 1);
  return dot == std::string::npos ? std::string() : name.substr(dot);
}

// Whether the file system that holds `dir` is out of space (or of inodes). Writers that go
// through other libraries (zlib, libnifti, LibTorch's zip writer) lose errno, and report "write
// failed" with whatever errno came last; so a failed write asks the file system itself, before
// the partial file is removed and its space given back.
bool out_of_space(const fs::path& dir) {
  struct statvfs s {};
  if (::statvfs(dir.empty() ? "." : dir.c_str(), &s) != 0) return false;
  return double(s.f_bavail) * double(s.f_frsize) < 64.0 * 1024 || (s.f_files > 0 && s.f_favail == 0);
}
}  // namespace

fs::path temporary_sibling(const fs::path& final_path) {
  static std::atomic<unsigned> counter{0};
  const std::string ext = full_extension(final_path);
  // Appended piece by piece: GCC 12 warns falsely (-Wrestrict) about "." + string.
  std::string name = ".";
  name += final_path.filename().string();
  name += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)) + ext;
  return final_path.parent_path() / name;
}

int remove_stale_temporaries(const fs::path& final_path) {
  std::string prefix = ".";  // appended, not "." + string: see temporary_sibling
  prefix += final_path.filename().string();
  prefix += ".tmp-";
  const fs::path dir = final_path.parent_path().empty() ? fs::path(".") : final_path.parent_path();
  std::error_code ec;
  int removed = 0;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + prefix.size(), nullptr, 10);
    const bool writer_alive = pid > 0 && (::kill(pid_t(pid), 0) == 0 || errno == EPERM);
    if (!writer_alive && fs::remove(e.path(), ec)) ++removed;
  }
  return removed;
}

void sync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw OutputError(path.string(), std::string("cannot reopen to flush: ") + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) throw OutputError(path.string(), std::string("flush to disk failed: ") + std::strerror(err));
}

void write_atomically(const fs::path& final_path, const std::function<void(const fs::path&)>& write) {
  const fs::path tmp = temporary_sibling(final_path);
  try {
    write(tmp);
    sync_file(tmp);
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    if (ec) throw OutputError(final_path.string(), "cannot rename the finished file into place: " + ec.message());
  } catch (...) {
    const bool full = out_of_space(final_path.parent_path());
    std::error_code ignored;
    fs::remove(tmp, ignored);
    if (full) throw OutputError(final_path.string(), "No space left on device (the disk is full)");
    throw;
  }
}

void write_text_atomically(const fs::path& final_path, std::string_view text) {
  write_atomically(final_path, [&](const fs::path& tmp) {
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f) throw OutputError(final_path.string(), std::string("cannot create: ") + std::strerror(errno));
    const std::size_t n = std::fwrite(text.data(), 1, text.size(), f);
    const bool flushed = std::fflush(f) == 0;
    const int err = errno;
    const bool closed = std::fclose(f) == 0;
    if (n != text.size() || !flushed || !closed)
      throw OutputError(final_path.string(), std::string("write failed: ") + std::strerror(err));
  });
}

}  // namespace c2f
