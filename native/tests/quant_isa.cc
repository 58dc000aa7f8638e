// C++ test and bench of the quantized matmuls' integer dots on every ISA level the machine has, for
// machines without Node (an AVX-512 VNNI host): each level's GGUF int8 tiles (Q4_0, Q4_1, Q5_0,
// Q5_1, Q8_0, Q4_K, Q5_K, Q6_K) and MLX affine 4-bit tiles against the AVX2 level (bit-identical)
// and against a float64 reference of the dequantized operands; then GOP/s of 512-row mat-mats
// beside a vpdpbusd zmm peak loop (int8 ops: 2 per multiply-add).
//   sh native/tests/build_quant_isa.sh && build/quant_isa_obj/quant_isa [--threads 16] [--no-bench]
// Exit status 1 when any check fails.
#include <immintrin.h>

// GCC 12 warns about the _mm512_undefined_* placeholders inside its own intrinsics.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu/affine4_act.h"
#include "backend/cpu/gguf_blocks.h"
#include "backend/cpu/kernels.h"
#include "backend/cpu/q8_rows.h"
#include "tessera/isa.h"
#include "tessera/thread_pool.h"

using namespace tessera;
using namespace tessera::cpu;

namespace {

int g_failures = 0;

struct TypeInfo {
  GgmlType t;
  const char* name;
  int bs, ts;
  std::vector<int> f16_at;  // offsets of f16 scales in a block
};

const std::vector<TypeInfo>& types() {
  static const std::vector<TypeInfo> v = {
      {GgmlType::Q4_0, "Q4_0", 32, 18, {0}},        {GgmlType::Q4_1, "Q4_1", 32, 20, {0, 2}},
      {GgmlType::Q5_0, "Q5_0", 32, 22, {0}},        {GgmlType::Q5_1, "Q5_1", 32, 24, {0, 2}},
      {GgmlType::Q8_0, "Q8_0", 32, 34, {0}},        {GgmlType::Q4_K, "Q4_K", 256, 144, {0, 2}},
      {GgmlType::Q5_K, "Q5_K", 256, 176, {0, 2}},   {GgmlType::Q6_K, "Q6_K", 256, 210, {208}},
  };
  return v;
}

void gguf_run(const QuantKernels& qk, const TypeInfo& ti, ThreadPool& pool, int64_t M, int64_t N, int64_t K,
              const std::vector<uint8_t>& w, const q8::Rows& xq, std::vector<float>& Y) {
  Y.assign(size_t(M * N), NAN);
  const GgufQ8Job job{ti.t, M, N, K, K / ti.bs * ti.ts, ti.bs, ti.ts, w.data(), Y.data()};
  pool.parallel_for_dynamic(N, 8, [&](int64_t n0, int64_t n1) { qk.gguf_q8_rows(job, xq, n0, n1); });
}

void make_gguf(const TypeInfo& ti, int64_t N, int64_t K, std::mt19937& rng, std::vector<uint8_t>& w) {
  const int64_t rb = K / ti.bs * ti.ts;
  w.resize(size_t(N * rb));
  for (auto& b : w) b = uint8_t(rng());
  std::uniform_real_distribution<float> u(0.001f, 0.02f);
  for (int64_t b = 0; b < N * (K / ti.bs); ++b)
    for (int o : ti.f16_at) {
      const uint16_t h = float_to_half(u(rng) * ((o == 2 && rng() % 2) ? -1.f : 1.f));
      std::memcpy(w.data() + b * ti.ts + o, &h, 2);
    }
}

q8::Rows quantize(const TypeInfo& ti, const std::vector<float>& X, int64_t M, int64_t K, ThreadPool& pool) {
  q8::Rows xq;
  q8::quantize_rows(X.data(), M, K, ti.bs, xq, pool);
  if (ti.t == GgmlType::Q4_0 || ti.t == GgmlType::Q5_0) q8::interleave_pairs(xq);
  return xq;
}

void check_gguf(const std::vector<IsaLevel>& levels, ThreadPool& pool) {
  std::mt19937 rng(7);
  for (const TypeInfo& ti : types())
    for (int64_t M : {1, 3, 4, 7}) {
      const int64_t N = 37, K = ti.bs == 32 ? 32 * 9 : 256 * 3;  // odd block counts, tails of rows
      std::vector<uint8_t> w;
      make_gguf(ti, N, K, rng, w);
      std::vector<float> X(size_t(M * K));
      std::normal_distribution<float> g;
      for (auto& v : X) v = g(rng);
      q8::Rows xq = quantize(ti, X, M, K, pool);
      q8::Rows xn;  // natural order, for the reference
      q8::quantize_rows(X.data(), M, K, ti.bs, xn, pool);
      std::vector<float> base;
      gguf_run(*kernels(IsaLevel::Avx2).quant, ti, pool, M, N, K, w, xq, base);
      // Reference: the dequantized weights (ggml's values) against the int8 activations, in float64.
      const gguf::DecodeFn dec = gguf::decoder(ti.t, "quant_isa");
      double worst = 0;
      std::vector<float> wrow(static_cast<size_t>(K));
      for (int64_t n = 0; n < N; ++n) {
        for (int64_t b = 0; b < K / ti.bs; ++b) dec(w.data() + n * (K / ti.bs * ti.ts) + b * ti.ts, wrow.data() + b * ti.bs);
        for (int64_t m = 0; m < M; ++m) {
          double ref = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            const double x = double(xn.drow(m)[k / ti.bs]) * xn.qrow(m)[k];
            ref += double(wrow[size_t(k)]) * x, mag += std::fabs(double(wrow[size_t(k)]) * x);
          }
          double e = std::fabs(double(base[size_t(m * N + n)]) - ref) / (mag + 1e-30);
          worst = std::max(worst, std::isfinite(e) ? e : INFINITY);
        }
      }
      if (!(worst < 1e-5)) ++g_failures, std::printf("FAIL avx2 %s M=%lld vs reference: %.3g\n", ti.name, (long long)M, worst);
      for (IsaLevel l : levels) {
        std::vector<float> Y;
        gguf_run(*kernels(l).quant, ti, pool, M, N, K, w, xq, Y);
        if (std::memcmp(Y.data(), base.data(), Y.size() * 4) != 0)
          ++g_failures, std::printf("FAIL %s %s M=%lld differs from avx2\n", isa_name(l), ti.name, (long long)M);
      }
      std::printf("ok %s M=%lld (reference %.2g, %zu levels bit-identical)\n", ti.name, (long long)M, worst, levels.size());
    }
}

