#!/usr/bin/env bash
# Builds DJL 0.35.1's PyTorch JNI bridge (libdjl_torch.so) against a PyTorch other than the 2.7.1 DJL
# publishes it for (the lent GPU machine has PyTorch 2.11 for CUDA 13 in its python), and lays it out
# where DJL looks for it. DJL's sources and the built library are never committed: this script takes the
# path of a DJL v0.35.1 source checkout.
#
#   djl-jni-for-torch.sh prepare <djl checkout> <dest>   on a machine with a JDK: copies the bridge's C++
#                                                        sources, generates its JNI header (javac -h) and
#                                                        copies the JDK's jni.h, into <dest>/src (~0.3 MB)
#   djl-jni-for-torch.sh build <dest> [python3]          on the GPU machine (no JDK, no network needed):
#                                                        compiles against that python's torch, writes
#                                                        <dest>/cache/pytorch/<v>-<flavor>-linux-x86_64/
#                                                        0.35.1-libdjl_torch.so and <dest>/djl-env.sh
#   source <dest>/djl-env.sh                             then run the DJL job: PYTORCH_LIBRARY_PATH,
#                                                        PYTORCH_VERSION, PYTORCH_FLAVOR, ENGINE_CACHE_DIR
#
# Why not DJL's own build.sh: it downloads libtorch and runs torch's CMake config, which for a CUDA build
# of torch wants the CUDA toolkit. The bridge needs CUDA headers only for two optional features
# (USE_CUDA: a separate stream for inference, emptying the caching allocator), which octet does not use,
# so it is compiled as plain C++ against torch's headers and linked to libtorch, libtorch_cpu and libc10;
# DJL itself loads libtorch_cuda from the same folder. No patch of DJL's sources is applied unless the
# compiler says one is needed (none was needed for PyTorch 2.11: see the output of a build).
set -euo pipefail

usage() { sed -n '2,17p' "$0" >&2; exit 2; }
[ $# -ge 2 ] || usage

case "$1" in
prepare)
  djl=$(cd "$2" && pwd)
  dest=$3
  grep -q '^djl = "0.35.1"' "$djl/gradle/libs.versions.toml" 2>/dev/null \
    || { echo "$djl is not a DJL v0.35.1 source checkout (gradle/libs.versions.toml says another version)" >&2; exit 1; }
  javac_bin=$(command -v javac) || { echo "prepare needs a JDK (javac)" >&2; exit 1; }
  jdk=$(dirname "$(dirname "$(readlink -f "$javac_bin")")")
  rm -rf "$dest/src" && mkdir -p "$dest/src/native" "$dest/src/include/linux" "$dest/src/djl"
  cp "$djl"/engines/pytorch/pytorch-native/src/main/native/*.cc "$djl"/engines/pytorch/pytorch-native/src/main/native/*.h \
    "$dest/src/native/"
  cp "$djl/api/src/main/native/djl/utils.h" "$dest/src/djl/"
  cp "$jdk/include/jni.h" "$dest/src/include/" && cp "$jdk/include/linux/jni_md.h" "$dest/src/include/linux/"
  engine=$djl/engines/pytorch/pytorch-engine/src/main/java
  tmp=$(mktemp -d)
  javac -sourcepath "$engine" "$engine/ai/djl/pytorch/jni/PyTorchLibrary.java" -h "$dest/src/include" -d "$tmp"
  rm -rf "$tmp"
  du -sh "$dest/src"
  ;;
build)
  dest=$(cd "$2" && pwd)
  python=${3:-python3}
  eval "$("$python" - <<'EOF'
import os, torch
print("torch_dir=%s" % os.path.dirname(torch.__file__))
print("torch_version=%s" % torch.__version__.split("+")[0])
print("cuda_version=%s" % (torch.version.cuda or ""))
print("cxx11_abi=%d" % int(torch.compiled_with_cxx11_abi()))
EOF
)"
  flavor=cpu
  [ -n "$cuda_version" ] && flavor=cu$(echo "$cuda_version" | tr -d .)
  echo "torch $torch_version ($flavor, C++11 ABI $cxx11_abi) at $torch_dir"
  obj=$dest/obj && rm -rf "$obj" && mkdir -p "$obj"
  flags=(-std=c++17 -O2 -fPIC -D_GLIBCXX_USE_CXX11_ABI="$cxx11_abi" -w
    -I"$dest/src/include" -I"$dest/src/include/linux" -I"$dest/src"
    -I"$torch_dir/include" -I"$torch_dir/include/torch/csrc/api/include")
  export dest obj
  ls "$dest"/src/native/*.cc | xargs -P "$(nproc)" -I{} sh -c \
    'f={}; g++ '"${flags[*]}"' -c "$f" -o "$obj/$(basename "$f" .cc).o" || { echo "FAILED: $f" >&2; exit 255; }'
  lib=$dest/cache/pytorch/$torch_version-$flavor-linux-x86_64
  mkdir -p "$lib"
  g++ -shared -o "$lib/0.35.1-libdjl_torch.so" "$obj"/*.o -L"$torch_dir/lib" -ltorch -ltorch_cpu -lc10 \
    -Wl,-rpath,"$torch_dir/lib"
  cat > "$dest/djl-env.sh" <<EOF
export PYTORCH_LIBRARY_PATH=$torch_dir/lib
export PYTORCH_VERSION=$torch_version
export PYTORCH_FLAVOR=$flavor
export ENGINE_CACHE_DIR=$dest/cache
EOF
  echo "built $lib/0.35.1-libdjl_torch.so; source $dest/djl-env.sh before starting the DJL job"
  ;;
*) usage ;;
esac
