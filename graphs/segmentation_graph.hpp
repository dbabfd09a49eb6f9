#pragma once
// The coarse-to-fine inference graph (paper Figure 2; METHOD.md), a oneTBB flow graph:
//
//   source(case i) -> cases-in-flight limiter -> Load -> Resample -> WindowNormalize -> Dispatch
//   Dispatch (a round: coarse, or fine iteration t) -> join port 0
//            \-> slice tasks -> queue -> batches-in-flight limiter -> TriPlanarSlicing [parallel]
//                -> ViewInference [serial: one device] -> route by view
//                -> TriPlanarAverage coronal | sagittal | axial [serial each] -> join ports 1-3
//   join by (case, iteration) -> ViewFusion -> Threshold -> PasteBack -> Convergence
//   Convergence -> go round again: BoundingBox3D -> CropWithFrame -> Dispatch   (the fine loop)
//               -> done: ResampleBack -> Write (the caller's sink) -> cases-in-flight limiter
//
// Resample puts the input on the grid the networks were trained at (options.resample); every
// round runs there. ResampleBack brings the last fused probability map onto the input's own grid
// before the threshold, so the mask lies voxel for voxel on the input; with a label, each round's
// map is brought back the same way and every DSC is measured on the input's grid.
//
// Several cases are in flight at once (a token count bounds them, and so memory): while one case
// is on the model, the next is read and sliced and the previous one written. The slicing tasks are
// bounded by their own tokens, so a 512-slice view is never materialised at once.
// Each node's busy time is measured, per graph and per case.
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "c2f/graphs/stage_time.hpp"
#include "c2f/pipeline/case.hpp"
#include "c2f/stages/convergence.hpp"
#include "c2f/stages/resample.hpp"
#include "c2f/stages/view_fusion.hpp"
#include "c2f/stages/view_inference.hpp"
#include "c2f/stages/window.hpp"

namespace c2f {

struct SegmentationOptions {
  ConvergenceOptions convergence;  // d(t) > 0.95 or T = 10
  int frame = 15;                  // CropWithFrame margin, voxels (released code: 20)
  float threshold = 0.5f;
  WindowOptions window;            // must be the window the networks were trained with
  // The grid the networks were trained at; none: the networks run on each input's own grid.
  std::optional<ResampleOptions> resample;
  FusionOptions coarse_fusion;     // mean (paper) | majority (released code) | weighted
  FusionOptions fine_fusion;
  bool fine_post_processing = false; // keep components >= half the largest (the released code's)
  // The same on the coarse mask S(0), before its bounding box (not in the paper): stray coarse
  // detections far from the pancreas then no longer stretch the box the fine stage looks at.
  bool coarse_post_processing = false;
  std::int64_t batch_slices = 8;   // 3-slice images per forward pass
  std::size_t cases_in_flight = 2;
  std::size_t batches_in_flight = 4;
  bool keep_iterations = false;    // keep S(t) of every round in the result (evaluation)
  bool keep_probability = false;   // keep the last round's fused map, on the full grid
  // The paper's oracle row: no coarse stage; one fine round on the ground truth's box plus the
  // frame (max_iterations is then 1). Needs every case's label.
  bool oracle_box = false;

  void validate() const;  // throws OptionError
};

// One round of the method: the coarse stage (t = 0) or fine iteration t (the oracle round: t = 1).
// Region and box are on the grid the networks ran on (CaseResult::network_grid); DSCs are measured
// on the input's grid.
struct RoundRecord {
  int iteration = 0;
  Box3 region;                 // where the networks looked (whole volume for the coarse stage)
  bool fallback_region = false;// S(t-1) was empty: the region is the whole volume
  std::int64_t voxels = 0;     // |S(t)|
  Box3 box;                    // bounding box of S(t); empty when S(t) is
  double d_t = -1;             // DSC(S(t-1), S(t)); -1 for the coarse round
  double dsc = -1;             // DSC(S(t), ground truth); -1 without a label
  double truth_in_box = -1;    // share of the truth inside S(t)'s bounding box (input grid); -1 without a label
  std::array<double, 3> view_dsc{-1, -1, -1};  // each view's own map >= threshold vs truth (kViews order)
};

struct CaseResult {
  std::size_t index = 0;
  Case input;                          // image and label on the canonical grid
  std::string error;                   // non-empty: the case failed (then nothing else is set)
  Mask mask;                           // the final S, on the input's (canonical) grid
  Geometry network_grid;               // where the rounds ran (the input's grid without resampling)
  std::vector<RoundRecord> rounds;     // rounds[0] is the coarse stage (the oracle round with oracle_box)
  std::vector<Mask> round_masks;       // S(t) per round on the input's grid, when keep_iterations
  std::optional<ProbabilityMap> probability;  // last fused map on the input's grid, when keep_probability
  bool coarse_empty = false;
  StopReason stop = StopReason::NotYet;
  double seconds = 0;                  // from load start to the sink
  std::map<std::string, double> stage_seconds;

  int iterations() const { return rounds.empty() ? 0 : int(rounds.size()) - 1; }
};

struct SegmentationReport {
  double seconds = 0;
  std::size_t cases = 0, failed = 0;
  std::vector<StageTime> stages;  // graph order
};

// Reads case i (0 <= i < count). Throws InputError for bad input: that case fails, others go on.
using CaseLoader = std::function<Case(std::size_t index)>;
// Receives each finished case, one at a time (from the graph's serial Write node).
using ResultSink = std::function<void(CaseResult&& result)>;

// Runs the cohort through the coarse-to-fine graph. A case that cannot be read, or whose stage
// throws (the network included), fails alone: its result carries one error naming the case and
// the stage, and the other cases finish. Throws only for invalid options or a throwing sink.
SegmentationReport segment_cases(std::size_t count, const CaseLoader& load, ViewInference& inference,
                                 const SegmentationOptions& options, const ResultSink& sink);

}  // namespace c2f
