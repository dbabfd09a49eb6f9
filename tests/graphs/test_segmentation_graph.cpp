#include <doctest/doctest.h>

#include <mutex>
#include <random>

#include <tbb/global_control.h>

#include "../../graphs/segmentation_graph.hpp"
#include "../../pipeline/errors.hpp"
#include "../../stages/bounding_box.hpp"
#include "../../stages/connected_components.hpp"
#include "../../evaluation/metrics.hpp"

using namespace c2f;

namespace {
// Cases whose image encodes their label: 200 HU on the "pancreas", -1000 elsewhere, so the
// windowed image is 0 off the organ and 0.88 on it.
Case encoded_case(int i, const Index3& dims, bool empty = false) {
  Geometry g;
  g.dims = dims;
  g.spacing_mm = {0.8, 0.8, 2.0};
  auto label = std::make_shared<Mask>(g, 0);
  if (!empty)
    for (std::int64_t z = dims[2] / 3; z < dims[2] / 3 + 5 + i; ++z)
      for (std::int64_t y = 10 + i; y < 22 + i; ++y)
        for (std::int64_t x = 8; x < 30 - i; ++x) (*label)(x, y, z) = 1;
  auto image = std::make_shared<Image>(g);
  for (std::int64_t n = 0; n < image->size(); ++n) image->data()[n] = label->data()[n] ? 200.f : -1000.f;
  Case c;
  c.id = "case" + std::to_string(i);
  c.image = image;
  c.label = label;
  c.layout.native = g;
  return c;
}

// A network that sees the organ in its input: probability 1 where a channel's value is above 0.5.
// With `flicker`, it also fires on a few random voxels each call, so rounds never agree exactly.
class ThresholdNetwork : public ViewInference {
 public:
  explicit ThresholdNetwork(double flicker = 0) : flicker_(flicker) {}
  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& p) override {
    p.resize(batch.data.size());
    for (std::size_t i = 0; i < p.size(); ++i) p[i] = batch.data[i] > 0.5f ? 1.f : 0.f;
    if (flicker_ > 0)
      for (std::size_t i = 0; i < p.size(); ++i)
        if (uniform_(rng_) < flicker_) p[i] = 1.f;
    std::lock_guard lock(m_);
    ++calls_[int(scale)];
  }
  std::string describe() const override { return "threshold"; }
  int calls(Scale s) const { return calls_[int(s)]; }

 private:
  double flicker_;
  std::mt19937 rng_{5};
  std::uniform_real_distribution<double> uniform_{0, 1};
  std::mutex m_;
  int calls_[2]{0, 0};
};

struct Collected {
  std::vector<CaseResult> results;
  SegmentationReport report;
};

Collected run(std::vector<Case> cases, ViewInference& net, const SegmentationOptions& o, int failing = -1) {
  Collected c;
  c.report = segment_cases(
      cases.size(),
      [&](std::size_t i) {
        if (int(i) == failing) throw InputError("case" + std::to_string(i) + ".nii.gz", "not a NIfTI file");
        return cases[i];
      },
      net, o, [&](CaseResult&& r) { c.results.push_back(std::move(r)); });
  std::sort(c.results.begin(), c.results.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
  return c;
}
}  // namespace

TEST_CASE("a perfect network: coarse finds the organ, one fine round agrees, the loop stops") {
  std::vector<Case> cases;
  for (int i = 0; i < 4; ++i) cases.push_back(encoded_case(i, {40, 36, 30}));
  ThresholdNetwork net;
  SegmentationOptions o;
  o.batch_slices = 4;
  o.cases_in_flight = 3;
  const Collected c = run(cases, net, o);
  REQUIRE(c.results.size() == 4);
  for (const CaseResult& r : c.results) {
    CHECK(r.error.empty());
    CHECK(r.mask.geometry().same_grid(r.input.image->geometry()));
    CHECK(dice(r.mask, *r.input.label) == 1.0);
    REQUIRE(r.iterations() == 1);
    CHECK(r.stop == StopReason::Converged);
    CHECK(r.rounds[0].dsc == 1.0);
    CHECK(r.rounds[1].d_t == 1.0);
    // The fine round looked at the organ's box grown by the frame.
    Box3 expect = bounding_box(*r.input.label).grown({15, 15, 15}, r.input.image->dims());
    CHECK(r.rounds[1].region == expect);
    CHECK(r.rounds[0].region == Box3::whole(r.input.image->dims()));
    CHECK(r.stage_seconds.count("infer") == 1);
  }
  CHECK(c.report.failed == 0);
  CHECK(c.report.stages.size() == 15);
  CHECK(net.calls(Scale::Coarse) > 0);
  CHECK(net.calls(Scale::Fine) > 0);
}

