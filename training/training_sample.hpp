#pragma once
// Training samples for the six networks: which (case, slice, crop) each iteration trains on, and
// the 3-slice image and label arrays for it.
//
// SamplePlan: every usable (case, slice) pair of one view and scale, visited in a fresh random
// order each epoch. With more cases than fit in memory, an epoch takes the cases in random blocks
// of `cases_per_block` and shuffles the samples within each block, so a bounded cache of cases
// serves it. The sample of iteration t depends only on (seed, t, block size), so a resumed run
// sees exactly the samples an uninterrupted one would.
// make_training_sample (stage TrainingSampleMaker): 3 channels of the windowed image and the
// three slices' masks, whole slices (coarse) or the ground truth's box plus a random frame (fine).
//   notes: pure CPU; any number may run at once.
#include <array>
#include <climits>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../pipeline/case.hpp"
#include "../pipeline/scale.hpp"
#include "domain_randomization.hpp"
#include "training_samples.hpp"
#include "../stages/window.hpp"

namespace c2f {

// A case made ready for sampling: windowed to [0, 1], with its label and the label's box.
struct PreparedCase {
  std::string id;
  std::shared_ptr<const Volume<float>> image;
  std::shared_ptr<const Mask> label;
  Box3 truth_box;
};
PreparedCase prepare_case(const Case& c, const WindowOptions& window);

// What the plan needs to know of a case, without its voxels: the coarse slices of each view
// (indexed by slice_axis) and the ground truth's box.
struct CaseSummary {
  std::string id;
  Index3 dims{0, 0, 0};
  Box3 truth_box;
  std::array<std::vector<std::int64_t>, 3> coarse_slices;
};
// From the label alone, so a first pass over a cohort reads no more than it must.
CaseSummary summarize_case(const std::string& id, const Mask& label, const CoarseSampleOptions& coarse = {});
CaseSummary summarize_case(const Case& c, const CoarseSampleOptions& coarse = {});  // throws without a label
CaseSummary summarize_case(const PreparedCase& c, const CoarseSampleOptions& coarse = {});

struct SampleRequest {
  std::int64_t iteration = 0;
  std::size_t case_index = 0;
  View view = View::Axial;
  std::int64_t slice = 0;
  std::uint64_t crop_seed = 0;
};

class SamplePlan {
 public:
  SamplePlan(const std::vector<CaseSummary>& cases, View view, Scale scale, std::uint64_t seed,
             std::size_t cases_per_block = SIZE_MAX, int fine_slice_margin = 0);
  std::size_t size() const { return pairs_.size(); }
  SampleRequest at(std::int64_t iteration) const;

 private:
  struct Pair {
    std::size_t case_index;
    std::int64_t slice;
  };
  std::vector<Pair> pairs_;                      // case-major, slices ascending
  std::vector<std::size_t> first_pair_, pair_count_;  // per case
  View view_;
  std::uint64_t seed_;
  std::size_t block_;
};

struct TrainingSample {
  std::int64_t iteration = 0;
  std::string case_id;
  View view = View::Axial;
  std::int64_t slice = 0;
  std::int64_t height = 0, width = 0;
  std::vector<float> image;  // [3][height][width], in [0, 1]
  std::vector<float> label;  // [3][height][width], 0 or 1
};

TrainingSample make_training_sample(const PreparedCase& c, const SampleRequest& r, Scale scale,
                                    const FineSampleOptions& fine = {});

class CaseCache;
struct TrainingSampleMaker {
  std::shared_ptr<CaseCache> cases;
  Scale scale = Scale::Coarse;
  FineSampleOptions fine;
  // Drawn per sample from its own seed, so a resumed run sees the same samples.
  DomainRandomizer randomize{DomainRandomization::none(), {}};
  TrainingSample operator()(const SampleRequest& r) const;
};

}  // namespace c2f
