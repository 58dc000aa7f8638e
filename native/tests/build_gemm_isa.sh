#!/bin/sh
# Builds native/tests/gemm_isa from only the sources it needs (seconds, for a quick device run):
#   sh native/tests/build_gemm_isa.sh [out-dir]   (the CMake target gemm_isa builds the same program)
set -e
cd "$(dirname "$0")/.."
out=${1:-build/gemm_isa_obj}
mkdir -p "$out"
flags="-O3 -std=gnu++20 -march=x86-64-v3 -Iinclude -Isrc -Wall -Wextra -Wno-unused-parameter"
for f in src/isa.cc src/thread_pool.cc src/allocator.cc src/dtype.cc src/backend/cpu/gemm.cc src/backend/cpu/gemm_kernel.cc \
         src/backend/cpu/gemm_kernel_avx512.cc src/backend/cpu/kernels.cc tests/gemm_isa.cc; do
  g++ $flags -c "$f" -o "$out/$(echo "$f" | tr / _).o" &
done
wait
g++ "$out"/*.o -lpthread -o "$out/gemm_isa"
echo "$out/gemm_isa"
