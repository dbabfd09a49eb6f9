#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

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

TEST_CASE("c2f-phantom --anatomy default builds cases on the shipped label maps and records map, set, phase and spacing") {
  test::ScratchDir dir("phantom-cli-anatomy");
  const auto r = test::run(C2F_PHANTOM_EXE,
                           "--out " + (dir / "a").string() + " --cases 3 --seed 5 --anatomy default --spacing 5,5,5 --phase random",
                           dir.path());
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("s0001_total_v2_labels.nii.gz (totalseg)") != std::string::npos);
  CHECK(r.out.find("s0006_total_v2_labels.nii.gz (totalseg)") != std::string::npos);
  CHECK(r.out.find("5.00x5.00x5.00") != std::string::npos);
  const auto json = nlohmann::json::parse(test::read_bytes(dir / "a" / "cohort.json"));
  CHECK(json["phase"] == "random");
  CHECK(json["anatomy"].size() == 2);
  REQUIRE(json["summaries"].size() == 3);
  for (int i = 0; i < 3; ++i) {
    const auto& s = json["summaries"][std::size_t(i)];
    CAPTURE(i);
    CHECK(s["anatomy_set"] == "totalseg");
    CHECK(std::string(s["anatomy"]).find(i % 2 ? "s0006" : "s0001") != std::string::npos);
    CHECK(s["spacing_mm"][2] == 5.0);
    CHECK(s["pancreas_voxels"] > 100);
  }
  CHECK(std::filesystem::exists(dir / "a" / "phantom_002_label.nii.gz"));
}

TEST_CASE("c2f-phantom refuses an unusable label map with one error line naming it") {
  test::ScratchDir dir("phantom-cli-anatomy-bad");
  const auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "x").string() + " --anatomy " + (dir / "none.nii.gz").string(),
                           dir.path());
  CHECK(r.exit_code != 0);
  CHECK(test::count_lines(r.err) == 1);
  CHECK(r.err.find("none.nii.gz") != std::string::npos);
}

TEST_CASE("c2f-phantom refuses bad options with one error line and exit code 2") {
  test::ScratchDir dir("phantom-cli-bad");
  const char* bad[] = {"--size 12x12", "--size 4x64x64", "--phase delayed", "--layout bids", "--orientation RRS",
                       "--cases 0", "--spacing 1,1,1", "--anatomy default --spacing 1,1", "--anatomy default --anatomy-set btcv",
                       "--anatomy default --spacing 0.1,0.1,1"};
  for (const char* opt : bad) {
    CAPTURE(opt);
    const auto r = test::run(C2F_PHANTOM_EXE, "--out " + (dir / "x").string() + " " + opt, dir.path());
    CHECK(r.exit_code == 2);
    CHECK(test::count_lines(r.err) == 1);
    CHECK_FALSE(std::filesystem::exists(dir / "x" / "phantom_000.nii.gz"));
  }
}
