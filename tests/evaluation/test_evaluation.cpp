#include <doctest/doctest.h>

#include <cmath>

#include "../../evaluation/evaluation.hpp"

using namespace c2f;

namespace {
CaseEvaluation record(double coarse, std::vector<double> fine, std::vector<double> d_t, double oracle = -1) {
  CaseEvaluation c;
  c.coarse_dsc = coarse;
  c.view_dsc = {coarse - 0.1, coarse - 0.05, coarse};
  c.fine_dsc = std::move(fine);
  c.d_t = std::move(d_t);
  c.oracle_dsc = oracle;
  return c;
}
const TableRow& row(const std::vector<TableRow>& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r.name == name) return r;
  FAIL("no row " << name);
  return rows.front();
}
}  // namespace

TEST_CASE("stop_iteration is the first t with d(t) above the threshold, else T") {
  CHECK(stop_iteration({0.5, 0.96, 0.99}, 0.95) == 2);
  CHECK(stop_iteration({0.5, 0.96, 0.99}, 0.98) == 3);
  CHECK(stop_iteration({0.5, 0.6}, 0.95) == 2);
  CHECK(stop_iteration({0.95}, 0.95) == 1);  // T = 1
}

TEST_CASE("Table 2 rows from one pass per case, computed by hand") {
  // Case A converges at t = 2 (d = 0.97), case B never does within T = 3.
  const std::vector<CaseEvaluation> cases{
      record(0.60, {0.70, 0.80, 0.75}, {0.50, 0.97, 0.99}, 0.90),
      record(0.40, {0.50, 0.60, 0.70}, {0.40, 0.80, 0.91}, 0.80),
  };
  const auto t2 = table2(cases);
  CHECK(row(t2, "coarse").mean == doctest::Approx(0.50));
  CHECK(row(t2, "coarse").sd == doctest::Approx(0.1414214));  // sample SD of 0.6, 0.4
  CHECK(row(t2, "fine, 1 iteration").mean == doctest::Approx(0.60));
  CHECK(row(t2, "fine, 3 iterations").max == doctest::Approx(0.75));
  CHECK(row(t2, "fine, 3 iterations").min == doctest::Approx(0.70));
  const TableRow& s95 = row(t2, "fine, stop at d(t) > 0.95");
  CHECK(s95.dsc == std::vector<double>{0.80, 0.70});  // A at t = 2, B at T = 3
  CHECK(s95.iterations_mean == doctest::Approx(2.5));
  CHECK(row(t2, "fine, stop at d(t) > 0.90").dsc == std::vector<double>{0.80, 0.70});  // B: d(3) = 0.91
  CHECK(row(t2, "fine, stop at d(t) > 0.98").dsc == std::vector<double>{0.75, 0.70});
  CHECK(row(t2, "fine, best of all iterations").dsc == std::vector<double>{0.80, 0.70});
  CHECK(row(t2, "fine, oracle bounding box").mean == doctest::Approx(0.85));
  for (const auto& r : t2) CHECK(r.name != "fine, 5 iterations");  // T = 3: no such row
  const auto t1 = table1(cases);
  CHECK(t1.size() == 4);
  CHECK(row(t1, "coarse, coronal").mean == doctest::Approx(0.40));
  const std::string md = markdown_table(t2);
  CHECK(md.find("| fine, stop at d(t) > 0.95 | 75.00 +- 7.07 | 80.00 | 70.00 | 2.50 +- 0.71 |") != std::string::npos);
  CHECK(csv_table(t2).find("\"coarse\",50.0000,14.1421,60.0000,40.0000,,,2") != std::string::npos);
}

TEST_CASE("Table 3 sets the method beside the baselines, a missing baseline mask counts as 0") {
  auto a = record(0.6, {0.8}, {0.99}), b = record(0.5, {0.7}, {0.99});
  a.baseline_dsc["other"] = 0.5;
  const auto t3 = table3({a, b});
  REQUIRE(t3.size() == 2);
  CHECK(t3[0].mean == doctest::Approx(0.75));
  CHECK(t3[1].dsc == std::vector<double>{0.5, 0.0});
}

TEST_CASE("Table 3 gives the seconds per case of each method run here, none for masks read from a folder") {
  CaseEvaluation a, b;
  a.fine_dsc = b.fine_dsc = {0.5};
  a.d_t = b.d_t = {0.99};
  a.seconds = 2, b.seconds = 4;
  a.baseline_dsc["DeepOrgan G(P2)"] = 0.25, b.baseline_dsc["DeepOrgan G(P2)"] = 0.75;
  a.baseline_seconds["DeepOrgan G(P2)"] = 30, b.baseline_seconds["DeepOrgan G(P2)"] = 50;
  a.baseline_dsc["read"] = b.baseline_dsc["read"] = 0.5;
  a.stage_seconds[kCoarseToFineRow] = {{"infer", 1.5}};
  b.stage_seconds[kCoarseToFineRow] = {{"infer", 3.5}, {"load", 0.5}};
  a.stage_seconds["DeepOrgan"] = b.stage_seconds["DeepOrgan"] = {{"R-ConvNet", 20}};
  a.measures["m"] = 0.5, b.measures["m"] = std::nan("");  // NaN: not counted
  const auto rows = table3({a, b});
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].seconds_mean == doctest::Approx(3));
  CHECK(rows[0].seconds_sd == doctest::Approx(std::sqrt(2.0)));
  CHECK(rows[1].name == "DeepOrgan G(P2)");
  CHECK(rows[1].seconds_mean == doctest::Approx(40));
  CHECK(rows[2].seconds_mean == -1);
  CHECK(csv_table(rows).find("\"read\",50.0000,0.0000,50.0000,50.0000,,,2,,\n") != std::string::npos);
  const auto times = method_times({a, b});
  REQUIRE(times.size() == 2);
  CHECK(times[0].method == kCoarseToFineRow);
  CHECK(times[0].mean == doctest::Approx(3));
  REQUIRE(times[0].stages.size() == 2);
  CHECK(times[0].stages[0].first == "infer");  // largest first
  CHECK(times[0].stages[0].second == doctest::Approx(2.5));
  CHECK(times[0].stages[1].second == doctest::Approx(0.25));  // absent in a: 0 there
  CHECK(times[1].method == "DeepOrgan");
  CHECK(times[1].mean == doctest::Approx(40));
  CHECK(mean_measures({a, b}).at("m") == 0.5);
}
