// Target regions for kernel variants: every function defined between TESSERA_TARGET_AVX512_BEGIN
// and TESSERA_TARGET_END is compiled for AVX-512 (F/CD/BW/DQ/VL; _VNNI adds VNNI and BF16), the
// rest of the file for the base. Include every header before BEGIN, so that no inline function of
// a header or the standard library gets a wider copy that the linker could pick for base code.
// Base-level inline helpers (ld8, transpose8) are still inlined into the variant functions.
#pragma once

#define TESSERA_AVX512_FEATURES "avx512f,avx512cd,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt"
#define TESSERA_AVX512_VNNI_FEATURES \
  "avx512f,avx512cd,avx512bw,avx512dq,avx512vl,avx2,fma,f16c,bmi,bmi2,lzcnt,popcnt,avx512vnni,avx512bf16"

#define TESSERA_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
#define TESSERA_TARGET_BEGIN(features) \
  TESSERA_PRAGMA(clang attribute push(__attribute__((target(features))), apply_to = function))
#define TESSERA_TARGET_END TESSERA_PRAGMA(clang attribute pop)
#else
#define TESSERA_TARGET_BEGIN(features) TESSERA_PRAGMA(GCC push_options) TESSERA_PRAGMA(GCC target(features))
#define TESSERA_TARGET_END TESSERA_PRAGMA(GCC pop_options)
#endif
#define TESSERA_TARGET_AVX512_BEGIN TESSERA_TARGET_BEGIN(TESSERA_AVX512_FEATURES)
#define TESSERA_TARGET_AVX512_VNNI_BEGIN TESSERA_TARGET_BEGIN(TESSERA_AVX512_VNNI_FEATURES)
