// Instruction-set levels of the CPU kernels. One build runs on every x86-64 with AVX2 + FMA + F16C
// (the base, x86-64-v3); kernels with wider variants carry one per level, chosen at run time from
// cpuid and the OS's saved register state (xgetbv). A Runtime starts at the best level the machine
// has and can be forced lower (for tests, benches and comparisons).
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace tessera {

enum class IsaLevel : int {
  Avx2 = 0,        // AVX2 + FMA + F16C: 8 float lanes
  Avx512 = 1,      // AVX-512 F/CD/BW/DQ/VL with zmm state saved by the OS: 16 float lanes
  Avx512Vnni = 2,  // the above + AVX512-VNNI (vpdpbusd) + AVX512-BF16
};
inline constexpr int kIsaLevelCount = 3;

// "avx2", "avx512", "avx512_vnni".
const char* isa_name(IsaLevel level);
// The level named `name`; throws std::invalid_argument listing the names for any other string.
IsaLevel isa_from_name(std::string_view name);
// Whether this CPU and OS can run the kernels of `level`.
bool isa_supported(IsaLevel level);
// Every supported level, lowest first (the base level is always first).
std::vector<IsaLevel> supported_isa_levels();
// The best supported level.
IsaLevel best_isa_level();
// Throws std::invalid_argument naming the missing features when `level` is not supported.
void require_isa(IsaLevel level);

}  // namespace tessera
