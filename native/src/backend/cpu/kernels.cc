#include "backend/cpu/kernels.h"

namespace tessera::cpu {

namespace {

constexpr QuantKernels kQuantAvx2{&avx2::gguf_q8_rows, &avx2::affine4_tile};
constexpr QuantKernels kQuantVnni{&avx512::gguf_q8_rows, &avx512::affine4_tile};

// Addresses only: constant-initialized, so no static-initialization order across files.
constexpr Kernels kTable[kIsaLevelCount] = {
    {IsaLevel::Avx2, &avx2::kGemm, &kQuantAvx2},
    {IsaLevel::Avx512, &avx512::kGemm, &kQuantAvx2},
    {IsaLevel::Avx512Vnni, &avx512::kGemm, &kQuantVnni},
};

}  // namespace

const Kernels& kernels(IsaLevel level) { return kTable[int(level)]; }

}  // namespace tessera::cpu
