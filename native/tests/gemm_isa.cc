// C++ test and bench of the float GEMM on every ISA level the machine has, for machines without
// Node (an AVX-512 host): each level's kernels against a float64 reference over odd shapes,
// strides, transposes, tails, dtypes, alpha and accumulation; the dispatcher; then GFLOP/s at
// 512^2 / 1024^2 / 2048^2 beside each level's FMA peak loop, on a given thread count.
//
//   cmake -S native -B build-tests -G Ninja -DCMAKE_BUILD_TYPE=Release -DTESSERA_BUILD_ADDON=OFF -DTESSERA_BUILD_TESTS=ON
//   cmake --build build-tests --target gemm_isa && build-tests/gemm_isa [--threads 2] [--no-bench] [--sweep]
//     [--best] [--json bench/results/gemm_isa.json]   (native/tests/run_gemm_isa.sh adds NumPy's sgemm beside it)
//
// TESSERA_ISA=<level> (read here, never by the library) limits the run to levels up to that one.
// Exit status 1 when any check fails.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <cpuid.h>

#include "backend/cpu/gemm.h"
#include "backend/cpu/kernels.h"
#include "tessera/context.h"
#include "tessera/isa.h"

using namespace tessera;
using namespace tessera::cpu;

namespace {

int g_failures = 0;

struct Variant {
  const char* name;
  IsaLevel level;
  const GemmKernels* g;
};

std::string cpu_brand() {
  unsigned int r[12] = {};
  for (unsigned i = 0; i < 3; ++i) __get_cpuid(0x80000002 + i, &r[i * 4], &r[i * 4 + 1], &r[i * 4 + 2], &r[i * 4 + 3]);
  std::string s(reinterpret_cast<const char*>(r), 48);
  return s.c_str();
}

// Storage of one operand: values rounded to its dtype, kept as float too (the reference reads those).
struct Operand {
  Dtype dt;
  std::vector<uint16_t> half;
  std::vector<float> f;
  const void* ptr() const { return dt == Dtype::Float32 ? static_cast<const void*>(f.data()) : half.data(); }
};

Operand make_operand(size_t n, Dtype dt, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Operand o{dt, {}, std::vector<float>(n)};
  if (dt != Dtype::Float32) o.half.resize(n);
  for (size_t i = 0; i < n; ++i) {
    float v = u(rng);
    if (dt == Dtype::Float16) o.half[i] = float_to_half(v), v = half_to_float(o.half[i]);
    if (dt == Dtype::BFloat16) o.half[i] = float_to_bf16(v), v = bf16_to_float(o.half[i]);
    o.f[i] = v;
  }
  return o;
}

enum Layout { RowMajor, Transposed, Strided };
const char* layout_name(Layout l) { return l == RowMajor ? "row" : l == Transposed ? "trans" : "strided"; }

// (rs, cs) and the storage size of a rows x cols operand in layout l.
void strides(Layout l, int64_t rows, int64_t cols, int64_t& rs, int64_t& cs, size_t& n) {
  if (l == RowMajor) rs = cols + 3, cs = 1, n = size_t(rows * rs);
  else if (l == Transposed) rs = 1, cs = rows + 1, n = size_t(cols * cs);
  else rs = 2 * cols + 1, cs = 2, n = size_t(rows * rs);
}

// One case on one variant; returns the max error relative to sum |a||b| per element.
double run_case(const Variant& v, ThreadPool& pool, int64_t M, int64_t N, int64_t K, Layout la, Layout lb, Dtype dt,
                float alpha, bool accumulate, uint32_t seed) {
  std::mt19937 rng(seed);
  int64_t rsa, csa, rsb, csb;
  size_t na, nb;
  strides(la, M, K, rsa, csa, na);
  strides(lb, K, N, rsb, csb, nb);
  Operand A = make_operand(na, dt, rng), B = make_operand(nb, dt, rng);
  const int64_t ldc = N + 5;
  std::vector<float> C(size_t(M * ldc)), C0(size_t(M * ldc));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (size_t i = 0; i < C.size(); ++i) C0[i] = u(rng);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      bool pad = j >= N;
      C[size_t(i * ldc + j)] = pad ? 12345.f : accumulate ? C0[size_t(i * ldc + j)] : std::nanf("");
    }
  gemm(pool, *v.g, M, N, K, {A.ptr(), dt, rsa, csa}, {B.ptr(), dt, rsb, csb}, {C.data(), Dtype::Float32, ldc}, alpha,
       accumulate);
  double worst = 0;
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < ldc; ++j) {
      float got = C[size_t(i * ldc + j)];
      if (j >= N) {
        if (got != 12345.f) worst = INFINITY;  // wrote past the row
        continue;
      }
      double ref = 0, mag = 0;
      for (int64_t k = 0; k < K; ++k) {
        double p = double(A.f[size_t(i * rsa + k * csa)]) * double(B.f[size_t(k * rsb + j * csb)]);
        ref += p, mag += std::fabs(p);
      }
      ref *= alpha, mag *= std::fabs(alpha);
      if (accumulate) ref += C0[size_t(i * ldc + j)], mag += std::fabs(C0[size_t(i * ldc + j)]);
      double err = std::fabs(double(got) - ref) / (mag + 1e-30);
      if (!(err <= 1e30)) err = INFINITY;  // nan: an element not written
      worst = std::max(worst, err);
    }
  return worst;
}

