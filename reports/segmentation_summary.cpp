#include "segmentation_summary.hpp"

#include <algorithm>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "segmentation_outputs.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {
namespace fs = std::filesystem;

namespace {
bool failed(const nlohmann::json& entry) { return entry.contains("error"); }

// A CSV field in quotes, its own quotes doubled (RFC 4180): error messages quote file names.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

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
  return fmt::format("{},{},{},{},{},{},{},{:.3f},{},{},{}\n", e.value("case", ""), csv_number(measure(e, "dsc_coarse")),
                     csv_number(measure(e, "dsc")), csv_number(measure(e, "truth_in_coarse_box")),
                     e.value("iterations", 0), e.value("stop", ""), e.value("coarse_empty", false) ? 1 : 0,
                     e.value("seconds", 0.0), quoted(e.value("error", "")), statistics, csv_number(measure(e, "final_d_t")));
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
                        {"inference", inference},    {"stages", nlohmann::json::array()},
                        {"images", report.images},   {"blank_images_skipped", report.blank_images_skipped}};
  for (const auto& s : report.stages)
    timing["stages"].push_back({{"stage", s.stage}, {"busy_seconds", s.busy_seconds}, {"calls", s.calls},
                                {"share_of_wall", s.busy_seconds / std::max(report.seconds, 1e-9)}});
  return timing;
}

void SegmentationSummary::add(nlohmann::json entry, bool resumed) {
  // After every entry of a case id not above this one: case-id order, ties in arrival order.
  const std::string id = entry.value("case", "");
  const auto at = std::upper_bound(entries_.begin(), entries_.end(), id,
                                   [](const std::string& a, const Entry& e) { return a < e.entry.value("case", ""); });
  entries_.insert(at, {std::move(entry), resumed});
}

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
  nlohmann::json failed_entries = failures();
  return {{"cases", cases}, {"failed", failed_entries}, {"timing", timing}};
}

std::string part_summary_name(const CohortShare& share, const std::string& extension) {
  return "summary." + share.file_tag() + extension;
}

std::vector<nlohmann::json> read_part_summaries(const fs::path& out_dir) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(out_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.starts_with("summary.part-") && name.ends_with(".json") && name.find(".tmp-") == std::string::npos)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<nlohmann::json> parts;
  for (const fs::path& f : files) {
    try {
      std::ifstream in(f);
      nlohmann::json j = nlohmann::json::parse(in);
      if (!j.is_object() || !j.contains("timing") || !j["timing"].is_object())
        throw InputError(f.string(), "is not a c2f-segment part summary (no timing)");
      j["file"] = f.filename().string();
      parts.push_back(std::move(j));
    } catch (const nlohmann::json::exception& e) {
      throw InputError(f.string(), std::string("corrupt part summary: ") + e.what());
    }
  }
  return parts;
}

nlohmann::json merged_timing(const std::vector<nlohmann::json>& part_summaries, std::size_t failed) {
  double seconds = 0;
  std::size_t cases = 0;
  std::string inference;
  std::vector<std::string> order;  // stages in the order the first part that ran them lists them
  std::map<std::string, std::pair<double, std::size_t>> busy;
  nlohmann::json parts = nlohmann::json::array();
  for (const auto& p : part_summaries) {
    const nlohmann::json& t = p["timing"];
    seconds = std::max(seconds, t.value("seconds", 0.0));
    cases += t.value("cases", std::size_t(0));
    if (inference.empty()) inference = t.value("inference", "");
    for (const auto& s : t.value("stages", nlohmann::json::array())) {
      const std::string name = s.value("stage", "");
      if (!busy.count(name)) order.push_back(name);
      busy[name].first += s.value("busy_seconds", 0.0);
      busy[name].second += s.value("calls", std::size_t(0));
    }
    nlohmann::json part = t;
    part["file"] = p.value("file", "");
    parts.push_back(part);
  }
  nlohmann::json timing{{"seconds", seconds}, {"cases", cases},   {"failed", failed},
                        {"inference", inference}, {"stages", nlohmann::json::array()}, {"parts", parts}};
  for (const std::string& name : order)
    timing["stages"].push_back({{"stage", name}, {"busy_seconds", busy[name].first}, {"calls", busy[name].second},
                                {"share_of_wall", busy[name].first / std::max(seconds, 1e-9)}});
  return timing;
}

SegmentationSummary merged_summary(const fs::path& out_dir, const std::vector<std::string>& case_ids,
                                   const std::vector<nlohmann::json>& part_summaries) {
  std::map<std::string, nlohmann::json> part_failures;
  for (const auto& p : part_summaries)
    for (const auto& f : p.value("failed", nlohmann::json::array()))
      if (f.is_object()) part_failures[f.value("case", "")] = f;
  SegmentationSummary summary;
  for (const std::string& id : case_ids) {
    if (const auto report = finished_case_report(out_dir / id)) {
      summary.add(*report);
    } else if (const auto f = part_failures.find(id); f != part_failures.end()) {
      summary.add(f->second);
    } else {
      summary.add({{"case", id},
                   {"error", "no finished output in " + (out_dir / id).string() + " (its part has not run, or was stopped)"},
                   {"seconds", 0.0}});
    }
  }
  return summary;
}

}  // namespace c2f
