// c2f-train: trains the paper's coarse and fine networks, one per view, on a cohort.
#include <tbb/parallel_for.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <sstream>
#include <thread>

#include "../graphs/training_graph.hpp"
#include "../graphs/training_presets.hpp"
#include "../io/cohort.hpp"
#include "../io/folds.hpp"
#include "../model/data_parallel.hpp"
#include "../model/model_registry.hpp"
#include "../model/runtime.hpp"
#include "../reports/training_summary.hpp"
#include "../stages/resample.hpp"
#include "../training/domain_randomization.hpp"
#include "../training/launch_environment.hpp"
#include "../training/training_jobs.hpp"
#include "inference_cli.hpp"
#include "tool_main.hpp"
#ifdef C2F_HAVE_DEEPORGAN
#include "../graphs/deeporgan_training.hpp"
#include "deeporgan_cli.hpp"
#endif

namespace fs = std::filesystem;

namespace {
// "MIN,MAX" pixels, 0 <= MIN <= MAX.
std::pair<int, int> parse_frame_range(const std::string& text) {
  int lo = 0, hi = 0, used = 0;
  if (std::sscanf(text.c_str(), "%d,%d%n", &lo, &hi, &used) != 2 || used != int(text.size()))
    throw c2f::OptionError("fine frame '" + text + "' is not of the form MIN,MAX (pixels)");
  c2f::FineSampleOptions{lo, hi}.validate();
  return {lo, hi};
}

std::vector<c2f::View> parse_views(const std::string& list) {
  std::vector<c2f::View> views;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) views.push_back(c2f::parse_view(item));
  if (views.empty()) throw c2f::OptionError("no view given");
  return views;
}

// The cohort's folds: folds.json under out, made on the first run and checked on the next.
c2f::Folds cohort_folds(const c2f::Cohort& cohort, const std::string& input, const fs::path& fold_file, int fold_count) {
  std::vector<std::string> ids;
  for (const auto& c : cohort.cases) ids.push_back(c.id);
  if (!fs::exists(fold_file)) {
    c2f::Folds folds = c2f::make_folds(ids, fold_count);
    c2f::write_folds(fold_file, folds);
    return folds;
  }
  c2f::Folds folds = c2f::read_folds(fold_file);
  auto known = folds.all_cases();
  std::sort(known.begin(), known.end());
  if (known != ids) throw c2f::InputError(fold_file.string(), "lists other cases than the cohort " + input + " holds");
  return folds;
}

