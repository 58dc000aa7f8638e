#include "tessera/thread_pool.h"

#include <algorithm>
#include <chrono>

namespace tessera {

namespace {
thread_local bool t_in_parallel = false;  // set while this thread runs a parallel region's task

// Waking a thread blocked on a condition variable costs tens of microseconds on a virtual machine
// (and varies with the host's load): more than many whole kernels. So a worker polls for the next job
// for this long after finishing one, and the caller polls for the workers to finish, before either
// blocks; back-to-back ops (a model's forward pass) then never sleep in between.
constexpr auto kSpin = std::chrono::microseconds(100);

template <typename Ready>
bool spin_until(Ready ready) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  // No PAUSE instruction in the loop: under KVM, a run of PAUSEs is taken for a vCPU waiting on a
  // preempted lock holder (pause-loop exiting) and the hypervisor deschedules it, which costs the very
  // wake-up latency the spinning is for (measured: the worker started 15-40 us late, 1 us without).
  for (int i = 1;; ++i) {
    if (ready()) return true;
    if (i % 256 == 0 && std::chrono::steady_clock::now() > deadline) return ready();
  }
}
}  // namespace

ThreadPool::ThreadPool(int threads) { start(threads); }
ThreadPool::~ThreadPool() { stop(); }

void ThreadPool::start(int threads) {
  if (threads <= 0) threads = int(std::max(1u, std::thread::hardware_concurrency()));
  stopping_ = false;
  // Each worker starts from the generation current now: a job posted before the thread first runs
  // is still one it must take part in.
  const uint64_t now = generation_.load(std::memory_order_acquire);
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this, now] { worker_loop(now); });
}

void ThreadPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::resize(int threads) {
  std::lock_guard<std::mutex> run(run_mu_);
  stop();
  start(threads);
}

void ThreadPool::worker_loop(uint64_t seen) {
  for (;;) {
    auto ready = [&] { return stopping_.load(std::memory_order_acquire) || generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(ready)) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, ready);
    }
    if (stopping_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    const std::function<void(int64_t)>& job = *job_;
    const int64_t tasks = job_tasks_;
    t_in_parallel = true;
    for (int64_t t; (t = next_task_.fetch_add(1)) < tasks;) job(t);
    t_in_parallel = false;
    if (pending_workers_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller checks pending_workers_ under mu_ before it waits
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_tasks(int64_t tasks, const std::function<void(int64_t)>& fn) {
  if (tasks <= 0) return;
  if (tasks == 1 || workers_.empty() || t_in_parallel) {
    for (int64_t t = 0; t < tasks; ++t) fn(t);
    return;
  }
  std::lock_guard<std::mutex> run(run_mu_);
  job_ = &fn;
  job_tasks_ = tasks;
  next_task_.store(0);
  pending_workers_.store(int(workers_.size()));
  {
    std::lock_guard<std::mutex> lock(mu_);  // a worker between its check and its wait sees the bump
    generation_.fetch_add(1, std::memory_order_release);
  }
  cv_.notify_all();
  t_in_parallel = true;
  for (int64_t t; (t = next_task_.fetch_add(1)) < tasks;) fn(t);
  t_in_parallel = false;
  auto done = [&] { return pending_workers_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, done);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  int64_t chunks = std::min<int64_t>(size(), (n + grain - 1) / grain);
  if (chunks <= 1 || t_in_parallel) {
    fn(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  parallel_tasks(chunks, [&](int64_t c) {
    int64_t b = c * per, e = std::min(n, b + per);
    if (b < e) fn(b, e);
  });
}

void ThreadPool::parallel_for_dynamic(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(grain, 1);
  const int64_t per = std::max<int64_t>(1, (n + 8 * size() - 1) / (8 * size()) + grain - 1) / grain * grain;
  const int64_t chunks = (n + per - 1) / per;
  if (chunks <= 1 || t_in_parallel) {
    fn(0, n);
    return;
  }
  parallel_tasks(chunks, [&](int64_t c) { fn(c * per, std::min(n, (c + 1) * per)); });
}

}  // namespace tessera
