#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "../../reports/segmentation_summary.hpp"

using namespace c2f;

namespace {
// A finished case on a 20 x 20 x 10 grid: a coarse round and two fine rounds, stopped because
// d(2) = 0.97 > 0.95; with a label, each round has its DSC and the truth's share in its box. The
// numbers are binary fractions, so no printed digit falls on a rounding tie.
CaseResult finished_case(bool with_label = true) {
  Geometry g;
  g.dims = {20, 20, 10};
  g.spacing_mm = {1, 1, 2};
  CaseResult r;
  r.index = 3;
  r.input.id = "case_003";
  r.input.source = "/data/case_003.nii.gz";
  r.input.image = std::make_shared<Image>(g, -1000.f);
  if (with_label) r.input.label = std::make_shared<Mask>(g, 0);
  r.mask = Mask(g, 0);
  for (std::int64_t z = 2; z < 5; ++z) r.mask(4, 5, z) = 1;
  r.network_grid = g;
  const double dsc[] = {0.8125, 0.875, 0.90234375}, d_t[] = {-1, 0.9, 0.97};
  for (int t = 0; t < 3; ++t) {
    RoundRecord rec;
    rec.iteration = t;
    rec.region = Box3::whole(g.dims);
    rec.voxels = 3;
    rec.box = {{4, 5, 2}, {5, 6, 5}};
    rec.d_t = d_t[t];
    if (with_label) {
      rec.dsc = dsc[t];
      rec.truth_in_box = t == 0 ? 0.9375 : 1.0;
      if (t == 0) rec.view_dsc = {0.5, 0.625, 0.75};
    }
    r.rounds.push_back(rec);
  }
  r.stop = StopReason::Converged;
  r.seconds = 1.375;
  r.stage_seconds = {{"load", 0.25}};
  return r;
}

// The report as a later run reads it back from report.json.
nlohmann::json written_and_read(const nlohmann::json& report) { return nlohmann::json::parse(report.dump(2) + "\n"); }
}  // namespace

TEST_CASE("a resumed case's report.json and the same case segmented now give the same summary.csv row") {
  const CaseResult r = finished_case();
  const nlohmann::json fresh = summary_entry(r, "case_003");
  const nlohmann::json resumed = written_and_read(fresh);
  CHECK(summary_csv_row(resumed) == summary_csv_row(fresh));
  // By hand: DSCs to 6 decimals, iterations = rounds - 1, seconds to 3 decimals, no error; then
  // 3 voxels of 2 mm^3 = 0.006 ml at -1000 HU, one component away from the edges, final d(t) 0.97.
  CHECK(summary_csv_row(fresh) == "case_003,0.812500,0.902344,0.937500,2,converged,0,1.375,\"\",0.006,-1000.0,1,0,0.970000\n");
}

TEST_CASE("a failed case's row keeps its id and error, its measures empty") {
  CaseResult r;
  r.index = 7;
  r.error = "/data/case_007.nii.gz: not a NIfTI file";
  r.seconds = 0.5;
  const nlohmann::json entry = summary_entry(r, "case_007");  // its input never loaded: no id of its own
  CHECK(entry == nlohmann::json{{"case", "case_007"}, {"error", r.error}, {"seconds", 0.5}});
  CHECK(summary_csv_row(entry) == "case_007,,,,0,,0,0.500,\"/data/case_007.nii.gz: not a NIfTI file\",,,,,\n");
  CHECK(console_table_row(entry) == "case_007             failed: /data/case_007.nii.gz: not a NIfTI file\n");
  // Quotes in the error (a quoted file name) are doubled, so the row keeps its 14 fields.
  const nlohmann::json quoting{{"case", "case_008"}, {"error", "stage \"infer\": bad, very bad"}, {"seconds", 0.5}};
  CHECK(summary_csv_row(quoting) == "case_008,,,,0,,0,0.500,\"stage \"\"infer\"\": bad, very bad\",,,,,\n");
}