TEST_CASE("rounds that never agree stop at T, and each d(t) is the DSC of successive masks") {
  std::vector<Case> cases{encoded_case(0, {40, 36, 30})};
  ThresholdNetwork net(0.25);
  SegmentationOptions o;
  o.convergence.max_iterations = 3;
  o.convergence.stop_dsc = 0.999;
  o.keep_iterations = true;
  o.keep_probability = true;
  const Collected c = run(cases, net, o);
  const CaseResult& r = c.results.at(0);
  REQUIRE(r.iterations() == 3);
  CHECK(r.stop == StopReason::MaxIterations);
  REQUIRE(r.round_masks.size() == 4);
  for (int t = 1; t <= 3; ++t) {
    CHECK(r.rounds[std::size_t(t)].d_t == doctest::Approx(dice(*r.round_masks[std::size_t(t - 1)], *r.round_masks[std::size_t(t)])));
    CHECK(r.rounds[std::size_t(t)].d_t < 0.999);
    // S(t) is 0 outside its round's region.
    const Box3& region = r.rounds[std::size_t(t)].region;
    const Mask& s = *r.round_masks[std::size_t(t)];
    for (std::int64_t n = 0; n < s.size(); ++n)
      if (s.data()[n]) {
        const std::int64_t x = n % s.nx(), y = (n / s.nx()) % s.ny(), z = n / (s.nx() * s.ny());
        REQUIRE(region.contains({x, y, z}));
      }
  }
  CHECK(dice(r.mask, *r.round_masks.back()) == 1.0);
  REQUIRE(r.probability.has_value());
  CHECK(r.probability->dims() == r.mask.dims());
}

TEST_CASE("T = 0 is the coarse stage alone") {
  ThresholdNetwork net;
  SegmentationOptions o;
  o.convergence.max_iterations = 0;
  const Collected c = run({encoded_case(1, {32, 32, 20})}, net, o);
  CHECK(c.results.at(0).iterations() == 0);
  CHECK(net.calls(Scale::Fine) == 0);
  CHECK(dice(c.results[0].mask, *c.results[0].input.label) == 1.0);
}

TEST_CASE("an empty coarse result is reported and the fine stage looks at the whole volume") {
  ThresholdNetwork net;
  const Collected c = run({encoded_case(0, {24, 24, 16}, /*empty=*/true)}, net, {});
  const CaseResult& r = c.results.at(0);
  CHECK(r.error.empty());
  CHECK(r.coarse_empty);
  REQUIRE(r.iterations() == 1);
  CHECK(r.rounds[1].fallback_region);
  CHECK(r.rounds[1].region == Box3::whole(r.input.image->dims()));
  CHECK(r.rounds[1].d_t == 1.0);  // nothing twice
  CHECK(count_foreground(r.mask) == 0);
}

TEST_CASE("a case that cannot be read fails alone, the others finish, whatever the cases in flight") {
  std::vector<Case> cases;
  for (int i = 0; i < 5; ++i) cases.push_back(encoded_case(i, {36, 36, 24}));
  std::vector<Mask> masks_one;
  for (std::size_t in_flight : {std::size_t(1), std::size_t(4)}) {
    ThresholdNetwork net(0.01);
    SegmentationOptions o;
    o.cases_in_flight = in_flight;
    o.batches_in_flight = in_flight;
    const Collected c = run(cases, net, o, /*failing=*/2);
    REQUIRE(c.results.size() == 5);
    CHECK(c.report.failed == 1);
    CHECK(c.results[2].error.find("not a NIfTI file") != std::string::npos);
    for (std::size_t i : {0u, 1u, 3u, 4u}) {
      CHECK(c.results[i].error.empty());
      CHECK(dice(c.results[i].mask, *c.results[i].input.label) > 0.5);
    }
  }
}

