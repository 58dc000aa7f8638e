// Complex FFT plans of any length: mixed radix 4/2/3/5 (Stockham autosort, FFTPACK-style passes)
// with a direct butterfly for other small primes and Bluestein's chirp-z for lengths with a large
// prime factor. Twiddles are computed in double and stored as float.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

namespace tessera::cpu {

struct cpx {
  float re, im;
};

// e^{-2 pi i turns}, computed in double; values that are zero in exact arithmetic (cos and sin at
// multiples of a quarter turn) come out exactly zero, as in NumPy.
cpx unit_root(double turns);

class FftPlan {
 public:
  explicit FftPlan(int64_t n);  // n >= 1
  int64_t size() const { return n_; }
  // Complex values the caller provides as scratch to forward().
  int64_t scratch_size() const;
  // In-place forward transform X[k] = sum_j x[j] e^{-2 pi i jk/n} (unnormalized).
  void forward(cpx* data, cpx* scratch) const;

 private:
  struct Pass {
    int radix;
    int64_t l1, ido;
    int64_t twiddle_offset;  // into twiddles_: (radix - 1) * ido values
    int64_t roots_offset;    // into roots_ for the generic butterfly, else -1
  };
  void run_pass(const Pass& p, const cpx* cc, cpx* ch) const;
  void bluestein(cpx* data, cpx* scratch) const;

  int64_t n_;
  std::vector<Pass> passes_;
  std::vector<cpx> twiddles_, roots_;
  // Bluestein: chirp w_k = e^{-i pi k^2 / n}, the FFT of the chirp filter scaled by 1/m, and the
  // power-of-two plan of length m >= 2n - 1 the convolution runs on.
  std::vector<cpx> chirp_, filter_;
  std::unique_ptr<FftPlan> conv_;
};

}  // namespace tessera::cpu
