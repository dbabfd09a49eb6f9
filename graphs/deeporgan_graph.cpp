#include "deeporgan_graph.hpp"

#include <tbb/flow_graph.h>

#include <array>
#include <atomic>
#include <functional>
#include <mutex>
#include <unordered_map>

#include <fmt/format.h>

#include "../evaluation/metrics.hpp"
#include "../pipeline/errors.hpp"
#include "../stages/bounding_box.hpp"
#include "../stages/threshold.hpp"
#include "case_flow.hpp"

namespace c2f {

const char* deeporgan_output_name(DeepOrganOutput o) {
  return o == DeepOrganOutput::P0 ? "p0" : o == DeepOrganOutput::P1 ? "p1" : "p2";
}

DeepOrganOutput parse_deeporgan_output(std::string_view name) {
  if (name == "p0") return DeepOrganOutput::P0;
  if (name == "p1") return DeepOrganOutput::P1;
  if (name == "p2") return DeepOrganOutput::P2;
  throw OptionError(fmt::format("unknown DeepOrgan output '{}' (expected p0, p1 or p2)", name));
}

void DeepOrganOptions::validate() const {
  window.validate();
  if (resample) resample->validate();
  superpixels.validate();
  patches.validate();
  regions.validate();
  smoothing.validate();
  for (float p : {p0, p1, p2})
    if (!(p > 0 && p <= 1)) throw OptionError("DeepOrgan's thresholds must lie in (0, 1]");
  if (chunk < 1) throw OptionError("a ConvNet chunk holds at least one image");
  if (cases_in_flight < 1) throw OptionError("at least one case must be in flight");
}

nlohmann::json DeepOrganOptions::settings_json() const {
  return {{"superpixels",
           {{"method", superpixel_method_name(superpixels.method)},
            {"region_size_mm", superpixels.region_size_mm},
            {"region_size_px", superpixels.region_size_px},
            {"ruler", superpixels.ruler},
            {"iterations", superpixels.iterations},
            {"min_element_percent", superpixels.min_element_percent}}},
          {"every_n", patches.every_n},
          {"patch_px", patches.patch_px},
          {"zoom_out", regions.zoom_out},
          {"min_side_px", regions.min_side_px},
          {"region_px", regions.out_px},
          {"sigma_voxels", smoothing.sigma_voxels},
          {"thresholds", {{"p0", p0}, {"p1", p1}, {"p2", p2}}}};
}

void DeepOrganOptions::read_settings(const nlohmann::json& j) {
  if (j.contains("superpixels")) {
    const auto& s = j.at("superpixels");
    superpixels.method = parse_superpixel_method(s.value("method", std::string(superpixel_method_name(superpixels.method))));
    superpixels.region_size_mm = s.value("region_size_mm", superpixels.region_size_mm);
    superpixels.region_size_px = s.value("region_size_px", superpixels.region_size_px);
    superpixels.ruler = s.value("ruler", superpixels.ruler);
    superpixels.iterations = s.value("iterations", superpixels.iterations);
    superpixels.min_element_percent = s.value("min_element_percent", superpixels.min_element_percent);
  }
  patches.every_n = j.value("every_n", patches.every_n);
  patches.patch_px = j.value("patch_px", patches.patch_px);
  regions.zoom_out = j.value("zoom_out", regions.zoom_out);
  regions.min_side_px = j.value("min_side_px", regions.min_side_px);
  regions.out_px = j.value("region_px", regions.out_px);
  smoothing.sigma_voxels = j.value("sigma_voxels", smoothing.sigma_voxels);
  if (j.contains("thresholds")) {
    const auto& t = j.at("thresholds");
    p0 = t.value("p0", p0);
    p1 = t.value("p1", p1);
    p2 = t.value("p2", p2);
  }
}

namespace {
namespace flow = tbb::flow;

enum Stage : int {
  kLoad, kResample, kWindow, kSuperpixels, kCandidates, kPatches, kPConvNet, kNearestFill, kRegions, kRConvNet,
  kSuperpixelMaps, kSmoothing, kThreshold, kResampleBack, kWrite, kStageCount
};
constexpr std::array<const char*, kStageCount> kStageNames{
    "load", "resample", "window", "superpixels", "candidates", "patches", "P-ConvNet", "nearest fill", "regions",
    "R-ConvNet", "superpixel maps", "smoothing", "threshold", "resample back", "write"};

// A case on its way through DeepOrgan: each step adds its product; buffers are shared, never changed.
struct OrganCase {
  CaseInputPtr input;
  std::shared_ptr<const Superpixels> superpixels;
  std::shared_ptr<const CandidateRegions> candidates;
  std::shared_ptr<const std::vector<Index3>> samples;     // P-ConvNet's voxels
  std::shared_ptr<const std::vector<float>> sampled;      // P-ConvNet's probability at each
  std::shared_ptr<const ProbabilityMap> p0;
  std::array<std::shared_ptr<const std::vector<float>>, 3> per_candidate;  // R1, R2 (DeepOrganNet order), averaged over scales
  std::shared_ptr<const ProbabilityMap> p1, p2;
  std::array<std::shared_ptr<const ProbabilityMap>, 3> smoothed;  // G(P0), G(P1), G(P2)
  std::shared_ptr<const Mask> final_mask;  // on the networks' grid
};
using OrganCasePtr = std::shared_ptr<const OrganCase>;

// A slice of one case's images for one network. Its place (first, n) says where its answers go.
struct Chunk {
  OrganCasePtr item;
  DeepOrganNet net = DeepOrganNet::P;
  std::size_t count = 1;       // chunks of this case's step (all networks)
  std::int64_t first = 0, n = 0, channels = 0, side = 0;
  std::shared_ptr<std::vector<float>> images;
  std::shared_ptr<std::vector<float>> probability;  // n, filled by the ConvNet node
};

// How each message names its case (CaseFlow's errors and per-case times).
struct CaseOf {
  static const CaseInput& of(const CaseInput& c) { return c; }
  static const CaseInput& of(const OrganCasePtr& o) { return *o->input; }
  static const CaseInput& of(const Chunk& c) { return *c.item->input; }
};
using Cases = CaseFlow<CaseOf>;

OrganCasePtr with(const OrganCase& c, const std::function<void(OrganCase&)>& add) {
  auto next = std::make_shared<OrganCase>(c);
  add(*next);
  return next;
}

// The bodies: one step of the method each, built from the stages.
class Steps {
 public:
  Steps(const DeepOrganOptions& o, const CandidateCascade& cascade, const DeepOrganInference& networks)
      : o_(o), cascade_(cascade), run_r1_(o.run_r1 || o.output == DeepOrganOutput::P1) {
    if (run_r1_ && !networks.has(DeepOrganNet::R1)) throw OptionError("the DeepOrgan set has no R1-ConvNet for P1");
  }

