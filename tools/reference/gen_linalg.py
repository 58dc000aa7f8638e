"""Fixtures for matmul, conv1d/conv2d, avgPool2d and upsampleNearest: test/fixtures/core/linalg.json.

References are NumPy: np.matmul for matmul, and for the convolutions the textbook definition in
PyTorch's layout (NCHW input, weight [Cout, Cin / groups, KH, KW], cross-correlation), written with
explicit loops over the kernel taps and einsum over channels. Our channels-last weights are the
PyTorch ones transposed: [Cout, KH, KW, Cin / groups] = w_torch.transpose(0, 2, 3, 1) (conv1d:
[Cout, K, Cin / groups] = w_torch.transpose(0, 2, 1)).

Inputs are multiples of 1/8 in [-2, 2] so every product and short sum is exact (small JSON, tight
tolerances); half cases round the expected values to the half dtype.
"""
import numpy as np

from common import case, round_bf16, write_fixture

rng = np.random.default_rng(7)


def q(*shape):
    return rng.integers(-16, 17, size=shape).astype(np.float32) / 8


def conv2d_torch(x_nchw, w_oihw, stride, pad, dil, groups):
    """PyTorch conv2d semantics: pad = ((top, bottom), (left, right))."""
    n, cin, h, w = x_nchw.shape
    cout, cg, kh, kw = w_oihw.shape
    xp = np.pad(x_nchw.astype(np.float64), ((0, 0), (0, 0), pad[0], pad[1]))
    ho = (xp.shape[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (xp.shape[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, cout, ho, wo))
    og = cout // groups
    for g in range(groups):
        wg = w_oihw[g * og:(g + 1) * og].astype(np.float64)
        for i in range(kh):
            for j in range(kw):
                r0, c0 = i * dil[0], j * dil[1]
                patch = xp[:, g * cg:(g + 1) * cg, r0:r0 + stride[0] * (ho - 1) + 1:stride[0],
                           c0:c0 + stride[1] * (wo - 1) + 1:stride[1]]
                out[:, g * og:(g + 1) * og] += np.einsum("nchw,oc->nohw", patch, wg[:, :, i, j])
    return out


def conv2d_nhwc(x, w, stride=(1, 1), pad=((0, 0), (0, 0)), dil=(1, 1), groups=1):
    """Channels-last wrapper: x [N, H, W, Cin], w [Cout, KH, KW, Cin / groups]."""
    out = conv2d_torch(x.transpose(0, 3, 1, 2), w.transpose(0, 3, 1, 2), stride, pad, dil, groups)
    return out.transpose(0, 2, 3, 1)


def matmul_cases():
    cases = []
    for m, n, k in [(1, 1, 1), (2, 3, 4), (7, 17, 33), (6, 16, 8), (13, 5, 19), (17, 33, 7)]:
        a, b = q(m, k), q(k, n)
        cases.append(case(f"matmul {m}x{k} @ {k}x{n}", "matmul", [a, b], a @ b))
    a, b = q(9, 12), q(12, 20)
    cases.append(case("matmul a transposed", "matmul", [a.T.copy(), b], a @ b, attrs={"transpose": [True, False]}))
    cases.append(case("matmul b transposed", "matmul", [a, b.T.copy()], a @ b, attrs={"transpose": [False, True]}))
    cases.append(case("matmul both transposed", "matmul", [a.T.copy(), b.T.copy()], a @ b, attrs={"transpose": [True, True]}))
    v, m2 = q(12), q(12, 5)
    cases.append(case("matmul 1-D @ 2-D", "matmul", [v, m2], v @ m2))
    cases.append(case("matmul 2-D @ 1-D", "matmul", [m2.T.copy(), v], m2.T @ v))
    cases.append(case("matmul 1-D @ 1-D", "matmul", [v, v], np.float32(v @ v).reshape(())))
    bv = q(3, 2, 12)
    cases.append(case("matmul 3-D @ 1-D", "matmul", [bv, v], bv @ v))
    b3 = q(3, 12, 4)
    cases.append(case("matmul 1-D @ 3-D", "matmul", [v, b3], v @ b3))
    for sa, sb in [((2, 3, 4), (2, 4, 5)), ((3, 4), (2, 4, 5)), ((2, 1, 3, 4), (3, 4, 2)), ((4, 3, 4), (4, 2)),
                   ((2, 1, 5, 3), (1, 4, 3, 6))]:
        a, b = q(*sa), q(*sb)
        cases.append(case(f"matmul batched {sa} @ {sb}", "matmul", [a, b], a @ b))
    # Halves: inputs exact in the half type, expected rounded once from the float64 product.
    a, b = q(7, 20), q(20, 9)
    exact = a.astype(np.float64) @ b
    cases.append(case("matmul float16", "matmul", [a, b], exact.astype(np.float16), input_dtypes=["float16", "float16"],
                      expected_dtype="float16", rtol=1e-3, atol=1e-3))
    cases.append(case("matmul bfloat16", "matmul", [a, b], round_bf16(exact), input_dtypes=["bfloat16", "bfloat16"],
                      expected_dtype="bfloat16", rtol=1e-2, atol=1e-2))
    cases.append(case("matmul float16 @ bfloat16 -> float32", "matmul", [a, b], exact,
                      input_dtypes=["float16", "bfloat16"]))
    cases.append(case("matmul float16 @ float32 -> float32", "matmul", [a, b], exact, input_dtypes=["float16", None]))
    bh = q(2, 6, 20)
    cases.append(case("matmul bfloat16 batched, b transposed", "matmul", [bh, b.T.copy()], round_bf16(bh.astype(np.float64) @ b),
                      attrs={"transpose": [False, True]}, input_dtypes=["bfloat16", "bfloat16"], expected_dtype="bfloat16",
                      rtol=1e-2, atol=1e-2))
    # Integers: exact, with NumPy's fixed-width wraparound.
    ia, ib = rng.integers(-9, 10, (5, 7)).astype(np.int32), rng.integers(-9, 10, (7, 3)).astype(np.int32)
    cases.append(case("matmul int32", "matmul", [ia, ib], ia @ ib))
    cases.append(case("matmul int32 @ float32 -> float32", "matmul", [ia, ib.astype(np.float32)], (ia @ ib).astype(np.float32)))
    wa, wb = np.array([[100, 100]], np.int8), np.array([[2], [1]], np.int8)
    cases.append(case("matmul int8 wraps", "matmul", [wa, wb], wa @ wb))
    ba, bb = rng.random((3, 4)) > 0.6, rng.random((4, 2)) > 0.6
    cases.append(case("matmul bool", "matmul", [ba, bb], ba @ bb))
    cases.append(case("matmul K = 0", "matmul", [np.zeros((3, 0), np.float32), np.zeros((0, 2), np.float32)],
                      np.zeros((3, 2), np.float32)))
    return cases


def conv_cases():
    cases = []
    specs2d = [
        # name, x shape, w shape, stride, pad ((t, b), (l, r)), dilation, groups
        ("3x3", (1, 5, 6, 3), (4, 3, 3, 3), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
        ("3x3 padded", (2, 5, 5, 2), (3, 3, 3, 2), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
        ("stride 2", (1, 7, 8, 3), (5, 3, 3, 3), (2, 2), ((1, 1), (1, 1)), (1, 1), 1),
        ("per-dim stride/padding", (1, 6, 7, 2), (3, 2, 3, 2), (2, 1), ((0, 0), (2, 2)), (1, 1), 1),
        ("asymmetric padding", (1, 5, 5, 2), (2, 2, 2, 2), (1, 1), ((0, 1), (1, 0)), (1, 1), 1),
        ("dilation 2", (1, 7, 7, 2), (3, 3, 3, 2), (1, 1), ((2, 2), (2, 2)), (2, 2), 1),
        ("1x1", (2, 4, 3, 5), (6, 1, 1, 5), (1, 1), ((0, 0), (0, 0)), (1, 1), 1),
        ("1x1 stride 2", (1, 5, 5, 4), (3, 1, 1, 4), (2, 2), ((0, 0), (0, 0)), (1, 1), 1),
        ("groups 2", (1, 5, 5, 4), (6, 3, 3, 2), (1, 1), ((1, 1), (1, 1)), (1, 1), 2),
        ("1x1 groups 3", (1, 3, 4, 6), (9, 1, 1, 2), (1, 1), ((0, 0), (0, 0)), (1, 1), 3),
        ("depthwise", (2, 6, 5, 4), (4, 3, 3, 1), (1, 1), ((1, 1), (1, 1)), (1, 1), 4),
        ("depthwise multiplier 2, stride 2", (1, 7, 6, 3), (6, 3, 3, 1), (2, 2), ((1, 1), (1, 1)), (1, 1), 3),
        ("17 output channels", (1, 4, 4, 3), (17, 3, 3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1), 1),
    ]
    for name, xs, ws, st, pad, dil, g in specs2d:
        x, w = q(*xs), q(*ws)
        attrs = {"stride": list(st), "padding": [list(pad[0]), list(pad[1])], "dilation": list(dil), "groups": g}
        cases.append(case(f"conv2d {name}", "conv2d", [x, w], conv2d_nhwc(x, w, st, pad, dil, g), attrs=attrs))
    x, w = q(1, 5, 5, 3), q(4, 3, 3, 3)
    ref = conv2d_nhwc(x, w, (1, 1), ((1, 1), (1, 1)))
    cases.append(case("conv2d float16", "conv2d", [x, w], ref.astype(np.float16), attrs={"padding": 1},
                      input_dtypes=["float16", "float16"], expected_dtype="float16", rtol=1e-3, atol=1e-3))
    cases.append(case("conv2d bfloat16", "conv2d", [x, w], round_bf16(ref), attrs={"padding": 1},
                      input_dtypes=["bfloat16", "bfloat16"], expected_dtype="bfloat16", rtol=1e-2, atol=1e-2))
    specs1d = [
        ("k3", (2, 9, 3), (4, 3, 3), 1, (0, 0), 1, 1),
        ("padded, stride 2", (1, 10, 2), (3, 3, 2), 2, (1, 1), 1, 1),
        ("dilation 2 (whisper-like k3 p1)", (1, 8, 4), (5, 3, 4), 1, (2, 2), 2, 1),
        ("depthwise", (1, 7, 3), (3, 4, 1), 1, (2, 1), 1, 3),
        ("groups 2", (1, 6, 4), (4, 2, 2), 1, (0, 0), 1, 2),
    ]
    for name, xs, ws, st, pad, dil, g in specs1d:
        x, w = q(*xs), q(*ws)
        ref = conv2d_nhwc(x[:, None], w[:, None], (1, st), ((0, 0), pad), (1, dil), g)[:, 0]
        attrs = {"stride": st, "padding": list(pad), "dilation": dil, "groups": g}
        cases.append(case(f"conv1d {name}", "conv1d", [x, w], ref, attrs=attrs))
    return cases


def pool_cases():
    cases = []
    for name, xs, k, st, pad in [("2x2", (1, 4, 6, 3), (2, 2), None, (0, 0)), ("3x3 stride 2 pad 1", (2, 7, 6, 2), (3, 3), (2, 2), (1, 1)),
                                 ("3x2 stride 1", (1, 5, 5, 2), (3, 2), (1, 1), (1, 0)), ("odd size floor", (1, 5, 5, 1), (2, 2), None, (0, 0))]:
        x = q(*xs)
        s = st or k
        xp = np.pad(x.astype(np.float64), ((0, 0), (pad[0], pad[0]), (pad[1], pad[1]), (0, 0)))
        ho, wo = (xp.shape[1] - k[0]) // s[0] + 1, (xp.shape[2] - k[1]) // s[1] + 1
        out = np.zeros((xs[0], ho, wo, xs[3]))
        for i in range(ho):
            for j in range(wo):
                out[:, i, j] = xp[:, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]].sum(axis=(1, 2)) / (k[0] * k[1])
        attrs = {"kernel": list(k), "padding": list(pad)}
        if st:
            attrs["stride"] = list(st)
        cases.append(case(f"avgPool2d {name}", "avgPool2d", [x], out, attrs=attrs))
    x = q(2, 2, 3, 2)
    cases.append(case("upsampleNearest 2", "upsampleNearest", [x], x.repeat(2, 1).repeat(2, 2), attrs={"scale": 2}))
    cases.append(case("upsampleNearest [3, 1]", "upsampleNearest", [x], x.repeat(3, 1), attrs={"scale": [3, 1]}))
    cases.append(case("upsampleNearest float16", "upsampleNearest", [x], x.repeat(2, 1).repeat(2, 2).astype(np.float16),
                      attrs={"scale": 2}, input_dtypes=["float16"], expected_dtype="float16"))
    return cases


if __name__ == "__main__":
    write_fixture("core/linalg.json", {"cases": matmul_cases() + conv_cases() + pool_cases()})
