// The per-ISA-level kernel table of the CPU backend. Kernels with wider variants (AVX-512 beside
// the AVX2 base) put their level-specific pieces here; a kernel finds them through its Context's
// level (`kernels(ctx.isa)`). The table is constant: the level is chosen per Runtime, not per process.
//
// Variant code is compiled inside target regions (isa_target.h) of files built with the base
// flags, so nothing outside those regions (headers' inline functions, the standard library) is
// compiled for a wider ISA than the base.
#pragma once
#include <cstdint>

#include "backend/cpu/gemm.h"
#include "backend/cpu/quant_kernels.h"
#include "tessera/isa.h"

namespace tessera::cpu {

// The float GEMM's level-specific pieces; gemm.cc runs the cache blocking around them.
struct GemmKernels {
  int mr, nr;          // microkernel tile: mr rows of A x nr columns of B
  int64_t mc, kc, nc;  // cache blocks: mc a multiple of mr, nc a multiple of nr
  // C[0:mr', 0:nr'] (row stride ldc) = alpha * Apanel @ Bpanel (+ C if load_c), over kc steps.
  // pa: kc x mr (k-major), pb: kc x nr (k-major), both 64-byte aligned and zero-padded.
  void (*microkernel)(int64_t kc, const float* pa, const float* pb, float* c, int64_t ldc, int mr, int nr,
                      float alpha, bool load_c);
  // Packs rows [i0, i0 + mc) x cols [k0, k0 + kc) of A into mr-row panels (zero-padded); dst needs
  // kPackSlack floats past the panels.
  void (*pack_a)(const MatRef& A, int64_t i0, int64_t mc, int64_t k0, int64_t kc, float* dst);
  // Packs rows [k0, k0 + kc) x cols [j0, j0 + nc) of B into nr-column panels (zero-padded).
  void (*pack_b)(const MatRef& B, int64_t k0, int64_t kc, int64_t j0, int64_t nc, float* dst);
  // A register-resident loop of the widest FMA, `flops_per_iteration` each; the result depends on every FMA.
  float (*fma_peak_loop)(int64_t iterations);
  int64_t fma_peak_flops_per_iteration;
};
constexpr int64_t kPackSlack = 16;

struct Kernels {
  IsaLevel level;
  const GemmKernels* gemm;
  const QuantKernels* quant;  // the AVX-512 level without VNNI keeps the AVX2 integer dots
};

// The kernels of `level` (which the Runtime checked the CPU supports).
const Kernels& kernels(IsaLevel level);

namespace avx2 {
extern const GemmKernels kGemm;  // 6x16 tile (gemm_kernel.cc)
}
namespace avx512 {
extern const GemmKernels kGemm;  // 12x32 tile on zmm (gemm_kernel_avx512.cc)
}

}  // namespace tessera::cpu
