#pragma once
// This CPU's fp32 arithmetic peak, measured rather than taken from a data sheet (a VM's cores,
// turbo and the FMA units it exposes decide it): independent chains of 8-wide fused
// multiply-adds, enough of them to hide the FMA latency, on 1 thread and on every core.
namespace c2f::bench {

struct FmaPeak {
  bool fma = false;        // AVX2 + FMA present (else scalar multiply-adds: a lower bound only)
  int threads = 1;
  double gflops = 0;       // fp32, 2 FLOP per multiply-add, summed over the threads
};

// Runs the chains on `threads` threads for about `seconds`.
FmaPeak measure_fma_peak(int threads, double seconds = 0.5);

}  // namespace c2f::bench
