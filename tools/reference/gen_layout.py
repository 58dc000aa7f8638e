"""Layout and indexing fixtures: NumPy results for every layout op -> test/fixtures/core/layout.json.

Each case names the TS op, its inputs and attrs. `attrs.pre` lists views applied to input 0 before
the op (["transpose", axes], ["slice", start, stop, step], ["broadcast", shape]) so kernels see
non-contiguous data. Split cases carry all pieces in `outputs`.
"""
import numpy as np

from common import case, ref_array, round_bf16, write_fixture

rng = np.random.default_rng(7)
cases = []


def arr(shape, dtype="float32"):
    n = int(np.prod(shape))
    if dtype == "bool":
        return (rng.integers(0, 2, n) == 1).reshape(shape)
    if dtype in ("float32", "float16", "bfloat16"):
        x = rng.standard_normal(n).astype(np.float32).reshape(shape)
        return round_bf16(x) if dtype == "bfloat16" else x.astype(dtype)
    return rng.integers(-50 if dtype[0] == "i" else 0, 100, n).astype(dtype).reshape(shape)


def apply_pre(x, pre):
    for p in pre or []:
        if p[0] == "transpose":
            x = np.transpose(x, p[1])
        elif p[0] == "slice":
            x = x[tuple(slice(s, e, t) for s, e, t in zip(p[1], p[2], p[3]))]
        elif p[0] == "broadcast":
            x = np.broadcast_to(x, p[1])
    return x


def add(name, op, inputs, fn, attrs=None, pre=None, dtype=None):
    """inputs: arrays; fn computes the expected value from the (pre-viewed) inputs; dtype: bf16 naming."""
    attrs = dict(attrs or {})
    if pre:
        attrs["pre"] = pre
    xs = [apply_pre(inputs[0], pre)] + list(inputs[1:])
    out = fn(*xs)
    dts = [dtype if dtype and np.asarray(x).dtype == np.float32 else None for x in inputs]
    cases.append(case(name, op, inputs, out, attrs, input_dtypes=dts, expected_dtype=dtype))
    return cases[-1]


T3 = [["transpose", [2, 0, 1]]]
S3 = [["slice", [0, 3, 1], [2, 0, 5], [1, -1, 2]]]  # (2, 3, 2) from (2, 4, 5): negative and >1 steps

# swapaxes, expandDims, squeeze, flatten
for dt in ["float32", "int64", "bool", "float16"]:
    a = arr((2, 3, 4), dt)
    add(f"swapaxes {dt}", "swapaxes", [a], lambda x: np.swapaxes(x, 0, 2), {"axis1": 0, "axis2": 2})
add("swapaxes negative, transposed input", "swapaxes", [arr((2, 3, 4))], lambda x: np.swapaxes(x, -1, -2),
    {"axis1": -1, "axis2": -2}, pre=T3)
add("swapaxes bfloat16", "swapaxes", [arr((3, 2), "bfloat16")], lambda x: np.swapaxes(x, 0, 1), {"axis1": 0, "axis2": 1},
    dtype="bfloat16")
for axis in [0, -1, 2, [0, 2], [-1, 0]]:
    add(f"expandDims {axis}", "expandDims", [arr((2, 3, 4), "int32")], lambda x, ax=axis: np.expand_dims(x, tuple(ax) if isinstance(ax, list) else ax),
        {"axis": axis}, pre=T3)
add("expandDims 0-d", "expandDims", [np.float32(3.5)], lambda x: np.expand_dims(x, 0), {"axis": 0})
add("squeeze all", "squeeze", [arr((1, 3, 1, 2), "int64")], np.squeeze)
add("squeeze axis", "squeeze", [arr((1, 3, 1, 2))], lambda x: np.squeeze(x, 2), {"axis": 2})
add("squeeze axes negative", "squeeze", [arr((1, 3, 1, 2), "bool")], lambda x: np.squeeze(x, (-2, 0)), {"axis": [-2, 0]})
add("squeeze transposed", "squeeze", [arr((2, 1, 3))], lambda x: np.squeeze(x, 2), {"axis": 2}, pre=[["transpose", [0, 2, 1]]])
add("squeeze empty", "squeeze", [arr((0, 1, 3))], lambda x: np.squeeze(x, 1), {"axis": 1})
for start, end in [(0, -1), (1, 2), (0, 1), (-2, -1), (1, 1)]:
    add(f"flatten {start}..{end}", "flatten", [arr((2, 3, 4), "float16")], lambda x, s=start, e=end: x.reshape(
        x.shape[:s % 3] + (-1,) + x.shape[e % 3 + 1:]), {"start": start, "end": end})
