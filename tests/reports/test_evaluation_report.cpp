#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "../../pipeline/atomic_file.hpp"
#include "../../pipeline/errors.hpp"
#include "../../reports/evaluation_report.hpp"
#include "test_support.hpp"

using namespace c2f;

namespace {
// Two cases' records by hand. The first: d(t) first above 0.95 at t = 2 and above 0.98 at t = 3,
// no distance (an empty mask); the second: d(1) = 0.96 already. Binary fractions, so no printed
// digit falls on a rounding tie.
CaseEvaluation first_case() {
  CaseEvaluation e;
  e.id = "c1";
  e.fold = 2;
  e.view_dsc = {0.5, 0.625, 0.75};
  e.coarse_dsc = 0.8125;
  e.fine_dsc = {0.875, 0.90234375, 0.9375};
  e.d_t = {0.9, 0.97, 0.99};
  e.final = {0.90234375, 0.5, 0.75, 0.625, std::nan(""), std::nan("")};
  e.coarse = {0.8125, 0.6875, 0.8125, 0.8125, 3.5, 1.25};
  e.seconds = 2.5;
  return e;
}

CaseEvaluation second_case() {
  CaseEvaluation e = first_case();
  e.id = "c2";
  e.coarse_dsc = 0.75;
  e.fine_dsc = {0.8125, 0.875, 0.875};
  e.d_t = {0.96, 0.98, 0.99};
  e.final = {0.8125, 0.6875, 0.8125, 0.8125, 4.0, 1.5};
  e.oracle_dsc = 0.9375;
  return e;
}

// A 20 x 20 x 10 case whose truth is a 2 x 2 x 2 block; the coarse mask is the block and as many
// voxels beside it (DSC 2 * 8 / (8 + 16) = 2/3), fine round 1 a single voxel of it, round 2 the
// block itself. d(2) = 0.97 stops at t = 2.
CaseResult kept_rounds() {
  Geometry g;
  g.dims = {20, 20, 10};
  g.spacing_mm = {1, 1, 1};
  Mask truth(g, 0), coarse(g, 0), one(g, 0);
  for (std::int64_t z = 4; z < 6; ++z)
    for (std::int64_t y = 4; y < 6; ++y)
      for (std::int64_t x = 4; x < 6; ++x) truth(x, y, z) = coarse(x, y, z) = coarse(x + 2, y, z) = 1;
  one(4, 4, 4) = 1;
  CaseResult r;
  r.input.id = "c9";
  r.input.image = std::make_shared<Image>(g, 0.f);
  r.input.label = std::make_shared<Mask>(truth);
  r.round_masks = {std::make_shared<Mask>(coarse), std::make_shared<Mask>(one), std::make_shared<Mask>(truth)};
  const double dsc[] = {2.0 / 3, 2.0 / 9, 1}, d_t[] = {-1, 0.25, 0.97};
  for (int t = 0; t < 3; ++t) {
    RoundRecord rec;
    rec.iteration = t;
    rec.dsc = dsc[t];
    rec.d_t = d_t[t];
    if (t == 0) rec.view_dsc = {0.5, 0.5, 0.75};
    r.rounds.push_back(rec);
  }
  r.seconds = 3;
  return r;
}
}  // namespace

TEST_CASE("a case's record is read off its rounds, the final result being the round where d(t) first exceeds 0.95") {
  const CaseEvaluation e = evaluate_case(kept_rounds(), 1);
  CHECK(e.id == "c9");
  CHECK(e.fold == 1);
  CHECK(e.view_dsc == std::array<double, 3>{0.5, 0.5, 0.75});
  CHECK(e.coarse_dsc == doctest::Approx(2.0 / 3));
  CHECK(e.fine_dsc == std::vector<double>{2.0 / 9, 1});
  CHECK(e.d_t == std::vector<double>{0.25, 0.97});
  CHECK(e.coarse.dice == doctest::Approx(2.0 / 3));  // measured on the kept masks
  CHECK(e.final.dice == doctest::Approx(1.0));
  CHECK(e.final.hd95_mm == doctest::Approx(0.0));
  CHECK(e.seconds == 3);
  CHECK(e.oracle_dsc < 0);  // the caller's to add
}