TEST_CASE("segmentation options are checked before anything runs") {
  SegmentationOptions o;
  o.cases_in_flight = 0;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.frame_px = -1;
  CHECK_THROWS_AS(o.validate(), OptionError);
  o = {};
  o.convergence.stop_dsc = 2;
  ThresholdNetwork net;
  CHECK_THROWS_AS(run({encoded_case(0, {32, 32, 16})}, net, o), OptionError);
}

TEST_CASE("the oracle box: one fine round on the truth's box plus the frame, no coarse stage") {
  ThresholdNetwork net;
  SegmentationOptions o;
  o.oracle_box = true;
  o.convergence.max_iterations = 1;
  o.frame_px = 4;
  const Collected c = run({encoded_case(2, {40, 36, 30})}, net, o);
  const CaseResult& r = c.results.at(0);
  REQUIRE(r.error.empty());
  REQUIRE(r.rounds.size() == 1);
  CHECK(r.rounds[0].iteration == 1);
  CHECK(r.rounds[0].region == bounding_box(*r.input.label).grown({4, 4, 4}, r.input.image->dims()));
  CHECK(net.calls(Scale::Coarse) == 0);
  CHECK(dice(r.mask, *r.input.label) == 1.0);
  o.convergence.max_iterations = 3;
  CHECK_THROWS_AS(o.validate(), OptionError);
}

TEST_CASE("the coarse round records each view's own DSC") {
  ThresholdNetwork net;
  const Collected c = run({encoded_case(1, {40, 36, 30})}, net, {});
  for (double d : c.results.at(0).rounds[0].view_dsc) CHECK(d == 1.0);
}

TEST_CASE("fine post-processing leaves only components of at least half the largest") {
  ThresholdNetwork noisy(0.05), noisy_again(0.05);
  SegmentationOptions o;
  o.convergence.max_iterations = 2;
  o.frame_px = 30;  // a large region, so the flicker lands outside the organ
  const Collected plain = run({encoded_case(0, {48, 44, 36})}, noisy, o);
  o.fine_post_processing = true;
  const Collected kept = run({encoded_case(0, {48, 44, 36})}, noisy_again, o);
  const Mask& m = kept.results.at(0).mask;
  CHECK(dice(keep_large_components(m), m) == 1.0);
  CHECK(count_foreground(m) < count_foreground(plain.results.at(0).mask));
  CHECK(dice(m, *kept.results[0].input.label) > dice(plain.results[0].mask, *plain.results[0].input.label));
}

TEST_CASE("resampled to the networks' grid, the rounds run there and the mask comes back onto the input's grid") {
  // encoded_case grids are 0.8 x 0.8 x 2.0 mm; the networks' grid is 1.6 mm in-plane.
  std::vector<Case> cases{encoded_case(0, {40, 36, 30}), encoded_case(1, {40, 36, 30})};
  ThresholdNetwork net;
  SegmentationOptions o;
  o.batch_slices = 4;
  o.resample = ResampleOptions{{1.6, 1.6, 2.0}};
  o.keep_iterations = true;
  o.keep_probability = true;
  const Collected c = run(cases, net, o);
  REQUIRE(c.results.size() == 2);
  for (const CaseResult& r : c.results) {
    REQUIRE(r.error.empty());
    CHECK(r.network_grid.dims == Index3{20, 18, 30});
    CHECK(r.mask.geometry().same_grid(r.input.image->geometry()));
    CHECK(r.probability->geometry().same_grid(r.input.image->geometry()));
    for (const auto& s : r.round_masks) CHECK(s->dims() == r.input.image->dims());
    // A box of whole voxels at 0.8 mm is not one at 1.6 mm: the edges blur, the bulk holds.
    CHECK(dice(r.mask, *r.input.label) > 0.85);
    CHECK(r.rounds.back().dsc == doctest::Approx(dice(r.mask, *r.input.label)));
    CHECK(r.rounds[0].region == Box3::whole({20, 18, 30}));
    CHECK(r.stage_seconds.count("resample") == 1);
    CHECK(r.stage_seconds.count("resample back") == 1);
  }
}