add("flatten transposed (copies)", "flatten", [arr((2, 3, 4))], lambda x: x.reshape(-1), pre=T3)
add("flatten sliced", "flatten", [arr((2, 4, 5), "int64")], lambda x: x.reshape(-1), pre=S3)
add("flatten 0-d", "flatten", [np.int32(7)], lambda x: x.reshape(1))
add("flatten empty", "flatten", [arr((2, 0, 3))], lambda x: x.reshape(2, 0), {"start": 1})

# slice and index
a = arr((4, 5, 6), "int32")
for start, stop, step in [([1, 0, 2], [3, 5, 6], [1, 2, 3]), ([-1, 4, 5], [-5, 0, -7], [-1, -2, -2]),
                          ([0, 10, -100], [100, 20, 100], [1, 1, 4]), ([2], [2], [1]), ([3, -2], [0, 1], [-2, -1])]:
    full = [(s, e, t) for s, e, t in zip(start, stop, step)]
    add(f"slice {start}:{stop}:{step}", "slice", [a], lambda x, f=full: x[tuple(slice(*p) for p in f)],
        {"start": start, "stop": stop, "step": step})
add("slice float16 transposed", "slice", [arr((3, 4, 5), "float16")], lambda x: x[1:, ::-2], {"start": [1, -1], "stop": [9, -9], "step": [1, -2]}, pre=T3)
add("slice bool default step", "slice", [arr((4, 3), "bool")], lambda x: x[1:3], {"start": [1], "stop": [3]})

b = arr((3, 4, 5), "float32")
for spec, key in [
    ([1], lambda x: x[1]), ([-1, [None, None, -1]], lambda x: x[-1, ::-1]), (["...", 2], lambda x: x[..., 2]),
    ([None, "newaxis", [1, 3]], lambda x: x[:, None, 1:3]), ([[None, None, 2], "...", "newaxis"], lambda x: x[::2, ..., None]),
    ([0, 0, 0], lambda x: x[0, 0, 0]), (["newaxis"], lambda x: x[None]), ([[5, None], 1], lambda x: x[5:, 1]),
    ([[-2, None, -1], "...", [None, -6, -1]], lambda x: x[-2::-1, ..., :-6:-1]), ([1, "...", "newaxis", -1], lambda x: x[1, ..., None, -1]),
]:
    add(f"index {spec}", "index", [b], key, {"spec": spec})
add("index transposed int64", "index", [arr((3, 4, 5), "int64")], lambda x: x[1:, 0, ::-2], {"spec": [[1, None], 0, [None, None, -2]]}, pre=T3)
add("index bfloat16", "index", [arr((3, 4), "bfloat16")], lambda x: x[::-1, 2], {"spec": [[None, None, -1], 2]}, dtype="bfloat16")

# concatenate, stack
for dt in ["float32", "int64", "bool", "float16", "uint8"]:
    xs = [arr((2, 3), dt), arr((2, 1), dt), arr((2, 4), dt)]
    add(f"concatenate axis 1 {dt}", "concatenate", xs, lambda *x: np.concatenate(x, 1), {"axis": 1})
add("concatenate axis 0 with empty", "concatenate", [arr((0, 3)), arr((2, 3)), arr((1, 3))], lambda *x: np.concatenate(x, 0))
add("concatenate axis -1 3-d, transposed first", "concatenate", [arr((3, 4, 2)), arr((2, 3, 5))],
    lambda *x: np.concatenate(x, -1), {"axis": -1}, pre=T3)
add("concatenate promotes int32 and float32", "concatenate", [arr((2, 2), "int32"), arr((1, 2))], lambda *x: np.concatenate(x, 0))
add("concatenate bfloat16", "concatenate", [arr((2, 2), "bfloat16"), arr((2, 1), "bfloat16")], lambda *x: np.concatenate(x, 1),
    {"axis": 1}, dtype="bfloat16")
for axis in [0, 1, -1, 2]:
    add(f"stack axis {axis}", "stack", [arr((2, 3), "int16"), arr((2, 3), "int16"), arr((2, 3), "int16")],
        lambda *x, ax=axis: np.stack(x, ax), {"axis": axis})
