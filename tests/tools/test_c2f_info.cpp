#include <doctest/doctest.h>

#include "test_support.hpp"

#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "../../io/dicom.hpp"
#include "../../io/nifti.hpp"
#include "../../phantom/phantom.hpp"
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
  const std::string type = j["datatype"];
  const bool integer_pixels = type == "int16" || type == "uint16" || type == "int12" || type == "uint12";
  CHECK(integer_pixels);
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

TEST_CASE("c2f-info answers every kind of bad image with one line naming the file") {
  test::ScratchDir dir("info-matrix");
  PhantomOptions po;
  po.size = {32, 24, 10};
  const Image ct = *make_phantom(po, 0).c.image;
  write_nifti(dir / "good.nii", ct);
  const std::string good = test::read_bytes(dir / "good.nii");
  auto corrupt = [&](const std::string& name, std::size_t offset, const std::string& bytes) {
    std::string b = good;
    b.replace(offset, bytes.size(), bytes);
    test::write_bytes(dir / name, b);
  };
  test::write_bytes(dir / "truncated.nii", good.substr(0, good.size() / 2));
  test::write_bytes(dir / "header-only.nii", good.substr(0, 352));
  corrupt("magic.nii", 344, std::string("xx1\0", 4));
  corrupt("zero-dim.nii", 42, std::string("\0\0", 2));
  corrupt("five-d.nii", 40, std::string("\5\0\0\0\0\0\0\0\0\0\2\0", 12));
  Image nan = ct;
  nan(3, 4, 5) = std::numeric_limits<float>::infinity();
  write_nifti(dir / "inf.nii.gz", nan);
  write_nifti(dir / "whole.nii.gz", ct);
  const std::string gz = test::read_bytes(dir / "whole.nii.gz");
  test::write_bytes(dir / "cut.nii.gz", gz.substr(0, gz.size() * 2 / 3));
  DicomWriteOptions a;
  write_dicom_series(dir / "two-series", ct, a);
  for (const auto& e : std::filesystem::directory_iterator(dir / "two-series"))
    std::filesystem::rename(e.path(), e.path().parent_path() / ("x" + e.path().filename().string()));
  a.uid_seed = 77;
  write_dicom_series(dir / "two-series", ct, a);
  write_dicom_series(dir / "gap", ct);
  std::filesystem::remove(dir / "gap" / "1-006.dcm");
  std::filesystem::create_directories(dir / "empty");

  for (const char* name : {"truncated.nii", "header-only.nii", "magic.nii", "zero-dim.nii", "five-d.nii", "inf.nii.gz",
                           "cut.nii.gz", "two-series", "gap", "empty", "absent.nii"}) {
    CAPTURE(name);
    const auto path = (dir / name).string();
    const auto r = test::run(C2F_INFO_EXE, path, dir.path());
    CAPTURE(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.empty());
    CHECK(test::count_lines(r.err) == 1);
    CHECK(r.err.find(path) != std::string::npos);
  }
}
