// CPU kernels of the random primitives: Threefry-2x32 (20 rounds) over counters, and the
// conversions of its 32-bit words to uniform, normal and Gumbel-max categorical samples.
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "tessera/primitives/random.h"

namespace tessera {

namespace {

constexpr int kRot[8] = {13, 15, 26, 6, 17, 29, 16, 24};

inline uint32_t rotl(uint32_t v, int r) { return (v << r) | (v >> (32 - r)); }

// Hashes N counter pairs in place. Written over lanes so the compiler vectorizes it (8 lanes
// fill an AVX2 register); the rotations are compile-time constants after unrolling.
template <int N>
inline void threefry_lanes(uint32_t k0, uint32_t k1, uint32_t* x0, uint32_t* x1) {
  const uint32_t ks[3] = {k0, k1, 0x1BD11BDAu ^ k0 ^ k1};
  for (int l = 0; l < N; ++l) { x0[l] += ks[0]; x1[l] += ks[1]; }
#pragma GCC unroll 5
  for (int g = 0; g < 5; ++g) {
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      int r = kRot[(g & 1) * 4 + j];
      for (int l = 0; l < N; ++l) {
        x0[l] += x1[l];
        x1[l] = rotl(x1[l], r) ^ x0[l];
      }
    }
    uint32_t a = ks[(g + 1) % 3], b = ks[(g + 2) % 3] + uint32_t(g + 1);
    for (int l = 0; l < N; ++l) { x0[l] += a; x1[l] += b; }
  }
}

struct Key {
  uint32_t k0, k1;
};

Key read_key(const Array& key) {
  const uint32_t* k = key.data<uint32_t>();
  int64_t s = key.stride(0);
  return {k[0], k[s]};
}

// out[t] = word (start + t) of key's stream for t in [0, count): word 2b / 2b + 1 are x0 / x1 of
// the hash of block b, whose counter is (low 32 bits of b, high 32 bits of b).
void stream_words(Key key, int64_t start, int64_t count, uint32_t* out) {
  int64_t t = 0;
  auto one_block = [&](int64_t b, uint32_t& x0, uint32_t& x1) {
    x0 = uint32_t(b);
    x1 = uint32_t(uint64_t(b) >> 32);
    threefry_lanes<1>(key.k0, key.k1, &x0, &x1);
  };
  if (count > 0 && (start & 1)) {  // an odd start takes x1 of its block
    uint32_t x0, x1;
    one_block(start >> 1, x0, x1);
    out[t++] = x1;
  }
  constexpr int L = 8;
  while (count - t >= 2 * L) {
    int64_t b = (start + t) >> 1;
    uint32_t x0[L], x1[L];
    for (int l = 0; l < L; ++l) {
      x0[l] = uint32_t(b + l);
      x1[l] = uint32_t(uint64_t(b + l) >> 32);
    }
    threefry_lanes<L>(key.k0, key.k1, x0, x1);
    for (int l = 0; l < L; ++l) {
      out[t + 2 * l] = x0[l];
      out[t + 2 * l + 1] = x1[l];
    }
    t += 2 * L;
  }
  while (t < count) {
    uint32_t x0, x1;
    one_block((start + t) >> 1, x0, x1);
    out[t++] = x0;
    if (t < count) out[t++] = x1;
  }
}

// Conversions run over whole groups of 8 words (the buffers are padded) in fixed-trip loops that
// vectorize, so every element goes through the same code whatever the chunking: no scalar tail
// that could round differently.
constexpr int64_t kGroup = 8;
constexpr int64_t kChunk = 2048;  // words per conversion buffer (a multiple of kGroup)
inline int64_t round_up_group(int64_t n) { return (n + kGroup - 1) / kGroup * kGroup; }

// Runs fn(i0, n, words) over [0, total) in pool chunks; words holds the stream's words i0.. (at
// least n of them, padded to a multiple of kGroup).
template <typename F>
void for_each_words(Context& ctx, Key key, int64_t total, F&& fn) {
  ctx.pool.parallel_for(total, 1 << 14, [&](int64_t b, int64_t e) {
    alignas(32) uint32_t words[kChunk];
    for (int64_t i = b; i < e; i += kChunk) {
      int64_t n = std::min(kChunk, e - i);
      stream_words(key, i, round_up_group(n), words);
      fn(i, n, words);
    }
  });
}

// Applies f to words[0 .. round_up_group(n)) into vals, 8 at a time.
template <typename F>
inline void convert_groups(const uint32_t* words, int64_t n, float* vals, F f) {
  for (int64_t g = 0; g < n; g += kGroup)
    for (int l = 0; l < kGroup; ++l) vals[g + l] = f(words[g + l]);
}

inline float bits_to_float(uint32_t b) {
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}
inline uint32_t float_to_bits(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Cephes' logf (about 1 ulp) with musl's branch-free range reduction, so loops over it vectorize
// (std::log is a library call). x must be positive and normal, as every caller's is.
inline float log_f(float x) {
  uint32_t ix = float_to_bits(x) + (0x3f800000u - 0x3f3504f3u);  // exponent steps at sqrt(2)
  float e = float(int32_t(ix >> 23) - 127);
  float f = bits_to_float((ix & 0x007fffffu) + 0x3f3504f3u) - 1.0f, z = f * f;
  float y = 7.0376836292e-2f;
  y = y * f - 1.1514610310e-1f;
  y = y * f + 1.1676998740e-1f;
  y = y * f - 1.2420140846e-1f;
  y = y * f + 1.4249322787e-1f;
  y = y * f - 1.6668057665e-1f;
  y = y * f + 2.0000714765e-1f;
  y = y * f - 2.4999993993e-1f;
  y = y * f + 3.3333331174e-1f;
  y = y * f * z - 2.12194440e-4f * e - 0.5f * z;
  return f + y + 0.693359375f * e;
}

// sqrt by Newton's method from a bit-trick guess (relative error < 1e-7 after 3 steps): unlike
// std::sqrt it has no errno path, so it vectorizes. x must be positive.
inline float sqrt_f(float x) {
  float s = bits_to_float(0x1fbd1df5u + (float_to_bits(x) >> 1));
  for (int k = 0; k < 3; ++k) s = 0.5f * (s + x / s);
  return s;
}

// A float in [0, 1) from the top 23 bits: they become the mantissa of a float in [1, 2).
inline float unit_float(uint32_t w) {
  uint32_t bits = (w >> 9) | 0x3f800000u;
  float f;
  std::memcpy(&f, &bits, 4);
  return f - 1.0f;
}

// The midpoint (k + 0.5) / 2^23 of the k-th of 2^23 cells of (0, 1): never 0 or 1.
inline float open_unit_float(uint32_t w) { return (float(w >> 9) + 0.5f) * (1.0f / 8388608.0f); }

// Giles' single-precision inverse error function ("Approximating the erfinv function", 2010),
// the one XLA (hence JAX) uses; relative error about 1e-7 on (-1, 1). Both branches are computed
// and one picked by a bit mask, so it vectorizes.
inline float erfinv(float x) {
  float w = -log_f((1.0f - x) * (1.0f + x));
  float a = w - 2.5f, p = 2.81022636e-08f;
  p = 3.43273939e-07f + p * a;
  p = -3.5233877e-06f + p * a;
  p = -4.39150654e-06f + p * a;
  p = 0.00021858087f + p * a;
  p = -0.00125372503f + p * a;
  p = -0.00417768164f + p * a;
  p = 0.246640727f + p * a;
  p = 1.50140941f + p * a;
  float b = sqrt_f(w) - 3.0f, q = -0.000200214257f;
  q = 0.000100950558f + q * b;
  q = 0.00134934322f + q * b;
  q = -0.00367342844f + q * b;
  q = 0.00573950773f + q * b;
  q = -0.0076224613f + q * b;
  q = 0.00943887047f + q * b;
  q = 1.00167406f + q * b;
  q = 2.83297682f + q * b;
  uint32_t near = 0u - uint32_t(w < 5.0f);
  return bits_to_float((float_to_bits(p) & near) | (float_to_bits(q) & ~near)) * x;
}

// The largest value of T strictly below `high` (so casting keeps uniform draws below high).
template <typename T>
T largest_below(double high) {
  if constexpr (std::is_same_v<T, float>) {
    float h = float(high);
    return double(h) >= high ? std::nextafter(h, -std::numeric_limits<float>::infinity()) : h;
  } else {
    T v = store<T>(float(high));
    while (double(load(v)) >= high) {  // step one unit toward -inf in the 16-bit encoding
      uint16_t b = v.bits;
      if (b == 0x0000) b = 0x8001;
      else if (b & 0x8000) ++b;
      else --b;
      v.bits = b;
    }
    return v;
  }
}

}  // namespace

void Threefry::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Key key = read_key(in[0]);
  Array counts = ctx.contiguous(in[1]);
  ctx.alloc_output(out);
  const uint32_t* c = counts.data<uint32_t>();
  uint32_t* o = out.data<uint32_t>();
  ctx.pool.parallel_for(out.size() / 2, 1 << 13, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      uint32_t x0 = c[2 * i], x1 = c[2 * i + 1];
      threefry_lanes<1>(key.k0, key.k1, &x0, &x1);
      o[2 * i] = x0;
      o[2 * i + 1] = x1;
    }
  });
}

