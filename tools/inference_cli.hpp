#pragma once
// The command-line options every executable that runs the networks shares (the device, and the
// inference presets), and where shipped files are found: installed under <prefix>/share/c2f, or in
// the source tree built from.
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "../graphs/segmentation_graph.hpp"
#include "../graphs/segmentation_presets.hpp"
#include "../model/network_inference.hpp"
#include "../model/runtime.hpp"
#include "tool_main.hpp"

namespace c2f {

struct InferenceCli {
  InferenceOptions options;
  int threads = 0;
  std::string backend = inference_backend_name(InferenceBackend::Torch);

  void add_to(CLI::App& app) {
    app.add_option("--device", options.device, "cpu, cuda or cuda:N")
        ->capture_default_str()
        ->check(cli::parsed_by([](const std::string& s) { check_device_name(s); }));
    app.add_option("--precision", options.precision, "auto (bf16 on CUDA, fp32 on CPU), fp32, bf16 or fp16")
        ->capture_default_str()
        ->check(CLI::IsMember({"auto", "fp32", "bf16", "fp16"}));
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
