#include <doctest/doctest.h>

#include <algorithm>
#include <mutex>

#include <tbb/global_control.h>

#include "../../graphs/deeporgan_graph.hpp"
#include "../../graphs/deeporgan_training.hpp"
#include "../../model/deeporgan_networks.hpp"
#include "../../phantom/phantom.hpp"
#include "../../pipeline/errors.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
// Small hand-made phantoms: about 4 mm voxels, run on their own grid.
std::vector<Case> phantoms(int n, std::uint64_t seed) {
  PhantomOptions p;
  p.size = {96, 96, 32};
  p.seed = seed;
  std::vector<Case> cases;
  for (int i = 0; i < n; ++i) cases.push_back(make_phantom(p, i).c);
  return cases;
}

DeepOrganOptions small_options() {
  DeepOrganOptions o;
  o.superpixels.region_size_px = 4;
  o.patches.every_n = 2;
  o.patches.patch_px = 16;
  o.regions.out_px = 32;
  o.regions.min_side_px = 4;
  o.chunk = 64;
  return o;
}

CandidateCascade small_cascade(const std::vector<Case>& cases, const DeepOrganOptions& o) {
  std::vector<Volume<float>> normalized;
  std::vector<Superpixels> sp;
  for (const Case& c : cases) {
    normalized.push_back(window_normalize(*c.image, o.window));
    sp.push_back(axial_superpixels(normalized.back(), o.superpixels));
  }
  std::vector<CandidateTrainingCase> borrowed;
  for (std::size_t i = 0; i < cases.size(); ++i) borrowed.push_back({&normalized[i], &sp[i], cases[i].label.get()});
  CandidateOptions c;
  c.trees = 10;
  c.max_depth = 8;
  c.calibration_folds = 2;
  return CandidateCascade::train(borrowed, c);
}

// A fixed "network": P-ConvNet says the centre voxel's windowed intensity; the R-ConvNets say the
// mean of their last channel over the middle of the region (R2: P0, R1: CT). Counts its calls.
class FixedNetworks : public DeepOrganInference {
 public:
  bool has(DeepOrganNet) const override { return true; }
  void classify(DeepOrganNet net, const float* x, std::int64_t n, std::int64_t c, std::int64_t side, float* out) override {
    std::lock_guard lock(m_);
    ++calls[std::size_t(net)];
    for (std::int64_t i = 0; i < n; ++i) {
      const float* img = x + i * c * side * side + (c - 1) * side * side;
      if (net == DeepOrganNet::P) {
        out[i] = x[i * c * side * side + (side / 2) * side + side / 2];
      } else {
        double s = 0;
        for (std::int64_t v = side / 4; v < 3 * side / 4; ++v)
          for (std::int64_t u = side / 4; u < 3 * side / 4; ++u) s += img[v * side + u];
        out[i] = float(s / double(side * side / 4));
      }
    }
  }
  std::array<int, 3> calls{0, 0, 0};

 private:
  std::mutex m_;
};

std::vector<CaseResult> run(const std::vector<Case>& cases, const CandidateCascade& cascade, DeepOrganInference& nets,
                            const DeepOrganOptions& o, SegmentationReport* report = nullptr, int failing = -1) {
  std::vector<CaseResult> results;
  const auto r = segment_deeporgan(
      cases.size(),
      [&](std::size_t i) {
        if (int(i) == failing) throw InputError("bad.nii.gz", "not a NIfTI file");
        return cases[i];
      },
      cascade, nets, o, [&](CaseResult&& c) { results.push_back(std::move(c)); });
  if (report) *report = r;
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return results;
}
}  // namespace

TEST_CASE("DeepOrgan's graph segments phantoms with fixed networks, reports every map's DSC and its stages' times, at 1 and 4 threads") {
  const auto train = phantoms(2, 11), test = phantoms(2, 12);
  const DeepOrganOptions o = small_options();
  const CandidateCascade cascade = small_cascade(train, o);
  std::vector<double> first_dsc;
  for (int threads : {1, 4}) {
    CAPTURE(threads);
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    FixedNetworks nets;
    SegmentationReport report;
    const auto results = run(test, cascade, nets, o, &report);
    REQUIRE(results.size() == 2);
    CHECK(report.failed == 0);
    for (const CaseResult& r : results) {
      CAPTURE(r.error);
      REQUIRE(r.error.empty());
      CHECK(r.method == "deeporgan");
      CHECK(r.mask.dims() == r.input.image->dims());
      REQUIRE(r.rounds.size() == 2);
      for (const char* m : {"dsc_candidates", "sensitivity_candidates", "dsc_g_p0", "dsc_g_p2", "dsc_superpixel_upper_bound"})
        CHECK(r.measures.count(m) == 1);
      CHECK(r.measures.at("dsc_g_p2") == doctest::Approx(r.rounds[1].dsc));
      CHECK(r.rounds[0].dsc == doctest::Approx(r.measures.at("dsc_candidates")));
      CHECK(r.measures.at("dsc_superpixel_upper_bound") > 0.3);
      for (const char* s : {"superpixels", "candidates", "P-ConvNet", "R-ConvNet", "smoothing"}) CHECK(r.stage_seconds.count(s) == 1);
      CHECK(r.measures.count("dsc_g_p1") == 0);  // R1 not asked for
    }
    CHECK(nets.calls[std::size_t(DeepOrganNet::P)] >= 2);
    CHECK(nets.calls[std::size_t(DeepOrganNet::R2)] >= 2);
    CHECK(nets.calls[std::size_t(DeepOrganNet::R1)] == 0);
    first_dsc.push_back(results[0].measures.at("dsc_g_p2"));
  }
  CHECK(first_dsc[0] == doctest::Approx(first_dsc[1]));  // the same result whatever the threads
}