TEST_CASE("an input whose spacing c2f refuses fails alone, naming its file") {
  std::vector<Case> cases{encoded_case(0, {40, 36, 30}), encoded_case(1, {40, 36, 30})};
  Case& bad = cases[1];
  Geometry g = bad.image->geometry();
  g.spacing_mm = {0.8, 0.8, 25.0};
  auto image = std::make_shared<Image>(*bad.image);
  image->set_geometry(g);
  auto label = std::make_shared<Mask>(*bad.label);
  label->set_geometry(g);
  bad.image = image;
  bad.label = label;
  bad.source = "thick.nii.gz";
  ThresholdNetwork net;
  SegmentationOptions o;
  o.resample = ResampleOptions{{1.6, 1.6, 2.0}};
  const Collected c = run(cases, net, o);
  REQUIRE(c.results.size() == 2);
  CHECK(c.results[0].error.empty());
  CHECK(c.results[1].error.find("thick.nii.gz: voxel spacing") == 0);
  CHECK(c.report.failed == 1);
}

TEST_CASE("the oracle box on a resampled case is the truth's box on the networks' grid") {
  std::vector<Case> cases{encoded_case(2, {40, 36, 30})};
  ThresholdNetwork net;
  SegmentationOptions o;
  o.resample = ResampleOptions{{1.6, 1.6, 2.0}};
  o.oracle_box = true;
  o.convergence.max_iterations = 1;
  const Collected c = run(cases, net, o);
  REQUIRE(c.results.size() == 1);
  const CaseResult& r = c.results[0];
  REQUIRE(r.error.empty());
  CHECK(r.network_grid.dims == Index3{20, 18, 30});
  CHECK(dice(r.mask, *r.input.label) > 0.85);
}

TEST_CASE("rounds past the 256th keep their own case: the join matches (case, iteration), not packed bits") {
  // Two cases of T = 300 fine rounds that never agree, both in flight at once: every round of
  // each case must meet its own views (a key of case << 8 | iteration made case 0's round 256
  // the key of case 1's coarse round).
  std::vector<Case> cases{encoded_case(0, {20, 18, 12}), encoded_case(1, {20, 18, 12})};
  ThresholdNetwork net(0.25);
  SegmentationOptions o;
  o.convergence.max_iterations = 300;
  o.convergence.stop_dsc = 1.0;
  o.cases_in_flight = 2;
  const Collected c = run(cases, net, o);
  REQUIRE(c.results.size() == 2);
  for (const CaseResult& r : c.results) {
    CHECK(r.error.empty());
    CHECK(r.iterations() == 300);
    REQUIRE(r.rounds.size() == 301);
    for (std::size_t t = 0; t < r.rounds.size(); ++t) CHECK(r.rounds[t].iteration == int(t));
    CHECK(r.mask.geometry().same_grid(r.input.image->geometry()));
  }
  CHECK(c.report.failed == 0);
}

namespace {
// A network that breaks on one case: its organ is 150 HU (windowed about 0.74, the others 0.88),
// and a batch holding such values throws, at the scale given.
class BreaksOnOneCase : public ThresholdNetwork {
 public:
  explicit BreaksOnOneCase(Scale breaks_at) : breaks_at_(breaks_at) {}
  void predict(Scale scale, const SliceBatch& batch, std::vector<float>& p) override {
    if (scale == breaks_at_)
      for (float v : batch.data)
        if (v > 0.6f && v < 0.8f) throw std::runtime_error("CUDA error: an illegal memory access was encountered");
    ThresholdNetwork::predict(scale, batch, p);
  }

 private:
  Scale breaks_at_;
};
}  // namespace

TEST_CASE("a stage that throws fails its case alone: the error names the case and the stage, the others finish") {
  for (Scale breaks_at : {Scale::Coarse, Scale::Fine})
    for (int in_flight : {1, 3}) {
      CAPTURE(int(breaks_at));
      CAPTURE(in_flight);
      std::vector<Case> cases;
      for (int i = 0; i < 4; ++i) cases.push_back(encoded_case(i, {40, 36, 30}));
      auto image = std::make_shared<Image>(*cases[1].image);
      for (std::int64_t n = 0; n < image->size(); ++n)
        if (image->data()[n] > 0) image->data()[n] = 150.f;
      cases[1].image = image;
      cases[1].source = "/data/case1.nii.gz";
      BreaksOnOneCase net(breaks_at);
      SegmentationOptions o;
      o.batch_slices = 4;
      o.cases_in_flight = in_flight;
      const Collected c = run(cases, net, o);
      REQUIRE(c.results.size() == 4);
      CHECK(c.report.failed == 1);
      const CaseResult& bad = c.results[1];
      CHECK(bad.error.find("/data/case1.nii.gz") != std::string::npos);
      CHECK(bad.error.find("infer") != std::string::npos);
      CHECK(bad.error.find("illegal memory access") != std::string::npos);
      CHECK(bad.mask.empty());
      for (int i : {0, 2, 3}) {
        const CaseResult& r = c.results[std::size_t(i)];
        CHECK(r.error.empty());
        CHECK(dice(r.mask, *r.input.label) == 1.0);
      }
    }
}

