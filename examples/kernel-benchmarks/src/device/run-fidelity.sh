#!/usr/bin/env bash
# Runs the fidelity study's DL4J runs on the lent many-core machine with what stage-fidelity.sh packed.
# Three steps, one device call each (a call may carry 64 MiB and run 10 minutes; the study runs on in its
# own process session between calls of the same warm machine):
#   run-fidelity.sh unpack                 (carry .device-fidelity-a) the runtime and ND4J's native library
#   run-fidelity.sh start SECONDS ARGS...  (carry .device-fidelity-b) the rest; starts FidelityStudy ARGS
#                                          and watches it for SECONDS
#   run-fidelity.sh watch SECONDS          watches again
# Every call leaves the study's output and its runs folder under $OUT (target/fidelity-runs there). The
# report and its charts are written afterwards where the runs come back (FidelityStudy --report-only true):
# the lent machine lacks the font libraries Java's chart drawing loads (libharfbuzz).
# Run from the project root (where the device tool runs commands). What is unpacked goes under target/:
# the device tool keeps target/ between calls of one warm machine, not other ignored top-level folders.
set -euo pipefail
root=$PWD
x=$root/target/device-fidelity
out=${OUT:-/tmp/out}
mkdir -p "$x" "$out"

unpack_xz() { # file.xz -> stdout
  if command -v xz >/dev/null; then xz -dc "$1"; else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$1"; fi
}

collect() {
  cp "$x/study.log" "$out/" 2>/dev/null || true
  if [ -d "$root/target/fidelity-runs" ]; then
    tar -C "$root/target" -czf "$out/fidelity-runs.tar.gz" fidelity-runs
  fi
}

watch() { # seconds
  local until=$((SECONDS + $1))
  while [ $SECONDS -lt $until ]; do
    if ! pgrep -f FidelityStudy >/dev/null; then
      echo "the study has ended"; break
    fi
    sleep 30
  done
  echo "--- $(date -u +%H:%M:%S) load: $(cut -d' ' -f1-3 /proc/loadavg)"
  tail -n 40 "$x/study.log" || true
  collect
}

case ${1:?unpack, start or watch} in
  unpack)
    a=$root/.device-fidelity-a
    rm -rf "$x/jre" && unpack_xz "$a/jre.tar.xz" | tar -C "$x" -xf -
    for f in "$a"/nd4j-native-*.jar.xz; do unpack_xz "$f" > "$x/$(basename "${f%.xz}")"; done
    "$x/jre/bin/java" -version 2>&1 | head -1
    nproc; grep -m1 'model name' /proc/cpuinfo; free -g | head -2
    ls -la "$x"
    ;;
  start)
    seconds=$2; shift 2
    rm -rf "$x/b" && unpack_xz "$root/.device-fidelity-b/b.tar.xz" | tar -C "$x" -xf -
    lib=examples/dl4j-charlm/target/lib
    rm -rf "$lib" examples/dl4j-charlm/target/classes && mkdir -p "$lib" agent/target examples/kernel-benchmarks/target
    cp "$x"/b/lib/*.jar "$x"/nd4j-native-*.jar "$lib/"
    cp -r "$x/b/classes" examples/dl4j-charlm/target/classes
    cp "$x/b/agent/octet-agent.jar" agent/target/
    cp "$x/b/kernel-benchmarks.jar" examples/kernel-benchmarks/target/
    setsid nohup "$x/jre/bin/java" -cp examples/kernel-benchmarks/target/kernel-benchmarks.jar \
      dev.octet.examples.fidelity.FidelityStudy "$@" > "$x/study.log" 2>&1 < /dev/null &
    sleep 60
    head -n 5 "$x/study.log"
    for log in target/fidelity-runs/*.log; do echo "== $log"; grep -v '^step' "$log" | head -n 30; tail -n 2 "$log"; break; done
    watch $((seconds - 60))
    ;;
  watch)
    watch "$2"
    ;;
esac