TEST_CASE("DeepOrgan's graph fails a bad case alone, and an all-air case is an empty result, not a crash") {
  const auto train = phantoms(2, 11);
  auto test = phantoms(2, 13);
  const DeepOrganOptions o = small_options();
  const CandidateCascade cascade = small_cascade(train, o);
  auto air = std::make_shared<Image>(test[1].image->geometry(), -1000.0f);
  test[1].image = air;
  test[1].label = std::make_shared<Mask>(air->geometry(), 0);
  test.push_back(test[0]);
  FixedNetworks nets;
  const auto results = run(test, cascade, nets, o, nullptr, 0);
  REQUIRE(results.size() == 3);
  CHECK(results[0].error == "bad.nii.gz: not a NIfTI file");
  CHECK(results[1].error.empty());
  CHECK(count_foreground(results[1].mask) == 0);
  CHECK(results[2].error.empty());
  CHECK(results[2].measures.at("dsc_candidates") > 0.0);
}

TEST_CASE("DeepOrgan trains on phantoms into a set that loads and segments, and thresholds come from training") {
  test::ScratchDir dir("deeporgan-train");
  const auto train = phantoms(2, 21), test = phantoms(1, 22);
  DeepOrganTrainingOptions t;
  t.method = small_options();
  t.candidates.trees = 10;
  t.candidates.max_depth = 8;
  t.candidates.calibration_folds = 2;
  t.p_iterations = 15;
  t.r_iterations = 10;
  t.batch = 8;
  t.patches_per_class = 50;
  t.regions_per_class = 20;
  t.out = dir.path();
  const auto report = train_deeporgan(train.size(), [&](std::size_t i) { return train[i]; }, t);
  for (const char* f : {"candidates.yml.gz", "p-convnet.pt", "r1-convnet.pt", "r2-convnet.pt"}) CHECK(std::filesystem::exists(dir / f));
  CHECK(report.candidate_sensitivity > 0.5);
  CHECK(report.p0 > 0.0f);
  CHECK(report.p2 <= 1.0f);
  CHECK(report.first_loss.size() == 3);
  DeepOrganNetworks nets(dir.path());
  CHECK(nets.has(DeepOrganNet::R1));
  DeepOrganOptions o = small_options();
  o.read_settings(nets.info().settings);
  CHECK(o.p0 == doctest::Approx(report.p0));
  CHECK(o.patches.patch_px == 16);
  o.run_r1 = true;
  const auto results = run(test, CandidateCascade::load(dir / "candidates.yml.gz"), nets, o);
  REQUIRE(results.size() == 1);
  CHECK(results[0].error.empty());
  CHECK(results[0].measures.count("dsc_g_p1") == 1);
  // A case without a label cannot train.
  auto unlabelled = train;
  unlabelled[1].label.reset();
  test::ScratchDir other("deeporgan-train-bad");
  t.out = other.path();
  CHECK_THROWS_AS(train_deeporgan(2, [&](std::size_t i) { return unlabelled[i]; }, t), InputError);
}

TEST_CASE("a coarse-to-fine model folder given as a DeepOrgan set is refused in one line naming it") {
  test::ScratchDir dir("deeporgan-wrong");
  test::write_bytes(dir / "coarse_axial.pt", "x");
  CHECK_THROWS_WITH_AS(DeepOrganNetworks(dir.path()), doctest::Contains("holds coarse-to-fine checkpoints, not a DeepOrgan set"),
                       InputError);
  CHECK_THROWS_WITH_AS(DeepOrganNetworks(dir / "absent"), doctest::Contains("no such DeepOrgan model folder"), InputError);
  DeepOrganOptions bad;
  bad.p2 = 0;
  CHECK_THROWS_AS(bad.validate(), OptionError);
  CHECK_THROWS_AS(parse_deeporgan_output("p3"), OptionError);
}
