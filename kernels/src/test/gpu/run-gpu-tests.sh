#!/usr/bin/env bash
# Runs octet's GPU checks on a machine with a GPU and no build tools: it builds nothing. Needs a Java 17
# runtime and a folder of built jars (see stage-device-lib.sh, which makes both from a build here):
#   run-gpu-tests.sh [java] [lib folder] [golden base]
# Runs: the JUnit console launcher over the CUDA tests (those needing a GPU, and the table checks), the
# conformance runner with --backend cuda (and cpu, for comparison) on the reference vectors, octet's
# benchmark and PyTorch's fused Adam, then prints a summary. Logs go to $OUT (or ./gpu-out). With a
# baseline kernels jar staged (BASELINE_JAR for stage-device-lib.sh), the benchmark runs BENCH_ROUNDS (3)
# times for each build, alternately, so that the two are compared in one run.
set -uo pipefail
java=${1:-.device-jre/bin/java}
lib=${2:-.device-lib}
golden=${3:-$lib/golden/bnb_golden}
out=${OUT:-gpu-out}
mkdir -p "$out"
cp="$lib/octet-kernels.jar:$lib/octet-kernels-tests.jar:$lib/octet-adapter-core.jar:$lib/octet-adapter-core-tests.jar"
cp="$cp:$lib/jcuda.jar:$lib/jcuda-natives-linux-x86_64.jar"
status=0

echo "== device"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1; date -u
"$java" -version 2>&1 | head -1

echo "== JUnit (the CUDA tests)"
"$java" -jar "$lib/junit-platform-console-standalone.jar" execute --class-path "$cp" \
    --select-class dev.octet.kernels.cuda.CudaKernelsGpuTest --select-class dev.octet.kernels.cuda.CudaFrameworkBuffersGpuTest --select-class dev.octet.kernels.cuda.CudaTablesTest \
    --select-class dev.octet.adapters.core.CudaUpdateGroupGpuTest \
    --details=tree --disable-banner --disable-ansi-colors \
    --reports-dir "$out/junit" 2>&1 | tee "$out/junit.log"
junit=${PIPESTATUS[0]}
[ "$junit" = 0 ] || status=1

echo "== conformance --backend cuda"
"$java" -cp "$cp" dev.octet.kernels.tools.ConformanceRunner --backend cuda "$golden" 2>&1 | tee "$out/conformance-cuda.log"
conf_cuda=${PIPESTATUS[0]}
[ "$conf_cuda" = 0 ] || status=1
"$java" -cp "$cp" dev.octet.kernels.tools.ConformanceRunner --backend cpu "$golden" > "$out/conformance-cpu.log" 2>&1
conf_cpu=$?

echo "== benchmark"
bench=0
if [ -f "$lib/baseline/octet-kernels.jar" ]; then
  baseline_cp="$lib/baseline/octet-kernels.jar:$lib/jcuda.jar:$lib/jcuda-natives-linux-x86_64.jar"
  for round in $(seq 1 "${BENCH_ROUNDS:-3}"); do
    for build in current baseline; do
      run_cp=$cp
      [ "$build" = baseline ] && run_cp=$baseline_cp
      # The benchmark moved from the cuda package to tools; a baseline jar may be older than the move.
      bench_class=dev.octet.kernels.tools.CudaBenchmark
      grep -aq dev/octet/kernels/tools/CudaBenchmark.class "${run_cp%%:*}" || bench_class=dev.octet.kernels.cuda.CudaBenchmark
      "$java" -cp "$run_cp" "$bench_class" "${BENCH_LOG2:-30}" "${BENCH_REPEATS:-20}" "${BENCH_BLOCKS:-256}" 2>&1 \
        | sed "s/^BENCH /BENCH $build-$round /" | tee -a "$out/bench-octet.log"
      [ "${PIPESTATUS[0]}" = 0 ] || bench=1
    done
  done
else
  "$java" -cp "$cp" dev.octet.kernels.tools.CudaBenchmark "${BENCH_LOG2:-30}" "${BENCH_REPEATS:-20}" "${BENCH_BLOCKS:-256}" 2>&1 | tee "$out/bench-octet.log"
  bench=${PIPESTATUS[0]}
fi
[ "$bench" = 0 ] || status=1
PYTHONUNBUFFERED=1 python3 "$(dirname "$0")/bench_torch.py" "${BENCH_LOG2:-30}" "${BENCH_REPEATS:-20}" 2>&1 | tee "$out/bench-torch.log"

echo "== summary"
echo "junit: $(grep -E "tests (successful|failed|skipped|aborted)" "$out/junit.log" | tr -d '[]' | tr -s ' ' | paste -sd, -) (exit $junit)"
echo "conformance cuda: $(tail -1 "$out/conformance-cuda.log") (exit $conf_cuda); cpu: $(tail -1 "$out/conformance-cpu.log") (exit $conf_cpu)"
grep -h "^BENCH" "$out"/bench-*.log
exit $status
