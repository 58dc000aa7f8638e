"""Fixtures for fft.rfft / fft.irfft and the creation ops (arange, linspace, eye, tri), from NumPy.

python3 tools/reference/gen_fft_creation.py  ->  test/fixtures/core/fft_creation.json
"""
import math

import numpy as np

from common import case, write_fixture

rng = np.random.default_rng(20240611)


def ri(z):
    """Complex array -> float32 [..., 2] (re, im last), as Tessera carries complex values."""
    return np.stack([z.real, z.imag], axis=-1).astype(np.float32)


def rfft_case(name, x, n=None, axis=-1):
    x = np.asarray(x, np.float32)
    expected = ri(np.fft.rfft(x.astype(np.float64), n=n, axis=axis))
    size = n or x.shape[axis]
    # float32 error grows like sqrt(n) log(n) times the input scale; a bug is off by O(|X|).
    atol = 4e-7 * math.sqrt(size) * max(1.0, math.log2(size)) * float(np.abs(x).max(initial=1.0))
    attrs = {"axis": axis}
    if n is not None:
        attrs["n"] = n
    return case(name, "rfft", [x], expected, attrs, rtol=1e-5, atol=atol)


def irfft_case(name, z, n=None, axis=-2):
    """z: complex with the frequency axis at `axis` of the [..., 2] layout."""
    x = ri(z)
    zf = x[..., 0].astype(np.float64) + 1j * x[..., 1].astype(np.float64)
    caxis = axis if axis >= 0 else axis + 1  # the axis in the complex (no trailing 2) shape
    expected = np.fft.irfft(zf, n=n, axis=caxis).astype(np.float32)
    size = n or 2 * (zf.shape[caxis] - 1)
    atol = 4e-7 * max(1.0, math.log2(size)) * float(np.abs(zf).max(initial=1.0)) * math.sqrt(size) / size * 4
    attrs = {"axis": axis}
    if n is not None:
        attrs["n"] = n
    return case(name, "irfft", [x], expected, attrs, rtol=1e-5, atol=atol)


def cnormal(*shape):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


cases = []
for n in [1, 2, 8, 400, 512, 7, 97, 1000]:
    cases.append(rfft_case(f"rfft n={n}", rng.standard_normal(n)))
cases.append(rfft_case("rfft zero-pads to n=16", rng.standard_normal(10), n=16))
cases.append(rfft_case("rfft crops to n=6", rng.standard_normal(10), n=6))
cases.append(rfft_case("rfft crops to odd n=7", rng.standard_normal(10), n=7))
cases.append(rfft_case("rfft batched [3, 100]", rng.standard_normal((3, 100))))
cases.append(rfft_case("rfft batched [2, 3, 30]", rng.standard_normal((2, 3, 30))))
cases.append(rfft_case("rfft along axis 0 of [9, 4]", rng.standard_normal((9, 4)), axis=0))
cases.append(rfft_case("rfft along axis 1 of [2, 10, 3], n=12", rng.standard_normal((2, 10, 3)), n=12, axis=1))
cases.append(rfft_case("rfft integer input", rng.integers(-5, 5, 12).astype(np.int32)))

for n in [1, 2, 8, 400, 512, 7, 97, 1000]:
    cases.append(irfft_case(f"irfft n={n}", cnormal(n // 2 + 1), n=n))
cases.append(irfft_case("irfft default n = 2(m-1)", cnormal(5)))
cases.append(irfft_case("irfft ignores extra bins (m=10, n=8)", cnormal(10), n=8))
cases.append(irfft_case("irfft zero-pads missing bins (m=3, n=10)", cnormal(3), n=10))
cases.append(irfft_case("irfft odd n from extra bins (m=6, n=9)", cnormal(6), n=9))
cases.append(irfft_case("irfft batched [3, 51, 2]", cnormal(3, 51), n=100))
cases.append(irfft_case("irfft along axis 0 of [5, 3, 2]", cnormal(5, 3), axis=0))
cases.append(irfft_case("irfft along axis 1 of [2, 6, 3, 2], n=11", cnormal(2, 6, 3), n=11, axis=1))

# Creation ops: inputs are attributes; float64 NumPy values rounded to the output dtype.
def creation(name, op, expected, attrs, dtype):
    return case(name, op, [], np.asarray(expected).astype(dtype), attrs, rtol=1e-6, atol=1e-6)


for args, dt in [((5,), "int32"), ((2, 10, 3), "int32"), ((0, 1, 0.1), "float32"), ((10, 0, -1.5), "float32"),
                 ((1, 1), "int32"), ((0, 5, 1), "float32"), ((-3.5, 2), "float32"), ((3, -4, -2), "int32"),
                 ((0, 1, 0.3), "float16")]:
    full = (0, args[0], 1) if len(args) == 1 else (args[0], args[1], args[2] if len(args) > 2 else 1)
    cases.append(creation(f"arange{args} {dt}", "arange", np.arange(*full, dtype=np.float64), {"args": list(args), "dtype": dt}, dt))

for start, stop, num, dt in [(0, 1, 5, "float32"), (-2, 3, 1, "float32"), (0, 1, 0, "float32"), (1, 10, 7, "int32"),
                             (10, 0, 4, "float32"), (0, 1, 11, "bfloat16"), (-1, 1, 50, "float32")]:
    exp = np.linspace(start, stop, num)
    exp = np.trunc(exp) if dt == "int32" else exp
    out_dt = "float32" if dt == "bfloat16" else dt
    c = creation(f"linspace({start}, {stop}, {num}) {dt}", "linspace", exp.astype(out_dt), {"start": start, "stop": stop, "num": num, "dtype": dt}, out_dt)
    if dt == "bfloat16":
        from common import round_bf16, ref_array
        c["expected"] = ref_array(round_bf16(exp), "bfloat16")
        c["rtol"] = 1e-2
    cases.append(c)

for n, m, k, dt in [(3, None, 0, "float32"), (3, 4, 1, "float32"), (4, 3, -2, "int32"), (2, 2, 5, "float32"),
                    (0, None, 0, "float32"), (3, 5, -1, "bool")]:
    cases.append(creation(f"eye({n}, {m}, {k}) {dt}", "eye", np.eye(n, m, k), {"n": n, "m": m, "k": k, "dtype": dt}, dt))
    cases.append(creation(f"tri({n}, {m}, {k}) {dt}", "tri", np.tri(n, m, k), {"n": n, "m": m, "k": k, "dtype": dt}, dt))

write_fixture("core/fft_creation.json", {"cases": cases})