add("stack transposed first", "stack", [arr((3, 2)), arr((2, 3))], lambda *x: np.stack(x, 1), {"axis": 1}, pre=[["transpose", [1, 0]]])
add("stack 0-d", "stack", [np.float32(1), np.float32(2)], lambda *x: np.stack(x))

# split (all pieces in `outputs`)
for arg, axis, shape, dt in [(3, 0, (6, 2), "float32"), (2, -1, (3, 4), "int64"), ([1, 3], 1, (2, 5), "bool"),
                             ([2, 2, 10], 0, (4, 3), "float16"), ([-2], 0, (5,), "int32"), ([3, 1], 0, (5, 2), "float32"),
                             (1, 0, (0, 2), "float32")]:
    x = arr(shape, dt)
    pieces = np.split(x, arg, axis)
    c = add(f"split {arg} axis {axis} {dt}", "split", [x], lambda y: pieces[0], {"sections": arg, "axis": axis})
    c["outputs"] = [ref_array(p) for p in pieces]

# pad
for dt, widths, value in [("float32", [[1, 2], [0, 3]], 0), ("int64", 2, -7), ("bool", [1, 0], 1), ("float16", [[0, 0], [2, 1]], 1.5),
                          ("uint8", [[3, 0], [0, 0]], 9)]:
    x = arr((2, 3), dt)
    np_w = widths if not isinstance(widths, list) or isinstance(widths[0], list) else [widths, widths]
    add(f"pad {widths} {dt}", "pad", [x], lambda y, w=np_w, v=value: np.pad(y, w, constant_values=v), {"widths": widths, "value": value})
add("pad 3-d transposed", "pad", [arr((2, 3, 4))], lambda y: np.pad(y, [[1, 0], [0, 2], [1, 1]], constant_values=-1),
    {"widths": [[1, 0], [0, 2], [1, 1]], "value": -1}, pre=T3)
add("pad empty input", "pad", [arr((0, 2))], lambda y: np.pad(y, 1, constant_values=5), {"widths": 1, "value": 5})
add("pad bfloat16", "pad", [arr((2,), "bfloat16")], lambda y: np.pad(y, [[1, 1]], constant_values=2), {"widths": [[1, 1]], "value": 2},
    dtype="bfloat16")

# take and takeAlongAxis
src = arr((4, 5, 3), "float32")
for idx_dt, idx, axis in [("int32", [[0, -1], [3, 2]], 0), ("int64", [4, 0, -5, 1], 1), ("uint8", [2, 0, 1, 1], -1),
                          ("int16", 3, 1), ("int32", np.zeros((0,), np.int32), 0), ("int64", [[7, -60], [59, 0]], None),
                          ("int8", [[[1]], [[0]]], 2)]:
    ind = np.asarray(idx).astype(idx_dt)
    add(f"take {idx_dt} {ind.shape} axis {axis}", "take", [src, ind], lambda x, i, ax=axis: np.take(x, i, ax),
        {} if axis is None else {"axis": axis})
add("take transposed int64 data", "take", [arr((4, 5, 3), "int64"), np.array([[1, 0, 2]], np.int32)],
    lambda x, i: np.take(x, i, 1), {"axis": 1}, pre=T3)
add("take bool", "take", [arr((6,), "bool"), np.array([5, 0, -1], np.int32)], lambda x, i: np.take(x, i))
add("take float16 rows (embedding)", "take", [arr((10, 8), "float16"), np.array([[3, 9, 0], [1, 1, 2]], np.int32)],
    lambda x, i: np.take(x, i, 0), {"axis": 0})
x = arr((3, 5), "float32")
add("takeAlongAxis argsort", "takeAlongAxis", [x, np.argsort(x, 1).astype(np.int32)], lambda y, i: np.take_along_axis(y, i, 1), {"axis": 1})
add("takeAlongAxis broadcast indices", "takeAlongAxis", [arr((3, 5), "int64"), np.array([[4, -1, 0]], np.int64)],
    lambda y, i: np.take_along_axis(y, i, 1), {"axis": 1})
add("takeAlongAxis axis 0 broadcast data", "takeAlongAxis", [arr((4, 1), "float16"), np.array([[0, 3, 2], [1, 1, 0]], np.int32)],
    lambda y, i: np.take_along_axis(y, i, 0), {"axis": 0})
