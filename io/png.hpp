#pragma once
// PNG, written by c2f itself with zlib: 8-bit grey or colour pictures, which is all the overlays
// and plots need. OpenCV's image codecs would pull GDAL, LLVM and a hundred more libraries into
// every build (185 MB on Debian 12), which a GPU machine without a package registry cannot get.
#include <cstdint>
#include <string>
#include <vector>

namespace c2f {

struct Picture {
  int width = 0, height = 0;
  int channels = 3;                 // 1: grey, 3: RGB
  std::vector<std::uint8_t> pixels; // rows top to bottom, channels interleaved
};

// The PNG file's bytes. Throws std::invalid_argument for an empty or inconsistent picture.
std::string encode_png(const Picture& picture, int compression_level = 6);

// Reads what encode_png writes (8-bit grey or RGB, not interlaced, any filter). Throws
// std::runtime_error for anything else or a damaged file.
Picture decode_png(const std::string& bytes);

}  // namespace c2f
