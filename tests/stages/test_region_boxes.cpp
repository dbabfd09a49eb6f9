#include <doctest/doctest.h>

#include "../../pipeline/errors.hpp"
#include "../../stages/region_boxes.hpp"

using namespace c2f;

namespace {
Geometry grid(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  Geometry g;
  g.dims = {nx, ny, nz};
  return g;
}
}  // namespace

TEST_CASE("zoom-out regions grow a superpixel's box about its centre, small boxes widened first") {
  const Box3 box{{10, 20, 3}, {20, 24, 4}};  // 10 x 4 pixels in slice 3
  const Region2D r1 = zoom_out_region(box, 1.0, 8);
  CHECK(r1.x0 == 10.0);
  CHECK(r1.x1 == 20.0);
  CHECK(r1.y0 == 18.0);  // 4 rows widened to 8 about y = 22
  CHECK(r1.y1 == 26.0);
  const Region2D r3 = zoom_out_region(box, 3.0, 8);
  CHECK(r3.x1 - r3.x0 == doctest::Approx(30.0));
  CHECK(r3.y1 - r3.y0 == doctest::Approx(24.0));
  CHECK(0.5 * (r3.x0 + r3.x1) == doctest::Approx(15.0));
  CHECK_THROWS_AS(zoom_out_region(Box3{}, 1.0, 8), std::invalid_argument);
}

TEST_CASE("region_inputs warps each scale of a box to out_px x out_px, CT then P0, from the superpixel's slice") {
  Volume<float> ct(grid(64, 64, 3), 0.0f);
  ProbabilityMap p0(grid(64, 64, 3), 0.0f);
  // Slice 1: a bright 16 x 16 square, P0 = 1 on its left half; slices 0 and 2 stay 0.
  for (std::int64_t y = 24; y < 40; ++y)
    for (std::int64_t x = 24; x < 40; ++x) {
      ct(x, y, 1) = 1.0f;
      if (x < 32) p0(x, y, 1) = 1.0f;
    }
  RegionOptions o;
  o.out_px = 16;
  const Box3 box{{24, 24, 1}, {40, 40, 2}};
  const auto in = region_inputs(ct, &p0, box, o);
  REQUIRE(in.size() == 4 * 2 * 16 * 16);
  // Scale 1 is the box itself: all CT pixels 1, P0 1 on the left half only.
  for (int i = 0; i < 256; ++i) CHECK(in[std::size_t(i)] == doctest::Approx(1.0f));
  CHECK(in[256 + 8 * 16 + 2] == doctest::Approx(1.0f));
  CHECK(in[256 + 8 * 16 + 13] == doctest::Approx(0.0f));
  // Scale 4 (4x the box): the square fills the middle quarter of the side, context around it.
  const float* s4 = in.data() + 3 * 2 * 256;
  CHECK(s4[8 * 16 + 8] == doctest::Approx(1.0f));
  CHECK(s4[0] == doctest::Approx(0.0f));
  CHECK(s4[15 * 16 + 15] == doctest::Approx(0.0f));
  // One channel without P0.
  CHECK(region_inputs(ct, nullptr, box, o).size() == 4 * 16 * 16);
  RegionOptions bad;
  bad.zoom_out = {};
  CHECK_THROWS_AS(bad.validate(), OptionError);
}

TEST_CASE("average_over_scales averages each superpixel's Ns probabilities") {
  const std::vector<float> per_scale{0.0f, 1.0f, 0.5f, 0.5f, 0.2f, 0.2f, 0.2f, 0.2f};
  const auto p = average_over_scales(per_scale, 4);
  REQUIRE(p.size() == 2);
  CHECK(p[0] == doctest::Approx(0.5f));
  CHECK(p[1] == doctest::Approx(0.2f));
  CHECK_THROWS_AS(average_over_scales(per_scale, 3), std::invalid_argument);
}