struct Affine {
  std::vector<uint8_t> w;
  std::vector<float> s, b;
};

void affine_run(const QuantKernels& qk, ThreadPool& pool, int gs, int64_t M, int64_t N, int64_t K, const Affine& A,
                const affine4::Act& act, std::vector<float>& Y) {
  Y.assign(size_t(M * N), NAN);
  const Affine4Job job{A.w.data(), K / 2, A.s.data(), A.b.data(), Dtype::Float32, gs, &act, K / 64, Y.data(), N};
  pool.parallel_for_dynamic(N, 8, [&](int64_t n0, int64_t n1) {
    for (int64_t m0 = 0; m0 < M; m0 += 4) qk.affine4_tile(job, int(std::min<int64_t>(4, M - m0)), m0, n0, n1);
  });
}

Affine make_affine(int64_t N, int64_t K, int gs, std::mt19937& rng) {
  Affine A;
  A.w.resize(size_t(N * K / 2));
  for (auto& v : A.w) v = uint8_t(rng());
  std::uniform_real_distribution<float> u(-0.05f, 0.05f);
  A.s.resize(size_t(N * K / gs)), A.b.resize(A.s.size());
  for (auto& v : A.s) v = u(rng);
  for (auto& v : A.b) v = u(rng);
  return A;
}

void check_affine(const std::vector<IsaLevel>& levels, ThreadPool& pool) {
  std::mt19937 rng(11);
  for (int gs : {32, 64, 128})
    for (int64_t M : {1, 2, 5}) {
      const int64_t N = 29, K = 384;
      Affine A = make_affine(N, K, gs, rng);
      std::vector<float> X(size_t(M * K));
      std::normal_distribution<float> g;
      for (auto& v : X) v = g(rng);
      affine4::Act act;
      affine4::quantize(X.data(), M, K, gs, act, pool);
      std::vector<float> base;
      affine_run(*kernels(IsaLevel::Avx2).quant, pool, gs, M, N, K, A, act, base);
      double worst = 0;  // against x in float64 (the kernel's int16 activations: 15 bits)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t m = 0; m < M; ++m) {
          double ref = 0, mag = 0;
          for (int64_t k = 0; k < K; ++k) {
            const int q = (A.w[size_t((n * K + k) / 2)] >> (4 * (k % 2))) & 15;  // MLX: value k at bits 4 * (k % 8) of word k / 8
            const double wv = double(A.s[size_t(n * (K / gs) + k / gs)]) * q + A.b[size_t(n * (K / gs) + k / gs)];
            ref += wv * X[size_t(m * K + k)], mag += std::fabs(wv * X[size_t(m * K + k)]);
          }
          double e = std::fabs(double(base[size_t(m * N + n)]) - ref) / (mag + 1e-30);
          worst = std::max(worst, std::isfinite(e) ? e : INFINITY);
        }
      if (!(worst < 1e-3)) ++g_failures, std::printf("FAIL avx2 affine4 gs=%d M=%lld vs reference: %.3g\n", gs, (long long)M, worst);
      for (IsaLevel l : levels) {
        std::vector<float> Y;
        affine_run(*kernels(l).quant, pool, gs, M, N, K, A, act, Y);
        if (std::memcmp(Y.data(), base.data(), Y.size() * 4) != 0)
          ++g_failures, std::printf("FAIL %s affine4 gs=%d M=%lld differs from avx2\n", isa_name(l), gs, (long long)M);
      }
      std::printf("ok affine4 gs=%d M=%lld (reference %.2g)\n", gs, (long long)M, worst);
    }
}

