#include "segmentation_graph.hpp"

#include <tbb/flow_graph.h>

#include <array>
#include <atomic>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>

#include "../evaluation/metrics.hpp"
#include "../pipeline/errors.hpp"
#include "../stages/blank_slices.hpp"
#include "../stages/bounding_box.hpp"
#include "../stages/connected_components.hpp"
#include "../stages/crop_with_frame.hpp"
#include "../stages/threshold.hpp"
#include "case_flow.hpp"
#include "tri_planar_inference.hpp"

namespace c2f {

void SegmentationOptions::validate() const {
  convergence.validate();
  window.validate();
  coarse_fusion.validate();
  fine_fusion.validate();
  TriPlanarOptions{batch_slices, batches_in_flight}.validate();
  if (frame_px < 0) throw OptionError("the frame must not be negative");
  if (!(threshold > 0 && threshold <= 1)) throw OptionError("the threshold must lie in (0, 1]");
  if (cases_in_flight < 1) throw OptionError("at least one case must be in flight");
  if (oracle_box && convergence.max_iterations != 1) throw OptionError("the oracle box is one fine round: set T = 1");
  if (resample) resample->validate();
}

namespace {
namespace flow = tbb::flow;

// The nodes outside TriPlanarInference; the report lists the subgraph's four after window.
enum Stage : int {
  kLoad, kResample, kWindow, kFusion, kThreshold, kPasteBack, kConvergence, kBoundingBox, kCrop, kResampleBack, kWrite,
  kStageCount
};
constexpr std::array<const char*, kStageCount> kStageNames{
    "load", "resample", "window", "fusion", "threshold", "paste-back", "convergence", "bounding box",
    "crop with frame", "resample back", "write"};

// How each message names its case (CaseFlow's errors and per-case times).
struct CaseOf {
  static const CaseInput& of(const CaseInput& c) { return c; }
  static const CaseInput& of(const std::tuple<Round, ViewMaps>& j) { return *std::get<0>(j).input; }
  static const CaseInput& of(const FusedRound& f) { return *f.round.input; }
  static const CaseInput& of(const ThresholdedRound& t) { return *t.fused.round.input; }
  static const CaseInput& of(const RoundResult& r) { return *r.round.input; }
  static const CaseInput& of(const BoxFound& b) { return *b.input; }
  static const CaseInput& of(const CaseOutcome& o) { return *o.input; }
};

// The bodies: each one step of Figure 2 on messages, built from the stages' functors.
class Steps {
 public:
  explicit Steps(const SegmentationOptions& o) : o_(o) {}

  CaseInput resample(CaseInput c) const {
    if (o_.oracle_box && !c.input.label) throw InputError(c.input.source, "the oracle box needs the case's label");
    const Image& image = *c.input.image;
    const Geometry grid = o_.resample ? network_grid(image.geometry(), *o_.resample, c.input.source) : image.geometry();
    c.resampled = grid.dims != image.dims();
    c.network_image = c.resampled ? std::make_shared<const Image>(c2f::resample(image, grid)) : c.input.image;
    c.network_label = c.resampled && o_.oracle_box ? std::make_shared<const Mask>(resample_mask(*c.input.label, grid))
                                                   : c.input.label;
    if (c.input.label) c.label_voxels = count_foreground(*c.input.label);
    return c;
  }

  // WindowNormalize, and the case's first round: the coarse stage on the whole volume, or the
  // oracle's fine round on the truth's box.
  Round window(CaseInput c) const {
    c.normalized = std::make_shared<const Volume<float>>(WindowNormalize{o_.window}(*c.network_image));
    Round r;
    r.input = std::make_shared<const CaseInput>(std::move(c));
    const Index3 dims = r.input->normalized->dims();
    if (o_.oracle_box) {
      r.iteration = 1;
      r.scale = Scale::Fine;
      r.region = CropWithFrame{o_.frame_px}(BoundingBox3D{}(*r.input->network_label), dims);
    } else {
      r.region = {Box3::whole(dims), false};
    }
    return r;
  }