TEST_CASE("a result without every round's mask, or failed, cannot be evaluated") {
  CaseResult r = kept_rounds();
  r.round_masks.pop_back();
  CHECK_THROWS_AS(evaluate_case(r, 0), Error);
  r = kept_rounds();
  r.input.label.reset();
  CHECK_THROWS_AS(evaluate_case(r, 0), Error);
  r = kept_rounds();
  r.error = "c9: the load stage failed";
  CHECK_THROWS_WITH_AS(evaluate_case(r, 0), "c9: the load stage failed", Error);
}

TEST_CASE("a per-case row: iterations past T, the oracle not run and NaN distances are empty cells") {
  // By hand: fine rounds 1-3, none at 5 or 10; d(t) > 0.90 and > 0.95 at t = 2, > 0.98 at t = 3,
  // > 0.99 never (T = 3); best 0.9375.
  CHECK(per_case_csv_row(first_case()) ==
        "c1,2,0.500000,0.625000,0.750000,0.812500,0.875000,0.902344,0.937500,,,2,0.902344,0.902344,0.937500,0.937500,"
        "0.937500,,0.500000,0.750000,0.625000,,,3.500000,1.250000,2.500\n");
  const std::string csv = per_case_csv({first_case(), second_case()});
  const std::string header = per_case_csv_header();
  REQUIRE(csv.starts_with(header));
  const std::string second = per_case_csv_row(second_case());
  CHECK(csv == header + per_case_csv_row(first_case()) + second);
  CHECK(std::count(header.begin(), header.end(), ',') == std::count(second.begin(), second.end(), ','));
  CHECK(second.find(",0.937500,0.687500,") != std::string::npos);  // the oracle, then the Jaccard
}

TEST_CASE("tables.md holds Tables 1-3 and the other measures' means, distances of empty masks left out") {
  const std::string md = evaluation_tables_markdown({first_case(), second_case()});
  CHECK(md.starts_with("## Table 1: coarse segmentation by view (2 cases)\n\n" + markdown_table(table1({first_case(), second_case()}))));
  CHECK(md.find("## Table 2: coarse to fine\n") != std::string::npos);
  CHECK(md.find("## Table 3: compared\n") != std::string::npos);
  // Jaccard (0.5 + 0.6875) / 2; HD95 and ASSD of the second case alone.
  CHECK(md.find("| Jaccard | 0.5938 |\n") != std::string::npos);
  CHECK(md.find("| HD95 (mm) | 4.00 |\n") != std::string::npos);
  CHECK(md.find("| ASSD (mm) | 1.50 |\n") != std::string::npos);
  CHECK(md.find("## Other methods' measures") == std::string::npos);  // none ran
  // The times come last, c2f's alone here: 2.5 s per case, no stage recorded.
  CHECK(md.ends_with("## Seconds per case\n\n| method | seconds per case | busy seconds per case by stage |\n|---|---|---|\n"));
}

namespace {
// The two cases with DeepOrgan run beside c2f: its rows, seconds, stages and candidate figures.
std::vector<CaseEvaluation> with_deeporgan() {
  std::vector<CaseEvaluation> cases{first_case(), second_case()};
  for (std::size_t i = 0; i < 2; ++i) {
    CaseEvaluation& e = cases[i];
    e.stage_seconds[kCoarseToFineRow] = {{"infer", 2.0 + double(i)}, {"load", 0.25}};
    e.baseline_dsc["DeepOrgan G(P0)"] = 0.5;
    e.baseline_dsc["DeepOrgan G(P2)"] = 0.625 + 0.125 * double(i);
    e.baseline_seconds["DeepOrgan G(P0)"] = e.baseline_seconds["DeepOrgan G(P2)"] = 10.0 + 10.0 * double(i);
    e.stage_seconds["DeepOrgan"] = {{"R-ConvNet", 8.0}, {"superpixels", 0.5}};
    e.measures["DeepOrgan candidates (S_RF) sensitivity"] = 0.875 + 0.0625 * double(i);
  }
  return cases;
}
}  // namespace

