#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "../../io/nifti.hpp"
#include "../../pipeline/errors.hpp"
#include "../../pipeline/reorient.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {

template <class T>
Volume<T> ramp(Index3 dims, double scale) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = {0.7, 0.8, 2.5};
  g.origin_mm = {-12.5, 40.25, -300};
  Volume<T> v(g);
  std::int64_t i = 0;
  for (auto& x : v.voxels()) x = T(double((i++ * 37) % 251) * scale - (std::is_signed_v<T> ? 100 * scale : 0));
  return v;
}

void check_same_grid(const Geometry& a, const Geometry& b) {
  CHECK(a.dims == b.dims);
  CHECK(a.same_grid(b, 1e-3));
}

template <class T>
void round_trip(const std::filesystem::path& path, int version, double scale) {
  const auto v = ramp<T>({7, 5, 4}, scale);
  NiftiWriteOptions o;
  o.version = version;
  write_nifti(path, v, o);
  const NiftiVolume r = read_nifti(path);
  CHECK(r.header.version == version);
  check_same_grid(r.image.geometry(), v.geometry());
  for (std::int64_t i = 0; i < v.size(); ++i) REQUIRE(r.image.data()[i] == doctest::Approx(double(v.data()[i])));
}

// A valid uncompressed NIfTI-1 file of 4x3x2 int16 voxels, as bytes, for corrupting.
std::string valid_nii(const std::filesystem::path& dir) {
  write_nifti(dir / "valid.nii", ramp<std::int16_t>({4, 3, 2}, 1.0));
  return test::read_bytes(dir / "valid.nii");
}

void put_i16(std::string& bytes, std::size_t offset, std::int16_t v) { std::memcpy(bytes.data() + offset, &v, 2); }

void expect_input_error(const std::filesystem::path& path, const std::string& fragment) {
  CAPTURE(path);
  CAPTURE(fragment);
  try {
    read_nifti(path);
    FAIL("no error for a bad file");
  } catch (const InputError& e) {
    CHECK(e.path() == path.string());
    CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
    CHECK(std::string(e.what()).find(fragment) != std::string::npos);
  }
}

}  // namespace

TEST_CASE("NIfTI round trip keeps voxels and geometry for each datatype, compressed or not, NIfTI-1 and -2") {
  test::ScratchDir dir("nifti-rt");
  for (const char* ext : {".nii", ".nii.gz"})
    for (int version : {1, 2}) {
      const std::string stem = std::string("v") + std::to_string(version);
      round_trip<std::uint8_t>(dir / (stem + "u8" + ext), version, 1.0);
      round_trip<std::int16_t>(dir / (stem + "i16" + ext), version, 7.0);
      round_trip<std::int32_t>(dir / (stem + "i32" + ext), version, 1000.0);
      round_trip<float>(dir / (stem + "f32" + ext), version, 0.125);
      round_trip<double>(dir / (stem + "f64" + ext), version, 1e-3);
    }
  CHECK(read_nifti_header(dir / "v1i16.nii.gz").datatype_name == "int16");
  CHECK(read_nifti_header(dir / "v2f64.nii").datatype_name == "float64");
}

TEST_CASE("a volume stored in another orientation reads back onto the same canonical grid") {
  test::ScratchDir dir("nifti-orient");
  const auto v = ramp<std::int16_t>({6, 5, 4}, 3.0);
  for (const char* code : {"LAS", "LPS", "PIR", "SLA"}) {
    CAPTURE(code);
    const auto path = dir / (std::string(code) + ".nii.gz");
    const NativeLayout layout = layout_with_orientation(v.geometry(), code);
    write_nifti(path, v, layout);
    const NiftiHeader h = read_nifti_header(path);
    CHECK(h.grid.orientation_code() == code);
    CHECK(h.grid.dims == layout.native.dims);
    const NiftiVolume r = read_nifti(path);
    check_same_grid(r.image.geometry(), v.geometry());
    for (std::int64_t i = 0; i < v.size(); ++i) REQUIRE(r.image.data()[i] == float(v.data()[i]));
    // Written back through the layout it was read with, the file is the same voxel for voxel.
    const auto again = dir / (std::string(code) + "-again.nii.gz");
    write_nifti(again, r.image, r.layout);
    const NiftiHeader h2 = read_nifti_header(again);
    CHECK(h2.grid.same_grid(h.grid, 1e-4));
  }
}