void check_variant(const Variant& v, ThreadPool& pool) {
  struct Shape { int64_t M, N, K; };
  const Shape shapes[] = {{2, 2, 1},    {2, 3, 5},     {7, 33, 17},   {13, 31, 9},    {12, 32, 256},
                          {14, 32, 257}, {25, 65, 300}, {100, 97, 513}, {289, 130, 70}, {3, 4200, 11},
                          {37, 29, 1030}, {64, 64, 64},  {130, 300, 40}};
  const Dtype dts[] = {Dtype::Float32, Dtype::Float16, Dtype::BFloat16};
  int cases = 0, bad = 0;
  double worst_all = 0;
  uint32_t seed = 1;
  for (const Shape& s : shapes)
    for (Layout la : {RowMajor, Transposed, Strided})
      for (Layout lb : {RowMajor, Transposed, Strided})
        for (Dtype dt : dts) {
          bool acc = (seed % 3) == 0;
          float alpha = (seed % 4) == 1 ? 0.5f : 1.0f;
          double e = run_case(v, pool, s.M, s.N, s.K, la, lb, dt, alpha, acc, seed++);
          ++cases;
          worst_all = std::max(worst_all, e);
          // The float32 rounding bound of a K-term sum (K * 2^-24 relative to sum |ab|, doubled for the
          // blocked passes); a lost or doubled term costs about 1/K.
          if (!(e < 1e-6 + 1.2e-7 * double(s.K))) {
            ++bad;
            if (bad <= 10)
              std::printf("  FAIL %s M=%lld N=%lld K=%lld A=%s B=%s %s alpha=%g acc=%d: rel err %.3g\n", v.name,
                          (long long)s.M, (long long)s.N, (long long)s.K, layout_name(la), layout_name(lb),
                          dtype_name(dt), alpha, acc, e);
          }
        }
  g_failures += bad;
  std::printf("check %-10s (%dx%d tile): %d cases, %d failed, worst error / sum|ab| = %.3g\n", v.name, v.g->mr,
              v.g->nr, cases, bad, worst_all);
}

