#include "training_graph.hpp"

#include <tbb/flow_graph.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "../model/checkpoint.hpp"
#include "../model/data_parallel.hpp"
#include "../model/model_registry.hpp"
#include "../model/runtime.hpp"
#include "../model/train_step.hpp"
#include "../model/vgg_weights.hpp"  // the registry's loaders return its report
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;
namespace flow = tbb::flow;

void TrainingOptions::validate() const {
  check_model_name(model, "coarse-to-fine");
  const ModelEntry& entry = model_entry(model);
  if (iterations < 1) throw OptionError("iterations must be at least 1");
  if (batch < 0) throw OptionError("the batch must be at least 1 image");
  if (checkpoint_every < 1 || log_every < 1) throw OptionError("checkpoint and log intervals must be at least 1");
  if (prefetch < 1) throw OptionError("prefetch must be at least 1");
  if (checkpoint.empty()) throw OptionError("a checkpoint path is required");
  if (!vgg_weights.empty() && !entry.load_vgg_weights) {
    std::vector<std::string_view> taking;
    for (const ModelEntry& e : model_registry())
      if (e.load_vgg_weights) taking.push_back(e.name);
    throw OptionError(fmt::format("VGG-16 weights apply to {} only", fmt::join(taking, ", ")));
  }
  if (learning_rate && !(*learning_rate > 0)) throw OptionError("learning rate must be positive");
  window.validate();
  randomization.validate();
  coarse.validate();
  fine.validate();
  if (resolved_precision() == "fp16")
    throw OptionError("fp16 training needs loss scaling, which c2f's training does not do: use bf16 (CUDA) or fp32");
}

std::string TrainingOptions::resolved_precision() const { return resolve_precision(device, precision); }

Optimizer TrainingOptions::resolved_optimizer() const { return optimizer.value_or(model_entry(model).optimizer); }

double TrainingOptions::resolved_learning_rate() const {
  return learning_rate.value_or(model_entry(model).learning_rate);
}

namespace {
using Clock = StageClock;

// One step's samples, this rank's share of the batch.
struct StepRequest {
  std::int64_t step = 0;
  std::vector<SampleRequest> samples;
};
struct StepSamples {
  std::int64_t step = 0;
  std::vector<TrainingSample> samples;
};
using StepPtr = std::shared_ptr<const StepSamples>;

double since(Clock::time_point t0) { return seconds_since(t0); }
}  // namespace

TrainingReport train_network(std::shared_ptr<const std::vector<PreparedCase>> cases, const TrainingOptions& o,
                             const TrainingProgress& progress) {
  TrainingCohort cohort;
  for (const auto& c : *cases) cohort.cases.push_back(summarize_case(c, o.coarse));
  cohort.cache = std::make_shared<CaseCache>(std::max<std::size_t>(1, cases->size()),
                                             [cases](std::size_t i) { return cases->at(i); });
  return train_network(cohort, o, progress);
}

