// Memory-mapped weights files: the native half of the io module. Headers are parsed in TypeScript;
// here a file is only mapped, and tensors are made as zero-copy views of the mapping.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "tessera/array.h"
#include "tessera/context.h"

namespace tessera {

// A file mapped read-only (privately: a stray write would touch a copy-on-write page, never the
// file). It is unmapped when the last owner is gone: the JS handle and every tensor viewing it.
class MappedFile {
 public:
  // Throws std::runtime_error naming the path and the system error.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  const uint8_t* data() const { return data_; }
  // Throws (naming the file) unless [offset, offset + length) lies inside the file.
  void check_range(uint64_t offset, uint64_t length, const char* what) const;

 private:
  MappedFile(std::string path, uint8_t* data, size_t size) : path_(std::move(path)), data_(data), size_(size) {}
  std::string path_;
  uint8_t* data_;
  size_t size_;
};

// A tensor of `shape` and `dtype` over the bytes at `offset`: a view sharing the mapping when the
// offset suits the dtype's alignment, else a copy into `alloc` (kernels read typed pointers).
Array mapped_array(const std::shared_ptr<MappedFile>& file, uint64_t offset, const Shape& shape, Dtype dtype,
                   const std::shared_ptr<Allocator>& alloc);

}  // namespace tessera
