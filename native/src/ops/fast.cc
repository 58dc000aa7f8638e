#include "tessera/ops/fast.h"

#include <cmath>

#include "tessera/ops/common.h"
#include "tessera/ops/elementwise.h"
#include "tessera/ops/layout.h"

namespace tessera {

namespace {

void check_floating(const Array& a, const char* op, const char* what) {
  if (!is_floating(a.dtype()))
    op_error(op, std::string(what) + " must be float32, float16 or bfloat16, got " + dtype_name(a.dtype()));
}

void check_rank(const Array& a, int ndim, const char* op, const char* what) {
  if (a.ndim() != ndim)
    op_error(op, std::string(what) + " must have " + std::to_string(ndim) + " dimensions, got shape " + shape_str(a.shape()));
}

// The mask input broadcast (as a view) to the scores' shape [B, Hq, L, S].
Array attention_mask(const Array& mask, const Shape& scores, const char* op) {
  if (mask.dtype() != Dtype::Bool && !is_floating(mask.dtype()))
    op_error(op, std::string("mask must be bool (true keeps) or floating (added to the scores), got ") + dtype_name(mask.dtype()));
  bool fits = mask.ndim() <= 4;
  for (int i = 0; fits && i < mask.ndim(); ++i) {
    int64_t d = mask.shape()[mask.ndim() - 1 - i];
    fits = d == 1 || d == scores[3 - i];
  }
  if (!fits)
    op_error(op, "mask of shape " + shape_str(mask.shape()) + " does not broadcast to the scores' shape " + shape_str(scores));
  return broadcast_to(mask, scores);
}

// Validates q and k (and v when given) and returns the common floating dtype.
Dtype check_attention(const Array& q, const Array& k, const Array* v, const char* op) {
  check_rank(q, 4, op, "q");
  check_rank(k, 4, op, "k");
  check_floating(q, op, "q");
  check_floating(k, op, "k");
  if (k.shape(0) != q.shape(0) || k.shape(3) != q.shape(3))
    op_error(op, "q " + shape_str(q.shape()) + " and k " + shape_str(k.shape()) + " need the same batch and head size (axes 0 and 3)");
  if (k.shape(1) == 0 || q.shape(1) % k.shape(1) != 0)
    op_error(op, "the query heads (" + std::to_string(q.shape(1)) + ") must be a multiple of the key/value heads (" +
                     std::to_string(k.shape(1)) + ")");
  Dtype dt = promote_types(q.dtype(), k.dtype());
  if (v) {
    check_rank(*v, 4, op, "v");
    check_floating(*v, op, "v");
    if (v->shape(0) != k.shape(0) || v->shape(1) != k.shape(1) || v->shape(2) != k.shape(2))
      op_error(op, "k " + shape_str(k.shape()) + " and v " + shape_str(v->shape()) + " need the same batch, heads and length (axes 0-2)");
    dt = promote_types(dt, v->dtype());
  }
  return dt;
}

Array check_param(const Array& p, int64_t size, Dtype dt, const char* op, const char* what) {
  if (p.ndim() != 1 || p.shape(0) != size)
    op_error(op, std::string(what) + " must have shape [" + std::to_string(size) + "], got " + shape_str(p.shape()));
  return astype(p, dt);
}

}  // namespace

Array scaled_dot_product_attention(const Array& q, const Array& k, const Array& v, double scale, bool causal,
                                   const std::optional<Array>& mask) {
  const char* op = "scaledDotProductAttention";
  Dtype dt = check_attention(q, k, &v, op);
  if (causal && mask) op_error(op, "give either a causal mask or a mask array, not both");
  std::vector<Array> in{astype(q, dt), astype(k, dt), astype(v, dt)};
  if (mask) in.push_back(attention_mask(*mask, {q.shape(0), q.shape(1), q.shape(2), k.shape(2)}, op));
  auto kind = causal ? AttentionMask::Causal : mask ? AttentionMask::Array : AttentionMask::None;
  return Array({q.shape(0), q.shape(1), q.shape(2), v.shape(3)}, dt,
               std::make_shared<ScaledDotProductAttention>(float(scale), kind), std::move(in));
}

Array attention_weights(const Array& q, const Array& k, double scale, bool causal, const std::optional<Array>& mask) {
  const char* op = "attentionWeights";
  Dtype dt = check_attention(q, k, nullptr, op);
  if (causal && mask) op_error(op, "give either a causal mask or a mask array, not both");
  Shape scores{q.shape(0), q.shape(1), q.shape(2), k.shape(2)};
  std::vector<Array> in{astype(q, dt), astype(k, dt)};
  if (mask) in.push_back(attention_mask(*mask, scores, op));
  auto kind = causal ? AttentionMask::Causal : mask ? AttentionMask::Array : AttentionMask::None;
  return Array(scores, dt, std::make_shared<AttentionWeights>(float(scale), kind), std::move(in));
}

Array attention_apply(const Array& w, const Array& v) {
  const char* op = "attentionApply";
  check_rank(w, 4, op, "weights");
  check_rank(v, 4, op, "v");
  check_floating(w, op, "weights");
  check_floating(v, op, "v");
  if (v.shape(0) != w.shape(0) || v.shape(2) != w.shape(3) || v.shape(1) == 0 || w.shape(1) % v.shape(1) != 0)
    op_error(op, "weights " + shape_str(w.shape()) + " do not match v " + shape_str(v.shape()));
  Dtype dt = promote_types(w.dtype(), v.dtype());
  return Array({w.shape(0), w.shape(1), w.shape(2), v.shape(3)}, dt, std::make_shared<AttentionApply>(),
               {astype(w, dt), astype(v, dt)});
}

Array rms_norm(const Array& x, const std::optional<Array>& weight, double eps) {
  const char* op = "rmsNorm";
  check_floating(x, op, "x");
  if (x.ndim() == 0) op_error(op, "x must have at least one dimension");
  Dtype dt = weight ? promote_types(x.dtype(), weight->dtype()) : x.dtype();
  std::vector<Array> in{astype(x, dt)};
  if (weight) in.push_back(check_param(*weight, x.shape(-1), dt, op, "weight"));
  return Array(x.shape(), dt, std::make_shared<RMSNorm>(float(eps), bool(weight)), std::move(in));
}

Array layer_norm(const Array& x, const std::optional<Array>& weight, const std::optional<Array>& bias, double eps) {
  const char* op = "layerNorm";
  check_floating(x, op, "x");
  if (x.ndim() == 0) op_error(op, "x must have at least one dimension");
  Dtype dt = x.dtype();
  if (weight) dt = promote_types(dt, weight->dtype());
  if (bias) dt = promote_types(dt, bias->dtype());
  std::vector<Array> in{astype(x, dt)};
  if (weight) in.push_back(check_param(*weight, x.shape(-1), dt, op, "weight"));
  if (bias) in.push_back(check_param(*bias, x.shape(-1), dt, op, "bias"));
  return Array(x.shape(), dt, std::make_shared<LayerNorm>(float(eps), bool(weight), bool(bias)), std::move(in));
}

Array group_norm(const Array& x, int64_t groups, const std::optional<Array>& weight, const std::optional<Array>& bias,
                 double eps) {
  const char* op = "groupNorm";
  check_floating(x, op, "x");
  if (x.ndim() < 2) op_error(op, "x must be [N, ..., C] (at least 2 dimensions), got " + shape_str(x.shape()));
  int64_t c = x.shape(-1);
  if (groups <= 0 || c % groups != 0)
    op_error(op, "the channels (" + std::to_string(c) + ") must be a positive multiple of groups (" + std::to_string(groups) + ")");
  Dtype dt = x.dtype();
  if (weight) dt = promote_types(dt, weight->dtype());
  if (bias) dt = promote_types(dt, bias->dtype());
  std::vector<Array> in{astype(x, dt)};
  if (weight) in.push_back(check_param(*weight, c, dt, op, "weight"));
  if (bias) in.push_back(check_param(*bias, c, dt, op, "bias"));
  return Array(x.shape(), dt, std::make_shared<GroupNorm>(groups, float(eps), bool(weight), bool(bias)), std::move(in));
}

Array rope(const Array& x, int64_t dims, const RopeOptions& o) {
  const char* op = "rope";
  check_floating(x, op, "x");
  if (x.ndim() < 2) op_error(op, "x must be [..., L, D] (at least 2 dimensions), got " + shape_str(x.shape()));
  if (dims <= 0 || dims % 2 != 0 || dims > x.shape(-1))
    op_error(op, "dims must be even and in [2, " + std::to_string(x.shape(-1)) + "] for x " + shape_str(x.shape()) +
                     ", got " + std::to_string(dims));
  if (o.offset < 0) op_error(op, "offset must be >= 0, got " + std::to_string(o.offset));
  if (!o.inv_freq.empty() && int64_t(o.inv_freq.size()) != dims / 2)
    op_error(op, "expected " + std::to_string(dims / 2) + " inverse frequencies, got " + std::to_string(o.inv_freq.size()));
  if (!(o.base > 0) && o.inv_freq.empty() && !o.freqs) op_error(op, "base must be > 0, got " + std::to_string(o.base));
  std::vector<Array> in{x};
  if (o.freqs) {
    if (o.freqs->ndim() != 1 || o.freqs->shape(0) != dims / 2)
      op_error(op, "freqs must have shape [" + std::to_string(dims / 2) + "] (dims / 2), got " + shape_str(o.freqs->shape()));
    in.push_back(astype(*o.freqs, Dtype::Float32));
  }
  return Array(x.shape(), x.dtype(),
               std::make_shared<RoPE>(dims, o.traditional, float(o.base), float(o.scale), o.offset, float(o.mscale),
                                      o.inv_freq, bool(o.freqs)),
               std::move(in));
}

}  // namespace tessera