TEST_CASE("coarse post-processing: a stray coarse detection no longer stretches the box the fine stage sees") {
  // The image shows the organ and a small far blob the network also finds (not in the label).
  std::vector<Case> cases{encoded_case(0, {40, 36, 30})};
  auto image = std::make_shared<Image>(*cases[0].image);
  for (std::int64_t z = 25; z < 27; ++z)
    for (std::int64_t y = 30; y < 32; ++y)
      for (std::int64_t x = 34; x < 36; ++x) (*image)(x, y, z) = 200.f;
  cases[0].image = image;
  const Box3 organ = bounding_box(*cases[0].label);
  ThresholdNetwork net;
  SegmentationOptions o;
  o.convergence.max_iterations = 1;
  const CaseResult plain = run(cases, net, o).results.at(0);
  o.coarse_post_processing = true;
  const CaseResult post = run(cases, net, o).results.at(0);
  REQUIRE(plain.rounds.size() == 2);
  REQUIRE(post.rounds.size() == 2);
  CHECK(plain.rounds[0].box.hi[0] == 36);  // the blob's corner
  CHECK(post.rounds[0].box == organ);
  CHECK(post.rounds[1].region == organ.grown({15, 15, 15}, cases[0].image->dims()));
  CHECK(post.rounds[0].dsc == 1.0);
  CHECK(plain.rounds[0].dsc < 1.0);
}

TEST_CASE("the graph gives the same results at 1, 2 and 8 oneTBB threads") {
  std::vector<Case> cases;
  for (int i = 0; i < 3; ++i) cases.push_back(encoded_case(i, {40, 36, 30}));
  std::vector<std::vector<CaseResult>> runs;
  for (int threads : {1, 2, 8}) {
    CAPTURE(threads);
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, std::size_t(threads));
    ThresholdNetwork net;
    SegmentationOptions o;
    o.batch_slices = 4;
    o.cases_in_flight = 2;
    o.convergence.max_iterations = 3;
    o.convergence.stop_dsc = 1.0;  // every case runs all three fine rounds
    Collected c = run(cases, net, o);
    REQUIRE(c.results.size() == 3);
    CHECK(c.report.failed == 0);
    runs.push_back(std::move(c.results));
  }
  for (std::size_t k = 1; k < runs.size(); ++k)
    for (std::size_t i = 0; i < 3; ++i) {
      CHECK(runs[k][i].rounds.size() == runs[0][i].rounds.size());
      CHECK(dice(runs[k][i].mask, runs[0][i].mask) == 1.0);
      CHECK(dice(runs[k][i].mask, *runs[k][i].input.label) == 1.0);
    }
}

TEST_CASE("a loader that throws something other than bad input fails that case once, naming the load stage") {
  std::vector<Case> cases;
  for (int i = 0; i < 4; ++i) cases.push_back(encoded_case(i, {36, 36, 24}));
  ThresholdNetwork net;
  SegmentationOptions o;
  std::vector<CaseResult> results;
  const SegmentationReport report = segment_cases(
      cases.size(),
      [&](std::size_t i) {
        if (i == 2) throw std::runtime_error("decoder out of memory");
        return cases[i];
      },
      net, o, [&](CaseResult&& r) { results.push_back(std::move(r)); });
  REQUIRE(results.size() == 4);  // once each: the failed case is not written twice
  CHECK(report.failed == 1);
  for (const CaseResult& r : results) {
    if (r.index == 2) {
      CHECK(r.error.find("case 3: the load stage failed") == 0);  // the loader gave no name: its place in the cohort
      CHECK(r.error.find("decoder out of memory") != std::string::npos);
    } else {
      CHECK(r.error.empty());
    }
  }
}
