#include <doctest/doctest.h>

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
