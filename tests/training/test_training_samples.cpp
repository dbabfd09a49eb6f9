#include <doctest/doctest.h>

#include <set>

#include "../../pipeline/errors.hpp"
#include "../../stages/bounding_box.hpp"
#include "../../training/training_samples.hpp"

using namespace c2f;

TEST_CASE("coarse samples are the slices whose pancreas share reaches the minimum") {
  Geometry g;
  g.dims = {10, 10, 5};  // an axial slice has 100 pixels: 1 % is one pixel
  Mask m(g, 0);
  m(0, 0, 1) = 1;                                  // slice 1: 1 %
  for (int x = 0; x < 5; ++x) m(x, 4, 3) = 1;     // slice 3: 5 %
  CHECK(coarse_slices(m, View::Axial) == std::vector<std::int64_t>{1, 3});
  CHECK(coarse_slices(m, View::Axial, {0.02}) == std::vector<std::int64_t>{3});
  // Coronal slices (x-z) have 50 pixels: y = 4 holds 5 pixels (10 %), y = 0 one (2 %).
  CHECK(coarse_slices(m, View::Coronal, {0.05}) == std::vector<std::int64_t>{4});
  CHECK_THROWS_AS(coarse_slices(m, View::Axial, {1.5}), OptionError);
}

TEST_CASE("a share of slices without pancreas joins the coarse samples, spread evenly over them") {
  Geometry g;
  g.dims = {10, 10, 20};
  Mask m(g, 0);
  for (int z = 8; z < 12; ++z) m(5, 5, z) = 1;  // slices 8-11 hold pancreas (1 % each)
  // 4 positives at share 0.5 want 4 negatives, taken from the 16 empty slices at 2, 6, 14, 18
  // (the middles of four equal runs of the empty list 0-7, 12-19).
  CoarseSampleOptions o;
  o.negative_share = 0.5;
  CHECK(coarse_slices(m, View::Axial, o) == std::vector<std::int64_t>{2, 6, 8, 9, 10, 11, 14, 18});
  o.negative_share = 0;
  CHECK(coarse_slices(m, View::Axial, o) == std::vector<std::int64_t>{8, 9, 10, 11});
  o.negative_share = 0.95;
  CHECK_THROWS_AS(coarse_slices(m, View::Axial, o), OptionError);
}

TEST_CASE("fine crops add four margins drawn from 10-20 px to the box, clipped at the edges") {
  const Index3 dims{200, 180, 60};
  const Box3 box{{50, 60, 10}, {120, 100, 40}};
  std::set<int> seen;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const FineCrop c = fine_crop(box, dims, View::Axial, seed);
    for (int m : c.margins) {
      CHECK(m >= 10);
      CHECK(m <= 20);
      seen.insert(m);
    }
    CHECK(c.rect == Rect{50 - c.margins[0], 60 - c.margins[2], 120 + c.margins[1], 100 + c.margins[3]});
  }
  CHECK(seen.size() == 11);  // every value of {10, ..., 20} occurs
  CHECK(fine_crop(box, dims, View::Axial, 7).rect == fine_crop(box, dims, View::Axial, 7).rect);

  // A box at the volume's corner: the frame is clipped to the slice.
  const FineCrop edge = fine_crop(Box3{{0, 170, 0}, {30, 180, 5}}, dims, View::Coronal, 3);
  CHECK(edge.rect.u0 == 0);
  CHECK(edge.rect.v0 == 0);
  CHECK(edge.rect.u1 == 30 + edge.margins[1]);
  CHECK(edge.rect.v1 == 5 + edge.margins[3]);
  CHECK(fine_slices(box, View::Sagittal, 512).size() == 70);
  // A margin adds slices without pancreas on each side, clipped to the volume.
  const auto widened = fine_slices(Box3{{3, 40, 100}, {73, 90, 120}}, View::Sagittal, 76, 5);
  REQUIRE(widened.size() == 76);  // 3 - 5 clipped to 0, 73 + 5 clipped to 76
  CHECK(widened.front() == 0);
  CHECK(widened.back() == 75);
  CHECK(fine_slices(Box3{{3, 40, 100}, {73, 90, 120}}, View::Axial, 200, 8).size() == 36);
  CHECK_THROWS_AS((FineSampleOptions{10, 20, -1}.validate()), OptionError);
  CHECK_THROWS_AS(fine_crop(Box3{}, dims, View::Axial, 1), OptionError);
  CHECK_THROWS_AS((FineSampleOptions{20, 10}.validate()), OptionError);
}