double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

template <typename F>
double best_of(int reps, F f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const double t0 = seconds();
    f();
    best = std::min(best, seconds() - t0);
  }
  return best;
}

// 16 chains of vpdpbusd zmm: 64 u8 x i8 multiply-adds each.
__attribute__((target("avx512f,avx512bw,avx512vnni"), noinline)) int vnni_peak_loop(int64_t it) {
  __m512i a[16];
  for (int i = 0; i < 16; ++i) a[i] = _mm512_set1_epi32(i);
  const __m512i u = _mm512_set1_epi8(3), s = _mm512_set1_epi8(-2);
  for (int64_t k = 0; k < it; ++k)
    for (int i = 0; i < 16; ++i) a[i] = _mm512_dpbusd_epi32(a[i], u, s);
  __m512i r = a[0];
  for (int i = 1; i < 16; ++i) r = _mm512_add_epi32(r, a[i]);
  return _mm512_reduce_add_epi32(r);
}

void bench(const std::vector<IsaLevel>& levels, ThreadPool& pool, int threads) {
  if (isa_supported(IsaLevel::Avx512Vnni)) {
    const int64_t it = 2000000;
    volatile int sink = 0;
    const double t = best_of(3, [&] {
      pool.parallel_for(threads, 1, [&](int64_t t0, int64_t t1) { for (int64_t i = t0; i < t1; ++i) sink = sink + vnni_peak_loop(it); });
    });
    std::printf("bench vnni peak (vpdpbusd zmm, %d threads): %.0f GOP/s\n", threads, 2.0 * 64 * 16 * it * threads / t / 1e9);
  }
  const int64_t M = 512, N = 4096, K = 4096;
  std::mt19937 rng(3);
  std::vector<float> X(size_t(M * K));
  std::normal_distribution<float> g;
  for (auto& v : X) v = g(rng);
  for (const TypeInfo& ti : types()) {
    if (ti.t != GgmlType::Q8_0 && ti.t != GgmlType::Q4_K && ti.t != GgmlType::Q4_0) continue;
    std::vector<uint8_t> w;
    make_gguf(ti, N, K, rng, w);
    q8::Rows xq = quantize(ti, X, M, K, pool);
    for (IsaLevel l : levels) {
      std::vector<float> Y;
      const double t = best_of(3, [&] { gguf_run(*kernels(l).quant, ti, pool, M, N, K, w, xq, Y); });
      std::printf("bench %s %s int8 tiles %lldx%lldx%lld: %.1f ms, %.0f GOP/s\n", isa_name(l), ti.name, (long long)M,
                  (long long)N, (long long)K, t * 1e3, 2.0 * M * N * K / t / 1e9);
    }
  }
  Affine A = make_affine(N, K, 64, rng);
  affine4::Act act;
  affine4::quantize(X.data(), M, K, 64, act, pool);
  for (IsaLevel l : levels) {
    std::vector<float> Y;
    const double t = best_of(3, [&] { affine_run(*kernels(l).quant, pool, 64, M, N, K, A, act, Y); });
    std::printf("bench %s MLX affine 4-bit gs64 int16 tiles %lldx%lldx%lld: %.1f ms, %.0f GOP/s\n", isa_name(l), (long long)M,
                (long long)N, (long long)K, t * 1e3, 2.0 * M * N * K / t / 1e9);
  }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool do_bench = true;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    if (!std::strcmp(argv[i], "--no-bench")) do_bench = false;
  }
  ThreadPool pool(threads);
  std::vector<IsaLevel> levels = supported_isa_levels();
  std::printf("levels:");
  for (IsaLevel l : levels) std::printf(" %s", isa_name(l));
  std::printf("\n");
  check_gguf(levels, pool);
  check_affine(levels, pool);
  if (do_bench) bench(levels, pool, threads);
  std::printf(g_failures ? "%d FAILURES\n" : "all checks passed\n", g_failures);
  return g_failures ? 1 : 0;
}
