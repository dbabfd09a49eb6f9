#pragma once
// Training DeepOrgan (Roth et al. 2015) on a cohort, with the parts its segmentation graph runs:
//
//   prepare (a oneTBB flow graph, cases side by side): Load -> Resample -> WindowNormalize
//       -> AxialSuperpixels -> collect
//   1. the random-forest cascade on every case's superpixels (CandidateCascade::train); then
//      each training case's candidate regions S_RF
//   2. P-ConvNet on 2.5-D patches at lattice voxels of S_RF (every n), classes balanced per case
//   3. P0 of every training case (P-ConvNet, nearest fill)
//   4. R2-ConvNet (CT + P0) and R1-ConvNet (CT) on candidate superpixels labelled by the optimal
//      superpixel labels (more than half pancreas), each draw at one of Ns zoom-out scales and one
//      of Nt = 8 random thin-plate-spline deformations (the paper's Ns x Nt augmentation)
//   5. the thresholds p0 and p2 chosen on the training cases (the paper's way): the values that
//      maximise the mean DSC of G(P0) >= p0 and G(P2) >= p2 there
// Writes the set that DeepOrganNetworks reads: candidates.yml.gz, p-convnet.pt, r2-convnet.pt,
// r1-convnet.pt (training_log.csv beside them). Each network trains with Adam and cross-entropy
// on batches drawn with the seed, so a run repeats itself.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

#include "../stages/candidate_regions.hpp"
#include "../stages/thin_plate_spline.hpp"
#include "deeporgan_graph.hpp"

namespace c2f {

struct DeepOrganTrainingOptions {
  DeepOrganOptions method;        // window, grid, superpixels, n, scales, thresholds: stored in the set
  CandidateOptions candidates;
  TpsOptions tps;
  int deformations = 8;           // Nt
  std::int64_t p_iterations = 400, r_iterations = 400;
  std::int64_t batch = 64;
  std::int64_t patches_per_class = 2000;  // per case and class, from the S_RF lattice
  std::int64_t regions_per_class = 400;   // candidate superpixels per case and class
  double learning_rate = 1e-3;
  std::uint64_t seed = 1;
  bool train_r1 = true;
  bool choose_thresholds = true;  // else the paper's p0 = 0.2, p2 = 0.6 (method's values) are kept
  std::size_t cases_in_flight = 2;
  std::filesystem::path out;      // the set's folder
  void validate() const;          // throws OptionError
};

struct DeepOrganTrainingReport {
  std::size_t cases = 0;
  std::map<std::string, double> stage_seconds;    // prepare, cascade, P-ConvNet, P0, R2-ConvNet, ...
  std::map<std::string, double> first_loss, last_loss;  // per network: mean of its first and last 20 steps
  float p0 = 0, p2 = 0;                           // the thresholds stored
  double candidate_sensitivity = 0, candidate_dsc = 0;  // on the training cases (voxels pooled; mean DSC)
};

using TrainingLog = std::function<void(const std::string& line)>;

// Trains the whole set from the cohort's cases 0..count-1 (each needs its label). Throws
// InputError for a case without a label or that cannot be read, OptionError for bad options.
DeepOrganTrainingReport train_deeporgan(std::size_t count, const CaseLoader& load, const DeepOrganTrainingOptions& options,
                                        const TrainingLog& log = {});

}  // namespace c2f
