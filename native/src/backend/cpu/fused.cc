// CPU kernel of Fused: each block of output elements runs through every step in float32 tiles small
// enough to stay in L1, using the same contiguous kernels as the unfused ops (so float32 results
// match them bit for bit), with half results rounded after each step as the unfused ops round them.
#include <algorithm>
#include <cstring>
#include <memory>

#include "backend/cpu/elementwise_kernels.h"
#include "backend/cpu/strided.h"
#include "tessera/compile.h"

namespace tessera {

namespace {

constexpr int64_t kBlock = 2048;  // elements per tile: 8 KiB, a few tiles fit L1

// Reads a (broadcast, strided, any dtype) input in output order, continuing where it stopped.
class Cursor {
 public:
  Cursor(const Array& a, const Shape& out_shape) : a_(a) {
    Strides bs(out_shape.size(), 0);
    size_t lead = out_shape.size() - size_t(a.ndim());
    for (int i = 0; i < a.ndim(); ++i) bs[lead + i] = a.shape()[i] == 1 ? 0 : a.strides()[i];
    plan_ = cpu::collapse<2>(out_shape, {row_major_strides(out_shape), bs});
    idx_.assign(plan_.shape.size(), 0);
  }
  void seek(int64_t pos) {
    off_ = 0;
    for (int i = int(plan_.shape.size()) - 1; i >= 0; --i) {
      idx_[i] = pos % plan_.shape[i];
      pos /= plan_.shape[i];
      off_ += idx_[i] * plan_.strides[1][i];
    }
  }
  // Converts the next n elements to float32 into dst.
  void read(float* dst, int64_t n) {
    dispatch_all(a_.dtype(), [&]<typename T>() { read_as<T>(dst, n); });
  }

 private:
  template <typename T>
  void read_as(float* dst, int64_t n) {
    const T* src = a_.data<T>();
    const int last = int(plan_.shape.size()) - 1;
    const int64_t inner = plan_.shape[last], st = plan_.strides[1][last];
    while (n > 0) {
      int64_t len = std::min(n, inner - idx_[last]);
      const T* s = src + off_;
      if (st == 1) for (int64_t k = 0; k < len; ++k) dst[k] = float(load(s[k]));
      else if (st == 0) std::fill(dst, dst + len, float(load(s[0])));
      else for (int64_t k = 0; k < len; ++k) dst[k] = float(load(s[k * st]));
      dst += len;
      n -= len;
      off_ += len * st;
      idx_[last] += len;
      for (int i = last; i > 0 && idx_[i] == plan_.shape[i]; --i) {  // carry into outer dims
        off_ -= plan_.shape[i] * plan_.strides[1][i];
        idx_[i] = 0;
        off_ += plan_.strides[1][i - 1];
        ++idx_[i - 1];
      }
    }
  }
  const Array& a_;
  cpu::StridedPlan<2> plan_;
  std::vector<int64_t> idx_;
  int64_t off_ = 0;
};

void round_to(Dtype dt, float* x, int64_t n) {
  if (dt == Dtype::Float16)
    for (int64_t i = 0; i < n; ++i) x[i] = half_to_float(float_to_half(x[i]));
  else if (dt == Dtype::BFloat16)
    for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_float(float_to_bf16(x[i]));
}

// How an input is read: straight from its buffer, as one value, or gathered into a tile per block.
enum class Mode : uint8_t { Direct, Scalar, Gather };

}  // namespace

void Fused::eval_cpu(const std::vector<Array>& in, Array& out, Context& ctx) {
  ctx.alloc_output(out);
  const int64_t n = out.size();
  if (n == 0) return;
  const int n_in = n_inputs_;
  std::vector<Mode> mode(n_in);
  for (int i = 0; i < n_in; ++i) {
    const Array& a = in[i];
    if (a.size() == 1) mode[i] = Mode::Scalar;
    else if (a.dtype() == Dtype::Float32 && a.size() == n && a.row_contiguous()) mode[i] = Mode::Direct;
    else mode[i] = Mode::Gather;
  }
  const bool direct_out = out.dtype() == Dtype::Float32;
  const int n_tiles = n_in + n_slots_ + 1;  // inputs, step slots, and the result when it is a half
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  const int64_t tile_len = std::min(kBlock, n);  // small outputs need small tiles

  ctx.pool.parallel_for(blocks, n <= (1 << 14) ? blocks : 1, [&](int64_t b0, int64_t b1) {
    std::unique_ptr<float[]> mem(new float[size_t(n_tiles) * size_t(tile_len)]);
    auto tile = [&](int t) { return mem.get() + int64_t(t) * tile_len; };
    std::vector<std::unique_ptr<Cursor>> cursors(n_in);
    for (int i = 0; i < n_in; ++i) {
      if (mode[i] == Mode::Scalar) {
        float v = dispatch_all(in[i].dtype(), [&]<typename T>() { return float(load(in[i].data<T>()[0])); });
        std::fill(tile(i), tile(i) + tile_len, v);
      } else if (mode[i] == Mode::Gather) {
        cursors[i] = std::make_unique<Cursor>(in[i], out.shape());
        cursors[i]->seek(b0 * kBlock);
      }
    }
    struct Operand {
      const float* p;
      int64_t stride;
    };
    std::vector<Operand> vals(n_in + steps_.size());
    for (int64_t blk = b0; blk < b1; ++blk) {
      const int64_t start = blk * kBlock, len = std::min(kBlock, n - start);
      for (int i = 0; i < n_in; ++i) {
        switch (mode[i]) {
          case Mode::Direct: vals[i] = {in[i].data<float>() + start, 1}; break;
          case Mode::Scalar: vals[i] = {tile(i), 0}; break;  // the tile is filled, so unary ops may read it whole
          case Mode::Gather: cursors[i]->read(tile(i), len); vals[i] = {tile(i), 1}; break;
        }
      }
      for (size_t k = 0; k < steps_.size(); ++k) {
        const FusedStep& s = steps_[k];
        float* dst = s.slot >= 0 ? tile(n_in + s.slot) : direct_out ? out.data<float>() + start : tile(n_tiles - 1);
        const Operand& a = vals[s.a];
        switch (s.kind) {
          case FusedStep::Kind::Unary: cpu::unary_f32(UnaryOp(s.op), a.p, dst, len); break;
          case FusedStep::Kind::Binary: {
            const Operand& b = vals[s.b];
            cpu::binary_f32(BinaryOp(s.op), a.p, a.stride, b.p, b.stride, dst, len);
            break;
          }
          case FusedStep::Kind::Cast:
            if (a.stride == 0) std::fill(dst, dst + len, a.p[0]);
            else if (dst != a.p) std::memcpy(dst, a.p, size_t(len) * sizeof(float));
            break;
        }
        round_to(s.dtype, dst, len);
        vals[n_in + k] = {dst, 1};
      }
      if (!direct_out) {
        const float* r = tile(n_tiles - 1);
        dispatch_float(out.dtype(), "Fused", [&]<typename T>() {
          T* o = out.data<T>() + start;
          for (int64_t i = 0; i < len; ++i) o[i] = store<T>(r[i]);
        });
      }
    }
  });
}

}  // namespace tessera
