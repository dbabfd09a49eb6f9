#pragma once
// The registry of c2f's segmentation networks: one entry per network, the one place that knows
// how to build it, how it trains by default and whether it takes ImageNet VGG-16 weights.
//
// This header names no LibTorch type beyond forward declarations, so that translation units that
// only check or list names (executables' option checks, the training options) stay out of
// LibTorch's headers; calling an entry's functions needs segmentation_model.hpp.
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace c2f {

class SegmentationModelImpl;  // segmentation_model.hpp
struct VggLoadReport;         // vgg_weights.hpp

// The solvers c2f trains with; their text ("sgd", "adam") is for command lines and checkpoints.
enum class Optimizer {
  Sgd,   // the paper's solver as the released code sets it: momentum 0.99, weight decay 5e-4
  Adam,
};
const char* optimizer_name(Optimizer o);
// "sgd" or "adam"; throws OptionError for any other text.
Optimizer parse_optimizer(std::string_view name);

struct ModelEntry {
  std::string_view name;  // as command lines and checkpoints spell it
  std::string_view description;
  Optimizer optimizer;    // the default solver and learning rate of a training run
  double learning_rate;
  // A freshly initialised network.
  std::shared_ptr<SegmentationModelImpl> (*make)();
  // Loads ImageNet VGG-16 weights into a network this entry made; null: the network takes none.
  VggLoadReport (*load_vgg_weights)(SegmentationModelImpl& model, const std::filesystem::path& file);
  // The method whose wiring runs it: "coarse-to-fine" (segmentation networks, 3-slice input,
  // per-pixel output) or "deeporgan" (Roth et al. 2015's classifiers, model/deeporgan_convnet.hpp).
  std::string_view method = "coarse-to-fine";
};

// Every registered network, in the order listings print them.
const std::vector<ModelEntry>& model_registry();
// The entry of that name; throws OptionError listing the known names.
const ModelEntry& model_entry(std::string_view name);

// The registry's names: "fcn8s-vgg16" (the paper's network, for GPUs), "light-unet" (for CPUs),
// and DeepOrgan's "p-convnet", "r1-convnet", "r2-convnet". With a method, only that method's.
std::vector<std::string> model_names(std::string_view method = {});
// model_entry's check alone: throws OptionError for an unknown name, and for a network of
// another method than `method` (when given).
void check_model_name(std::string_view name, std::string_view method = {});

}  // namespace c2f
