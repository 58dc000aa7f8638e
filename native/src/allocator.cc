#include "tessera/allocator.h"

#include <cstdlib>
#include <stdexcept>
#include <string>

namespace tessera {

namespace {
constexpr size_t kAlign = 64;
std::string mib(size_t b) { return std::to_string(b / (1024.0 * 1024.0)).substr(0, 8) + " MiB"; }
}  // namespace

size_t Allocator::round_size(size_t bytes) {
  if (bytes == 0) return kAlign;
  if (bytes <= 4096) {  // small: next power of two
    size_t s = kAlign;
    while (s < bytes) s <<= 1;
    return s;
  }
  return (bytes + 4095) & ~size_t(4095);  // large: whole pages
}

Allocator::~Allocator() { clear_cache(); }

void* Allocator::malloc(size_t bytes) {
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  if (limit_ && stats_.active + size > limit_)
    throw std::runtime_error("allocating " + mib(size) + " would exceed the memory limit of " + mib(limit_) + " (" +
                             mib(stats_.active) + " in use); raise it with memory.setLimit() or free tensors");
  void* ptr = nullptr;
  // Exact-size reuse keeps fragmentation low for the repeated shapes of model loops.
  auto it = cache_.find(size);
  if (it != cache_.end()) {
    ptr = it->second;
    cache_.erase(it);
    stats_.cache -= size;
  } else {
    ptr = std::aligned_alloc(kAlign, size);
    if (!ptr && !cache_.empty()) {
      trim_cache_locked(0);
      ptr = std::aligned_alloc(kAlign, size);
    }
    if (!ptr) throw std::runtime_error("out of memory allocating " + mib(size));
  }
  stats_.active += size;
  if (stats_.active > stats_.peak) stats_.peak = stats_.active;
  return ptr;
}

void Allocator::free(void* ptr, size_t bytes) {
  if (!ptr) return;
  size_t size = round_size(bytes);
  std::lock_guard<std::mutex> lock(mu_);
  stats_.active -= size;
  if (size > cache_limit_) {
    std::free(ptr);
    return;
  }
  cache_.emplace(size, ptr);
  stats_.cache += size;
  if (stats_.cache > cache_limit_) trim_cache_locked(cache_limit_ / 2);
}

void Allocator::trim_cache_locked(size_t target) {
  // Largest blocks first: they are the costliest to keep.
  while (stats_.cache > target && !cache_.empty()) {
    auto it = std::prev(cache_.end());
    std::free(it->second);
    stats_.cache -= it->first;
    cache_.erase(it);
  }
}

MemoryStats Allocator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}
void Allocator::reset_peak() {
  std::lock_guard<std::mutex> lock(mu_);
  stats_.peak = stats_.active;
}
void Allocator::clear_cache() {
  std::lock_guard<std::mutex> lock(mu_);
  trim_cache_locked(0);
}
void Allocator::set_limit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  limit_ = bytes;
}
size_t Allocator::limit() const {
  std::lock_guard<std::mutex> lock(mu_);
  return limit_;
}
void Allocator::set_cache_limit(size_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  cache_limit_ = bytes;
  trim_cache_locked(cache_limit_);
}

Buffer::Buffer(std::shared_ptr<Allocator> alloc, size_t bytes) : alloc_(std::move(alloc)), size_(bytes) {
  ptr_ = alloc_->malloc(bytes);
}
Buffer::Buffer(void* ptr, size_t bytes, std::shared_ptr<void> keep) : keep_(std::move(keep)), ptr_(ptr), size_(bytes) {}
Buffer::~Buffer() {
  if (alloc_) alloc_->free(ptr_, size_);
}

}  // namespace tessera
