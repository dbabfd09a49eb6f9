#include "png.hpp"

#include <cstring>
#include <stdexcept>

#include <zlib.h>

namespace c2f {

namespace {
constexpr unsigned char kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

void put32(std::string& out, std::uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) out.push_back(char((v >> s) & 0xff));
}

std::uint32_t get32(const std::string& in, std::size_t at) {
  if (at + 4 > in.size()) throw std::runtime_error("PNG: truncated");
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | std::uint8_t(in[at + std::size_t(i)]);
  return v;
}

void chunk(std::string& out, const char type[4], const std::string& data) {
  put32(out, std::uint32_t(data.size()));
  const std::size_t start = out.size();
  out.append(type, 4);
  out += data;
  put32(out, std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(out.data() + start), uInt(out.size() - start))));
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}
}  // namespace

std::string encode_png(const Picture& p, int level) {
  if (p.width <= 0 || p.height <= 0 || (p.channels != 1 && p.channels != 3) ||
      p.pixels.size() != std::size_t(p.width) * std::size_t(p.height) * std::size_t(p.channels))
    throw std::invalid_argument("encode_png: empty or inconsistent picture");
  // Each row: filter byte 1 ("sub", the difference to the pixel on the left), which compresses
  // smooth pictures well and costs one subtraction per byte.
  const std::size_t row = std::size_t(p.width) * std::size_t(p.channels);
  std::string raw;
  raw.reserve((row + 1) * std::size_t(p.height));
  for (int y = 0; y < p.height; ++y) {
    const std::uint8_t* src = p.pixels.data() + std::size_t(y) * row;
    raw.push_back(1);
    for (std::size_t i = 0; i < row; ++i)
      raw.push_back(char(i < std::size_t(p.channels) ? src[i] : std::uint8_t(src[i] - src[i - std::size_t(p.channels)])));
  }
  uLongf size = compressBound(uLong(raw.size()));
  std::string packed(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
                uLong(raw.size()), level) != Z_OK)
    throw std::runtime_error("encode_png: zlib failed");
  packed.resize(size);

  std::string out(reinterpret_cast<const char*>(kSignature), 8);
  std::string header;
  put32(header, std::uint32_t(p.width));
  put32(header, std::uint32_t(p.height));
  header += {8, char(p.channels == 3 ? 2 : 0), 0, 0, 0};  // bit depth, colour type, deflate, filters, no interlace
  chunk(out, "IHDR", header);
  chunk(out, "IDAT", packed);
  chunk(out, "IEND", {});
  return out;
}

Picture decode_png(const std::string& in) {
  if (in.size() < 8 || std::memcmp(in.data(), kSignature, 8) != 0) throw std::runtime_error("PNG: bad signature");
  Picture p;
  std::string packed;
  std::size_t at = 8;
  bool end = false;
  while (!end) {
    const std::uint32_t length = get32(in, at);
    if (at + 12 + std::size_t(length) > in.size()) throw std::runtime_error("PNG: truncated chunk");
    const std::string type = in.substr(at + 4, 4);
    const std::string data = in.substr(at + 8, length);
    const std::uint32_t crc = get32(in, at + 8 + length);
    if (crc != std::uint32_t(crc32(0, reinterpret_cast<const Bytef*>(in.data() + at + 4), uInt(length + 4))))
      throw std::runtime_error("PNG: bad checksum in " + type);
    if (type == "IHDR") {
      if (length != 13) throw std::runtime_error("PNG: bad header");
      p.width = int(get32(data, 0));
      p.height = int(get32(data, 4));
      const int depth = std::uint8_t(data[8]), colour = std::uint8_t(data[9]), interlace = std::uint8_t(data[12]);
      if (depth != 8 || (colour != 0 && colour != 2) || interlace != 0 || p.width <= 0 || p.height <= 0)
        throw std::runtime_error("PNG: only 8-bit grey or RGB, not interlaced");
      p.channels = colour == 2 ? 3 : 1;
    } else if (type == "IDAT") {
      packed += data;
    } else if (type == "IEND") {
      end = true;
    }
    at += 12 + std::size_t(length);
  }
  if (p.width == 0) throw std::runtime_error("PNG: no header");
  const std::size_t row = std::size_t(p.width) * std::size_t(p.channels);
  std::string raw((row + 1) * std::size_t(p.height), '\0');
  uLongf size = uLongf(raw.size());
  if (uncompress(reinterpret_cast<Bytef*>(raw.data()), &size, reinterpret_cast<const Bytef*>(packed.data()),
                 uLong(packed.size())) != Z_OK ||
      size != raw.size())
    throw std::runtime_error("PNG: damaged image data");
  p.pixels.resize(row * std::size_t(p.height));
  const std::size_t bpp = std::size_t(p.channels);
  for (int y = 0; y < p.height; ++y) {
    const int filter = std::uint8_t(raw[std::size_t(y) * (row + 1)]);
    const std::uint8_t* src = reinterpret_cast<const std::uint8_t*>(raw.data()) + std::size_t(y) * (row + 1) + 1;
    std::uint8_t* dst = p.pixels.data() + std::size_t(y) * row;
    const std::uint8_t* up = y > 0 ? dst - row : nullptr;
    for (std::size_t i = 0; i < row; ++i) {
      const int a = i >= bpp ? dst[i - bpp] : 0, b = up ? up[i] : 0, c = up && i >= bpp ? up[i - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: pred = paeth(a, b, c); break;
        default: throw std::runtime_error("PNG: unknown row filter");
      }
      dst[i] = std::uint8_t(src[i] + pred);
    }
  }
  return p;
}

}  // namespace c2f
