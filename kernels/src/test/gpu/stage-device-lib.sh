#!/usr/bin/env bash
# Copies what run-gpu-tests.sh needs into a folder (default: .device-lib of the checkout the device tool
# sends): the kernels jar with its fatbin, the test classes, JCuda with its natives cut down to the driver
# and runtime libraries, the adapters' core jar with its GPU test, the JUnit console launcher, the reference vectors and these scripts. Run after
# `mvn -pl kernels,adapters/core install` (or package; tests may be skipped) with nvcc present.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
kernels=$(cd "$here/../../.." && pwd)
dest=${1:-$kernels/../.device-lib}
golden=${2:-$kernels/../../shared/golden}
m2=${M2_REPO:-$HOME/.m2/repository}
jcuda=$(sed -n "s:.*<jcuda.version>\(.*\)</jcuda.version>.*:\1:p" "$kernels/../pom.xml")
mkdir -p "$dest/golden"
unzip -l "$kernels/target/octet-kernels-0.1.0-SNAPSHOT.jar" | grep -q octet_kernels.fatbin \
  || { echo "the kernels jar has no fatbin: build with nvcc first" >&2; exit 1; }
cp "$kernels/target/octet-kernels-0.1.0-SNAPSHOT.jar" "$dest/octet-kernels.jar"
(cd "$kernels/target/test-classes" && rm -f "$dest/octet-kernels-tests.jar" && jar cf "$dest/octet-kernels-tests.jar" .)
# The adapters' framework-free GPU wiring (CudaUpdateGroup) and its test.
core=$kernels/../adapters/core/target
cp "$core/octet-adapter-core-0.1.0-SNAPSHOT.jar" "$dest/octet-adapter-core.jar"
(cd "$core/test-classes" && rm -f "$dest/octet-adapter-core-tests.jar" && jar cf "$dest/octet-adapter-core-tests.jar" dev/octet/adapters/core/CudaUpdateGroupGpuTest*.class)
cp "$kernels/target/cuda-lib/jcuda.jar" "$dest/jcuda.jar"
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$kernels/target/cuda-lib/jcuda-natives-linux-x86_64.jar" 'lib/libJCudaDriver-*' 'lib/libJCudaRuntime-*' \
  && rm -f "$dest/jcuda-natives-linux-x86_64.jar" && jar cf "$dest/jcuda-natives-linux-x86_64.jar" lib)
rm -rf "$tmp"
cp "$m2/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar" \
  "$dest/junit-platform-console-standalone.jar"
cp "$golden/bnb_golden.json" "$golden/bnb_golden.bin" "$dest/golden/"
cp "$here/run-gpu-tests.sh" "$here/bench_torch.py" "$dest/"
# A kernels jar from another build (BASELINE_JAR=path): run-gpu-tests.sh then times both, alternately.
rm -rf "$dest/baseline"
if [ -n "${BASELINE_JAR:-}" ]; then
  mkdir -p "$dest/baseline" && cp "$BASELINE_JAR" "$dest/baseline/octet-kernels.jar"
fi
du -sh "$dest"
echo "jcuda $jcuda"
