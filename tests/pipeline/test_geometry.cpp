#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "../../pipeline/geometry.hpp"

using namespace c2f;

namespace {
Geometry sample_canonical() {
  Geometry g;
  g.dims = {5, 4, 3};
  g.spacing_mm = {0.8, 0.9, 2.5};
  g.origin_mm = {-10, 20, 30};
  return g;
}
void check_close(const Vec3& a, const Vec3& b) {
  for (int i = 0; i < 3; ++i) CHECK(a[i] == doctest::Approx(b[i]).epsilon(1e-9));
}
}  // namespace

TEST_CASE("an identity grid is already canonical RAS") {
  const Geometry g = sample_canonical();
  CHECK(g.orientation_code() == "RAS");
  const NativeLayout l = canonical_layout(g);
  CHECK(l.is_identity());
  CHECK(canonical_geometry(l).same_grid(g));
}

TEST_CASE("every voxel keeps its world position through a reorientation, for flips and permutations") {
  const Geometry canonical = sample_canonical();
  for (const char* code : {"LAS", "LPS", "RPI", "ASL", "SLP", "IRA"}) {
    CAPTURE(code);
    const NativeLayout stored = layout_with_orientation(canonical, code);
    CHECK(stored.native.orientation_code() == code);
    // Reading that stored grid back finds the same canonical grid.
    const NativeLayout read = canonical_layout(stored.native);
    CHECK(read.source_axis == stored.source_axis);
    CHECK(read.flipped == stored.flipped);
    CHECK(canonical_geometry(read).same_grid(canonical, 1e-9));
    // Native voxel (a) and canonical voxel (w) that hold the same sample are at one world point.
    const Index3 canon_idx{3, 1, 2};
    Vec3 native_idx{};
    for (int w = 0; w < 3; ++w) {
      const int a = read.source_axis[w];
      native_idx[a] = read.flipped[w] ? double(stored.native.dims[a] - 1 - canon_idx[w]) : double(canon_idx[w]);
    }
    check_close(stored.native.to_world(native_idx), canonical.to_world({3, 1, 2}));
  }
}

TEST_CASE("an oblique grid maps to its closest canonical axes") {
  Geometry g = sample_canonical();
  const double a = 0.3;  // 17 degrees about z, then stored as LPS
  g.direction = {{{-std::cos(a), std::sin(a), 0}, {-std::sin(a), -std::cos(a), 0}, {0, 0, 1}}};
  CHECK(g.orientation_code() == "LPS");
  const NativeLayout l = canonical_layout(g);
  CHECK(l.source_axis == std::array<int, 3>{0, 1, 2});
  CHECK(l.flipped == std::array<bool, 3>{true, true, false});
  CHECK(canonical_geometry(l).orientation_code() == "RAS");
}

TEST_CASE("invalid orientation codes are refused") {
  const Geometry g = sample_canonical();
  CHECK_THROWS_AS(layout_with_orientation(g, "RRS"), std::invalid_argument);
  CHECK_THROWS_AS(layout_with_orientation(g, "RA"), std::invalid_argument);
  CHECK_THROWS_AS(layout_with_orientation(g, "RAX"), std::invalid_argument);
}

TEST_CASE("Box3 grows with clipping at the volume's edges and intersects") {
  const Box3 b{{2, 3, 0}, {6, 9, 4}};
  CHECK(b.voxel_count() == 4 * 6 * 4);
  const Box3 g = b.grown({15, 15, 15}, {10, 10, 10});
  CHECK(g == Box3{{0, 0, 0}, {10, 10, 10}});
  const Box3 g2 = b.grown({1, 1, 1}, {100, 100, 100});
  CHECK(g2 == Box3{{1, 2, 0}, {7, 10, 5}});
  CHECK(b.intersect(Box3{{5, 0, 0}, {20, 4, 2}}) == Box3{{5, 3, 0}, {6, 4, 2}});
  CHECK(b.intersect(Box3{{7, 0, 0}, {9, 4, 2}}).empty());
  CHECK(b.contains({2, 3, 0}));
  CHECK_FALSE(b.contains({6, 3, 0}));
}

TEST_CASE("a sub-box grid starts at the box corner's world position") {
  const Geometry g = sample_canonical();
  const Geometry s = sub_geometry(g, Box3{{1, 2, 1}, {4, 4, 3}});
  CHECK(s.dims == Index3{3, 2, 2});
  check_close(s.origin_mm, g.to_world({1, 2, 1}));
  check_close(s.to_world({2, 1, 1}), g.to_world({3, 3, 2}));
}
