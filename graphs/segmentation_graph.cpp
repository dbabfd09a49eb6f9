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

// What Write receives: a finished or failed case. The result travels by pointer, handed from
// node to node with one holder at a time, because it holds the case's masks.
struct CaseDone {
  std::shared_ptr<CaseResult> result;
  std::shared_ptr<const CaseStageTimes> times;
  StageClock::time_point start;
};

// A failure a stage already described ("the infer stage failed: ..."): only the case is added.
class StageFailed : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

const CaseInput& case_of(const CaseInput& c) { return c; }
const CaseInput& case_of(const std::tuple<Round, ViewMaps>& j) { return *std::get<0>(j).input; }
const CaseInput& case_of(const FusedRound& f) { return *f.round.input; }
const CaseInput& case_of(const ThresholdedRound& t) { return *t.fused.round.input; }
const CaseInput& case_of(const RoundResult& r) { return *r.round.input; }
const CaseInput& case_of(const BoxFound& b) { return *b.input; }
const CaseInput& case_of(const CaseOutcome& o) { return *o.input; }

// Runs a stage's body on one case's message, timed for the graph's and the case's account. A
// throw fails that case alone: one error naming the case and the stage goes to Write.
class Guard {
 public:
  Guard(std::array<BusyClock, kStageCount>& clocks, flow::broadcast_node<CaseDone>& failures)
      : clocks_(clocks), failures_(failures) {}

  template <class Body>
  bool operator()(Stage s, const CaseInput& c, Body&& body) const {
    const auto t0 = StageClock::now();
    std::string error;
    try {
      body();
    } catch (const InputError& e) {  // bad input names its file already
      error = e.what();
    } catch (const StageFailed& e) {
      error = fmt::format("{}: {}", c.name(), e.what());
    } catch (const std::exception& e) {
      error = fmt::format("{}: the {} stage failed: {}", c.name(), kStageNames[s], e.what());
    } catch (...) {
      error = fmt::format("{}: the {} stage failed: an unknown exception", c.name(), kStageNames[s]);
    }
    c.times->add(kStageNames[s], clocks_[s].add(t0));
    if (error.empty()) return true;
    auto r = std::make_shared<CaseResult>();
    r->index = c.index;
    r->input = c.input;
    r->error = std::move(error);
    failures_.try_put(CaseDone{r, c.times, c.start});
    return false;
  }

 private:
  std::array<BusyClock, kStageCount>& clocks_;
  flow::broadcast_node<CaseDone>& failures_;
};

// A node running one stage on each message: In -> Out, or the case's failure.
template <class In, class Out>
using StepNode = flow::multifunction_node<In, std::tuple<Out>>;

template <class Out, class In, class Body>
StepNode<In, Out> step(flow::graph& g, std::size_t concurrency, Stage s, const Guard& guard, Body body) {
  return StepNode<In, Out>(g, concurrency, [s, &guard, body](const In& in, typename StepNode<In, Out>::output_ports_type& out) {
    std::optional<Out> result;
    if (guard(s, case_of(in), [&] { result.emplace(body(in)); })) std::get<0>(out).try_put(std::move(*result));
  });
}

// The bodies: each one step of Figure 2 on messages, built from the stages' functors.
class Steps {
 public:
  explicit Steps(const SegmentationOptions& o) : o_(o) {}

