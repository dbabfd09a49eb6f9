#pragma once
// What c2f-segment writes and prints for a cohort, each built from one source:
//   OUTDIR/summary.csv   one row per case: case, dsc_coarse, dsc_final, truth_in_coarse_box,
//                        iterations, stop, coarse_empty, seconds, error
//   OUTDIR/summary.json  {"cases": the finished cases' reports, "failed": the failures' entries,
//                        "timing": timing_json}
//   the console table    one row per case, then the cohort's totals and the stage table
// Rows are in case-id order (the cohort's), whatever order the cases finished in, so a run split
// into parts (io/cohort_share.hpp) and merged writes the same files as one whole run: a part
// writes OUTDIR/summary.part-K-of-N.{csv,json} for its share, and the merge (c2f-segment --merge)
// builds summary.csv and summary.json from every case's report.json.
// A case's row is made from its summary entry: its report (case_report) when it finished, in this
// run or an earlier one (report.json, for --resume), or a small record of its failure. So a
// resumed case and the same case segmented now give the same summary.csv row.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../graphs/segmentation_graph.hpp"
#include "../io/cohort_share.hpp"

namespace c2f {

// The case's report (case_report) when it finished, else {"case", "error", "seconds"}; `case_id`
// names it when its input could not even be read.
nlohmann::json summary_entry(const CaseResult& result, const std::string& case_id);

std::string summary_csv_header();  // with its newline
// The case's summary.csv line (with its newline); DSCs and the truth's share in the coarse box
// are empty where the case has no label.
std::string summary_csv_row(const nlohmann::json& entry);

std::string console_table_header();  // with its newline
// The case's line of the console table (with its newline). A resumed case was timed by an earlier
// run: its seconds column says "resumed".
std::string console_table_row(const nlohmann::json& entry, bool resumed = false);

// "3 case(s) in 12.0 s (4.0 s per case), 0 failed" and its newline.
std::string cohort_totals(const SegmentationReport& report);
// Each stage's busy seconds, calls and share of the wall time, in graph order.
std::string stage_table(const SegmentationReport& report);
// summary.json's "timing": the run's seconds, cases, failures, the networks (`inference`, as
// ViewInference::describe says) and each stage's busy time.
nlohmann::json timing_json(const SegmentationReport& report, const std::string& inference);

// A cohort's summary, gathered as its cases finish and kept in case-id order.
class SegmentationSummary {
 public:
  void add(nlohmann::json entry, bool resumed = false);
  std::size_t finished() const;         // cases with a report, not a failure
  std::vector<nlohmann::json> failures() const;  // the failed cases' entries (they leave no folder)
  std::string csv() const;              // summary.csv
  std::string console_table() const;    // the header and a row per case
  nlohmann::json json(const nlohmann::json& timing) const;  // summary.json: the finished cases' reports

 private:
  struct Entry {
    nlohmann::json entry;
    bool resumed = false;
  };
  std::vector<Entry> entries_;
};

// "summary.part-2-of-4" + extension: a part's own summary, beside the others'.
std::string part_summary_name(const CohortShare& share, const std::string& extension);

// The parts' summary.part-K-of-N.json files in out_dir, by name. Throws InputError naming a file
// that is not a summary.
std::vector<nlohmann::json> read_part_summaries(const std::filesystem::path& out_dir);

// summary.json's "timing" for a cohort segmented in parts, from the parts' timings: the longest
// part's seconds (parts run side by side), cases and each stage's busy seconds and calls summed,
// `failed` the merged cohort's failures, and each part's own timing under "parts".
nlohmann::json merged_timing(const std::vector<nlohmann::json>& part_summaries, std::size_t failed);

// The cohort's summary from what its parts left in out_dir: each case's report.json (finished by
// any part, or an earlier run), else its failure as a part's summary recorded it, else a failure
// saying that no part finished it.
SegmentationSummary merged_summary(const std::filesystem::path& out_dir, const std::vector<std::string>& case_ids,
                                   const std::vector<nlohmann::json>& part_summaries);

}  // namespace c2f
