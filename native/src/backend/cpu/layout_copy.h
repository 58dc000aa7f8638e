// Same-dtype copies between strided layouts, by element size only (layout kernels never convert):
// contiguous runs are memcpy'd, the rest moves as 1/2/4/8-byte words; big copies use the pool.
#pragma once
#include <cstring>

#include "backend/cpu/strided.h"

namespace tessera::cpu {

// Calls f.template operator()<W>() with W an unsigned word of `bytes` size.
template <typename F>
decltype(auto) dispatch_word(size_t bytes, F&& f) {
  switch (bytes) {
    case 1: return f.template operator()<uint8_t>();
    case 2: return f.template operator()<uint16_t>();
    case 4: return f.template operator()<uint32_t>();
    case 8: return f.template operator()<uint64_t>();
  }
  throw std::logic_error("unsupported element size");
}

// Copies the elements of `src` into memory at `dst` laid out with `dst_strides` (in elements,
// src's shape). Source and destination must not overlap.
inline void copy_to_strided(ThreadPool& pool, const Array& src, void* dst, const Strides& dst_strides) {
  if (src.size() == 0) return;
  auto plan = collapse<2>(src.shape(), {dst_strides, src.strides()});
  dispatch_word(src.itemsize(), [&]<typename W>() {
    W* d = static_cast<W*>(dst);
    const W* s = static_cast<const W*>(src.raw_data());
    for_each_row<2>(pool, plan, [&](int64_t n, std::array<int64_t, 2> off, std::array<int64_t, 2> st) {
      W* o = d + off[0];
      const W* x = s + off[1];
      if (st[0] == 1 && st[1] == 1) {
        std::memcpy(o, x, size_t(n) * sizeof(W));
      } else if (st[1] == 0) {
        // A broadcast source (e.g. a scalar update): one value for the whole row.
        if (st[0] == 1) std::fill_n(o, n, *x);
        else for (int64_t i = 0; i < n; ++i) o[i * st[0]] = *x;
      } else {
        for (int64_t i = 0; i < n; ++i) o[i * st[0]] = x[i * st[1]];
      }
    });
  });
}

// The element offset of the strided region that starts at index `start` per axis.
inline int64_t region_offset(const Strides& strides, const std::vector<int64_t>& start) {
  int64_t off = 0;
  for (size_t i = 0; i < strides.size(); ++i) off += start[i] * strides[i];
  return off;
}

}  // namespace tessera::cpu
