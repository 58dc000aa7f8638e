// Random ops (counter-based; see primitives/random.h for the stream every draw reads).
#pragma once
#include "tessera/array.h"

namespace tessera {

// Threefry-2x32 (20 rounds) of explicit counters: key uint32 [2], counts uint32 [..., 2].
Array threefry2x32(const Array& key, const Array& counts);
// uint32 words of key's stream, shaped `shape` (split(key, n) is random_bits({n, 2}, key)).
Array random_bits(const Shape& shape, const Array& key);
// Uniform in [low, high), `dtype` floating.
Array random_uniform(const Shape& shape, double low, double high, Dtype dtype, const Array& key);
// Normal with mean `loc` and standard deviation `scale`, `dtype` floating.
Array random_normal(const Shape& shape, double loc, double scale, Dtype dtype, const Array& key);
// int32 class indices sampled from softmax(logits) along `axis`; num_samples < 0 means one sample
// and no samples axis.
Array random_categorical(const Array& logits, int64_t axis, int64_t num_samples, const Array& key);

}  // namespace tessera
