#include <doctest/doctest.h>

#include <random>

#include "../../pipeline/errors.hpp"
#include "../../stages/threshold.hpp"
#include "../../stages/view_fusion.hpp"

using namespace c2f;

namespace {
ProbabilityMap random_map(std::uint32_t seed, const Index3& dims = {17, 13, 11}) {
  Geometry g;
  g.dims = dims;
  ProbabilityMap p(g);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (float& v : p.voxels()) v = u(rng);
  // Values at and right beside the threshold, where rounding would show.
  p.data()[0] = 0.5f;
  p.data()[1] = std::nextafter(0.5f, 0.f);
  p.data()[2] = std::nextafter(0.5f, 1.f);
  p.data()[3] = 1.f / 3.f;
  return p;
}
}  // namespace

TEST_CASE("three identical views fuse and threshold to exactly the map's own mask") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const ProbabilityMap p = random_map(seed);
    for (FusionRule rule : {FusionRule::Mean, FusionRule::Weighted, FusionRule::Majority}) {
      FusionOptions o;
      o.rule = rule;
      o.weights = {0.2f, 0.3f, 0.5f};
      const ProbabilityMap fused = fuse_views({&p, &p, &p}, o);
      const Mask own = threshold(p, 0.5f), got = threshold(fused, 0.5f);
      CHECK_MESSAGE(std::equal(own.voxels().begin(), own.voxels().end(), got.voxels().begin()), fusion_rule_name(rule));
      if (rule == FusionRule::Mean) CHECK(std::equal(p.voxels().begin(), p.voxels().end(), fused.voxels().begin()));
    }
  }
}

TEST_CASE("mean fusion averages, weighted fusion weighs, majority fusion counts votes") {
  Geometry g;
  g.dims = {2, 1, 1};
  ProbabilityMap c(g), s(g), a(g);
  c.data()[0] = 0.9f, s.data()[0] = 0.6f, a.data()[0] = 0.0f;  // two of three vote
  c.data()[1] = 0.9f, s.data()[1] = 0.1f, a.data()[1] = 0.2f;  // one votes
  const ProbabilityMap mean = ViewFusion{}({&c, &s, &a});
  CHECK(mean.data()[0] == doctest::Approx(0.5));
  CHECK(mean.data()[1] == doctest::Approx(0.4));
  FusionOptions w;
  w.rule = FusionRule::Weighted;
  w.weights = {0, 0, 2};  // axial only
  const ProbabilityMap axial = fuse_views({&c, &s, &a}, w);
  CHECK(axial.data()[0] == 0.0f);
  CHECK(axial.data()[1] == doctest::Approx(0.2));
  FusionOptions m;
  m.rule = FusionRule::Majority;
  const Mask votes = threshold(fuse_views({&c, &s, &a}, m));
  CHECK(votes.data()[0] == 1);
  CHECK(votes.data()[1] == 0);
}

TEST_CASE("fusion refuses bad weights, unknown rules and maps of different sizes") {
  FusionOptions o;
  o.weights = {0, 0, 0};
  CHECK_THROWS_AS(o.validate(), OptionError);
  o.weights = {1, -1, 1};
  CHECK_THROWS_AS(o.validate(), OptionError);
  CHECK_THROWS_AS(parse_fusion_rule("median"), OptionError);
  CHECK(parse_fusion_rule("majority") == FusionRule::Majority);
  const ProbabilityMap a = random_map(1), b = random_map(1, {17, 13, 10});
  CHECK_THROWS_AS(fuse_views({&a, &a, &b}), std::invalid_argument);
}

TEST_CASE("threshold keeps voxels at or above the level") {
  Geometry g;
  g.dims = {3, 1, 1};
  ProbabilityMap p(g);
  p.data()[0] = 0.5f, p.data()[1] = 0.49999f, p.data()[2] = 1.f;
  const Mask m = Threshold{}(p);
  CHECK(m.data()[0] == 1);
  CHECK(m.data()[1] == 0);
  CHECK(m.data()[2] == 1);
  CHECK(threshold(p, 0.9f).data()[0] == 0);
}
