#include "backend/cpu/kernels.h"

namespace tessera::cpu {

namespace {

// Addresses only: constant-initialized, so no static-initialization order across files.
constexpr Kernels kTable[kIsaLevelCount] = {
    {IsaLevel::Avx2, &avx2::kGemm},
    {IsaLevel::Avx512, &avx512::kGemm},
    {IsaLevel::Avx512Vnni, &avx512::kGemm},
};

}  // namespace

const Kernels& kernels(IsaLevel level) { return kTable[int(level)]; }

}  // namespace tessera::cpu
