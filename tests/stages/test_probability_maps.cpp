#include <doctest/doctest.h>

#include <cmath>

#include "../../pipeline/errors.hpp"
#include "../../stages/probability_maps.hpp"

using namespace c2f;

namespace {
Geometry grid(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  Geometry g;
  g.dims = {nx, ny, nz};
  return g;
}
}  // namespace

TEST_CASE("superpixel_probability_map writes each superpixel's probability to all its voxels, 0 elsewhere") {
  Volume<std::int32_t> labels(grid(4, 2, 2), 0);
  for (std::int64_t i = 0; i < labels.size(); ++i) labels.data()[i] = std::int32_t(i % 5);
  const std::vector<std::int32_t> ids{1, 3};
  const std::vector<float> p{0.9f, 0.4f};
  const ProbabilityMap m = superpixel_probability_map(labels, ids, p);
  for (std::int64_t i = 0; i < labels.size(); ++i) {
    const std::int32_t l = labels.data()[i];
    CHECK(m.data()[i] == (l == 1 ? 0.9f : l == 3 ? 0.4f : 0.0f));
  }
  CHECK_THROWS_AS(superpixel_probability_map(labels, ids, std::vector<float>{1.0f}), std::invalid_argument);
}

TEST_CASE("Gaussian smoothing keeps a constant map constant and the mass of a point inside the volume") {
  ProbabilityMap c(grid(30, 25, 20), 0.6f);
  const ProbabilityMap g = gaussian_smooth(c);
  for (float v : g.voxels()) CHECK(v == doctest::Approx(0.6f).epsilon(1e-5));
  ProbabilityMap point(grid(41, 41, 41), 0.0f);
  point(20, 20, 20) = 1.0f;
  const ProbabilityMap s = gaussian_smooth(point, {3.0});
  double sum = 0;
  for (float v : s.voxels()) sum += v;
  CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
  // Isotropic: the same one voxel away along each axis, less than the centre.
  CHECK(s(21, 20, 20) == doctest::Approx(s(20, 21, 20)).epsilon(1e-5));
  CHECK(s(21, 20, 20) == doctest::Approx(s(20, 20, 21)).epsilon(1e-5));
  CHECK(s(21, 20, 20) < s(20, 20, 20));
  // A 3-D Gaussian of sigma 3 at its centre: 1 / (2 pi 9)^(3/2), less the truncation at 3 sigma.
  CHECK(s(20, 20, 20) == doctest::Approx(1.0 / std::pow(2 * M_PI * 9, 1.5)).epsilon(0.03));
  CHECK(gaussian_smooth(point, {0.0})(20, 20, 20) == 1.0f);
  CHECK_THROWS_AS(gaussian_smooth(point, {-1.0}), OptionError);
}
