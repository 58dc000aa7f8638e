// Iteration over strided operands: dims are collapsed where every operand is contiguous across
// them, then the innermost dim runs as a plain loop and the outer ones are walked by a counter.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "tessera/array.h"
#include "tessera/thread_pool.h"

namespace tessera::cpu {

template <int K>
struct StridedPlan {
  Shape shape;                     // collapsed
  std::array<Strides, K> strides;  // collapsed, per operand
};

template <int K>
StridedPlan<K> collapse(const Shape& shape, const std::array<Strides, K>& strides) {
  StridedPlan<K> p;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == 1) continue;
    bool merge = !p.shape.empty();
    for (int k = 0; k < K && merge; ++k) merge = p.strides[k].back() == strides[k][i] * shape[i];
    if (merge) {
      p.shape.back() *= shape[i];
      for (int k = 0; k < K; ++k) p.strides[k].back() = strides[k][i];
    } else {
      p.shape.push_back(shape[i]);
      for (int k = 0; k < K; ++k) p.strides[k].push_back(strides[k][i]);
    }
  }
  if (p.shape.empty()) {
    p.shape.push_back(1);
    for (int k = 0; k < K; ++k) p.strides[k].push_back(1);
  }
  return p;
}

// Calls inner(n, offsets, inner_strides) for each innermost row, rows split across the pool.
// Offsets are element offsets of each operand at the row's start.
template <int K, typename Inner>
void for_each_row(ThreadPool& pool, const StridedPlan<K>& p, Inner&& inner, int64_t min_parallel = 1 << 15) {
  int nd = int(p.shape.size());
  int64_t inner_n = p.shape[nd - 1];
  int64_t rows = 1;
  for (int i = 0; i < nd - 1; ++i) rows *= p.shape[i];
  if (rows == 0 || inner_n == 0) return;  // no elements (and a zero extent must not be divided by)
  std::array<int64_t, K> inner_strides;
  for (int k = 0; k < K; ++k) inner_strides[k] = p.strides[k][nd - 1];
  auto run = [&](int64_t r0, int64_t r1) {
    std::vector<int64_t> idx(std::max(nd - 1, 1), 0);
    std::array<int64_t, K> off{};
    int64_t r = r0;
    for (int i = nd - 2; i >= 0; --i) {  // decompose r0
      idx[i] = r % p.shape[i];
      r /= p.shape[i];
      for (int k = 0; k < K; ++k) off[k] += idx[i] * p.strides[k][i];
    }
    for (int64_t row = r0; row < r1; ++row) {
      inner(inner_n, off, inner_strides);
      for (int i = nd - 2; i >= 0; --i) {  // increment the counter
        for (int k = 0; k < K; ++k) off[k] += p.strides[k][i];
        if (++idx[i] < p.shape[i]) break;
        for (int k = 0; k < K; ++k) off[k] -= p.strides[k][i] * p.shape[i];
        idx[i] = 0;
      }
    }
  };
  int64_t total = rows * inner_n;
  if (total < min_parallel || rows == 1) {
    if (rows == 1 && total >= min_parallel && K >= 1) {
      // One long row: split it instead.
      pool.parallel_for(inner_n, min_parallel / 2, [&](int64_t b, int64_t e) {
        std::array<int64_t, K> off{};
        for (int k = 0; k < K; ++k) off[k] = b * inner_strides[k];
        inner(e - b, off, inner_strides);
      });
      return;
    }
    run(0, rows);
  } else {
    pool.parallel_for(rows, std::max<int64_t>(1, min_parallel / std::max<int64_t>(inner_n, 1)), run);
  }
}

}  // namespace tessera::cpu
