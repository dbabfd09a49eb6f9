#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "../../stages/candidate_regions.hpp"
#include "../../stages/window.hpp"
#include "../test_support.hpp"

using namespace c2f;

namespace {

struct PreparedCase {
  Volume<float> normalized;
  Superpixels superpixels;
  Mask label;
};

// Small hand-made phantoms (96 x 96 x 40, about 4 mm voxels) with 3-pixel superpixels.
PreparedCase prepared_phantom(int index) {
  PhantomOptions po;
  po.size = {96, 96, 40};
  po.seed = 7;
  const auto p = make_phantom(po, index);
  PreparedCase c;
  c.normalized = window_normalize(*p.c.image);
  SuperpixelOptions so;
  so.region_size_px = 3;
  c.superpixels = axial_superpixels(c.normalized, so);
  c.label = *p.c.label;
  return c;
}

const std::vector<PreparedCase>& training_cases() {
  static const std::vector<PreparedCase> cases = [] {
    std::vector<PreparedCase> v;
    for (int i = 0; i < 4; ++i) v.push_back(prepared_phantom(i));
    return v;
  }();
  return cases;
}

CandidateOptions small_forests() {
  CandidateOptions o;
  o.trees = 25;
  o.max_depth = 10;
  o.negatives_per_case = 4000;
  return o;
}

const CandidateCascade& trained_cascade() {
  static const CandidateCascade cascade = [] {
    std::vector<CandidateTrainingCase> cases;
    for (const auto& c : training_cases()) cases.push_back({&c.normalized, &c.superpixels, &c.label});
    return CandidateCascade::train(cases, small_forests());
  }();
  return cascade;
}

double sensitivity(const Mask& found, const Mask& truth) {
  double hit = 0, all = 0;
  for (std::int64_t i = 0; i < truth.size(); ++i) all += truth.data()[i], hit += truth.data()[i] && found.data()[i];
  return hit / all;
}

}  // namespace

TEST_CASE("superpixel features of a uniform volume are its value, with no spread, and every row has every feature") {
  Geometry g;
  g.dims = {20, 16, 3};
  g.spacing_mm = {2, 2, 3};
  const Volume<float> v(g, 0.5f);
  const auto sp = axial_superpixels(v, SuperpixelOptions{.region_size_px = 4});
  const auto f = superpixel_features(v, sp);
  const auto names = superpixel_feature_names();
  REQUIRE(f.width == int(names.size()));
  REQUIRE(f.count == sp.count);
  REQUIRE(f.values.size() == std::size_t(sp.count) * names.size());
  auto column = [&](const std::string& name) {
    return std::size_t(std::find(names.begin(), names.end(), name) - names.begin());
  };
  for (std::int32_t s = 0; s < sp.count; ++s) {
    const float* row = f.values.data() + std::size_t(s) * names.size();
    CHECK(row[column("mean")] == doctest::Approx(0.5));
    CHECK(row[column("sd")] == doctest::Approx(0.0));
    CHECK(row[column("p10")] == doctest::Approx(0.5));
    CHECK(row[column("p90")] == doctest::Approx(0.5));
    CHECK(row[column("share_fat_air")] == 0.0f);
    CHECK(row[column("area_mm2")] == doctest::Approx(4.0 * double(sp.voxel_counts[std::size_t(s)])));
    CHECK(row[column("ring8mm_mean")] == doctest::Approx(0.5));
    CHECK(row[column("slab3d_mean")] == doctest::Approx(0.5));
  }
}

TEST_CASE(
    "the candidate cascade trained on four small phantoms keeps most of a held-out phantom's pancreas and rejects most "
    "of it") {
  const auto& cascade = trained_cascade();
  CHECK(cascade.level1_cut() >= 0.0f);
  CHECK(cascade.level2_cut() > 0.0f);  // a cut that keeps everything would make the step useless
  const auto held_out = prepared_phantom(9);
  const auto r = cascade.candidates(held_out.normalized, held_out.superpixels);
  REQUIRE(r.probability.size() == std::size_t(held_out.superpixels.count));
  REQUIRE(r.level1_probability.size() == std::size_t(held_out.superpixels.count));
  CHECK(std::is_sorted(r.ids.begin(), r.ids.end()));
  CHECK(sensitivity(r.mask, held_out.label) >= 0.85);
  // Most of the abdomen is rejected: the candidates are a small share of the volume.
  CHECK(double(count_foreground(r.mask)) < 0.1 * double(held_out.label.size()));
  std::int64_t voxels = 0;
  for (auto id : r.ids) voxels += held_out.superpixels.voxel_counts[std::size_t(id)];
  CHECK(voxels == count_foreground(r.mask));
}

TEST_CASE("a saved candidate cascade loads back and gives the same probabilities and candidates") {
  const auto& cascade = trained_cascade();
  const test::ScratchDir dir("candidate-cascade");
  const auto path = dir.path() / "cascade.yml.gz";
  cascade.save(path);
  const auto loaded = CandidateCascade::load(path);
  CHECK(loaded.level1_cut() == cascade.level1_cut());
  CHECK(loaded.level2_cut() == cascade.level2_cut());
  CHECK(loaded.options().trees == cascade.options().trees);
  const auto& c = training_cases()[1];
  const auto a = cascade.candidates(c.normalized, c.superpixels), b = loaded.candidates(c.normalized, c.superpixels);
  CHECK(a.ids == b.ids);
  CHECK(a.probability == b.probability);
  CHECK(a.level1_probability == b.level1_probability);
}

