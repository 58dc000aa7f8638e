// A fixed pool of worker threads for CPU kernels; nested parallel_for calls run inline.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tessera {

class ThreadPool {
 public:
  explicit ThreadPool(int threads = 0);  // 0 = hardware concurrency
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  int size() const { return int(workers_.size()) + 1; }  // the calling thread works too
  void resize(int threads);
  // Splits [0, n) into at most size() contiguous chunks of at least `grain` items and runs fn(begin, end).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
  // Like parallel_for, but about 8 chunks per thread (each a multiple of `grain` items) handed out
  // dynamically: for long memory-bound loops, where a thread that starts late or runs slower (a
  // shared machine) would otherwise leave the others waiting at the end.
  void parallel_for_dynamic(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
  // Runs fn(task) for task in [0, tasks), tasks handed out dynamically.
  void parallel_tasks(int64_t tasks, const std::function<void(int64_t)>& fn);

 private:
  void start(int threads);
  void stop();
  void worker_loop(uint64_t seen);
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::mutex run_mu_;  // one parallel region at a time
  std::condition_variable cv_, done_cv_;
  // Written by the caller before generation_ is bumped (release); read by workers after seeing it.
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t job_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<int> pending_workers_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stopping_{false};
};

}  // namespace tessera
