// CPU kernel of Reduce. The input is viewed (no copy) as kept dims x reduced dims, each group collapsed.
// Two loop orders: "row" reduces a (possibly strided) innermost reduced run per output, with float32
// SIMD for contiguous runs; "column" is used when the kept innermost dim is the contiguous one, and
// accumulates whole blocks of outputs per reduced position, so the inner loop is contiguous too.
#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>
#include <vector>
#if defined(__AVX2__) && defined(__F16C__)
#include <immintrin.h>
#endif

#include "backend/cpu/reduce_rows.h"
#include "tessera/primitives/reduce.h"

namespace tessera {

namespace {

template <typename T> constexpr bool is_float_v = std::is_floating_point_v<T> || is_half_v<T>;
template <typename T>
using sum_out_t = std::conditional_t<is_float_v<T> || std::is_same_v<T, int64_t> || std::is_same_v<T, uint32_t>, T, int32_t>;
template <typename T> using float_out_t = std::conditional_t<is_float_v<T>, T, float>;

// Each reducer: a state S, init, step(state, x, k) with k the element's row-major index in the reduced
// space, combine (the second state covers later elements), finish; kFast ones have a float32 row kernel.
template <typename T>
struct SumR {
  using O = sum_out_t<T>;
  using S = std::conditional_t<is_float_v<T>, float, uint64_t>;  // ints wrap modulo 2^64, then to O
  static constexpr bool kFast = is_float_v<T>;
  static S init() { return S(0); }
  static void step(S& s, T x, int64_t) {
    if constexpr (is_float_v<T>) s += load(x); else s += S(int64_t(x));
  }
  static void combine(S& s, S o) { s += o; }
  static S fast(const float* x, int64_t n) { return cpu::row_sum_f32(x, n); }
  static O finish(S s, double) { return store<O>(s); }
};

template <typename T>
struct ProdR {
  using O = sum_out_t<T>;
  using S = std::conditional_t<is_float_v<T>, float, uint64_t>;
  static constexpr bool kFast = false;
  static S init() { return S(1); }
  static void step(S& s, T x, int64_t) {
    if constexpr (is_float_v<T>) s *= load(x); else s *= S(int64_t(x));
  }
  static void combine(S& s, S o) { s *= o; }
  static O finish(S s, double) { return store<O>(s); }
};

template <typename T>
struct MeanR {
  using O = float_out_t<T>;
  using S = std::conditional_t<is_float_v<T>, float, double>;
  static constexpr bool kFast = is_float_v<T>;
  static S init() { return S(0); }
  static void step(S& s, T x, int64_t) { s += S(load(x)); }
  static void combine(S& s, S o) { s += o; }
  static S fast(const float* x, int64_t n) { return cpu::row_sum_f32(x, n); }
  static O finish(S s, double n) { return store<O>(float(s / S(n))); }  // 0 / 0: NaN, as NumPy
};

// Welford's running mean and sum of squared deviations; parts combine with Chan's formula.
// `denom` of finish is n - ddof.
struct VarState { double n; float mean, m2; };
template <typename T>
struct VarR {
  using O = float_out_t<T>;
  using S = VarState;
  static constexpr bool kFast = is_float_v<T>;
  static S init() { return {0, 0.f, 0.f}; }
  static void step(S& s, T x, int64_t) {
    float v = float(load(x));
    s.n += 1;
    float d = v - s.mean;
    s.mean += d / float(s.n);
    s.m2 += d * (v - s.mean);
  }
  static void combine(S& a, S b) {
    if (b.n == 0) return;
    if (a.n == 0) { a = b; return; }
    double n = a.n + b.n;
    float d = b.mean - a.mean;
    a.mean += float(d * (b.n / n));
    a.m2 += b.m2 + float(double(d) * d * (a.n * b.n / n));
    a.n = n;
  }
  static S fast(const float* x, int64_t n) {  // two passes over a row that is still in cache
    float mean = cpu::row_sum_f32(x, n) / float(n);
    return {double(n), mean, cpu::row_sqdev_sum_f32(x, mean, n)};
  }
  static O finish(S s, double denom) { return store<O>(float(s.m2 / denom)); }  // x / 0: inf or NaN, as NumPy
};

template <typename T, bool Max>
struct ExtremeR {
  using O = T;
  using S = compute_t<T>;
  static constexpr bool kFast = is_float_v<T>;
  static S init() {
    if constexpr (is_float_v<T>) return Max ? -INFINITY : INFINITY;
    else return Max ? std::numeric_limits<S>::lowest() : std::numeric_limits<S>::max();
  }
  static void step(S& s, T x, int64_t) {
    S v = load(x);
    if constexpr (is_float_v<T>) {
      if ((Max ? v > s : v < s) || v != v) s = v;  // a NaN, once in, stays
    } else if (Max ? v > s : v < s) {
      s = v;
    }
  }
  static void combine(S& s, S o) {
    if constexpr (is_float_v<T>) {
      if ((Max ? o > s : o < s) || o != o) s = o;
    } else if (Max ? o > s : o < s) {
      s = o;
    }
  }
  static S fast(const float* x, int64_t n) { return Max ? cpu::row_max_f32(x, n) : cpu::row_min_f32(x, n); }
  static O finish(S s, double) { return store<O>(s); }
};

template <typename T, bool Max>
struct ArgR {
  using O = int32_t;
  using C = compute_t<T>;
  struct S { C v; int64_t i; };
  static constexpr bool kFast = false;
  static constexpr bool kFastArg = std::is_same_v<T, float>;
  static S init() { return {C(0), -1}; }
  // First occurrence wins; the first NaN beats everything (NumPy).
  static bool better(C x, C v) {
    if constexpr (is_float_v<T>) return (Max ? x > v : x < v) || (x != x && v == v);
    else return Max ? x > v : x < v;
  }
  static void step(S& s, T x, int64_t k) {
    C v = load(x);
    if (s.i < 0 || better(v, s.v)) s = {v, k};
  }
  static void combine(S& s, S o) {
    if (o.i >= 0 && (s.i < 0 || better(o.v, s.v))) s = o;
  }
  // A contiguous float32 run: the vectorized max (or min), then the first element equal to it.
  static S fast_arg(const float* x, int64_t n, int64_t k0) {
    float m = Max ? cpu::row_max_f32(x, n) : cpu::row_min_f32(x, n);
    int64_t i = 0;
    if (m != m) while (x[i] == x[i]) ++i;
    else while (x[i] != m) ++i;
    return {m, k0 + i};
  }
  static O finish(S s, double) { return O(s.i); }
};

// Streaming log-sum-exp: m is the running max, s the sum of exp(x - m).
struct LseState { float m, s; };
template <typename T>
struct LseR {
  using O = float_out_t<T>;
  using S = LseState;
  static constexpr bool kFast = is_float_v<T>;
  static S init() { return {-INFINITY, 0.f}; }
  static void step(S& st, T x, int64_t) {
    float v = float(load(x));
    if (v != v) st.m = v;
    else if (v == -INFINITY) return;
    else if (v > st.m) { st.s = st.s * std::exp(st.m - v) + 1.f; st.m = v; }
    else if (v == st.m) st.s += 1.f;
    else st.s += std::exp(v - st.m);
  }
  static void combine(S& a, S b) {
    if (a.m != a.m || b.m == -INFINITY) return;
    if (b.m != b.m || a.m == -INFINITY) { a = b; return; }
    if (a.m == b.m) a.s += b.s;
    else if (a.m > b.m) a.s += b.s * std::exp(b.m - a.m);
    else { a.s = a.s * std::exp(a.m - b.m) + b.s; a.m = b.m; }
  }
  static S fast(const float* x, int64_t n) {
    float m = cpu::row_max_f32(x, n);
    if (m != m || m == -INFINITY) return {m, 0.f};
    if (m == INFINITY) return {m, 1.f};
    return {m, cpu::row_exp_sum_f32(x, m, nullptr, n)};
  }
  static O finish(S st, double) {
    float r = (st.m != st.m || std::isinf(st.m)) ? st.m : st.m + std::log(st.s);
    return store<O>(r);
  }
};

// Dims of one group (kept or reduced), size-1 dims dropped and mergeable neighbours merged.
struct Dims {
  Shape shape;
  Strides st;
  int64_t size() const { return shape_size(shape); }
};

Dims collapse_group(const Shape& shape, const Strides& st, const std::vector<int>& dims) {
  Dims d;
  for (int i : dims) {
    if (shape[i] == 1) continue;
    if (!d.shape.empty() && d.st.back() == st[i] * shape[i]) {
      d.shape.back() *= shape[i];
      d.st.back() = st[i];
    } else {
      d.shape.push_back(shape[i]);
      d.st.push_back(st[i]);
    }
  }
  if (d.shape.empty()) d = {{1}, {0}};
  return d;
}

// A row-major counter over the first `nd` dims of `d`, tracking the element offset.
struct Walker {
  const Dims& d;
  int nd;
  std::vector<int64_t> idx;
  int64_t off = 0;
  Walker(const Dims& dims, int n, int64_t start = 0) : d(dims), nd(n), idx(std::max(n, 1), 0) {
    for (int i = nd - 1; i >= 0 && start > 0; --i) {  // start > 0: no dim is empty
      idx[i] = start % d.shape[i];
      start /= d.shape[i];
      off += idx[i] * d.st[i];
    }
  }
  void next() {
    for (int i = nd - 1; i >= 0; --i) {
      off += d.st[i];
      if (++idx[i] < d.shape[i]) return;
      off -= d.st[i] * d.shape[i];
      idx[i] = 0;
    }
  }
};

// Half rows are widened block by block so they can use the float32 row kernels.
template <typename T>
void widen(const T* x, float* buf, int64_t n) {
  int64_t i = 0;
#if defined(__AVX2__) && defined(__F16C__)
  for (; i + 8 <= n; i += 8) {
    __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(x + i));
    __m256 f = std::is_same_v<T, float16_t> ? _mm256_cvtph_ps(h)
                                             : _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    _mm256_storeu_ps(buf + i, f);
  }
#endif
  for (; i < n; ++i) buf[i] = to_f32(x[i]);
}

template <typename R, typename T>
typename R::S reduce_run(const T* x, int64_t n, int64_t stride, int64_t k0) {
  typename R::S s = R::init();
  if constexpr (requires { R::kFastArg; }) {
    if constexpr (R::kFastArg) if (stride == 1 && n > 0) return R::fast_arg(x, n, k0);
  }
  if constexpr (R::kFast) {
    if (stride == 1) {
      if constexpr (std::is_same_v<T, float>) {
        return n ? R::fast(x, n) : s;
      } else {
        constexpr int64_t kBlock = 1024;
        float buf[kBlock];
        for (int64_t b = 0; b < n; b += kBlock) {
          int64_t len = std::min(kBlock, n - b);
          widen(x + b, buf, len);
          R::combine(s, R::fast(buf, len));
        }
        return s;
      }
    }
  }
  for (int64_t i = 0; i < n; ++i) R::step(s, x[i * stride], k0 + i);
  return s;
}

template <typename R, typename T>
void reduce_rows(const T* x, typename R::O* out, const Dims& kept, const Dims& red, double denom, ThreadPool& pool) {
  int nr = int(red.shape.size());
  int64_t len = red.shape[nr - 1], stride = red.st[nr - 1], outer = red.size() / std::max<int64_t>(len, 1);
  int64_t n_out = kept.size(), n_red = red.size();
  if (n_out < pool.size() && outer == 1 && len >= (1 << 16)) {
    // Few long rows: split each row across the pool and combine the parts in order.
    int64_t parts = pool.size() * 4, per = (len + parts - 1) / parts;
    for (int64_t o = 0; o < n_out; ++o) {
      const T* row = x + Walker(kept, int(kept.shape.size()), o).off;
      std::unique_ptr<typename R::S[]> part(new typename R::S[parts]);  // not vector: S may be bool
      std::fill(part.get(), part.get() + parts, R::init());
      pool.parallel_tasks(parts, [&](int64_t p) {
        int64_t b = p * per, e = std::min(len, b + per);
        if (b < e) part[p] = reduce_run<R>(row + b * stride, e - b, stride, b);
      });
      for (int64_t p = 1; p < parts; ++p) R::combine(part[0], part[p]);
      out[o] = R::finish(part[0], denom);
    }
    return;
  }
  // Several chunks per thread, handed out dynamically, so one slowed-down thread does not hold up the rest.
  int64_t chunk = std::max<int64_t>({1, (1 << 14) / std::max<int64_t>(n_red, 1), n_out / (8 * pool.size())});
  pool.parallel_tasks((n_out + chunk - 1) / chunk, [&](int64_t t) {
    int64_t b = t * chunk, e = std::min(n_out, b + chunk);
    Walker ko(kept, int(kept.shape.size()), b);
    Walker ro(red, nr - 1);  // wraps back to its start after `outer` steps, so it serves every output
    for (int64_t o = b; o < e; ++o, ko.next()) {
      typename R::S s = R::init();
      for (int64_t r = 0; r < outer; ++r, ro.next())
        R::combine(s, reduce_run<R>(x + ko.off + ro.off, len, stride, r * len));
      out[o] = R::finish(s, denom);
    }
  });
}

template <typename R, typename T>
void reduce_columns(const T* x, typename R::O* out, const Dims& kept, const Dims& red, double denom, ThreadPool& pool) {
  using S = typename R::S;
  // Whole kept rows up to 4096 columns per task, so consecutive reduced positions read on sequentially.
  constexpr int64_t kMaxBlock = 4096;
  int nk = int(kept.shape.size()), nr = int(red.shape.size());
  int64_t cols = kept.shape[nk - 1], outer = kept.size() / std::max<int64_t>(cols, 1), n_red = red.size();
  int64_t block = std::min(cols, kMaxBlock), blocks = (cols + block - 1) / block;
  // Too few tasks for the pool (e.g. [N, D] over axis 0): split the reduced range too, combine after.
  int64_t splits = 1;
  if (outer * blocks < 4 * pool.size())
    splits = std::clamp<int64_t>(4 * pool.size() / (outer * blocks), 1, std::max<int64_t>(1, n_red / 16));
  int64_t per = (n_red + splits - 1) / splits, tasks = outer * blocks * splits;
  std::unique_ptr<S[]> partial(splits > 1 ? new S[tasks * block] : nullptr);
  int64_t grain = std::max<int64_t>(1, (1 << 14) / std::max<int64_t>(per * block, 1));
  pool.parallel_for(tasks, grain, [&](int64_t b, int64_t e) {
    std::unique_ptr<S[]> acc(new S[block]);
    for (int64_t t = b; t < e; ++t) {
      int64_t ko = t / (blocks * splits), jb = t / splits % blocks, sp = t % splits;
      int64_t j0 = jb * block, n = std::min(block, cols - j0), r0 = std::min(n_red, sp * per), r1 = std::min(n_red, r0 + per);
      const T* base = x + Walker(kept, nk - 1, ko).off + j0;
      std::fill(acc.get(), acc.get() + n, R::init());
      Walker ro(red, nr, r0);
      for (int64_t r = r0; r < r1; ++r, ro.next()) {
        const T* p = base + ro.off;
        for (int64_t j = 0; j < n; ++j) R::step(acc[j], p[j], r);
      }
      if (splits > 1) std::copy(acc.get(), acc.get() + n, partial.get() + t * block);
      else for (int64_t j = 0; j < n; ++j) out[ko * cols + j0 + j] = R::finish(acc[j], denom);
    }
  });
  if (splits == 1) return;
  for (int64_t g = 0; g < outer * blocks; ++g) {  // the parts of one block, in reduced order
    int64_t ko = g / blocks, j0 = g % blocks * block, n = std::min(block, cols - j0);
    S* first = partial.get() + g * splits * block;
    for (int64_t sp = 1; sp < splits; ++sp)
      for (int64_t j = 0; j < n; ++j) R::combine(first[j], first[sp * block + j]);
    for (int64_t j = 0; j < n; ++j) out[ko * cols + j0 + j] = R::finish(first[j], denom);
  }
}

template <typename R, typename T>
void run_reduce(const Array& a, Array& out, const std::vector<int>& axes, int64_t ddof, ThreadPool& pool) {
  std::vector<int> kept_dims;
  for (int i = 0; i < a.ndim(); ++i)
    if (std::find(axes.begin(), axes.end(), i) == axes.end()) kept_dims.push_back(i);
  Dims kept = collapse_group(a.shape(), a.strides(), kept_dims);
  Dims red = collapse_group(a.shape(), a.strides(), axes);
  auto* o = out.data<typename R::O>();
  if (out.size() == 0) return;
  const T* x = a.size() ? a.data<T>() : nullptr;
  bool column = kept.st.back() == 1 && kept.shape.back() > 1 && !(red.st.back() == 1 && red.shape.back() > 1);
  double denom = std::max<double>(double(red.size() - ddof), 0.0);  // ddof is 0 except for var
  if (column) reduce_columns<R>(x, o, kept, red, denom, pool);
  else reduce_rows<R>(x, o, kept, red, denom, pool);
}

}  // namespace

void Reduce::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  const Array& a = in[0];
  dispatch_all(a.dtype(), [&]<typename T>() {
    switch (op_) {
      case ReduceOp::Sum: return run_reduce<SumR<T>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::Prod: return run_reduce<ProdR<T>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::Mean: return run_reduce<MeanR<T>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::Var: return run_reduce<VarR<T>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::Max: return run_reduce<ExtremeR<T, true>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::Min: return run_reduce<ExtremeR<T, false>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::ArgMax: return run_reduce<ArgR<T, true>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::ArgMin: return run_reduce<ArgR<T, false>, T>(a, out, axes_, ddof_, ctx.pool);
      case ReduceOp::LogSumExp: return run_reduce<LseR<T>, T>(a, out, axes_, ddof_, ctx.pool);
    }
  });
}

}  // namespace tessera
