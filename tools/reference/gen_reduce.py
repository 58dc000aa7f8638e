"""Fixtures for reductions, softmax, cumsum and sorting: NumPy results, with our dtype rules applied
(sum/prod of small ints in int32, halves accumulated in float64 here and rounded to their dtype)."""
import warnings

import numpy as np

from common import case, round_bf16, write_fixture

warnings.simplefilter("ignore", RuntimeWarning)  # empty means, NaN rows: intended
rng = np.random.default_rng(7)
FLOAT_TOL = {"float32": (2e-5, 1e-6), "float16": (2e-3, 1e-3), "bfloat16": (1.6e-2, 1e-2)}


def make(shape, dtype):
    # Multiples of 1/64 keep the JSON short; ties still occur rarely enough not to matter.
    v = np.round(rng.normal(size=shape) * 64) / 64
    if dtype == "float32":
        return v.astype(np.float32)
    if dtype == "float16":
        return v.astype(np.float16)
    if dtype == "bfloat16":
        return round_bf16(v)
    if dtype == "bool":
        return rng.integers(0, 2, size=shape).astype(bool)
    lo = 0 if dtype.startswith("u") else -3
    return rng.integers(lo, 4, size=shape).astype(dtype)


def is_float(dt):
    return dt in FLOAT_TOL


def sum_dtype(dt):
    return dt if is_float(dt) or dt in ("int64", "uint32") else "int32"


def cast(y, dt):
    """Rounds a float64 result to our dtype `dt` (bf16 carried as float32)."""
    if dt == "bfloat16":
        return round_bf16(np.asarray(y, np.float32))
    return np.asarray(y).astype(dt)


def lse(x, axis, keepdims):
    m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):
        r = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return r if keepdims else np.squeeze(r, axis=axis if axis is not None else tuple(range(x.ndim)))


def expected(op, x, dt, at):
    """(result, dtype name) of `op` on x (already transposed) of our dtype dt."""
    ax = at.get("axis")
    axis = tuple(ax) if isinstance(ax, list) else ax
    kd = at.get("keepdims", False)
    f = x.astype(np.float64)
    fdt = dt if is_float(dt) else "float32"
    if op in ("sum", "prod"):
        fn = np.sum if op == "sum" else np.prod
        out = sum_dtype(dt)
        if is_float(dt):
            return cast(fn(f, axis=axis, keepdims=kd), out), out
        return fn(x, axis=axis, keepdims=kd, dtype=out), out
    if op in ("max", "min"):
        return (np.max if op == "max" else np.min)(x, axis=axis, keepdims=kd), dt
    if op == "mean":
        with np.errstate(invalid="ignore"):
            return cast(np.mean(f, axis=axis, keepdims=kd), fdt), fdt
    if op == "var":
        return cast(np.var(f, axis=axis, keepdims=kd, ddof=at.get("ddof", 0)), fdt), fdt
    if op == "logsumexp":
        return cast(lse(f, axis, kd), fdt), fdt
    if op in ("argmax", "argmin"):
        fn = np.argmax if op == "argmax" else np.argmin
        return fn(f if is_float(dt) else x, axis=ax, keepdims=kd).astype(np.int32), "int32"
    if op == "softmax":
        a = -1 if axis is None else axis
        e = np.exp(f - np.max(f, axis=a, keepdims=True))
        return cast(e / np.sum(e, axis=a, keepdims=True), fdt), fdt
    if op == "cumsum":
        y = f if is_float(dt) else x.astype(np.int64)
        a = ax
        if a is None:
            y, a = y.ravel(), 0
        if at.get("reverse"):
            y = np.flip(y, a)
        c = np.cumsum(y, axis=a)
        if not at.get("inclusive", True):
            c = c - y
        if at.get("reverse"):
            c = np.flip(c, a)
        out = dt if dt != "bool" else "int32"
        return (cast(c, out), out) if is_float(dt) else (c.astype(out), out)
    a = at.get("axis", -1)
    if op == "sort":
        return np.sort(x, axis=a), dt
    if op == "argsort":
        return np.argsort(f if is_float(dt) else x, axis=a, kind="stable").astype(np.int32), "int32"
    if op == "topk":
        s = np.flip(np.sort(x, axis=a), a)
        return np.take(s, np.arange(at["k"]), axis=a), dt
    raise ValueError(op)


cases = []


def add(op, x, dt, attrs=None, name=None):
    attrs = dict(attrs or {})
    xt = np.transpose(x, attrs["transpose"]) if "transpose" in attrs else x
    with np.errstate(invalid="ignore", divide="ignore"):
        y, out_dt = expected(op, xt, dt, attrs)
    rtol, atol = FLOAT_TOL.get(out_dt, (0, 0))
    if op in ("var", "logsumexp", "softmax") and out_dt == "float32":
        rtol, atol = 1e-4, 1e-6
    label = name or f"{op} {dt} {list(x.shape)} {attrs}"
    cases.append(case(label, op, [x], y, attrs, rtol=rtol, atol=atol,
                      input_dtypes=["bfloat16" if dt == "bfloat16" else None],
                      expected_dtype="bfloat16" if out_dt == "bfloat16" else None))


