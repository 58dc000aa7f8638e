// CPU kernels of ScaledDotProductAttention, AttentionWeights and AttentionApply.
// Work is split into tasks of (batch, key/value head, block of query rows); the rows of a task are
// the (position, query head) pairs that share one key/value head, so K and V are packed once per
// task and reused by every query head of the group. Keys are visited in blocks with an online
// softmax, so the [L, S] score matrix is never materialized (unless the weights are asked for).
#include <algorithm>
#include <cstdlib>
#include <memory>
#include <vector>

#include "backend/cpu/fast_simd.h"
#include "backend/cpu/gemm_kernel.h"
#include "tessera/primitives/fast.h"

namespace tessera {

namespace {

constexpr int64_t kKeyBlock = 128;
using cpu::kMR;
using cpu::kNR;

inline int64_t round8(int64_t n) { return (n + 7) / 8 * 8; }

// Row access of a 4-D array whose last axis is contiguous.
template <typename T>
struct Rows4 {
  const T* base;
  int64_t s0, s1, s2;
  explicit Rows4(const Array& a) : base(a.data<T>()), s0(a.stride(0)), s1(a.stride(1)), s2(a.stride(2)) {}
  const T* row(int64_t b, int64_t h, int64_t i) const { return base + b * s0 + h * s1 + i * s2; }
};

// Kernels read rows in place when only the three outer axes are strided (e.g. q transposed from
// [B, L, H, D], or k sliced out of a cache); otherwise they read a contiguous copy.
Array last_contiguous(const Array& a, Context& ctx) { return a.shape(3) <= 1 || a.stride(3) == 1 ? a : ctx.contiguous(a); }

struct Geometry {
  int64_t B, Hq, Hkv, G, L, S, D;
  int64_t rows_per_head() const { return G * L; }  // row r is query head hk * G + r % G at position r / G
};

// Masks the scores s[0, n) of query (b, h, l) against keys [s0, s0 + n).
struct Masker {
  AttentionMask kind;
  const Array* mask;
  int64_t shift;  // S - L: bottom-right alignment of the causal mask