  CaseInput resample(CaseInput c) const {
    const Image& image = *c.input.image;
    const Geometry grid = o_.resample ? network_grid(image.geometry(), *o_.resample, c.input.source) : image.geometry();
    c.resampled = grid.dims != image.dims();
    c.network_image = c.resampled ? std::make_shared<const Image>(c2f::resample(image, grid)) : c.input.image;
    c.network_label = c.resampled && c.input.label ? std::make_shared<const Mask>(resample_mask(*c.input.label, grid))
                                                   : c.input.label;
    return c;
  }

  OrganCasePtr window(CaseInput c) const {
    c.normalized = std::make_shared<const Volume<float>>(WindowNormalize{o_.window}(*c.network_image));
    auto item = std::make_shared<OrganCase>();
    item->input = std::make_shared<const CaseInput>(std::move(c));
    return item;
  }

  OrganCasePtr superpixels(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      n.superpixels = std::make_shared<const Superpixels>(AxialSuperpixels{o_.superpixels}(*c->input->normalized));
    });
  }

  OrganCasePtr candidates(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      n.candidates = std::make_shared<const CandidateRegions>(cascade_.candidates(*c->input->normalized, *c->superpixels));
    });
  }

  // The lattice of S_RF and its patches, in chunks; an empty S_RF still sends one empty chunk.
  std::vector<Chunk> patches(const OrganCasePtr& c) const {
    auto samples = std::make_shared<const std::vector<Index3>>(sample_voxels(c->candidates->mask, o_.patches.every_n));
    const OrganCasePtr item = with(*c, [&](OrganCase& n) { n.samples = samples; });
    const std::int64_t total = std::int64_t(samples->size()), p = o_.patches.patch_px, plane = 3 * p * p;
    std::vector<Chunk> chunks;
    for (std::int64_t first = 0; first < total || chunks.empty(); first += o_.chunk) {
      Chunk k{item, DeepOrganNet::P, 0, first, std::min(o_.chunk, total - first), 3, p, nullptr, nullptr};
      k.images = std::make_shared<std::vector<float>>(std::size_t(k.n * plane));
      for (std::int64_t i = 0; i < k.n; ++i)
        extract_patch_25d(*c->input->normalized, (*samples)[std::size_t(first + i)], int(p), k.images->data() + i * plane);
      chunks.push_back(std::move(k));
    }
    for (Chunk& k : chunks) k.count = chunks.size();
    return chunks;
  }

  OrganCasePtr nearest_fill(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      n.p0 = std::make_shared<const ProbabilityMap>(c2f::nearest_fill(c->candidates->mask, *c->samples, *c->sampled));
    });
  }

  // Each candidate superpixel at Ns scales: R2's CT + P0, and R1's CT when it runs.
  std::vector<Chunk> regions(const OrganCasePtr& c) const {
    const auto& ids = c->candidates->ids;
    const std::int64_t total = std::int64_t(ids.size()), ns = o_.regions.scales(), side = o_.regions.out_px;
    const std::int64_t per_chunk = std::max<std::int64_t>(1, o_.chunk / ns);
    std::vector<Chunk> chunks;
    for (DeepOrganNet net : {DeepOrganNet::R2, DeepOrganNet::R1}) {
      if (net == DeepOrganNet::R1 && !run_r1_) continue;
      const std::int64_t channels = net == DeepOrganNet::R2 ? 2 : 1;
      for (std::int64_t first = 0; first < total || (first == 0 && total == 0); first += per_chunk) {
        Chunk k{c, net, 0, first, std::min(per_chunk, total - first), channels, side, nullptr, nullptr};
        const std::size_t per_superpixel = std::size_t(ns * channels * side * side);
        k.images = std::make_shared<std::vector<float>>(std::size_t(k.n) * per_superpixel);
        for (std::int64_t i = 0; i < k.n; ++i) {
          const Box3& box = c->superpixels->boxes[std::size_t(ids[std::size_t(first + i)])];
          const auto in = region_inputs(*c->input->normalized, net == DeepOrganNet::R2 ? c->p0.get() : nullptr, box, o_.regions);
          std::copy(in.begin(), in.end(), k.images->begin() + std::ptrdiff_t(std::size_t(i) * per_superpixel));
        }
        k.n *= ns;  // images, Ns per superpixel
        k.first *= ns;
        chunks.push_back(std::move(k));
        if (total == 0) break;
      }
    }
    for (Chunk& k : chunks) k.count = chunks.size();
    return chunks;
  }

  OrganCasePtr superpixel_maps(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      const auto& labels = c->superpixels->labels;
      const auto& ids = c->candidates->ids;
      n.p2 = std::make_shared<const ProbabilityMap>(superpixel_probability_map(labels, ids, *c->per_candidate[std::size_t(DeepOrganNet::R2)]));
      if (run_r1_)
        n.p1 = std::make_shared<const ProbabilityMap>(superpixel_probability_map(labels, ids, *c->per_candidate[std::size_t(DeepOrganNet::R1)]));
    });
  }

  OrganCasePtr smoothing(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      const GaussianSmoothing g{o_.smoothing};
      n.smoothed[0] = std::make_shared<const ProbabilityMap>(g(*c->p0));
      if (c->p1) n.smoothed[1] = std::make_shared<const ProbabilityMap>(g(*c->p1));
      n.smoothed[2] = std::make_shared<const ProbabilityMap>(g(*c->p2));
    });
  }

  OrganCasePtr threshold(const OrganCasePtr& c) const {
    return with(*c, [&](OrganCase& n) {
      const std::size_t k = std::size_t(o_.output);
      n.final_mask = std::make_shared<const Mask>(Threshold{level(o_.output)}(*c->smoothed[k]));
    });
  }

  // The final mask (and the maps' DSCs, with a label) on the input's grid.
  std::shared_ptr<CaseResult> finish(const OrganCase& c) const {
    const CaseInput& in = *c.input;
    auto r = std::make_shared<CaseResult>();
    r->index = in.index;
    r->input = in.input;
    r->method = "deeporgan";
    r->network_grid = in.normalized->geometry();
    r->stop = StopReason::MaxIterations;
    r->coarse_empty = c.candidates->empty();
    const Geometry& input_grid = in.input.image->geometry();
    const auto on_input = [&](const ProbabilityMap& p, float level) {
      return in.resampled ? c2f::threshold(c2f::resample(p, input_grid), level) : c2f::threshold(p, level);
    };
    const std::size_t k = std::size_t(o_.output);
    r->mask = in.resampled ? on_input(*c.smoothed[k], level(o_.output)) : *c.final_mask;
    if (o_.keep_probability)
      r->probability = in.resampled ? c2f::resample(*c.smoothed[k], input_grid) : *c.smoothed[k];
    const Mask candidates = in.resampled ? resample_mask(c.candidates->mask, input_grid) : c.candidates->mask;
    RoundRecord first{0, Box3::whole(r->network_grid.dims), false, count_foreground(c.candidates->mask),
                      BoundingBox3D{}(c.candidates->mask)};
    RoundRecord last{1, Box3::whole(r->network_grid.dims), false, count_foreground(*c.final_mask), BoundingBox3D{}(*c.final_mask)};
    r->measures["candidates"] = double(c.candidates->ids.size());
    r->measures["superpixels"] = double(c.superpixels->count);
    r->measures["p_convnet_samples"] = double(c.samples->size());
    if (const Mask* label = in.input.label.get()) {
      const Overlap cand = overlap(candidates, *label);
      first.dsc = cand.dice();
      first.truth_in_box = share_inside(*label, first.box.empty() ? Box3{} : BoundingBox3D{}(candidates));
      last.dsc = dice(r->mask, *label);
      last.truth_in_box = share_inside(*label, BoundingBox3D{}(r->mask));
      r->measures["dsc_candidates"] = cand.dice();
      r->measures["sensitivity_candidates"] = cand.b == 0 ? 1.0 : double(cand.both) / double(cand.b);
      r->measures["dsc_superpixel_upper_bound"] =
          superpixel_upper_bound_dsc(*c.superpixels, in.network_label ? *in.network_label : *label);
      const std::array<const char*, 3> names{"dsc_g_p0", "dsc_g_p1", "dsc_g_p2"};
      for (DeepOrganOutput out : {DeepOrganOutput::P0, DeepOrganOutput::P1, DeepOrganOutput::P2}) {
        const auto& map = c.smoothed[std::size_t(out)];
        if (map) r->measures[names[std::size_t(out)]] = dice(on_input(*map, level(out)), *label);
      }
    }
    r->rounds = {first, last};
    return r;
  }

  bool run_r1() const { return run_r1_; }

 private:
  float level(DeepOrganOutput out) const { return out == DeepOrganOutput::P0 ? o_.p0 : out == DeepOrganOutput::P1 ? o_.p1 : o_.p2; }

  const DeepOrganOptions& o_;
  const CandidateCascade& cascade_;
  bool run_r1_;
};

