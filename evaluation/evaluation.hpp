#pragma once
// The paper's tables (Zhou et al. 2016, Tables 1-3; METHOD.md) from per-case records, so one pass
// of the graph per case (every iteration's mask kept) gives every row.
//   Table 1: coarse single views and their fusion.
//   Table 2: coarse; fine after 1, 2, 3, 5, 10 iterations; stop at d(t) > 0.90, 0.95, 0.98, 0.99
//            (with the iterations it took); best of all iterations; the oracle box.
//   Table 3: the final method (stop at d(t) > 0.95) beside any baselines given.
// Each row: mean +- std (sample standard deviation, as numpy's std(ddof=1)), max and min of the
// per-case DSC, in percent as the paper prints them.
#include <array>
#include <map>
#include <string>
#include <vector>

#include "surface_distance.hpp"

namespace c2f {

struct CaseEvaluation {
  std::string id;
  int fold = -1;                        // -1: one model set for all cases
  std::array<double, 3> view_dsc{};     // coarse coronal, sagittal, axial
  double coarse_dsc = 0;                // fused S0
  std::vector<double> fine_dsc;         // DSC of S(t), t = 1 .. T
  std::vector<double> d_t;              // d(t), t = 1 .. T
  double oracle_dsc = -1;               // fine round on the truth's box; -1: not run
  SegmentationMetrics coarse, final;    // final: the method's result (stop at d(t) > 0.95)
  std::map<std::string, double> baseline_dsc;
  double seconds = 0;
};

// The first t with d(t) > threshold, or T (the number of iterations run) when none is.
int stop_iteration(const std::vector<double>& d_t, double threshold);

struct TableRow {
  std::string name;
  std::vector<double> dsc;       // per case, in case order
  double mean = 0, sd = 0, max = 0, min = 0;
  double iterations_mean = -1, iterations_sd = -1;  // stop rows only
};
TableRow make_row(std::string name, std::vector<double> dsc);

std::vector<TableRow> table1(const std::vector<CaseEvaluation>& cases);
std::vector<TableRow> table2(const std::vector<CaseEvaluation>& cases);
std::vector<TableRow> table3(const std::vector<CaseEvaluation>& cases, double stop_dsc = 0.95);

// Rows as a Markdown table and as CSV (DSC in percent, two decimals).
std::string markdown_table(const std::vector<TableRow>& rows);
std::string csv_table(const std::vector<TableRow>& rows);

}  // namespace c2f