AXES = [{}, {"axis": 0}, {"axis": -1}, {"axis": 1, "keepdims": True}, {"axis": [0, 2]}, {"axis": [2, 0], "keepdims": True}]
for op in ["sum", "mean", "max", "min", "prod", "logsumexp", "var"]:
    for dt in ["float32", "float16", "bfloat16", "int32", "int8", "uint8", "bool", "int64", "uint32"]:
        if op in ("logsumexp", "var") and dt in ("bool", "uint32", "int64"):
            continue
        x = make((2, 3, 5), dt)
        for at in AXES if dt in ("float32", "int32", "float16") else AXES[:3]:
            add(op, x, dt, at)
    x = make((3, 4, 5), "float32")
    add(op, x, "float32", {"axis": 1, "transpose": [2, 0, 1]})           # strided rows
    add(op, x, "float32", {"axis": [0, 2], "transpose": [1, 2, 0]})
    add(op, x.astype(np.float16), "float16", {"axis": -1, "transpose": [2, 1, 0]})
    add(op, make((2, 75), "float32"), "float32", {"axis": -1})          # SIMD body and tails
    add(op, make((30, 9), "float32"), "float32", {"axis": 0})           # column loop
    add(op, make((2, 37), "float16"), "float16", {"axis": 1})
add("var", make((4, 6), "float32"), "float32", {"axis": 1, "ddof": 1})
add("var", make((4, 6), "float16"), "float16", {"ddof": 2})

for op in ["argmax", "argmin"]:
    for dt in ["float32", "float16", "bfloat16", "int32", "int8", "uint8", "bool", "int64"]:
        x = make((2, 3, 4), dt)
        for at in [{}, {"axis": 0}, {"axis": -1, "keepdims": True}, {"axis": 1}, {"keepdims": True}]:
            add(op, x, dt, at)
    add(op, make((3, 4, 5), "int8"), "int8", {"axis": 1, "transpose": [2, 0, 1]})  # ties: first wins
    add(op, make((20, 30), "float32"), "float32", {"axis": 0})
    nan = np.array([[1, np.nan, 5, np.nan], [2, 7, -1, 0]], np.float32)
    add(op, nan, "float32", {"axis": 1}, name=f"{op} NaN wins")

nan = np.array([[1, np.nan, 5, 2], [np.inf, 3, -np.inf, 0], [-np.inf] * 4], np.float32)
for op in ["max", "min", "logsumexp", "sum"]:
    add(op, nan, "float32", {"axis": 1}, name=f"{op} NaN/inf rows")
for op in ["sum", "prod", "mean", "logsumexp"]:
    add(op, np.zeros((0, 3), np.float32), "float32", {"axis": 0}, name=f"{op} of an empty axis")
add("sum", np.zeros((0, 3), np.int8), "int8", {}, name="sum of empty int8")

for dt in ["float32", "float16", "bfloat16", "int32"]:
    x = make((2, 3, 7), dt)
    for at in [{}, {"axis": 1}, {"axis": [0, 2]}, {"axis": 0, "transpose": [2, 1, 0]}]:
        add("softmax", x, dt, at)
add("softmax", make((2, 75), "float32"), "float32", {"axis": -1})
add("softmax", make((2, 45), "float16"), "float16", {})
add("softmax", np.array([[1, 2, 3], [-np.inf, 0, 1], [1000, 1001, 1002]], np.float32), "float32", {}, name="softmax extreme rows")

for dt in ["float32", "float16", "bfloat16", "int32", "int8", "bool", "int64", "uint32"]:
    x = make((2, 3, 4), dt)
    for at in [{}, {"axis": 1}, {"axis": -1, "reverse": True}, {"axis": 0, "inclusive": False},
               {"axis": 2, "reverse": True, "inclusive": False}]:
        add("cumsum", x, dt, at)
add("cumsum", make((3, 4, 5), "float32"), "float32", {"axis": 1, "transpose": [2, 0, 1]})

for dt in ["float32", "float16", "bfloat16", "int32", "int8", "uint8", "bool", "int64"]:
    x = make((2, 3, 5), dt)
    for op in ["sort", "argsort"]:
        for at in [{}, {"axis": 0}, {"axis": 1}, {"axis": 1, "transpose": [2, 0, 1]}]:
            add(op, x, dt, at)
    add("topk", x, dt, {"k": 3})
    add("topk", x, dt, {"k": 2, "axis": 0})
for op in ["sort", "argsort"]:
    add(op, np.array([[3, np.nan, 1, -np.inf, np.nan, 2]], np.float32), "float32", {}, name=f"{op} NaN last")
add("topk", np.array([[3, np.nan, 1, 7]], np.float32), "float32", {"k": 2}, name="topk NaN largest")
add("topk", make((2, 100), "float32"), "float32", {"k": 5})

write_fixture("core/reduce.json", {"cases": cases})
