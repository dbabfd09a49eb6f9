#include "evaluation_report.hpp"

#include <algorithm>
#include <cmath>

#include <fstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "../evaluation/surface_distance.hpp"
#include "../io/overlay.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../pipeline/errors.hpp"
#include "cohort_report.hpp"
#include "segmentation_outputs.hpp"

namespace c2f {

namespace {
std::string number(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6f}", v); }

// The paper's stop rule for the final result.
constexpr double kFinalStopDsc = 0.95;
}  // namespace

CaseEvaluation evaluate_case(const CaseResult& r, int fold) {
  if (!r.error.empty()) throw Error(r.error);
  if (!r.input.label || r.rounds.empty() || r.round_masks.size() != r.rounds.size())
    throw Error(r.input.id + ": evaluation needs the case's label and every round's mask");
  CaseEvaluation e;
  e.id = r.input.id;
  e.fold = fold;
  e.view_dsc = r.rounds[0].view_dsc;
  e.coarse_dsc = r.rounds[0].dsc;
  for (std::size_t t = 1; t < r.rounds.size(); ++t) {
    e.fine_dsc.push_back(r.rounds[t].dsc);
    e.d_t.push_back(r.rounds[t].d_t);
  }
  e.coarse = segmentation_metrics(*r.round_masks.front(), *r.input.label);
  e.final = segmentation_metrics(*r.round_masks[std::size_t(stop_iteration(e.d_t, kFinalStopDsc))], *r.input.label);
  e.seconds = r.seconds;
  return e;
}

void write_evaluation_case_outputs(const std::filesystem::path& out_dir, const CaseResult& r, int fold) {
  if (!r.error.empty()) throw Error(r.error);
  if (r.rounds.empty() || r.round_masks.size() != r.rounds.size())
    throw Error(r.input.id + ": the case's report needs every round's mask");
  std::vector<double> d_t;
  for (std::size_t t = 1; t < r.rounds.size(); ++t) d_t.push_back(r.rounds[t].d_t);
  const auto stop = std::size_t(stop_iteration(d_t, kFinalStopDsc));
  CaseResult shown;  // the result up to round `stop`; the image and label are shared, not copied
  shown.index = r.index;
  shown.input = r.input;
  shown.mask = *r.round_masks[stop];
  shown.network_grid = r.network_grid;
  shown.rounds.assign(r.rounds.begin(), r.rounds.begin() + std::ptrdiff_t(stop) + 1);
  shown.coarse_empty = r.coarse_empty;
  shown.stop = stop >= 1 && d_t[stop - 1] > kFinalStopDsc ? StopReason::Converged : StopReason::MaxIterations;
  shown.seconds = r.seconds;
  shown.stage_seconds = r.stage_seconds;
  const std::filesystem::path dir = out_dir / r.input.id;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) throw OutputError(dir.string(), "cannot create the case's folder: " + ec.message());
  write_case_thumbnail(dir, shown);
  nlohmann::json report = case_report(shown);
  report["fold"] = fold;
  write_text_atomically(dir / "report.json", report.dump(2) + "\n");
}

std::string per_case_csv_header() {
  return "case,fold,dsc_coronal,dsc_sagittal,dsc_axial,dsc_coarse,"
         "dsc_fine_1,dsc_fine_2,dsc_fine_3,dsc_fine_5,dsc_fine_10,iterations_095,dsc_stop_090,dsc_stop_095,dsc_stop_098,"
         "dsc_stop_099,dsc_best,dsc_oracle,jaccard,precision,recall,hd95_mm,assd_mm,coarse_hd95_mm,coarse_assd_mm,seconds\n";
}

