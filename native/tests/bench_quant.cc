// C++ twin of bench/quant.ts's mat-vec rows, for machines without Node (build with
// native/tests/build_bench_quant.sh): quantized mat-vec GB/s against a parallel read of a 1 GB
// buffer and the copy op, on a given thread count.
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <algorithm>

#include "tessera/ops.h"
#include "tessera/scheduler.h"
#include <immintrin.h>

using namespace tessera;

static Array filled(Runtime& rt, Shape shape, Dtype dt, uint32_t seed) {
  Array a(shape, dt, std::make_shared<Buffer>(rt.alloc, size_t(shape_size(shape)) * itemsize(dt)));
  std::mt19937 g(seed);
  auto* p = static_cast<uint8_t*>(a.raw_data());
  for (size_t i = 0; i < a.nbytes(); ++i) p[i] = uint8_t(g());
  return a;
}

// With one thread the kernels run on the calling thread, and its CPU time (not wall time) shows what
// a kernel costs on a machine shared with other loads.
static bool g_cpu_time = false;
static double now() {
  if (!g_cpu_time) return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

template <typename F>
static double median_time(F&& f, int iters = 15) {
  f();
  f();
  std::vector<double> t;
  for (int i = 0; i < iters; ++i) {
    double t0 = now();
    f();
    t.push_back(now() - t0);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

int main(int argc, char** argv) {
  int threads = argc > 1 ? std::atoi(argv[1]) : 2;
  Runtime rt;
  rt.pool.resize(threads);
  g_cpu_time = argc > 2 && std::strcmp(argv[2], "cpu") == 0 && threads == 1;
  // Read bandwidth: threads sum disjoint halves of a 1 GB float buffer.
  const int64_t nbig = int64_t(1) << 28;
  Array big(Shape{nbig}, Dtype::Float32, std::make_shared<Buffer>(rt.alloc, size_t(nbig) * 4));
  std::memset(big.raw_data(), 0, size_t(nbig) * 4);
  volatile float sink = 0;
  double tread = median_time([&] {
    std::vector<float> part(64, 0.0f);
    rt.pool.parallel_for(nbig, 1 << 20, [&](int64_t b, int64_t e) {
      const float* p = big.data<float>();
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int64_t i = b; i + 32 <= e; i += 32) {
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(p + i));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(p + i + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(p + i + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(p + i + 24));
      }
      __m256 s = _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3));
      sink = sink + _mm256_cvtss_f32(s);
    });
  }, 5);
  double read_bw = nbig * 4.0 / tread / 1e9;
  double tcopy = median_time([&] { Array c = copy(big); eval({c}, rt); }, 5);
  double copy_bw = 2.0 * nbig * 4 / tcopy / 1e9;
  std::printf("threads %d: read %.2f GB/s, copy (read+write) %.2f GB/s\n", threads, read_bw, copy_bw);
  for (auto [n, k] : {std::pair<int64_t, int64_t>{4096, 4096}, {11008, 4096}}) {
    Array x = filled(rt, {1, k}, Dtype::Float32, 1);
    for (int64_t i = 0; i < k; ++i) x.data<float>()[i] = float(i % 7) * 0.1f;
    Array wq = filled(rt, {n, k / 8}, Dtype::UInt32, 2);
    Array s = filled(rt, {n, k / 64}, Dtype::Float32, 3), b = filled(rt, {n, k / 64}, Dtype::Float32, 4);
    for (int64_t i = 0; i < s.size(); ++i) s.data<float>()[i] = 0.01f, b.data<float>()[i] = -0.08f;
    double t = median_time([&] { Array y = quantized_matmul(x, wq, s, b, true, 64, 4); eval({y}, rt); });
    double bytes = double(wq.nbytes() + s.nbytes() + b.nbytes());
    std::printf("affine 4-bit g64 %lldx%lld: %.3f ms, %.2f GB/s (%.0f%% of read)\n", (long long)n, (long long)k, t * 1e3,
                bytes / t / 1e9, 100 * bytes / t / 1e9 / read_bw);
    for (auto [name, id, bs, ts, offs] : {std::tuple<const char*, uint32_t, int64_t, int64_t, int>{"Q4_0", 2, 32, 18, 1},
                                          {"Q4_K", 12, 256, 144, 2}, {"Q8_0", 8, 32, 34, 1}, {"Q6_K", 14, 256, 210, 0}}) {
      Array w = filled(rt, {n, k / bs * ts}, Dtype::UInt8, 5);
      uint8_t* p = w.data<uint8_t>();
      for (int64_t i = 0; i < n * k / bs; ++i) {
        int off = offs == 0 ? 208 : 0;
        for (int j = 0; j < std::max(offs, 1); ++j) p[i * ts + off + 2 * j] = 0x1f, p[i * ts + off + 2 * j + 1] = 0x21;
      }
      double tg = median_time([&] { Array y = gguf_matmul(x, w, id); eval({y}, rt); });
      std::printf("%s %lldx%lld: %.3f ms, %.2f GB/s (%.0f%% of read)\n", name, (long long)n, (long long)k, tg * 1e3,
                  w.nbytes() / tg / 1e9, 100 * w.nbytes() / tg / 1e9 / read_bw);
    }
  }
  return 0;
}
