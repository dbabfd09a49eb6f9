// c2f-models: the registered networks with their parameter counts and cost per slice; and
// stripping a training checkpoint down to the weights and their info, for shipping; and an
// untrained model set (six freshly initialised networks) for timing runs where no trained
// weights exist, such as fcn8s-vgg16 on a GPU machine; and a checkpoint's info (--info), which
// loads its weights too, so that a zero exit means the file is whole; and ONNX exports of a
// checkpoint or of a model folder's six (--export-onnx), for ONNX runtimes and --backend opencv.
#include <cstdlib>

#include "../model/checkpoint.hpp"
#include "../model/onnx_export.hpp"
#include "../model/segmentation_model.hpp"
#include "inference_cli.hpp"
#include "tool_main.hpp"

int main(int argc, char** argv) {
  CLI::App app{"List c2f's segmentation networks with parameters and multiply-adds per slice", "c2f-models"};
  std::string size = "512x512";
  std::vector<std::string> strip;
  app.add_option("--slice", size, "slice size HxW the cost is measured at")->capture_default_str();
  app.add_option("--strip", strip, "IN OUT: copy checkpoint IN to OUT without its optimiser state")->expected(2);
  std::vector<std::string> untrained;
  app.add_option("--untrained-set", untrained, "MODEL DIR: six untrained checkpoints of MODEL in DIR (for timing only)")
      ->expected(2);
  std::vector<std::string> onnx;
  app.add_option("--export-onnx", onnx,
                 "IN OUT: checkpoint IN to the ONNX file OUT, or the six checkpoints of model folder IN to "
                 "OUT/<scale>_<view>.onnx")
      ->expected(2);
  std::string info_of;
  app.add_option("--info", info_of, "CHECKPOINT: load it and print its info (model, scale, view, iteration) as JSON");
  return c2f::run_tool(app, argc, argv, [&] {
    if (!info_of.empty()) {
      const auto c = c2f::load_checkpoint(info_of);
      fmt::print("{}\n", c.info.to_json().dump(2));
      return 0;
    }
    if (!onnx.empty()) {
      // The interpreter: $C2F_PYTHON, else the one found at configure time (with torch and onnx).
      const char* python = std::getenv("C2F_PYTHON");
      const c2f::OnnxExporter exporter{python && *python ? python : C2F_EXPORT_PYTHON,
                                       c2f::shipped_file("python/export_onnx.py", C2F_SOURCE_EXPORTER)};
      if (std::filesystem::is_directory(onnx[0])) {
        for (const auto& f : c2f::export_onnx_set(onnx[0], onnx[1], exporter)) fmt::print("{}\n", f.string());
      } else {
        c2f::export_onnx(onnx[0], onnx[1], exporter);
        fmt::print("{} -> {}\n", onnx[0], onnx[1]);
      }
      return 0;
    }
    if (!strip.empty()) {
      const auto c = c2f::load_checkpoint(strip[0]);
      c2f::save_checkpoint(strip[1], *c.model, c.info);
      fmt::print("{} -> {} ({} {} {}, iteration {})\n", strip[0], strip[1], c.info.model, c.info.scale, c.info.view,
                 c.info.iteration);
      return 0;
    }
    if (!untrained.empty()) {
      c2f::check_model_name(untrained[0], "coarse-to-fine");
      std::filesystem::create_directories(untrained[1]);
      for (const char* scale : {"coarse", "fine"})
        for (const char* view : {"coronal", "sagittal", "axial"}) {
          auto m = c2f::make_model(untrained[0]);
          c2f::CheckpointInfo info;
          info.model = untrained[0];
          info.scale = scale;
          info.view = view;
          info.hyper = {{"untrained", true}};
          c2f::save_checkpoint(std::filesystem::path(untrained[1]) / fmt::format("{}_{}.pt", scale, view), *m, info);
        }
      fmt::print("six untrained {} networks in {} (their masks mean nothing: for timing only)\n", untrained[0],
                 untrained[1]);
      return 0;
    }
    const auto s = c2f::parse_size(size + "x1");
    fmt::print("{:<14} {:>14} {:>16} {:>10}\n", "model", "parameters", fmt::format("GMAC @{}", size), "GFLOP");
    for (const auto& name : c2f::model_names("coarse-to-fine")) {  // DeepOrgan's classifiers take other inputs
      auto m = c2f::make_model(name);
      const double gmac = double(c2f::forward_macs(*m, s[0], s[1])) / 1e9;
      fmt::print("{:<14} {:>14} {:>16.2f} {:>10.2f}\n", name, c2f::parameter_count(*m), gmac, 2 * gmac);
    }
    return 0;
  });
}
