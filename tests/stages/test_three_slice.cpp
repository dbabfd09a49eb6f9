#include <doctest/doctest.h>

#include <stdexcept>

#include "../../stages/three_slice.hpp"

using namespace c2f;

namespace {
Volume<float> indexed() {  // voxel value x + 10 y + 100 z
  Geometry g;
  g.dims = {6, 5, 4};
  Volume<float> v(g);
  for (std::int64_t z = 0; z < 4; ++z)
    for (std::int64_t y = 0; y < 5; ++y)
      for (std::int64_t x = 0; x < 6; ++x) v(x, y, z) = float(x + 10 * y + 100 * z);
  return v;
}
}  // namespace

TEST_CASE("a 3-slice image stacks slices k-1, k, k+1 as channels") {
  const auto v = indexed();
  const auto s = three_slice(v, View::Axial, 2, slice_rect(v.dims(), View::Axial));
  REQUIRE(s.data.size() == 3 * 6 * 5);
  CHECK(s.data[0 * 30 + 7] == 1 + 10 * 1 + 100 * 1);  // channel 0: slice 1, (u=1, v=1)
  CHECK(s.data[1 * 30 + 7] == 1 + 10 * 1 + 100 * 2);
  CHECK(s.data[2 * 30 + 7] == 1 + 10 * 1 + 100 * 3);
}

TEST_CASE("edge slices repeat themselves for the missing neighbour") {
  const auto v = indexed();
  const auto first = three_slice(v, View::Sagittal, 0, slice_rect(v.dims(), View::Sagittal));
  const auto n = std::size_t(5 * 4);
  CHECK(first.data[0] == first.data[n]);  // slice "-1" is slice 0
  const auto last = three_slice(v, View::Coronal, 4, slice_rect(v.dims(), View::Coronal));
  const auto m = std::size_t(6 * 4);
  CHECK(last.data[2 * m + 3] == last.data[m + 3]);  // slice "5" is slice 4
}

TEST_CASE("a 3-slice image can be cropped to a rectangle, and a rectangle outside the slice is refused") {
  const auto v = indexed();
  const Rect r{1, 2, 4, 4};  // u in [1, 4), v in [2, 4) of a coronal (x-z) slice
  const auto s = three_slice(v, View::Coronal, 3, r);
  REQUIRE(s.data.size() == 3 * 3 * 2);
  CHECK(s.data[1 * 6 + 0] == 1 + 10 * 3 + 100 * 2);  // centre channel, (u=1, v=2): x=1, y=3, z=2
  CHECK(box_rect(Box3{{1, 0, 2}, {4, 5, 4}}, View::Coronal) == r);
  CHECK_THROWS_AS(three_slice(v, View::Axial, 0, Rect{0, 0, 7, 5}), std::out_of_range);
}
