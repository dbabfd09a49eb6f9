#include <doctest/doctest.h>

#include "tool_runner.hpp"

using namespace c2f;

TEST_CASE("c2f-phantom writes the same cohort for the same seed and prints a summary row per case") {
  test::ScratchDir dir("phantom-cli");
  const std::string args = " --cases 2 --seed 9 --size 48x40x16 --preview";
  const auto a = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "a").string() + args, dir.path());
  REQUIRE(a.exit_code == 0);
  CHECK(a.out.find("phantom_000") != std::string::npos);
  CHECK(a.out.find("phantom_001") != std::string::npos);
  const auto b = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "b").string() + args, dir.path());
  REQUIRE(b.exit_code == 0);
  for (const char* f : {"phantom_000.nii.gz", "phantom_001_label.nii.gz"}) {
    CAPTURE(f);
    CHECK(test::read_bytes(dir / "a" / f) == test::read_bytes(dir / "b" / f));
  }
  CHECK(std::filesystem::file_size(dir / "a" / "preview" / "phantom_001_axial.png") > 100);
  CHECK(std::filesystem::exists(dir / "a" / "cohort.json"));
}

TEST_CASE("c2f-phantom refuses bad options with one error line and exit code 2") {
  test::ScratchDir dir("phantom-cli-bad");
  const char* bad[] = {"--size 12x12", "--size 4x64x64", "--phase delayed", "--layout bids", "--orientation RRS",
                       "--cases 0"};
  for (const char* opt : bad) {
    CAPTURE(opt);
    const auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "x").string() + " " + opt, dir.path());
    CHECK(r.exit_code == 2);
    CHECK(test::count_lines(r.err) == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "x" / "phantom_000.nii.gz"));
  }
}
