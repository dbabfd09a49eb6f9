#pragma once
// Every network of a cross-validation as one job of an array (a Slurm job array, a Kubernetes
// Indexed Job): c2f-train --list-jobs prints them, c2f-train --job K trains the K-th alone.
//
// The jobs are folds x scales x views, in that nesting: index = (fold_position * scales + scale) *
// views + view, with scales coarse then fine and views coronal, sagittal, axial (as given). The
// paper's 4-fold cross-validation is 4 x 2 x 3 = 24 jobs; job 0 is fold 0's coarse coronal
// network, job 23 fold 3's fine axial one. Each job's checkpoint lands where a whole run of its
// fold writes it, and where c2f-eval reads a fold's models: OUT/fold<k>/<scale>_<view>.pt (fold
// -1, all cases: OUT/<scale>_<view>.pt).
#include <filesystem>
#include <string>
#include <vector>

#include "../pipeline/scale.hpp"
#include "../pipeline/volume.hpp"

namespace c2f {

struct TrainingJob {
  int index = 0;
  int fold = -1;  // -1: trained on every case
  Scale scale = Scale::Coarse;
  View view = View::Axial;
  std::filesystem::path checkpoint;  // OUT/fold<k>/<scale>_<view>.pt
  std::filesystem::path log_csv;     // beside it, .csv

  std::string name() const;  // "coarse_coronal"
  // "7 1 coarse sagittal OUT/fold1/coarse_sagittal.pt": what --list-jobs prints, without the newline
  std::string line() const;
};

// Where a fold's six checkpoints go: OUT/fold<k>, or OUT for fold -1.
std::filesystem::path fold_folder(const std::filesystem::path& out, int fold);

// Throws OptionError for an empty list or a fold below -1.
std::vector<TrainingJob> training_jobs(const std::filesystem::path& out, const std::vector<int>& folds,
                                       const std::vector<Scale>& scales, const std::vector<View>& views);

// The job of index `index`; throws OptionError naming --job and the jobs' range.
const TrainingJob& training_job(const std::vector<TrainingJob>& jobs, long long index);

}  // namespace c2f
