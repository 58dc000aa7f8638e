// CPU kernels of Sort/ArgSort, TopK and ArgPartition. The input is made row-major and seen as
// [outer, n, inner]; each line along the axis is gathered into a buffer (values compared in the
// compute type: halves as float), sorted there and scattered to the output. NaN sorts last.
#include <algorithm>
#include <vector>

#include "tessera/primitives/reduce.h"

namespace tessera {

namespace {

template <typename C>
inline bool less_nan_last(C a, C b) {
  if constexpr (std::is_floating_point_v<C>) return a < b || (b != b && a == a);
  else return a < b;
}

struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
  Lines(const Shape& s, int axis) : n(s[axis]) {
    for (int i = 0; i < axis; ++i) outer *= s[i];
    for (int i = axis + 1; i < int(s.size()); ++i) inner *= s[i];
  }
  int64_t count() const { return outer * inner; }
  // Offset of item 0 of line l in a layout whose axis has length m; items are `inner` apart.
  int64_t base(int64_t l, int64_t m) const { return (l / inner) * m * inner + l % inner; }
};

// Runs fn(line, buffer of (value, index) pairs) for every line, lines split across the pool.
template <typename T, typename F>
void for_each_line(const Array& x, const Lines& ln, ThreadPool& pool, F&& fn) {
  using C = compute_t<T>;
  const T* src = x.data<T>();
  int64_t grain = std::max<int64_t>(1, (1 << 12) / std::max<int64_t>(ln.n, 1));
  pool.parallel_for(ln.count(), grain, [&](int64_t b, int64_t e) {
    std::vector<std::pair<C, int32_t>> buf(size_t(ln.n));
    for (int64_t l = b; l < e; ++l) {
      const T* line = src + ln.base(l, ln.n);
      for (int64_t i = 0; i < ln.n; ++i) buf[i] = {load(line[i * ln.inner]), int32_t(i)};
      fn(l, buf);
    }
  });
}

// Orders by value (NaN last), ties by index: std::sort with it is a stable sort.
template <typename C>
inline bool pair_less(const std::pair<C, int32_t>& a, const std::pair<C, int32_t>& b) {
  if (less_nan_last(a.first, b.first)) return true;
  if (less_nan_last(b.first, a.first)) return false;
  return a.second < b.second;
}

}  // namespace

void Sort::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Lines ln(out.shape(), axis_);
  dispatch_all(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    for_each_line<T>(x, ln, ctx.pool, [&](int64_t l, std::vector<std::pair<C, int32_t>>& buf) {
      // NaNs go to the end first (keeping their order), so the sort itself compares with plain `<`.
      auto end = buf.end();
      if constexpr (std::is_floating_point_v<C>)
        end = std::stable_partition(buf.begin(), buf.end(), [](const auto& p) { return p.first == p.first; });
      std::sort(buf.begin(), end, [](const auto& a, const auto& b) {
        return a.first < b.first || (a.first == b.first && a.second < b.second);
      });
      if (arg_) {
        int32_t* dst = out.data<int32_t>() + ln.base(l, ln.n);
        for (int64_t i = 0; i < ln.n; ++i) dst[i * ln.inner] = buf[i].second;
      } else {
        T* dst = out.data<T>() + ln.base(l, ln.n);
        for (int64_t i = 0; i < ln.n; ++i) dst[i * ln.inner] = store<T>(buf[i].first);
      }
    });
  });
}

void TopK::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Lines ln(x.shape(), axis_);
  int64_t k = k_;
  dispatch_all(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    T* dst = out.data<T>();
    for_each_line<T>(x, ln, ctx.pool, [&](int64_t l, std::vector<std::pair<C, int32_t>>& buf) {
      auto greater = [](const auto& a, const auto& b) { return less_nan_last(b.first, a.first); };
      std::partial_sort(buf.begin(), buf.begin() + k, buf.end(), greater);
      for (int64_t i = 0; i < k; ++i) dst[ln.base(l, k) + i * ln.inner] = store<T>(buf[i].first);
    });
  });
}

void ArgPartition::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array x = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Lines ln(x.shape(), axis_);
  int64_t kth = kth_;
  int32_t* dst = out.data<int32_t>();
  dispatch_all(x.dtype(), [&]<typename T>() {
    using C = compute_t<T>;
    for_each_line<T>(x, ln, ctx.pool, [&](int64_t l, std::vector<std::pair<C, int32_t>>& buf) {
      std::nth_element(buf.begin(), buf.begin() + kth, buf.end(), pair_less<C>);
      for (int64_t i = 0; i < ln.n; ++i) dst[ln.base(l, ln.n) + i * ln.inner] = buf[i].second;
    });
  });
}

}  // namespace tessera
