#pragma once
// ViewFusion: one probability map from the three views' maps (coronal, sagittal, axial).
//   in:  three ProbabilityMaps on one grid          out: ProbabilityMap on that grid
//   rules: mean      P = (P_C + P_S + P_A) / 3  (the paper, coarse and fine; METHOD.md)
//          weighted  P = sum w_v P_v / sum w_v  (weights given per view)
//          majority  P = (number of views with P_v >= 0.5) / 3: thresholded at 0.5 this is the
//                    released code's "2 of 3" coarse fusion
//   notes: memory-bound, one pass.
#include <array>
#include <string>

#include "../pipeline/volume.hpp"

namespace c2f {

enum class FusionRule { Mean, Weighted, Majority };
const char* fusion_rule_name(FusionRule r);
FusionRule parse_fusion_rule(std::string_view name);  // "mean" | "weighted" | "majority"

struct FusionOptions {
  FusionRule rule = FusionRule::Mean;
  std::array<float, 3> weights{1, 1, 1};  // coronal, sagittal, axial (kViews order); weighted only
  float vote_threshold = 0.5f;            // majority only: a view votes where P_v >= this
  void validate() const;                  // throws OptionError: weights >= 0, not all 0, finite
};

// Maps in kViews order (coronal, sagittal, axial). Throws std::invalid_argument for differing sizes.
ProbabilityMap fuse_views(const std::array<const ProbabilityMap*, 3>& views, const FusionOptions& options = {});

struct ViewFusion {
  FusionOptions options;
  ProbabilityMap operator()(const std::array<const ProbabilityMap*, 3>& views) const {
    return fuse_views(views, options);
  }
};

}  // namespace c2f
