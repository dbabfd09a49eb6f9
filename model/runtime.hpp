#pragma once
// What the LibTorch runtime in this build can do. Free of torch headers, so tools can ask.
#include <string>

namespace c2f {

struct TorchRuntime {
  std::string version;       // LibTorch version, e.g. "1.13.1"
  bool cuda_available = false;
  int cuda_devices = 0;
  int intra_op_threads = 1;  // torch::get_num_threads()
};

TorchRuntime torch_runtime();

// The threads LibTorch's CPU operators use (its intra-op pool); n <= 0: one per core. Set once,
// by the executable, before any network runs: OpenMP's own default was seen at 1 on 2 cores.
// Returns the number set.
int set_intra_op_threads(int n);

// "cpu", "cuda" or "cuda:N", checked against the runtime; throws OptionError otherwise.
std::string check_device_name(const std::string& name);

// The precision a network runs at on `device` (checked as above), for inference and training
// alike: "auto" is bf16 (autocast) on CUDA and fp32 on the CPU; "fp32"; "bf16" and "fp16" need
// CUDA. Throws OptionError for another name, or low precision on the CPU.
std::string resolve_precision(const std::string& device, const std::string& precision);

}  // namespace c2f