void RandomBits::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  uint32_t* o = out.data<uint32_t>();
  Key key = read_key(in[0]);
  ctx.pool.parallel_for(out.size(), 1 << 14, [&](int64_t b, int64_t e) { stream_words(key, b, e - b, o + b); });
}

void RandomUniform::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  float low = float(low_), span = float(high_ - low_);
  dispatch_float(out.dtype(), "random.uniform", [&]<typename T>() {
    T* o = out.data<T>();
    T cap = largest_below<T>(high_);
    float cap_f = float(load(cap));
    for_each_words(ctx, read_key(in[0]), out.size(), [&](int64_t i0, int64_t n, const uint32_t* w) {
      alignas(32) float vals[kChunk];
      convert_groups(w, n, vals, [=](uint32_t x) { return std::min(low + span * unit_float(x), cap_f); });
      for (int64_t t = 0; t < n; ++t) o[i0 + t] = store<T>(vals[t]);
    });
  });
}

void RandomNormal::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  float loc = float(loc_), scale = float(scale_ * M_SQRT2);
  dispatch_float(out.dtype(), "random.normal", [&]<typename T>() {
    T* o = out.data<T>();
    for_each_words(ctx, read_key(in[0]), out.size(), [&](int64_t i0, int64_t n, const uint32_t* w) {
      alignas(32) float vals[kChunk];
      convert_groups(w, n, vals, [=](uint32_t x) { return loc + scale * erfinv(2.0f * open_unit_float(x) - 1.0f); });
      for (int64_t t = 0; t < n; ++t) o[i0 + t] = store<T>(vals[t]);
    });
  });
}

