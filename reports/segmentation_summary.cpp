#include "segmentation_summary.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "segmentation_outputs.hpp"

namespace c2f {

namespace {
bool failed(const nlohmann::json& entry) { return entry.contains("error"); }

// A measure a case may lack (no label): -1 then.
double measure(const nlohmann::json& entry, const char* key) { return entry.value(key, -1.0); }

std::string csv_number(double v) { return v >= 0 ? fmt::format("{:.6f}", v) : std::string(); }
std::string console_number(double v) { return v >= 0 ? fmt::format("{:.4f}", v) : std::string("-"); }
}  // namespace

nlohmann::json summary_entry(const CaseResult& r, const std::string& case_id) {
  if (r.error.empty()) return case_report(r);
  return {{"case", case_id}, {"error", r.error}, {"seconds", r.seconds}};
}

std::string summary_csv_header() {
  // The statistics come last, so that readers of the earlier columns find them where they were.
  return "case,dsc_coarse,dsc_final,truth_in_coarse_box,iterations,stop,coarse_empty,seconds,error,"
         "volume_ml,mean_hu,components,incomplete,final_d_t\n";
}

std::string summary_csv_row(const nlohmann::json& e) {
  std::string statistics = ",,,";  // four empty fields
  if (e.contains("statistics")) {
    const nlohmann::json& s = e["statistics"];
    statistics = fmt::format("{:.3f},{:.1f},{},{}", s.value("volume_ml", 0.0), s["hu"].value("mean", 0.0),
                             s.value("components", 0), s.value("incomplete", false) ? 1 : 0);
  }
  return fmt::format("{},{},{},{},{},{},{},{:.3f},\"{}\",{},{}\n", e.value("case", ""), csv_number(measure(e, "dsc_coarse")),
                     csv_number(measure(e, "dsc")), csv_number(measure(e, "truth_in_coarse_box")),
                     e.value("iterations", 0), e.value("stop", ""), e.value("coarse_empty", false) ? 1 : 0,
                     e.value("seconds", 0.0), e.value("error", ""), statistics, csv_number(measure(e, "final_d_t")));
}

std::string console_table_header() {
  return fmt::format("{:<20} {:>10} {:>10} {:>10} {:>10} {:>9}\n", "case", "coarse DSC", "final DSC", "in box",
                     "iterations", "seconds");
}

std::string console_table_row(const nlohmann::json& e, bool resumed) {
  const std::string id = e.value("case", "");
  if (failed(e)) return fmt::format("{:<20} failed: {}\n", id, e.value("error", ""));
  const std::string measures =
      fmt::format("{:<20} {:>10} {:>10} {:>10} {:>10}", id, console_number(measure(e, "dsc_coarse")),
                  console_number(measure(e, "dsc")), console_number(measure(e, "truth_in_coarse_box")),
                  e.value("iterations", 0));
  if (resumed) return fmt::format("{} {:>9}\n", measures, "resumed");
  return fmt::format("{} {:>9.1f}{}\n", measures, e.value("seconds", 0.0),
                     e.value("coarse_empty", false) ? "  (coarse stage found nothing)" : "");
}

std::string cohort_totals(const SegmentationReport& report) {
  return fmt::format("{} case(s) in {:.1f} s ({:.1f} s per case), {} failed\n", report.cases, report.seconds,
                     report.seconds / double(std::max<std::size_t>(report.cases, 1)), report.failed);
}

std::string stage_table(const SegmentationReport& report) {
  std::string out = fmt::format("{:<20} {:>10} {:>8} {:>9}\n", "stage", "busy s", "calls", "% wall");
  for (const auto& s : report.stages)
    out += fmt::format("{:<20} {:>10.2f} {:>8} {:>8.1f}%\n", s.stage, s.busy_seconds, s.calls,
                       100.0 * s.busy_seconds / std::max(report.seconds, 1e-9));
  return out;
}

nlohmann::json timing_json(const SegmentationReport& report, const std::string& inference) {
  nlohmann::json timing{{"seconds", report.seconds}, {"cases", report.cases},        {"failed", report.failed},
                        {"inference", inference},    {"stages", nlohmann::json::array()}};
  for (const auto& s : report.stages)
    timing["stages"].push_back({{"stage", s.stage}, {"busy_seconds", s.busy_seconds}, {"calls", s.calls},
                                {"share_of_wall", s.busy_seconds / std::max(report.seconds, 1e-9)}});
  return timing;
}

void SegmentationSummary::add(nlohmann::json entry, bool resumed) { entries_.push_back({std::move(entry), resumed}); }

std::size_t SegmentationSummary::finished() const {
  return std::size_t(std::count_if(entries_.begin(), entries_.end(), [](const Entry& e) { return !failed(e.entry); }));
}

std::vector<nlohmann::json> SegmentationSummary::failures() const {
  std::vector<nlohmann::json> out;
  for (const Entry& e : entries_)
    if (failed(e.entry)) out.push_back(e.entry);
  return out;
}

std::string SegmentationSummary::csv() const {
  std::string out = summary_csv_header();
  for (const Entry& e : entries_) out += summary_csv_row(e.entry);
  return out;
}

std::string SegmentationSummary::console_table() const {
  std::string out = console_table_header();
  for (const Entry& e : entries_) out += console_table_row(e.entry, e.resumed);
  return out;
}

nlohmann::json SegmentationSummary::json(const nlohmann::json& timing) const {
  nlohmann::json cases = nlohmann::json::array();
  for (const Entry& e : entries_)
    if (!failed(e.entry)) cases.push_back(e.entry);
  return {{"cases", cases}, {"timing", timing}};
}

}  // namespace c2f
