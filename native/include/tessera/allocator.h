// A caching allocator: freed blocks are kept by size and reused, with stats and an optional limit.
#pragma once
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace tessera {

struct MemoryStats {
  size_t active = 0;  // bytes in live buffers
  size_t peak = 0;    // highest `active` since the last reset
  size_t cache = 0;   // bytes held in the cache for reuse
};

class Allocator : public std::enable_shared_from_this<Allocator> {
 public:
  ~Allocator();
  void* malloc(size_t bytes);  // throws std::runtime_error past the limit or when the system refuses
  void free(void* ptr, size_t bytes);
  MemoryStats stats() const;
  void reset_peak();
  void clear_cache();
  void set_limit(size_t bytes);  // 0 = no limit
  size_t limit() const;
  void set_cache_limit(size_t bytes);
  static size_t round_size(size_t bytes);

 private:
  void trim_cache_locked(size_t target);
  mutable std::mutex mu_;
  std::multimap<size_t, void*> cache_;
  MemoryStats stats_;
  size_t limit_ = 0;
  size_t cache_limit_ = size_t(4) << 30;
};

// Memory that belongs to the allocator; freed back into it when the last array using it goes away.
class Buffer {
 public:
  Buffer(std::shared_ptr<Allocator> alloc, size_t bytes);
  // Wraps memory owned elsewhere (e.g. a memory-mapped file); `keep` holds it alive.
  Buffer(void* ptr, size_t bytes, std::shared_ptr<void> keep);
  ~Buffer();
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  void* ptr() const { return ptr_; }
  size_t size() const { return size_; }
  // False for wrapped memory (e.g. a read-only mapped file), which must never be written.
  bool owns_memory() const { return alloc_ != nullptr; }

 private:
  std::shared_ptr<Allocator> alloc_;
  std::shared_ptr<void> keep_;
  void* ptr_;
  size_t size_;
};

}  // namespace tessera
