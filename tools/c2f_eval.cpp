// c2f-eval: the paper's tables (1, 2 and 3) for any cohort, by cross-validation with the models of
// each fold (as c2f-train writes them) or with one model set for every case.
#include <filesystem>
#include <map>
#include <optional>
#include <set>

#include "../evaluation/evaluation.hpp"
#include "../evaluation/metrics.hpp"
#include "../graphs/segmentation_graph.hpp"
#include "../io/cohort.hpp"
#include "../io/folds.hpp"
#include "../io/nifti.hpp"
#include "../io/overlay.hpp"
#include "../io/plot.hpp"
#include "../pipeline/atomic_file.hpp"
#include "../reports/cohort_report.hpp"
#include "../reports/evaluation_report.hpp"
#include "../reports/segmentation_outputs.hpp"
#include "deeporgan_cli.hpp"
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

// The DeepOrgan set that tests a fold's cases: DIR/foldK when DIR holds folds, else DIR itself.
fs::path deeporgan_set(const fs::path& dir, int fold) {
  if (fold < 0 || !fs::exists(dir / "fold0")) return dir;
  const fs::path set = dir / fmt::format("fold{}", fold);
  if (!fs::is_directory(set)) throw c2f::InputError(set.string(), "missing: --deeporgan's folder holds folds, but not this one");
  return set;
}

