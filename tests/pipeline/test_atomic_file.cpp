#include <doctest/doctest.h>

#include <stdexcept>

#include "../../pipeline/atomic_file.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

TEST_CASE("write_text_atomically replaces the file whole") {
  test::ScratchDir dir("atomic");
  write_text_atomically(dir / "a.json", "first");
  write_text_atomically(dir / "a.json", "second");
  CHECK(test::read_bytes(dir / "a.json") == "second");
  CHECK(test::count_entries(dir.path()) == 1);
}

TEST_CASE("a failing writer leaves neither the final file nor its temporary") {
  test::ScratchDir dir("atomic-fail");
  CHECK_THROWS_AS(write_atomically(dir / "mask.nii.gz",
                                   [](const std::filesystem::path& tmp) {
                                     test::write_bytes(tmp, "half of a file");
                                     throw std::runtime_error("disk full");
                                   }),
                  std::runtime_error);
  CHECK(test::count_entries(dir.path()) == 0);
}

TEST_CASE("a failing writer keeps the previous complete file") {
  test::ScratchDir dir("atomic-keep");
  write_text_atomically(dir / "r.json", "old");
  CHECK_THROWS(write_atomically(dir / "r.json", [](const std::filesystem::path& tmp) {
    test::write_bytes(tmp, "ne");
    throw OutputError("r.json", "no space left on device");
  }));
  CHECK(test::read_bytes(dir / "r.json") == "old");
  CHECK(test::count_entries(dir.path()) == 1);
}

TEST_CASE("temporary names keep the double extension that picks the format") {
  const auto t = temporary_sibling("/x/y/mask.nii.gz");
  CHECK(t.parent_path() == "/x/y");
  CHECK(t.filename().string().ends_with(".nii.gz"));
  CHECK(t.filename().string().starts_with("."));
}

TEST_CASE("temporaries left by a killed writer are removed, a live writer's are kept") {
  test::ScratchDir dir("atomic-stale");
  const auto final_path = dir / "w.pt";
  test::write_bytes(dir / ".w.pt.tmp-999999999-0.pt", "dead writer");  // no such process
  const auto mine = temporary_sibling(final_path);                       // this (live) process
  test::write_bytes(mine, "live writer");
  test::write_bytes(dir / ".other.pt.tmp-999999999-0.pt", "another file's");
  CHECK(remove_stale_temporaries(final_path) == 1);
  CHECK(std::filesystem::exists(mine));
  CHECK(std::filesystem::exists(dir / ".other.pt.tmp-999999999-0.pt"));
}