  CaseInput resample(CaseInput c) const {
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
  std::array<BusyClock, kStageCount> clocks;
  const Steps steps(o);
  CaseRounds rounds_owner(o);
  std::size_t next = 0, failed = 0;

  flow::graph g;
  flow::broadcast_node<CaseDone> failures(g);
  const Guard guard(clocks, failures);
  using ConvergenceNode = flow::multifunction_node<RoundResult, std::tuple<RoundResult, CaseOutcome>>;

  flow::input_node<std::size_t> source(g, [&](tbb::flow_control& fc) -> std::size_t {
    if (next < count) return next++;
    fc.stop();
    return 0;
  });
  flow::limiter_node<std::size_t, int> cases_in_flight(g, o.cases_in_flight);
  StepNode<std::size_t, CaseInput> load_node(g, flow::unlimited, [&](const std::size_t& i, auto& out) {
    CaseInput c;
    c.index = i;
    c.start = StageClock::now();
    if (guard(kLoad, c, [&] {
          c.input = load(i);
          if (o.oracle_box && !c.input.label) throw InputError(c.input.source, "the oracle box needs the case's label");
        }))
      std::get<0>(out).try_put(std::move(c));
  });
  auto resample = step<CaseInput, CaseInput>(g, flow::unlimited, kResample, guard, [&](const CaseInput& c) { return steps.resample(c); });
  auto window = step<Round, CaseInput>(g, flow::unlimited, kWindow, guard, [&](const CaseInput& c) { return steps.window(c); });
  flow::broadcast_node<Round> rounds(g);
  flow::function_node<Round, ViewRequest> request(g, flow::unlimited, &Steps::request);
  BlankSliceSkipping skipping(inference);
  ViewInference& network = o.skip_blank_slices ? static_cast<ViewInference&>(skipping) : inference;
  TriPlanarInference tri_planar(g, network, {o.batch_slices, o.batches_in_flight});
  flow::join_node<std::tuple<Round, ViewMaps>, flow::key_matching<RoundKey, RoundKeyHashCompare>> round_with_views(
      g, [](const Round& r) { return r.key(); }, [](const ViewMaps& m) { return m.key; });
  auto fusion = step<FusedRound, std::tuple<Round, ViewMaps>>(g, flow::unlimited, kFusion, guard, [&](const auto& j) { return steps.fuse(j); });
  auto threshold = step<ThresholdedRound, FusedRound>(g, flow::unlimited, kThreshold, guard, [&](const FusedRound& f) { return steps.threshold_round(f); });
  auto paste_back = step<RoundResult, ThresholdedRound>(g, flow::unlimited, kPasteBack, guard, [&](const ThresholdedRound& t) { return steps.paste(t); });
  ConvergenceNode convergence(g, flow::serial, [&](const RoundResult& r, ConvergenceNode::output_ports_type& out) {
    std::optional<CaseOutcome> stopped;
    if (!guard(kConvergence, case_of(r), [&] { stopped = rounds_owner.add(r); })) return;
    if (stopped) std::get<1>(out).try_put(std::move(*stopped));
    else std::get<0>(out).try_put(r);  // refine
  });
  auto bounding_box = step<BoxFound, RoundResult>(g, flow::unlimited, kBoundingBox, guard, [&](const RoundResult& r) { return steps.bounding_box(r); });
  auto crop = step<Round, BoxFound>(g, flow::unlimited, kCrop, guard, [&](const BoxFound& b) { return steps.crop(b); });
  auto resample_back = step<CaseDone, CaseOutcome>(g, flow::unlimited, kResampleBack, guard, [&](const CaseOutcome& out) {
    return CaseDone{steps.finish(out), out.input->times, out.input->start};
  });
  flow::function_node<CaseDone, int> write(g, flow::serial, [&](const CaseDone& d) {
    CaseResult& r = *d.result;
    failed += !r.error.empty();
    r.seconds = seconds_since(d.start);  // up to the write, which the sink itself does
    r.stage_seconds = d.times->snapshot();
    const auto t0 = StageClock::now();
    sink(std::move(r));
    clocks[kWrite].add(t0);
    return 1;  // a case token back
  });

  flow::make_edge(source, cases_in_flight);
  flow::make_edge(cases_in_flight, load_node);
  flow::make_edge(load_node, resample);
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
  flow::make_edge(resample_back, write);
  flow::make_edge(failures, write);
  flow::make_edge(write, cases_in_flight.decrementer());

  source.activate();
  g.wait_for_all();

  SegmentationReport report;
  report.seconds = seconds_since(t_start);
  report.cases = count;
  report.failed = failed;
  report.images = skipping.images_seen();
  report.blank_images_skipped = skipping.images_skipped();
  for (int s = 0; s < kStageCount; ++s) {
    report.stages.push_back(clocks[s].report(kStageNames[s]));
    if (s == kWindow)
      for (const StageTime& t : tri_planar.stage_times()) report.stages.push_back(t);
  }
  return report;
}

}  // namespace c2f