// Where a case's chunks meet again (a serial node: only it touches the table). When the last
// chunk of a step arrives, the case goes on with every answer in place.
class ChunkCollector {
 public:
  explicit ChunkCollector(int scales) : scales_(scales) {}

  std::optional<OrganCasePtr> add(const Chunk& k) {
    Partial& p = partial_[k.item->input->index];
    if (!p.item) p.item = k.item;
    auto& answers = p.answers[std::size_t(k.net)];
    if (answers.size() < std::size_t(k.first + k.n)) answers.resize(std::size_t(k.first + k.n));
    std::copy(k.probability->begin(), k.probability->end(), answers.begin() + k.first);
    if (++p.received < k.count) return std::nullopt;
    auto next = std::make_shared<OrganCase>(*p.item);
    if (k.net == DeepOrganNet::P) {
      next->sampled = std::make_shared<const std::vector<float>>(std::move(answers));
    } else {
      for (DeepOrganNet net : {DeepOrganNet::R1, DeepOrganNet::R2}) {
        const auto& a = p.answers[std::size_t(net)];
        next->per_candidate[std::size_t(net)] = std::make_shared<const std::vector<float>>(average_over_scales(a, scales_));
      }
    }
    partial_.erase(k.item->input->index);
    return OrganCasePtr(next);
  }

