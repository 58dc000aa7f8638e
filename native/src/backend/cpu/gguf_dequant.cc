// CPU kernel of GgufDequantize: rows of ggml blocks to float32 / float16, blocks in parallel.
// Contraction into FMA is off here so the result matches the reference dequantizers bit for bit.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#include "backend/cpu/gguf_blocks.h"
#include "tessera/primitives/quant_gguf.h"

namespace tessera {

namespace {

using gguf::DecodeFn;

}  // namespace

void GgufDequantize::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  GgmlTypeTraits tr = ggml_block_traits(uint32_t(type_));
  DecodeFn decode = gguf::decoder(type_, "ggufDequantize");
  Array blocks = ctx.contiguous(in[0]);
  ctx.alloc_output(out);
  const uint8_t* src = blocks.data<uint8_t>();
  const int64_t n_blocks = blocks.size() / tr.type_size, bs = tr.block_size;
  if (out.dtype() == Dtype::Float32) {
    float* dst = out.data<float>();
    ctx.pool.parallel_for(n_blocks, 64, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) decode(src + i * tr.type_size, dst + i * bs);
    });
  } else {
    uint16_t* dst = static_cast<uint16_t*>(out.raw_data());
    ctx.pool.parallel_for(n_blocks, 64, [&](int64_t b, int64_t e) {
      float tmp[gguf::QK_K];
      for (int64_t i = b; i < e; ++i) {
        decode(src + i * tr.type_size, tmp);
        for (int64_t j = 0; j < bs; ++j) dst[i * bs + j] = float_to_half(tmp[j]);
      }
    });
  }
}

}  // namespace tessera
