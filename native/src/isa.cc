// CPU feature detection for the kernel levels: cpuid for what the CPU has, xgetbv for what the OS
// saves on a context switch (AVX needs the ymm state, AVX-512 also the opmask and zmm states).
#include "tessera/isa.h"

#include <cstdint>
#include <stdexcept>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#define TESSERA_X86 1
#endif

namespace tessera {

namespace {

constexpr const char* kNames[kIsaLevelCount] = {"avx2", "avx512", "avx512_vnni"};

// What is missing for each level (empty when it is supported). Computed once per process: the CPU
// does not change under a running program.
struct Features {
  std::string missing[kIsaLevelCount];
};

#if TESSERA_X86
uint64_t xcr0() {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (uint64_t(hi) << 32) | lo;
}

void need(std::string& missing, bool have, const char* what) {
  if (!have) missing += missing.empty() ? what : std::string(", ") + what;
}

Features detect() {
  Features f;
  uint32_t a = 0, b = 0, c = 0, d = 0;
  __get_cpuid(1, &a, &b, &c, &d);
  const bool osxsave = c & (1u << 27), fma = c & (1u << 12), avx = c & (1u << 28), f16c = c & (1u << 29);
  const uint64_t xcr = osxsave ? xcr0() : 0;
  const bool os_ymm = (xcr & 0x6) == 0x6, os_zmm = (xcr & 0xE6) == 0xE6;
  uint32_t b7 = 0, c7 = 0, a71 = 0;
  if (__get_cpuid_max(0, nullptr) >= 7) {
    __cpuid_count(7, 0, a, b7, c7, d);
    __cpuid_count(7, 1, a71, b, c, d);
  }
  auto bit = [](uint32_t r, int i) { return (r >> i) & 1u; };
  std::string& m2 = f.missing[0];
  need(m2, avx && os_ymm, "AVX (with OS support)");
  need(m2, bit(b7, 5), "AVX2");
  need(m2, fma, "FMA");
  need(m2, f16c, "F16C");
  std::string& m5 = f.missing[1];
  m5 = m2;
  need(m5, bit(b7, 16), "AVX512F");
  need(m5, bit(b7, 28), "AVX512CD");
  need(m5, bit(b7, 30), "AVX512BW");
  need(m5, bit(b7, 17), "AVX512DQ");
  need(m5, bit(b7, 31), "AVX512VL");
  need(m5, os_zmm, "OS support for the zmm/opmask state (XCR0)");
  std::string& mv = f.missing[2];
  mv = m5;
  need(mv, bit(c7, 11), "AVX512_VNNI");
  need(mv, bit(a71, 5), "AVX512_BF16");
  return f;
}
#else
Features detect() {
  Features f;
  for (int i = 1; i < kIsaLevelCount; ++i) f.missing[i] = "an x86-64 CPU";
  return f;
}
#endif

const Features& features() {
  static const Features f = detect();
  return f;
}

}  // namespace

const char* isa_name(IsaLevel level) { return kNames[int(level)]; }

IsaLevel isa_from_name(std::string_view name) {
  for (int i = 0; i < kIsaLevelCount; ++i)
    if (name == kNames[i]) return IsaLevel(i);
  std::string all;
  for (int i = 0; i < kIsaLevelCount; ++i) all += std::string(i ? ", " : "") + "'" + kNames[i] + "'";
  throw std::invalid_argument("unknown ISA level '" + std::string(name) + "' (expected one of " + all + ")");
}

bool isa_supported(IsaLevel level) { return features().missing[int(level)].empty(); }

std::vector<IsaLevel> supported_isa_levels() {
  std::vector<IsaLevel> out;
  for (int i = 0; i < kIsaLevelCount; ++i)
    if (isa_supported(IsaLevel(i))) out.push_back(IsaLevel(i));
  return out;
}

IsaLevel best_isa_level() {
  auto all = supported_isa_levels();
  return all.empty() ? IsaLevel::Avx2 : all.back();
}

void require_isa(IsaLevel level) {
  if (isa_supported(level)) return;
  std::string have;
  for (IsaLevel l : supported_isa_levels()) have += std::string(have.empty() ? "" : ", ") + isa_name(l);
  throw std::invalid_argument("ISA level '" + std::string(isa_name(level)) + "' is not supported by this CPU: it lacks " +
                              features().missing[int(level)] + " (supported: " + (have.empty() ? "none" : have) + ")");
}

}  // namespace tessera
