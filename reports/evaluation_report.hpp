#pragma once
// What c2f-eval writes for a cohort, each from one source, the per-case records (CaseEvaluation):
//   per_case.csv            one row per case: the coarse views and their fusion, the fine rounds,
//                           the stop rules, the oracle box, the final result's measures, seconds
//   tables.md               Tables 1-3 (evaluation.hpp) and the final result's other measures
//   d_t.png, iterations.png, dsc_coarse_vs_fine.png: the charts below
//   cases/<case>.json       each case's record, written as its fold's evaluation ends; the tables
//                           of a cohort evaluated in parts are built from these (c2f-eval --merge)
//   <case>/report.json, <case>/thumbnail.png: the method's result per case, for index.html
#include <filesystem>
#include <string>
#include <vector>

#include "../evaluation/evaluation.hpp"
#include "../graphs/segmentation_graph.hpp"
#include "../io/plot.hpp"

namespace c2f {

// A case's record from a result that kept every round's mask (keep_iterations) and has the label;
// the final result stops at d(t) > 0.95. Baselines and the oracle row are the caller's to add.
// Throws Error for a failed result or one without its rounds' masks or label.
CaseEvaluation evaluate_case(const CaseResult& result, int fold);

// Writes out_dir/<case>/thumbnail.png and report.json (last) for the method's result, as c2f-segment
// would give it: the rounds up to the first d(t) > 0.95 (case_report, with the model fold added),
// so that index.html (cohort_report.hpp) shows c2f-eval's cases as c2f-segment's. The result must
// have kept every round's mask. Throws Error, OutputError.
void write_evaluation_case_outputs(const std::filesystem::path& out_dir, const CaseResult& result, int fold);

std::string per_case_csv_header();  // with its newline
std::string per_case_csv_row(const CaseEvaluation& e);  // with its newline; NaN measures are empty
std::string per_case_csv(const std::vector<CaseEvaluation>& cases);

// Tables 1-3 and the mean Jaccard, precision, recall, HD95 and ASSD of the final result (NaN
// distances, from empty masks, left out), in Markdown.
std::string evaluation_tables_markdown(const std::vector<CaseEvaluation>& cases);

// The paper's Figure 3: mean d(t) over cases against t = 1 .. iterations (every case ran them all).
Chart mean_d_t_chart(const std::vector<CaseEvaluation>& cases, int iterations);
// How many cases needed each number of iterations until d(t) > 0.95.
Chart stop_iterations_chart(const std::vector<CaseEvaluation>& cases, int iterations);
// Per case, the coarse DSC against the final one, beside y = x.
Chart coarse_vs_final_chart(const std::vector<CaseEvaluation>& cases);

// A case's record as cases/<case>.json holds it (NaN measures as null) and back, every number as it
// was (JSON keeps a double's 17 digits), so tables built from read records are the same bytes.
// `iterations`: the fine iterations the evaluation ran every case to (the charts' range).
std::string case_evaluation_json(const CaseEvaluation& e, int iterations);
struct CaseRecord {
  CaseEvaluation evaluation;
  int iterations = 0;
};
// Throws InputError naming the file: unreadable, or not a c2f-eval case record.
CaseRecord read_case_evaluation(const std::filesystem::path& file);
std::filesystem::path case_evaluation_file(const std::filesystem::path& out_dir, const std::string& case_id);

// Writes tables.md, table1.csv, table2.csv, table3.csv, per_case.csv and the three charts under
// out_dir, each atomically: all of c2f-eval's cohort files. `iterations`: the fine rounds every
// case ran.
void write_evaluation_outputs(const std::filesystem::path& out_dir, const std::vector<CaseEvaluation>& cases,
                              int iterations);

}  // namespace c2f
