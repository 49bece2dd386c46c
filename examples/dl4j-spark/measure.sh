#!/usr/bin/env bash
# Per executor, side by side in one run: the optimizer state's bytes, each executor JVM's peak resident
# memory, the time of one averaging round and the bytes broadcast and returned, for the same job on the
# cluster without and with octet (alternating, ROUNDS times). Needs a started cluster (cluster.sh start)
# and the agent built; JOB picks the example (see cluster.sh).
#   examples/dl4j-spark/measure.sh [job arguments]   (default: --hidden 4096 --examples 512 --epochs 2 --noise 5)
# Executors get 2 GB (EXECUTOR_MEMORY): start the cluster with WORKER_MEMORY=2560m, or Spark never places them.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(--hidden 4096 --examples 512 --epochs 2 --noise 5)
out=$here/target/measure
mkdir -p "$out"
export EXECUTOR_MEMORY=${EXECUTOR_MEMORY:-2g} DRIVER_MEMORY=${DRIVER_MEMORY:-4g}
for round in $(seq 1 "${ROUNDS:-2}"); do
  for who in dl4j octet; do
    agent=""
    [ "$who" = octet ] && agent="-javaagent:$root/agent/target/octet-agent.jar"
    log=$out/$who-$round.log
    OCTET_AGENT_OPTS=$agent "$here/cluster.sh" run "${args[@]}" > "$log" 2>&1
    state=$(grep -h "total optimizer state" "$log" | head -1 | sed 's/.*state: //' || true)
    rounds=$(grep -E "^epoch" "$log" | sed 's/.*, \([0-9.]*\) s per round/\1/' | paste -sd/ - || true)
    peaks=$(grep -h "peak resident memory" "$log" | sed 's/.*memory //' | paste -sd, - || true)
    # What crossed the wire: the broadcast pieces the driver stored (parameters and state for the workers)
    # and the task results the executors sent back, in MB over the whole job.
    sent=$(grep -h "stored as bytes in memory" "$log" | sed 's/.*estimated size \([0-9.]*\) \([KMG]*i*B\).*/\1 \2/' \
      | awk '{ f = $2 == "KiB" ? 1024 : $2 == "MiB" ? 1048576 : $2 == "GiB" ? 1073741824 : 1; s += $1 * f }
             END { printf "%.1f", s / 1e6 }')
    app=$(grep -o "app-[0-9]*-[0-9]*" "$log" | head -1 || true)
    back=$(cat "$here"/target/cluster/work-*/"$app"/*/stderr 2>/dev/null | grep -o "[0-9]* bytes result sent" \
      | awk '{ s += $1 } END { printf "%.1f", s / 1e6 }')
    echo "$who round $round: seconds per averaging round (each epoch) $rounds; executor peak resident memory $peaks;" \
      "state ${state:-float32, the framework-owned layout}; broadcast ${sent} MB, results ${back} MB"
  done
done
