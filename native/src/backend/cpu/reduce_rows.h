// Contiguous float32 row kernels shared by the reductions and softmax (AVX2 with a portable fallback).
#pragma once
#include <cstdint>

namespace tessera::cpu {

float row_sum_f32(const float* x, int64_t n);
// NaN if any element is NaN (as NumPy's max/min); -inf / +inf for an empty row.
float row_max_f32(const float* x, int64_t n);
float row_min_f32(const float* x, int64_t n);
// sum((x[i] - mean)^2).
float row_sqdev_sum_f32(const float* x, float mean, int64_t n);
// sum(exp(x[i] - m)) for a finite m; also stores exp(x[i] - m) to out[i] when out is not null.
// `prefetch`, when given, is the next row (n floats): it is pulled into cache while exp computes,
// so the next row's memory reads overlap this row's arithmetic.
float row_exp_sum_f32(const float* x, float m, float* out, int64_t n, const float* prefetch = nullptr);
// x[i] *= s.
void row_scale_f32(float* x, float s, int64_t n);

}  // namespace tessera::cpu
