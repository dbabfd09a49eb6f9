#include "model_registry.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "deeporgan_convnet.hpp"
#include "fcn8s_vgg16.hpp"
#include "light_unet.hpp"
#include "vgg_weights.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

namespace {
// The one cast from the interface to the concrete network: the entry that made it knows its type.
VggLoadReport load_fcn8s_vgg16_weights(SegmentationModelImpl& model, const std::filesystem::path& file) {
  return load_vgg16_weights(dynamic_cast<Fcn8sVgg16Impl&>(model), file);
}
}  // namespace

const char* optimizer_name(Optimizer o) { return o == Optimizer::Sgd ? "sgd" : "adam"; }

Optimizer parse_optimizer(std::string_view name) {
  if (name == "sgd") return Optimizer::Sgd;
  if (name == "adam") return Optimizer::Adam;
  throw OptionError(fmt::format("unknown optimiser '{}' (expected sgd or adam)", name));
}

const std::vector<ModelEntry>& model_registry() {
  // The learning rates: the released code's 1e-5 for FCN-8s with SGD; Adam's usual 1e-3 for the
  // light network, which trains from scratch with a batch of one.
  static const std::vector<ModelEntry> entries{
      {"fcn8s-vgg16", "FCN-8s on VGG-16, the paper's network, for GPUs", Optimizer::Sgd, 1e-5,
       [] { return SegmentationModel(std::make_shared<Fcn8sVgg16Impl>()); }, &load_fcn8s_vgg16_weights},
      {"light-unet", "a small U-Net under 1 GMAC per 512 x 512 slice, for CPUs", Optimizer::Adam, 1e-3,
       [] { return SegmentationModel(std::make_shared<LightUNetImpl>()); }, nullptr},
      // DeepOrgan's three ConvNets: one architecture, input channels by role. Adam at 1e-3: they
      // train from scratch on CPUs in minutes, not the paper's 55 h of SGD on a GPU.
      {"p-convnet", "DeepOrgan's P-ConvNet: 2.5-D patches (axial, coronal, sagittal) -> pancreas or not",
       Optimizer::Adam, 1e-3, [] { return SegmentationModel(std::make_shared<DeepOrganConvNetImpl>("p-convnet", 3)); },
       nullptr, "deeporgan"},
      {"r1-convnet", "DeepOrgan's R1-ConvNet: a superpixel's region at 64 x 64, CT", Optimizer::Adam, 1e-3,
       [] { return SegmentationModel(std::make_shared<DeepOrganConvNetImpl>("r1-convnet", 1)); }, nullptr, "deeporgan"},
      {"r2-convnet", "DeepOrgan's R2-ConvNet: a superpixel's region at 64 x 64, CT and P0", Optimizer::Adam, 1e-3,
       [] { return SegmentationModel(std::make_shared<DeepOrganConvNetImpl>("r2-convnet", 2)); }, nullptr, "deeporgan"},
  };
  return entries;
}

const ModelEntry& model_entry(std::string_view name) {
  const auto& entries = model_registry();
  const auto it = std::find_if(entries.begin(), entries.end(), [&](const ModelEntry& e) { return e.name == name; });
  if (it == entries.end())
    throw OptionError(fmt::format("unknown model '{}' (known: {})", name, fmt::join(model_names(), ", ")));
  return *it;
}

std::vector<std::string> model_names(std::string_view method) {
  std::vector<std::string> names;
  for (const ModelEntry& e : model_registry())
    if (method.empty() || e.method == method) names.emplace_back(e.name);
  return names;
}

void check_model_name(std::string_view name, std::string_view method) {
  const ModelEntry& e = model_entry(name);
  if (!method.empty() && e.method != method)
    throw OptionError(fmt::format("model '{}' is a {} network, not one for {} (known: {})", name, e.method, method,
                                  fmt::join(model_names(method), ", ")));
}

}  // namespace c2f