 private:
  struct Partial {
    OrganCasePtr item;
    std::size_t received = 0;
    std::array<std::vector<float>, 3> answers;
  };
  int scales_;
  std::unordered_map<std::size_t, Partial> partial_;  // a case that fails mid-way keeps its entry until the run ends
};
}  // namespace

SegmentationReport segment_deeporgan(std::size_t count, const CaseLoader& load, const CandidateCascade& cascade,
                                     DeepOrganInference& networks, const DeepOrganOptions& o, const ResultSink& sink) {
  o.validate();
  const auto t_start = StageClock::now();
  const Steps steps(o, cascade, networks);
  ChunkCollector patch_answers(1), region_answers(o.regions.scales());

  flow::graph g;
  Cases cases(g, kStageNames, {kLoad, kWrite, "deeporgan"}, count, o.cases_in_flight, load, sink);
  using ChunkNode = flow::multifunction_node<OrganCasePtr, std::tuple<Chunk>>;
  using CollectNode = flow::multifunction_node<Chunk, std::tuple<OrganCasePtr>>;

  auto resample = cases.step<CaseInput, CaseInput>(flow::unlimited, kResample, [&](const CaseInput& c) { return steps.resample(c); });
  auto window = cases.step<OrganCasePtr, CaseInput>(flow::unlimited, kWindow, [&](const CaseInput& c) { return steps.window(c); });
  const auto organ_step = [&](Stage s, auto body) { return cases.step<OrganCasePtr, OrganCasePtr>(flow::unlimited, s, body); };
  const auto chunk_step = [&](Stage s, auto body) {
    return ChunkNode(g, flow::unlimited, [s, &cases, body](const OrganCasePtr& c, ChunkNode::output_ports_type& out) {
      std::vector<Chunk> chunks;
      if (cases.guard(s, c, [&] { chunks = body(c); }))
        for (Chunk& k : chunks) std::get<0>(out).try_put(std::move(k));
    });
  };
  // One ConvNet node for all three networks: serial, one model per device.
  const auto convnet = [&](Stage s) {
    return flow::multifunction_node<Chunk, std::tuple<Chunk>>(g, flow::serial, [s, &cases, &networks](const Chunk& k, auto& out) {
      if (cases.failed(k.item->input->index)) return;
      Chunk done = k;
      if (cases.guard(s, k, [&] {
            done.probability = std::make_shared<std::vector<float>>(std::size_t(k.n));
            networks.classify(k.net, k.images->data(), k.n, k.channels, k.side, done.probability->data());
          })) {
        done.images.reset();  // the inputs are no longer needed: free them before the collector
        std::get<0>(out).try_put(std::move(done));
      }
    });
  };
  const auto collector = [&](ChunkCollector& answers, Stage s) {
    return CollectNode(g, flow::serial, [&answers, s, &cases](const Chunk& k, CollectNode::output_ports_type& out) {
      std::optional<OrganCasePtr> ready;
      if (cases.guard(s, k, [&] { ready = answers.add(k); }) && ready) std::get<0>(out).try_put(std::move(*ready));
    });
  };

  auto superpixels = organ_step(kSuperpixels, [&](const OrganCasePtr& c) { return steps.superpixels(c); });
  auto candidates = organ_step(kCandidates, [&](const OrganCasePtr& c) { return steps.candidates(c); });
  auto patches = chunk_step(kPatches, [&](const OrganCasePtr& c) { return steps.patches(c); });
  auto p_convnet = convnet(kPConvNet);
  auto p_answers = collector(patch_answers, kPConvNet);
  auto nearest_fill = organ_step(kNearestFill, [&](const OrganCasePtr& c) { return steps.nearest_fill(c); });
  auto regions = chunk_step(kRegions, [&](const OrganCasePtr& c) { return steps.regions(c); });
  auto r_convnet = convnet(kRConvNet);
  auto r_answers = collector(region_answers, kRConvNet);
  auto superpixel_maps = organ_step(kSuperpixelMaps, [&](const OrganCasePtr& c) { return steps.superpixel_maps(c); });
  auto smoothing = organ_step(kSmoothing, [&](const OrganCasePtr& c) { return steps.smoothing(c); });
  auto threshold = organ_step(kThreshold, [&](const OrganCasePtr& c) { return steps.threshold(c); });
  auto resample_back = cases.step<CaseDone, OrganCasePtr>(flow::unlimited, kResampleBack, [&](const OrganCasePtr& c) {
    return CaseDone{steps.finish(*c), c->input->times, c->input->start};
  });

  flow::make_edge(cases.loaded(), resample);
  flow::make_edge(resample, window);
  flow::make_edge(window, superpixels);
  flow::make_edge(superpixels, candidates);
  flow::make_edge(candidates, patches);
  flow::make_edge(patches, p_convnet);
  flow::make_edge(p_convnet, p_answers);
  flow::make_edge(p_answers, nearest_fill);
  flow::make_edge(nearest_fill, regions);
  flow::make_edge(regions, r_convnet);
  flow::make_edge(r_convnet, r_answers);
  flow::make_edge(r_answers, superpixel_maps);
  flow::make_edge(superpixel_maps, smoothing);
  flow::make_edge(smoothing, threshold);
  flow::make_edge(threshold, resample_back);
  flow::make_edge(resample_back, cases.write());

  cases.run();

  SegmentationReport report;
  report.seconds = seconds_since(t_start);
  report.cases = count;
  report.failed = cases.failed_cases();
  for (int s = 0; s < kStageCount; ++s) report.stages.push_back(cases.stage_time(s));
  return report;
}

}  // namespace c2f
