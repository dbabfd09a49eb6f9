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
