#!/usr/bin/env bash
# A Spark standalone cluster on this machine, from this module's Maven class path (target/lib), without a
# Spark distribution: a master and two workers, each its own JVM; the workers start executor JVMs as on
# any standalone cluster. Build first: mvn -f examples/dl4j-spark/pom.xml package (from the repository root).
#
#   examples/dl4j-spark/cluster.sh start      master + 2 workers (logs and pids in target/cluster)
#   examples/dl4j-spark/cluster.sh run ARGS   the example job on the cluster (ARGS go to the job)
#   examples/dl4j-spark/cluster.sh stop       stops what start started (by the pids it wrote)
#
# Environment: OCTET_AGENT_OPTS (e.g. -javaagent:/abs/octet-agent.jar=policy=/abs/p.yaml) is added to the
# driver's and the executors' java options (OCTET_DRIVER_AGENT_OPTS, OCTET_EXECUTOR_AGENT_OPTS, when set,
# instead, for one side only); JOB (the example's class: SparkParameterAveraging, or SparkCharLanguageModel);
# SPARK_PORT (7077), WORKER_MEMORY (1536m), EXECUTOR_MEMORY (1g), DRIVER_MEMORY (1g).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
target=$here/target
dir=$target/cluster
port=${SPARK_PORT:-7077}
master_url=spark://127.0.0.1:$port
opens=$(cat "$here/java17-opens.txt")
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

if [ ! -d "$target/lib" ] || [ ! -d "$target/classes" ]; then
  echo "build the module first: mvn -f examples/dl4j-spark/pom.xml package" >&2
  exit 1
fi

# What a Worker needs of SPARK_HOME when it builds an executor's command (spark-launcher's
# AbstractCommandBuilder.buildClassPath): a jars/ folder, whose jars/* goes on the executor's class path,
# and the Scala version (else it looks for a Spark build tree).
export SPARK_HOME=$dir/spark-home
export SPARK_SCALA_VERSION=2.12
export SPARK_LOCAL_IP=127.0.0.1
export SPARK_NO_DAEMONIZE=1

wait_for() { # file pattern seconds
  for _ in $(seq "$3"); do
    grep -q "$2" "$1" 2>/dev/null && return 0
    sleep 1
  done
  echo "timed out waiting for '$2' in $1" >&2
  tail -20 "$1" >&2
  return 1
}

case "${1:-}" in
  start)
    mkdir -p "$dir" "$SPARK_HOME"
    ln -sfn "$target/lib" "$SPARK_HOME/jars"
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    "$java" $opens -Xmx512m -cp "$target/lib/*" org.apache.spark.deploy.master.Master \
      --host 127.0.0.1 --port "$port" --webui-port 0 > "$dir/master.log" 2>&1 &
    echo $! > "$dir/master.pid"
    wait_for "$dir/master.log" "I have been elected leader" 60
    for n in 1 2; do
      mkdir -p "$dir/work-$n"
      # shellcheck disable=SC2086
      # Executors inherit the worker's environment: gradient sharing's parameter server listens on
      # DL4J_WORKER_PORT in each executor JVM (two on one host need two ports).
      DL4J_WORKER_PORT=$((40123 + n)) "$java" $opens -Xmx512m -cp "$target/lib/*" org.apache.spark.deploy.worker.Worker \
        --host 127.0.0.1 --cores 1 --memory "${WORKER_MEMORY:-1536m}" --webui-port 0 \
        --work-dir "$dir/work-$n" "$master_url" > "$dir/worker-$n.log" 2>&1 &
      echo $! > "$dir/worker-$n.pid"
    done
    for n in 1 2; do
      wait_for "$dir/worker-$n.log" "Successfully registered with master" 60
    done
    echo "cluster up at $master_url in $(( ($(date +%s%N) - t0) / 1000000 )) ms (logs in $dir)"
    ;;
  run)
    shift
    # Gradient sharing's Aeron media driver refuses DL4J's 30 s client liveness timeout unless the
    # publication unblock timeout exceeds it (Aeron's default is 15 s): for every JVM of the job.
    aeron=-Daeron.publication.unblock.timeout=60000000000
    driver_agent="$aeron ${OCTET_DRIVER_AGENT_OPTS-${OCTET_AGENT_OPTS:-}}"
    exec_opts="$opens $aeron ${OCTET_EXECUTOR_AGENT_OPTS-${OCTET_AGENT_OPTS:-}}"
    # Each executor JVM's peak resident memory (VmHWM), sampled every second while the job runs.
    : > "$dir/executor-memory.txt"
    (
      while :; do
        for p in $(pgrep -f "$dir/spark-home/.*org.apache.spark.executor.CoarseGrainedExecutorBackend" || true); do
          hwm=$(awk '/VmHWM/ {print $2}' "/proc/$p/status" 2>/dev/null || true)
          [ -n "$hwm" ] && echo "$p $hwm" >> "$dir/executor-memory.txt"
        done
        sleep 1
      done
    ) &
    sampler=$!
    trap 'kill $sampler 2>/dev/null || true' EXIT
    # shellcheck disable=SC2086
    DL4J_WORKER_PORT=40123 OMP_NUM_THREADS=1 "$java" $opens $driver_agent "-Xmx${DRIVER_MEMORY:-1g}" \
      -Dspark.driver.host=127.0.0.1 \
      -Dspark.executor.memory="${EXECUTOR_MEMORY:-1g}" \
      -Dspark.executor.extraClassPath="$target/classes" \
      "-Dspark.executor.extraJavaOptions=$exec_opts" \
      -Dspark.executorEnv.OMP_NUM_THREADS=1 \
      -cp "$target/classes:$target/lib/*" "com.example.spark.${JOB:-SparkParameterAveraging}" --master "$master_url" "$@"
    kill $sampler 2>/dev/null || true
    awk '{ if ($2 > m[$1]) m[$1] = $2 } END { for (p in m) printf "executor JVM %s: peak resident memory %.0f MiB\n", p, m[p] / 1024 }' \
      "$dir/executor-memory.txt"
    ;;
  stop)
    for f in "$dir"/worker-*.pid "$dir"/master.pid; do
      [ -f "$f" ] || continue
      pid=$(cat "$f")
      kill "$pid" 2>/dev/null && echo "stopped $(basename "$f" .pid) ($pid)" || true
      rm -f "$f"
    done
    ;;
  *)
    sed -n 2,12p "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
