#pragma once
// DeepOrgan (Roth et al. 2015), the second wiring of c2f's parts, as a oneTBB flow graph:
//
//   source(case i) -> cases-in-flight limiter -> Load -> Resample -> WindowNormalize
//   -> AxialSuperpixels -> CandidateRegions (random-forest cascade: S_RF)
//   -> PatchSampling (every n voxels of S_RF, 2.5-D patches, in chunks) -> P-ConvNet
//   -> NearestFill: P0
//   -> RegionBoxes (each candidate superpixel at Ns zoom-out scales, 64 x 64; CT + P0, in chunks)
//   -> R2-ConvNet (and R1-ConvNet on CT alone, when asked) -> average over scales
//   -> SuperpixelProbability: P2 (P1) -> GaussianSmoothing: G(P0), G(P2) (G(P1))
//   -> Threshold (p0 = 0.2, p1 = 0.5, p2 = 0.6) -> ResampleBack -> Write (the caller's sink)
//   any stage that throws -> failures -> Write
//
// The ConvNet nodes are serial (one model per device); the others run cases side by side. A
// case's chunks meet again in a collector keyed by case (no arrival-order pairing). Results use
// the coarse-to-fine graph's CaseResult, so c2f-segment writes the same outputs: rounds[0] is
// the candidate stage S_RF (its "coarse" DSC), rounds[1] the final mask; measures add the DSC of
// every map and the candidates' sensitivity when there is a label. An empty candidate set is a
// result (empty mask, coarse_empty), not an error.
#include <cstdint>
#include <memory>
#include <optional>

#include <nlohmann/json.hpp>

#include "../stages/candidate_regions.hpp"
#include "../stages/deeporgan_inference.hpp"
#include "../stages/patch_sampling.hpp"
#include "../stages/probability_maps.hpp"
#include "../stages/region_boxes.hpp"
#include "../stages/resample.hpp"
#include "../stages/superpixels.hpp"
#include "../stages/window.hpp"
#include "segmentation_graph.hpp"

namespace c2f {

// Which map makes the final mask: the paper's best G(P2), the cheaper G(P0), or G(P1).
enum class DeepOrganOutput { P0, P1, P2 };
const char* deeporgan_output_name(DeepOrganOutput o);  // "p0", "p1", "p2"
DeepOrganOutput parse_deeporgan_output(std::string_view name);

struct DeepOrganOptions {
  WindowOptions window;
  std::optional<ResampleOptions> resample;  // the grid the set was trained at
  SuperpixelOptions superpixels;
  PatchSamplingOptions patches;             // n = 3, 32 x 32 planes
  RegionOptions regions;                    // Ns = 4, 64 x 64
  GaussianOptions smoothing;                // sigma = 3 voxels
  float p0 = 0.2f, p1 = 0.5f, p2 = 0.6f;    // the paper's thresholds on G(P0), G(P1), G(P2)
  DeepOrganOutput output = DeepOrganOutput::P2;
  bool run_r1 = false;                      // also P1 (R1-ConvNet): the paper's Table 1 row
  std::int64_t chunk = 512;                 // images per ConvNet call
  std::size_t cases_in_flight = 2;
  bool keep_probability = false;            // keep the final smoothed map on the input's grid
  void validate() const;                    // throws OptionError

  // The settings training stores in P-ConvNet's checkpoint ("hyper"), and back; reading keeps
  // this object's values where the JSON has none.
  nlohmann::json settings_json() const;
  void read_settings(const nlohmann::json& j);
};

// Runs the cohort through DeepOrgan's graph. As segment_cases: a case that cannot be read or
// whose stage throws fails alone; throws only for invalid options or a throwing sink.
SegmentationReport segment_deeporgan(std::size_t count, const CaseLoader& load, const CandidateCascade& cascade,
                                     DeepOrganInference& networks, const DeepOrganOptions& options, const ResultSink& sink);

}  // namespace c2f
