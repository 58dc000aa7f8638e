// CPU kernel of GgufMatmul: x @ W^T with W held as rows of ggml blocks, read directly.
//
// Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K with up to kQ8Rows activation rows (AVX2): as
// llama.cpp, the activations are quantized once to int8 blocks (q8_rows.h; 32 values for the legacy
// types, 256 for the k-quants) and each weight block meets them in integer dot products
// (gguf_q8_dot.h, gguf_q8_dot_legacy.h), rows split across threads; on the avx512_vnni level the
// same kernels run on vpdpbusd / vpdpwssd (qmatmul_vnni_avx512.cc), with bit-identical results. Results then differ from
// dequantize + matmul by the activations' rounding (each within amax / 254 of its block), as
// llama.cpp's do. Other types, up to kMatVecRows rows: a block decoded to floats (exactly ggml's
// values) and dotted with x. More rows: panels of weight rows
// decoded to float32 and reused for all activation rows (dot_panel).
#include <algorithm>
#include <cstring>

#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/gguf_q8_dot.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/qmatmul_common.h"
#include "tessera/primitives/quant.h"

namespace tessera {

namespace {

using namespace cpu::qmm;
using gguf::DecodeFn;
namespace q8 = cpu::q8;

struct Problem {
  int64_t M, N, K, row_bytes, bs, ts;
  const uint8_t* w;
  const float* X;    // [M, K]
  float* Y;          // [M, N]
};

// Up to this many activation rows take the int8 kernels (each weight row read once from memory,
// reused from L1 by every tile of 4 rows); more rows decode float panels for the GEMM. Measured on
// 4096 x 4096 Q4_0 / Q4_K, 2 threads: the int8 path takes 0.35x the panel path's time at 8 rows,
// 0.5x at 32, 0.65x at 64 and 0.8-0.9x at 128.
constexpr int64_t kQ8Rows = 128;

// Types with int8 dot-product kernels (gguf_q8_dot.h, gguf_q8_dot_legacy.h): the activation block size they need, else 0.
int64_t q8_block_of(GgmlType t) {
#if !(defined(__AVX2__) && defined(__FMA__))
  return 0;
#endif
  switch (t) {
    case GgmlType::Q4_0: case GgmlType::Q8_0: case GgmlType::Q4_1: case GgmlType::Q5_0: case GgmlType::Q5_1: return 32;
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return gguf::QK_K;
    default: return 0;
  }
}


// Any block type: decode one block to floats, dot with each activation row.
void matvec_generic(DecodeFn decode, const Problem& P, int64_t m0, int64_t mr, int64_t n0, int64_t n1) {
  float buf[gguf::QK_K];
  for (int64_t n = n0; n < n1; ++n) {
    const uint8_t* row = P.w + n * P.row_bytes;
    float acc[kMatVecRows] = {};
    for (int64_t i = 0; i < P.K / P.bs; ++i) {
      decode(row + i * P.ts, buf);
      for (int64_t m = 0; m < mr; ++m) acc[m] += dot(buf, P.X + (m0 + m) * P.K + i * P.bs, P.bs);
    }
    for (int64_t m = 0; m < mr; ++m) P.Y[(m0 + m) * P.N + n] = acc[m];
  }
}

}  // namespace

void GgufMatmul::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  GgmlTypeTraits tr = ggml_block_traits(uint32_t(type_));
  DecodeFn decode = gguf::decoder(type_, "ggufMatmul");
  Array blocks = ctx.contiguous(in[1]);
  std::vector<float> X = rows_as_float(in[0], ctx.pool);
  ctx.alloc_output(out);
  if (out.size() == 0) return;
  Problem P;
  P.K = in[0].shape().back();
  P.M = in[0].size() / std::max<int64_t>(P.K, 1);
  P.N = out.shape().back();
  P.row_bytes = blocks.shape(1);
  P.bs = tr.block_size;
  P.ts = tr.type_size;
  P.w = blocks.data<uint8_t>();
  P.X = X.data();
  std::vector<float> tmp;
  P.Y = out.dtype() == Dtype::Float32 ? out.data<float>() : (tmp.resize(size_t(out.size())), tmp.data());
  if (P.K == 0) {
    std::fill(P.Y, P.Y + out.size(), 0.0f);
  } else if (P.M <= kQ8Rows && q8_block_of(type_) > 0 && P.K % q8_block_of(type_) == 0) {
#if defined(__AVX2__) && defined(__FMA__)
    // Activations quantized to int8 once, integer dot products per block (llama.cpp's scheme).
    q8::Rows xq;
    q8::quantize_rows(P.X, P.M, P.K, q8_block_of(type_), xq, ctx.pool);
    if (type_ == GgmlType::Q4_0 || type_ == GgmlType::Q5_0) q8::interleave_pairs(xq);
    const cpu::GgufQ8Job job{type_, P.M, P.N, P.K, P.row_bytes, P.bs, P.ts, P.w, P.Y};
    auto rows = cpu::kernels(ctx.isa).quant->gguf_q8_rows;
    ctx.pool.parallel_for_dynamic(P.N, 8, [&](int64_t n0, int64_t n1) { rows(job, xq, n0, n1); });
#endif
  } else if (P.M <= kMatVecRows) {
    ctx.pool.parallel_for(P.N, 8, [&](int64_t n0, int64_t n1) { matvec_generic(decode, P, 0, P.M, n0, n1); });
  } else {
    // Panels of nb decoded weight rows (about 256 KB of float32), reused for all M rows.
    const int64_t nb = std::clamp<int64_t>(65536 / P.K, 16, 64) & ~int64_t(15);
    const int64_t tiles = (P.N + nb - 1) / nb, nblocks = P.K / P.bs;
    ctx.pool.parallel_for(tiles, 1, [&](int64_t t0, int64_t t1) {
      std::vector<float> panel(size_t(nb * P.K));
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t n0 = t * nb, rows = std::min(nb, P.N - n0);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t i = 0; i < nblocks; ++i)
            decode(P.w + (n0 + r) * P.row_bytes + i * P.ts, panel.data() + r * P.K + i * P.bs);
        dot_panel(ctx, P.M, rows, P.K, P.X, P.K, panel.data(), P.K, P.Y + n0, P.N);
      }
    });
  }
  if (out.dtype() != Dtype::Float32) store_output(P.Y, out, ctx.pool);
}

}  // namespace tessera