TEST_CASE("without a label the DSC columns are empty in the CSV and dashes on the console") {
  const nlohmann::json entry = summary_entry(finished_case(/*with_label=*/false), "case_003");
  CHECK(summary_csv_row(entry) == "case_003,,,,2,converged,0,1.375,\"\",0.006,-1000.0,1,0,0.970000\n");
  CHECK(console_table_row(entry) == "case_003                      -          -          -          2       1.4\n");
}

TEST_CASE("the console row of a resumed case says so where a case segmented now has its seconds") {
  CaseResult r = finished_case();
  r.coarse_empty = true;
  const nlohmann::json entry = summary_entry(r, "case_003");
  CHECK(console_table_row(entry) ==
        "case_003                 0.8125     0.9023     0.9375          2       1.4  (coarse stage found nothing)\n");
  CHECK(console_table_row(written_and_read(entry), /*resumed=*/true) ==
        "case_003                 0.8125     0.9023     0.9375          2   resumed\n");
  // The header's columns line up with the rows'.
  CHECK(console_table_header().size() == console_table_row(written_and_read(entry), true).size());
}

TEST_CASE("a cohort's summary: every case in the CSV and the console table, only finished ones in summary.json") {
  SegmentationSummary summary;
  summary.add(written_and_read(summary_entry(finished_case(), "case_003")), /*resumed=*/true);
  CaseResult other = finished_case();
  other.input.id = "case_004";
  summary.add(summary_entry(other, "case_004"));
  CaseResult failed;
  failed.error = "case_005: the infer stage failed: out of memory";
  summary.add(summary_entry(failed, "case_005"));

  CHECK(summary.finished() == 2);
  const std::string csv = summary.csv();
  CHECK(csv.starts_with(summary_csv_header()));
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 4);
  CHECK(csv.find("case_005,,,,0,,0,0.000,\"case_005: the infer stage failed: out of memory\",,,,,\n") != std::string::npos);
  const std::string table = summary.console_table();
  CHECK(table.find("resumed") != std::string::npos);
  CHECK(table.find("case_005             failed:") != std::string::npos);

  const nlohmann::json timing{{"seconds", 3.0}};
  const nlohmann::json j = summary.json(timing);
  REQUIRE(j["cases"].size() == 2);
  CHECK(j["cases"][0]["case"] == "case_003");
  CHECK(j["cases"][1]["case"] == "case_004");
  CHECK(j["timing"] == timing);
}

TEST_CASE("the totals, the stage table and the timing JSON are read off one report") {
  SegmentationReport report;
  report.seconds = 10;
  report.cases = 4;
  report.failed = 1;
  report.stages = {{"load", 2.5, 4}, {"infer", 7.25, 12}};
  CHECK(cohort_totals(report) == "4 case(s) in 10.0 s (2.5 s per case), 1 failed\n");
  CHECK(stage_table(report) ==
        "stage                    busy s    calls    % wall\n"
        "load                       2.50        4     25.0%\n"
        "infer                      7.25       12     72.5%\n");
  const nlohmann::json t = timing_json(report, "light-unet on cpu");
  CHECK(t["seconds"] == 10.0);
  CHECK(t["cases"] == 4);
  CHECK(t["failed"] == 1);
  CHECK(t["inference"] == "light-unet on cpu");
  REQUIRE(t["stages"].size() == 2);
  CHECK(t["stages"][1] == nlohmann::json{{"stage", "infer"}, {"busy_seconds", 7.25}, {"calls", 12}, {"share_of_wall", 0.725}});
}

TEST_CASE("the report holds the organ statistics and the final d(t)") {
  const nlohmann::json report = summary_entry(finished_case(), "case_003");
  REQUIRE(report.contains("statistics"));
  const auto& s = report["statistics"];
  CHECK(s["volume_ml"].get<double>() == doctest::Approx(0.006));
  CHECK(s["hu"]["mean"].get<double>() == -1000);
  CHECK(s["components"] == 1);
  CHECK(s["incomplete"] == false);
  CHECK(s["centroid_lps_mm"].size() == 3);
  CHECK(report["final_d_t"].get<double>() == 0.97);
}
