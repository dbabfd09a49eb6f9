#include "peak_flops.hpp"

#include <immintrin.h>

#include <chrono>
#include <thread>
#include <vector>

namespace c2f::bench {

namespace {
// 12 chains: an FMA takes 4-5 cycles and two can start per cycle, so 8-10 chains keep both
// units busy; 12 fit the 16 ymm registers with the two constants.
constexpr int kChains = 12;
constexpr int kLanes = 8;

__attribute__((target("avx2,fma"))) float fma_chains(long iterations) {
  __m256 acc[kChains];
  const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
  for (int i = 0; i < kChains; ++i) acc[i] = _mm256_set1_ps(float(i));
  for (long k = 0; k < iterations; ++k) {
#pragma GCC unroll 12
    for (int i = 0; i < kChains; ++i) acc[i] = _mm256_fmadd_ps(acc[i], m, c);
  }
  __m256 s = acc[0];
  for (int i = 1; i < kChains; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[kLanes];
  _mm256_storeu_ps(out, s);
  return out[0];  // used, so the loop is not optimised away
}

float scalar_chains(long iterations) {
  float acc[kChains * kLanes];
  for (int i = 0; i < kChains * kLanes; ++i) acc[i] = float(i);
  for (long k = 0; k < iterations; ++k)
    for (float& a : acc) a = a * 0.999999f + 1e-6f;
  float s = 0;
  for (float a : acc) s += a;
  return s;
}

double run(int threads, long iterations, bool fma) {
  std::vector<std::thread> pool;
  std::vector<float> sink(std::size_t(threads), 0.f);
  const auto t0 = std::chrono::steady_clock::now();
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] { sink[std::size_t(t)] = fma ? fma_chains(iterations) : scalar_chains(iterations); });
  for (auto& p : pool) p.join();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  volatile float keep = sink[0];
  (void)keep;
  return seconds;
}
}  // namespace

FmaPeak measure_fma_peak(int threads, double seconds) {
  FmaPeak peak;
  peak.threads = threads < 1 ? 1 : threads;
  peak.fma = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  // Calibrate on a short run, then one run of about `seconds`; the best of three is the peak.
  long iterations = 1 << 20;
  double t = run(1, iterations, peak.fma);
  iterations = long(double(iterations) * seconds / (t > 1e-6 ? t : 1e-6));
  if (iterations < 1) iterations = 1;
  double best = 1e300;
  for (int r = 0; r < 3; ++r) {
    const double s = run(peak.threads, iterations, peak.fma);
    if (s < best) best = s;
  }
  peak.gflops = double(peak.threads) * double(iterations) * kChains * kLanes * 2 / best * 1e-9;
  return peak;
}

}  // namespace c2f::bench
