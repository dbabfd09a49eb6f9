#pragma once
// Convolutions that remember the multiply-adds of their last forward pass, so a model's cost at
// any input size is measured by running it once (LibTorch's C++ API has no forward hooks).
#include <cstdint>

#include "torch_pch.hpp"

namespace c2f {

class CountedConv2dImpl : public torch::nn::Module {
 public:
  explicit CountedConv2dImpl(const torch::nn::Conv2dOptions& o) : conv(register_module("conv", torch::nn::Conv2d(o))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv->forward(x);
    const auto& w = conv->weight;  // [out, in/groups, kh, kw]
    last_macs = y.size(0) * y.size(2) * y.size(3) * w.size(0) * w.size(1) * w.size(2) * w.size(3);
    return y;
  }
  torch::nn::Conv2d conv;
  std::int64_t last_macs = 0;
};
TORCH_MODULE(CountedConv2d);

class CountedConvTranspose2dImpl : public torch::nn::Module {
 public:
  explicit CountedConvTranspose2dImpl(const torch::nn::ConvTranspose2dOptions& o)
      : conv(register_module("conv", torch::nn::ConvTranspose2d(o))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = conv->forward(x);
    const auto& w = conv->weight;  // [in, out/groups, kh, kw]: each input pixel feeds k*k*out
    last_macs = x.size(0) * x.size(2) * x.size(3) * w.size(0) * w.size(1) * w.size(2) * w.size(3);
    return y;
  }
  torch::nn::ConvTranspose2d conv;
  std::int64_t last_macs = 0;
};
TORCH_MODULE(CountedConvTranspose2d);

// The multiply-adds of all counted convolutions in the module's last forward pass.
inline std::int64_t last_forward_macs(torch::nn::Module& m) {
  std::int64_t total = 0;
  for (const auto& child : m.modules(/*include_self=*/true)) {
    if (auto* c = child->as<CountedConv2dImpl>()) total += c->last_macs;
    if (auto* t = child->as<CountedConvTranspose2dImpl>()) total += t->last_macs;
  }
  return total;
}

}  // namespace c2f
