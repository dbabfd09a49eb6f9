// c2f-segment: the paper's coarse-to-fine pancreas segmentation of one CT, a DICOM series or a
// whole cohort, with a trained model set (the shipped phantom weights by default).
#include <unistd.h>

#include <filesystem>

#include "../graphs/segmentation_graph.hpp"
#include "../reports/cohort_report.hpp"
#include "../reports/segmentation_outputs.hpp"
#include "../reports/segmentation_summary.hpp"
#include "../io/cohort.hpp"
#include "../io/nifti.hpp"
#include "../pipeline/atomic_file.hpp"
#include "inference_cli.hpp"
#ifdef C2F_HAVE_DEEPORGAN
#include "deeporgan_cli.hpp"
#endif
#include "tool_main.hpp"

namespace fs = std::filesystem;

namespace {
// The shipped weights of each method (installed under share/c2f, else the source tree's).
fs::path default_models(bool deeporgan) {
  return deeporgan ? c2f::shipped_file("weights/phantom-deeporgan", C2F_SOURCE_DEEPORGAN_WEIGHTS)
                   : c2f::shipped_file("weights/phantom-light-unet", C2F_SOURCE_WEIGHTS);
}

// "1,1,2" -> the coronal, sagittal and axial weights; throws OptionError.
std::array<float, 3> parse_fusion_weights(const std::string& text) {
  std::array<float, 3> w{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%f,%f,%f%n", &w[0], &w[1], &w[2], &consumed) != 3 || consumed != int(text.size()))
    throw c2f::OptionError("fusion weights '" + text + "' are not of the form C,S,A");
  c2f::FusionOptions f;
  f.rule = c2f::FusionRule::Weighted;
  f.weights = w;
  f.validate();
  return w;
}

// --merge: the cohort's summary.csv and summary.json from what its parts wrote under `out`.
int merge(const std::string& input, const std::string& label, const std::string& out, bool quiet) {
  if (!fs::is_directory(out)) throw c2f::InputError(out, "no such output folder: run the parts into it first");
  const c2f::Cohort cohort = c2f::discover_cohort(input);
  if (!label.empty() && cohort.layout != c2f::CohortLayout::Single)
    throw c2f::OptionError("--label is for a single image; a cohort's labels come from its layout");
  std::vector<std::string> ids;
  for (const auto& c : cohort.cases) ids.push_back(c.id);
  const auto parts = c2f::read_part_summaries(out);
  const c2f::SegmentationSummary summary = c2f::merged_summary(out, ids, parts);
  const std::size_t failed = ids.size() - summary.finished();
  fmt::print("{}\n", summary.console_table());
  if (!quiet)
    fmt::print(stderr, "c2f-segment: merged {} finished case(s) of {} from {} ({} part summary file(s)), {} failed or missing\n",
               summary.finished(), ids.size(), out, parts.size(), failed);
  if (summary.finished() == 0) throw c2f::InputError(out, "holds no finished case of the cohort: nothing to merge");
  c2f::remove_stale_temporaries(fs::path(out) / "summary.json");
  c2f::remove_stale_temporaries(fs::path(out) / "summary.csv");
  c2f::write_text_atomically(fs::path(out) / "summary.json", summary.json(c2f::merged_timing(parts, failed)).dump(2) + "\n");
  c2f::write_text_atomically(fs::path(out) / "summary.csv", summary.csv());
  fmt::print("report: {}\n", c2f::write_cohort_report(out, summary.failures()).string());
  return failed == 0 ? 0 : 1;
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Segment the pancreas in abdominal CT, coarse to fine (Zhou et al. 2016)", "c2f-segment"};
  std::string input, out, label, models, window, fine_fusion, weights;
  c2f::SegmentationOptions o;
  c2f::OutputOptions outputs;
  std::string method = "coarse-to-fine", deeporgan_map = "p2";
  std::vector<float> deeporgan_thresholds;
  bool no_overlays = false, quiet = false, resume = false, no_skip_blank = false;
  app.add_option("-i,--input", input, "a NIfTI file, a DICOM series folder, or a cohort folder (NIH, MSD, plain)")
      ->required();
  app.add_option("-o,--out", out, "output folder; each case goes to OUT/<case>/")->required();
  app.add_option("--label", label, "ground-truth mask for a single input (a cohort brings its own labels)");
  int label_value = 0;
  app.add_option("--label-value", label_value, "with --label: the value of the pancreas in a multi-organ map (0: any non-zero)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(0));
  app.add_option("--models", models, "folder with the six checkpoints, or with --method deeporgan the DeepOrgan set (default: the "
                                     "shipped phantom weights of the method)");
#ifdef C2F_HAVE_DEEPORGAN
  c2f::add_method_option(app, method);
  app.add_option("--deeporgan-map", deeporgan_map, "deeporgan: the map thresholded for the mask: p2 (the paper's G(P2)), p0 or p1")
      ->capture_default_str()
      ->check(CLI::IsMember({"p0", "p1", "p2"}));
  app.add_option("--deeporgan-thresholds", deeporgan_thresholds,
                 "deeporgan: p0 p1 p2 on the smoothed maps (default: what training chose; the paper's 0.2 0.5 0.6)")
      ->expected(3)
      ->check(CLI::Range(0.001, 1.0));
#endif
  c2f::PresetCli preset;
  preset.add_to(app);
  auto* iterations = app.add_option("--iterations", o.convergence.max_iterations, "most fine iterations T");
  iterations->capture_default_str()->check(c2f::cli::at_least(0));
  app.add_option("--stop-dsc", o.convergence.stop_dsc, "stop when d(t) = DSC(S(t-1), S(t)) exceeds this")
      ->capture_default_str()
      ->check(c2f::cli::range(0, 1));
  app.add_option("--window", window, "HU window LOWER,UPPER (default: the one the networks were trained with)")
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_checked_window(s); }));
  const auto fusion_rule = c2f::cli::parsed_by([](const std::string& s) { c2f::parse_fusion_rule(s); });
  app.add_option("--fine-fusion", fine_fusion, "mean, majority or weighted (default: mean)")->check(fusion_rule);
  app.add_option("--fusion-weights", weights, "weighted fusion: coronal,sagittal,axial weights")
      ->check(c2f::cli::parsed_by(parse_fusion_weights));
  c2f::InferenceCli inference;
  inference.add_to(app);
  app.add_option("--cases-in-flight", o.cases_in_flight, "cases processed at once (bounds memory)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  app.add_option("--batch", o.batch_slices, "3-slice images per forward pass")->capture_default_str()->check(c2f::cli::at_least(1));
  app.add_flag("--coarse-post-processing", o.coarse_post_processing,
               "keep the coarse mask's components of at least half the largest before its box (not in the paper)");
  std::string probability_file;
  app.add_option("--save-probability", probability_file,
                 "write the last fused map on the input's grid: h5 (OUT/<case>/probability.h5, with image and label; "
                 "the default when no value is given) or nifti (OUT/<case>/probability.nii.gz)")
      ->expected(0, 1)
      ->check(CLI::IsMember({"", "h5", "nifti"}));
  app.add_flag("--probability-float32", outputs.probability_float32,
               "with --save-probability nifti: float32 in [0, 1] instead of uint8 scaled to 0-255");
  app.add_flag("--dicom-seg,!--no-dicom-seg", outputs.dicom_seg,
               "for a DICOM series input, also write OUT/<case>/seg.dcm, a DICOM Segmentation referencing it (default: on)");
  app.add_flag("--no-overlays", no_overlays, "do not draw overlay pictures");
  app.add_flag("--resume", resume, "skip cases a killed or earlier run finished (their report.json is complete)");
  c2f::ShareCli share_cli;
  share_cli.add_to(app, "build OUT/summary.csv and summary.json from every case's OUT/<case>/report.json (the parts' "
                        "outputs) and the parts' summary.part-K-of-N.json; segments nothing");
  app.add_flag("-q,--quiet", quiet, "print nothing but the table and errors");
  app.add_flag("--no-skip-blank", no_skip_blank,
               "run the networks on blank (all-air) 3-slice images too, instead of copying their known map");

  return c2f::run_tool(app, argc, argv, [&] {
    o = preset.apply(o);
    if (!fine_fusion.empty()) o.fine_fusion.rule = c2f::parse_fusion_rule(fine_fusion);
    if (!weights.empty()) o.coarse_fusion.weights = o.fine_fusion.weights = parse_fusion_weights(weights);
    outputs.overlays = !no_overlays;
    o.skip_blank_slices = !no_skip_blank;
    outputs.probability = app.count("--save-probability") > 0;
    outputs.probability_file = probability_file == "nifti" ? c2f::ProbabilityFile::Nifti : c2f::ProbabilityFile::H5;
    o.keep_probability = outputs.probability;
    o.validate();
    if (!label.empty() && !fs::is_regular_file(label)) throw c2f::InputError(label, "no such label file");

    const c2f::CohortShare share = share_cli.resolve();
    if (share_cli.merge) return merge(input, label, out, quiet);

    const bool deeporgan = method == "deeporgan";
    const fs::path model_dir = models.empty() ? default_models(deeporgan) : fs::path(models);
    inference.apply();
    std::unique_ptr<c2f::NetworkInference> c2f_networks;
#ifdef C2F_HAVE_DEEPORGAN
    c2f::DeepOrganRun deep;
    if (deeporgan) {
      deep = c2f::open_deeporgan(model_dir);
      deep.options.output = c2f::parse_deeporgan_output(deeporgan_map);
      if (!deeporgan_thresholds.empty())
        std::tie(deep.options.p0, deep.options.p1, deep.options.p2) =
            std::tuple{deeporgan_thresholds[0], deeporgan_thresholds[1], deeporgan_thresholds[2]};
      deep.options.keep_probability = o.keep_probability;
      deep.options.cases_in_flight = o.cases_in_flight;
      if (!window.empty()) std::tie(deep.options.window.lower_hu, deep.options.window.upper_hu) = c2f::parse_checked_window(window);
      deep.options.validate();
    }
#endif
    if (!deeporgan) c2f_networks = std::make_unique<c2f::NetworkInference>(model_dir, inference.options);
    const std::string described =
#ifdef C2F_HAVE_DEEPORGAN
        deeporgan ? deep.describe() :
#endif
                  c2f_networks->describe();
    if (c2f_networks) {
      const auto& set = c2f_networks->info();
      c2f::use_network_grid(o, set);
      if (window.empty()) {
        o.window = set.window;
      } else {
        std::tie(o.window.lower_hu, o.window.upper_hu) = c2f::parse_checked_window(window);
        if (o.window != set.window)
          fmt::print(stderr, "c2f-segment: warning: window [{}, {}] differs from the networks' training window [{}, {}]\n",
                     o.window.lower_hu, o.window.upper_hu, set.window.lower_hu, set.window.upper_hu);
      }
    }
    o.validate();

    const c2f::Cohort cohort = c2f::discover_cohort(input);
    std::vector<c2f::CaseSource> cases = cohort.cases;
    if (!label.empty()) {
      if (cohort.layout != c2f::CohortLayout::Single)
        throw c2f::OptionError("--label is for a single image; a cohort's labels come from its layout");
      cases.front().label = label;
      cases.front().label_value = label_value;
    }
    if (!share.whole()) {
      std::vector<std::string> ids;
      for (const auto& c : cases) ids.push_back(c.id);
      std::vector<c2f::CaseSource> mine;
      for (const std::size_t i : share_of(ids, share)) mine.push_back(cases[i]);
      if (!quiet)
        fmt::print(stderr, "c2f-segment: {} (from {}): {} of the cohort's {} case(s)\n", share.describe(), share.source,
                   mine.size(), cases.size());
      cases = std::move(mine);
      if (cases.empty()) return 0;  // more parts than cases: this one has nothing to do
    }
    // A part's summary goes beside the others'; the merge writes the cohort's.
    const fs::path summary_json = fs::path(out) / (share.whole() ? "summary.json" : c2f::part_summary_name(share, ".json"));
    const fs::path summary_csv = fs::path(out) / (share.whole() ? "summary.csv" : c2f::part_summary_name(share, ".csv"));
    std::error_code ec;
    const bool out_existed = fs::exists(out, ec);
    fs::create_directories(out, ec);
    if (ec) throw c2f::OutputError(out, "cannot create the output folder: " + ec.message());
    c2f::remove_stale_temporaries(summary_json);
    c2f::remove_stale_temporaries(summary_csv);
    c2f::remove_stale_temporaries(fs::path(out) / "index.html");

    // Cases a previous run finished: report.json is written last, atomically, so its presence
    // without an error means every output of the case is whole.
    c2f::SegmentationSummary summary;
    if (resume) {
      std::vector<c2f::CaseSource> todo;
      for (const auto& c : cases) {
        const auto report = c2f::finished_case_report(fs::path(out) / c.id);
        if (report) summary.add(*report, /*resumed=*/true);
        else todo.push_back(c);
      }
      cases = std::move(todo);
    }
    for (const auto& c : cases) c2f::remove_stale_case_temporaries(fs::path(out) / c.id);

    const bool tty = ::isatty(2) && !quiet;
    if (!quiet)
      fmt::print(stderr, "c2f-segment: {} case(s) ({} layout), {} from {}, {} iteration(s) at most, d(t) > {}\n",
                 cases.size(), c2f::layout_name(cohort.layout), described, model_dir.string(),
                 o.convergence.max_iterations, o.convergence.stop_dsc);

    std::size_t done = 0;
    const auto t0 = c2f::StageClock::now();
    const auto sink = [&](c2f::CaseResult&& r) {
      ++done;
      nlohmann::json entry = c2f::summary_entry(r, cases[r.index].id);  // a finished case's: its report
      if (r.error.empty()) {
        for (const std::string& w : c2f::write_case_outputs(out, r, outputs, entry))
          fmt::print(stderr, "{}c2f-segment: warning: {}\n", tty ? "\r\x1b[K" : "", w);
      } else  // one line that names the file; a failed case leaves no folder behind
        fmt::print(stderr, "{}c2f-segment: error: {}\n", tty ? "\r\x1b[K" : "", r.error);
      summary.add(std::move(entry));
      if (!quiet) {
        const double elapsed = c2f::seconds_since(t0);
        const std::string line =
            fmt::format("segmenting [{}] {}/{} cases, {:.1f} s/case", c2f::progress_bar(double(done) / double(cases.size())),
                        done, cases.size(), elapsed / double(done));
        if (tty) fmt::print(stderr, "\r{}\x1b[K{}", line, done == cases.size() ? "\n" : "");
        else fmt::print(stderr, "{}\n", line);
      }
    };
    const auto load = [&](std::size_t i) { return c2f::load_case(cases[i]); };
#ifdef C2F_HAVE_DEEPORGAN
    const c2f::SegmentationReport report =
        deeporgan ? c2f::segment_deeporgan(cases.size(), load, deep.cascade, *deep.networks, deep.options, sink)
                  : c2f::segment_cases(cases.size(), load, *c2f_networks, o, sink);
#else
    const c2f::SegmentationReport report = c2f::segment_cases(cases.size(), load, *c2f_networks, o, sink);
#endif

    fmt::print("{}\n{}{}", summary.console_table(), c2f::cohort_totals(report), c2f::stage_table(report));
    if (summary.finished() == 0) {  // nothing segmented: no output at all, not an empty summary
      if (!out_existed) fs::remove(out, ec);
      return 1;
    }
    c2f::write_text_atomically(summary_json, summary.json(c2f::timing_json(report, described)).dump(2) + "\n");
    c2f::write_text_atomically(summary_csv, summary.csv());
    // The cohort page is the whole cohort's: a part leaves it to the merge.
    if (share.whole()) fmt::print("report: {}\n", c2f::write_cohort_report(out, summary.failures()).string());
    return report.failed == 0 ? 0 : 1;
  });
}
