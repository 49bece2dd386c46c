#!/usr/bin/env bash
# octet's DJL GPU checks on a GPU machine whose python has PyTorch (no Maven, no network): builds DJL's
# JNI bridge for that PyTorch once (djl-jni-for-torch.sh), then runs
#   tests   the JUnit tests: DjlGpuPathGpuTest (octet's GPU path vs its CPU path and vs DJL's own GPU
#           optimizers, save and resume across devices) and CudaKernelsGpuTest (every kernel vs the CPU)
#   bench   GpuStepBenchmark: one optimizer step of a >= 1B-parameter DJL model, DJL's own Adam and
#           octet (the same unchanged program, without and with -javaagent), in one run, alternating
#   fit     the largest model whose training step runs in the same free GPU memory, DJL's Adam and octet
#           (a python process holds the rest of the GPU before each job starts)
#   charlm  the DJL char-LM example on the GPU with the agent: 20 steps straight (twice, to see whether
#           the GPU's forward and backward passes repeat bit for bit), and 10 steps, save, load, 10 more;
#           parameters and saved files compared
# Usage: run-djl-gpu.sh [java] [staged folder] [what: tests,bench,fit,charlm]   (staged by stage-djl-gpu.sh)
set -uo pipefail
java=${1:-.device-jre/bin/java}
d=$(cd "${2:-.device-djl}" && pwd)
what=${3:-tests,bench}
out=${OUT:-gpu-out}
mkdir -p "$out"
status=0