  static ViewRequest request(const Round& r) {
    return {r.key(), r.scale, r.region.box, r.input->normalized, r.input->times};
  }

  FusedRound fuse(const std::tuple<Round, ViewMaps>& j) const {
    const auto& [round, views] = j;
    if (!views.error.empty()) throw StageFailed(views.error);
    const std::array<const ProbabilityMap*, 3> maps{views.maps[0].get(), views.maps[1].get(), views.maps[2].get()};
    FusedRound f{round, std::make_shared<const ProbabilityMap>(
                            ViewFusion{round.scale == Scale::Coarse ? o_.coarse_fusion : o_.fine_fusion}(maps))};
    const CaseInput& c = *round.input;
    if (round.iteration == 0 && c.input.label)  // each coarse view's own result: the paper's Table 1
      for (std::size_t v = 0; v < 3; ++v) {
        const ResampledRegion r = on_input_grid(c, *maps[v], round.region.box);
        f.view_dsc[v] = overlap(threshold(r.values, o_.threshold), r.box, *c.input.label, c.label_voxels).dice();
      }
    return f;
  }

  ThresholdedRound threshold_round(const FusedRound& f) const {
    return {f, std::make_shared<const Mask>(Threshold{o_.threshold}(*f.fused))};
  }

  // S(t) on the full grid, 0 outside the region, and the round's record. With a label or kept
  // iterations on a resampled case, S(t) on the input's grid too, from the map before its threshold.
  RoundResult paste(const ThresholdedRound& t) const {
    const Round& round = t.fused.round;
    const CaseInput& c = *round.input;
    Mask s = paste_back(*t.region_mask, round.region.box, c.normalized->geometry(), std::uint8_t{0});
    if (post_processed(round.scale)) s = KeepLargeComponents{}(s);
    RoundResult r{round, {}, nullptr, t.fused.fused, {}};
    r.record = {round.iteration, round.region.box, round.region.fallback, count_foreground(s), BoundingBox3D{}(s)};
    r.record.view_dsc = t.fused.view_dsc;
    r.mask = std::make_shared<const Mask>(std::move(s));
    if (!c.resampled) {
      if (c.input.label) {
        r.record.dsc = dice(*r.mask, *c.input.label);
        r.record.truth_in_box = share_inside(*c.input.label, r.record.box, c.label_voxels);
      }
      r.on_input = {Box3::whole(r.mask->dims()), r.mask};
    } else if (c.input.label || o_.keep_iterations) {
      // Only the box of the input grid the region reaches: the rest of S(t) is zero there.
      const ResampledRegion part = on_input_grid(c, *r.fused, round.region.box);
      Mask on_input = threshold(part.values, o_.threshold);
      if (post_processed(round.scale)) on_input = KeepLargeComponents{}(on_input, c.input.image->geometry().voxel_count());
      if (c.input.label) {
        r.record.dsc = overlap(on_input, part.box, *c.input.label, c.label_voxels).dice();
        Box3 box = BoundingBox3D{}(on_input);
        for (int a = 0; a < 3; ++a) box.lo[a] += part.box.lo[a], box.hi[a] += part.box.lo[a];
        r.record.truth_in_box = share_inside(*c.input.label, box, c.label_voxels);
      }
      r.on_input = {part.box, std::make_shared<const Mask>(std::move(on_input))};
    }
    return r;
  }

  // BoundingBox3D of S(t): PasteBack already took it for the round's record; a second scan of the
  // full grid would find the same box.
  BoxFound bounding_box(const RoundResult& r) const {
    return {r.round.input, r.round.iteration + 1, r.record.box};
  }

  Round crop(const BoxFound& b) const {
    return {b.input, b.next_iteration, Scale::Fine, CropWithFrame{o_.frame_px}(b.box, b.input->normalized->dims())};
  }

