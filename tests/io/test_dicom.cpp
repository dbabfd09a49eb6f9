#include <doctest/doctest.h>

#include <cmath>

#include "../../io/dicom.hpp"
#include "../../io/nifti.hpp"
#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;
namespace fs = std::filesystem;

namespace {
Image small_ct() {
  PhantomOptions o;
  o.size = {24, 20, 9};
  o.seed = 5;
  return *make_phantom(o, 0).c.image;
}

void expect_error(const fs::path& folder, const std::string& fragment) {
  CAPTURE(fragment);
  try {
    read_dicom_series(folder);
    FAIL("no error");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}
}  // namespace

TEST_CASE("a DICOM series written in shuffled file order reads back in position order with HU") {
  test::ScratchDir dir("dicom-rt");
  const Image ct = small_ct();
  DicomWriteOptions o;
  o.scramble_order = true;  // names by SOP UID, InstanceNumbers shuffled
  write_dicom_series(dir.path(), ct, o);
  const DicomSeries s = read_dicom_series(dir.path());
  CHECK(s.modality == "CT");
  CHECK(s.files.size() == 9);
  CHECK(s.layout.native.orientation_code() == "LPS");
  REQUIRE(s.image.dims() == ct.dims());
  CHECK(s.image.geometry().same_grid(ct.geometry(), 1e-3));
  for (std::int64_t i = 0; i < ct.size(); ++i) REQUIRE(s.image.data()[i] == ct.data()[i]);
}

TEST_CASE("the real JPEG 2000 Siemens series decodes and lines up with its organ labels" * doctest::skip(c2f::test::no_real_ct())) {
  const DicomSeries s = read_dicom_series(test::real_ct("totalsegmentator-example/dicom"));
  CHECK(s.transfer_syntax == "1.2.840.10008.1.2.4.90");
  CHECK(s.image.dims() == Index3{512, 512, 20});
  CHECK(s.image.geometry().spacing_mm[0] == doctest::Approx(0.977).epsilon(1e-3));
  CHECK(s.image.geometry().spacing_mm[2] == doctest::Approx(2.0).epsilon(1e-3));
  const NiftiVolume organs = read_nifti(test::real_ct("totalsegmentator-example/dicom_organs_v2.nii.gz"));
  CHECK(organs.image.geometry().same_grid(s.image.geometry(), 0.5));
  std::int64_t pancreas = 0;
  double air = 0, sum = 0;
  std::int64_t corner = 0;
  for (std::int64_t i = 0; i < s.image.size(); ++i) {
    if (organs.image.data()[i] == 7.0f) {
      ++pancreas;
      sum += s.image.data()[i];
    }
  }
  for (std::int64_t y = 0; y < 10; ++y)
    for (std::int64_t x = 0; x < 10; ++x, ++corner) air += s.image(x, y, 10);
  CHECK(pancreas == 1327);
  CHECK(sum / double(pancreas) > -40);  // soft tissue, not fat or air: decoding and rescale are right
  CHECK(sum / double(pancreas) < 120);
  CHECK(air / double(corner) < -900);  // outside the patient
}

TEST_CASE("bad DICOM folders give one error naming the problem") {
  test::ScratchDir dir("dicom-bad");
  const Image ct = small_ct();

  expect_error(dir / "nothing-here", "no such folder");
  fs::create_directories(dir / "empty");
  expect_error(dir / "empty", "no DICOM files");
  fs::create_directories(dir / "text");
  test::write_bytes(dir / "text" / "notes.txt", "not DICOM");
  expect_error(dir / "text", "no DICOM images");

  DicomWriteOptions a, b;
  a.uid_seed = 1;
  b.uid_seed = 2;
  write_dicom_series(dir / "two", ct, a);
  for (const auto& e : fs::directory_iterator(dir / "two")) fs::rename(e.path(), dir / "two" / ("a-" + e.path().filename().string()));
  write_dicom_series(dir / "two", ct, b);
  expect_error(dir / "two", "holds 2 series");

  write_dicom_series(dir / "gap", ct);
  fs::remove(dir / "gap" / "1-005.dcm");
  expect_error(dir / "gap", "missing slice");

  write_dicom_series(dir / "cut", ct);
  const std::string slice = test::read_bytes(dir / "cut" / "1-004.dcm");
  test::write_bytes(dir / "cut" / "1-004.dcm", slice.substr(0, slice.size() / 2));
  expect_error(dir / "cut", "1-004.dcm: truncated pixel data");

  write_dicom_series(dir / "dup", ct);
  fs::copy_file(dir / "dup" / "1-003.dcm", dir / "dup" / "copy.dcm");
  expect_error(dir / "dup", "two slices at one position");
}

TEST_CASE("the reader keeps each slice's UIDs and position in slice order, also when reading headers alone") {
  test::ScratchDir dir("dicom-source");
  const Image ct = small_ct();
  for (const bool feet_first : {false, true}) {
    CAPTURE(feet_first);
    DicomWriteOptions o;
    o.scramble_order = true;
    o.feet_first = feet_first;
    const fs::path folder = dir / (feet_first ? "ffs" : "hfs");
    write_dicom_series(folder, ct, o);
    const DicomSeries s = read_dicom_series(folder);
    const DicomSource& src = s.source;
    CHECK(src.problem().empty());
    CHECK(src.folder == folder);
    CHECK(src.series_uid == s.series_uid);
    CHECK_FALSE(src.study_uid.empty());
    CHECK_FALSE(src.frame_of_reference_uid.empty());
    CHECK(src.rows == ct.ny());
    CHECK(src.columns == ct.nx());
    CHECK(src.native.same_grid(s.layout.native, 1e-6));
    REQUIRE(src.slices.size() == std::size_t(ct.nz()));
    // Slice k of the volume is slices[k]: its file, at native slice k's position.
    for (std::size_t k = 0; k < src.slices.size(); ++k) {
      const DicomSlice& sl = src.slices[k];
      CHECK(sl.file == s.files[k]);
      CHECK(sl.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2");
      CHECK(sl.study_uid == src.study_uid);
      const Vec3 ras = s.layout.native.to_world({0, 0, double(k)});
      CHECK(sl.position_lps[0] == doctest::Approx(-ras[0]).epsilon(1e-9));
      CHECK(sl.position_lps[1] == doctest::Approx(-ras[1]).epsilon(1e-9));
      CHECK(sl.position_lps[2] == doctest::Approx(ras[2]).epsilon(1e-9));
    }
    // Feet first, native slice 0 is the most superior (the slice normal points to the feet).
    CHECK((src.slices.front().position_lps[2] > src.slices.back().position_lps[2]) == feet_first);

    const DicomSource headers = read_dicom_source(folder);
    REQUIRE(headers.slices.size() == src.slices.size());
    for (std::size_t k = 0; k < src.slices.size(); ++k) {
      CHECK(headers.slices[k].file == src.slices[k].file);
      CHECK(headers.slices[k].sop_instance_uid == src.slices[k].sop_instance_uid);
    }
    CHECK(headers.native.same_grid(src.native, 1e-9));
  }
}

TEST_CASE("a feet-first series reads onto the same canonical grid and HU as its head-first twin") {
  test::ScratchDir dir("dicom-ffs");
  const Image ct = small_ct();
  DicomWriteOptions o;
  o.feet_first = true;
  write_dicom_series(dir.path(), ct, o);
  const DicomSeries s = read_dicom_series(dir.path());
  CHECK(s.layout.native.orientation_code() == "RPI");
  REQUIRE(s.image.dims() == ct.dims());
  CHECK(s.image.geometry().same_grid(ct.geometry(), 1e-3));
  for (std::int64_t i = 0; i < ct.size(); ++i) REQUIRE(s.image.data()[i] == ct.data()[i]);
}