std::string per_case_csv_row(const CaseEvaluation& e) {
  const auto fine = [&](int t) { return e.fine_dsc[std::size_t(std::min<int>(t, int(e.fine_dsc.size())) - 1)]; };
  const auto stop = [&](double th) { return fine(stop_iteration(e.d_t, th)); };
  const auto at = [&](int t) { return t <= int(e.fine_dsc.size()) ? number(fine(t)) : std::string(); };
  return fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f}\n", e.id, e.fold,
                     number(e.view_dsc[0]), number(e.view_dsc[1]), number(e.view_dsc[2]), number(e.coarse_dsc), at(1),
                     at(2), at(3), at(5), at(10), stop_iteration(e.d_t, kFinalStopDsc), number(stop(0.90)),
                     number(stop(0.95)), number(stop(0.98)), number(stop(0.99)),
                     number(*std::max_element(e.fine_dsc.begin(), e.fine_dsc.end())),
                     e.oracle_dsc >= 0 ? number(e.oracle_dsc) : "", number(e.final.jaccard), number(e.final.precision),
                     number(e.final.recall), number(e.final.hd95_mm), number(e.final.assd_mm), number(e.coarse.hd95_mm),
                     number(e.coarse.assd_mm), e.seconds);
}

std::string per_case_csv(const std::vector<CaseEvaluation>& cases) {
  std::string out = per_case_csv_header();
  for (const auto& e : cases) out += per_case_csv_row(e);
  return out;
}

std::string evaluation_tables_markdown(const std::vector<CaseEvaluation>& cases) {
  const auto mean_of = [&](auto get) {
    double s = 0;
    int n = 0;
    for (const auto& e : cases)
      if (!std::isnan(get(e))) s += get(e), ++n;
    return n ? s / n : std::nan("");
  };
  const std::string extra = fmt::format(
      "| measure (stop at d(t) > 0.95) | mean |\n|---|---|\n| Jaccard | {:.4f} |\n| precision | {:.4f} |\n"
      "| recall | {:.4f} |\n| HD95 (mm) | {:.2f} |\n| ASSD (mm) | {:.2f} |\n",
      mean_of([](const auto& e) { return e.final.jaccard; }), mean_of([](const auto& e) { return e.final.precision; }),
      mean_of([](const auto& e) { return e.final.recall; }), mean_of([](const auto& e) { return e.final.hd95_mm; }),
      mean_of([](const auto& e) { return e.final.assd_mm; }));
  std::string methods;  // figures of the methods run beside c2f (DeepOrgan's candidate stage)
  const auto measures = mean_measures(cases);
  if (!measures.empty()) {
    methods = "\n## Other methods' measures\n\n| measure | mean |\n|---|---|\n";
    for (const auto& [name, v] : measures) methods += fmt::format("| {} | {:.4f} |\n", name, v);
  }
  // Last, as the one part that differs from run to run.
  std::string times = "\n## Seconds per case\n\n| method | seconds per case | busy seconds per case by stage |\n|---|---|---|\n";
  for (const MethodTime& m : method_times(cases)) {
    std::string stages;
    for (const auto& [stage, s] : m.stages)
      if (s >= 0.005) stages += fmt::format("{}{} {:.2f}", stages.empty() ? "" : ", ", stage, s);
    times += fmt::format("| {} | {:.2f} +- {:.2f} | {} |\n", m.method, m.mean, m.sd, stages);
  }
  return fmt::format(
      "## Table 1: coarse segmentation by view ({} cases)\n\n{}\n## Table 2: coarse to fine\n\n{}\n"
      "## Table 3: compared\n\n{}\n## Other measures\n\n{}{}{}",
      cases.size(), markdown_table(table1(cases)), markdown_table(table2(cases)), markdown_table(table3(cases)), extra,
      methods, times);
}

Chart mean_d_t_chart(const std::vector<CaseEvaluation>& cases, int iterations) {
  Chart c;
  c.kind = Chart::Kind::Line, c.title = "mean d(t) over cases", c.x_label = "iteration t", c.y_label = "d(t)";
  for (int t = 1; t <= iterations; ++t) {
    double s = 0;
    for (const auto& e : cases) s += e.d_t.at(std::size_t(t - 1));
    c.x.push_back(t);
    c.y.push_back(s / double(cases.size()));
  }
  c.x_min = 1, c.x_max = iterations, c.y_min = std::min(0.5, *std::min_element(c.y.begin(), c.y.end())), c.y_max = 1;
  return c;
}

