#include <doctest/doctest.h>

#include <numeric>

#include "../../stages/crop_with_frame.hpp"

using namespace c2f;

namespace {
Volume<float> ramp(const Index3& dims) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = {0.7, 0.8, 2.5};
  g.origin_mm = {-10, 20, 30};
  Volume<float> v(g);
  std::iota(v.voxels().begin(), v.voxels().end(), 0.f);
  return v;
}
}  // namespace

TEST_CASE("crop then paste-back is the identity on the box and the fill outside it") {
  const Volume<float> v = ramp({20, 16, 12});
  const Box3 box{{3, 2, 4}, {11, 16, 9}};
  const Volume<float> part = crop(v, box);
  CHECK(part.dims() == box.extents());
  // The crop lies where the box lies in the world.
  CHECK(part.geometry().to_world({0, 0, 0}) == v.geometry().to_world({3, 2, 4}));
  const Volume<float> back = paste_back(part, box, v.geometry(), -1.f);
  CHECK(back.geometry().same_grid(v.geometry()));
  for (std::int64_t z = 0; z < v.nz(); ++z)
    for (std::int64_t y = 0; y < v.ny(); ++y)
      for (std::int64_t x = 0; x < v.nx(); ++x)
        REQUIRE(back(x, y, z) == (box.contains({x, y, z}) ? v(x, y, z) : -1.f));
  CHECK_THROWS_AS(crop(v, Box3{{0, 0, 0}, {21, 1, 1}}), std::out_of_range);
  CHECK_THROWS_AS(paste_back(part, Box3{{0, 0, 0}, {8, 14, 6}}, v.geometry(), 0.f), std::invalid_argument);
}

TEST_CASE("CropWithFrame grows the box by the frame and clips it at the volume's edges") {
  const Index3 dims{100, 80, 40};
  const CropRegion inner = CropWithFrame{15}({{30, 30, 20}, {50, 40, 25}}, dims);
  CHECK_FALSE(inner.fallback);
  CHECK(inner.box == Box3{{15, 15, 5}, {65, 55, 40}});  // z clipped at 40
  const CropRegion edge = crop_region({{2, 70, 0}, {10, 80, 3}}, dims, 15);
  CHECK(edge.box == Box3{{0, 55, 0}, {25, 80, 18}});
  CHECK(crop_region({{2, 70, 0}, {10, 80, 3}}, dims, 0).box == Box3{{2, 70, 0}, {10, 80, 3}});
}

TEST_CASE("an empty box falls back to the whole volume, and says so") {
  const Index3 dims{10, 9, 8};
  const CropRegion r = crop_region(Box3{}, dims, 15);
  CHECK(r.fallback);
  CHECK(r.box == Box3::whole(dims));
}
