#include <doctest/doctest.h>

#include <cmath>

#include "../../evaluation/organ_statistics.hpp"

using namespace c2f;

namespace {
// A 10 x 8 x 6 grid of 0.5 x 0.5 x 2 mm on the canonical RAS axes, origin (10, 20, 30) mm.
Geometry grid() {
  Geometry g;
  g.dims = {10, 8, 6};
  g.spacing_mm = {0.5, 0.5, 2.0};
  g.origin_mm = {10, 20, 30};
  return g;
}
}  // namespace

TEST_CASE("organ statistics of a box of known voxels: volume, HU, box and centroid in LPS, no edge touched") {
  Mask m(grid(), 0);
  Image hu(grid(), -1000.f);
  // 2 x 3 x 2 voxels at x 3-4, y 2-4, z 1-2; HU 40 + 10 * x (40 + 30 and 40 + 40: mean 75).
  for (std::int64_t z = 1; z <= 2; ++z)
    for (std::int64_t y = 2; y <= 4; ++y)
      for (std::int64_t x = 3; x <= 4; ++x) {
        m(x, y, z) = 1;
        hu(x, y, z) = 40.f + 10.f * float(x);
      }
  const OrganStatistics s = organ_statistics(m, hu);
  CHECK(s.voxels == 12);
  CHECK(s.volume_ml == doctest::Approx(12 * 0.5 * 0.5 * 2.0 / 1000.0));
  CHECK(s.mean_hu == doctest::Approx(75));
  CHECK(s.min_hu == 70);
  CHECK(s.max_hu == 80);
  CHECK(s.sd_hu == doctest::Approx(std::sqrt(12 * 25.0 / 11)));  // six at +-5 HU, sample SD
  // RAS centre (10 + 3.5 * 0.5, 20 + 3 * 0.5, 30 + 1.5 * 2) = (11.75, 21.5, 33); LPS flips x and y.
  CHECK(s.centroid_lps_mm[0] == doctest::Approx(-11.75));
  CHECK(s.centroid_lps_mm[1] == doctest::Approx(-21.5));
  CHECK(s.centroid_lps_mm[2] == doctest::Approx(33));
  CHECK(s.box_min_lps_mm[0] == doctest::Approx(-12.0));
  CHECK(s.box_max_lps_mm[0] == doctest::Approx(-11.5));
  CHECK(s.box_min_lps_mm[2] == doctest::Approx(32));
  CHECK(s.box_max_lps_mm[2] == doctest::Approx(34));
  CHECK(s.components == 1);
  CHECK_FALSE(s.incomplete());
}

TEST_CASE("a mask touching the last slice or the field of view's edge is incomplete, components are 6-connected") {
  Mask m(grid(), 0);
  const Image hu(grid(), 0.f);
  m(5, 5, 5) = 1;  // the last axial slice
  m(6, 6, 4) = 1;  // diagonal to it: a second component
  OrganStatistics s = organ_statistics(m, hu);
  CHECK(s.touches_last_slice);
  CHECK_FALSE(s.touches_first_slice);
  CHECK_FALSE(s.touches_field_of_view_edge);
  CHECK(s.incomplete());
  CHECK(s.components == 2);
  Mask edge(grid(), 0);
  edge(9, 3, 3) = 1;
  s = organ_statistics(edge, hu);
  CHECK(s.touches_field_of_view_edge);
  CHECK(s.incomplete());
}

TEST_CASE("organ statistics of an empty mask are empty, and differing grids are refused") {
  const OrganStatistics s = organ_statistics(Mask(grid(), 0), Image(grid(), 0.f));
  CHECK(s.empty());
  CHECK(s.volume_ml == 0);
  CHECK(s.components == 0);
  Geometry other = grid();
  other.dims = {4, 4, 4};
  CHECK_THROWS_AS(organ_statistics(Mask(other, 0), Image(grid(), 0.f)), std::invalid_argument);
}