  // ResampleBack: the final mask (and map) on the input's grid; without resampling, S(T) itself.
  std::shared_ptr<CaseResult> finish(const CaseOutcome& out) const {
    const CaseInput& c = *out.input;
    const RoundResult& last = out.last;
    auto r = std::make_shared<CaseResult>();
    r->index = c.index;
    r->input = c.input;
    r->rounds = out.rounds;
    r->round_masks = out.round_masks;
    r->coarse_empty = !o_.oracle_box && r->rounds.front().voxels == 0;
    r->stop = out.stop;
    r->network_grid = c.normalized->geometry();
    if (!c.resampled) {
      r->mask = *last.mask;
      if (o_.keep_probability)
        r->probability = paste_back(*last.fused, last.round.region.box, c.normalized->geometry(), 0.0f);
      return r;
    }
    const Geometry& grid = c.input.image->geometry();
    const ResampledRegion p = last.on_input && !o_.keep_probability ? ResampledRegion{}
                                                                      : on_input_grid(c, *last.fused, last.round.region.box);
    if (last.on_input) {
      r->mask = *last.on_input.whole(grid);
    } else {
      Mask part = threshold(p.values, o_.threshold);
      if (post_processed(last.round.scale)) part = KeepLargeComponents{}(part, grid.voxel_count());
      r->mask = *MaskInBox{p.box, std::make_shared<const Mask>(std::move(part))}.whole(grid);
    }
    if (o_.keep_probability) r->probability = p.box == Box3::whole(grid.dims) ? p.values : paste_back(p.values, p.box, grid, 0.0f);
    return r;
  }

 private:
  // Whether a round's mask keeps only its large components (fine: the released code's; coarse: an option).
  bool post_processed(Scale scale) const { return scale == Scale::Fine ? o_.fine_post_processing : o_.coarse_post_processing; }

  // A round's map (on its region of the networks' grid) on the input's grid, where it can be
  // non-zero: the box of the input grid the region reaches.
  static ResampledRegion on_input_grid(const CaseInput& c, const ProbabilityMap& map, const Box3& region) {
    return resample_region(map, region, c.normalized->geometry(), c.input.image->geometry());
  }

  const SegmentationOptions& o_;
};

// Convergence, and the one owner of every case's round records: it appends each round's record,
// adds d(t) = DSC(S(t-1), S(t)), and says whether the case goes round again (a serial node: one
// round of a case is in flight at a time, and the table is touched by this node alone).
class CaseRounds {
 public:
  explicit CaseRounds(const SegmentationOptions& o) : o_(o) {}

  // Round t's result; the case's outcome when it stops here (the case is then forgotten).
  std::optional<CaseOutcome> add(RoundResult r) {
    Progress& p = cases_[r.round.input->index];
    StopReason stop = StopReason::MaxIterations;
    if (r.round.iteration == 0) {
      if (o_.convergence.max_iterations > 0) stop = StopReason::NotYet;
    } else if (!o_.oracle_box) {
      r.record.d_t = dice(*p.current, *r.mask);
      stop = Convergence{o_.convergence}(r.round.iteration, r.record.d_t);
    }
    p.rounds.push_back(r.record);
    if (o_.keep_iterations)
      p.round_masks.push_back(r.on_input.whole(r.round.input->input.image->geometry()));
    p.current = r.mask;
    if (stop == StopReason::NotYet) return std::nullopt;
    CaseOutcome out{r.round.input, std::move(p.rounds), std::move(p.round_masks), std::move(r), stop};
    cases_.erase(out.input->index);
    return out;
  }

