// What a kernel gets to run with: the thread pool, the allocator and the ISA level of its runtime.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>

#include "tessera/allocator.h"
#include "tessera/array.h"
#include "tessera/isa.h"
#include "tessera/thread_pool.h"

namespace tessera {

struct Context {
  ThreadPool& pool;
  std::shared_ptr<Allocator> alloc;
  IsaLevel isa;  // the kernel variants to run (backend/cpu/kernels.h)

  std::shared_ptr<Buffer> alloc_buffer(size_t bytes) { return std::make_shared<Buffer>(alloc, bytes); }
  // Gives `out` a fresh row-major buffer of its size.
  void alloc_output(Array& out) { out.set_data(alloc_buffer(out.nbytes())); }
  // `a` itself if row-contiguous, else a row-major copy of it.
  Array contiguous(const Array& a);
};

// One per loaded addon instance: owns the allocator and pool; evals are serialized on `eval_mu`.
// The ISA level starts at the best one the CPU has; set_isa() forces another (an eval reads it
// once, when it starts).
struct Runtime {
  Runtime() { require_isa(IsaLevel::Avx2); }
  std::shared_ptr<Allocator> alloc = std::make_shared<Allocator>();
  ThreadPool pool;
  std::mutex eval_mu;
  Context context() { return Context{pool, alloc, isa_.load()}; }
  IsaLevel isa() const { return isa_.load(); }
  // Throws std::invalid_argument when the CPU lacks `level`.
  void set_isa(IsaLevel level) {
    require_isa(level);
    isa_.store(level);
  }

 private:
  std::atomic<IsaLevel> isa_{best_isa_level()};
};

}  // namespace tessera