TEST_CASE("a cascade whose cut nothing reaches reports an empty candidate set") {
  const test::ScratchDir dir("candidate-cascade");
  const auto path = dir.path() / "cascade.yml";
  trained_cascade().save(path);
  std::stringstream text;
  text << std::ifstream(path).rdbuf();
  // No superpixel of a volume of air gets every tree's vote at level 1.
  const std::string edited = std::regex_replace(text.str(), std::regex("level1_cut: [^\\n]*"), "level1_cut: 1.");
  std::ofstream(path) << edited;
  const auto cascade = CandidateCascade::load(path);
  Geometry g;
  g.dims = {40, 40, 3};
  g.spacing_mm = {4, 4, 6};
  const Volume<float> air(g, 0.0f);
  const auto sp = axial_superpixels(air, SuperpixelOptions{.region_size_px = 4});
  const auto r = cascade.candidates(air, sp);
  CHECK(r.empty());
  CHECK(count_foreground(r.mask) == 0);
  CHECK(r.mask.geometry().same_grid(air.geometry()));
  CHECK(std::all_of(r.probability.begin(), r.probability.end(), [](float p) { return p == 0.0f; }));
}

TEST_CASE("a missing, foreign, damaged or truncated cascade file is refused with an error naming it") {
  const test::ScratchDir dir("candidate-cascade");
  auto expect_refused = [](const std::filesystem::path& p) {
    try {
      CandidateCascade::load(p);
      FAIL("loaded " << p);
    } catch (const InputError& e) {
      CHECK(std::string(e.what()).find(p.string()) != std::string::npos);
    }
  };
  expect_refused(dir.path() / "absent.yml");
  std::ofstream(dir.path() / "garbage.yml") << "\x01\x02 not yaml {{{ [";
  expect_refused(dir.path() / "garbage.yml");
  std::ofstream(dir.path() / "foreign.yml") << "%YAML:1.0\n---\nformat: something-else\nversion: 1\n";
  expect_refused(dir.path() / "foreign.yml");
  const auto whole = dir.path() / "whole.yml";
  trained_cascade().save(whole);
  std::stringstream text;
  text << std::ifstream(whole).rdbuf();
  std::ofstream(dir.path() / "truncated.yml") << text.str().substr(0, text.str().size() / 2);
  expect_refused(dir.path() / "truncated.yml");
}

TEST_CASE("the candidate cascade refuses bad options and training without pancreas") {
  CandidateOptions o;
  o.trees = 0;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.level2_sensitivity = 0.999;
  o.level1_sensitivity = 0.99;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.level1_sensitivity = 1.5;
  CHECK_THROWS_AS(o.validate(), OptionError);
  CHECK_THROWS_AS(CandidateCascade::train(std::vector<CandidateTrainingCase>{}, {}), std::invalid_argument);
  const auto& c = training_cases()[0];
  const Mask nothing(c.label.geometry(), 0);
  std::vector<CandidateTrainingCase> cases{{&c.normalized, &c.superpixels, &nothing}};
  CHECK_THROWS_AS(CandidateCascade::train(cases, small_forests()), std::invalid_argument);
  CHECK_THROWS_AS(CandidateCascade{}.candidates(c.normalized, c.superpixels), std::logic_error);
}

TEST_CASE("training from an on-demand loader gives the cascade that borrowed cases give") {
  const auto& cases = training_cases();
  std::vector<CandidateTrainingCase> borrowed;
  for (int i = 0; i < 2; ++i)
    borrowed.push_back(
        {&cases[std::size_t(i)].normalized, &cases[std::size_t(i)].superpixels, &cases[std::size_t(i)].label});
  auto o = small_forests();
  o.trees = 10;
  int loads = 0;
  const auto from_loader = CandidateCascade::train(
      2,
      [&](int i) {
        ++loads;
        const auto& c = cases[std::size_t(i)];
        return LoadedCandidateCase{c.normalized, c.superpixels, c.label};
      },
      o);
  const auto from_borrowed = CandidateCascade::train(borrowed, o);
  CHECK(loads == 4);  // each case read once per level
  CHECK(from_loader.level1_cut() == from_borrowed.level1_cut());
  CHECK(from_loader.level2_cut() == from_borrowed.level2_cut());
  const auto& held = cases[3];
  CHECK(from_loader.candidates(held.normalized, held.superpixels).probability ==
        from_borrowed.candidates(held.normalized, held.superpixels).probability);
}

TEST_CASE("features and candidates refuse superpixels made on another grid") {
  const auto& c = training_cases()[0];
  Geometry g = c.normalized.geometry();
  g.dims[2] -= 1;
  const Volume<float> other(g, 0.5f);
  CHECK_THROWS_AS(superpixel_features(other, c.superpixels), std::invalid_argument);
  CHECK_THROWS_AS(trained_cascade().candidates(other, c.superpixels), std::invalid_argument);
}
