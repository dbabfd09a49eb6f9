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

// Table 3's row of the method itself; the rows of a method run beside it start with that
// method's name ("DeepOrgan G(P2)"), which is how its time is found.
inline constexpr const char* kCoarseToFineRow = "c2f (coarse-to-fine)";

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
  double seconds = 0;                   // c2f's, from load to write
  // Seconds per case of a Table 3 row computed in the same run (DeepOrgan's rows; masks read
  // from a folder have none), by row name.
  std::map<std::string, double> baseline_seconds;
  // Busy seconds by stage of each method run on the case ("c2f (coarse-to-fine)", "DeepOrgan").
  std::map<std::string, std::map<std::string, double>> stage_seconds;
  // A method's own figures (DeepOrgan's candidates: DSC, sensitivity; the superpixel bound), by name.
  std::map<std::string, double> measures;
};

// The first t with d(t) > threshold, or T (the number of iterations run) when none is.
int stop_iteration(const std::vector<double>& d_t, double threshold);

struct TableRow {
  std::string name;
  std::vector<double> dsc;       // per case, in case order
  double mean = 0, sd = 0, max = 0, min = 0;
  double iterations_mean = -1, iterations_sd = -1;  // stop rows only
  double seconds_mean = -1, seconds_sd = -1;        // Table 3 rows whose method ran here
};
TableRow make_row(std::string name, std::vector<double> dsc);

std::vector<TableRow> table1(const std::vector<CaseEvaluation>& cases);
std::vector<TableRow> table2(const std::vector<CaseEvaluation>& cases);
std::vector<TableRow> table3(const std::vector<CaseEvaluation>& cases, double stop_dsc = 0.95);

// Seconds per case of each method run here (mean +- sd over the cases that have it), and the
// mean busy seconds of each of its stages per case, largest first: Table 3's time split.
struct MethodTime {
  std::string method;
  double mean = 0, sd = 0;
  std::vector<std::pair<std::string, double>> stages;
};
std::vector<MethodTime> method_times(const std::vector<CaseEvaluation>& cases);
// The mean of each measure over the cases that have it, by name.
std::map<std::string, double> mean_measures(const std::vector<CaseEvaluation>& cases);

// Rows as a Markdown table and as CSV (DSC in percent, two decimals; CSV adds the seconds).
std::string markdown_table(const std::vector<TableRow>& rows);
std::string csv_table(const std::vector<TableRow>& rows);

}  // namespace c2f
