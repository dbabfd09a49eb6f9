#include <doctest/doctest.h>

#include <set>

#include "../../pipeline/errors.hpp"
#include "../../training/training_jobs.hpp"

using namespace c2f;
namespace fs = std::filesystem;

TEST_CASE("a 4-fold cross-validation is 24 jobs nested fold then scale then view with checkpoints where c2f-eval reads them") {
  const auto jobs = training_jobs("models", {0, 1, 2, 3}, {Scale::Coarse, Scale::Fine},
                                  {View::Coronal, View::Sagittal, View::Axial});
  REQUIRE(jobs.size() == 24);
  std::set<fs::path> checkpoints;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    CHECK(jobs[i].index == int(i));
    CHECK(jobs[i].fold == int(i / 6));
    CHECK(jobs[i].scale == (i % 6 < 3 ? Scale::Coarse : Scale::Fine));
    CHECK(jobs[i].view == kViews[i % 3]);
    checkpoints.insert(jobs[i].checkpoint);
  }
  CHECK(checkpoints.size() == 24);  // no two jobs write one file
  CHECK(jobs[0].checkpoint == fs::path("models/fold0/coarse_coronal.pt"));
  CHECK(jobs[7].line() == "7 1 coarse sagittal models/fold1/coarse_sagittal.pt");
  CHECK(jobs[23].checkpoint == fs::path("models/fold3/fine_axial.pt"));
  CHECK(jobs[23].log_csv == fs::path("models/fold3/fine_axial.csv"));
  // Fold -1 (every case) writes into the folder itself, as a plain c2f-train run does.
  CHECK(training_jobs("m", {-1}, {Scale::Fine}, {View::Axial})[0].checkpoint == fs::path("m/fine_axial.pt"));
}

TEST_CASE("a job index outside the list is refused naming --job and the range") {
  const auto jobs = training_jobs("m", {0, 1}, {Scale::Coarse, Scale::Fine}, {View::Coronal, View::Sagittal, View::Axial});
  CHECK(training_job(jobs, 11).name() == "fine_axial");
  try {
    training_job(jobs, 12);
    FAIL("no error");
  } catch (const OptionError& e) {
    CHECK(std::string(e.what()) == "--job 12 is not one of the 12 jobs (0 .. 11; see --list-jobs)");
  }
  CHECK_THROWS_AS(training_job(jobs, -1), OptionError);
  CHECK_THROWS_AS(training_jobs("m", {}, {Scale::Coarse}, {View::Axial}), OptionError);
  CHECK_THROWS_AS(training_jobs("m", {-2}, {Scale::Coarse}, {View::Axial}), OptionError);
}