TEST_CASE("DeepOrgan run beside c2f: its rows, its measures' means and each method's seconds by stage") {
  const std::string md = evaluation_tables_markdown(with_deeporgan());
  CHECK(md.find("| DeepOrgan G(P2) | 68.75 +- 8.84 | 75.00 | 62.50 |  |\n") != std::string::npos);
  CHECK(md.find("## Other methods' measures\n\n| measure | mean |\n|---|---|\n| DeepOrgan candidates (S_RF) sensitivity | 0.9062 |\n") !=
        std::string::npos);
  CHECK(md.find("| c2f (coarse-to-fine) | 2.50 +- 0.00 | infer 2.50, load 0.25 |\n") != std::string::npos);
  CHECK(md.find("| DeepOrgan | 15.00 +- 7.07 | R-ConvNet 8.00, superpixels 0.50 |\n") != std::string::npos);
}

TEST_CASE("a case record keeps the rows, seconds, stages and measures of every method, and older records still read") {
  test::ScratchDir dir("case-record");
  const CaseEvaluation e = with_deeporgan()[1];
  write_text_atomically(dir / "c2.json", case_evaluation_json(e, 3));
  const CaseRecord back = read_case_evaluation(dir / "c2.json");
  CHECK(back.iterations == 3);
  CHECK(back.evaluation.baseline_dsc == e.baseline_dsc);
  CHECK(back.evaluation.baseline_seconds == e.baseline_seconds);
  CHECK(back.evaluation.stage_seconds == e.stage_seconds);
  CHECK(back.evaluation.measures == e.measures);
  CHECK(evaluation_tables_markdown({back.evaluation}) == evaluation_tables_markdown({e}));
  // A record written before times by stage existed: the same, without them.
  auto j = nlohmann::json::parse(case_evaluation_json(first_case(), 3));
  j.erase("baseline_seconds"), j.erase("stage_seconds"), j.erase("measures");
  write_text_atomically(dir / "old.json", j.dump());
  const CaseRecord old = read_case_evaluation(dir / "old.json");
  CHECK(old.evaluation.stage_seconds.empty());
  CHECK(old.evaluation.fine_dsc == first_case().fine_dsc);
}

TEST_CASE("the charts: mean d(t) per iteration, cases per stop iteration, coarse against final DSC") {
  const std::vector<CaseEvaluation> cases{first_case(), second_case()};
  const Chart d_t = mean_d_t_chart(cases, 3);
  CHECK(d_t.kind == Chart::Kind::Line);
  CHECK(d_t.x == std::vector<double>{1, 2, 3});
  REQUIRE(d_t.y.size() == 3);
  CHECK(d_t.y[0] == doctest::Approx(0.93));
  CHECK(d_t.y[1] == doctest::Approx(0.975));
  CHECK(d_t.y[2] == doctest::Approx(0.99));
  CHECK(d_t.y_min == 0.5);  // the axis starts at 0.5 unless a mean lies below

  const Chart stops = stop_iterations_chart(cases, 3);
  CHECK(stops.kind == Chart::Kind::Bars);
  CHECK(stops.y == std::vector<double>{1, 1, 0});  // the second case at t = 1, the first at t = 2
  CHECK(stops.x_max == 4);
  CHECK(stops.y_max == 1);

  const Chart scatter = coarse_vs_final_chart(cases);
  CHECK(scatter.kind == Chart::Kind::Scatter);
  CHECK(scatter.x == std::vector<double>{0.8125, 0.75});
  CHECK(scatter.y == std::vector<double>{0.90234375, 0.8125});
  CHECK(scatter.diagonal);
}
