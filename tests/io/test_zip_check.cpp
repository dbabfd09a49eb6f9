// check_zip_archive against archives Python's zipfile writes: stored, deflated and zip64 records
// pass; a flipped byte in any record, a cut file or bytes that are no zip are refused by name.
#include <doctest/doctest.h>

#include <fstream>

#include "../../io/zip_check.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
// Writes archive.zip in dir: record "a/stored" (stored, 3000 bytes), "a/deflated" (deflated text),
// "a/big64" (stored, written with zip64 headers).
fs::path make_archive(const test::ScratchDir& dir) {
  {
    std::ofstream py(dir / "make.py");
    py << "import sys, zipfile\n"
          "with zipfile.ZipFile(sys.argv[1], 'w') as z:\n"
          "    z.writestr(zipfile.ZipInfo('a/stored'), bytes(range(256)) * 11 + b'x' * 184)\n"
          "    z.writestr('a/deflated', 'def forward(self, x):\\n    return x\\n' * 50, compress_type=zipfile.ZIP_DEFLATED)\n"
          "    with z.open('a/big64', 'w', force_zip64=True) as f:\n"
          "        f.write(b'0123456789' * 100)\n";
  }
  const fs::path zip = dir / "archive.zip";
  const std::string cmd = std::string(C2F_PYTHON) + " " + (dir / "make.py").string() + " " + zip.string();
  REQUIRE(std::system(cmd.c_str()) == 0);
  return zip;
}

std::string error_of(const fs::path& p) {
  try {
    check_zip_archive(p);
  } catch (const InputError& e) {
    return e.what();
  }
  return {};
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}
}  // namespace

TEST_CASE("a whole archive passes: stored, deflated and zip64-headed records") {
  test::ScratchDir dir("zip-ok");
  CHECK(error_of(make_archive(dir)).empty());
}

TEST_CASE("a flipped byte in any record is refused, naming the record") {
  test::ScratchDir dir("zip-flip");
  const fs::path zip = make_archive(dir);
  const std::string good = test::read_bytes(zip);
  // Where each record's data sits: after its name in the local header (names are unique here).
  for (const std::string name : {"a/stored", "a/deflated", "a/big64"}) {
    CAPTURE(name);
    const auto at = good.find(name);
    REQUIRE(at != std::string::npos);
    std::string bad = good;
    bad[at + name.size() + 40] ^= 0x20;  // inside the record's data (past any extra field)
    write_bytes(dir / "bad.zip", bad);
    const std::string e = error_of(dir / "bad.zip");
    CHECK(e.find("bad.zip") != std::string::npos);
    CHECK(e.find(name) != std::string::npos);
  }
}

TEST_CASE("a cut archive, an empty file and bytes that are no zip are refused by name") {
  test::ScratchDir dir("zip-cut");
  const std::string good = test::read_bytes(make_archive(dir));
  for (const std::size_t keep : {std::size_t(0), std::size_t(10), good.size() / 2, good.size() - 1}) {
    CAPTURE(keep);
    write_bytes(dir / "cut.zip", good.substr(0, keep));
    const std::string e = error_of(dir / "cut.zip");
    CHECK(e.find("cut.zip") != std::string::npos);
  }
  write_bytes(dir / "text.zip", std::string(5000, 'a'));
  CHECK(error_of(dir / "text.zip").find("not a zip archive") != std::string::npos);
}
