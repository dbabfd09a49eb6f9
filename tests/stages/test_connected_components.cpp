#include <doctest/doctest.h>

#include "stages/mask_fixtures.hpp"

#include "../../stages/connected_components.hpp"

using namespace c2f;

using test::empty_mask;
using test::fill;

TEST_CASE("components of at least half the largest are kept, 6-connectivity, not 26") {
  Mask m = empty_mask({20, 20, 20});
  fill(m, {{0, 0, 0}, {4, 4, 4}});      // 64: the largest
  fill(m, {{10, 10, 10}, {14, 14, 12}});  // 32: exactly half, kept
  fill(m, {{16, 0, 0}, {19, 3, 3}});    // 27: dropped
  m(4, 4, 4) = 1;                       // touches the largest only at a corner: its own component
  const Mask out = KeepLargeComponents{}(m);
  CHECK(count_foreground(out) == 64 + 32);
  CHECK(out(0, 0, 0) == 1);
  CHECK(out(10, 10, 10) == 1);
  CHECK(out(16, 0, 0) == 0);
  CHECK(out(4, 4, 4) == 0);
  // A U shape whose arms meet only at the far end is one component (labels are merged).
  Mask u = empty_mask({10, 10, 3});
  fill(u, {{0, 0, 0}, {1, 10, 1}});
  fill(u, {{5, 0, 0}, {6, 10, 1}});
  fill(u, {{0, 9, 0}, {6, 10, 1}});
  u(9, 0, 2) = 1;
  CHECK(count_foreground(keep_large_components(u)) == count_foreground(u) - 1);
}

TEST_CASE("post-processing is skipped for an empty mask or one covering half the volume") {
  Mask none = empty_mask({4, 4, 4});
  CHECK(count_foreground(keep_large_components(none)) == 0);
  Mask half = empty_mask({4, 4, 4});
  fill(half, {{0, 0, 0}, {4, 4, 2}});
  half(0, 0, 3) = 1;  // a small far component that would otherwise go
  CHECK(count_foreground(keep_large_components(half)) == 33);
  // The same mask as the part of a grid eight times larger covers less than half of it: processed.
  CHECK(count_foreground(KeepLargeComponents{}(half, 8 * half.size())) == 32);
  CHECK_THROWS_AS(keep_large_components(half, 0.5, half.size() - 1), std::invalid_argument);
}

TEST_CASE("components away from the grid's corner: labelled inside the mask's box, placed where they were") {
  // The same shapes as above, moved into the middle of a larger grid with nothing near its edges.
  Mask m = empty_mask({40, 36, 30});
  fill(m, {{7, 9, 5}, {11, 13, 9}});      // 64: the largest
  fill(m, {{20, 22, 18}, {24, 26, 20}});  // 32: kept
  fill(m, {{30, 9, 5}, {33, 12, 8}});     // 27: dropped
  m(11, 13, 9) = 1;                       // a corner contact: dropped
  const Mask out = keep_large_components(m);
  CHECK(count_foreground(out) == 64 + 32);
  CHECK(out(7, 9, 5) == 1);
  CHECK(out(10, 12, 8) == 1);
  CHECK(out(23, 25, 19) == 1);
  CHECK(out(30, 9, 5) == 0);
  CHECK(out(11, 13, 9) == 0);
  CHECK(out(6, 9, 5) == 0);
}

TEST_CASE("component sizes: 6-connected, largest first, none for an empty mask") {
  Geometry g;
  g.dims = {8, 8, 8};
  Mask m(g, 0);
  CHECK(component_sizes(m).empty());
  for (std::int64_t x = 1; x < 4; ++x) m(x, 2, 2) = 1;  // 3 voxels in a row
  m(6, 6, 6) = 1;
  m(5, 5, 5) = 1;  // diagonal to (6, 6, 6): its own component
  CHECK(component_sizes(m) == std::vector<std::int64_t>{3, 1, 1});
}
