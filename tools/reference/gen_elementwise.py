"""Fixtures for the elementwise ops: python3 tools/reference/gen_elementwise.py

Writes test/fixtures/core/elementwise.json, read by packages/core/test/elementwise.test.ts.
Expected values are NumPy's, computed in float64 from the exact (float32 / half-rounded) inputs and
rounded once to the result dtype. Where Tessera defines what NumPy leaves undefined or refuses,
the expected value follows Tessera's documented rule and the case name says so:
  - float -> int casts saturate (NaN -> 0); NumPy's result is platform-dependent there.
  - integer division and remainder by zero give 0 (NumPy: 0 with a warning); MIN // -1 wraps.
  - integer power with a negative exponent gives the truncated value (NumPy raises).
  - silu(-inf), gelu(-inf) are their limits, 0 (x * sigmoid(x) would give nan).
  - promotion follows MLX: int with float gives the float type, float16 with bfloat16 gives float32.
Each case: {name, op, inputs, attrs, expected, rtol?, atol?}; attrs.views optionally applies a view
to each input first (transpose axes, or a slice [start, stop, step]), to test strided inputs.
"""
import math
from fractions import Fraction

import numpy as np

from common import case, round_bf16, write_fixture

np.seterr(all="ignore")
rng = np.random.default_rng(20240611)
F32 = np.float32

# ---------------------------------------------------------------------------------------------
# Reference math in float64.
_erf = np.vectorize(math.erf, otypes=[np.float64])


_erfc = np.vectorize(math.erfc, otypes=[np.float64])


# Written without the cancellation of 1 + erf / 1 + tanh, which costs float64 its precision in the
# negative tail (at x = -7 the textbook forms keep ~5 digits).
def gelu_exact(x):
    with np.errstate(all="ignore"):
        r = 0.5 * x * _erfc(-x / math.sqrt(2))
    return np.where(np.isneginf(x), 0.0, r)


def gelu_tanh(x):  # 0.5 x (1 + tanh(u)) = x / (1 + e^(-2u))
    with np.errstate(all="ignore"):
        r = x / (1 + np.exp(-2 * math.sqrt(2 / math.pi) * (x + 0.044715 * x**3)))
    return np.where(np.isneginf(x), 0.0, r)


def silu(x):
    with np.errstate(all="ignore"):
        r = x / (1 + np.exp(-x))
    return np.where(np.isneginf(x), 0.0, r)


UNARY = {
    "abs": np.abs, "neg": np.negative, "sign": np.sign, "square": np.square, "exp": np.exp, "log": np.log,
    "log1p": np.log1p, "sqrt": np.sqrt, "rsqrt": lambda x: 1 / np.sqrt(x), "sin": np.sin, "cos": np.cos,
    "tanh": np.tanh, "sigmoid": lambda x: 1 / (1 + np.exp(-x)), "erf": _erf, "geluExact": gelu_exact,
    "geluTanh": gelu_tanh, "silu": silu, "relu": lambda x: np.where(np.isnan(x), x, np.maximum(x, 0)),
    "softplus": lambda x: np.logaddexp(0, x), "round": np.round, "floor": np.floor, "ceil": np.ceil,
    "reciprocal": lambda x: 1 / x, "logicalNot": np.logical_not,
}
# Input ranges where each function is interesting (and defined).
RANGES = {
    "exp": (-80, 80), "log": (1e-30, 1e30), "log1p": (-0.999, 1e6), "sqrt": (0, 1e4), "rsqrt": (1e-6, 1e4),
    "sin": (-100, 100), "cos": (-100, 100), "tanh": (-10, 10), "sigmoid": (-50, 50), "erf": (-5, 5),
    "geluExact": (-8, 8), "geluTanh": (-8, 8), "silu": (-30, 30), "softplus": (-30, 30), "reciprocal": (-50, 50),
}
LOG_SPACED = {"log", "log1p", "sqrt", "rsqrt"}
SPECIAL = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-40, 3e38], dtype=F32)