// Half output through the Context entry point (dispatch by level), against the float32 output.
void check_dispatch(Runtime& rt) {
  for (IsaLevel l : supported_isa_levels()) {
    rt.set_isa(l);
    Context ctx = rt.context();
    if (ctx.isa != l || kernels(l).level != l) {
      std::printf("  FAIL dispatcher: level %s not taken\n", isa_name(l));
      ++g_failures;
    }
    std::mt19937 rng(7);
    const int64_t M = 45, N = 70, K = 333;
    Operand A = make_operand(size_t(M * K), Dtype::BFloat16, rng), B = make_operand(size_t(K * N), Dtype::BFloat16, rng);
    std::vector<uint16_t> C(size_t(M * N));
    gemm(ctx, M, N, K, {A.ptr(), Dtype::BFloat16, K, 1}, {B.ptr(), Dtype::BFloat16, 1, K}, {C.data(), Dtype::BFloat16, N});
    double worst = 0;
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double ref = 0, mag = 0;
        for (int64_t k = 0; k < K; ++k) {
          double p = double(A.f[size_t(i * K + k)]) * double(B.f[size_t(j * K + k)]);
          ref += p, mag += std::fabs(p);
        }
        worst = std::max(worst, std::fabs(bf16_to_float(C[size_t(i * N + j)]) - ref) / (std::fabs(ref) + 1e-3 * mag));
      }
    bool ok = worst < 1.0 / 128;  // one bf16 rounding of the result
    if (!ok) ++g_failures;
    std::printf("dispatch %-11s: bf16 gemm through Context, worst rel err %.3g %s\n", isa_name(l), worst,
                ok ? "ok" : "FAIL");
  }
  try {
    isa_from_name("avx9000");
    std::printf("  FAIL isa_from_name accepted a bad name\n");
    ++g_failures;
  } catch (const std::invalid_argument& e) {
    std::printf("dispatch: bad name -> \"%s\"\n", e.what());
  }
  for (int i = 0; i < kIsaLevelCount; ++i) {
    if (isa_supported(IsaLevel(i))) continue;
    try {
      rt.set_isa(IsaLevel(i));
      std::printf("  FAIL set_isa accepted unsupported %s\n", isa_name(IsaLevel(i)));
      ++g_failures;
    } catch (const std::invalid_argument& e) {
      std::printf("dispatch: unsupported -> \"%s\"\n", e.what());
    }
  }
  rt.set_isa(best_isa_level());
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// --best: the fastest of the runs instead of the median (on a host shared with other loads, the
// best run shows what the kernel does when it gets the cores).
bool g_best = false;

template <typename F>
double median_seconds(F&& f, int iters) {
  f();
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    double t0 = now();
    f();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return g_best ? t.front() : t[t.size() / 2];
}

double peak_gflops(const GemmKernels& g, ThreadPool& pool) {
  const int64_t iters = 20'000'000;
  double s = median_seconds([&] { pool.parallel_tasks(pool.size(), [&](int64_t) { volatile float r = g.fma_peak_loop(iters); (void)r; }); }, 5);
  return double(iters) * double(g.fma_peak_flops_per_iteration) * pool.size() / s / 1e9;
}

// n^3 GFLOP/s, median of several runs (best of several with best = true); ldc_pad widens C's rows.
double gemm_gflops(const GemmKernels& g, ThreadPool& pool, int64_t n, Dtype dt, bool trans_b, int64_t ldc_pad = 0,
                   bool best = false) {
  std::mt19937 rng(3);
  Operand A = make_operand(size_t(n * n), dt, rng), B = make_operand(size_t(n * n), dt, rng);
  const int64_t ldc = n + ldc_pad;
  std::vector<float> C(size_t(n * ldc));
  MatRef b = trans_b ? MatRef{B.ptr(), dt, 1, n} : MatRef{B.ptr(), dt, n, 1};
  int iters = n >= 2048 ? 5 : n >= 1024 ? 10 : 30;
  auto run = [&] { gemm(pool, g, n, n, n, {A.ptr(), dt, n, 1}, b, {C.data(), Dtype::Float32, ldc}); };
  double s = median_seconds(run, iters);
  if (best) {
    for (int i = 0; i < iters; ++i) {
      double t0 = now();
      run();
      s = std::min(s, now() - t0);
    }
  }
  return 2.0 * double(n) * n * n / s / 1e9;
}

