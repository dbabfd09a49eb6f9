#include <doctest/doctest.h>

#include <cmath>

#include "../../pipeline/errors.hpp"
#include "../../stages/patch_sampling.hpp"

using namespace c2f;

namespace {
Geometry grid(std::int64_t nx, std::int64_t ny, std::int64_t nz) {
  Geometry g;
  g.dims = {nx, ny, nz};
  return g;
}
}  // namespace

TEST_CASE("sample_voxels keeps the candidate voxels on the lattice of step n, and one voxel of a mask the lattice misses") {
  Mask m(grid(10, 10, 10), 0);
  for (std::int64_t z = 2; z < 8; ++z)
    for (std::int64_t y = 2; y < 8; ++y)
      for (std::int64_t x = 2; x < 8; ++x) m(x, y, z) = 1;
  const auto s = sample_voxels(m, 3);
  // Multiples of 3 inside [2, 8): 3 and 6 per axis.
  REQUIRE(s.size() == 8);
  for (const Index3& v : s)
    for (int a = 0; a < 3; ++a) CHECK(v[a] % 3 == 0);
  CHECK(sample_voxels(m, 1).size() == 216);
  Mask tiny(grid(10, 10, 10), 0);
  tiny(4, 5, 7) = 1;
  CHECK(sample_voxels(tiny, 3) == std::vector<Index3>{{4, 5, 7}});
  CHECK(sample_voxels(Mask(grid(4, 4, 4), 0), 2).empty());
  CHECK_THROWS_AS(sample_voxels(m, 0), OptionError);
}

TEST_CASE("a 2.5-D patch holds the axial, coronal and sagittal planes through its centre, edges repeating") {
  Volume<float> v(grid(20, 21, 22));
  for (std::int64_t z = 0; z < 22; ++z)
    for (std::int64_t y = 0; y < 21; ++y)
      for (std::int64_t x = 0; x < 20; ++x) v(x, y, z) = float(x + 100 * y + 10000 * z);
  const int p = 8;
  std::vector<float> out(3 * p * p);
  extract_patch_25d(v, {10, 11, 12}, p, out.data());
  // The centre pixel (p/2, p/2) of every plane is the voxel itself.
  for (int c = 0; c < 3; ++c) CHECK(out[c * p * p + (p / 2) * p + p / 2] == v(10, 11, 12));
  // Axial: column q is x = 10 - 4 + q, row r is y = 11 - 4 + r, at z = 12.
  CHECK(out[1 * p + 2] == v(8, 8, 12));
  // Coronal: columns x, rows z, at y = 11.
  CHECK(out[p * p + 3 * p + 5] == v(11, 11, 11));
  // Sagittal: columns y, rows z, at x = 10.
  CHECK(out[2 * p * p + 7 * p + 0] == v(10, 7, 15));
  // At a corner the planes repeat the edge voxel.
  extract_patch_25d(v, {0, 0, 0}, p, out.data());
  CHECK(out[0] == v(0, 0, 0));
  CHECK(out[p * p + p * p - 1] == v(3, 0, 3));
}

TEST_CASE("nearest_fill gives each candidate voxel its nearest sample's value and 0 outside the candidates") {
  Mask m(grid(12, 6, 3), 0);
  for (std::int64_t x = 1; x < 11; ++x) m(x, 2, 1) = 1;
  m(0, 0, 0) = 0;
  const std::vector<Index3> samples{{1, 2, 1}, {10, 2, 1}};
  const std::vector<float> values{0.25f, 0.75f};
  const ProbabilityMap p = nearest_fill(m, samples, values);
  for (std::int64_t x = 1; x <= 5; ++x) CHECK(p(x, 2, 1) == 0.25f);
  for (std::int64_t x = 6; x <= 10; ++x) CHECK(p(x, 2, 1) == 0.75f);
  CHECK(p(0, 2, 1) == 0.0f);   // not a candidate
  CHECK(p(5, 3, 1) == 0.0f);
  // A full lattice: every voxel takes its nearest lattice point (chessboard distance).
  Mask all(grid(9, 9, 9), 1);
  const auto s = sample_voxels(all, 3);
  std::vector<float> ids;
  for (const Index3& v : s) ids.push_back(float(v[0] + 10 * v[1] + 100 * v[2]));
  const ProbabilityMap f = nearest_fill(all, s, ids);
  CHECK(f(4, 4, 4) == 3 + 30 + 300);
  CHECK(f(1, 7, 8) == 0 + 60 + 600);
  CHECK_FALSE(nearest_fill(m, {}, {})(3, 2, 1) != 0.0f);
  CHECK_THROWS_AS(nearest_fill(m, samples, std::vector<float>{1.0f}), std::invalid_argument);
}

TEST_CASE("patch_examples draws up to the asked number of each class from the candidate lattice, the same for a seed") {
  Mask cand(grid(12, 12, 12), 1), label(grid(12, 12, 12), 0);
  for (std::int64_t z = 0; z < 6; ++z)
    for (std::int64_t y = 0; y < 12; ++y)
      for (std::int64_t x = 0; x < 12; ++x) label(x, y, z) = 1;
  const auto a = patch_examples(cand, label, 2, 5, 7), b = patch_examples(cand, label, 2, 5, 7);
  REQUIRE(a.voxels.size() == 10);
  CHECK(a.voxels == b.voxels);
  for (std::size_t i = 0; i < a.voxels.size(); ++i) {
    const Index3& v = a.voxels[i];
    CHECK(a.labels[i] == label(v[0], v[1], v[2]));
    CHECK(v[0] % 2 == 0);
  }
  CHECK(patch_examples(cand, label, 2, 1000, 7).voxels.size() == 216);
}
