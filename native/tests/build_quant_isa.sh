#!/bin/sh
# Builds native/tests/quant_isa from the sources it needs (seconds, for a quick device run):
#   sh native/tests/build_quant_isa.sh [out-dir]
set -e
cd "$(dirname "$0")/.."
out=${1:-build/quant_isa_obj}
mkdir -p "$out"
flags="-O3 -std=gnu++20 -march=x86-64-v3 -Iinclude -Isrc -Wall -Wextra -Wno-unused-parameter"
for f in src/isa.cc src/thread_pool.cc src/dtype.cc src/backend/cpu/q8_rows.cc src/backend/cpu/kernels.cc \
         src/backend/cpu/quant_kernels_avx2.cc src/allocator.cc src/backend/cpu/gemm.cc src/backend/cpu/qmatmul_vnni_avx512.cc src/backend/cpu/gemm_kernel.cc \
         src/backend/cpu/gemm_kernel_avx512.cc tests/quant_isa.cc; do
  g++ $flags -c "$f" -o "$out/$(echo "$f" | tr / _).o" &
done
wait
g++ "$out"/*.o -lpthread -o "$out/quant_isa"
echo "$out/quant_isa"
