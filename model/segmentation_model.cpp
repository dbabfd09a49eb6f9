#include "segmentation_model.hpp"

#include "mac_counting.hpp"

namespace c2f {

SegmentationModel make_model(std::string_view name) { return model_entry(name).make(); }

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
