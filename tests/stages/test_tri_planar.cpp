#include <doctest/doctest.h>

#include <random>

#include "../../stages/tri_planar.hpp"

using namespace c2f;

namespace {
Volume<float> random_volume(const Index3& dims, std::uint32_t seed) {
  Geometry g;
  g.dims = dims;
  Volume<float> v(g);
  std::mt19937 rng(seed);
  // Multiples of 1/8: sums of three stay exact, so averages are exact too.
  for (float& x : v.voxels()) x = float(rng() % 9) / 8.f;
  return v;
}

// A stand-in network that predicts each channel's own slice: every prediction of slice j is
// slice j itself, so the average must give back the volume on the region.
SlicePrediction echo(const SliceBatch& b) { return {b.range, b.data}; }
}  // namespace

TEST_CASE("batches cover the region's slices once, in equal parts") {
  const Box3 region{{2, 3, 5}, {20, 30, 135}};
  const auto batches = plan_slice_batches(region, View::Axial, 16);
  CHECK(batches.size() == 9);  // 130 slices
  std::int64_t k = 5;
  for (const auto& b : batches) {
    CHECK(b.k0 == k);
    CHECK(b.count() >= 14);
    CHECK(b.count() <= 16);
    k = b.k1;
  }
  CHECK(k == 135);
  CHECK(plan_slice_batches(region, View::Sagittal, 100).size() == 1);
}

TEST_CASE("a slice batch holds slices k-1, k, k+1 of the region's rectangle") {
  const Volume<float> v = random_volume({9, 8, 7}, 3);
  const Box3 region{{1, 2, 0}, {6, 8, 4}};
  const SliceBatch b = make_slice_batch(v, View::Coronal, region, {3, 5});  // y = 3, 4
  CHECK(b.width() == 5);   // x 1..5
  CHECK(b.height() == 4);  // z 0..3
  const std::int64_t plane = 20;
  // Batch image 1 (k = 4), channel 2 is slice y = 5, at (u, v) = (x - 1, z).
  CHECK(b.data[std::size_t((1 * 3 + 2) * plane + 2 * 5 + 3)] == v(4, 5, 2));
  // Image 0 (k = 3), channel 0 is y = 2: outside the region, read from the whole volume.
  CHECK(b.data[std::size_t(0 * plane + 0)] == v(1, 2, 0));
  // At the volume's edge the missing neighbour repeats the edge slice.
  const SliceBatch edge = make_slice_batch(v, View::Axial, Box3::whole(v.dims()), {0, 1});
  CHECK(edge.data[0] == v(0, 0, 0));
  CHECK(edge.data[std::size_t(72 + 5)] == v(5, 0, 0));
}

TEST_CASE("the tri-planar average of echoed predictions is the volume itself, in every view") {
  const Volume<float> v = random_volume({11, 9, 10}, 7);
  for (const Box3 region : {Box3::whole(v.dims()), Box3{{2, 1, 3}, {9, 9, 7}}, Box3{{0, 4, 9}, {11, 5, 10}}})
    for (View view : kViews) {
      ViewAccumulator acc(v.geometry(), region, view);
      for (const SliceRange& r : plan_slice_batches(region, view, 3)) {
        CHECK_FALSE(acc.complete());
        acc.add(echo(make_slice_batch(v, view, region, r)));
      }
      REQUIRE(acc.complete());
      const ProbabilityMap p = acc.finish();
      REQUIRE(p.dims() == region.extents());
      for (std::int64_t z = 0; z < p.nz(); ++z)
        for (std::int64_t y = 0; y < p.ny(); ++y)
          for (std::int64_t x = 0; x < p.nx(); ++x)
            REQUIRE(p(x, y, z) == v(region.lo[0] + x, region.lo[1] + y, region.lo[2] + z));
    }
}

TEST_CASE("each voxel's probability averages the predictions of every image that contains it") {
  // A network that answers with the channel index + 1 (image k says 1 for slice k-1, 2 for k,
  // 3 for k+1): inner slices get (3 + 2 + 1) / 3 = 2; the first slice of the volume is not
  // predicted by a k-1 image, the first of a region inside has no centre below it in the region.
  Geometry g;
  g.dims = {4, 4, 6};
  const Volume<float> v(g, 0.f);
  const Box3 region{{0, 0, 0}, {4, 4, 4}};
  ViewAccumulator acc(g, region, View::Axial);
  for (const SliceRange& r : plan_slice_batches(region, View::Axial, 2)) {
    SlicePrediction p{r, {}};
    for (std::int64_t k = r.k0; k < r.k1; ++k)
      for (int c = 0; c < 3; ++c) p.probabilities.insert(p.probabilities.end(), 16, float(c + 1));
    acc.add(p);
  }
  const ProbabilityMap p = acc.finish();
  CHECK(p(0, 0, 0) == doctest::Approx((2.0 + 1.0) / 2));  // images k = 0 (centre), k = 1 (below)
  CHECK(p(1, 1, 1) == doctest::Approx(2.0));
  CHECK(p(2, 2, 2) == doctest::Approx(2.0));
  CHECK(p(3, 3, 3) == doctest::Approx((3.0 + 2.0) / 2));  // k = 2 and 3; k = 4 lies outside the region
}

TEST_CASE("the accumulator refuses predictions that do not fit and an unfinished map") {
  Geometry g;
  g.dims = {4, 4, 4};
  ViewAccumulator acc(g, Box3::whole(g.dims), View::Sagittal);
  CHECK_THROWS_AS(acc.add({{0, 1}, std::vector<float>(5)}), std::invalid_argument);
  CHECK_THROWS_AS(acc.finish(), std::logic_error);
  acc.add({{0, 1}, std::vector<float>(48, 0.5f)});
  CHECK_THROWS_AS(acc.add({{0, 1}, std::vector<float>(48, 0.5f)}), std::logic_error);
}
