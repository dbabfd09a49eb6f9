#include "c2f/graphs/segmentation_graph.hpp"

#include <tbb/flow_graph.h>

#include <array>
#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "c2f/graphs/device_thread.hpp"
#include "c2f/pipeline/errors.hpp"
#include "c2f/stages/bounding_box.hpp"
#include "c2f/stages/connected_components.hpp"
#include "c2f/stages/crop_with_frame.hpp"
#include "c2f/stages/metrics.hpp"
#include "c2f/stages/threshold.hpp"
#include "c2f/stages/tri_planar.hpp"

namespace c2f {

void SegmentationOptions::validate() const {
  convergence.validate();
  window.validate();
  coarse_fusion.validate();
  fine_fusion.validate();
  if (frame < 0) throw OptionError("the frame must not be negative");
  if (!(threshold > 0 && threshold <= 1)) throw OptionError("the threshold must lie in (0, 1]");
  if (batch_slices < 1) throw OptionError("the batch must hold at least one slice");
  if (cases_in_flight < 1) throw OptionError("at least one case must be in flight");
  if (batches_in_flight < 1) throw OptionError("at least one batch must be in flight");
  if (oracle_box && convergence.max_iterations != 1) throw OptionError("the oracle box is one fine round: set T = 1");
  if (resample) resample->validate();
}

namespace {
namespace flow = tbb::flow;

// The graph's nodes, in the order the report lists them.
enum Stage : int {
  kLoad, kResample, kWindow, kDispatch, kSlice, kInfer, kAverage, kFusion, kThreshold, kPasteBack, kConvergence,
  kBoundingBox, kCrop, kResampleBack, kWrite, kStageCount
};
constexpr std::array<const char*, kStageCount> kStageNames{
    "load", "resample", "window", "dispatch", "slice", "infer", "tri-planar average", "fusion", "threshold",
    "paste-back", "convergence", "bounding box", "crop with frame", "resample back", "write"};

// One case on its way through the graph.
struct CaseRun {
  std::size_t index = 0;
  StageClock::time_point start;
  Case input;
  std::string error;               // set once: by load or resample, or by the first stage that threw
  std::atomic<bool> failed{false};  // a stage threw: later nodes pass the case's messages on untouched
  bool resampled = false;                      // the rounds run on another grid than the input's
  std::shared_ptr<const Image> network_image;  // the input on the networks' grid (the input itself without resampling)
  std::shared_ptr<const Mask> network_label;   // the label there, for the oracle box
  std::shared_ptr<const Volume<float>> normalized;
  Mask latest;   // S(t) of the round just pasted, on the networks' grid
  Mask current;  // S(t) of the last finished round
  Mask last_on_input;  // the last round's S(t) brought back to the input's grid, when already made
  Mask final_mask;     // the result on the input's grid
  std::optional<ProbabilityMap> final_probability;
  std::vector<RoundRecord> rounds;
  std::vector<Mask> round_masks;
  ProbabilityMap last_fused;  // on last_region's grid
  Box3 last_region;
  StopReason stop = StopReason::NotYet;

