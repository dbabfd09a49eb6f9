#pragma once
// CaseCache: prepared cases loaded on demand by the sample-making nodes, at most `capacity` held
// (least recently used dropped first), so training memory is bounded on a cohort of any size.
// Two requests for one case share one load; loads of different cases run concurrently.
// A case dropped while a sample is still being cut from it lives until that sample is done.
#include <atomic>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>

#include "training_sample.hpp"

namespace c2f {

class CaseCache {
 public:
  using Loader = std::function<PreparedCase(std::size_t index)>;
  CaseCache(std::size_t capacity, Loader loader);

  std::shared_ptr<const PreparedCase> get(std::size_t index);
  std::size_t capacity() const { return capacity_; }
  std::int64_t loads() const { return loads_.load(); }  // how many times a case was read

 private:
  struct Entry {
    std::shared_future<std::shared_ptr<const PreparedCase>> value;
    std::uint64_t last_use = 0;
  };
  std::size_t capacity_;
  Loader loader_;
  std::mutex mutex_;
  std::map<std::size_t, Entry> entries_;
  std::uint64_t clock_ = 0;
  std::atomic<std::int64_t> loads_{0};
};

}  // namespace c2f