Chart stop_iterations_chart(const std::vector<CaseEvaluation>& cases, int iterations) {
  Chart c;
  c.kind = Chart::Kind::Bars, c.title = "iterations until d(t) > 0.95", c.x_label = "iterations", c.y_label = "cases";
  std::vector<double> counts(std::size_t(iterations), 0);
  for (const auto& e : cases) counts.at(std::size_t(stop_iteration(e.d_t, kFinalStopDsc) - 1)) += 1;
  for (int t = 1; t <= iterations; ++t) c.x.push_back(t), c.y.push_back(counts[std::size_t(t - 1)]);
  c.x_min = 0, c.x_max = iterations + 1, c.y_max = std::max(1.0, *std::max_element(counts.begin(), counts.end()));
  return c;
}

Chart coarse_vs_final_chart(const std::vector<CaseEvaluation>& cases) {
  Chart c;
  c.kind = Chart::Kind::Scatter, c.title = "DSC per case", c.x_label = "coarse DSC",
  c.y_label = "final DSC (d(t) > 0.95)";
  for (const auto& e : cases) c.x.push_back(e.coarse_dsc), c.y.push_back(e.final.dice);
  c.diagonal = true;
  return c;
}


namespace {
constexpr const char* kCaseFormat = "c2f-eval case 1";

nlohmann::json value(double v) { return std::isnan(v) ? nlohmann::json(nullptr) : nlohmann::json(v); }
double number_of(const nlohmann::json& j) { return j.is_null() ? std::nan("") : j.get<double>(); }
nlohmann::json values(const std::vector<double>& v) {
  nlohmann::json a = nlohmann::json::array();
  for (double x : v) a.push_back(value(x));
  return a;
}
std::vector<double> numbers_of(const nlohmann::json& j) {
  std::vector<double> v;
  for (const auto& x : j) v.push_back(number_of(x));
  return v;
}
nlohmann::json metrics_json(const SegmentationMetrics& m) {
  return {{"dice", value(m.dice)},       {"jaccard", value(m.jaccard)}, {"precision", value(m.precision)},
          {"recall", value(m.recall)},   {"hd95_mm", value(m.hd95_mm)}, {"assd_mm", value(m.assd_mm)}};
}
SegmentationMetrics metrics_of(const nlohmann::json& j) {
  SegmentationMetrics m;
  m.dice = number_of(j.at("dice"));
  m.jaccard = number_of(j.at("jaccard"));
  m.precision = number_of(j.at("precision"));
  m.recall = number_of(j.at("recall"));
  m.hd95_mm = number_of(j.at("hd95_mm"));
  m.assd_mm = number_of(j.at("assd_mm"));
  return m;
}
}  // namespace

std::string case_evaluation_json(const CaseEvaluation& e, int iterations) {
  nlohmann::json baselines = nlohmann::json::object(), baseline_seconds = nlohmann::json::object(),
                 stage_seconds = nlohmann::json::object(), measures = nlohmann::json::object();
  for (const auto& [name, dsc] : e.baseline_dsc) baselines[name] = value(dsc);
  for (const auto& [name, s] : e.baseline_seconds) baseline_seconds[name] = value(s);
  for (const auto& [method, stages] : e.stage_seconds)
    for (const auto& [stage, s] : stages) stage_seconds[method][stage] = value(s);
  for (const auto& [name, v] : e.measures) measures[name] = value(v);
  const nlohmann::json j{{"format", kCaseFormat},
                         {"case", e.id},
                         {"fold", e.fold},
                         {"iterations", iterations},
                         {"view_dsc", values({e.view_dsc.begin(), e.view_dsc.end()})},
                         {"coarse_dsc", value(e.coarse_dsc)},
                         {"fine_dsc", values(e.fine_dsc)},
                         {"d_t", values(e.d_t)},
                         {"oracle_dsc", value(e.oracle_dsc)},
                         {"coarse", metrics_json(e.coarse)},
                         {"final", metrics_json(e.final)},
                         {"baseline_dsc", baselines},
                         {"seconds", value(e.seconds)},
                         {"baseline_seconds", baseline_seconds},
                         {"stage_seconds", stage_seconds},
                         {"measures", measures}};
  return j.dump(2) + "\n";
}

