#!/usr/bin/env bash
# Per executor, side by side in one run: the optimizer state's bytes, each executor JVM's peak resident
# memory and the time of one averaging round, for the same job on the cluster without and with octet
# (alternating, ROUNDS times). Needs a started cluster (cluster.sh start) and the agent built.
#   examples/dl4j-spark/measure.sh [job arguments]   (default: --hidden 4096 --examples 512 --epochs 2 --noise 5)
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
    echo "$who round $round: seconds per averaging round (each epoch) $rounds; executor peak resident memory $peaks;" \
      "state ${state:-float32, the framework-owned layout}"
  done
done
