#include "evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

namespace c2f {

int stop_iteration(const std::vector<double>& d_t, double threshold) {
  for (std::size_t t = 0; t < d_t.size(); ++t)
    if (d_t[t] > threshold) return int(t) + 1;
  return int(d_t.size());
}

namespace {
std::pair<double, double> mean_sd(const std::vector<double>& v) {
  if (v.empty()) return {0, 0};
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return {mean, v.size() > 1 ? std::sqrt(ss / double(v.size() - 1)) : 0.0};
}

// DSC of S(t) with t clamped to the iterations run (a case may have stopped earlier).
double fine_at(const CaseEvaluation& c, int t) {
  if (c.fine_dsc.empty()) return c.coarse_dsc;
  return c.fine_dsc[std::size_t(std::min<int>(t, int(c.fine_dsc.size())) - 1)];
}
}  // namespace

TableRow make_row(std::string name, std::vector<double> dsc) {
  TableRow r{std::move(name), std::move(dsc)};
  std::tie(r.mean, r.sd) = mean_sd(r.dsc);
  if (!r.dsc.empty()) {
    r.max = *std::max_element(r.dsc.begin(), r.dsc.end());
    r.min = *std::min_element(r.dsc.begin(), r.dsc.end());
  }
  return r;
}

std::vector<TableRow> table1(const std::vector<CaseEvaluation>& cases) {
  std::vector<TableRow> rows;
  const char* names[3] = {"coarse, coronal", "coarse, sagittal", "coarse, axial"};
  for (std::size_t v = 0; v < 3; ++v) {
    std::vector<double> d;
    for (const auto& c : cases) d.push_back(c.view_dsc[v]);
    rows.push_back(make_row(names[v], d));
  }
  std::vector<double> fused;
  for (const auto& c : cases) fused.push_back(c.coarse_dsc);
  rows.push_back(make_row("coarse, fused", fused));
  return rows;
}

std::vector<TableRow> table2(const std::vector<CaseEvaluation>& cases) {
  std::vector<TableRow> rows;
  std::vector<double> d;
  for (const auto& c : cases) d.push_back(c.coarse_dsc);
  rows.push_back(make_row("coarse", d));
  int most = 0;
  for (const auto& c : cases) most = std::max(most, int(c.fine_dsc.size()));
  for (int t : {1, 2, 3, 5, 10}) {
    if (t > most) break;
    d.clear();
    for (const auto& c : cases) d.push_back(fine_at(c, t));
    rows.push_back(make_row(fmt::format("fine, {} iteration{}", t, t == 1 ? "" : "s"), d));
  }
  for (double threshold : {0.90, 0.95, 0.98, 0.99}) {
    d.clear();
    std::vector<double> its;
    for (const auto& c : cases) {
      const int t = stop_iteration(c.d_t, threshold);
      its.push_back(t);
      d.push_back(fine_at(c, t));
    }
    TableRow r = make_row(fmt::format("fine, stop at d(t) > {:.2f}", threshold), d);
    std::tie(r.iterations_mean, r.iterations_sd) = mean_sd(its);
    rows.push_back(r);
  }
  d.clear();
  for (const auto& c : cases)
    d.push_back(c.fine_dsc.empty() ? c.coarse_dsc : *std::max_element(c.fine_dsc.begin(), c.fine_dsc.end()));
  rows.push_back(make_row("fine, best of all iterations", d));
  if (std::all_of(cases.begin(), cases.end(), [](const auto& c) { return c.oracle_dsc >= 0; }) && !cases.empty()) {
    d.clear();
    for (const auto& c : cases) d.push_back(c.oracle_dsc);
    rows.push_back(make_row("fine, oracle bounding box", d));
  }
  return rows;
}

std::vector<TableRow> table3(const std::vector<CaseEvaluation>& cases, double stop_dsc) {
  std::vector<TableRow> rows;
  std::vector<double> d, seconds;
  for (const auto& c : cases) d.push_back(fine_at(c, stop_iteration(c.d_t, stop_dsc)));
  for (const auto& c : cases) seconds.push_back(c.seconds);
  rows.push_back(make_row(kCoarseToFineRow, d));
  std::tie(rows.back().seconds_mean, rows.back().seconds_sd) = mean_sd(seconds);
  std::vector<std::string> names;
  for (const auto& c : cases)
    for (const auto& [name, dsc] : c.baseline_dsc)
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  for (const auto& name : names) {
    d.clear();
    seconds.clear();
    for (const auto& c : cases) {
      const auto it = c.baseline_dsc.find(name);
      d.push_back(it == c.baseline_dsc.end() ? 0.0 : it->second);  // a missing mask counts as nothing found
      const auto t = c.baseline_seconds.find(name);
      if (t != c.baseline_seconds.end()) seconds.push_back(t->second);
    }
    rows.push_back(make_row(name, d));
    if (seconds.size() == cases.size()) std::tie(rows.back().seconds_mean, rows.back().seconds_sd) = mean_sd(seconds);
  }
  return rows;
}

std::vector<MethodTime> method_times(const std::vector<CaseEvaluation>& cases) {
  std::vector<std::string> methods;  // c2f first, then the others by name
  for (const auto& c : cases)
    if (c.stage_seconds.count(kCoarseToFineRow) && methods.empty()) methods.push_back(kCoarseToFineRow);
  for (const auto& c : cases)
    for (const auto& [method, stages] : c.stage_seconds)
      if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
  std::vector<MethodTime> out;
  for (const std::string& method : methods) {
    MethodTime m;
    m.method = method;
    std::vector<double> totals;
    std::map<std::string, double> sums;
    for (const auto& c : cases) {
      const auto it = c.stage_seconds.find(method);
      if (it == c.stage_seconds.end()) continue;
      double total = c.seconds;  // c2f's own
      if (method != kCoarseToFineRow) {
        total = 0;
        for (const auto& [row, s] : c.baseline_seconds)
          if (row.rfind(method, 0) == 0) total = s;  // the method's rows share one run's time
      }
      totals.push_back(total);
      for (const auto& [stage, s] : it->second) sums[stage] += s;
    }
    std::tie(m.mean, m.sd) = mean_sd(totals);
    for (const auto& [stage, s] : sums) m.stages.emplace_back(stage, s / double(totals.size()));
    std::stable_sort(m.stages.begin(), m.stages.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    out.push_back(std::move(m));
  }
  return out;
}

std::map<std::string, double> mean_measures(const std::vector<CaseEvaluation>& cases) {
  std::map<std::string, std::pair<double, int>> sums;
  for (const auto& c : cases)
    for (const auto& [name, v] : c.measures)
      if (!std::isnan(v)) sums[name].first += v, ++sums[name].second;
  std::map<std::string, double> out;
  for (const auto& [name, s] : sums) out[name] = s.first / s.second;
  return out;
}

std::string markdown_table(const std::vector<TableRow>& rows) {
  std::string out = "| method | mean DSC (%) | max | min | iterations |\n|---|---|---|---|---|\n";
  for (const auto& r : rows)
    out += fmt::format("| {} | {:.2f} +- {:.2f} | {:.2f} | {:.2f} | {} |\n", r.name, 100 * r.mean, 100 * r.sd, 100 * r.max,
                       100 * r.min,
                       r.iterations_mean >= 0 ? fmt::format("{:.2f} +- {:.2f}", r.iterations_mean, r.iterations_sd) : "");
  return out;
}

std::string csv_table(const std::vector<TableRow>& rows) {
  const auto optional = [](double v) { return v >= 0 ? fmt::format("{:.4f}", v) : std::string(); };
  std::string out =
      "method,mean_dsc_percent,sd_percent,max_percent,min_percent,iterations_mean,iterations_sd,cases,seconds_mean,seconds_sd\n";
  for (const auto& r : rows)
    out += fmt::format("\"{}\",{:.4f},{:.4f},{:.4f},{:.4f},{},{},{},{},{}\n", r.name, 100 * r.mean, 100 * r.sd, 100 * r.max,
                       100 * r.min, optional(r.iterations_mean), optional(r.iterations_sd), r.dsc.size(),
                       optional(r.seconds_mean), optional(r.seconds_sd));
  return out;
}

}  // namespace c2f