// One bench row in bench/lib.ts's BenchRow shape (reference: the level's own FMA peak loop).
struct Row {
  std::string name;
  double value, reference;
  std::string reference_name;
};

void bench(const std::vector<Variant>& vars, int threads, std::vector<Row>& rows) {
  ThreadPool pool(threads);
  std::printf("\nbench, %d threads (GFLOP/s; %% of the level's own FMA peak loop and of the widest one)\n", threads);
  double widest = 0;
  std::vector<double> peaks;
  for (const Variant& v : vars) peaks.push_back(peak_gflops(*v.g, pool)), widest = std::max(widest, peaks.back());
  for (size_t i = 0; i < vars.size(); ++i) {
    const Variant& v = vars[i];
    const std::string peak_name = std::string(v.name) + " FMA peak loop, " + std::to_string(threads) + " threads";
    auto add = [&](const std::string& what, double r) { rows.push_back({std::string(v.name) + " " + what, r, peaks[i], peak_name}); };
    std::printf("%-10s FMA peak loop: %.1f\n", v.name, peaks[i]);
    for (bool tb : {false, true})
      for (int64_t n : {512, 1024, 2048}) {
        double r = gemm_gflops(*v.g, pool, n, Dtype::Float32, tb);
        std::printf("%-10s f32 %s %4lld^3: %6.1f  (%4.1f%% of own peak, %4.1f%% of widest)\n", v.name,
                    tb ? "A@B.T" : "A@B  ", (long long)n, r, 100 * r / peaks[i], 100 * r / widest);
        add(std::string("float32 ") + (tb ? "A @ B.T " : "A @ B ") + std::to_string(n) + "^3", r);
      }
    for (int64_t n : {1024, 2048}) {
      double r = gemm_gflops(*v.g, pool, n, Dtype::Float32, false, 16);
      std::printf("%-10s f32 A@B   %4lld^3, C rows padded by 16: %6.1f  (%4.1f%% of own peak)\n", v.name, (long long)n, r,
                  100 * r / peaks[i]);
    }
    for (Dtype dt : {Dtype::Float16, Dtype::BFloat16}) {
      double r = gemm_gflops(*v.g, pool, 1024, dt, true);
      std::printf("%-10s %s A@B.T 1024^3: %6.1f  (%4.1f%% of own peak)\n", v.name, dtype_name(dt), r,
                  100 * r / peaks[i]);
      add(std::string(dtype_name(dt)) + " A @ B.T 1024^3", r);
    }
  }
}

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (char c : s) o += c == '"' || c == '\\' ? std::string("\\") + c : std::string(1, c);
  return o + "\"";
}