CaseRecord read_case_evaluation(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw InputError(file.string(), "cannot open case record");
  CaseRecord record;
  CaseEvaluation& e = record.evaluation;
  try {
    const auto j = nlohmann::json::parse(in);
    if (!j.is_object() || j.value("format", "") != kCaseFormat) throw InputError(file.string(), "not a c2f-eval case record");
    e.id = j.at("case").get<std::string>();
    e.fold = j.at("fold").get<int>();
    record.iterations = j.at("iterations").get<int>();
    if (record.iterations < 1) throw InputError(file.string(), "corrupt case record: iterations below 1");
    const auto views = numbers_of(j.at("view_dsc"));
    if (views.size() != 3) throw InputError(file.string(), "corrupt case record: view_dsc does not hold 3 values");
    std::copy(views.begin(), views.end(), e.view_dsc.begin());
    e.coarse_dsc = number_of(j.at("coarse_dsc"));
    e.fine_dsc = numbers_of(j.at("fine_dsc"));
    e.d_t = numbers_of(j.at("d_t"));
    if (e.fine_dsc.empty() || e.fine_dsc.size() != e.d_t.size())
      throw InputError(file.string(), "corrupt case record: fine_dsc and d_t must hold one value per iteration");
    e.oracle_dsc = number_of(j.at("oracle_dsc"));
    e.coarse = metrics_of(j.at("coarse"));
    e.final = metrics_of(j.at("final"));
    for (const auto& [name, dsc] : j.at("baseline_dsc").items()) e.baseline_dsc[name] = number_of(dsc);
    e.seconds = number_of(j.at("seconds"));
    // Records of earlier versions have no times by stage or method measures.
    const auto none = nlohmann::json::object();
    const nlohmann::json seconds = j.value("baseline_seconds", none), stages = j.value("stage_seconds", none),
                         measures = j.value("measures", none);  // named: items() does not keep a temporary alive
    for (const auto& [name, s] : seconds.items()) e.baseline_seconds[name] = number_of(s);
    for (const auto& [method, by_stage] : stages.items())
      for (const auto& [stage, s] : by_stage.items()) e.stage_seconds[method][stage] = number_of(s);
    for (const auto& [name, v] : measures.items()) e.measures[name] = number_of(v);
  } catch (const nlohmann::json::exception& x) {
    throw InputError(file.string(), std::string("corrupt case record: ") + x.what());
  }
  return record;
}

std::filesystem::path case_evaluation_file(const std::filesystem::path& out_dir, const std::string& case_id) {
  return out_dir / "cases" / (case_id + ".json");
}

void write_evaluation_outputs(const std::filesystem::path& dir, const std::vector<CaseEvaluation>& cases, int iterations) {
  write_text_atomically(dir / "tables.md", evaluation_tables_markdown(cases));
  write_text_atomically(dir / "table1.csv", csv_table(table1(cases)));
  write_text_atomically(dir / "table2.csv", csv_table(table2(cases)));
  write_text_atomically(dir / "table3.csv", csv_table(table3(cases)));
  write_text_atomically(dir / "per_case.csv", per_case_csv(cases));
  write_png(dir / "d_t.png", draw_chart(mean_d_t_chart(cases, iterations)));
  write_png(dir / "iterations.png", draw_chart(stop_iterations_chart(cases, iterations)));
  write_png(dir / "dsc_coarse_vs_fine.png", draw_chart(coarse_vs_final_chart(cases)));
}

}  // namespace c2f
