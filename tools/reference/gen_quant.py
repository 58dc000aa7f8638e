"""MLX affine quantization fixtures: packed weights, scales, biases, dequantized values and
quantized_matmul outputs from MLX itself (`pip install mlx mlx-cpu`; runs on Linux with the CPU backend).

Arrays are stored as base64 of their little-endian bytes ({shape, dtype, b64}) so values compare bit
for bit and the file stays small. Writes test/fixtures/core/quant.json.
"""
import base64

import mlx.core as mx
import numpy as np

from common import write_fixture

mx.set_default_device(mx.cpu)
rng = np.random.default_rng(1234)


def enc(a, dtype=None):
    """{shape, dtype, b64}; bfloat16 goes as its raw uint16 bits."""
    a = mx.array(a) if not isinstance(a, mx.array) else a
    name = dtype or str(a.dtype).replace("mlx.core.", "")
    if name == "bfloat16":
        raw = np.array(a.view(mx.uint16))
    else:
        raw = np.array(a)
    return {"shape": list(a.shape), "dtype": name, "b64": base64.b64encode(np.ascontiguousarray(raw).tobytes()).decode()}


def weights(n, k):
    """Random normal rows plus rows that hit the quantizer's edge cases."""
    w = rng.standard_normal((n, k)).astype(np.float32) * 0.05
    w[0] = 0.0                                   # all zero: scale eps, bias 0
    w[1] = 0.5                                   # constant
    w[2] = -np.abs(w[2]) - 0.01                  # negative-dominated: the min is the edge
    w[3] = np.linspace(-1.0, 3.0, k)             # ramp, positive-dominated
    w[4, : k // 2] = np.round(w[4, : k // 2] * 64) / 64  # coarse values with exact ties
    return w


cases = []
N, K = 5, 128
for bits in (2, 3, 4, 5, 6, 8):
    for gs in (32, 64, 128):
        w = mx.array(weights(N, K))
        wq, s, b = mx.quantize(w, group_size=gs, bits=bits)
        deq = mx.dequantize(wq, s, b, group_size=gs, bits=bits)
        mms = []
        for m in (1, 5):
            x = mx.array(rng.standard_normal((m, K)).astype(np.float32))
            y = mx.quantized_matmul(x, wq, s, b, transpose=True, group_size=gs, bits=bits)
            mms.append({"transpose": True, "x": enc(x), "y": enc(y)})
        for m in (3,):
            x = mx.array(rng.standard_normal((m, N)).astype(np.float32))
            y = mx.quantized_matmul(x, wq, s, b, transpose=False, group_size=gs, bits=bits)
            mms.append({"transpose": False, "x": enc(x), "y": enc(y)})
        cases.append({"bits": bits, "group_size": gs, "w": enc(w), "weight": enc(wq), "scales": enc(s),
                      "biases": enc(b), "dequantized": enc(deq), "matmuls": mms})

# Half-precision weights: scales and biases in the weights' dtype, dequantized in that dtype.
for dt, name in ((mx.float16, "float16"), (mx.bfloat16, "bfloat16")):
    for bits, gs in ((4, 64), (3, 32), (8, 128)):
        w = mx.array(weights(N, K)).astype(dt)
        wq, s, b = mx.quantize(w, group_size=gs, bits=bits)
        deq = mx.dequantize(wq, s, b, group_size=gs, bits=bits)
        x = mx.array(rng.standard_normal((2, K)).astype(np.float32)).astype(dt)
        y = mx.quantized_matmul(x, wq, s, b, transpose=True, group_size=gs, bits=bits)
        cases.append({"bits": bits, "group_size": gs, "w": enc(w, name), "weight": enc(wq), "scales": enc(s, name),
                      "biases": enc(b, name), "dequantized": enc(deq, name),
                      "matmuls": [{"transpose": True, "x": enc(x, name), "y": enc(y, name)}]})

write_fixture("core/quant.json", {"mlx_version": mx.__version__, "cases": cases})
