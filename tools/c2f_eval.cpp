// c2f-eval: the paper's tables (1, 2 and 3) for any cohort, by cross-validation with the models of
// each fold (as c2f-train writes them) or with one model set for every case.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <map>

#include "../graphs/segmentation_graph.hpp"
#include "../io/cohort.hpp"
#include "../io/folds.hpp"
#include "../io/nifti.hpp"
#include "../io/overlay.hpp"
#include "../io/plot.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../evaluation/evaluation.hpp"
#include "../evaluation/metrics.hpp"
#include "inference_cli.hpp"
#include "tool_main.hpp"

namespace fs = std::filesystem;

namespace {
struct Group {
  int fold = -1;
  fs::path models;
  std::vector<c2f::CaseSource> cases;
};

// Cross-validation when the model folder holds fold0, fold1, ... (and the fold file), else one
// model set for every case.
std::vector<Group> plan_groups(const c2f::Cohort& cohort, const fs::path& models, const std::string& folds_file) {
  std::map<std::string, c2f::CaseSource> by_id;
  for (const auto& c : cohort.cases) by_id[c.id] = c;
  const fs::path fold_path = folds_file.empty() ? models / "folds.json" : fs::path(folds_file);
  if (!fs::exists(models / "fold0")) {
    if (!folds_file.empty()) throw c2f::InputError(models.string(), "has no fold0/ model folder for --folds");
    return {Group{-1, models, cohort.cases}};
  }
  const c2f::Folds folds = c2f::read_folds(fold_path);
  std::vector<Group> groups;
  for (std::size_t k = 0; k < folds.folds.size(); ++k) {
    Group g{int(k), models / fmt::format("fold{}", k), {}};
    for (const auto& id : folds.folds[k]) {
      const auto it = by_id.find(id);
      if (it == by_id.end()) throw c2f::InputError(fold_path.string(), "names case " + id + ", which the cohort does not hold");
      g.cases.push_back(it->second);
    }
    groups.push_back(std::move(g));
  }
  return groups;
}

c2f::Mask read_baseline(const fs::path& dir, const std::string& id, const c2f::Mask& truth) {
  for (const fs::path& p : {dir / id / "mask.nii.gz", dir / (id + ".nii.gz"), dir / (id + ".nii")})
    if (fs::exists(p)) {
      c2f::Mask m = c2f::read_nifti_mask(p).mask;
      if (m.dims() != truth.dims()) throw c2f::InputError(p.string(), "is not on the case's grid");
      return m;
    }
  return c2f::Mask(truth.geometry(), 0);
}

std::string number(double v) { return std::isnan(v) ? std::string() : fmt::format("{:.6f}", v); }
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The paper's tables for a cohort: coarse views, fine iterations, stop rules, oracle box, baselines",
               "c2f-eval"};
  std::string input, out, models, folds_file;
  std::vector<std::string> baselines;
  c2f::SegmentationOptions o;
  int iterations = 10;
  bool no_oracle = false, quiet = false;
  app.add_option("-i,--input", input, "cohort folder with labels (NIH, MSD or plain layout)")->required();
  app.add_option("-m,--models", models, "model folder: fold0, fold1, ... (cross-validation) or one set of six")
      ->required();
  app.add_option("-o,--out", out, "folder for tables, per-case CSV and plots")->required();
  app.add_option("--folds", folds_file, "fold file (default: MODELS/folds.json)");
  app.add_option("--iterations", iterations, "fine iterations run for every case (Table 2 needs 10)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  c2f::PresetCli preset;
  preset.add_to(app);
  app.add_option("--baseline", baselines, "NAME=DIR: masks of another method (DIR/<case>/mask.nii.gz or DIR/<case>.nii.gz)");
  app.add_flag("--no-oracle", no_oracle, "skip the oracle-box row");
  app.add_flag("--coarse-post-processing", o.coarse_post_processing,
               "keep the coarse mask's components of at least half the largest before its box (not in the paper)");
  c2f::InferenceCli inference;
  inference.add_to(app);
  app.add_option("--cases-in-flight", o.cases_in_flight, "cases processed at once")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_option("--batch", o.batch_slices, "3-slice images per forward pass")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_flag("-q,--quiet", quiet, "no progress lines");

  return c2f::run_tool(app, argc, argv, [&] {
    o = preset.apply(o);
    if (iterations < 1) throw c2f::OptionError("at least one fine iteration is needed");
    std::map<std::string, fs::path> baseline_dirs;
    for (const auto& b : baselines) {
      const auto eq = b.find('=');
      if (eq == std::string::npos || eq == 0) throw c2f::OptionError("baseline '" + b + "' is not NAME=DIR");
      const fs::path dir = b.substr(eq + 1);
      if (!fs::is_directory(dir)) throw c2f::InputError(dir.string(), "baseline folder does not exist");
      baseline_dirs[b.substr(0, eq)] = dir;
    }
    // One pass runs every case to T without the stop rule; every row is read off its rounds.
    o.convergence.max_iterations = iterations;
    o.convergence.stop_dsc = 1.0;  // d(t) > 1 never holds
    o.keep_iterations = true;
    o.validate();
    inference.apply();

    const c2f::Cohort cohort = c2f::discover_cohort(input);
    for (const auto& c : cohort.cases)
      if (c.label.empty()) throw c2f::InputError(c.image.string(), "has no label: evaluation needs every case's label");
    const auto groups = plan_groups(cohort, models, folds_file);
    fs::create_directories(out);

    std::vector<c2f::CaseEvaluation> cases;
    std::string per_case =
        "case,fold,dsc_coronal,dsc_sagittal,dsc_axial,dsc_coarse,"
        "dsc_fine_1,dsc_fine_2,dsc_fine_3,dsc_fine_5,dsc_fine_10,iterations_095,dsc_stop_090,dsc_stop_095,dsc_stop_098,"
        "dsc_stop_099,dsc_best,dsc_oracle,jaccard,precision,recall,hd95_mm,assd_mm,coarse_hd95_mm,coarse_assd_mm,seconds\n";
    const auto t0 = c2f::StageClock::now();
    double model_seconds = 0, wall_seconds = 0;
    for (const Group& group : groups) {
      c2f::NetworkInference networks(group.models, inference.options);
      const auto& set = networks.info();
      o.window = set.window;
      c2f::use_network_grid(o, set);
      const auto load = [&](std::size_t i) { return c2f::load_case(group.cases[i]); };
      std::map<std::string, c2f::CaseEvaluation> by_id;
      const auto sink = [&](c2f::CaseResult&& r) {
        if (!r.error.empty()) throw c2f::InputError(group.cases[r.index].image.string(), r.error);
        c2f::CaseEvaluation e;
        e.id = r.input.id;
        e.fold = group.fold;
        e.view_dsc = r.rounds[0].view_dsc;
        e.coarse_dsc = r.rounds[0].dsc;
        for (std::size_t t = 1; t < r.rounds.size(); ++t) {
          e.fine_dsc.push_back(r.rounds[t].dsc);
          e.d_t.push_back(r.rounds[t].d_t);
        }
        e.coarse = c2f::segmentation_metrics(*r.round_masks.front(), *r.input.label);
        e.final = c2f::segmentation_metrics(*r.round_masks[std::size_t(c2f::stop_iteration(e.d_t, 0.95))], *r.input.label);
        for (const auto& [name, dir] : baseline_dirs) e.baseline_dsc[name] = c2f::dice(read_baseline(dir, e.id, *r.input.label), *r.input.label);
        e.seconds = r.seconds;
        by_id[e.id] = e;
        if (!quiet)
          fmt::print(stderr, "c2f-eval: fold {} {}: coarse {:.4f}, stop at 0.95 {:.4f}\n", group.fold, e.id, e.coarse_dsc,
                     e.final.dice);
      };
      const auto report = c2f::segment_cases(group.cases.size(), load, networks, o, sink);
      wall_seconds += report.seconds;
      for (const auto& s : report.stages)
        if (s.stage == "infer") model_seconds += s.busy_seconds;
      if (!no_oracle) {
        c2f::SegmentationOptions oracle = o;
        oracle.oracle_box = true;
        oracle.keep_iterations = false;
        oracle.convergence.max_iterations = 1;
        c2f::segment_cases(group.cases.size(), load, networks, oracle, [&](c2f::CaseResult&& r) {
          if (!r.error.empty()) throw c2f::InputError(group.cases[r.index].image.string(), r.error);
          by_id.at(r.input.id).oracle_dsc = r.rounds.back().dsc;
        });
      }
      for (auto& [id, e] : by_id) cases.push_back(std::move(e));
    }

    const auto t1 = c2f::table1(cases), t2 = c2f::table2(cases), t3 = c2f::table3(cases);
    for (const auto& e : cases) {
      const auto fine = [&](int t) { return e.fine_dsc[std::size_t(std::min<int>(t, int(e.fine_dsc.size())) - 1)]; };
      const auto stop = [&](double th) { return fine(c2f::stop_iteration(e.d_t, th)); };
      const auto at = [&](int t) { return t <= int(e.fine_dsc.size()) ? number(fine(t)) : std::string(); };
      per_case += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.3f}\n", e.id,
                              e.fold, number(e.view_dsc[0]), number(e.view_dsc[1]), number(e.view_dsc[2]),
                              number(e.coarse_dsc), at(1), at(2), at(3), at(5), at(10), c2f::stop_iteration(e.d_t, 0.95),
                              number(stop(0.90)), number(stop(0.95)), number(stop(0.98)), number(stop(0.99)),
                              number(*std::max_element(e.fine_dsc.begin(), e.fine_dsc.end())),
                              e.oracle_dsc >= 0 ? number(e.oracle_dsc) : "", number(e.final.jaccard),
                              number(e.final.precision), number(e.final.recall), number(e.final.hd95_mm),
                              number(e.final.assd_mm), number(e.coarse.hd95_mm), number(e.coarse.assd_mm), e.seconds);
    }
    // Extra measures of the final result, mean over cases (NaN distances, from empty masks, left out).
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
    const std::string tables = fmt::format(
        "## Table 1: coarse segmentation by view ({} cases)\n\n{}\n## Table 2: coarse to fine\n\n{}\n"
        "## Table 3: compared\n\n{}\n## Other measures\n\n{}",
        cases.size(), c2f::markdown_table(t1), c2f::markdown_table(t2), c2f::markdown_table(t3), extra);
    const fs::path dir(out);
    c2f::write_text_atomically(dir / "tables.md", tables);
    c2f::write_text_atomically(dir / "table1.csv", c2f::csv_table(t1));
    c2f::write_text_atomically(dir / "table2.csv", c2f::csv_table(t2));
    c2f::write_text_atomically(dir / "table3.csv", c2f::csv_table(t3));
    c2f::write_text_atomically(dir / "per_case.csv", per_case);

    // Figure 3 of the paper: mean d(t) against t, and how many iterations d(t) > 0.95 needed.
    c2f::Chart dt;
    dt.kind = c2f::Chart::Kind::Line, dt.title = "mean d(t) over cases", dt.x_label = "iteration t", dt.y_label = "d(t)";
    for (int t = 1; t <= iterations; ++t) {
      double s = 0;
      for (const auto& e : cases) s += e.d_t[std::size_t(t - 1)];
      dt.x.push_back(t);
      dt.y.push_back(s / double(cases.size()));
    }
    dt.x_min = 1, dt.x_max = iterations, dt.y_min = std::min(0.5, *std::min_element(dt.y.begin(), dt.y.end())), dt.y_max = 1;
    c2f::write_png(dir / "d_t.png", c2f::draw_chart(dt));
    c2f::Chart hist;
    hist.kind = c2f::Chart::Kind::Bars, hist.title = "iterations until d(t) > 0.95", hist.x_label = "iterations",
    hist.y_label = "cases";
    std::vector<double> counts(std::size_t(iterations), 0);
    for (const auto& e : cases) counts[std::size_t(c2f::stop_iteration(e.d_t, 0.95) - 1)] += 1;
    for (int t = 1; t <= iterations; ++t) hist.x.push_back(t), hist.y.push_back(counts[std::size_t(t - 1)]);
    hist.x_min = 0, hist.x_max = iterations + 1, hist.y_max = std::max(1.0, *std::max_element(counts.begin(), counts.end()));
    c2f::write_png(dir / "iterations.png", c2f::draw_chart(hist));
    c2f::Chart scatter;
    scatter.kind = c2f::Chart::Kind::Scatter, scatter.title = "DSC per case", scatter.x_label = "coarse DSC",
    scatter.y_label = "final DSC (d(t) > 0.95)";
    for (const auto& e : cases) scatter.x.push_back(e.coarse_dsc), scatter.y.push_back(e.final.dice);
    scatter.diagonal = true;
    c2f::write_png(dir / "dsc_coarse_vs_fine.png", c2f::draw_chart(scatter));

    fmt::print("{}\n{} case(s), {} fold(s), {:.1f} s in all ({:.1f} s of it in the networks, first pass)\n", tables,
               cases.size(), groups.size(), c2f::seconds_since(t0), model_seconds);
    (void)wall_seconds;
    return 0;
  });
}
