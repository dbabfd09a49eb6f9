#pragma once
// The coarse-to-fine inference graph (paper Figure 2; METHOD.md), a oneTBB flow graph:
//
//   source(case i) -> cases-in-flight limiter -> Load -> Resample -> WindowNormalize -> rounds
//   rounds (the coarse round, or fine iteration t) -> TriPlanarInference -> join by (case, t)
//          \-----------------------------------------------------------> join by (case, t)
//   join -> ViewFusion -> Threshold -> PasteBack -> Convergence
//   Convergence -> refine:    BoundingBox3D -> CropWithFrame -> rounds   (the fine loop)
//               -> converged: ResampleBack -> Write (the caller's sink) -> cases-in-flight limiter
//   any stage that throws -> failures -> Write
//
// TriPlanarInference (tri_planar_inference.hpp) slices the three views, runs the networks on one
// device thread and averages each view's predictions. Resample puts the input on the grid the
// networks were trained at (options.resample); every round runs there. ResampleBack brings the
// last fused probability map onto the input's own grid before the threshold, so the mask lies
// voxel for voxel on the input; with a label, each round's map is brought back the same way and
// every DSC is measured on the input's grid.
//
// Several cases are in flight at once (a token count bounds them, and so memory): while one case
// is on the model, the next is read and sliced and the previous one written. Each node's busy time
// is measured, per graph and per case.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"
#include "../pipeline/stage_time.hpp"
#include "../stages/convergence.hpp"
#include "../stages/resample.hpp"
#include "../stages/view_fusion.hpp"
#include "../stages/view_inference.hpp"
#include "../stages/window.hpp"
#include "messages.hpp"

namespace c2f {

struct SegmentationOptions {
  ConvergenceOptions convergence;  // d(t) > 0.95 or T = 10
  int frame_px = 15;               // CropWithFrame margin, voxels (released code: 20)
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
  // Blank 3-slice images (all 0 after windowing: air) get the network's known map of a blank
  // image instead of a pass (stages/blank_slices.hpp); the masks are the same.
  bool skip_blank_slices = true;
  std::size_t cases_in_flight = 2;
  std::size_t batches_in_flight = 4;
  bool keep_iterations = false;    // keep S(t) of every round in the result (evaluation)
  bool keep_probability = false;   // keep the last round's fused map, on the full grid
  // The paper's oracle row: no coarse stage; one fine round on the ground truth's box plus the
  // frame (max_iterations is then 1). Needs every case's label.
  bool oracle_box = false;

  void validate() const;  // throws OptionError
};

struct CaseResult {
  std::size_t index = 0;
  Case input;                          // image and label on the canonical grid
  std::string error;                   // non-empty: the case failed (then nothing else is set)
  Mask mask;                           // the final S, on the input's (canonical) grid
  Geometry network_grid;               // where the rounds ran (the input's grid without resampling)
  std::vector<RoundRecord> rounds;     // rounds[0] is the coarse stage (the oracle round with oracle_box)
  std::vector<std::shared_ptr<const Mask>> round_masks;  // S(t) per round on the input's grid, when keep_iterations
  std::optional<ProbabilityMap> probability;  // last fused map on the input's grid, when keep_probability
  bool coarse_empty = false;
  StopReason stop = StopReason::NotYet;
  double seconds = 0;                  // from load start to the sink
  std::map<std::string, double> stage_seconds;
  std::string method = "coarse-to-fine";  // or "deeporgan" (deeporgan_graph.hpp)
  // Figures a method adds to the report (DeepOrgan: the DSC of each map, the candidates'
  // sensitivity, the superpixel upper bound), by name.
  std::map<std::string, double> measures;

  int iterations() const { return rounds.empty() ? 0 : int(rounds.size()) - 1; }
};

struct SegmentationReport {
  double seconds = 0;
  std::size_t cases = 0, failed = 0;
  std::int64_t images = 0, blank_images_skipped = 0;  // 3-slice images of all rounds, and those not run
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