#ifdef C2F_HAVE_DEEPORGAN
// --method deeporgan: the whole DeepOrgan set of one fold (cascade, P-, R2- and R1-ConvNet) into
// the fold's folder, beside where the coarse-to-fine networks of that fold go.
int train_deeporgan_set(const std::string& input, const fs::path& out, int fold, int fold_count,
                        c2f::DeepOrganTrainingOptions o, bool quiet) {
  const c2f::Cohort cohort = c2f::discover_cohort(input);
  fs::create_directories(out);
  const c2f::Folds folds = cohort_folds(cohort, input, out / "folds.json", fold_count);
  const auto train_ids = folds.training_cases(fold);
  std::map<std::string, c2f::CaseSource> by_id;
  for (const auto& c : cohort.cases) by_id[c.id] = c;
  o.out = c2f::fold_folder(out, fold);
  o.validate();
  if (!quiet)
    fmt::print(stderr, "c2f-train: DeepOrgan on {} training case(s) ({} layout, fold {}) into {}\n", train_ids.size(),
               c2f::layout_name(cohort.layout), fold, o.out.string());
  const auto log = [quiet](const std::string& line) {
    if (!quiet) fmt::print(stderr, "c2f-train: {}\n", line);
  };
  const c2f::DeepOrganTrainingReport r = c2f::train_deeporgan(
      train_ids.size(), [&](std::size_t i) { return c2f::load_case(by_id.at(train_ids[i])); }, o, log);
  fmt::print("{:<14} {:>12} {:>12}\n", "network", "first loss", "last loss");
  for (const auto& [name, first] : r.first_loss) fmt::print("{:<14} {:>12.4f} {:>12.4f}\n", name, first, r.last_loss.at(name));
  fmt::print("candidates on the training cases: sensitivity {:.3f}, mean DSC {:.3f}; thresholds p0 = {:.2f}, p2 = {:.2f}\n",
             r.candidate_sensitivity, r.candidate_dsc, r.p0, r.p2);
  fmt::print("seconds:");
  for (const auto& [stage, s] : r.stage_seconds) fmt::print(" {} {:.1f}", stage, s);
  fmt::print("\nset: {}\n", o.out.string());
  return 0;
}
#endif
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Train c2f's coarse and fine segmentation networks (one per view) on a cohort", "c2f-train"};
  std::string input, out, scales = "both", views = "C,S,A", window = "-100,240";
  int fold = -1, fold_count = 4;
  bool quiet = false;
  c2f::TrainingOptions o;
  app.add_option("-i,--input", input, "cohort folder (NIH, MSD or plain layout); required but with --list-jobs");
  app.add_option("-o,--out", out, "folder for checkpoints, logs and the fold file")->required();
  // The networks and their training defaults, as the registry has them.
  std::string model_help = "network", optimizer_defaults, lr_defaults;
  for (const auto& e : c2f::model_registry()) {
    if (e.method != "coarse-to-fine") continue;  // DeepOrgan's networks: --method deeporgan trains all three
    const char* sep = model_help == "network" ? "" : ", ";
    model_help += fmt::format("{} {} ({})", model_help == "network" ? ":" : ";", e.name, e.description);
    optimizer_defaults += fmt::format("{}{}: {}", sep, e.name, c2f::optimizer_name(e.optimizer));
    lr_defaults += fmt::format("{}{}: {:g}", sep, e.name, e.learning_rate);
  }
  app.add_option("--model", o.model, model_help)
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::check_model_name(s, "coarse-to-fine"); }));
  app.add_option("--scale", scales, "coarse, fine or both")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) {
        if (s != "both") c2f::parse_scale(s);
      }));
  app.add_option("--view", views, "views to train, e.g. C,S,A")->capture_default_str()->check(c2f::cli::parsed_by(parse_views));
  app.add_option("--iterations", o.iterations, "iterations (optimiser steps) per network")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  [[maybe_unused]] auto* batch_option = app.add_option("--batch", o.batch,
                                     "images per step over all ranks (default: a resumed checkpoint's, else one per "
                                     "rank; the paper: 1); deeporgan: examples per ConvNet step (default 64, at least 2)")
                           ->check(c2f::cli::at_least(1));
  bool distributed = false;
  app.add_flag("--distributed", distributed,
               "train each network data-parallel over the processes of mpirun, srun or torchrun (rank and world size "
               "from OMPI_COMM_WORLD_*, SLURM_PROCID/SLURM_NTASKS or RANK/WORLD_SIZE; rank 0's address from "
               "MASTER_ADDR/MASTER_PORT or the Slurm node list); rank 0 writes the checkpoints");
  std::int64_t fine_iterations = 0;
  app.add_option("--fine-iterations", fine_iterations, "iterations of the fine networks (default: --iterations)");
  std::string optimizer;
  app.add_option("--optimizer", optimizer, "sgd (momentum 0.99) or adam; default per model (" + optimizer_defaults + ")")
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_optimizer(s); }));
  double learning_rate = 0;
  auto* lr_option = app.add_option("--lr", learning_rate, "learning rate; default per model (" + lr_defaults + ")")
                        ->check(c2f::cli::positive());
  app.add_option("--seed", o.seed, "random seed (initial weights, sample order, crops)")->capture_default_str();
  app.add_option("--checkpoint-every", o.checkpoint_every, "iterations between checkpoints")->capture_default_str();
  app.add_option("--log-every", o.log_every, "iterations between log lines")->capture_default_str();
  app.add_option("--prefetch", o.prefetch, "samples prepared ahead of the trainer (1: no overlap)")->capture_default_str();
  int threads = 0;
  app.add_option("--threads", threads, "CPU threads for the networks (0: one per core)")->capture_default_str();
  auto* fold_option = app.add_option("--fold", fold, "train on all folds but this one (-1: all cases)")
                          ->capture_default_str()
                          ->check(c2f::cli::at_least(-1));
  auto* folds_option = app.add_option("--folds", fold_count, "number of folds when the fold file is made")
                           ->capture_default_str()
                           ->check(c2f::cli::at_least(1));
  // A cross-validation as an array job: folds x scales x views networks, one per index.
  bool list_jobs = false;
  long long job = -1;
  app.add_flag("--list-jobs", list_jobs,
               "print the networks of the cross-validation, one line each: index, fold, scale, view, checkpoint (every "
               "fold of --folds, or --fold's; the scales and views chosen), and train nothing");
  auto* job_option = app.add_option("--job", job,
                                    "train only the network of this index of --list-jobs (e.g. --job $SLURM_ARRAY_TASK_ID)")
                         ->check(c2f::cli::at_least(0));
  job_option->excludes("--list-jobs");
  c2f::add_device_options(app, o.device, o.precision, "auto (bf16 autocast on CUDA, fp32 on CPU), fp32 or bf16");
  app.add_option("--window", window, "HU window LOWER,UPPER")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_checked_window(s); }));
  std::string preset = "real-ct", spacing, randomize;
  app.add_option("--preset", preset,
                 "real-ct (2 mm grid, domain randomisation, coarse slices with >= 0.5 % pancreas, fine frames of 10-30 px "
                 "and 4 slices beyond the truth's box) or paper (each case's own grid, no randomisation, coarse slices "
                 "with >= 1 % pancreas only, fine frames of 10-20 px); the options "
                 "below override it")
      ->capture_default_str()
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_training_preset(s); }));
  auto* spacing_option = app.add_option("--spacing", spacing,
                 "grid the cases are resampled to and the networks learn on: S or X,Y,Z mm, or 'input' for each case's own grid")
      ->check(c2f::cli::parsed_by([](const std::string& s) {
        if (s != "input") c2f::parse_spacing(s);
      }));
  auto* randomize_option = app.add_option("--randomize", randomize,
                 "domain randomisation: all, none, or parts: crop,scaling,elastic,resolution,blur,intensity,gamma,bias,noise")
      ->check(c2f::cli::parsed_by([](const std::string& s) { c2f::parse_domain_randomization(s); }));
  auto* min_share_option = app.add_option("--min-share", o.coarse.min_pancreas_share,
                                          "coarse: minimum pancreas share of a slice (paper: 0.01)");
  auto* negative_option = app.add_option("--negative-share", o.coarse.negative_share,
                 "coarse: share of samples from slices without pancreas (paper: 0)")
      ->check(c2f::cli::range(0.0, 0.9));
  std::string fine_frame;
  auto* fine_frame_option = app.add_option("--fine-frame", fine_frame,
                 "fine: range MIN,MAX of the random frame around the truth's box, pixels (paper: 10,20; real-ct: 10,30)")
      ->check(c2f::cli::parsed_by([](const std::string& s) { parse_frame_range(s); }));
  auto* slice_margin_option = app.add_option("--fine-slice-margin", o.fine.slice_margin,
                 "fine: slices beyond the truth's box on each side along the view's axis (paper: 0; real-ct: 4)")
      ->check(c2f::cli::at_least(0));
  app.add_option("--vgg-weights", o.vgg_weights, "fcn8s-vgg16: ImageNet VGG-16 weights (Keras .h5 or LibTorch archive)");
  std::size_t cases_in_memory = 16;
  app.add_option("--cases-in-memory", cases_in_memory, "training cases held in memory at once (bounds memory)")
      ->capture_default_str();
  app.add_flag("--resume", o.resume, "continue each network from its checkpoint");
  app.add_flag("--evaluate", o.evaluate, "after training, report the DSC over every training sample");
  app.add_flag("-q,--quiet", quiet, "print only the summary");
  std::string method = "coarse-to-fine";
