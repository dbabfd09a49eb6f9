#include "fcn8s_vgg16.hpp"

#include <cmath>

namespace c2f {

namespace {
// A deconvolution kernel that performs bilinear up-sampling, channel by channel.
torch::Tensor bilinear_kernel(std::int64_t channels, std::int64_t size) {
  const double factor = double((size + 1) / 2);
  const double centre = size % 2 == 1 ? factor - 1 : factor - 0.5;
  auto k = torch::zeros({channels, channels, size, size});
  for (std::int64_t c = 0; c < channels; ++c)
    for (std::int64_t i = 0; i < size; ++i)
      for (std::int64_t j = 0; j < size; ++j)
        k[c][c][i][j] = (1 - std::abs(double(i) - centre) / factor) * (1 - std::abs(double(j) - centre) / factor);
  return k;
}

torch::Tensor crop_like(const torch::Tensor& x, std::int64_t offset, std::int64_t h, std::int64_t w) {
  return x.narrow(2, offset, h).narrow(3, offset, w);
}
}  // namespace

Fcn8sVgg16Impl::Fcn8sVgg16Impl() {
  const int widths[5] = {64, 128, 256, 512, 512};
  const int depth[5] = {2, 2, 3, 3, 3};
  std::int64_t in = 3;
  for (int b = 0; b < 5; ++b)
    for (int l = 0; l < depth[b]; ++l) {
      const bool first = b == 0 && l == 0;
      auto conv = CountedConv2d(torch::nn::Conv2dOptions(in, widths[b], 3).padding(first ? 100 : 1));
      vgg_convs.push_back(register_module("conv" + std::to_string(b + 1) + "_" + std::to_string(l + 1), conv));
      in = widths[b];
    }
  fc6 = register_module("fc6", CountedConv2d(torch::nn::Conv2dOptions(512, 4096, 7)));
  fc7 = register_module("fc7", CountedConv2d(torch::nn::Conv2dOptions(4096, 4096, 1)));
  score_fr = register_module("score_fr", CountedConv2d(torch::nn::Conv2dOptions(4096, 3, 1)));
  score_pool4 = register_module("score_pool4", CountedConv2d(torch::nn::Conv2dOptions(512, 3, 1)));
  score_pool3 = register_module("score_pool3", CountedConv2d(torch::nn::Conv2dOptions(256, 3, 1)));
  auto deconv = [](std::int64_t k, std::int64_t s) {
    return CountedConvTranspose2d(torch::nn::ConvTranspose2dOptions(3, 3, k).stride(s).bias(false));
  };
  upscore2 = register_module("upscore2", deconv(4, 2));
  upscore_pool4 = register_module("upscore_pool4", deconv(4, 2));
  upscore8 = register_module("upscore8", deconv(16, 8));

  torch::NoGradGuard no_grad;
  // Score layers start at zero (as in FCN), so an untrained network predicts 0.5 everywhere
  // rather than noise; deconvolutions are fixed bilinear up-sampling (the released code's choice).
  for (auto* s : {&score_fr, &score_pool4, &score_pool3}) {
    (*s)->conv->weight.zero_();
    (*s)->conv->bias.zero_();
  }
  for (auto* d : {&upscore2, &upscore_pool4, &upscore8}) {
    (*d)->conv->weight.copy_(bilinear_kernel(3, (*d)->conv->weight.size(2)));
    (*d)->conv->weight.set_requires_grad(false);
  }
}

torch::Tensor Fcn8sVgg16Impl::forward(torch::Tensor x) {
  const std::int64_t h = x.size(2), w = x.size(3);
  const int depth[5] = {2, 2, 3, 3, 3};
  torch::Tensor pool3, pool4;
  std::size_t i = 0;
  for (int b = 0; b < 5; ++b) {
    for (int l = 0; l < depth[b]; ++l) x = torch::relu(vgg_convs[i++]->forward(x));
    x = torch::max_pool2d(x, 2, 2, 0, 1, /*ceil_mode=*/true);
    if (b == 2) pool3 = x;
    if (b == 3) pool4 = x;
  }
  x = torch::dropout(torch::relu(fc6->forward(x)), 0.5, is_training());
  x = torch::dropout(torch::relu(fc7->forward(x)), 0.5, is_training());
  auto up2 = upscore2->forward(score_fr->forward(x));
  auto p4 = crop_like(score_pool4->forward(pool4), 5, up2.size(2), up2.size(3));
  auto up4 = upscore_pool4->forward(up2 + p4);
  auto p3 = crop_like(score_pool3->forward(pool3), 9, up4.size(2), up4.size(3));
  auto up8 = upscore8->forward(up4 + p3);
  return crop_like(up8, 31, h, w);
}

}  // namespace c2f
