#include "runtime.hpp"

#include "torch_pch.hpp"

#include <ATen/Parallel.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "segmentation_model.hpp"
#include "../pipeline/errors.hpp"

namespace c2f {

TorchRuntime torch_runtime() {
  TorchRuntime r;
  r.version = TORCH_VERSION;
  r.cuda_available = torch::cuda::is_available();
  r.cuda_devices = r.cuda_available ? int(torch::cuda::device_count()) : 0;
  r.intra_op_threads = torch::get_num_threads();
  r.mkldnn = at::hasMKLDNN();
  r.mkl = at::hasMKL();
  r.parallel = at::get_parallel_info();
  return r;
}

double sgemm_gflops(int n, int repeats) {
  torch::InferenceMode guard;
  const auto a = torch::rand({n, n}), b = torch::rand({n, n});
  torch::Tensor c = torch::mm(a, b);  // warm-up: the pool's threads, the pages of c
  double best = 1e300;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    torch::mm_out(c, a, b);
    best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return 2.0 * double(n) * double(n) * double(n) / best * 1e-9;
}

int set_intra_op_threads(int n) {
  if (n <= 0) n = int(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(n);
  return torch::get_num_threads();
}

ForwardSpeed forward_speed(const std::string& model, int batch, int height, int width, int repeats) {
  torch::InferenceMode guard;
  auto net = make_model(model);
  net->eval();
  const auto x = torch::rand({batch, 3, height, width});
  net->forward(x);  // warm-up: oneDNN's primitives for this shape, the pool's threads
  ForwardSpeed speed;
  speed.multiply_adds = forward_macs(*net, height, width) * batch;
  speed.seconds = 1e300;
  for (int r = 0; r < std::max(1, repeats); ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    net->forward(x);
    speed.seconds = std::min(speed.seconds, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return speed;
}

std::string check_device_name(const std::string& name) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const std::exception&) {
    throw OptionError("unknown device '" + name + "' (expected cpu, cuda or cuda:N)");
  }
  if (device.is_cuda()) {
    const TorchRuntime r = torch_runtime();
    if (!r.cuda_available) throw OptionError("device '" + name + "': this LibTorch build has no CUDA device available");
    if (device.has_index() && device.index() >= r.cuda_devices)
      throw OptionError("device '" + name + "': only " + std::to_string(r.cuda_devices) + " CUDA device(s)");
  }
  return device.str();
}

std::string resolve_precision(const std::string& device, const std::string& precision) {
  const bool cuda = torch::Device(check_device_name(device)).is_cuda();
  if (precision != "auto" && precision != "fp32" && precision != "bf16" && precision != "fp16")
    throw OptionError("unknown precision '" + precision + "' (expected auto, fp32, bf16 or fp16)");
  // LibTorch 1.13's CPU autocast leaves GroupNorm with bf16 inputs and fp32 weights: low
  // precision is for CUDA, where autocast runs normalisation in fp32.
  if ((precision == "fp16" || precision == "bf16") && !cuda)
    throw OptionError(precision + " needs a CUDA device; the CPU runs fp32");
  if (precision == "auto") return cuda ? "bf16" : "fp32";
  return precision;
}

}  // namespace c2f
