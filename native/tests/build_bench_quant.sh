#!/bin/sh
# Builds native/tests/bench_quant (the core compiled in, no Node needed): sh native/tests/build_bench_quant.sh
set -e
cd "$(dirname "$0")/.."
out=build/bench_quant_obj
mkdir -p "$out"
find src -name '*.cc' | xargs -P "$(nproc)" -I{} sh -c 'o='"$out"'/$(echo {} | tr / _).o; g++ -O3 -march=native -std=c++20 -Iinclude -Isrc -c {} -o "$o"'
g++ -O3 -march=native -std=c++20 -Iinclude -Isrc tests/bench_quant.cc "$out"/*.o -lpthread -o build/bench_quant
