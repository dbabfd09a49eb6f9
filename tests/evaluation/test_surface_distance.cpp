#include <doctest/doctest.h>

#include "stages/mask_fixtures.hpp"

#include <cmath>

#include "../../evaluation/surface_distance.hpp"

using namespace c2f;

using test::empty_mask;
using test::fill;

TEST_CASE("two single voxels: every distance is their distance, in mm") {
  Mask a = empty_mask({10, 10, 10}, {2.0, 1.0, 0.5}), b = a;
  a(1, 4, 4) = 1;
  b(4, 4, 4) = 1;  // 3 voxels along x at 2 mm
  auto m = segmentation_metrics(a, b);
  CHECK(m.hd95_mm == doctest::Approx(6.0));
  CHECK(m.assd_mm == doctest::Approx(6.0));
  CHECK(m.dice == 0.0);
  b(4, 4, 4) = 0;
  b(1, 4, 8) = 1;  // 4 voxels along z at 0.5 mm
  m = segmentation_metrics(a, b);
  CHECK(m.hd95_mm == doctest::Approx(2.0));
  b(1, 4, 8) = 0;
  b(4, 8, 4) = 1;  // (3 x 2 mm, 4 x 1 mm): sqrt(36 + 16) mm
  CHECK(segmentation_metrics(a, b).assd_mm == doctest::Approx(std::sqrt(52.0)));
}

TEST_CASE("overlap measures and surface distances of a cube against a shifted cube, by hand") {
  // Truth: 4x4x4 cube at x 2..5; prediction: the same cube moved 1 voxel along x (1 mm spacing).
  Mask truth = empty_mask({12, 10, 10}, {1, 1, 1}), pred = truth;
  fill(truth, {{2, 2, 2}, {6, 6, 6}});
  fill(pred, {{3, 2, 2}, {7, 6, 6}});
  const auto m = segmentation_metrics(pred, truth);
  // |P n T| = 3x4x4 = 48, |P| = |T| = 64.
  CHECK(m.dice == doctest::Approx(96.0 / 128.0));
  CHECK(m.jaccard == doctest::Approx(48.0 / 80.0));
  CHECK(m.precision == doctest::Approx(0.75));
  CHECK(m.recall == doctest::Approx(0.75));
  // A 4x4x4 cube's surface is all but its 2x2x2 core: 56 voxels. For the prediction's surface
  // voxels: the 16 of its far face x = 6 are 1 mm from the truth's face x = 5; the rest lie on
  // the truth's surface or... count by hand per x-layer of the prediction (x = 3, 4, 5, 6):
  //   x = 3 (a full face, 16 voxels): on the truth's surface (truth layer x = 3 is surface on its
  //     12 rim voxels; its 4 core voxels are 1 mm from truth's surface voxels beside them) -> 12 x 0 + 4 x 1
  //   x = 4, 5 (rims, 12 each): the truth's rims there -> 0
  //   x = 6 (face, 16): nearest truth surface voxel is x = 5 -> 16 x 1
  // So 20 of 56 distances are 1 mm, 36 are 0; by symmetry the same from the truth's side.
  CHECK(m.assd_mm == doctest::Approx(20.0 / 56.0));
  // 95th percentile of 112 values, 40 of them 1 and 72 of them 0: 1 mm.
  CHECK(m.hd95_mm == doctest::Approx(1.0));
}

TEST_CASE("identical masks are at distance 0, an empty mask has no surface distance") {
  Mask a = empty_mask({8, 8, 8}, {0.7, 0.7, 2.5});
  fill(a, {{1, 2, 3}, {5, 6, 7}});
  const auto same = segmentation_metrics(a, a);
  CHECK(same.dice == 1.0);
  CHECK(same.hd95_mm == 0.0);
  CHECK(same.assd_mm == 0.0);
  const auto none = segmentation_metrics(empty_mask({8, 8, 8}, {1, 1, 1}), a);
  CHECK(std::isnan(none.hd95_mm));
  CHECK(std::isnan(none.assd_mm));
  CHECK(none.recall == 0.0);
  CHECK(none.precision == 0.0);
}

TEST_CASE("a mask that touches the volume's edge has its surface there") {
  Mask a = empty_mask({6, 6, 6}, {1, 1, 1}), b = a;
  fill(a, Box3::whole({6, 6, 6}));  // every voxel: the edge is its surface
  fill(b, {{0, 0, 0}, {6, 6, 5}});
  const auto m = segmentation_metrics(b, a);
  // b's top layer z = 4 core voxels (4x4 = 16) are 1 mm from a's surface at z = 5; the rest of
  // b's surface lies on a's surface.
  CHECK(m.hd95_mm <= 1.0);
  CHECK(m.assd_mm > 0.0);
}
