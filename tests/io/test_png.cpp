#include <doctest/doctest.h>

#include <random>
#include <stdexcept>

#include "../../io/png.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("PNG: what is encoded decodes to the same pixels, grey and colour, odd sizes") {
  std::mt19937 rng(3);
  for (int channels : {1, 3})
    for (auto [w, h] : {std::pair{1, 1}, std::pair{7, 3}, std::pair{64, 33}}) {
      Picture p{w, h, channels, {}};
      p.pixels.resize(std::size_t(w * h * channels));
      for (auto& v : p.pixels) v = std::uint8_t(rng());
      const std::string bytes = encode_png(p);
      CHECK(bytes.substr(1, 3) == "PNG");
      const Picture back = decode_png(bytes);
      CHECK(back.width == w);
      CHECK(back.height == h);
      CHECK(back.channels == channels);
      CHECK(back.pixels == p.pixels);
    }
}

TEST_CASE("PNG: Python's zlib and struct read the file as a PNG of the right size") {
  Picture p{5, 4, 3, std::vector<std::uint8_t>(60, 200)};
  test::ScratchDir dir("png");
  test::write_bytes(dir / "a.png", encode_png(p));
  // An independent reader: parse the chunks, check the CRCs and inflate the image data.
  const std::string script =
      "import struct,sys,zlib\n"
      "b=open(sys.argv[1],'rb').read(); assert b[:8]==b'\\x89PNG\\r\\n\\x1a\\n'\n"
      "i=8; idat=b''\n"
      "while i<len(b):\n"
      " n,=struct.unpack('>I',b[i:i+4]); t=b[i+4:i+8]; d=b[i+8:i+8+n]\n"
      " assert struct.unpack('>I',b[i+8+n:i+12+n])[0]==zlib.crc32(t+d)\n"
      " if t==b'IHDR': w,h,depth,colour=struct.unpack('>IIBB',d[:10])\n"
      " if t==b'IDAT': idat+=d\n"
      " i+=12+n\n"
      "raw=zlib.decompress(idat); assert (w,h,depth,colour)==(5,4,8,2) and len(raw)==h*(1+3*w)\n";
  test::write_bytes(dir / "check.py", script);
  CHECK(std::system((std::string(C2F_PYTHON) + " " + (dir / "check.py").string() + " " + (dir / "a.png").string()).c_str()) == 0);
}

TEST_CASE("PNG: damaged files and bad pictures are refused") {
  Picture p{4, 4, 1, std::vector<std::uint8_t>(16, 9)};
  std::string bytes = encode_png(p);
  CHECK_THROWS_AS(decode_png(bytes.substr(0, 20)), std::runtime_error);
  bytes[40] = char(bytes[40] ^ 0x55);  // inside IDAT: the CRC no longer matches
  CHECK_THROWS_AS(decode_png(bytes), std::runtime_error);
  CHECK_THROWS_AS(decode_png("GIF89a"), std::runtime_error);
  p.pixels.pop_back();
  CHECK_THROWS_AS(encode_png(p), std::invalid_argument);
}
