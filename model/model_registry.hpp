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
};

// Every registered network, in the order listings print them.
const std::vector<ModelEntry>& model_registry();
// The entry of that name; throws OptionError listing the known names.
const ModelEntry& model_entry(std::string_view name);

// "fcn8s-vgg16" (the paper's network, for GPUs) and "light-unet" (for CPUs): the registry's names.
std::vector<std::string> model_names();
// model_entry's check alone: throws OptionError for an unknown name.
void check_model_name(std::string_view name);

}  // namespace c2f
