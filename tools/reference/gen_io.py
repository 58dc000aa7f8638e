"""Fixtures for the io tests: safetensors files written by the reference `safetensors` package
(single and sharded), and .npz/.npy archives written by NumPy, with the values they hold.

    python3 tools/reference/gen_io.py                 # writes test/fixtures/io/*
    python3 tools/reference/gen_io.py --check FILE    # reads a file written by our saveSafetensors
                                                      # with the reference reader and compares it
"""
import io
import json
import os
import sys
import zipfile

import numpy as np
import safetensors

from common import FIXTURES, round_bf16, write_fixture

OUT = os.path.join(FIXTURES, "io")
rng = np.random.default_rng(7)


def bf16_bits(x):
    return (round_bf16(x).view(np.uint32) >> 16).astype(np.uint16)


def arrays():
    """One array per safetensors dtype we read (bf16 carried as uint16 bits)."""
    return {
        "f32": rng.standard_normal((2, 3)).astype(np.float32),
        "f16": rng.standard_normal(5).astype(np.float16),
        "bf16": bf16_bits(rng.standard_normal(4)),
        "i8": np.array([-128, -1, 0, 127], np.int8),
        "u8": np.array([0, 1, 200, 255], np.uint8),
        "i16": np.array([-32768, 5, 32767], np.int16),
        "i32": np.arange(-3, 3, dtype=np.int32).reshape(2, 3),
        "u32": np.array([0, 1, 4000000000], np.uint32),
        "i64": np.array([-(2**40), 7, 2**40], np.int64),
        "bool": np.array([True, False, True]),
        "scalar": np.array(2.5, np.float32),
        "empty": np.zeros((0, 3), np.float32),
        "nested.name.weight": rng.standard_normal((3, 2, 2)).astype(np.float32),
    }


ST_DTYPE = {"f32": "float32", "f16": "float16", "bf16": "bfloat16", "i8": "int8", "u8": "uint8", "i16": "int16",
            "i32": "int32", "u32": "uint32", "i64": "int64", "bool": "bool", "f64": "float64"}


def spec_dtype(name, a):
    if name == "bf16":
        return "bfloat16"
    return str(a.dtype)


def serialize(path, tensors, metadata):
    keep = {k: np.require(v, requirements='C') for k, v in tensors.items()}  # keeps 0-d arrays 0-d
    specs = {k: safetensors.TensorSpec(dtype=spec_dtype(k, v), shape=list(v.shape), data_ptr=v.ctypes.data, data_len=v.nbytes)
             for k, v in keep.items()}
    safetensors.serialize_file(specs, path, metadata=metadata)


def expected(tensors, dtypes=None):
    out = {}
    for k, v in tensors.items():
        dt = (dtypes or {}).get(k) or ("bfloat16" if k == "bf16" else {"float64": "float32"}.get(str(v.dtype), str(v.dtype)))
        vals = v
        if k == "bf16":
            vals = (v.astype(np.uint32) << 16).view(np.float32)
        flat = vals.astype(np.float64).ravel() if vals.dtype != np.int64 else vals.ravel()
        out[k] = {"shape": list(v.shape), "dtype": dt, "data": [int(x) if vals.dtype.kind in "iub" else float(x) for x in flat]}
    return out


