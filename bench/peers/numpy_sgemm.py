"""NumPy's float32 matmul (its BLAS: OpenBLAS in the PyPI wheels) on the same sizes and thread count as
bench/gemm.ts and native/tests/gemm_isa.cc, with the BLAS kernel threadpoolctl names.

    python3 bench/peers/numpy_sgemm.py [--sizes 512,1024,2048] [--threads 2] [--json] [--best]

Prints one line per size (or, with --json, one JSON object: {"blas": {...}, "rows": [{"n", "gflops"}]}).
Timing: median (or with --best the fastest) of 5-30 products after two warm-ups, C = A @ B with A, B random [n, n] float32.
"""
import argparse
import json
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits


def median_seconds(fn, iters, best=False):
    fn()
    fn()
    times = []
    for _ in range(iters):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[0] if best else times[len(times) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="512,1024,2048")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--best", action="store_true", help="the fastest run instead of the median")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    rows = []
    with threadpool_limits(limits=args.threads, user_api="blas"):
        a0 = np.ones((8, 8), np.float32)
        a0 @ a0  # loads the BLAS so threadpoolctl sees it
        blas = [dict(internal_api=i.get("internal_api"), version=i.get("version"), architecture=i.get("architecture"),
                     num_threads=i.get("num_threads")) for i in threadpool_info() if i.get("user_api") == "blas"]
        for n in [int(s) for s in args.sizes.split(",")]:
            a = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            b = rng.uniform(-1, 1, (n, n)).astype(np.float32)
            c = np.empty((n, n), np.float32)
            iters = 5 if n >= 2048 else 10 if n >= 1024 else 30
            t = median_seconds(lambda: np.matmul(a, b, out=c), iters, args.best)
            rows.append(dict(n=n, gflops=2 * n**3 / t / 1e9))
    out = dict(numpy=np.__version__, blas=blas[0] if blas else None, threads=args.threads, best=args.best, rows=rows)
    if args.json:
        print(json.dumps(out))
    else:
        b = out["blas"] or {}
        print(f"numpy {out['numpy']} sgemm via {b.get('internal_api')} {b.get('version')} "
              f"kernel {b.get('architecture')}, {args.threads} threads")
        for r in rows:
            print(f"numpy f32 A@B   {r['n']:4d}^3: {r['gflops']:6.1f}")


if __name__ == "__main__":
    main()
