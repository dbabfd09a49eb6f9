#pragma once
// CandidateRegions: DeepOrgan's candidate step (Roth et al. 2015, section 2.1, after Farag et
// al. 2014): a two-level cascade of random forests classifies the axial superpixels of a CT from
// per-superpixel features and keeps those above a low cut, so that almost all of the pancreas
// (paper: > 97 %) survives while most of the abdomen is rejected (paper: about 26 % DSC).
//   in:  Volume<float> in [0, 1] (window_normalize's output), its Superpixels
//   out: CandidateRegions: candidate ids, per-superpixel probability, their union as a Mask
//   parameters: CandidateOptions (forest size, the sensitivities the two cuts keep)
//   notes: a "probability" here is a regression forest's estimate of the share of the superpixel
//        that is pancreas, in [0, 1] (docs/deeporgan-candidates.md says why). Level 1 scores
//        each superpixel from its own features (superpixel_features); level 2 scores level 1's survivors from the same features plus level 1's
//        probability and its mean in boxes around the superpixel (auto-context: a boundary
//        superpixel beside confident pancreas is kept). The cuts are chosen in training, on
//        probabilities of training cases that the deciding forests did not see (cross-fitting by
//        case), and stored in the cascade's file. OpenCV's ml module; no TBB.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../pipeline/volume.hpp"
#include "superpixels.hpp"

namespace cv::ml {
class RTrees;
}

namespace c2f {

// Per-superpixel features, one row of kFeatureCount per superpixel (row-major, sp.count rows):
// the superpixel's intensity statistics (mean, SD, percentiles), its area, its position in the
// body's frame, and the intensity and tissue shares of boxes around it at several sizes, in its
// slice and across neighbouring slices. Names in superpixel_feature_names().
struct SuperpixelFeatures {
  std::int32_t count = 0;
  std::int32_t width = 0;     // features per superpixel
  std::vector<float> values;  // count * width
};
SuperpixelFeatures superpixel_features(const Volume<float>& normalized, const Superpixels& sp);
std::vector<std::string> superpixel_feature_names();

struct CandidateOptions {
  int trees = 60;
  int max_depth = 14;
  int min_samples_leaf = 5;  // OpenCV's min sample count of a node
  // Training keeps every superpixel that holds pancreas (the cuts need them all) and at most this
  // many others per case and level, drawn at random; a forest trains on all superpixels more than
  // half pancreas and as many (at least 1000) drawn from those with no pancreas.
  int negatives_per_case = 20000;
  // Voxel sensitivities (share of training pancreas voxels kept) that choose the two cuts.
  double level1_sensitivity = 0.99;
  double level2_sensitivity = 0.98;
  int calibration_folds = 5;  // cross-fitting folds by case for the cuts (at most the case count)
  std::uint64_t seed = 1;
  void validate() const;  // throws OptionError
};

// A training case: its windowed volume, superpixels and label (all on one grid). Borrowed.
struct CandidateTrainingCase {
  const Volume<float>* normalized = nullptr;
  const Superpixels* superpixels = nullptr;
  const Mask* label = nullptr;
};
// A training case read on demand and owned: training reads each case twice (once per level), so a
// cohort too large for memory is loaded case by case.
struct LoadedCandidateCase {
  Volume<float> normalized;
  Superpixels superpixels;
  Mask label;
};
using CandidateCaseLoader = std::function<LoadedCandidateCase(int index)>;

struct CandidateRegions {
  std::vector<std::int32_t> ids;   // candidate superpixels, increasing
  std::vector<float> probability;  // per superpixel (size sp.count): level 2's, 0 where level 1 rejected it
  std::vector<float> level1_probability;  // per superpixel: level 1's
  Mask mask;                              // union of candidate superpixels, input grid
  bool empty() const { return ids.empty(); }
};

class CandidateCascade {  // trained, saved and loaded as one file (cv::FileStorage YAML/XML, .gz allowed)
 public:
  static CandidateCascade train(const std::vector<CandidateTrainingCase>& cases, const CandidateOptions& options = {});
  static CandidateCascade train(int cases, const CandidateCaseLoader& load, const CandidateOptions& options = {});
  void save(const std::filesystem::path& path) const;               // atomic
  static CandidateCascade load(const std::filesystem::path& path);  // bad file: InputError naming it
  CandidateRegions candidates(const Volume<float>& normalized, const Superpixels& sp) const;

  float level1_cut() const { return level1_cut_; }
  float level2_cut() const { return level2_cut_; }
  const CandidateOptions& options() const { return options_; }

 private:
  // visit(i, use) calls use(volume, superpixels, label) of training case i.
  using CaseVisitor =
      std::function<void(int, const std::function<void(const Volume<float>&, const Superpixels&, const Mask&)>&)>;
  static CandidateCascade train_cases(int cases, const CaseVisitor& visit, const CandidateOptions& options);
  CandidateOptions options_;
  std::shared_ptr<cv::ml::RTrees> level1_, level2_;  // shared: copies of a stage share the forests
  float level1_cut_ = 0.5f, level2_cut_ = 0.5f;
};

// The stage: adapts a loaded cascade to messages.
struct CandidateRegionsStage {
  std::shared_ptr<const CandidateCascade> cascade;
  CandidateRegions operator()(const Volume<float>& normalized, const Superpixels& sp) const {
    return cascade->candidates(normalized, sp);
  }
};

}  // namespace c2f
