#pragma once
// Busy time per graph node: what a user reads to see where the time goes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace c2f {

struct StageTime {
  std::string stage;
  double busy_seconds = 0;
  std::int64_t calls = 0;
};

using StageClock = std::chrono::steady_clock;

inline double seconds_since(StageClock::time_point t0) {
  return std::chrono::duration<double>(StageClock::now() - t0).count();
}

// Busy time of a node whose body may run on several threads at once (summed over threads).
struct BusyClock {
  std::atomic<std::int64_t> nanoseconds{0}, calls{0};
  // Returns the seconds since t0 it added.
  double add(StageClock::time_point t0) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(StageClock::now() - t0).count();
    nanoseconds += ns;
    ++calls;
    return double(ns) * 1e-9;
  }
  StageTime report(const char* name) const { return {name, double(nanoseconds.load()) * 1e-9, calls.load()}; }
};

}  // namespace c2f
