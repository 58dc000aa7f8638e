// mmap'ed files and zero-copy tensors over them.
#include "tessera/io.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tessera {

namespace {

[[noreturn]] void sys_fail(const std::string& path, const char* what, int err) {
  throw std::runtime_error("cannot " + std::string(what) + " '" + path + "': " + std::strerror(err));
}

}  // namespace

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) sys_fail(path, "open", errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    sys_fail(path, "stat", err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    throw std::runtime_error("cannot map '" + path + "': not a regular file");
  }
  size_t size = size_t(st.st_size);
  uint8_t* data = nullptr;
  if (size > 0) {  // mmap refuses length 0; an empty file simply has no bytes
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      sys_fail(path, "map", err);
    }
    data = static_cast<uint8_t*>(p);
  }
  ::close(fd);  // the mapping stays valid without the descriptor
  return std::shared_ptr<MappedFile>(new MappedFile(path, data, size));
}

MappedFile::~MappedFile() {
  if (data_) munmap(data_, size_);
}

void MappedFile::check_range(uint64_t offset, uint64_t length, const char* what) const {
  if (offset > size_ || length > size_ - offset)
    throw std::out_of_range("'" + path_ + "': " + what + " at bytes [" + std::to_string(offset) + ", " +
                            std::to_string(offset) + " + " + std::to_string(length) + ") lies outside the file (" +
                            std::to_string(size_) + " bytes)");
}

Array mapped_array(const std::shared_ptr<MappedFile>& file, uint64_t offset, const Shape& shape, Dtype dtype,
                   const std::shared_ptr<Allocator>& alloc) {
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument("'" + file->path() + "': negative dimension in shape " + shape_str(shape));
    // Guard the byte count against overflow before trusting it in a range check.
    if (d != 0 && n > (int64_t(1) << 50) / d)
      throw std::invalid_argument("'" + file->path() + "': shape " + shape_str(shape) + " is too large");
    n *= d;
  }
  uint64_t bytes = uint64_t(n) * itemsize(dtype);
  file->check_range(offset, bytes, "tensor data");
  const uint8_t* src = file->data() ? file->data() + offset : nullptr;
  std::shared_ptr<Buffer> buf;
  if (bytes == 0) {
    // Nothing to read: any valid address will do, and nothing is allocated.
    static uint8_t none;
    buf = std::make_shared<Buffer>(src ? const_cast<uint8_t*>(src) : &none, 0, std::shared_ptr<void>(file));
  } else if (reinterpret_cast<uintptr_t>(src) % itemsize(dtype) == 0) {
    // The buffer keeps the mapping alive; the pointer is const only by convention of the format.
    buf = std::make_shared<Buffer>(const_cast<uint8_t*>(src), bytes, std::shared_ptr<void>(file));
  } else {
    buf = std::make_shared<Buffer>(alloc, bytes);
    std::memcpy(buf->ptr(), src, bytes);
  }
  return Array(shape, dtype, std::move(buf));
}

}  // namespace tessera
