#pragma once
// The training graph: one network (model, scale, view) trained on prepared cases.
//
//   source(step t) -> limiter(prefetch) -> make samples [unlimited] -> sequencer(t)
//        -> train step [serial] -> (decrement limiter)
//
// Step t trains on the batch of samples t*B .. t*B+B-1 of the sample plan (B = `batch`, 1 in the
// paper). Sample making runs on oneTBB's workers up to `prefetch` steps ahead while the serial
// trainer computes; the sequencer hands batches to the trainer in step order, so the result does
// not depend on prefetching or thread timing. Each node's busy time is reported.
//
// Data parallel (`data_parallel` set, model/data_parallel.hpp): rank r of W makes and trains on
// the samples j of each batch with j % W == r, and the ranks sum their gradients before each step.
// Every rank reads the weights and solver state of a resumed checkpoint; only rank 0 writes
// checkpoints and the log. The samples, the batch and so the result are those of one process
// training with the same batch (up to float rounding), whatever the number of ranks.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../model/model_registry.hpp"
#include "../pipeline/stage_time.hpp"
#include "../training/case_cache.hpp"
#include "../training/training_sample.hpp"

namespace c2f {

class DataParallel;

struct TrainingOptions {
  std::string model = "light-unet";  // a name in the model registry
  Scale scale = Scale::Coarse;
  View view = View::Axial;
  std::int64_t iterations = 1000;  // optimiser steps; paper: 80,000 coarse, 50,000 fine (fcn8s-vgg16)
  // Images per step, over all ranks; 0: a resumed checkpoint's, else one per rank (the paper's
  // batch of one in one process).
  std::int64_t batch = 0;
  // None: the model's default, from its registry entry (fcn8s-vgg16: sgd at 1e-5, light-unet: adam
  // at 1e-3).
  std::optional<Optimizer> optimizer;
  std::optional<double> learning_rate;
  std::uint64_t seed = 1;
  std::int64_t checkpoint_every = 200;
  std::int64_t log_every = 25;
  std::size_t prefetch = 8;        // samples made ahead of the trainer; 1 = no overlap
  WindowOptions window;
  // The grid the cases were resampled to (recorded in the checkpoints, so that inference brings
  // every input there); none: the cases' own grids.
  std::optional<Vec3> spacing_mm;
  CoarseSampleOptions coarse;
  FineSampleOptions fine;
  // Each training sample's appearance and shape drawn anew (none: the paper's training).
  DomainRandomization randomization = DomainRandomization::none();
  std::filesystem::path checkpoint;  // written every checkpoint_every iterations and at the end
  std::filesystem::path log_csv;     // iteration, mean loss, samples/s (appended)
  bool resume = false;               // continue from `checkpoint` if it exists
  std::filesystem::path vgg_weights; // fcn8s-vgg16: ImageNet VGG-16 weights for a fresh start
  bool evaluate = false;             // after training, measure the DSC on every training sample
  // Where the network trains ("cpu", "cuda", "cuda:N") and at what precision ("auto": bf16
  // autocast on CUDA, fp32 on the CPU; "fp32"; "bf16": CUDA only), spelled as for inference
  // (model/runtime.hpp). fp16 is refused: it needs loss scaling, which training does not do.
  // Checkpoints are read onto the CPU whatever device wrote them.
  std::string device = "cpu";
  std::string precision = "auto";
  std::shared_ptr<DataParallel> data_parallel;  // none: this process trains alone

  void validate() const;  // throws OptionError
  Optimizer resolved_optimizer() const;
  std::string resolved_precision() const;  // "fp32" or "bf16"
  double resolved_learning_rate() const;
};

struct TrainingReport {
  std::int64_t first_iteration = 0, end_iteration = 0;
  std::int64_t batch = 1;  // images per step over all ranks
  double seconds = 0;
  double samples_per_second = 0;  // images of all ranks
  double last_loss = 0;  // mean loss of the last logging window
  double train_dsc = -1; // mean DSC (prediction >= 0.5) over every training sample, when evaluated
  std::vector<StageTime> stages;  // data parallel: "allreduce" too, this rank's time in it
  std::int64_t allreduce_bytes = 0;  // per step, data parallel only
};

// Called from the trainer node after every logged iteration.
using TrainingProgress = std::function<void(std::int64_t iteration, std::int64_t total, double loss, double samples_per_s)>;

// The cases a network trains on: what the sample plan needs of each, and the cache the
// sample-making nodes read them through (its capacity bounds the cases held in memory).
struct TrainingCohort {
  std::vector<CaseSummary> cases;
  std::shared_ptr<CaseCache> cache;
};

TrainingReport train_network(const TrainingCohort& cohort, const TrainingOptions& options,
                             const TrainingProgress& progress = {});

// Cases already in memory (tests, small cohorts): a cache that holds them all.
TrainingReport train_network(std::shared_ptr<const std::vector<PreparedCase>> cases, const TrainingOptions& options,
                             const TrainingProgress& progress = {});

}  // namespace c2f
