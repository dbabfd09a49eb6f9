#pragma once
// One thread that owns a compute device: jobs run on it in the order submitted.
//
// The graphs' model node is an async_node that hands each batch to this thread. A oneTBB worker
// is then never blocked on the model, and every forward pass is issued from the same thread:
// LibTorch's OpenMP pool (one per calling thread) and a CUDA stream stay with it, instead of a
// new pool of spinning threads for each worker that happens to call the model.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace c2f {

class DeviceThread {
 public:
  DeviceThread() : thread_([this] { loop(); }) {}
  ~DeviceThread() {
    {
      std::lock_guard lock(m_);
      stop_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  DeviceThread(const DeviceThread&) = delete;
  DeviceThread& operator=(const DeviceThread&) = delete;

  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(m_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

 private:
  void loop() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(m_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;  // stop_ and nothing left
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  bool stop_ = false;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace c2f
