#include <doctest/doctest.h>

#include "test_support.hpp"

#include <cstring>

#include <nlohmann/json.hpp>

#include "c2f/io/nifti.hpp"
#include "tool_runner.hpp"

using namespace c2f;

TEST_CASE("c2f-info prints the geometry and HU range of a NIfTI file as JSON" * doctest::skip(c2f::test::no_real_ct())) {
  test::ScratchDir dir("info");
  const auto r = test::run(C2F_INFO_EXE, test::real_ct("totalsegmentator-example/ct.nii.gz").string(), dir.path());
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  for (const char* key : {"dims", "spacing", "origin", "direction", "orientation", "datatype", "min", "max", "mean"})
    CHECK(j.contains(key));
  CHECK(j["dims"] == nlohmann::json({122, 101, 112}));
  CHECK(j["orientation"] == "RAS");
  CHECK(j["datatype"] == "int32");
  CHECK(j["min"] == -1207.0);
  CHECK(j["max"] == 3382.0);
}

TEST_CASE("c2f-info reads a DICOM series folder and reports values after rescaling" * doctest::skip(c2f::test::no_real_ct())) {
  test::ScratchDir dir("info-dicom");
  const auto r = test::run(C2F_INFO_EXE, test::real_ct("totalsegmentator-example/dicom").string(), dir.path());
  REQUIRE(r.exit_code == 0);
  const auto j = nlohmann::json::parse(r.out);
  CHECK(j["format"] == "dicom");
  CHECK(j["dims"] == nlohmann::json({512, 512, 20}));
  CHECK(j["orientation"] == "LPS");
  CHECK(j["min"].get<double>() < -900);  // HU, not stored values
}

TEST_CASE("c2f-info on bad input prints one error line naming the file and exits non-zero") {
  test::ScratchDir dir("info-bad");
  test::write_bytes(dir / "junk.nii.gz", "this is not an image");
  const char* bad[] = {"missing.nii.gz", "junk.nii.gz"};
  for (const char* name : bad) {
    CAPTURE(name);
    const auto path = (dir / name).string();
    const auto r = test::run(C2F_INFO_EXE, path, dir.path());
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(test::count_lines(r.err) == 1);
    CHECK(r.err.find(path) != std::string::npos);
    CHECK(r.err.rfind("c2f-info: error: ", 0) == 0);
  }
  const auto usage = test::run(C2F_INFO_EXE, "", dir.path());
  CHECK(usage.exit_code == 2);
}
