"""Shared helpers for the fixture generators: arrays to JSON in the layout test/helpers/reference.ts reads."""
import json
import math
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FIXTURES = os.path.join(ROOT, "test", "fixtures")

# NumPy has no bfloat16; arrays meant as bfloat16 are carried as float32 values already rounded to bf16.
def round_bf16(x):
    x = np.asarray(x, dtype=np.float32)
    u = x.view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) << 16
    return u.astype(np.uint32).view(np.float32)


def _value(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return int(v) if v.is_integer() and abs(v) < 2**53 else v


def ref_array(x, dtype=None):
    """{shape, dtype, data} for an ndarray; dtype overrides the name (e.g. 'bfloat16')."""
    x = np.asarray(x)
    name = dtype or {"float64": "float32"}.get(str(x.dtype), str(x.dtype))
    flat = x.astype(np.float64).ravel() if x.dtype != np.int64 else x.ravel()
    return {"shape": list(x.shape), "dtype": name, "data": [_value(v) for v in flat]}


def case(name, op, inputs, expected, attrs=None, rtol=None, atol=None, input_dtypes=None, expected_dtype=None):
    c = {
        "name": name,
        "op": op,
        "inputs": [ref_array(x, (input_dtypes or [None] * len(inputs))[i]) for i, x in enumerate(inputs)],
        "attrs": attrs or {},
        "expected": ref_array(expected, expected_dtype),
    }
    if rtol is not None:
        c["rtol"] = rtol
    if atol is not None:
        c["atol"] = atol
    return c


def write_fixture(rel_path, obj):
    path = os.path.join(FIXTURES, rel_path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    print(f"wrote {os.path.relpath(path, ROOT)} ({os.path.getsize(path) // 1024} KiB)")