// DeepOrgan on a fold's cases: Table 3's DeepOrgan rows (G(P0), G(P2), and G(P1) when the set has
// R1-ConvNet), its seconds, its stages' and its candidate stage's figures, into each case's record.
void evaluate_deeporgan(c2f::DeepOrganRun& deep, const Group& group, const c2f::CaseLoader& load,
                        std::map<std::string, c2f::CaseEvaluation>& by_id, bool quiet) {
  deep.options.run_r1 = deep.networks->has(c2f::DeepOrganNet::R1);
  const std::array<std::pair<const char*, const char*>, 3> rows{
      {{"dsc_g_p0", "DeepOrgan G(P0)"}, {"dsc_g_p1", "DeepOrgan G(P1)"}, {"dsc_g_p2", "DeepOrgan G(P2)"}}};
  const std::array<std::pair<const char*, const char*>, 3> measures{
      {{"dsc_candidates", "DeepOrgan candidates (S_RF) DSC"},
       {"sensitivity_candidates", "DeepOrgan candidates (S_RF) sensitivity"},
       {"dsc_superpixel_upper_bound", "DeepOrgan superpixel upper bound DSC"}}};
  c2f::segment_deeporgan(group.cases.size(), load, deep.cascade, *deep.networks, deep.options, [&](c2f::CaseResult&& r) {
    if (!r.error.empty()) throw c2f::InputError(group.cases[r.index].image.string(), r.error);
    c2f::CaseEvaluation& e = by_id.at(r.input.id);
    for (const auto& [key, row] : rows)
      if (const auto it = r.measures.find(key); it != r.measures.end()) {
        e.baseline_dsc[row] = it->second;
        e.baseline_seconds[row] = r.seconds;
      }
    for (const auto& [key, name] : measures)
      if (const auto it = r.measures.find(key); it != r.measures.end()) e.measures[name] = it->second;
    e.stage_seconds["DeepOrgan"] = r.stage_seconds;
    if (!quiet)
      fmt::print(stderr, "c2f-eval: fold {} {}: DeepOrgan G(P2) {:.4f} ({:.1f} s)\n", group.fold, e.id,
                 e.baseline_dsc.at("DeepOrgan G(P2)"), r.seconds);
  });
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

// --merge: the cohort's tables from the case records its parts wrote under out/cases/, in the
// order a whole run writes them (fold by fold, each fold's cases by id).
int merge(const std::vector<Group>& groups, const fs::path& out, std::optional<int> iterations) {
  std::vector<c2f::CaseEvaluation> cases;
  std::vector<std::string> missing;
  int rounds = -1;
  for (const Group& group : groups) {
    std::vector<std::string> ids;
    for (const auto& c : group.cases) ids.push_back(c.id);
    std::sort(ids.begin(), ids.end());
    for (const std::string& id : ids) {
      const fs::path file = c2f::case_evaluation_file(out, id);
      if (!fs::exists(file)) {
        missing.push_back(id);
        continue;
      }
      c2f::CaseRecord record = c2f::read_case_evaluation(file);
      c2f::CaseEvaluation& e = record.evaluation;
      if (e.id != id) throw c2f::InputError(file.string(), "holds case " + e.id + ", not " + id);
      if (e.fold != group.fold)
        throw c2f::InputError(file.string(), fmt::format("was evaluated by fold {}'s models; the folds put the case in fold {}",
                                                         e.fold, group.fold));
      if (rounds < 0) rounds = record.iterations;
      if (record.iterations != rounds)
        throw c2f::InputError(file.string(), fmt::format("was evaluated with --iterations {}, the cases before it with {}",
                                                         record.iterations, rounds));
      cases.push_back(std::move(e));
    }
  }
  if (!missing.empty())
    throw c2f::InputError(c2f::case_evaluation_file(out, missing.front()).string(),
                          fmt::format("missing: {} of the cohort's {} case(s) have no record yet; run their parts first",
                                      missing.size(), missing.size() + cases.size()));
  if (iterations && *iterations != rounds)
    throw c2f::OptionError(fmt::format("--iterations {}: the parts ran {}", *iterations, rounds));
  c2f::write_evaluation_outputs(out, cases, rounds);
  fmt::print("{}\n{} case(s), {} fold(s), merged from {}\nreport: {}\n", c2f::evaluation_tables_markdown(cases),
             cases.size(), groups.size(), (out / "cases").string(), c2f::write_cohort_report(out).string());
  return 0;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"The paper's tables for a cohort: coarse views, fine iterations, stop rules, oracle box, baselines",
               "c2f-eval"};
  std::string input, out, models, folds_file;
  std::vector<std::string> baselines;
  std::string deeporgan;
  c2f::SegmentationOptions o;
  int iterations = 10;
  bool no_oracle = false, quiet = false;
  app.add_option("-i,--input", input, "cohort folder with labels (NIH, MSD or plain layout)")->required();
  app.add_option("-m,--models", models, "model folder: fold0, fold1, ... (cross-validation) or one set of six")
      ->required();
  app.add_option("-o,--out", out, "folder for tables, per-case CSV and plots")->required();
  app.add_option("--folds", folds_file, "fold file (default: MODELS/folds.json)");
  auto* iterations_option = app.add_option("--iterations", iterations, "fine iterations run for every case (Table 2 needs 10)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  c2f::PresetCli preset;
  preset.add_to(app);
  app.add_option("--baseline", baselines, "NAME=DIR: masks of another method (DIR/<case>/mask.nii.gz or DIR/<case>.nii.gz)");
  app.add_option("--deeporgan", deeporgan,
                 "also run DeepOrgan (Roth et al. 2015) on the same cases and folds, with the sets c2f-train --method "
                 "deeporgan wrote (DIR/fold0, ... or one set), for Table 3's DeepOrgan rows");
  app.add_flag("--no-oracle", no_oracle, "skip the oracle-box row");
  app.add_flag("--coarse-post-processing", o.coarse_post_processing,
               "keep the coarse mask's components of at least half the largest before its box (not in the paper)");
  c2f::InferenceCli inference;
  inference.add_to(app);
  app.add_option("--cases-in-flight", o.cases_in_flight, "cases processed at once")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_option("--batch", o.batch_slices, "3-slice images per forward pass")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_flag("-q,--quiet", quiet, "no progress lines");
  c2f::ShareCli share_cli;
  share_cli.add_to(app, "build the tables, per_case.csv and the charts from the case records the parts wrote "
                        "(OUT/cases/<case>.json); evaluates nothing");

  return c2f::run_tool(app, argc, argv, [&] {
    o = preset.apply(o);
    if (iterations < 1) throw c2f::OptionError("at least one fine iteration is needed");
    if (!deeporgan.empty() && !fs::is_directory(deeporgan)) throw c2f::InputError(deeporgan, "--deeporgan: no such folder");
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
    auto groups = plan_groups(cohort, models, folds_file);
    const c2f::CohortShare share = share_cli.resolve();
    if (share_cli.merge) {
      if (!fs::is_directory(out)) throw c2f::InputError(out, "no such output folder: run the parts into it first");
      return merge(groups, out, iterations_option->count() ? std::optional<int>(iterations) : std::nullopt);
    }
    // A part keeps its share of each fold's cases; which fold tests a case stays the folds'.
    std::size_t part_cases = 0;
    if (!share.whole()) {
      std::vector<std::string> ids;
      for (const auto& c : cohort.cases) ids.push_back(c.id);
      std::set<std::string> mine;
      for (const std::size_t i : c2f::share_of(ids, share)) mine.insert(ids[i]);
      for (Group& g : groups) {
        std::erase_if(g.cases, [&](const c2f::CaseSource& c) { return !mine.count(c.id); });
        part_cases += g.cases.size();
      }
      if (!quiet)
        fmt::print(stderr, "c2f-eval: {} (from {}): {} of the cohort's {} case(s)\n", share.describe(), share.source,
                   part_cases, ids.size());
      if (part_cases == 0) return 0;  // more parts than cases: this one has nothing to do
    }
    // Each fold's DeepOrgan set, opened before anything runs: a wrong folder fails at once.
    std::vector<c2f::DeepOrganRun> deeporgan_sets;
    if (!deeporgan.empty())
      for (const Group& group : groups) deeporgan_sets.push_back(c2f::open_deeporgan(deeporgan_set(deeporgan, group.fold)));

    fs::create_directories(out);

    std::vector<c2f::CaseEvaluation> cases;
    const auto t0 = c2f::StageClock::now();
    double model_seconds = 0, wall_seconds = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
      const Group& group = groups[g];
      if (group.cases.empty()) continue;  // none of this part's cases is in the fold
      c2f::NetworkInference networks(group.models, inference.options);
      const auto& set = networks.info();
      o.window = set.window;
      c2f::use_network_grid(o, set);
      const auto load = [&](std::size_t i) { return c2f::load_case(group.cases[i]); };
      std::map<std::string, c2f::CaseEvaluation> by_id;
      const auto sink = [&](c2f::CaseResult&& r) {
        if (!r.error.empty()) throw c2f::InputError(group.cases[r.index].image.string(), r.error);
        c2f::CaseEvaluation e = c2f::evaluate_case(r, group.fold);
        e.stage_seconds[c2f::kCoarseToFineRow] = r.stage_seconds;
        c2f::remove_stale_case_temporaries(fs::path(out) / r.input.id);  // left by a run killed mid-write
        c2f::write_evaluation_case_outputs(out, r, group.fold);
        for (const auto& [name, dir] : baseline_dirs) e.baseline_dsc[name] = c2f::dice(read_baseline(dir, e.id, *r.input.label), *r.input.label);
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
      if (!deeporgan.empty()) evaluate_deeporgan(deeporgan_sets[g], group, load, by_id, quiet);
      // Each case's record, for a merge of parts (and of this whole run) to build the tables from.
      fs::create_directories(fs::path(out) / "cases");
      for (auto& [id, e] : by_id) {
        const fs::path file = c2f::case_evaluation_file(out, id);
        c2f::remove_stale_temporaries(file);
        c2f::write_text_atomically(file, c2f::case_evaluation_json(e, iterations));
        cases.push_back(std::move(e));
      }
    }

    if (!share.whole()) {  // a part's share makes no tables of its own: the merge makes the cohort's
      fmt::print("{}: {} case(s) evaluated in {:.1f} s, records in {}; once every part is done: c2f-eval --merge\n",
                 share.describe(), cases.size(), c2f::seconds_since(t0), (fs::path(out) / "cases").string());
      return 0;
    }
    const std::string tables = c2f::evaluation_tables_markdown(cases);
    c2f::write_evaluation_outputs(out, cases, iterations);
    const fs::path page = c2f::write_cohort_report(out);

    fmt::print("{}\n{} case(s), {} fold(s), {:.1f} s in all ({:.1f} s of it in the networks, first pass)\n", tables,
               cases.size(), groups.size(), c2f::seconds_since(t0), model_seconds);
    fmt::print("report: {}\n", page.string());
    (void)wall_seconds;
    return 0;
  });
}