TEST_CASE("the real TotalSegmentator CT reads with the values its README gives" * doctest::skip(c2f::test::no_real_ct())) {
  const auto path = test::real_ct("totalsegmentator-example/ct.nii.gz");
  const NiftiVolume v = read_nifti(path);
  CHECK(v.header.datatype_name == "int32");
  CHECK(v.header.sform_code == 2);
  CHECK(v.header.grid.orientation_code() == "RAS");
  CHECK(v.image.dims() == Index3{122, 101, 112});
  for (double s : v.image.geometry().spacing_mm) CHECK(s == doctest::Approx(3.0).epsilon(1e-4));
  const auto [lo, hi] = std::minmax_element(v.image.voxels().begin(), v.image.voxels().end());
  CHECK(*lo == -1207.0f);
  CHECK(*hi == 3382.0f);

  const NiftiMask m = read_nifti_mask(test::real_ct("totalsegmentator-example/pancreas.nii.gz"));
  CHECK(m.header.datatype_name == "float64");
  CHECK(m.mask.geometry().same_grid(v.image.geometry()));
  std::int64_t n = 0, zlo = 1000, zhi = -1;
  for (std::int64_t z = 0; z < m.mask.nz(); ++z)
    for (std::int64_t y = 0; y < m.mask.ny(); ++y)
      for (std::int64_t x = 0; x < m.mask.nx(); ++x)
        if (m.mask(x, y, z)) {
          ++n;
          zlo = std::min(zlo, z);
          zhi = std::max(zhi, z);
        }
  CHECK(n == 818);
  CHECK(zlo == 80);
  CHECK(zhi == 102);
}

TEST_CASE("scl_slope and scl_inter are applied: the MSD slice stored as scaled uint8" * doctest::skip(c2f::test::no_real_ct())) {
  const NiftiVolume ct = read_nifti(test::real_ct("msd-pancreas-slice/ct_370_slice.nii.gz"));
  CHECK(ct.header.datatype_name == "uint8");
  CHECK(ct.header.scl_slope == doctest::Approx(9.1608).epsilon(1e-4));
  CHECK(ct.header.scl_inter == doctest::Approx(-1024));
  CHECK(ct.image.nx() * ct.image.ny() * ct.image.nz() == 512 * 512);
  const NiftiMask label = read_nifti_mask(test::real_ct("msd-pancreas-slice/label_370_slice.nii.gz"));
  REQUIRE(label.mask.dims() == ct.image.dims());
  double sum = 0;
  std::int64_t n = 0;
  for (std::int64_t i = 0; i < ct.image.size(); ++i)
    if (label.mask.data()[i]) {
      sum += ct.image.data()[i];
      ++n;
    }
  REQUIRE(n > 0);
  CHECK(sum / double(n) == doctest::Approx(69).epsilon(0.05));  // README: mean HU inside about 69
}

TEST_CASE("bad NIfTI files give one error naming the file and the problem") {
  test::ScratchDir dir("nifti-bad");
  const std::string good = valid_nii(dir.path());

  expect_input_error(dir / "missing.nii.gz", "no such file");

  test::write_bytes(dir / "text.nii", std::string(400, 'x'));
  expect_input_error(dir / "text.nii", "not a NIfTI file");

  test::write_bytes(dir / "short.nii", good.substr(0, 100));
  expect_input_error(dir / "short.nii", "not a NIfTI file");

  test::write_bytes(dir / "truncated.nii", good.substr(0, good.size() - 10));
  expect_input_error(dir / "truncated.nii", "truncated or corrupt voxel data");

  std::string magic = good;
  std::memcpy(magic.data() + 344, "abc\0", 4);
  test::write_bytes(dir / "magic.nii", magic);
  expect_input_error(dir / "magic.nii", "bad magic");

  std::string zero = good;
  put_i16(zero, 42, 0);  // dim[1]
  test::write_bytes(dir / "zero.nii", zero);
  expect_input_error(dir / "zero.nii", "");

  std::string absurd = good;
  put_i16(absurd, 44, 32000);  // dim[2]
  test::write_bytes(dir / "absurd.nii", absurd);
  expect_input_error(dir / "absurd.nii", "absurd");

  std::string four_d = good;
  put_i16(four_d, 40, 4);  // dim[0]
  put_i16(four_d, 48, 3);  // dim[4]
  test::write_bytes(dir / "4d.nii", four_d);
  expect_input_error(dir / "4d.nii", "volumes");

  auto nan = ramp<float>({4, 3, 2}, 1.0);
  nan(2, 1, 1) = std::numeric_limits<float>::quiet_NaN();
  write_nifti(dir / "nan.nii.gz", nan);
  expect_input_error(dir / "nan.nii.gz", "NaN at voxel (2, 1, 1)");

  // A compressed file cut short.
  write_nifti(dir / "whole.nii.gz", ramp<float>({40, 30, 20}, 1.0));
  const std::string gz = test::read_bytes(dir / "whole.nii.gz");
  test::write_bytes(dir / "cut.nii.gz", gz.substr(0, gz.size() / 2));
  expect_input_error(dir / "cut.nii.gz", "");
}

TEST_CASE("a failed write leaves no file behind") {
  test::ScratchDir dir("nifti-nowrite");
  const auto v = ramp<std::uint8_t>({4, 3, 2}, 1.0);
  CHECK_THROWS_AS(write_nifti(dir / "no-such-folder" / "m.nii.gz", v), OutputError);
  CHECK(test::count_entries(dir.path()) == 0);
}
