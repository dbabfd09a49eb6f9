#pragma once
// What the LibTorch runtime in this build can do. Free of torch headers, so tools can ask.
#include <cstdint>
#include <string>

namespace c2f {

struct TorchRuntime {
  std::string version;       // LibTorch version, e.g. "1.13.1"
  bool cuda_available = false;
  int cuda_devices = 0;
  int intra_op_threads = 1;  // torch::get_num_threads()
  bool mkldnn = false;       // oneDNN (MKL-DNN) compiled in: LibTorch's fast CPU convolutions
  bool mkl = false;          // Intel MKL as its BLAS (else the system's BLAS)
  std::string parallel;      // at::get_parallel_info(): the thread pool and its settings
};

TorchRuntime torch_runtime();

// The threads LibTorch's CPU operators use (its intra-op pool); n <= 0: one per core. Set once,
// by the executable, before any network runs: OpenMP's own default was seen at 1 on 2 cores.
// Returns the number set.
int set_intra_op_threads(int n);

// fp32 GFLOP/s of one n x n by n x n matrix product through LibTorch (its BLAS, its threads),
// the best of `repeats` after one warm-up.
double sgemm_gflops(int n, int repeats);

// One forward pass of a registered network, untrained weights, in eval mode on the CPU: its
// multiply-adds and the best of `repeats` times (after one warm-up), at batch x 3 x h x w.
struct ForwardSpeed {
  std::int64_t multiply_adds = 0;
  double seconds = 0;
  double gflops() const { return 2.0 * double(multiply_adds) / seconds * 1e-9; }
};
ForwardSpeed forward_speed(const std::string& model, int batch, int height, int width, int repeats);

// "cpu", "cuda" or "cuda:N", checked against the runtime; throws OptionError otherwise.
std::string check_device_name(const std::string& name);

// The precision a network runs at on `device` (checked as above), for inference and training
// alike: "auto" is bf16 (autocast) on CUDA and fp32 on the CPU; "fp32"; "bf16" and "fp16" need
// CUDA. Throws OptionError for another name, or low precision on the CPU.
std::string resolve_precision(const std::string& device, const std::string& precision);

}  // namespace c2f