add("takeAlongAxis transposed", "takeAlongAxis", [arr((2, 3, 4)), np.array([1, 0, 2, 2, 1, 0, 0, 1], np.uint8).reshape(4, 2, 1)],
    lambda y, i: np.take_along_axis(y, i, -1), {"axis": -1}, pre=T3)

# sliceUpdate: numpy assignment on a copy
def upd(x, u, start, stop, step):
    y = x.copy()
    y[tuple(slice(s, e, t) for s, e, t in zip(start, stop, step))] = u
    return y


for dt, shape, ushape, start, stop, step in [
    ("float32", (4, 5), (2, 3), [1, 2], [3, 5], [1, 1]), ("int64", (4, 5), (2, 5), [0], [4], [2]),
    ("bool", (3, 4), (4,), [1], [2], [1]), ("float16", (6,), (3,), [-1], [-7], [-2]), ("int32", (3, 4), (), [0, 0], [3, 4], [1, 1]),
    ("uint8", (2, 3, 4), (2, 1, 2), [0, 1, 1], [2, 3, 5], [1, 1, 2]), ("float32", (3, 2), (0, 2), [1, 0], [1, 2], [1, 1]),
]:
    x, u = arr(shape, dt), arr(ushape, dt)
    full = len(start)
    st = start + [0] * (len(shape) - full)
    en = stop + list(shape[full:])
    sp = step + [1] * (len(shape) - full)
    add(f"sliceUpdate {shape} {start}:{stop}:{step} {dt}", "sliceUpdate", [x, u], lambda y, v, s=st, e=en, t=sp: upd(y, v, s, e, t),
        {"start": start, "stop": stop, "step": step})
add("sliceUpdate default stop", "sliceUpdate", [arr((2, 6, 3)), arr((2, 2, 3))], lambda y, v: upd(y, v, [0, 3, 0], [2, 5, 3], [1, 1, 1]),
    {"start": [0, 3]})
add("sliceUpdate transposed input, cast update", "sliceUpdate", [arr((2, 3, 4)), arr((2, 2), "int32")],
    lambda y, v: upd(y, v, [1, 0, 0], [3, 2, 2], [1, 1, 1]), {"start": [1, 0, 0], "stop": [3, 2, 2]}, pre=T3)

# repeat, tile, broadcastTo
for dt, shape, reps, axis in [("float32", (2, 3), 2, None), ("int64", (2, 3), 3, 1), ("bool", (2, 3), 2, -2), ("float16", (3,), 0, 0),
                              ("int32", (2, 3), [1, 0, 2], 1), ("float32", (2, 2), [3], None)]:
    add(f"repeat {reps} axis {axis} {dt}", "repeat", [arr(shape, dt)], lambda x, r=reps, ax=axis: np.repeat(x, r, ax),
        {"repeats": reps} if axis is None else {"repeats": reps, "axis": axis})
add("repeat transposed", "repeat", [arr((2, 3, 4))], lambda x: np.repeat(x, 2, 0), {"repeats": 2, "axis": 0}, pre=T3)
for dt, shape, reps in [("float32", (2, 3), [2, 1]), ("int64", (2, 3), [3]), ("bool", (3,), [2, 2]), ("float16", (2, 1, 2), [1, 3, 1]),
                        ("uint8", (2, 3), [0, 2]), ("float32", (2, 3), [1, 1]), ("int32", (), [3])]:
    add(f"tile {reps} {dt}", "tile", [arr(shape, dt)], lambda x, r=reps: np.tile(x, r), {"reps": reps})
add("tile transposed", "tile", [arr((2, 3, 4))], lambda x: np.tile(x, [2, 1, 2]), {"reps": [2, 1, 2]}, pre=T3)
add("broadcastTo", "broadcastTo", [arr((3, 1), "int64")], lambda x: np.broadcast_to(x, (2, 3, 4)), {"shape": [2, 3, 4]})
add("broadcastTo sliced", "broadcastTo", [arr((2, 4, 5), "float16")], lambda x: np.broadcast_to(x, (3, 2, 3, 2)), {"shape": [3, 2, 3, 2]}, pre=S3)

cases = [c for c in cases if c is not None]
write_fixture("core/layout.json", {"cases": cases})