 private:
  struct Progress {
    std::vector<RoundRecord> rounds;
    std::vector<std::shared_ptr<const Mask>> round_masks;
    std::shared_ptr<const Mask> current;  // S(t-1)
  };
  const SegmentationOptions& o_;
  std::unordered_map<std::size_t, Progress> cases_;  // a case that fails mid-way keeps its entry until the run ends
};
}  // namespace

SegmentationReport segment_cases(std::size_t count, const CaseLoader& load, ViewInference& inference,
                                 const SegmentationOptions& o, const ResultSink& sink) {
  o.validate();
  const auto t_start = StageClock::now();
  const Steps steps(o);
  CaseRounds rounds_owner(o);

  flow::graph g;
  CaseFlow<CaseOf> cases(g, kStageNames, {kLoad, kWrite, "coarse-to-fine"}, count, o.cases_in_flight, load, sink);
  using ConvergenceNode = flow::multifunction_node<RoundResult, std::tuple<RoundResult, CaseOutcome>>;

  auto resample = cases.step<CaseInput, CaseInput>(flow::unlimited, kResample, [&](const CaseInput& c) { return steps.resample(c); });
  auto window = cases.step<Round, CaseInput>(flow::unlimited, kWindow, [&](const CaseInput& c) { return steps.window(c); });
  flow::broadcast_node<Round> rounds(g);
  flow::function_node<Round, ViewRequest> request(g, flow::unlimited, &Steps::request);
  BlankSliceSkipping skipping(inference);
  ViewInference& network = o.skip_blank_slices ? static_cast<ViewInference&>(skipping) : inference;
  TriPlanarInference tri_planar(g, network, {o.batch_slices, o.batches_in_flight});
  flow::join_node<std::tuple<Round, ViewMaps>, flow::key_matching<RoundKey, RoundKeyHashCompare>> round_with_views(
      g, [](const Round& r) { return r.key(); }, [](const ViewMaps& m) { return m.key; });
  auto fusion = cases.step<FusedRound, std::tuple<Round, ViewMaps>>(flow::unlimited, kFusion, [&](const auto& j) { return steps.fuse(j); });
  auto threshold = cases.step<ThresholdedRound, FusedRound>(flow::unlimited, kThreshold, [&](const FusedRound& f) { return steps.threshold_round(f); });
  auto paste_back = cases.step<RoundResult, ThresholdedRound>(flow::unlimited, kPasteBack, [&](const ThresholdedRound& t) { return steps.paste(t); });
  ConvergenceNode convergence(g, flow::serial, [&](const RoundResult& r, ConvergenceNode::output_ports_type& out) {
    std::optional<CaseOutcome> stopped;
    if (!cases.guard(kConvergence, r, [&] { stopped = rounds_owner.add(r); })) return;
    if (stopped) std::get<1>(out).try_put(std::move(*stopped));
    else std::get<0>(out).try_put(r);  // refine
  });
  auto bounding_box = cases.step<BoxFound, RoundResult>(flow::unlimited, kBoundingBox, [&](const RoundResult& r) { return steps.bounding_box(r); });
  auto crop = cases.step<Round, BoxFound>(flow::unlimited, kCrop, [&](const BoxFound& b) { return steps.crop(b); });
  auto resample_back = cases.step<CaseDone, CaseOutcome>(flow::unlimited, kResampleBack, [&](const CaseOutcome& out) {
    return CaseDone{steps.finish(out), out.input->times, out.input->start};
  });

  flow::make_edge(cases.loaded(), resample);
  flow::make_edge(resample, window);
  flow::make_edge(window, rounds);
  flow::make_edge(rounds, request);
  flow::make_edge(request, tri_planar);
  flow::make_edge(rounds, flow::input_port<0>(round_with_views));
  flow::make_edge(tri_planar, flow::input_port<1>(round_with_views));
  flow::make_edge(round_with_views, fusion);
  flow::make_edge(fusion, threshold);
  flow::make_edge(threshold, paste_back);
  flow::make_edge(paste_back, convergence);
  flow::make_edge(flow::output_port<0>(convergence), bounding_box);  // refine: the fine loop
  flow::make_edge(bounding_box, crop);
  flow::make_edge(crop, rounds);
  flow::make_edge(flow::output_port<1>(convergence), resample_back);  // converged
  flow::make_edge(resample_back, cases.write());

  cases.run();

  SegmentationReport report;
  report.seconds = seconds_since(t_start);
  report.cases = count;
  report.failed = cases.failed_cases();
  report.images = skipping.images_seen();
  report.blank_images_skipped = skipping.images_skipped();
  for (int s = 0; s < kStageCount; ++s) {
    report.stages.push_back(cases.stage_time(s));
    if (s == kWindow)
      for (const StageTime& t : tri_planar.stage_times()) report.stages.push_back(t);
  }
  return report;
}

}  // namespace c2f
