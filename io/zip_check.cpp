#include "zip_check.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {
std::uint64_t le(const unsigned char* p, int bytes) {
  std::uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

class ArchiveFile {
 public:
  explicit ArchiveFile(const fs::path& path) : path_(path), in_(path, std::ios::binary) {
    std::error_code ec;
    size_ = fs::file_size(path, ec);
    if (!in_ || ec) throw InputError(path.string(), "cannot open");
  }
  std::uint64_t size() const { return size_; }
  // n bytes at offset; throws when they are not all in the file.
  std::vector<unsigned char> read(std::uint64_t offset, std::uint64_t n) {
    if (offset > size_ || n > size_ - offset) fail("truncated or corrupt zip archive (a record lies outside the file)");
    std::vector<unsigned char> b(n);
    in_.seekg(std::streamoff(offset));
    in_.read(reinterpret_cast<char*>(b.data()), std::streamsize(n));
    if (!in_) fail("read error");
    return b;
  }
  std::uint32_t crc(std::uint64_t offset, std::uint64_t n) {
    if (offset > size_ || n > size_ - offset) fail("truncated or corrupt zip archive (a record lies outside the file)");
    in_.seekg(std::streamoff(offset));
    std::vector<char> buf(std::size_t(1) << 20);
    uLong c = crc32(0L, Z_NULL, 0);
    while (n > 0) {
      const auto k = std::size_t(std::min<std::uint64_t>(n, buf.size()));
      in_.read(buf.data(), std::streamsize(k));
      if (!in_) fail("read error");
      c = crc32(c, reinterpret_cast<const Bytef*>(buf.data()), uInt(k));
      n -= k;
    }
    return std::uint32_t(c);
  }
  // CRC-32 of a deflated record's inflated bytes; fails when it does not inflate to `size`.
  std::uint32_t inflated_crc(std::uint64_t offset, std::uint64_t n, std::uint64_t size, const std::string& name) {
    if (offset > size_ || n > size_ - offset) fail("truncated or corrupt zip archive (a record lies outside the file)");
    in_.seekg(std::streamoff(offset));
    z_stream z{};
    if (inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("cannot start zlib");
    std::vector<unsigned char> src(std::size_t(1) << 16), dst(std::size_t(1) << 16);
    uLong c = crc32(0L, Z_NULL, 0);
    std::uint64_t produced = 0;
    int rc = Z_OK;
    while (rc != Z_STREAM_END) {
      if (z.avail_in == 0) {
        if (n == 0) break;
        const auto k = std::size_t(std::min<std::uint64_t>(n, src.size()));
        in_.read(reinterpret_cast<char*>(src.data()), std::streamsize(k));
        if (!in_) break;
        n -= k;
        z.next_in = src.data();
        z.avail_in = uInt(k);
      }
      z.next_out = dst.data();
      z.avail_out = uInt(dst.size());
      rc = inflate(&z, Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END) break;
      const std::size_t got = dst.size() - z.avail_out;
      c = crc32(c, dst.data(), uInt(got));
      produced += got;
      if (produced > size) break;
    }
    inflateEnd(&z);
    if (rc != Z_STREAM_END || produced != size)
      fail(fmt::format("corrupt archive: record {} does not inflate to its size", name));
    return std::uint32_t(c);
  }
  [[noreturn]] void fail(const std::string& what) const { throw InputError(path_.string(), what); }

 private:
  fs::path path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
};
}  // namespace

std::vector<ZipRecord> check_zip_archive(const fs::path& path) {
  ArchiveFile f(path);
  if (f.size() < 22) f.fail("not a zip archive (too short)");
  // The end-of-central-directory record: the last signature within the final 64 KiB + 22 bytes.
  const std::uint64_t tail_len = std::min<std::uint64_t>(f.size(), 65557);
  const auto tail = f.read(f.size() - tail_len, tail_len);
  std::int64_t eocd = -1;
  for (std::int64_t i = std::int64_t(tail_len) - 22; i >= 0; --i)
    if (le(&tail[std::size_t(i)], 4) == 0x06054b50) {
      eocd = i;
      break;
    }
  if (eocd < 0) f.fail("not a zip archive (no end-of-central-directory record; truncated?)");
  const unsigned char* e = &tail[std::size_t(eocd)];
  std::uint64_t entries = le(e + 10, 2), cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
  if (entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {  // zip64
    const std::uint64_t eocd_at = f.size() - tail_len + std::uint64_t(eocd);
    if (eocd_at < 20) f.fail("corrupt zip64 archive (no locator)");
    const auto loc = f.read(eocd_at - 20, 20);
    if (le(loc.data(), 4) != 0x07064b50) f.fail("corrupt zip64 archive (no locator)");
    const auto rec = f.read(le(loc.data() + 8, 8), 56);
    if (le(rec.data(), 4) != 0x06064b50) f.fail("corrupt zip64 archive (no end record)");
    entries = le(rec.data() + 32, 8);
    cd_size = le(rec.data() + 40, 8);
    cd_offset = le(rec.data() + 48, 8);
  }
  const auto cd = f.read(cd_offset, cd_size);
  std::vector<ZipRecord> records;
  std::size_t at = 0;
  for (std::uint64_t k = 0; k < entries; ++k) {
    if (at + 46 > cd.size() || le(&cd[at], 4) != 0x02014b50) f.fail("corrupt zip archive (central directory)");
    const unsigned char* h = &cd[at];
    const auto method = le(h + 10, 2);
    const auto crc = std::uint32_t(le(h + 16, 4));
    std::uint64_t comp = le(h + 20, 4), uncomp = le(h + 24, 4), local = le(h + 42, 4);
    const std::size_t name_len = le(h + 28, 2), extra_len = le(h + 30, 2), comment_len = le(h + 32, 2);
    if (at + 46 + name_len + extra_len + comment_len > cd.size()) f.fail("corrupt zip archive (central directory)");
    const std::string name(reinterpret_cast<const char*>(h + 46), name_len);
    // Zip64 sizes and offset, in this order, for the fields that overflowed.
    for (std::size_t x = 46 + name_len; x + 4 <= 46 + name_len + extra_len;) {
      const auto id = le(h + x, 2), len = le(h + x + 2, 2);
      if (x + 4 + len > 46 + name_len + extra_len) break;
      if (id == 0x0001) {
        std::size_t y = x + 4;
        const auto take = [&](std::uint64_t& v) {
          if (v == 0xFFFFFFFF && y + 8 <= x + 4 + len) v = le(h + y, 8), y += 8;
        };
        take(uncomp);
        take(comp);
        take(local);
      }
      x += 4 + len;
    }
    if (method != 0 && method != 8) f.fail(fmt::format("record {} uses compression method {}, not stored or deflate", name, method));
    if (method == 0 && comp != uncomp) f.fail(fmt::format("corrupt zip archive (record {} has two sizes)", name));
    const auto lh = f.read(local, 30);
    if (le(lh.data(), 4) != 0x04034b50) f.fail(fmt::format("corrupt zip archive (record {} has no local header)", name));
    const std::uint64_t data = local + 30 + le(lh.data() + 26, 2) + le(lh.data() + 28, 2);
    const std::uint32_t actual = method == 0 ? f.crc(data, comp) : f.inflated_crc(data, comp, uncomp, name);
    if (actual != crc) f.fail(fmt::format("corrupt archive: record {} does not match its CRC-32", name));
    records.push_back({name, uncomp});
    at += 46 + name_len + extra_len + comment_len;
  }
  return records;
}

}  // namespace c2f
