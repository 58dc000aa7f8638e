// The AVX2 level of the quantized matmuls' integer dots (quant_kernels.h): maddubs / madd forms.
#include "backend/cpu/affine4_dot.h"
#include "backend/cpu/gguf_q8_tiles.h"
#include "backend/cpu/quant_kernels.h"

namespace tessera::cpu::avx2 {

void gguf_q8_rows(const GgufQ8Job& job, const q8::Rows& x, int64_t n0, int64_t n1) {
#if defined(__AVX2__) && defined(__FMA__)
  q8::q8_rows_all(job, x, n0, n1);
#endif
}

void affine4_tile(const Affine4Job& job, int mr, int64_t m0, int64_t r0, int64_t r1) {
#if defined(__AVX2__) && defined(__FMA__)
  affine4::tile(job, mr, m0, r0, r1);
#endif
}

}  // namespace tessera::cpu::avx2