#ifdef C2F_HAVE_DEEPORGAN
  c2f::add_method_option(app, method);
  c2f::DeepOrganTrainingOptions deep;
  app.add_option("--r-iterations", deep.r_iterations, "deeporgan: iterations of R2- and R1-ConvNet (--iterations: P-ConvNet's)")
      ->capture_default_str()
      ->check(c2f::cli::at_least(1));
  app.add_flag_function("--no-r1", [&](std::int64_t) { deep.train_r1 = false; }, "deeporgan: skip R1-ConvNet (CT only; the result is G(P2))");
#endif

  return c2f::run_tool(app, argc, argv, [&] {
    std::tie(o.window.lower_hu, o.window.upper_hu) = c2f::parse_checked_window(window);
#ifdef C2F_HAVE_DEEPORGAN
    if (method == "deeporgan") {
      if (input.empty()) throw c2f::OptionError("--input is required");
      if (list_jobs || job_option->count() > 0) throw c2f::OptionError("--list-jobs and --job are for coarse-to-fine");
      deep.method.window = o.window;
      // DeepOrgan's grid: 1.5 x 1.5 x 2 mm unless --spacing says otherwise (superpixels need in-plane detail).
      deep.method.resample = c2f::ResampleOptions{{1.5, 1.5, 2.0}};
      if (spacing_option->count() > 0) {
        if (spacing == "input") deep.method.resample.reset();
        else deep.method.resample = c2f::ResampleOptions{c2f::parse_spacing(spacing)};
      }
      if (app.get_option("--iterations")->count() > 0) deep.p_iterations = o.iterations;
      if (batch_option->count() > 0) {
        if (o.batch < 2) throw c2f::OptionError("--batch: deeporgan's ConvNets need at least 2 examples per step");
        deep.batch = o.batch;
      }
      if (lr_option->count() > 0) deep.learning_rate = learning_rate;
      deep.seed = o.seed;
      deep.candidates.seed = o.seed;
      c2f::set_intra_op_threads(threads);
      return train_deeporgan_set(input, out, fold, fold_count, deep, quiet);
    }
#endif
    if (!optimizer.empty()) o.optimizer = c2f::parse_optimizer(optimizer);
    if (lr_option->count() > 0) o.learning_rate = learning_rate;
    // What the command line says, then the preset where it says nothing.
    c2f::TrainingPresetFields set;
    set.spacing_mm = spacing_option->count() > 0;
    set.randomization = randomize_option->count() > 0;
    set.min_pancreas_share = min_share_option->count() > 0;
    set.negative_share = negative_option->count() > 0;
    set.fine_frame_px = fine_frame_option->count() > 0;
    set.fine_slice_margin = slice_margin_option->count() > 0;
    if (set.spacing_mm && spacing != "input") o.spacing_mm = c2f::parse_spacing(spacing);
    if (set.randomization) o.randomization = c2f::parse_domain_randomization(randomize);
    if (set.fine_frame_px) std::tie(o.fine.min_frame_px, o.fine.max_frame_px) = parse_frame_range(fine_frame);
    o = c2f::apply_preset(c2f::parse_training_preset(preset), o, set);
    auto view_list = parse_views(views);
    std::vector<c2f::Scale> scale_list;
    if (scales == "both") scale_list = {c2f::Scale::Coarse, c2f::Scale::Fine};
    else scale_list = {c2f::parse_scale(scales)};
    const fs::path fold_file = fs::path(out) / "folds.json";
    if (list_jobs || job_option->count() > 0) {
      // Jobs cover every fold (the fold file's count once it exists), or only --fold's.
      if (fs::exists(fold_file)) {
        const int made = int(c2f::read_folds(fold_file).folds.size());
        if (folds_option->count() > 0 && made != fold_count)
          throw c2f::OptionError(fmt::format("--folds {}: {} holds {} folds", fold_count, fold_file.string(), made));
        fold_count = made;
      }
      std::vector<int> fold_list;
      if (fold_option->count() > 0) fold_list = {fold};
      else
        for (int k = 0; k < fold_count; ++k) fold_list.push_back(k);
      if (fold >= fold_count) throw c2f::OptionError(fmt::format("--fold {} is not below --folds {}", fold, fold_count));
      const auto jobs = c2f::training_jobs(out, fold_list, scale_list, view_list);
      if (list_jobs) {
        for (const auto& j : jobs) fmt::print("{}\n", j.line());
        return 0;
      }
      const c2f::TrainingJob& mine = c2f::training_job(jobs, job);
      fold = mine.fold;
      scale_list = {mine.scale};
      view_list = {mine.view};
      if (!quiet) fmt::print(stderr, "c2f-train: job {} of {}: fold {}, {}\n", job, jobs.size(), fold, mine.name());
    }
    if (input.empty()) throw c2f::OptionError("--input is required");
    if (fold >= fold_count) throw c2f::OptionError(fmt::format("--fold {} is not below --folds {}", fold, fold_count));
    o.checkpoint = "unset";
    o.validate();
    int rank = 0;
    if (distributed) {
      const c2f::LaunchEnvironment env = c2f::read_launch_environment();
      rank = env.rank;
      // Ranks on one machine share its cores.
      if (threads == 0) threads = std::max(1, int(std::thread::hardware_concurrency()) / env.local_size);
      if (rank != 0) quiet = true;
      if (!quiet)
        fmt::print(stderr, "c2f-train: rank {} of {} ({}), meeting the others at {}:{}\n", env.rank, env.world_size,
                   env.launcher, env.master_addr, env.master_port);
      o.data_parallel = c2f::DataParallel::over_tcp(env.rank, env.world_size, env.master_addr, env.master_port, o.device);
    }
    c2f::set_intra_op_threads(threads);

    const c2f::Cohort cohort = c2f::discover_cohort(input);
    fs::create_directories(out);
    std::vector<std::string> ids;
    for (const auto& c : cohort.cases) ids.push_back(c.id);
    c2f::Folds folds;
    if (fs::exists(fold_file)) {
      folds = c2f::read_folds(fold_file);
      auto known = folds.all_cases(), have = ids;
      std::sort(known.begin(), known.end());
      if (known != have)
        throw c2f::InputError(fold_file.string(), "lists other cases than the cohort " + input + " holds");
    } else {
      folds = c2f::make_folds(ids, fold_count);
      if (rank == 0) c2f::write_folds(fold_file, folds);  // the same folds on every rank: one writes them
    }
    const auto train_ids = folds.training_cases(fold);
    const fs::path dir = c2f::fold_folder(out, fold);
    fs::create_directories(dir);

    // A first pass on all cores records what the sample plans need of each case (its slices and
    // box) and drops the voxels; during training the sample makers read cases again through a
    // cache of at most --cases-in-memory cases.
    const auto t_load = std::chrono::steady_clock::now();
    std::map<std::string, c2f::CaseSource> by_id;
    for (const auto& c : cohort.cases) by_id[c.id] = c;
    // Each case on the training grid (when one is set), the same way inference will see it.
    const auto read = [by_id, train_ids, grid = o.spacing_mm](std::size_t i) {
      c2f::Case c = c2f::load_case(by_id.at(train_ids[i]));
      return grid ? c2f::resample_case(c, c2f::ResampleOptions{*grid}) : c;
    };
    const auto load = [read, window = o.window](std::size_t i) { return c2f::prepare_case(read(i), window); };
    c2f::TrainingCohort training;
    training.cases.resize(train_ids.size());
    tbb::parallel_for(std::size_t(0), train_ids.size(), [&](std::size_t i) {
      training.cases[i] = c2f::summarize_case(read(i), o.coarse);
    });
    training.cache = std::make_shared<c2f::CaseCache>(std::max<std::size_t>(1, cases_in_memory), load);
    const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_load).count();
    if (!quiet)
      fmt::print(stderr, "c2f-train: {} training cases summarised in {:.1f} s ({} layout, fold {}, {} in memory at most)\n",
                 training.cases.size(), load_s, c2f::layout_name(cohort.layout), fold, cases_in_memory);

    if (c2f::model_entry(o.model).load_vgg_weights && o.vgg_weights.empty() && !quiet)
      fmt::print(stderr, "c2f-train: no --vgg-weights file given: the VGG-16 layers start from LibTorch's default "
                         "(Kaiming-uniform) initialisation, not from ImageNet weights\n");
    const bool tty = ::isatty(2);
    if (rank == 0) fmt::print("{}", c2f::training_table_header());
    for (const auto scale : scale_list)
      for (const auto view : view_list) {
        c2f::TrainingOptions run = o;
        run.scale = scale;
        run.view = view;
        if (scale == c2f::Scale::Fine && fine_iterations > 0) run.iterations = fine_iterations;
        // Where --list-jobs says this network's checkpoint goes.
        const c2f::TrainingJob where = c2f::training_jobs(out, {fold}, {scale}, {view}).front();
        const std::string name = where.name();
        run.checkpoint = where.checkpoint;
        run.log_csv = where.log_csv;
        const auto progress = [&](std::int64_t it, std::int64_t total, double loss, double rate) {
          if (quiet) return;
          const double eta = double(total - it) / std::max(rate, 1e-9);
          const std::string line = fmt::format("{:<16} [{}] {}/{} loss {:.4f} {:.1f} samples/s, {:.0f} s left", name,
                                               c2f::progress_bar(double(it) / double(total)), it, total, loss, rate, eta);
          if (tty) fmt::print(stderr, "\r{}\x1b[K{}", line, it == total ? "\n" : "");
          else fmt::print(stderr, "{}\n", line);
        };
        const c2f::TrainingReport report = c2f::train_network(training, run, progress);
        if (rank == 0) fmt::print("{}", c2f::training_table_row(name, report));
      }
    return 0;
  });
}