def gen_safetensors():
    t = arrays()
    serialize(os.path.join(OUT, "reference.safetensors"), t, {"format": "np"})
    with_f64 = dict(t, f64=rng.standard_normal((2, 2)))
    serialize(os.path.join(OUT, "with_f64.safetensors"), {"f64": with_f64["f64"], "f32": t["f32"]}, None)
    # A sharded checkpoint laid out as transformers' save_pretrained does it.
    shard_dir = os.path.join(OUT, "sharded")
    os.makedirs(shard_dir, exist_ok=True)
    a = {"layers.0.weight": t["f32"], "layers.0.bias": t["i32"]}
    b = {"layers.1.weight": t["nested.name.weight"], "norm": t["f16"]}
    weight_map = {}
    for i, part in enumerate([a, b]):
        name = f"model-{i + 1:05d}-of-00002.safetensors"
        serialize(os.path.join(shard_dir, name), part, {"format": "pt"})
        weight_map.update({k: name for k in part})
    total = sum(v.nbytes for v in {**a, **b}.values())
    with open(os.path.join(shard_dir, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": dict(sorted(weight_map.items()))}, f, indent=2)
    return {
        "reference": {"metadata": {"format": "np"}, "tensors": expected(t)},
        "with_f64": {"tensors": expected({"f64": with_f64["f64"], "f32": t["f32"]})},
        "sharded": {"total_size": total, "tensors": expected({**a, **b})},
    }


def npy_bytes(a, version):
    buf = io.BytesIO()
    np.lib.format.write_array(buf, a, version=version, allow_pickle=True)
    return buf.getvalue()


def gen_npz():
    arrs = {
        "f2": rng.standard_normal((2, 2)).astype(np.float16),
        "f4": rng.standard_normal((3, 4)).astype(np.float32),
        "f8": rng.standard_normal(5),
        "i1": np.array([-5, 0, 5], np.int8),
        "u1": np.array([1, 255], np.uint8),
        "i2": np.array([-300, 300], np.int16),
        "u2": np.array([0, 65535], np.uint16),
        "i4": np.arange(6, dtype=np.int32).reshape(1, 2, 3),
        "u4": np.array([3000000000], np.uint32),
        "i8": np.array([-(2**50), 2**50], np.int64),
        "b1": np.array([[True, False], [False, True]]),
        "fortran": np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
        "fortran3d": np.asfortranarray(np.arange(24, dtype=np.int32).reshape(2, 3, 4)),
        "scalar": np.array(-1.5, np.float32),
        "empty": np.zeros((2, 0), np.float32),
    }
    np.savez(os.path.join(OUT, "arrays.npz"), **arrs)
    np.savez_compressed(os.path.join(OUT, "arrays_compressed.npz"), **arrs)
    np.save(os.path.join(OUT, "single.npy"), arrs["f4"])
    # .npy format versions 1.0, 2.0 and 3.0 inside one archive.
    with zipfile.ZipFile(os.path.join(OUT, "versions.npz"), "w") as z:
        for v in [(1, 0), (2, 0), (3, 0)]:
            z.writestr(f"v{v[0]}.npy", npy_bytes(arrs["f4"], v))
    np.savez(os.path.join(OUT, "object.npz"), obj=np.array([{"a": 1}, None], dtype=object))
    np.savez(os.path.join(OUT, "bigendian.npz"), be=np.arange(3, dtype=">f4"))
    np.savez(os.path.join(OUT, "structured.npz"), s=np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))
    exp = expected({k: v for k, v in arrs.items()},
                   {"f2": "float16", "f8": "float32", "u2": "int32", "b1": "bool"})
    return {"arrays": exp}


def check(path):
    """Reads a file written by our saveSafetensors with the reference reader and compares it."""
    def read(p):
        with open(p, "rb") as f:
            return {name: (t["dtype"], list(t["shape"]), bytes(t["data"])) for name, t in safetensors.deserialize(f.read())}
    ref, ours = read(os.path.join(OUT, "reference.safetensors")), read(path)
    assert sorted(ref) == sorted(ours), (sorted(ref), sorted(ours))
    for k in ref:
        assert ref[k] == ours[k], k
    with safetensors.safe_open(path, "np") as f:
        print("metadata:", f.metadata())
    print(f"{path}: {len(ours)} tensors read by safetensors {safetensors.__version__}, identical to the reference")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--check":
        check(sys.argv[2])
        sys.exit(0)
    os.makedirs(OUT, exist_ok=True)
    write_fixture("io/values.json", {"safetensors": gen_safetensors(), "npz": gen_npz()})