echo "== device"; nvidia-smi --query-gpu=name,driver_version,memory.total,memory.free --format=csv,noheader; date -u
if ! ls "$d"/cache/pytorch/*/0.35.1-libdjl_torch.so >/dev/null 2>&1; then
  echo "== DJL's JNI bridge for this machine's PyTorch"
  start=$(date +%s)
  bash "$d/djl-jni-for-torch.sh" build "$d" > "$out/djl-jni-build.log" 2>&1 || { tail -30 "$out/djl-jni-build.log"; exit 1; }
  tail -2 "$out/djl-jni-build.log"; echo "built in $(( $(date +%s) - start )) s"
fi
# shellcheck disable=SC1091
source "$d/djl-env.sh"
export DJL_CACHE_DIR=$d/djl-home
flags=(-Dai.djl.offline=true)
tests_cp=$(ls "$d"/lib/*.jar | grep -v -e djl-charlm -e slf4j-simple | paste -sd:)
job_cp=$(ls "$d"/lib/*.jar | grep -v -e /octet- -e /jcuda -e snakeyaml | paste -sd:)

if [[ $what == *tests* ]]; then
  echo "== JUnit"
  "$java" "${flags[@]}" -jar "$d/junit-platform-console-standalone.jar" execute --class-path "$tests_cp" \
      --select-class dev.octet.adapters.djl.DjlGpuPathGpuTest --select-class dev.octet.kernels.cuda.CudaKernelsGpuTest \
      --details=tree --disable-banner --disable-ansi-colors --reports-dir "$out/junit" > "$out/junit.log" 2>&1
  [ $? = 0 ] || status=1
  grep -E "^\[octet\]|✘|tests (successful|failed|skipped)" "$out/junit.log" | head -60
  echo "junit: $(grep -E "tests (successful|failed|skipped|aborted)" "$out/junit.log" | tr -d '[]' | tr -s ' ' | paste -sd, -)" \
    >> "$out/summary.txt"
fi

# job <octet|djl> <GpuStepBenchmark arguments...>: the example job, with or without the agent.
job() {
  local agent=()
  [ "$1" = octet ] && agent=("-javaagent:$d/agent/octet-agent.jar")
  shift
  "$java" "${flags[@]}" "${agent[@]}" -cp "$job_cp" com.example.djlcharlm.bench.GpuStepBenchmark "$@"
}

if [[ $what == *bench* ]]; then
  layers=${BENCH_LAYERS:-16}; width=${BENCH_WIDTH:-8192}; steps=${BENCH_STEPS:-20}
  echo "== one optimizer step, $layers x Linear($width), median of $steps"
  for round in $(seq 1 "${BENCH_ROUNDS:-2}"); do
    for who in djl octet; do
      log=$out/bench-$who-$round.log
      job "$who" step "$layers" "$width" "$steps" > "$log" 2>&1 || { status=1; tail -20 "$log"; }
      echo "BENCH $who-$round $(grep '^result' "$log")" | tee -a "$out/summary.txt"
    done
  done
  grep -h "total optimizer state" "$out/bench-octet-1.log"
fi

# fits <octet|djl> <layers>: whether that many layers train with only $budget GiB of the GPU free.
fits() {
  rm -f "$out/holding"
  python3 "$d/hold-gpu-memory.py" "$budget" "$out/holding" &
  local holder=$!
  for _ in $(seq 1 120); do [ -s "$out/holding" ] && break; sleep 0.5; done
  job "$1" fit "$2" "$width" >> "$out/fit-$1.log" 2>&1
  local rc=$?
  kill "$holder"; wait "$holder" 2>/dev/null
  echo "FIT $1 layers $2 rc $rc"
  [ "$rc" = 0 ]
}

if [[ $what == *fit* ]]; then
  budget=${FIT_GIB:-8}; width=${FIT_WIDTH:-4096}
  echo "== the largest model that trains in $budget GiB of free GPU memory (Linear($width) layers)"
  for who in djl octet; do
    lo=${FIT_FROM:-8}; hi=$((lo * 2))
    fits "$who" "$lo" || { echo "FIT $who: even $lo layers do not fit"; continue; }
    while fits "$who" "$hi"; do lo=$hi; hi=$((hi * 2)); done
    while [ $((hi - lo)) -gt 1 ]; do
      mid=$(((lo + hi) / 2))
      if fits "$who" "$mid"; then lo=$mid; else hi=$mid; fi
    done
    echo "FIT-RESULT $who largest $lo layers of Linear($width) in $budget GiB: $(grep "fit ok layers $lo " "$out/fit-$who.log" \
      | grep -o 'parameters [0-9]*' | head -1)" | tee -a "$out/summary.txt"
  done
fi

if [[ $what == *charlm* ]]; then
  echo "== the DJL char-LM example on the GPU, with the agent: straight, and saved and resumed"
  charlm() {
    "$java" "${flags[@]}" "-javaagent:$d/agent/octet-agent.jar" -cp "$job_cp" com.example.djlcharlm.DjlCharLanguageModel \
      --device gpu --chars 1000000 --every 5 "$@"
  }
  c=$out/charlm && rm -rf "$c" && mkdir -p "$c"
  charlm --steps 20 --save "$c/straight" --dump "$c/straight.dump" > "$c/straight.log" 2>&1 || status=1
  charlm --steps 20 --dump "$c/again.dump" > "$c/again.log" 2>&1 || status=1
  charlm --steps 10 --save "$c/first" > "$c/first.log" 2>&1 || status=1
  charlm --steps 10 --load "$c/first" --save "$c/resumed" --dump "$c/resumed.dump" > "$c/resumed.log" 2>&1 || status=1
  grep -h "total optimizer state\|restored\|step 20\|loss" "$c/straight.log" "$c/resumed.log" | head -20
  # octet's CUDA backend unusable (its kernels unreadable): one warning, and DJL's own optimizer trains.
  "$java" "${flags[@]}" -Doctet.cuda.fatbin=/nonexistent "-javaagent:$d/agent/octet-agent.jar" -cp "$job_cp" \
    com.example.djlcharlm.DjlCharLanguageModel --device gpu --chars 1000000 --every 1 --steps 3 > "$c/no-gpu.log" 2>&1
  echo "CHARLM octet's CUDA backend absent: exit $?, $(grep -c 'octet cannot keep' "$c/no-gpu.log") warning(s)" \
    | tee -a "$out/summary.txt"
  grep -h "octet cannot keep" "$c/no-gpu.log" | head -2
  same() { cmp -s "$1" "$2" && echo same || echo DIFFERENT; }
  {
    echo "CHARLM straight twice: parameters $(same "$c/straight.dump" "$c/again.dump")"
    echo "CHARLM resumed vs straight: parameters $(same "$c/straight.dump" "$c/resumed.dump")"
    for f in "$c"/straight/*; do
      echo "CHARLM resumed vs straight: $(basename "$f") $(same "$f" "$c/resumed/$(basename "$f")")"
    done
  } | tee -a "$out/summary.txt"
fi

echo "== summary"
cat "$out/summary.txt"
exit $status
