#!/bin/sh
# The GEMM harness and its peer in one run, for a machine without Node (an AVX-512 host):
# builds native/tests/gemm_isa, checks and benches every ISA level, runs NumPy's sgemm
# (bench/peers/numpy_sgemm.py) on the same threads, and writes bench/results/gemm_isa.json with
# the best level's float32 A @ B rows also rated against NumPy.
#   sh native/tests/run_gemm_isa.sh [threads] [out.json] [--best]
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$(dirname "$here")")
threads=${1:-2}
out=${2:-$root/bench/results/gemm_isa.json}
bin=$(sh "$here/build_gemm_isa.sh" /tmp/gemm_isa_build | tail -1)
best=${3:-}
"$bin" --threads "$threads" --json "$out" $best
python3 "$root/bench/peers/numpy_sgemm.py" --threads "$threads" --json $best > /tmp/gemm_isa_numpy.json
python3 - "$out" /tmp/gemm_isa_numpy.json <<'PY'
import json, sys
res, peer = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
blas = peer.get("blas") or {}
best = res["rows"][-1]["case"].split()[0]  # the widest level's rows come last
for r in peer["rows"]:
    mine = next(x for x in res["rows"] if x["case"] == f"{best} float32 A @ B {r['n']}^3")
    res["rows"].append({"case": f"{best} float32 A @ B {r['n']}^3 vs NumPy", "value": mine["value"], "unit": "GFLOP/s",
                        "reference": round(r["gflops"], 2), "referenceName": f"NumPy/{blas.get('internal_api')} {blas.get('architecture')}",
                        "fraction": round(mine["value"] / r["gflops"], 4), "goal": "> 100% (ahead of OpenBLAS)"})
res["notes"].append(f"NumPy {peer['numpy']} float32 matmul through {blas.get('internal_api')} {blas.get('version')} "
                    f"(kernel {blas.get('architecture')}), {peer['threads']} threads, right after ours, "
                    f"{'best' if peer.get('best') else 'median'} of its runs")
json.dump(res, open(sys.argv[1], "w"), indent=2)
open(sys.argv[1], "a").write("\n")
for r in res["rows"][-len(peer["rows"]):]:
    print(f"{r['case']}: {r['value']:.1f} vs {r['reference']:.1f} GFLOP/s ({100 * r['fraction']:.0f}%)")
PY
