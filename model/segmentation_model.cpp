#include "segmentation_model.hpp"

#include <algorithm>

#include "fcn8s_vgg16.hpp"
#include "light_unet.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

std::vector<std::string> model_names() { return {"fcn8s-vgg16", "light-unet"}; }

void check_model_name(const std::string& name) {
  const auto names = model_names();
  if (std::find(names.begin(), names.end(), name) == names.end())
    throw OptionError("unknown model '" + name + "' (known: fcn8s-vgg16, light-unet)");
}

SegmentationModel make_model(const std::string& name) {
  check_model_name(name);
  if (name == "fcn8s-vgg16") return std::make_shared<Fcn8sVgg16Impl>();
  return std::make_shared<LightUNetImpl>();
}

std::int64_t parameter_count(torch::nn::Module& m) {
  std::int64_t n = 0;
  for (const auto& p : m.parameters())
    if (p.requires_grad()) n += p.numel();
  return n;
}

std::int64_t forward_macs(SegmentationModelImpl& m, std::int64_t height, std::int64_t width) {
  torch::InferenceMode guard;
  const bool was_training = m.is_training();
  m.eval();
  m.forward(torch::zeros({1, 3, height, width}));
  m.train(was_training);
  return last_forward_macs(m);
}

}  // namespace c2f