// bench/results/<name>.json in bench/lib.ts's BenchResult shape (bench/run.ts puts it in BENCHMARKS.md).
void write_json(const char* path, const std::vector<Row>& rows, int threads) {
  FILE* f = std::fopen(path, "w");
  if (!f) return void(std::printf("cannot write %s\n", path));
  char date[32];
  std::time_t t = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  std::string levels;
  for (IsaLevel l : supported_isa_levels()) levels += std::string(levels.empty() ? "" : ", ") + isa_name(l);
  std::fprintf(f, "{\n  \"name\": \"gemm_isa\",\n  \"title\": %s,\n  \"machine\": %s,\n  \"date\": \"%s\",\n  \"rows\": [\n",
               json_str("Float GEMM per ISA level (C++ harness, no Node), levels " + levels).c_str(),
               json_str(cpu_brand() + ", " + std::to_string(std::thread::hardware_concurrency()) + " threads, " +
                        std::to_string(threads) + " used").c_str(),
               date);
  for (size_t i = 0; i < rows.size(); ++i)
    std::fprintf(f, "    {\"case\": %s, \"value\": %.2f, \"unit\": \"GFLOP/s\", \"reference\": %.2f, \"referenceName\": %s, \"fraction\": %.4f%s}%s\n",
                 json_str(rows[i].name).c_str(), rows[i].value, rows[i].reference, json_str(rows[i].reference_name).c_str(),
                 rows[i].value / rows[i].reference,
                 rows[i].name.rfind("avx512 float32", 0) == 0 && rows[i].name.find(" 512^3") == std::string::npos
                     ? ", \"goal\": \">= 85% of peak\"" : "",
                 i + 1 < rows.size() ? "," : "");
  std::fprintf(f, "  ],\n  \"notes\": [\n    %s,\n    %s\n  ]\n}\n",
               json_str("native/tests/gemm_isa.cc: cpu::gemm with each level's kernels (avx2 6x16, avx512 12x32) on a " +
                        std::to_string(threads) + "-thread pool, " + (g_best ? "best" : "median") + " of 5-30 products of random [n, n] operands; the peak is each level's FMA loop (12 independent chains of its widest FMA) on the same threads").c_str(),
               json_str("the same run checked every level against a float64 reference over odd shapes, strides, transposes, dtypes, alpha and accumulation").c_str());
  std::fclose(f);
  std::printf("wrote %s\n", path);
}

// Block-size sweep of an AVX-512 tile (tuning aid): best of several runs, f32 A@B.T and A@B.
void sweep(const Variant& v, int threads) {
  ThreadPool pool(threads);
  std::printf("\nsweep %s, %d threads, best-of GFLOP/s: A@B.T 2048 / 1024, A@B 2048 / 1024\n", v.name, threads);
  for (int64_t kc : {256, 384, 512})
    for (int64_t mcr : {24, 48}) {
      GemmKernels g = *v.g;
      g.kc = kc, g.mc = mcr * g.mr;
      std::printf("  kc=%3lld mc=%3lld: %6.1f / %6.1f   %6.1f / %6.1f\n", (long long)kc, (long long)g.mc,
                  gemm_gflops(g, pool, 2048, Dtype::Float32, true, 0, true),
                  gemm_gflops(g, pool, 1024, Dtype::Float32, true, 0, true),
                  gemm_gflops(g, pool, 2048, Dtype::Float32, false, 0, true),
                  gemm_gflops(g, pool, 1024, Dtype::Float32, false, 0, true));
    }
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  bool do_bench = true, do_sweep = false;
  const char* json = nullptr;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (a == "--no-bench") do_bench = false;
    else if (a == "--sweep") do_sweep = true;
    else if (a == "--best") g_best = true;
    else if (a == "--json" && i + 1 < argc) json = argv[++i];
  }
  IsaLevel top = best_isa_level();
  if (const char* env = std::getenv("TESSERA_ISA")) top = std::min(top, isa_from_name(env));
  std::printf("CPU: %s\nsupported ISA levels:", cpu_brand().c_str());
  for (IsaLevel l : supported_isa_levels()) std::printf(" %s", isa_name(l));
  std::printf(" (testing up to %s)\n", isa_name(top));

  std::vector<Variant> vars = {{"avx2", IsaLevel::Avx2, &avx2::kGemm}};
  if (top >= IsaLevel::Avx512) {
    vars.push_back({"avx512", IsaLevel::Avx512, &avx512::kGemm});
  }
  Runtime rt;
  check_dispatch(rt);
  for (int t : {1, 3})
    for (const Variant& v : vars) {
      ThreadPool pool(t);
      std::printf("[%d thread%s] ", t, t > 1 ? "s" : "");
      check_variant(v, pool);
    }
  std::vector<Row> rows;
  if (do_bench) bench(vars, threads, rows);
  if (json && !rows.empty()) write_json(json, rows, threads);
  if (do_sweep && vars.size() > 1) sweep(vars[1], threads);
  std::printf("\n%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
  return g_failures ? 1 : 0;
}
