// What a kernel gets to run with: the thread pool and the allocator of its runtime.
#pragma once
#include <memory>
#include <mutex>

#include "tessera/allocator.h"
#include "tessera/array.h"
#include "tessera/thread_pool.h"

namespace tessera {

struct Context {
  ThreadPool& pool;
  std::shared_ptr<Allocator> alloc;

  std::shared_ptr<Buffer> alloc_buffer(size_t bytes) { return std::make_shared<Buffer>(alloc, bytes); }
  // Gives `out` a fresh row-major buffer of its size.
  void alloc_output(Array& out) { out.set_data(alloc_buffer(out.nbytes())); }
  // `a` itself if row-contiguous, else a row-major copy of it.
  Array contiguous(const Array& a);
};

// One per loaded addon instance: owns the allocator and pool; evals are serialized on `eval_mu`.
struct Runtime {
  std::shared_ptr<Allocator> alloc = std::make_shared<Allocator>();
  ThreadPool pool;
  std::mutex eval_mu;
  Context context() { return Context{pool, alloc}; }
};

}  // namespace tessera
