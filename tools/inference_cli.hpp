#pragma once
// The command-line options every executable that runs the networks shares (the device, and the
// inference presets), and where shipped files are found: installed under <prefix>/share/c2f, or in
// the source tree built from.
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "../graphs/segmentation_graph.hpp"
#include "../graphs/segmentation_presets.hpp"
#include "../io/cohort_share.hpp"
#include "../model/network_inference.hpp"
#include "../model/runtime.hpp"
#include "tool_main.hpp"

namespace c2f {

// --device and --precision, spelled the same by every tool that runs or trains the networks
// (model/runtime.hpp checks both).
inline void add_device_options(CLI::App& app, std::string& device, std::string& precision,
                               const std::string& precision_help) {
  app.add_option("--device", device, "cpu, cuda or cuda:N")
      ->capture_default_str()
      ->check(cli::parsed_by([](const std::string& s) { check_device_name(s); }));
  app.add_option("--precision", precision, precision_help)
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}));
}

struct InferenceCli {
  InferenceOptions options;
  int threads = 0;
  std::string backend = inference_backend_name(InferenceBackend::Torch);

  void add_to(CLI::App& app) {
    add_device_options(app, options.device, options.precision, "auto (bf16 on CUDA, fp32 on CPU), fp32, bf16 or fp16");
    app.add_flag("--channels-last", options.channels_last, "channels-last tensors (always on CUDA)");
    app.add_option("--threads", threads, "CPU threads for the networks (0: one per core)")
        ->capture_default_str()
        ->check(cli::at_least(0));
    app.add_option("--backend", backend, "torch (the checkpoints, LibTorch) or opencv (their ONNX exports, OpenCV DNN, CPU)")
        ->capture_default_str()
        ->check(cli::parsed_by([](const std::string& s) { parse_inference_backend(s); }));
    app.add_option("--onnx", options.onnx_folder,
                   "with --backend opencv: folder of <scale>_<view>.onnx (default: the model folder; "
                   "c2f-models --export-onnx writes them)");
  }
  // Sets the CPU threads the networks use (before any network runs) and the back end; returns
  // the number of threads.
  int apply() {
    options.backend = parse_inference_backend(backend);
    return set_intra_op_threads(threads);
  }
};

// --preset, --frame and --coarse-fusion, read the same way by c2f-segment, c2f-eval and c2f-bench:
// the preset (segmentation_presets.hpp), with what the command line sets explicitly winning.
struct PresetCli {
  std::string preset = segmentation_preset_name(SegmentationPreset::Paper);
  int frame_px = SegmentationOptions{}.frame_px;
  std::string coarse_fusion;
  CLI::Option* frame_option = nullptr;

  void add_to(CLI::App& app) {
    std::string presets;
    for (const auto& name : segmentation_preset_names())
      presets += fmt::format("{}{} ({})", presets.empty() ? "" : " or ", name,
                             describe_segmentation_preset(parse_segmentation_preset(name)));
    app.add_option("--preset", preset, presets)->capture_default_str()->check(cli::parsed_by([](const std::string& s) {
      parse_segmentation_preset(s);
    }));
    frame_option = app.add_option("--frame", frame_px, "voxels added around the box for the fine networks (default: per preset)")
                       ->check(cli::at_least(0));
    app.add_option("--coarse-fusion", coarse_fusion, "mean, majority or weighted (default: per preset)")
        ->check(cli::parsed_by([](const std::string& s) { parse_fusion_rule(s); }));
  }
  // `o` with the preset's values and the command line's over them.
  SegmentationOptions apply(SegmentationOptions o) const {
    SegmentationPresetFields set;
    set.frame_px = frame_option && frame_option->count() > 0;
    set.coarse_fusion = !coarse_fusion.empty();
    if (set.frame_px) o.frame_px = frame_px;
    if (set.coarse_fusion) o.coarse_fusion.rule = parse_fusion_rule(coarse_fusion);
    return apply_preset(parse_segmentation_preset(preset), o, set);
  }
};

// Every input is brought to the grid the networks were trained at (when their checkpoints
// record one; older sets run on each input's own grid).
inline void use_network_grid(SegmentationOptions& o, const NetworkSetInfo& set) {
  o.resample.reset();
  if (set.spacing_mm) o.resample = ResampleOptions{*set.spacing_mm};
}

// --num-parts, --part-id and --merge, read the same way by c2f-segment and c2f-eval: which share of
// the cohort this process takes (io/cohort_share.hpp: the options, else the job array's
// environment), or the merge of the parts' per-case outputs.
struct ShareCli {
  int num_parts = 1, part_id = 0;
  bool merge = false;
  CLI::Option* num_parts_option = nullptr;
  CLI::Option* part_id_option = nullptr;

  void add_to(CLI::App& app, const std::string& merge_help) {
    num_parts_option = app.add_option("--num-parts", num_parts,
                                      "split the cohort into N parts: case i of the id-sorted cohort goes to part i mod N "
                                      "(default: SLURM_ARRAY_TASK_COUNT, or C2F_NUM_PARTS with JOB_COMPLETION_INDEX; 1: "
                                      "the whole cohort whatever the environment says)");
    part_id_option = app.add_option("--part-id", part_id,
                                    "this process's part, 0 .. N-1 (default: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN, "
                                    "or JOB_COMPLETION_INDEX)");
    app.add_flag("--merge", merge, merge_help);
    num_parts_option->excludes("--merge");
    part_id_option->excludes("--merge");
  }
  // The share, from the options and then this process's environment; throws OptionError.
  CohortShare resolve() const {
    if (merge) return {};
    return resolve_cohort_share(num_parts_option->count() ? std::optional<int>(num_parts) : std::nullopt,
                                part_id_option->count() ? std::optional<int>(part_id) : std::nullopt,
                                process_environment());
  }
};

// share/c2f/<relative> beside the running executable's prefix when installed, else source_path.
inline std::filesystem::path shipped_file(const std::filesystem::path& relative, const std::filesystem::path& source_path) {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    const auto installed = exe.parent_path().parent_path() / "share" / "c2f" / relative;
    if (std::filesystem::exists(installed)) return installed;
  }
  return source_path;
}

}  // namespace c2f
