#pragma once
// Data-parallel training of one network over LibTorch's c10d: every rank holds the whole network,
// trains on its own share of each global batch, and the ranks sum their gradients before every
// optimiser step, so that all of them take the same step.
//
// Each rank weights every sample's loss by 1 / (global batch), so the summed gradient is the
// gradient of the batch's mean loss (the DSC loss of a batch is the mean of its images'), exactly
// what one process computes over the whole batch: with equal shares, the ranks' mean gradients
// averaged (divided by the world size). The collectives run over Gloo (CPU tensors), or NCCL for
// CUDA tensors where LibTorch was built with it (C2F_HAVE_NCCL); without NCCL, CUDA gradients are
// staged through the CPU. `device` is where the gradients are ("cpu", "cuda", "cuda:N").
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

// No LibTorch in this header (the executables include it): the module is only named.
namespace torch::nn {
class Module;
}

namespace c2f {

class DataParallel {
 public:
  // Rendezvous over a TCP store that rank 0 serves at master_addr:master_port; every rank waits up
  // to `timeout` for the others. Throws Error naming the address when it cannot.
  static std::shared_ptr<DataParallel> over_tcp(int rank, int world_size, const std::string& master_addr, int master_port,
                                                const std::string& device = "cpu",
                                                std::chrono::seconds timeout = std::chrono::seconds(300));
  // Rendezvous over a file every rank sees (one machine, or a shared file system); the file must
  // not exist before the first rank arrives.
  static std::shared_ptr<DataParallel> over_file(int rank, int world_size, const std::filesystem::path& file,
                                                 const std::string& device = "cpu",
                                                 std::chrono::seconds timeout = std::chrono::seconds(300));
  ~DataParallel();
  DataParallel(const DataParallel&) = delete;
  DataParallel& operator=(const DataParallel&) = delete;

  int rank() const;
  int world_size() const;
  std::string backend() const;  // "gloo" or "nccl"

  // Rank 0's parameters and buffers copied to every rank (one broadcast of all of them).
  void broadcast_parameters(torch::nn::Module& module);
  // Every trainable parameter's gradient summed over the ranks, in place, in one allreduce of one
  // flat buffer; `extra` values (a loss sum, a sample count) ride along and come back summed. A
  // gradient a rank never computed counts as zero.
  std::vector<double> sum_gradients(torch::nn::Module& module, const std::vector<double>& extra = {});
  // Small values summed, or their maximum taken, over the ranks.
  std::vector<double> sum(const std::vector<double>& values);
  std::vector<double> max(const std::vector<double>& values);
  void barrier();

  // What the last sum_gradients sent: bytes of its buffer, and seconds in the allreduce alone.
  std::int64_t last_allreduce_bytes() const;
  double last_allreduce_seconds() const;

 private:
  struct State;
  explicit DataParallel(std::unique_ptr<State> state);
  static std::shared_ptr<DataParallel> attach(std::unique_ptr<State> state, std::chrono::seconds timeout);
  std::unique_ptr<State> s_;
};

// What a data-parallel step costs (c2f-bench --allreduce): `steps` training steps of a fresh
// `model` (Adam, as its registry trains it or not) on random [3, side, side] images, `images` of
// them on this rank per step, gradients summed over `dp` (none: this process alone). Medians over
// the steps after a first, warm-up one.
struct DataParallelTiming {
  std::int64_t parameters = 0;
  std::int64_t allreduce_bytes = 0;  // per step
  double allreduce_seconds = 0;      // per step, in the allreduce alone
  double step_seconds = 0;           // per step: forwards, backwards, allreduce, optimiser step
};
DataParallelTiming time_data_parallel_steps(const std::string& model, DataParallel* dp, int images, int side, int steps);

}  // namespace c2f