void RandomCategorical::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  Array logits = ctx.contiguous(in[0]);
  Key key = read_key(in[1]);
  ctx.alloc_output(out);
  int64_t classes = logits.shape(axis_), inner = 1;
  for (int d = axis_ + 1; d < logits.ndim(); ++d) inner *= logits.shape(d);
  int64_t samples = num_samples_ >= 0 ? num_samples_ : 1;
  const float* x = logits.data<float>();
  int32_t* o = out.data<int32_t>();
  ctx.pool.parallel_for(out.size(), std::max<int64_t>(1, 4096 / classes), [&](int64_t b, int64_t e) {
    std::vector<uint32_t> words(static_cast<size_t>(round_up_group(classes)));
    std::vector<float> gumbel(words.size());
    for (int64_t i = b; i < e; ++i) {
      int64_t row = i / samples, outer = row / inner, q = row % inner;
      const float* lg = x + outer * classes * inner + q;
      stream_words(key, i * classes, int64_t(words.size()), words.data());
      convert_groups(words.data(), classes, gumbel.data(), [](uint32_t w) { return -log_f(-log_f(open_unit_float(w))); });
      float best = -std::numeric_limits<float>::infinity();
      int32_t arg = 0;
      for (int64_t j = 0; j < classes; ++j) {
        float v = lg[j * inner] + gumbel[j];
        if (v > best) {  // first maximum wins; NaN logits are never chosen
          best = v;
          arg = int32_t(j);
        }
      }
      o[i] = arg;
    }
  });
}

}  // namespace tessera