TrainingReport train_network(const TrainingCohort& cohort, const TrainingOptions& o, const TrainingProgress& progress) {
  o.validate();
  const SamplePlan plan(cohort.cases, o.view, o.scale, o.seed, cohort.cache->capacity(), o.fine.slice_margin);

  DataParallel* const dp = o.data_parallel.get();
  const int rank = dp ? dp->rank() : 0, ranks = dp ? dp->world_size() : 1;
  const bool writer = rank == 0;  // checkpoints, the log and the evaluation

  CheckpointInfo info;
  info.model = o.model;
  info.view = view_name(o.view);
  info.scale = scale_name(o.scale);
  info.window = o.window;
  info.spacing_mm = o.spacing_mm;
  info.hyper = {{"optimizer", optimizer_name(o.resolved_optimizer())}, {"learning_rate", o.resolved_learning_rate()},
                {"seed", o.seed},                      {"batch", 1},
                {"iterations", o.iterations},          {"min_pancreas_share", o.coarse.min_pancreas_share},
                {"negative_share", o.coarse.negative_share},
                {"domain_randomization", domain_randomization_parts(o.randomization)},
                {"fine_frame_px", {o.fine.min_frame_px, o.fine.max_frame_px}},
                {"fine_slice_margin", o.fine.slice_margin}};

  if (writer) remove_stale_temporaries(o.checkpoint);  // left by a run that was killed while writing
  SegmentationModel model;
  std::int64_t start = 0, batch = o.batch;
  if (o.resume && fs::exists(o.checkpoint)) {
    LoadedCheckpoint c = load_checkpoint(o.checkpoint, {o.model, info.view, info.scale});
    model = c.model;
    start = c.info.iteration;
    if (batch == 0 && c.info.hyper.contains("batch") && c.info.hyper["batch"].is_number_integer())
      batch = std::max<std::int64_t>(1, c.info.hyper["batch"].get<std::int64_t>());
  } else {
    torch::manual_seed(o.seed);
    const ModelEntry& entry = model_entry(o.model);
    model = entry.make();
    if (!o.vgg_weights.empty()) entry.load_vgg_weights(*model, o.vgg_weights);
  }
  if (batch == 0) batch = ranks;
  info.hyper["batch"] = batch;
  if (ranks > 1) info.hyper["ranks"] = ranks;
  if (dp) {
    // Every rank must resume from the same step with the same batch: a checkpoint only rank 0 can
    // see (no shared file system) would otherwise train ranks on different weights.
    const auto high = dp->max({double(start), -double(start), double(batch), -double(batch)});
    if (high[0] != -high[1] || high[2] != -high[3])
      throw InputError(o.checkpoint.string(),
                       fmt::format("rank {} resumes at step {} with a batch of {}, another rank at step {} or {} with a "
                                   "batch of {} or {}: every rank must see the same checkpoint (a shared file system)",
                                   rank, start, batch, high[0], -high[1], high[2], -high[3]));
  }
  // The optimiser is made over the parameters where they train; its restored state follows them.
  const torch::Device device(check_device_name(o.device));
  const std::string precision = o.resolved_precision();
  const c10::ScalarType autocast = precision == "bf16" ? torch::kBFloat16 : torch::kFloat;
  if (precision != "fp32") info.hyper["precision"] = precision;
  if (!device.is_cpu()) model->to(device);
  auto optimizer = make_optimizer(*model, o.resolved_optimizer(), o.resolved_learning_rate());
  if (start > 0) {
    load_optimizer_state(o.checkpoint, *optimizer);
    if (!device.is_cpu()) move_optimizer_state(*optimizer, device);
  }
  if (dp) {
    dp->broadcast_parameters(*model);  // rank 0's weights, whatever each rank made or read
    // Dropout masks differ between ranks, as between the images of one batch.
    if (ranks > 1) torch::manual_seed(o.seed + 1000003ULL * std::uint64_t(rank) + std::uint64_t(start));
  }

  std::FILE* log = nullptr;
  if (writer && !o.log_csv.empty()) {
    const bool fresh = start == 0 || !fs::exists(o.log_csv);
    log = std::fopen(o.log_csv.c_str(), fresh ? "w" : "a");
    if (!log) throw OutputError(o.log_csv.string(), "cannot open the training log");
    if (fresh) std::fprintf(log, "iteration,loss,samples_per_second,seconds\n");
  }

  TrainingReport report;
  report.first_iteration = start;
  const auto t0 = Clock::now();
  BusyClock make_clock, train_clock, allreduce_clock;
  double window_loss = 0;
  std::int64_t window_count = 0;
  std::int64_t next = start;

  flow::graph g;
  flow::input_node<StepRequest> source(g, [&](tbb::flow_control& fc) -> StepRequest {
    if (next >= o.iterations) {
      fc.stop();
      return {};
    }
    StepRequest r{next, {}};
    for (std::int64_t j = rank; j < batch; j += ranks) r.samples.push_back(plan.at(next * batch + j));
    ++next;
    return r;
  });
  flow::limiter_node<StepRequest> prefetch(g, o.prefetch);
  // Fine samples are already a random crop (the box plus a drawn frame): no second crop there.
  DomainRandomization randomization = o.randomization;
  if (o.scale == Scale::Fine) randomization.crop = false;
  const TrainingSampleMaker maker{cohort.cache, o.scale, o.fine, {randomization, o.window}};
  flow::function_node<StepRequest, StepPtr> make_sample(g, flow::unlimited, [&](const StepRequest& r) {
    const auto t = Clock::now();
    auto s = std::make_shared<StepSamples>();
    s->step = r.step;
    for (const auto& request : r.samples) s->samples.push_back(maker(request));
    make_clock.add(t);
    return StepPtr(std::move(s));
  });
  flow::sequencer_node<StepPtr> in_order(g, [start](const StepPtr& s) { return std::size_t(s->step - start); });
  const double weight = 1.0 / double(batch);  // a batch's loss is the mean of its images'
  flow::function_node<StepPtr, flow::continue_msg> train(g, flow::serial, [&](const StepPtr& s) {
    const auto t = Clock::now();
    optimizer->zero_grad();
    double loss_sum = 0;
    for (const auto& x : s->samples)
      loss_sum += accumulate_gradient(*model, {x.image.data(), x.label.data(), x.height, x.width}, weight, device, autocast);
    if (dp) {
      const auto ta = Clock::now();
      loss_sum = dp->sum_gradients(*model, {loss_sum})[0];
      allreduce_clock.add(ta);
    }
    optimizer->step();
    window_loss += loss_sum / double(batch);
    ++window_count;
    const std::int64_t done = s->step + 1;
    if (done % o.log_every == 0 || done == o.iterations) {
      const double mean = window_loss / double(window_count);
      const double rate = double((done - start) * batch) / since(t0);
      if (log) {
        std::fprintf(log, "%lld,%.6f,%.3f,%.3f\n", static_cast<long long>(done), mean, rate, since(t0));
        std::fflush(log);
      }
      if (progress && writer) progress(done, o.iterations, mean, rate);
      report.last_loss = mean;
      window_loss = 0;
      window_count = 0;
    }
    if (writer && (done % o.checkpoint_every == 0 || done == o.iterations)) {
      info.iteration = done;
      save_checkpoint(o.checkpoint, *model, info, optimizer.get());
    }
    train_clock.add(t);
    return flow::continue_msg();
  });

  flow::make_edge(source, prefetch);
  flow::make_edge(prefetch, make_sample);
  flow::make_edge(make_sample, in_order);
  flow::make_edge(in_order, train);
  flow::make_edge(train, prefetch.decrementer());
  source.activate();
  try {
    g.wait_for_all();
  } catch (...) {
    if (log) std::fclose(log);
    throw;
  }
  if (log) std::fclose(log);
  // Every rank returns once rank 0's last checkpoint is written.
  if (dp) dp->barrier();

  if (o.evaluate && writer) {
    // Every (case, slice) pair of the plan once, with the crop of its first epoch.
    const TrainingSampleMaker clean{cohort.cache, o.scale, o.fine};
    double sum = 0;
    for (std::size_t i = 0; i < plan.size(); ++i) {
      const TrainingSample s = clean(plan.at(std::int64_t(i)));  // measured on the samples as they are
      sum += predict_dsc(*model, {s.image.data(), s.label.data(), s.height, s.width}, device);
    }
    report.train_dsc = sum / double(plan.size());
  }
  report.end_iteration = o.iterations;
  report.batch = batch;
  report.seconds = since(t0);
  report.samples_per_second = double((o.iterations - start) * batch) / std::max(1e-9, report.seconds);
  report.stages = {make_clock.report("make sample"), train_clock.report("train step")};
  if (dp) {
    report.stages.push_back(allreduce_clock.report("allreduce"));
    report.allreduce_bytes = dp->last_allreduce_bytes();
  }
  return report;
}

}  // namespace c2f
