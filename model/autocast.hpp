#pragma once
// Autocast for the forward passes of inference (network_inference.cpp) and training
// (train_step.cpp): one scope, so both run matrix products in the same low precision.
#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace c2f {

// Autocast on for one forward pass, on the CPU or CUDA; off again however the pass ends.
// LibTorch 2.4 replaced the per-device setters by ones that take the device type.
class AutocastScope {
 public:
  AutocastScope(bool cuda, c10::ScalarType type) : cuda_(cuda) { set(true, type); }
  ~AutocastScope() {
    set(false, c10::ScalarType::Undefined);
    at::autocast::clear_cache();
  }

 private:
  void set(bool on, c10::ScalarType type) const {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    const c10::DeviceType device = cuda_ ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
    if (on) at::autocast::set_autocast_dtype(device, type);
    at::autocast::set_autocast_enabled(device, on);
#else
    if (cuda_) {
      if (on) at::autocast::set_autocast_gpu_dtype(type);
      at::autocast::set_enabled(on);
    } else {
      if (on) at::autocast::set_autocast_cpu_dtype(type);
      at::autocast::set_cpu_enabled(on);
    }
#endif
  }
  bool cuda_;
};

}  // namespace c2f