  void apply(int64_t b, int64_t h, int64_t l, int64_t s0, int64_t n, float* s) const {
    if (kind == AttentionMask::Causal) {
      for (int64_t j = std::max<int64_t>(0, l + shift + 1 - s0); j < n; ++j) s[j] = cpu::kNegInf;
    } else if (kind == AttentionMask::Array) {
      const auto& st = mask->strides();
      int64_t base = b * st[0] + h * st[1] + l * st[2] + s0 * st[3];
      if (mask->dtype() == Dtype::Bool) {
        const bool* m = mask->data<bool>() + base;
        for (int64_t j = 0; j < n; ++j)
          if (!m[j * st[3]]) s[j] = cpu::kNegInf;
      } else {
        dispatch_float(mask->dtype(), "attention mask", [&]<typename M>() {
          const M* m = mask->data<M>() + base;
          for (int64_t j = 0; j < n; ++j) s[j] += float(load(m[j * st[3]]));
        });
      }
    }
  }
  // Keys at or past this index are masked for query position l.
  int64_t key_end(int64_t l, int64_t S) const {
    return kind == AttentionMask::Causal ? std::clamp<int64_t>(l + shift + 1, 0, S) : S;
  }
};

// Query rows per task: up to 36 (reuse of each key block; whole 6-row tiles), fewer when that leaves
// threads idle.
int64_t row_block(Context& ctx, const Geometry& g) {
  int64_t rows = g.rows_per_head(), rb = 36;
  while (rb > 6 && g.B * g.Hkv * ((rows + rb - 1) / rb) < 2 * ctx.pool.size()) rb = rb == 36 ? 18 : rb == 18 ? 12 : 6;
  return rb;
}

// Runs fn(b, hk, r0, r1) over blocks of query rows.
template <typename F>
void for_row_blocks(Context& ctx, const Geometry& g, F&& fn) {
  int64_t rows = g.rows_per_head(), rb = row_block(ctx, g);
  int64_t blocks = (rows + rb - 1) / rb;
  ctx.pool.parallel_tasks(g.B * g.Hkv * blocks, [&](int64_t t) {
    int64_t blk = t % blocks, bh = t / blocks;
    fn(bh / g.Hkv, bh % g.Hkv, blk * rb, std::min(rows, (blk + 1) * rb));
  });
}

// Packs keys [s0, s0 + n) transposed into kt [D][cols], zero-filling columns n..cols.
template <typename T>
void pack_keys_t(const Rows4<T>& k, int64_t b, int64_t hk, int64_t s0, int64_t n, int64_t cols, int64_t D, float* kt,
                 float* tmp) {
  for (int64_t j = 0; j < n; ++j) {
    const float* src = tmp;
    if constexpr (std::is_same_v<T, float>) src = k.row(b, hk, s0 + j);
    else cpu::load_row(k.row(b, hk, s0 + j), 1, tmp, D);
    for (int64_t d = 0; d < D; ++d) kt[d * cols + j] = src[d];
  }
  for (int64_t d = 0; d < D; ++d)
    for (int64_t j = n; j < cols; ++j) kt[d * cols + j] = 0;
}

// Scores s[i * ls + j] of the packed query rows against keys [s0, s0 + n). A few rows (decoding)
// take dot products straight from the key rows; more rows amortize a transposed key block that
// the register-blocked tile reuses.
template <typename T>
void block_scores(const Rows4<T>& k, int64_t b, int64_t hk, int64_t s0, int64_t n, const float* qf, int64_t nr,
                  int64_t D, float* kt, float* tmp, float* s, int64_t ls) {
  if (nr <= 4) {
    for (int64_t j = 0; j < n; ++j) {
      const float* kr = tmp;
      if constexpr (std::is_same_v<T, float>) kr = k.row(b, hk, s0 + j);
      else cpu::load_row(k.row(b, hk, s0 + j), 1, tmp, D);
      for (int64_t i = 0; i < nr; ++i) s[i * ls + j] = cpu::dot(qf + i * D, kr, D);
    }
    return;
  }
  pack_keys_t(k, b, hk, s0, n, round8(n), D, kt, tmp);
  cpu::scores_tile(qf, nr, D, kt, round8(n), round8(n), s, ls);
}

// Rows [s0, s0 + n) of v as floats: in place for float32, else converted into buf. Sets the row stride.
template <typename T>
const float* value_rows(const Rows4<T>& v, int64_t b, int64_t hk, int64_t s0, int64_t n, int64_t dv, float* buf,
                        int64_t& stride) {
  if constexpr (std::is_same_v<T, float>) {
    stride = v.s2;
    return v.row(b, hk, s0);
  } else {
    for (int64_t j = 0; j < n; ++j) cpu::load_row(v.row(b, hk, s0 + j), 1, buf + j * dv, dv);
    stride = dv;
    return buf;
  }
}

// The scaled query rows [r0, r1) of (b, hk), packed as floats.
template <typename T>
void pack_queries(const Rows4<T>& q, const Geometry& g, int64_t b, int64_t hk, int64_t r0, int64_t r1, float scale,
                  float* qf) {
  for (int64_t r = r0; r < r1; ++r) {
    float* dst = qf + (r - r0) * g.D;
    cpu::load_row(q.row(b, hk * g.G + r % g.G, r / g.G), 1, dst, g.D);
    for (int64_t d = 0; d < g.D; ++d) dst[d] *= scale;
  }
}

// The online-softmax state of a block of query rows: running max, sum of exps, unnormalized output.
struct RowState {
  std::vector<float> acc, mx, sum;
  RowState(int64_t nr, int64_t dv) : acc(nr * dv, 0.0f), mx(nr, cpu::kNegInf), sum(nr, 0.0f) {}
};

// Prefill (more than 4 query rows per head): the keys and values of every (batch, kv head) are
// packed once, before the row blocks run, as the GEMM microkernel's B panels (kNR columns, k-major,
// 32-byte aligned), so scores = Q panels x K panels and output += P panels x V panels run on the
// 6 x 16 register tile that the matmul uses. (Packing a key block inside each task repeated it for
// every row block; the earlier 2-row tiles reached half the FMA rate.)
struct Panels {
  std::unique_ptr<float, decltype(&std::free)> data{nullptr, &std::free};
  int64_t S = 0, D = 0, Hkv = 0, kp = 0, vp = 0;  // kp / vp: panels of keys / of value columns
  int64_t per_head() const { return kp * D * kNR + vp * S * kNR; }
  const float* keys(int64_t b, int64_t hk) const { return data.get() + (b * Hkv + hk) * per_head(); }
  const float* values(int64_t b, int64_t hk) const { return keys(b, hk) + kp * D * kNR; }
};

template <typename T>
Panels pack_panels(const Rows4<T>& k, const Rows4<T>& v, const Geometry& g, int64_t dv, Context& ctx) {
  Panels p;
  p.S = g.S, p.D = g.D, p.Hkv = g.Hkv, p.kp = (g.S + kNR - 1) / kNR, p.vp = (dv + kNR - 1) / kNR;
  const int64_t total = g.B * g.Hkv * p.per_head();
  // Only for prefill-sized work; the packed copy is one more K and V in float32, bounded at 256 MB.
  if (g.rows_per_head() <= 4 || total > (int64_t(1) << 26)) return p;
  p.data.reset(static_cast<float*>(std::aligned_alloc(64, size_t((total * 4 + 63) / 64 * 64))));
  if (!p.data) return p;
  ctx.pool.parallel_tasks(g.B * g.Hkv, [&](int64_t t) {
    const int64_t b = t / g.Hkv, hk = t % g.Hkv;
    float* kd = p.data.get() + t * p.per_head();
    float* vd = kd + p.kp * g.D * kNR;
    std::fill(kd, kd + p.per_head(), 0.0f);
    std::vector<float> row(size_t(std::max(g.D, dv)));
    for (int64_t j = 0; j < g.S; ++j) {
      const float* kr = row.data();
      if constexpr (std::is_same_v<T, float>) kr = k.row(b, hk, j);
      else cpu::load_row(k.row(b, hk, j), 1, row.data(), g.D);
      float* kc = kd + (j / kNR) * g.D * kNR + j % kNR;
      for (int64_t d = 0; d < g.D; ++d) kc[d * kNR] = kr[d];
      const float* vr = row.data();
      if constexpr (std::is_same_v<T, float>) vr = v.row(b, hk, j);
      else cpu::load_row(v.row(b, hk, j), 1, row.data(), dv);
      for (int64_t c = 0; c < dv; ++c) vd[((c / kNR) * g.S + j) * kNR + c % kNR] = vr[c];
    }
  });
  return p;
}

// The online-softmax update of one block's scores s [nr][ls] (n keys from s0): masks, rescales the
// running state and turns the scores into exp(s - max).
void softmax_block(const Masker& mk, const Geometry& g, int64_t dv, int64_t b, int64_t hk, int64_t r0, int64_t s0,
                   int64_t n, int64_t nr, float* sc, int64_t ls, RowState& st) {
  for (int64_t i = 0; i < nr; ++i) {
    int64_t r = r0 + i;
    float* s = sc + i * ls;
    mk.apply(b, hk * g.G + r % g.G, r / g.G, s0, n, s);
    float m_new = std::max(st.mx[i], cpu::max_of(s, n));
    if (m_new == cpu::kNegInf) {  // nothing visible yet: contributes nothing
      std::fill(s, s + n, 0.0f);
      continue;
    }
    float corr = st.mx[i] == cpu::kNegInf ? 0.0f : std::exp(st.mx[i] - m_new);
    st.sum[i] = st.sum[i] * corr + cpu::exp_shift_sum(s, n, m_new);
    if (corr != 1.0f)
      for (int64_t c = 0; c < dv; ++c) st.acc[i * dv + c] *= corr;
    st.mx[i] = m_new;
  }
}

// attend() through the packed panels; the query rows and the block's probabilities are read in place
// as the tile's A rows.
void attend_panels(const Panels& pn, const Geometry& g, int64_t dv, const Masker& mk, int64_t b, int64_t hk,
                   int64_t r0, const float* qf, int64_t nr, int64_t s_begin, int64_t s_end, RowState& st) {
  const int64_t cols = kKeyBlock;
  std::vector<float> sc(size_t(nr * cols));
  const float* kpan = pn.keys(b, hk);
  const float* vpan = pn.values(b, hk);
  for (int64_t s0 = s_begin; s0 < s_end; s0 += kKeyBlock) {
    const int64_t n = std::min(kKeyBlock, s_end - s0);
    for (int64_t j = 0; j < n; j += kNR)
      for (int64_t i = 0; i < nr; i += kMR)
        cpu::microkernel_rows(g.D, qf + i * g.D, g.D, kpan + ((s0 + j) / kNR) * g.D * kNR, sc.data() + i * cols + j, cols,
                              int(std::min<int64_t>(kMR, nr - i)), int(std::min<int64_t>(kNR, n - j)), 1.0f, false);
    softmax_block(mk, g, dv, b, hk, r0, s0, n, nr, sc.data(), cols, st);
    for (int64_t c = 0; c < dv; c += kNR)
      for (int64_t i = 0; i < nr; i += kMR)
        cpu::microkernel_rows(n, sc.data() + i * cols, cols, vpan + ((c / kNR) * pn.S + s0) * kNR, st.acc.data() + i * dv + c,
                              dv, int(std::min<int64_t>(kMR, nr - i)), int(std::min<int64_t>(kNR, dv - c)), 1.0f, true);
  }
}

// Attends the packed query rows [r0, r0 + nr) of (b, hk) to keys [s_begin, s_end), updating st.
template <typename T>
void attend(const Rows4<T>& k, const Rows4<T>& v, const Geometry& g, int64_t dv, const Masker& mk, int64_t b,
            int64_t hk, int64_t r0, const float* qf, int64_t nr, int64_t s_begin, int64_t s_end, RowState& st) {
  int64_t cols = kKeyBlock;
  std::vector<float> kt(g.D * cols), tmp(std::max(g.D, dv)), vb(cols * dv), sc(nr * cols);
  for (int64_t s0 = s_begin; s0 < s_end; s0 += kKeyBlock) {
    int64_t n = std::min(kKeyBlock, s_end - s0);
    block_scores(k, b, hk, s0, n, qf, nr, g.D, kt.data(), tmp.data(), sc.data(), cols);
    softmax_block(mk, g, dv, b, hk, r0, s0, n, nr, sc.data(), cols, st);
    int64_t lv;
    const float* vr = value_rows(v, b, hk, s0, n, dv, vb.data(), lv);
    cpu::pv_tile(sc.data(), cols, nr, n, vr, lv, st.acc.data(), dv);
  }
}

// When (batch, head, row block) tasks are fewer than threads (decoding), the keys are split too and
// the partial states combined afterwards (as flash-decoding does).
template <typename T>
void sdpa_kernel(const Array& qa, const Array& ka, const Array& va, const Masker& mk, float scale, Array& out,
                 Context& ctx) {
  Geometry g{qa.shape(0), qa.shape(1), ka.shape(1), qa.shape(1) / ka.shape(1), qa.shape(2), ka.shape(2), qa.shape(3)};
  int64_t dv = va.shape(3), rows = g.rows_per_head(), rb = row_block(ctx, g);
  int64_t blocks = (rows + rb - 1) / rb, tasks = g.B * g.Hkv * blocks, key_blocks = (g.S + kKeyBlock - 1) / kKeyBlock;
  int64_t splits = std::clamp<int64_t>((ctx.pool.size() + tasks - 1) / tasks, 1, std::max<int64_t>(key_blocks / 2, 1));
  int64_t chunk = (key_blocks + splits - 1) / splits * kKeyBlock;
  Rows4<T> q(qa), k(ka), v(va);
  const Panels pn = pack_panels(k, v, g, dv, ctx);
  T* o_base = out.data<T>();
  std::vector<RowState> parts;
  if (splits > 1) parts.assign(tasks * splits, RowState(0, 0));
  auto out_row = [&](int64_t b, int64_t hk, int64_t r) { return o_base + ((b * g.Hq + hk * g.G + r % g.G) * g.L + r / g.G) * dv; };
  auto finish = [&](RowState& st, int64_t i, T* dst) {
    float inv = st.sum[i] > 0 ? 1.0f / st.sum[i] : 0.0f;  // a query that sees no key gets zeros
    for (int64_t c = 0; c < dv; ++c) st.acc[i * dv + c] *= inv;
    cpu::store_row(st.acc.data() + i * dv, dst, dv);
  };
  ctx.pool.parallel_tasks(tasks * splits, [&](int64_t t) {
    int64_t split = t % splits, task = t / splits, blk = task % blocks, bh = task / blocks;
    int64_t b = bh / g.Hkv, hk = bh % g.Hkv, r0 = blk * rb, r1 = std::min(rows, r0 + rb), nr = r1 - r0;
    std::vector<float> qf(nr * g.D);
    pack_queries(q, g, b, hk, r0, r1, scale, qf.data());
    int64_t s_end = 0;
    for (int64_t r = r0; r < r1; ++r) s_end = std::max(s_end, mk.key_end(r / g.G, g.S));
    RowState st(nr, dv);
    const int64_t s0 = split * chunk, s1 = std::min(s_end, (split + 1) * chunk);
    if (pn.data) attend_panels(pn, g, dv, mk, b, hk, r0, qf.data(), nr, s0, s1, st);
    else attend(k, v, g, dv, mk, b, hk, r0, qf.data(), nr, s0, s1, st);
    if (splits > 1) parts[t] = std::move(st);
    else for (int64_t i = 0; i < nr; ++i) finish(st, i, out_row(b, hk, r0 + i));
  });
  if (splits == 1) return;
  ctx.pool.parallel_tasks(tasks, [&](int64_t task) {
    int64_t blk = task % blocks, bh = task / blocks, b = bh / g.Hkv, hk = bh % g.Hkv, r0 = blk * rb;
    RowState& total = parts[task * splits];
    int64_t nr = int64_t(total.mx.size());
    for (int64_t i = 0; i < nr; ++i) {
      float m = cpu::kNegInf;
      for (int64_t sp = 0; sp < splits; ++sp) m = std::max(m, parts[task * splits + sp].mx[i]);
      if (m != cpu::kNegInf) {
        for (int64_t sp = 0; sp < splits; ++sp) {
          RowState& p = parts[task * splits + sp];
          float w = p.mx[i] == cpu::kNegInf ? 0.0f : std::exp(p.mx[i] - m);
          if (sp == 0) {
            total.sum[i] *= w;
            for (int64_t c = 0; c < dv; ++c) total.acc[i * dv + c] *= w;
          } else {
            total.sum[i] += p.sum[i] * w;
            for (int64_t c = 0; c < dv; ++c) total.acc[i * dv + c] += p.acc[i * dv + c] * w;
          }
        }
      }
      finish(total, i, out_row(b, hk, r0 + i));
    }
  });
}

template <typename T>
void weights_kernel(const Array& qa, const Array& ka, const Masker& mk, float scale, Array& out, Context& ctx) {
  Geometry g{qa.shape(0), qa.shape(1), ka.shape(1), qa.shape(1) / ka.shape(1), qa.shape(2), ka.shape(2), qa.shape(3)};
  Rows4<T> q(qa), k(ka);
  T* o_base = out.data<T>();
  int64_t ls = round8(g.S);
  for_row_blocks(ctx, g, [&](int64_t b, int64_t hk, int64_t r0, int64_t r1) {
    int64_t nr = r1 - r0;
    std::vector<float> qf(nr * g.D), kt(g.D * kKeyBlock), tmp(g.D), sc(nr * ls);
    pack_queries(q, g, b, hk, r0, r1, scale, qf.data());
    for (int64_t s0 = 0; s0 < g.S; s0 += kKeyBlock) {
      int64_t n = std::min(kKeyBlock, g.S - s0);
      block_scores(k, b, hk, s0, n, qf.data(), nr, g.D, kt.data(), tmp.data(), sc.data() + s0, ls);
    }
    for (int64_t i = 0; i < nr; ++i) {
      int64_t r = r0 + i, h = hk * g.G + r % g.G;
      float* s = sc.data() + i * ls;
      mk.apply(b, h, r / g.G, 0, g.S, s);
      float m = cpu::max_of(s, g.S);
      if (m == cpu::kNegInf) {
        std::fill(s, s + g.S, 0.0f);
      } else {
        float inv = 1.0f / cpu::exp_shift_sum(s, g.S, m);
        for (int64_t j = 0; j < g.S; ++j) s[j] *= inv;
      }
      cpu::store_row(s, o_base + ((b * g.Hq + h) * g.L + r / g.G) * g.S, g.S);
    }
  });
}

template <typename T>
void apply_kernel(const Array& wa, const Array& va, Array& out, Context& ctx) {
  Geometry g{wa.shape(0), wa.shape(1), va.shape(1), wa.shape(1) / va.shape(1), wa.shape(2), va.shape(2), 0};
  int64_t dv = va.shape(3);
  Rows4<T> w(wa), v(va);
  T* o_base = out.data<T>();
  for_row_blocks(ctx, g, [&](int64_t b, int64_t hk, int64_t r0, int64_t r1) {
    int64_t nr = r1 - r0;
    std::vector<float> p(nr * kKeyBlock), vb(kKeyBlock * dv), acc(nr * dv, 0.0f);
    for (int64_t s0 = 0; s0 < g.S; s0 += kKeyBlock) {
      int64_t n = std::min(kKeyBlock, g.S - s0);
      for (int64_t r = r0; r < r1; ++r)
        cpu::load_row(w.row(b, hk * g.G + r % g.G, r / g.G) + s0, 1, p.data() + (r - r0) * kKeyBlock, n);
      int64_t lv;
      const float* vr = value_rows(v, b, hk, s0, n, dv, vb.data(), lv);
      cpu::pv_tile(p.data(), kKeyBlock, nr, n, vr, lv, acc.data(), dv);
    }
    for (int64_t r = r0; r < r1; ++r)
      cpu::store_row(acc.data() + (r - r0) * dv, o_base + ((b * g.Hq + hk * g.G + r % g.G) * g.L + r / g.G) * dv, dv);
  });
}

}  // namespace

void ScaledDotProductAttention::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Array q = last_contiguous(in[0], ctx), k = last_contiguous(in[1], ctx), v = last_contiguous(in[2], ctx);
  Masker mk{mask_, mask_ == AttentionMask::Array ? &in[3] : nullptr, k.shape(2) - q.shape(2)};
  dispatch_float(out.dtype(), "scaledDotProductAttention",
                 [&]<typename T>() { sdpa_kernel<T>(q, k, v, mk, scale_, out, ctx); });
}

void AttentionWeights::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Array q = last_contiguous(in[0], ctx), k = last_contiguous(in[1], ctx);
  Masker mk{mask_, mask_ == AttentionMask::Array ? &in[2] : nullptr, k.shape(2) - q.shape(2)};
  dispatch_float(out.dtype(), "attentionWeights", [&]<typename T>() { weights_kernel<T>(q, k, mk, scale_, out, ctx); });
}

void AttentionApply::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Array w = last_contiguous(in[0], ctx), v = last_contiguous(in[1], ctx);
  dispatch_float(out.dtype(), "attentionApply", [&]<typename T>() { apply_kernel<T>(w, v, out, ctx); });
}

}  // namespace tessera
