#include <doctest/doctest.h>

#include <vector>

#include "../../pipeline/errors.hpp"
#include "../../pipeline/reorient.hpp"
#include "../../pipeline/volume.hpp"

using namespace c2f;

namespace {
// Each voxel holds its own index: x + 100 y + 10000 z.
Volume<int> indexed(Index3 dims) {
  Geometry g;
  g.dims = dims;
  Volume<int> v(g);
  for (std::int64_t z = 0; z < dims[2]; ++z)
    for (std::int64_t y = 0; y < dims[1]; ++y)
      for (std::int64_t x = 0; x < dims[0]; ++x) v(x, y, z) = int(x + 100 * y + 10000 * z);
  return v;
}
}  // namespace

TEST_CASE("voxels are stored x fastest") {
  const auto v = indexed({4, 3, 2});
  CHECK(v.data()[1] == 1);
  CHECK(v.data()[4] == 100);
  CHECK(v.data()[12] == 10000);
}

TEST_CASE("slice views along each axis see the volume's voxels without copying") {
  auto v = indexed({4, 3, 5});
  const auto axial = v.slice(View::Axial, 2);
  CHECK(axial.width == 4);
  CHECK(axial.height == 3);
  CHECK(axial.contiguous());
  CHECK(axial(3, 1) == 3 + 100 + 20000);
  const auto coronal = v.slice(View::Coronal, 1);  // x-z image at y = 1
  CHECK(coronal.width == 4);
  CHECK(coronal.height == 5);
  CHECK(coronal(2, 4) == 2 + 100 + 40000);
  const auto sagittal = v.slice(View::Sagittal, 3);  // y-z image at x = 3
  CHECK(sagittal.width == 3);
  CHECK(sagittal.height == 5);
  CHECK(sagittal(2, 1) == 3 + 200 + 10000);
  // A view is a window, not a copy: writing through it changes the volume.
  v.slice(View::Sagittal, 0)(1, 1) = -7;
  CHECK(v(0, 1, 1) == -7);
  std::vector<float> copy(std::size_t(coronal.width * coronal.height));
  coronal.copy_to(copy.data());
  CHECK(copy[std::size_t(4 * 4 + 2)] == doctest::Approx(2 + 100 + 40000));
  CHECK_THROWS_AS(v.slice(View::Axial, 5), std::out_of_range);
}

TEST_CASE("slice_axis follows the paper's views: sagittal x, coronal y, axial z") {
  CHECK(slice_axis(View::Sagittal) == 0);
  CHECK(slice_axis(View::Coronal) == 1);
  CHECK(slice_axis(View::Axial) == 2);
  CHECK(parse_view("C") == View::Coronal);
  CHECK(parse_view("sagittal") == View::Sagittal);
  CHECK_THROWS_AS(parse_view("oblique"), OptionError);
}

TEST_CASE("to_native undoes to_canonical for every orientation") {
  const auto canonical = indexed({4, 3, 5});
  for (const char* code : {"RAS", "LAS", "LPI", "SAR", "PIL"}) {
    CAPTURE(code);
    const NativeLayout layout = layout_with_orientation(canonical.geometry(), code);
    const std::vector<int> native = to_native(canonical, layout);
    const Volume<int> back = to_canonical<int>(native.data(), layout);
    CHECK(back.dims() == canonical.dims());
    CHECK(std::equal(back.voxels().begin(), back.voxels().end(), canonical.voxels().begin()));
    // In an LAS file the first stored voxel is the canonical (nx-1, 0, 0).
    if (std::string(code) == "LAS") CHECK(native[0] == canonical(3, 0, 0));
  }
}

TEST_CASE("a volume with a zero dimension is refused") {
  Geometry g;
  g.dims = {4, 0, 2};
  CHECK_THROWS_AS(Image{g}, std::invalid_argument);
}
