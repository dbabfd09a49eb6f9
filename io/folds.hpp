#pragma once
// Cross-validation folds: which cases each fold tests on, written once and read by training and
// evaluation so both use the same split. Folds are contiguous runs of the sorted case ids, as the
// authors' code splits NIH by case number (82 cases in 4 folds: 21/21/20/20).
#include <filesystem>
#include <string>
#include <vector>

namespace c2f {

struct Folds {
  std::vector<std::vector<std::string>> folds;  // test cases of fold 0, 1, ...

  // The cases a model of fold k trains on: all but fold k's. k = -1: all cases.
  std::vector<std::string> training_cases(int k) const;
  std::vector<std::string> all_cases() const;
};

Folds make_folds(std::vector<std::string> case_ids, int fold_count);
void write_folds(const std::filesystem::path& path, const Folds& folds);  // JSON, atomically
Folds read_folds(const std::filesystem::path& path);                      // throws InputError

}  // namespace c2f
