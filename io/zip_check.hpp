#pragma once
// Integrity of a zip archive (a LibTorch checkpoint is one): every record's stored bytes against
// the CRC-32 its central directory gives. LibTorch's reader checks no CRC and parses what it
// finds (pickles, TorchScript), and on mangled bytes it can crash outright (seen: a stack
// overflow in TorchScript's type parser); checked first, a damaged file is refused by name.
// Guards against damage (truncation, flipped bits), not against a crafted file.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace c2f {

// Throws InputError naming the file and what is wrong: not a zip archive, truncated, a record
// outside the file, a record that does not inflate, or a CRC mismatch (naming the record).
// Records are stored or deflated (LibTorch deflates its TorchScript code); zip64 is read.
// Returns every record's name and (uncompressed) size.
struct ZipRecord {
  std::string name;
  std::uint64_t size = 0;
};
std::vector<ZipRecord> check_zip_archive(const std::filesystem::path& path);

}  // namespace c2f