  std::mutex time_lock;  // the view branches of one case run at once
  std::map<std::string, double> stage_seconds;
  void add_time(Stage s, double seconds) {
    std::lock_guard lock(time_lock);
    stage_seconds[kStageNames[s]] += seconds;
  }
};
using RunPtr = std::shared_ptr<CaseRun>;

// What the join matches a round's three views by: its case and its iteration, any number of each.
struct RoundKey {
  std::size_t case_index = 0;
  int iteration = 0;
  bool operator==(const RoundKey&) const = default;
};
struct RoundKeyHashCompare {  // oneTBB's key_matching interface
  std::size_t hash(const RoundKey& k) const {
    return std::hash<std::size_t>{}(k.case_index) ^ (std::hash<int>{}(k.iteration) * 0x9e3779b97f4a7c15ull);
  }
  bool equal(const RoundKey& a, const RoundKey& b) const { return a == b; }
};

// A round of one case: its region and the three views' accumulators.
struct Round {
  RunPtr run;
  int iteration = 0;
  Scale scale = Scale::Coarse;
  CropRegion region;
  // kViews order. Made by the view's average node when the round's first prediction arrives, not
  // at dispatch: a case waiting for the device then holds no maps (a third of its memory).
  std::array<std::unique_ptr<ViewAccumulator>, 3> views;
  ProbabilityMap fused;
  Mask region_mask;
  std::array<double, 3> view_dsc{-1, -1, -1};
  RoundKey key() const { return {run->index, iteration}; }
};
using RoundPtr = std::shared_ptr<Round>;

struct SliceTask {
  RoundPtr round;
  View view;
  SliceRange range;
};
struct BatchWork {
  RoundPtr round;
  SliceBatch batch;
  SlicePrediction prediction;
};
using BatchPtr = std::shared_ptr<BatchWork>;
struct ViewDone {  // the join's port says which view
  RoundKey key;
  std::shared_ptr<ProbabilityMap> map;
};
struct BoxFound {
  RunPtr run;
  Box3 box;
};

std::size_t view_index(View v) { return std::size_t(v); }  // kViews order is the enum's order
}  // namespace

SegmentationReport segment_cases(std::size_t count, const CaseLoader& load, ViewInference& inference,
                                 const SegmentationOptions& o, const ResultSink& sink) {
  o.validate();
  std::array<BusyClock, kStageCount> clocks;
  const auto t_start = StageClock::now();
  flow::graph g;
  // A case whose stage threw goes from there straight to Write, alone: the other cases go on.
  flow::broadcast_node<RunPtr> failed_cases(g);

  // Times a node body for the graph's and the case's account. A body that throws fails its case:
  // the first failure's message names the case and the stage, and the case goes to Write once.
  // Bodies of a case that has failed are skipped; its messages still flow, so tokens come back.
  auto timed = [&clocks, &failed_cases](Stage s, const RunPtr& run, auto&& body) {
    if (run->failed) return;
    const auto t0 = StageClock::now();
    std::string problem;
    try {
      body();
    } catch (const std::exception& e) {
      problem = e.what();
    } catch (...) {
      problem = "an unknown exception";
    }
    run->add_time(s, clocks[s].add(t0));
    if (problem.empty() || run->failed.exchange(true)) return;
    const std::string name = !run->input.source.empty() ? run->input.source
                             : !run->input.id.empty()   ? run->input.id
                                                        : fmt::format("case {}", run->index + 1);
    run->error = fmt::format("{}: the {} stage failed: {}", name, kStageNames[s], problem);
    failed_cases.try_put(run);
  };
  std::size_t next = 0;
  flow::input_node<std::size_t> source(g, [&](tbb::flow_control& fc) -> std::size_t {
    if (next >= count) {
      fc.stop();
      return 0;
    }
    return next++;
  });
  // Tokens come back as int messages: a continue_msg decrementer would wait for a message from
  // every predecessor before counting one.
  flow::limiter_node<std::size_t, int> cases_in_flight(g, o.cases_in_flight);

  // Load: a case that cannot be read goes straight to Write with its error.
  using LoadOut = flow::multifunction_node<std::size_t, std::tuple<RunPtr, RunPtr>>;
  LoadOut load_node(g, flow::unlimited, [&](const std::size_t& i, LoadOut::output_ports_type& out) {
    auto run = std::make_shared<CaseRun>();
    run->index = i;
    run->start = StageClock::now();
    timed(kLoad, run, [&] {
      try {
        run->input = load(i);
      } catch (const InputError& e) {
        run->error = e.what();
      }
      if (run->error.empty() && o.oracle_box && !run->input.label)
        run->error = run->input.source + ": the oracle box needs the case's label";
    });
    if (run->failed) return;  // already on its way to Write
    if (run->error.empty()) std::get<0>(out).try_put(run);
    else std::get<1>(out).try_put(run);
  });

  // Resample: the input onto the networks' grid. A spacing c2f refuses fails the case alone.
  using ResampleOut = flow::multifunction_node<RunPtr, std::tuple<RunPtr, RunPtr>>;
  ResampleOut resample_node(g, flow::unlimited, [&](const RunPtr& run, ResampleOut::output_ports_type& out) {
    timed(kResample, run, [&] {
      try {
        const Image& image = *run->input.image;
        const Geometry grid = o.resample ? network_grid(image.geometry(), *o.resample, run->input.source) : image.geometry();
        run->resampled = grid.dims != image.dims();
        if (run->resampled) {
          run->network_image = std::make_shared<const Image>(resample(image, grid));
          if (o.oracle_box) run->network_label = std::make_shared<const Mask>(resample_mask(*run->input.label, grid));
        } else {
          run->network_image = run->input.image;
          run->network_label = run->input.label;
        }
      } catch (const InputError& e) {
        run->error = e.what();
      }
    });
    if (run->failed) return;  // already on its way to Write
    if (run->error.empty()) std::get<0>(out).try_put(run);
    else std::get<1>(out).try_put(run);
  });

  flow::function_node<RunPtr, RoundPtr> window(g, flow::unlimited, [&](const RunPtr& run) {
    auto round = std::make_shared<Round>();
    round->run = run;
    timed(kWindow, run, [&] {
      run->normalized = std::make_shared<const Volume<float>>(window_normalize(*run->network_image, o.window));
      if (o.oracle_box) {
        round->iteration = 1;
        round->scale = Scale::Fine;
        round->region = crop_region(bounding_box(*run->network_label), run->network_image->dims(), o.frame);
      } else {
        round->iteration = 0;
        round->scale = Scale::Coarse;
        round->region = {Box3::whole(run->network_image->dims()), false};
      }
    });
    return round;
  });

  // A round's map (on its region of the networks' grid) brought back to the input's grid before
  // the threshold: what the mask and every DSC are made of when the rounds ran on another grid.
  // Only what the region reaches is resampled (the map is zero outside it).
  auto on_input_grid = [&](const CaseRun& run, const ProbabilityMap& map, const Box3& region) {
    const ProbabilityMap full = paste_back(map, region, run.normalized->geometry(), 0.0f);
    return resample(full, run.input.image->geometry(), region);
  };

  // Whether a round's mask keeps only its large components (fine: the released code's; coarse: an option).
  auto post_processed = [&](Scale scale) { return scale == Scale::Fine ? o.fine_post_processing : o.coarse_post_processing; };

  // Dispatch: the slice tasks of a round's three views.
  using DispatchOut = flow::multifunction_node<RoundPtr, std::tuple<RoundPtr, SliceTask>>;
  DispatchOut dispatch(g, flow::unlimited, [&](const RoundPtr& round, DispatchOut::output_ports_type& out) {
    std::vector<SliceTask> tasks;
    timed(kDispatch, round->run, [&] {
      for (View v : kViews) {
        for (const SliceRange& r : plan_slice_batches(round->region.box, v, o.batch_slices))
          tasks.push_back({round, v, r});
      }
    });
    if (round->run->failed) return;
    std::get<0>(out).try_put(round);
    for (auto& t : tasks) std::get<1>(out).try_put(std::move(t));
  });

  flow::queue_node<SliceTask> slice_tasks(g);
  flow::limiter_node<SliceTask, int> batches_in_flight(g, o.batches_in_flight);

  flow::function_node<SliceTask, BatchPtr> slice(g, flow::unlimited, [&](const SliceTask& t) {
    auto work = std::make_shared<BatchWork>();
    work->round = t.round;
    work->batch.view = t.view;  // a failed case's batch still finds its view's average node
    timed(kSlice, t.round->run, [&] {
      work->batch = make_slice_batch(*t.round->run->normalized, t.view, t.round->region.box, t.range);
    });
    return work;
  });

  // The device: one forward pass at a time, all on the device's own thread. A pass that throws
  // fails its case; the batch still goes on, so that its token comes back.
  DeviceThread device;
  using InferNode = flow::async_node<BatchPtr, BatchPtr>;
  InferNode infer(g, flow::unlimited, [&](const BatchPtr& w, InferNode::gateway_type& gateway) {
    gateway.reserve_wait();
    device.submit([&, w, gw = &gateway] {
      timed(kInfer, w->round->run, [&] {
        w->prediction.range = w->batch.range;
        inference.predict(w->round->scale, w->batch, w->prediction.probabilities);
        w->batch.data = {};  // the slices are no longer needed
      });
      gw->try_put(w);
      gw->release_wait();
    });
  });

  using RouteOut = flow::multifunction_node<BatchPtr, std::tuple<BatchPtr, BatchPtr, BatchPtr>>;
  RouteOut route(g, flow::unlimited, [](const BatchPtr& w, RouteOut::output_ports_type& out) {
    switch (w->batch.view) {
      case View::Coronal: std::get<0>(out).try_put(w); break;
      case View::Sagittal: std::get<1>(out).try_put(w); break;
      case View::Axial: std::get<2>(out).try_put(w); break;
    }
  });

  // TriPlanarAverage, one serial node per view: it alone touches its view's accumulators.
  using AverageOut = flow::multifunction_node<BatchPtr, std::tuple<ViewDone, int>>;
  auto average_body = [&](const BatchPtr& w, AverageOut::output_ports_type& out) {
    const std::size_t v = view_index(w->batch.view);
    std::optional<ViewDone> done;
    timed(kAverage, w->round->run, [&] {
      auto& slot = w->round->views[v];  // this serial node alone touches its view's slot
      if (!slot) slot = std::make_unique<ViewAccumulator>(w->round->run->normalized->geometry(), w->round->region.box, w->batch.view);
      ViewAccumulator& acc = *slot;
      acc.add(w->prediction);
      if (acc.complete()) done = ViewDone{w->round->key(), std::make_shared<ProbabilityMap>(acc.finish())};
    });
    std::get<1>(out).try_put(1);  // a batch token back
    if (done) std::get<0>(out).try_put(std::move(*done));
  };
  AverageOut average_coronal(g, flow::serial, average_body);
  AverageOut average_sagittal(g, flow::serial, average_body);
  AverageOut average_axial(g, flow::serial, average_body);

  using Joined = std::tuple<RoundPtr, ViewDone, ViewDone, ViewDone>;
  flow::join_node<Joined, flow::key_matching<RoundKey, RoundKeyHashCompare>> join(
      g, [](const RoundPtr& r) { return r->key(); }, [](const ViewDone& d) { return d.key; },
      [](const ViewDone& d) { return d.key; }, [](const ViewDone& d) { return d.key; });

  flow::function_node<Joined, RoundPtr> fusion(g, flow::unlimited, [&](const Joined& j) {
    const RoundPtr& round = std::get<0>(j);
    timed(kFusion, round->run, [&] {
      const FusionOptions& rule = round->scale == Scale::Coarse ? o.coarse_fusion : o.fine_fusion;
      const std::array<const ProbabilityMap*, 3> maps{std::get<1>(j).map.get(), std::get<2>(j).map.get(),
                                                      std::get<3>(j).map.get()};
      round->fused = fuse_views(maps, rule);
      // Each coarse view's own result against the truth: the paper's Table 1.
      const CaseRun& run = *round->run;
      if (round->iteration == 0 && run.input.label && !run.resampled)
        for (std::size_t v = 0; v < 3; ++v)
          round->view_dsc[v] = dice(threshold(*maps[v], o.threshold), *run.input.label);
    });
    if (round->iteration == 0 && round->run->input.label && round->run->resampled)
      timed(kResampleBack, round->run, [&] {
        const CaseRun& run = *round->run;
        const std::array<const ProbabilityMap*, 3> maps{std::get<1>(j).map.get(), std::get<2>(j).map.get(),
                                                        std::get<3>(j).map.get()};
        for (std::size_t v = 0; v < 3; ++v)
          round->view_dsc[v] = dice(threshold(on_input_grid(run, *maps[v], round->region.box), o.threshold), *run.input.label);
      });
    return round;
  });

  flow::function_node<RoundPtr, RoundPtr> threshold_node(g, flow::unlimited, [&](const RoundPtr& round) {
    timed(kThreshold, round->run, [&] { round->region_mask = threshold(round->fused, o.threshold); });
    return round;
  });

  // PasteBack: S(t) on the full grid, 0 outside the region; the round's record.
  flow::function_node<RoundPtr, RoundPtr> paste(g, flow::unlimited, [&](const RoundPtr& round) {
    CaseRun& run = *round->run;
    const bool post = post_processed(round->scale);
    timed(kPasteBack, round->run, [&] {
      Mask s = paste_back(round->region_mask, round->region.box, run.normalized->geometry(), std::uint8_t{0});
      if (post) s = keep_large_components(s);
      RoundRecord rec;
      rec.iteration = round->iteration;
      rec.region = round->region.box;
      rec.fallback_region = round->region.fallback;
      rec.voxels = count_foreground(s);
      rec.box = bounding_box(s);
      rec.view_dsc = round->view_dsc;
      if (run.input.label && !run.resampled) {
        rec.dsc = dice(s, *run.input.label);
        rec.truth_in_box = share_inside(*run.input.label, rec.box);
      }
      if (o.keep_iterations && !run.resampled) run.round_masks.push_back(s);
      run.rounds.push_back(rec);
      round->region_mask = {};
      run.latest = std::move(s);
    });
    // With a label or kept iterations, S(t) on the input's grid, from the map before its threshold.
    if (run.resampled && (run.input.label || o.keep_iterations))
      timed(kResampleBack, round->run, [&] {
        Mask s = threshold(on_input_grid(run, round->fused, round->region.box), o.threshold);
        if (post) s = keep_large_components(s);
        if (run.input.label) {
          run.rounds.back().dsc = dice(s, *run.input.label);
          run.rounds.back().truth_in_box = share_inside(*run.input.label, bounding_box(s));
        }
        if (o.keep_iterations) run.round_masks.push_back(s);
        run.last_on_input = std::move(s);
      });
    run.last_fused = std::move(round->fused);
    run.last_region = round->region.box;
    return round;
  });

  // Convergence: d(t) = DSC(S(t-1), S(t)); stop when d(t) > stop_dsc or t = T.
  using ConvergenceOut = flow::multifunction_node<RoundPtr, std::tuple<RunPtr, RunPtr>>;
  ConvergenceOut convergence(g, flow::unlimited, [&](const RoundPtr& round, ConvergenceOut::output_ports_type& out) {
    const RunPtr& run = round->run;
    StopReason stop = StopReason::NotYet;
    timed(kConvergence, run, [&] {
      Mask& s = run->latest;
      if (round->iteration == 0) {
        stop = o.convergence.max_iterations == 0 ? StopReason::MaxIterations : StopReason::NotYet;
      } else if (o.oracle_box) {
        stop = StopReason::MaxIterations;
      } else {
        const double d = dice(run->current, s);
        run->rounds.back().d_t = d;
        stop = Convergence{o.convergence}(round->iteration, d);
      }
      run->current = std::move(s);
    });
    if (run->failed) return;
    run->stop = stop;
    if (stop == StopReason::NotYet) std::get<0>(out).try_put(run);
    else std::get<1>(out).try_put(run);
  });

  flow::function_node<RunPtr, BoxFound> bounding_box_node(g, flow::unlimited, [&](const RunPtr& run) {
    BoxFound found{run, {}};
    timed(kBoundingBox, run, [&] { found.box = bounding_box(run->current); });
    return found;
  });

  flow::function_node<BoxFound, RoundPtr> crop(g, flow::unlimited, [&](const BoxFound& f) {
    auto round = std::make_shared<Round>();
    round->run = f.run;
    timed(kCrop, f.run, [&] {
      round->iteration = f.run->rounds.back().iteration + 1;
      round->scale = Scale::Fine;
      round->region = crop_region(f.box, f.run->normalized->geometry().dims, o.frame);
    });
    return round;
  });

  // ResampleBack: the final mask (and map) on the input's grid; without resampling, S(T) itself.
  using ResampleBackOut = flow::multifunction_node<RunPtr, std::tuple<RunPtr>>;
  ResampleBackOut resample_back(g, flow::unlimited, [&](const RunPtr& run, ResampleBackOut::output_ports_type& out) {
    if (!run->resampled) {
      if (o.keep_probability)
        run->final_probability = paste_back(run->last_fused, run->last_region, run->normalized->geometry(), 0.0f);
      run->final_mask = std::move(run->current);
      std::get<0>(out).try_put(run);
      return;
    }
    timed(kResampleBack, run, [&] {
      ProbabilityMap p = on_input_grid(*run, run->last_fused, run->last_region);
      if (run->last_on_input.empty()) {
        run->final_mask = threshold(p, o.threshold);
        if (post_processed(run->rounds.back().iteration > 0 ? Scale::Fine : Scale::Coarse))
          run->final_mask = keep_large_components(run->final_mask);
      } else {
        run->final_mask = std::move(run->last_on_input);
      }
      if (o.keep_probability) run->final_probability = std::move(p);
    });
    if (!run->failed) std::get<0>(out).try_put(run);
  });

  std::size_t failed = 0;
  flow::function_node<RunPtr, int> write(g, flow::serial, [&](const RunPtr& run) {
    CaseResult r;
    r.index = run->index;
    r.error = run->error;
    if (r.error.empty()) {
      r.rounds = std::move(run->rounds);
      r.coarse_empty = !o.oracle_box && r.rounds.front().voxels == 0;
      r.stop = run->stop;
      if (o.keep_iterations) r.round_masks = std::move(run->round_masks);
      r.probability = std::move(run->final_probability);
      r.mask = std::move(run->final_mask);
      r.network_grid = run->normalized->geometry();
      run->normalized.reset();
      run->network_image.reset();
      run->network_label.reset();
      r.input = std::move(run->input);
    } else {
      // Messages of a case that failed in a stage may still be in flight: they keep its state
      // (the last of them frees it); the result takes a copy of the input's handles.
      ++failed;
      r.input = run->input;
    }
    r.seconds = seconds_since(run->start);  // up to the write, which the sink itself does
    {
      std::lock_guard lock(run->time_lock);
      r.stage_seconds = run->stage_seconds;
    }
    const auto t0 = StageClock::now();
    sink(std::move(r));
    clocks[kWrite].add(t0);
    return 1;  // a case token back
  });

  flow::make_edge(source, cases_in_flight);
  flow::make_edge(cases_in_flight, load_node);
  flow::make_edge(flow::output_port<0>(load_node), resample_node);
  flow::make_edge(flow::output_port<1>(load_node), write);
  flow::make_edge(flow::output_port<0>(resample_node), window);
  flow::make_edge(flow::output_port<1>(resample_node), write);
  flow::make_edge(window, dispatch);
  flow::make_edge(flow::output_port<0>(dispatch), flow::input_port<0>(join));
  flow::make_edge(flow::output_port<1>(dispatch), slice_tasks);
  flow::make_edge(slice_tasks, batches_in_flight);
  flow::make_edge(batches_in_flight, slice);
  flow::make_edge(slice, infer);
  flow::make_edge(infer, route);
  flow::make_edge(flow::output_port<0>(route), average_coronal);
  flow::make_edge(flow::output_port<1>(route), average_sagittal);
  flow::make_edge(flow::output_port<2>(route), average_axial);
  flow::make_edge(flow::output_port<0>(average_coronal), flow::input_port<1>(join));
  flow::make_edge(flow::output_port<0>(average_sagittal), flow::input_port<2>(join));
  flow::make_edge(flow::output_port<0>(average_axial), flow::input_port<3>(join));
  flow::make_edge(flow::output_port<1>(average_coronal), batches_in_flight.decrementer());
  flow::make_edge(flow::output_port<1>(average_sagittal), batches_in_flight.decrementer());
  flow::make_edge(flow::output_port<1>(average_axial), batches_in_flight.decrementer());
  flow::make_edge(join, fusion);
  flow::make_edge(fusion, threshold_node);
  flow::make_edge(threshold_node, paste);
  flow::make_edge(paste, convergence);
  flow::make_edge(flow::output_port<0>(convergence), bounding_box_node);
  flow::make_edge(bounding_box_node, crop);
  flow::make_edge(crop, dispatch);  // the fine loop
  flow::make_edge(flow::output_port<1>(convergence), resample_back);
  flow::make_edge(flow::output_port<0>(resample_back), write);
  flow::make_edge(failed_cases, write);
  flow::make_edge(write, cases_in_flight.decrementer());

  source.activate();
  g.wait_for_all();

  SegmentationReport report;
  report.seconds = seconds_since(t_start);
  report.cases = count;
  report.failed = failed;
  for (int s = 0; s < kStageCount; ++s) report.stages.push_back(clocks[s].report(kStageNames[s]));
  return report;
}

}  // namespace c2f