def unary_inputs(op, n=48):
    lo, hi = RANGES.get(op, (-4, 4))
    if op in LOG_SPACED:
        lo_, hi_ = max(lo, 1e-30) if op != "log1p" else 1e-6, hi
        x = np.exp(rng.uniform(math.log(lo_), math.log(hi_), n))
        if op == "log1p":
            x[: n // 3] = rng.uniform(-0.999, 0, n // 3)
            x[n // 3 : n // 2] = rng.uniform(-1e-7, 1e-7, n // 2 - n // 3)
    else:
        x = rng.uniform(lo, hi, n)
        if op in ("round", "floor", "ceil"):
            x[:8] = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.0, -3.0]
        if op in ("erf", "geluExact", "tanh", "sin"):
            x[:4] = [1e-20, -3e-8, 1e-3, -0.99]
    return x.astype(F32)


def to_f32(y):
    return np.asarray(y, dtype=np.float64).astype(F32)


def unary_cases():
    cases = []
    for op, fn in UNARY.items():
        x = unary_inputs(op)
        if op == "logicalNot":
            x[::3] = 0
            cases.append(case("logicalNot float32", op, [x.reshape(6, 8)], fn(x).reshape(6, 8)))
            xi = np.array([0, 1, -3, 0, 7], dtype=np.int32)
            cases.append(case("logicalNot int32", op, [xi], fn(xi)))
            continue
        y = to_f32(fn(x.astype(np.float64)))
        # geluTanh: float32 rounding of its argument 2u is scaled by |2u| in the negative tail.
        rtol = 2e-5 if op == "geluTanh" else 2e-6
        cases.append(case(f"{op} float32", op, [x.reshape(6, 8)], y.reshape(6, 8), rtol=rtol, atol=1e-30))
        # Special values: exact, NaN where NumPy gives NaN.
        ys = to_f32(fn(SPECIAL.astype(np.float64)))
        cases.append(case(f"{op} special values", op, [SPECIAL], ys, rtol=2e-6, atol=1e-30))
        # Halves: inputs rounded to the half type, result rounded once.
        xh = x[:16].astype(np.float16)
        cases.append(case(f"{op} float16", op, [xh], to_f32(fn(xh.astype(np.float64))).astype(np.float16), rtol=2e-3, atol=1e-7))
        xb = round_bf16(x[:16])
        yb = round_bf16(to_f32(fn(xb.astype(np.float64))))
        cases.append(case(f"{op} bfloat16", op, [xb], yb, rtol=8e-3, atol=1e-30, input_dtypes=["bfloat16"], expected_dtype="bfloat16"))
    # Integer inputs: the integer ops keep the dtype (wrapping), float math gives float32.
    xi = np.array([-128, -7, -1, 0, 1, 5, 127], dtype=np.int8)
    for op in ("abs", "neg", "sign", "square", "relu", "floor", "round"):
        fn = UNARY[op]
        cases.append(case(f"{op} int8 (wraps)", op, [xi], fn(xi).astype(np.int8)))
    xu = np.array([0, 1, 200, 255], dtype=np.uint8)
    for op in ("abs", "sign", "square", "relu", "ceil"):
        cases.append(case(f"{op} uint8", op, [xu], UNARY[op](xu).astype(np.uint8)))
    x32 = np.array([-2**31, -5, 0, 3, 46341, 2**31 - 1], dtype=np.int32)
    for op in ("abs", "neg", "square"):
        cases.append(case(f"{op} int32 (wraps)", op, [x32], UNARY[op](x32).astype(np.int32)))
    for op in ("exp", "sqrt", "sigmoid", "reciprocal"):
        xi = np.array([[0, 1, 2], [3, 4, 9]], dtype=np.int32)
        cases.append(case(f"{op} int32 -> float32", op, [xi], to_f32(UNARY[op](xi.astype(np.float64))), rtol=2e-6))
    xb = np.array([True, False, True])
    cases.append(case("abs bool", "abs", [xb], xb))
    cases.append(case("exp bool -> float32", "exp", [xb], to_f32(np.exp(xb.astype(np.float64))), rtol=2e-6))
    return cases


# ---------------------------------------------------------------------------------------------
def floor_divide(a, b):
    if np.issubdtype(a.dtype, np.integer):
        with np.errstate(all="ignore"):
            return np.floor_divide(a, b)
    return np.floor_divide(a, b)


BINARY = {
    "add": np.add, "subtract": np.subtract, "multiply": np.multiply, "divide": np.true_divide,
    "floorDivide": floor_divide, "remainder": np.remainder, "power": np.power, "maximum": np.maximum,
    "minimum": np.minimum, "equal": np.equal, "notEqual": np.not_equal, "less": np.less,
    "lessEqual": np.less_equal, "greater": np.greater, "greaterEqual": np.greater_equal,
    "logicalAnd": np.logical_and, "logicalOr": np.logical_or,
}
BROADCAST_PAIRS = [([2, 3], [3]), ([2, 1, 4], [3, 1]), ([1], [5]), ([], [2, 2]), ([4, 1], [1, 5]), ([3, 1, 1], [1, 2, 2]),
                   ([2, 0], [1]), ([5], [5])]


def binary_f32_inputs(op, sa, sb):
    a = rng.uniform(-5, 5, sa).astype(F32)
    b = rng.uniform(-5, 5, sb).astype(F32)
    if op == "power":
        a = np.abs(a) + F32(0.1)
    if op in ("equal", "notEqual", "lessEqual", "greaterEqual") and a.size and b.size:
        a.flat[0] = b.flat[0]
    if op in ("logicalAnd", "logicalOr"):
        a = np.where(rng.random(sa) < 0.5, 0, a).astype(F32)
        b = np.where(rng.random(sb) < 0.5, 0, b).astype(F32)
    return np.asarray(a, F32), np.asarray(b, F32)


def binary_cases():
    cases = []
    for k, (op, fn) in enumerate(BINARY.items()):
        for i, (sa, sb) in enumerate(BROADCAST_PAIRS):
            if i % 3 != k % 3 and i not in (0, 1):
                continue  # every op gets the two main shapes and a share of the others
            a, b = binary_f32_inputs(op, sa, sb)
            y = fn(a.astype(np.float64), b.astype(np.float64))
            y = y if y.dtype == bool else to_f32(y)
            cases.append(case(f"{op} float32 {sa} x {sb}", op, [a, b], y, rtol=2e-6, atol=1e-6))
        # Halves.
        a, b = binary_f32_inputs(op, [2, 4], [4])
        for dt, rnd, rtol in (("float16", lambda v: v.astype(np.float16), 2e-3), ("bfloat16", round_bf16, 8e-3)):
            ah, bh = rnd(a), rnd(b)
            y = fn(ah.astype(np.float64), bh.astype(np.float64))
            if y.dtype != bool:
                y = rnd(to_f32(y))
            cases.append(case(f"{op} {dt}", op, [ah, bh], y, rtol=rtol, atol=1e-3, input_dtypes=[dt, dt],
                              expected_dtype=None if y.dtype == bool else dt))
        # int32.
        ai = rng.integers(-20, 20, [3, 4]).astype(np.int32)
        bi = rng.integers(1, 6, [4]).astype(np.int32) * np.array([1, -1, 1, -1], np.int32)
        if op == "power":
            ai, bi = rng.integers(-4, 5, [3, 4]).astype(np.int32), np.array([0, 1, 2, 3], np.int32)
        y = fn(ai, bi)
        y = to_f32(fn(ai.astype(np.float64), bi.astype(np.float64))) if op == "divide" else y
        cases.append(case(f"{op} int32", op, [ai, bi], y, rtol=2e-6))
    # Strided inputs: transposed and reversed (negative stride) views.
    a = rng.uniform(-3, 3, [4, 3]).astype(F32)
    b = rng.uniform(-3, 3, [3, 4]).astype(F32)
    cases.append(case("add transposed x plain", "add", [a, b], to_f32(a.T.astype(np.float64) + b), attrs={"views": [[1, 0], None]}))
    cases.append(case("multiply transposed x transposed float16", "multiply", [a.astype(np.float16), b.T.astype(np.float16)],
                      (a.T.astype(np.float16).astype(F32) * b.astype(np.float16).astype(F32)).astype(np.float16),
                      attrs={"views": [[1, 0], [1, 0]]}, rtol=2e-3))
    c = rng.uniform(-3, 3, [3, 8]).astype(F32)
    cases.append(case("subtract reversed stepped slice", "subtract", [c, F32(1.5)], to_f32(c[:, ::-2] - 1.5),
                      attrs={"views": [{"start": [0, 7], "stop": [3, -9], "step": [1, -2]}, None]}))
    cases.append(case("exp transposed", "exp", [a], to_f32(np.exp(a.T.astype(np.float64))), attrs={"views": [[1, 0]]}, rtol=2e-6))
    cases.append(case("tanh transposed bfloat16", "tanh", [round_bf16(a)], round_bf16(to_f32(np.tanh(round_bf16(a).T.astype(np.float64)))),
                      attrs={"views": [[1, 0]]}, input_dtypes=["bfloat16"], expected_dtype="bfloat16", rtol=8e-3))
    return cases


def special_binary_cases():
    cases = []
    a = np.array([1, -1, 0, np.nan, np.inf, -np.inf, 5.5, -5.5], F32)
    z = np.zeros_like(a)
    for op in ("divide", "floorDivide", "remainder"):
        cases.append(case(f"{op} float32 by zero", op, [a, z], to_f32(BINARY[op](a.astype(np.float64), z.astype(np.float64)))))
    # NumPy's divmod-based floor division: 1 // 0.1 == 9, remainder keeps the divisor's sign.
    x = np.array([1.0, -1.0, 7.5, -7.5, 7.5, -7.5, 0.0, -4.0], F32)
    y = np.array([0.1, 0.1, 2.0, 2.0, -2.0, -2.0, -3.0, 2.0], F32)
    for op in ("floorDivide", "remainder"):
        cases.append(case(f"{op} float32 signs", op, [x, y], BINARY[op](x, y)))
    xi = np.array([7, -7, 7, -7, 0, -2**31, -2**31, 5], np.int32)
    yi = np.array([2, 2, -2, -2, 3, -1, 1, 0], np.int32)
    with np.errstate(all="ignore"):
        cases.append(case("floorDivide int32 signs, MIN // -1 wraps, by zero gives 0", "floorDivide", [xi, yi], np.floor_divide(xi, yi)))
        cases.append(case("remainder int32 signs, by zero gives 0", "remainder", [xi, yi], np.remainder(xi, yi)))
    cases.append(case("divide int32 by zero -> float32 inf/nan", "divide", [xi, yi], to_f32(xi.astype(np.float64) / yi)))
    u = np.array([250, 3, 0], np.uint8)
    cases.append(case("add uint8 wraps", "add", [u, np.array([10, 255, 0], np.uint8)], u + np.array([10, 255, 0], np.uint8)))
    cases.append(case("floorDivide uint8 by zero gives 0", "floorDivide", [u, np.array([7, 0, 0], np.uint8)], np.array([35, 0, 0], np.uint8)))
    p_base = np.array([2, 1, -1, -1, 0, 3, -2], np.int32)
    p_exp = np.array([-1, -5, -3, -2, -1, 4, 3], np.int32)
    cases.append(case("power int32 negative exponent (truncated, Tessera rule)", "power", [p_base, p_exp],
                      np.array([0, 1, -1, 1, 0, 81, -8], np.int32)))
    pf = np.array([-8.0, 0.0, 0.0, np.inf, 2.0, np.nan, 1.0], F32)
    qf = np.array([1 / 3, -1.0, 0.0, -1.0, 0.5, 0.0, np.nan], F32)
    cases.append(case("power float32 special", "power", [pf, qf], to_f32(np.power(pf.astype(np.float64), qf.astype(np.float64)))))
    m = np.array([np.nan, 1.0, -np.inf, 2.0], F32)
    n = np.array([1.0, np.nan, 3.0, np.inf], F32)
    for op in ("maximum", "minimum", "equal", "notEqual", "less", "greaterEqual", "logicalAnd", "logicalOr"):
        cases.append(case(f"{op} float32 nan/inf", op, [m, n], BINARY[op](m, n)))
    return cases


# ---------------------------------------------------------------------------------------------
DTYPES = ["bool", "uint8", "int8", "int16", "int32", "uint32", "int64", "float16", "bfloat16", "float32"]
NP = {"bool": np.bool_, "uint8": np.uint8, "int8": np.int8, "int16": np.int16, "int32": np.int32, "uint32": np.uint32,
      "int64": np.int64, "float16": np.float16, "float32": F32}
SOURCE = {
    "bool": [0, 1, 1, 0],
    "uint8": [0, 1, 7, 127, 200, 255],
    "int8": [-128, -5, -1, 0, 1, 100, 127],
    "int16": [-32768, -300, -1, 0, 2, 1000, 32767],
    "int32": [-2**31, -70000, -1, 0, 1, 300, 2049, 16842753, 2**31 - 1],
    "uint32": [0, 1, 255, 65535, 65536, 4294967295],
    "int64": [-(2**40) - 3, -1, 0, 3, 2**32 + 1, 2**40 + 2**32 + 1, 2**53 - 1],
    "float16": [-65504.0, -2.5, -1.5, -0.5, 0.0, 0.33325, 0.5, 1.5, 2.5, 127.9, 1000.0, np.inf, np.nan],
    "bfloat16": [-3.0e38, -2.5, -0.5, 0.0, 0.333984375, 1.5, 255.0, 3.0e5, np.inf, np.nan],
    "float32": [-3.0e9, -2.75, -1.5, -0.5, 0.0, 0.1, 0.5, 1.5, 2.5, 100.7, 65519.0, 65520.0, 1e6, np.inf, -np.inf, np.nan],
}


def exact_half(v, mant_bits, min_exp, max_val):
    """Correctly rounded (nearest even) conversion of an exact value to a binary float format."""
    if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
        return v
    q = Fraction(v)
    if q == 0:
        return 0.0
    sign = -1 if q < 0 else 1
    q = abs(q)
    e = math.floor(math.log2(q))
    while Fraction(2) ** e > q:
        e -= 1
    while Fraction(2) ** (e + 1) <= q:
        e += 1
    ulp = Fraction(2) ** (max(e, min_exp) - mant_bits)
    r = q / ulp
    n = math.floor(r)
    if r - n > Fraction(1, 2) or (r - n == Fraction(1, 2) and n % 2 == 1):
        n += 1
    out = float(n * ulp)
    return sign * (math.inf if out > max_val else out)


BF16_MAX = float(np.frombuffer(np.array([0x7F7F0000], np.uint32).tobytes(), np.float32)[0])


def to_dtype(values, src, dst):
    """Values of dtype src converted to dst, by Tessera's rules (NumPy's where it defines them)."""
    out = []
    for v in values:
        if dst == "bool":
            out.append(bool(v != 0) if not (isinstance(v, float) and math.isnan(v)) else True)
        elif dst in ("float32", "float16", "bfloat16"):
            if isinstance(v, float) and (math.isnan(v) or math.isinf(v)):
                out.append(v)
            elif dst == "float32":
                out.append(float(np.float32(v)) if src not in ("int64",) else exact_half(v, 23, -126, 3.4028234663852886e38))
            elif dst == "float16":
                out.append(exact_half(v, 10, -14, 65504.0))
            else:
                out.append(exact_half(v, 7, -126, BF16_MAX))
        else:
            info = np.iinfo(NP[dst])
            if isinstance(v, float):
                v = 0 if math.isnan(v) else (info.max if v >= info.max else info.min if v <= info.min else int(v))
                out.append(v)  # saturating truncation (Tessera rule)
            else:
                out.append(((int(v) - info.min) % (info.max - info.min + 1)) + info.min)  # wraps
    return out


def astype_cases():
    cases = []
    for src in DTYPES:
        vals = SOURCE[src]
        src_vals = [float(v) if src in ("float16", "bfloat16", "float32") else int(v) for v in vals]
        if src == "float16":
            src_vals = [float(np.float16(v)) for v in src_vals]
        if src == "float32":
            src_vals = [float(F32(v)) for v in src_vals]
        if src == "bfloat16":
            src_vals = [float(round_bf16(v)) for v in src_vals]
        x = np.array(src_vals, dtype=np.float64 if src in ("float16", "bfloat16") else NP[src])
        if src == "float16":
            x = x.astype(np.float16)
        for dst in DTYPES:
            y = to_dtype(src_vals, src, dst)
            yarr = np.array(y, dtype=F32 if dst in ("float16", "bfloat16") else (np.float64 if dst == "float32" else NP[dst]))
            if dst == "float16":
                yarr = yarr.astype(np.float16)
            if dst == "float32":
                yarr = yarr.astype(F32)
            cases.append(case(f"astype {src} -> {dst}", "astype", [x], yarr, attrs={"dtype": dst}, rtol=0, atol=0,
                              input_dtypes=[src], expected_dtype=dst))
    return cases


def promotion_cases():
    pairs = [("int8", "uint8", "int16"), ("uint32", "int32", "int64"), ("float16", "bfloat16", "float32"),
             ("int32", "float16", "float16"), ("bool", "int8", "int8"), ("uint8", "int16", "int16"),
             ("int64", "float32", "float32"), ("uint32", "uint8", "uint32"), ("uint8", "bfloat16", "bfloat16"),
             ("int16", "uint32", "int64"), ("bool", "float16", "float16"), ("uint8", "int32", "int32")]
    cases = []
    for da, db, dout in pairs:
        a = np.array([0, 1, 2, 100], F32)
        b = np.array([1, 3, 5, 7], F32)
        if da == "bool":
            a = np.array([0, 1, 1, 0], F32)
        exp = a + b if dout != "bool" else None
        rnd = round_bf16 if dout == "bfloat16" else (lambda v: v)
        exp_arr = rnd(np.asarray(exp, F32))
        ain = a.astype(np.bool_) if da == "bool" else a if da in ("float16", "bfloat16") else a.astype(NP[da])
        bin_ = b if db in ("float16", "bfloat16") else b.astype(NP[db])
        yarr = exp_arr.astype(np.float16) if dout == "float16" else exp_arr if dout in ("bfloat16", "float32") else exp_arr.astype(NP[dout])
        cases.append(case(f"promote {da} + {db} -> {dout}", "add", [ain, bin_], yarr, input_dtypes=[da, db], expected_dtype=dout))
    return cases


def where_clip_cases():
    cases = []
    c = rng.random([3, 1]) < 0.5
    a = rng.uniform(-2, 2, [3, 4]).astype(F32)
    b = rng.integers(-5, 5, [4]).astype(np.int32)
    cases.append(case("where bool[3,1] float32[3,4] int32[4] -> float32", "where", [c, a, b], np.where(c, a, b.astype(F32)).astype(F32)))
    ci = np.array([0, 2, 0, -1], np.int32)
    cases.append(case("where int condition", "where", [ci, np.int32(7), np.array([1, 2, 3, 4], np.int32)], np.where(ci != 0, 7, [1, 2, 3, 4]).astype(np.int32)))
    ah = a.astype(np.float16)
    cases.append(case("where float16 with nan", "where", [c, ah, np.float16(np.nan)], np.where(c, ah, np.float16(np.nan)), input_dtypes=[None, "float16", "float16"]))
    x = rng.uniform(-3, 3, [2, 5]).astype(F32)
    x[0, 0] = np.nan
    cases.append(case("clip float32 scalar bounds (nan stays)", "clip", [x, F32(-1), F32(1.5)], np.clip(x, -1, 1.5)))
    lo = np.array([-2, -1, 0, 1, 2], F32)
    cases.append(case("clip float32 broadcast bounds", "clip", [x, lo, F32(2)], np.minimum(np.maximum(x, lo), 2).astype(F32)))
    xi = np.array([-300, -5, 0, 7, 300], np.int32)
    cases.append(case("clip int32", "clip", [xi, np.int32(-10), np.int32(10)], np.clip(xi, -10, 10)))
    xb = round_bf16(x)
    cases.append(case("clip bfloat16", "clip", [xb, F32(-1), F32(1)], round_bf16(np.clip(xb, -1, 1)), input_dtypes=["bfloat16", "bfloat16", "bfloat16"], expected_dtype="bfloat16"))
    return cases


def main():
    cases = unary_cases() + binary_cases() + special_binary_cases() + astype_cases() + promotion_cases() + where_clip_cases()
    write_fixture("core/elementwise.json", {"cases": cases})


if __name__ == "__main__":
    main()
