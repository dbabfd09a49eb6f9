#include <doctest/doctest.h>

#include "../../evaluation/metrics.hpp"

using namespace c2f;

TEST_CASE("DSC counted by hand") {
  Geometry g;
  g.dims = {4, 2, 1};
  Mask a(g, 0), b(g, 0);
  // A = {0, 1, 2}, B = {1, 2, 3, 4}: |A n B| = 2, DSC = 4 / 7.
  for (int i : {0, 1, 2}) a.data()[i] = 1;
  for (int i : {1, 2, 3, 4}) b.data()[i] = 1;
  const Overlap o = overlap(a, b);
  CHECK(o.a == 3);
  CHECK(o.b == 4);
  CHECK(o.both == 2);
  CHECK(dice(a, b) == doctest::Approx(4.0 / 7.0));
  CHECK(dice(a, a) == 1.0);
  CHECK(dice(a, Mask(g, 0)) == 0.0);
  CHECK(dice(Mask(g, 0), Mask(g, 0)) == 1.0);  // nothing twice: they agree
  Geometry other = g;
  other.dims = {4, 2, 2};
  CHECK_THROWS_AS(dice(a, Mask(other, 0)), std::invalid_argument);
}

TEST_CASE("DSC and the share inside a box from a mask known on a box only equal the whole computations") {
  Geometry g;
  g.dims = {9, 7, 5};
  Mask truth(g, 0), whole(g, 0);
  for (std::int64_t i = 0; i < truth.size(); ++i) {
    truth.data()[i] = (i * 7) % 5 < 2;
    whole.data()[i] = (i * 3) % 4 == 1;
  }
  const Box3 box{{2, 1, 1}, {8, 6, 4}};
  for (std::int64_t z = 0; z < 5; ++z)  // the mask is zero outside the box
    for (std::int64_t y = 0; y < 7; ++y)
      for (std::int64_t x = 0; x < 9; ++x)
        if (!box.contains({x, y, z})) whole(x, y, z) = 0;
  Mask part(sub_geometry(g, box));
  for (std::int64_t z = 0; z < box.extent(2); ++z)
    for (std::int64_t y = 0; y < box.extent(1); ++y)
      for (std::int64_t x = 0; x < box.extent(0); ++x) part(x, y, z) = whole(x + 2, y + 1, z + 1);
  const std::int64_t g_voxels = count_foreground(truth);
  const Overlap a = overlap(whole, truth), b = overlap(part, box, truth, g_voxels);
  CHECK(a.both > 0);
  CHECK(b.a == a.a);
  CHECK(b.b == a.b);
  CHECK(b.both == a.both);
  for (const Box3& inner : {box, Box3{{0, 0, 0}, {3, 3, 3}}, Box3{{4, 2, 0}, {20, 20, 20}}, Box3{}})
    CHECK(share_inside(truth, inner, g_voxels) == doctest::Approx(share_inside(truth, inner)));
  CHECK(share_inside(Mask(g, 0), box, 0) == 1.0);
  CHECK_THROWS_AS(overlap(part, Box3{{2, 1, 1}, {8, 6, 5}}, truth, g_voxels), std::invalid_argument);
}
