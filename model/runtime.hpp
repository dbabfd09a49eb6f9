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

// "cpu", "cuda" or "cuda:N", checked against the runtime; throws OptionError otherwise.
std::string check_device_name(const std::string& name);

}  // namespace c2f
