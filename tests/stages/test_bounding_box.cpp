#include <doctest/doctest.h>

#include "../../stages/bounding_box.hpp"

using namespace c2f;

TEST_CASE("BoundingBox3D finds the minimal box of the foreground") {
  Geometry g;
  g.dims = {10, 8, 6};
  Mask m(g, 0);
  m(2, 3, 1) = 1;
  m(7, 5, 4) = 1;
  m(4, 1, 2) = 1;
  CHECK(bounding_box(m) == Box3{{2, 1, 1}, {8, 6, 5}});
  Mask one(g, 0);
  one(9, 7, 5) = 1;
  CHECK(BoundingBox3D{}(one) == Box3{{9, 7, 5}, {10, 8, 6}});
}

TEST_CASE("an empty mask has an empty box") {
  Geometry g;
  g.dims = {4, 4, 4};
  CHECK(bounding_box(Mask(g, 0)).empty());
}
