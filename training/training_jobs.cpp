#include "training_jobs.hpp"

#include <fmt/format.h>

#include "../pipeline/errors.hpp"

namespace c2f {

std::string TrainingJob::name() const { return fmt::format("{}_{}", scale_name(scale), view_name(view)); }

std::string TrainingJob::line() const {
  return fmt::format("{} {} {} {} {}", index, fold, scale_name(scale), view_name(view), checkpoint.string());
}

std::filesystem::path fold_folder(const std::filesystem::path& out, int fold) {
  return fold >= 0 ? out / fmt::format("fold{}", fold) : out;
}

std::vector<TrainingJob> training_jobs(const std::filesystem::path& out, const std::vector<int>& folds,
                                       const std::vector<Scale>& scales, const std::vector<View>& views) {
  if (folds.empty() || scales.empty() || views.empty()) throw OptionError("no network to train: no fold, scale or view");
  std::vector<TrainingJob> jobs;
  for (const int fold : folds) {
    if (fold < -1) throw OptionError(fmt::format("fold {} does not exist", fold));
    for (const Scale scale : scales)
      for (const View view : views) {
        TrainingJob j;
        j.index = int(jobs.size());
        j.fold = fold;
        j.scale = scale;
        j.view = view;
        j.checkpoint = fold_folder(out, fold) / (j.name() + ".pt");
        j.log_csv = fold_folder(out, fold) / (j.name() + ".csv");
        jobs.push_back(j);
      }
  }
  return jobs;
}

const TrainingJob& training_job(const std::vector<TrainingJob>& jobs, long long index) {
  if (index < 0 || index >= static_cast<long long>(jobs.size()))
    throw OptionError(fmt::format("--job {} is not one of the {} jobs (0 .. {}; see --list-jobs)", index, jobs.size(),
                                  static_cast<long long>(jobs.size()) - 1));
  return jobs[std::size_t(index)];
}

}  // namespace c2f
