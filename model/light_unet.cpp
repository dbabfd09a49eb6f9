#include "light_unet.hpp"

namespace c2f {

namespace {
ConvNormRelu conv3x3(std::int64_t in, std::int64_t out, std::int64_t stride = 1) { return ConvNormRelu(in, out, 3, stride); }
ConvNormRelu conv1x1(std::int64_t in, std::int64_t out) { return ConvNormRelu(in, out, 1, 1); }
torch::Tensor resize_to(const torch::Tensor& x, const torch::Tensor& like) {
  return torch::nn::functional::interpolate(
      x, torch::nn::functional::InterpolateFuncOptions()
             .size(std::vector<std::int64_t>{like.size(2), like.size(3)})
             .mode(torch::kBilinear)
             .align_corners(false));
}
}  // namespace

ConvNormReluImpl::ConvNormReluImpl(std::int64_t in, std::int64_t out, std::int64_t kernel, std::int64_t stride)
    : conv(register_module("conv", CountedConv2d(torch::nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2)))),
      norm(register_module("norm", torch::nn::GroupNorm(torch::nn::GroupNormOptions(8, out)))) {}

LightUNetImpl::LightUNetImpl(std::int64_t w) {
  stem = register_module("stem", conv3x3(3, w, 2));              // 1/2
  down1 = register_module("down1", conv3x3(w, 2 * w, 2));        // 1/4
  down2 = register_module("down2", conv3x3(2 * w, 4 * w, 2));    // 1/8
  conv2 = register_module("conv2", conv3x3(4 * w, 4 * w));
  down3 = register_module("down3", conv3x3(4 * w, 6 * w, 2));    // 1/16
  conv3 = register_module("conv3", conv3x3(6 * w, 6 * w));
  fuse2 = register_module("fuse2", conv1x1(10 * w, 3 * w));      // 1/8
  refine2 = register_module("refine2", conv3x3(3 * w, 3 * w));
  fuse1 = register_module("fuse1", conv1x1(5 * w, 3 * w / 2));   // 1/4
  refine1 = register_module("refine1", conv3x3(3 * w / 2, 3 * w / 2));
  fuse0 = register_module("fuse0", conv1x1(3 * w / 2 + w, w));   // 1/2
  head = register_module("head", CountedConv2d(torch::nn::Conv2dOptions(w, 3, 1)));
}

torch::Tensor LightUNetImpl::forward(torch::Tensor x) {
  const auto input = x;
  const auto s0 = stem->forward(x);
  const auto s1 = down1->forward(s0);
  const auto s2 = conv2->forward(down2->forward(s1));
  const auto s3 = conv3->forward(down3->forward(s2));
  auto y = refine2->forward(fuse2->forward(torch::cat({resize_to(s3, s2), s2}, 1)));
  y = refine1->forward(fuse1->forward(torch::cat({resize_to(y, s1), s1}, 1)));
  y = fuse0->forward(torch::cat({resize_to(y, s0), s0}, 1));
  return resize_to(head->forward(y), input);
}

}  // namespace c2f
