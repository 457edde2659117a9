#!/usr/bin/env bash
# Local single-node Apache Kafka 3.9.1 broker (KRaft, broker+controller in one
# JVM) run straight from the Maven Central jars. No Docker, no tarball.
#
#   kafka.sh start     fetch jars if needed, format storage, start, wait ready;
#                      prints exactly one stdout line: KAFKA_BROKERS=127.0.0.1:<port>
#   kafka.sh stop      SIGTERM, wait up to KAFKA_STOP_TIMEOUT s, then SIGKILL
#   kafka.sh status    exit 0 if running and answering metadata, 1 otherwise
#   kafka.sh restart   stop + start, keeping data
#   kafka.sh reset     stop + delete the run dir's data, logs and cluster id
#   kafka.sh fetch     only download the jars into lib/
#
# Environment (all optional):
#   KAFKA_PORT              PLAINTEXT listener port         (default 19092)
#   KAFKA_CONTROLLER_PORT   KRaft controller listener port  (default 19093)
#   KAFKA_RUN_DIR           config, data, logs, pid file    (default <script dir>/run)
#   KAFKA_LIB_DIR           jars                            (default <script dir>/lib)
#   KAFKA_HEAP_OPTS         broker heap         (default "-Xms256m -Xmx512m")
#   KAFKA_START_TIMEOUT     seconds to wait for readiness   (default 90)
#   KAFKA_STOP_TIMEOUT      seconds to wait after SIGTERM   (default 30)
#   KAFKA_MVN_ARGS          extra arguments for mvn (e.g. -Dmaven.repo.local=...)
#   KAFKA_LOG4J_CONFIG      log4j 1.x config file  (default <script dir>/log4j.properties)
#   JAVA_HOME               if set, $JAVA_HOME/bin/java is used, else java from PATH
#
# Only the KAFKA_BROKERS line goes to stdout; everything else goes to stderr.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
RUN_DIR="${KAFKA_RUN_DIR:-$SCRIPT_DIR/run}"
LIB_DIR="${KAFKA_LIB_DIR:-$SCRIPT_DIR/lib}"
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
POM="$SCRIPT_DIR/pom.xml"
LOG4J_CONFIG="${KAFKA_LOG4J_CONFIG:-$SCRIPT_DIR/log4j.properties}"

HOST=127.0.0.1
DATA_DIR="$RUN_DIR/data"
LOGS_DIR="$RUN_DIR/logs"
PID_FILE="$RUN_DIR/kafka.pid"
OUT_FILE="$RUN_DIR/kafka.out"
SERVER_PROPS="$RUN_DIR/server.properties"
ADMIN_PROPS="$RUN_DIR/admin.properties"
CLUSTER_ID_FILE="$RUN_DIR/cluster.id"

# Jars that must be present for lib/ to count as complete (besides the list
# recorded in lib/.complete by the last successful fetch).
REQUIRED_JARS=(
  kafka_2.13-3.9.1.jar
  kafka-clients-3.9.1.jar
  kafka-tools-3.9.1.jar
  slf4j-reload4j-1.7.36.jar
  reload4j-1.2.25.jar
)
# Main classes (Kafka 3.9.1). The topic tool moved out of core:
# kafka.admin.TopicCommand no longer exists, it is org.apache.kafka.tools.TopicCommand
# in the kafka-tools artifact.
BROKER_MAIN=kafka.Kafka
STORAGE_TOOL_MAIN=kafka.tools.StorageTool
TOPIC_TOOL_MAIN=org.apache.kafka.tools.TopicCommand
GROUP_TOOL_MAIN=org.apache.kafka.tools.consumer.group.ConsumerGroupCommand

log() { printf '[kafka.sh] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
else
  JAVA="$(command -v java || true)"
fi

require_java() {
  [[ -n "$JAVA" ]] || die "java not found (set JAVA_HOME or put java on PATH); Java 17+ is needed"
}

# Fast-starting JVM settings for the short-lived helper tools.
TOOL_JVM=("$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true
  -Dlog4j.configuration="file:$LOG4J_CONFIG"
  -Dkafka.logs.dir="$LOGS_DIR" -Dkafka.log.name=tools.log
  -cp "$LIB_DIR/*")
tool_java() { "${TOOL_JVM[@]}" "$@"; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# ---------------------------------------------------------------- jars ----

lib_complete() {
  local marker="$LIB_DIR/.complete" jar
  [[ -f "$marker" ]] || return 1
  [[ "$(head -n1 "$marker")" == "pom-sha256 $(sha256_of "$POM")" ]] || return 1
  for jar in "${REQUIRED_JARS[@]}"; do
    [[ -f "$LIB_DIR/$jar" ]] || return 1
  done
  while IFS= read -r jar; do
    [[ -f "$LIB_DIR/$jar" ]] || return 1
  done < <(tail -n +2 "$marker")
  return 0
}

fetch_jars() {
  mkdir -p "$LIB_DIR"
  # Serialise concurrent fetches (several run dirs can share one lib dir).
  exec 8>"$LIB_DIR/.lock"
  flock -w 600 8 || die "timed out waiting for another jar download ($LIB_DIR/.lock)"
  if lib_complete; then
    exec 8>&-
    return 0
  fi
  local mvn
  mvn="$(command -v mvn || true)"
  [[ -n "$mvn" ]] || die "mvn not found on PATH; it is needed once to fetch the Kafka jars from Maven Central"
  log "fetching Kafka jars from Maven Central into $LIB_DIR (missing or incomplete) ..."
  local t0=$SECONDS
  rm -f "$LIB_DIR"/*.jar "$LIB_DIR/.complete"
  # Debian's mvn emits stray ANSI resets even with -q/-B; strip them.
  # shellcheck disable=SC2086
  if ! "$mvn" -B -q -Dstyle.color=never -f "$POM" ${KAFKA_MVN_ARGS:-} \
      dependency:copy-dependencies \
      -DoutputDirectory="$LIB_DIR" -Dmdep.includeScope=runtime 2>&1 \
      | sed -u 's/\x1b\[[0-9;]*m//g' >&2; then
    die "mvn dependency:copy-dependencies failed (see output above)"
  fi
  local jar
  for jar in "${REQUIRED_JARS[@]}"; do
    [[ -f "$LIB_DIR/$jar" ]] || die "download finished but $jar is missing from $LIB_DIR"
  done
  {
    echo "pom-sha256 $(sha256_of "$POM")"
    (cd "$LIB_DIR" && ls -1 -- *.jar)
  } > "$LIB_DIR/.complete.tmp"
  mv "$LIB_DIR/.complete.tmp" "$LIB_DIR/.complete"
  log "fetched $(($(wc -l < "$LIB_DIR/.complete") - 1)) jars in $((SECONDS - t0)) s"
  exec 8>&-
}

# ------------------------------------------------------------- process ----

# Is $1 a live process running our broker (guards against recycled pids)?
is_our_broker() {
  local pid="$1" cmdline
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  cmdline="$(tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null || true)"
  [[ "$cmdline" == *"$BROKER_MAIN"*"$SERVER_PROPS"* ]]
}

# Pid of the running broker for this run dir, or empty. Falls back to a scan
# of /proc for a broker started with this exact server.properties in case the
# pid file was lost.
broker_pid() {
  local pid=""
  if [[ -f "$PID_FILE" ]]; then
    pid="$(tr -dc '0-9' < "$PID_FILE" || true)"
    if is_our_broker "$pid"; then echo "$pid"; return 0; fi
  fi
  local d
  for d in /proc/[0-9]*; do
    pid="${d#/proc/}"
    if is_our_broker "$pid"; then echo "$pid"; return 0; fi
  done
  return 0
}

port_open() {
  timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
}

# The broker answers a metadata request (lists topics).
answers_metadata() {
  [[ -f "$ADMIN_PROPS" ]] || write_admin_props
  local out
  if out="$(timeout 30 "${TOOL_JVM[@]}" "$TOPIC_TOOL_MAIN" \
        --bootstrap-server "$HOST:$KAFKA_PORT" --command-config "$ADMIN_PROPS" --list 2>&1)"; then
    return 0
  fi
  LAST_PROBE_OUTPUT="$out"
  return 1
}
LAST_PROBE_OUTPUT=""

# Byte offset of server.log when this start launched the broker, so that a
# failure shows this run's lines rather than the previous run's.
SERVER_LOG_OFFSET=0

show_log_tail() {
  if [[ -s "$OUT_FILE" ]]; then
    log "---- last 40 lines of $OUT_FILE ----"
    tail -n 40 "$OUT_FILE" >&2 || true
  fi
  local server_log="$LOGS_DIR/server.log" size
  if [[ -s "$server_log" ]]; then
    size="$(stat -c %s "$server_log")"
    if (( size > SERVER_LOG_OFFSET )); then
      log "---- last 40 lines of $server_log (this start) ----"
      tail -c +"$((SERVER_LOG_OFFSET + 1))" "$server_log" | tail -n 40 >&2 || true
    elif (( size < SERVER_LOG_OFFSET )); then
      log "---- last 40 lines of $server_log ----"
      tail -n 40 "$server_log" >&2 || true
    else
      log "(nothing new in $server_log)"
    fi
  fi
  if [[ -n "$LAST_PROBE_OUTPUT" ]]; then
    log "---- last readiness probe output ($TOPIC_TOOL_MAIN --list) ----"
    printf '%s\n' "$LAST_PROBE_OUTPUT" | tail -n 20 >&2
  fi
}

# -------------------------------------------------------------- config ----

write_admin_props() {
  mkdir -p "$RUN_DIR"
  cat > "$ADMIN_PROPS" <<EOF
# client settings for the readiness probe (written by kafka.sh)
request.timeout.ms=5000
default.api.timeout.ms=10000
socket.connection.setup.timeout.ms=2000
socket.connection.setup.timeout.max.ms=5000
EOF
}

write_server_props() {
  mkdir -p "$RUN_DIR" "$DATA_DIR" "$LOGS_DIR"
  cat > "$SERVER_PROPS" <<EOF
# Written by infra/kafka/kafka.sh on every start; edits here are overwritten.
# Single-node KRaft: this JVM is both broker and (the only) controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$KAFKA_PORT,CONTROLLER://$HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$KAFKA_PORT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
inter.broker.listener.name=PLAINTEXT

log.dirs=$DATA_DIR

# One broker: every internal topic has replication factor 1.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=3
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
default.replication.factor=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0

num.partitions=3
auto.create.topics.enable=true
delete.topic.enable=true

# Small footprint, test-sized retention.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.segment.bytes=16777216
log.retention.hours=24
log.retention.bytes=268435456
log.retention.check.interval.ms=60000
log.cleaner.dedupe.buffer.size=16777216
log.cleaner.threads=1
metadata.log.segment.bytes=8388608
metadata.max.retention.bytes=33554432
EOF
}

cluster_id() {
  if [[ ! -s "$CLUSTER_ID_FILE" ]]; then
    local id
    id="$(tool_java "$STORAGE_TOOL_MAIN" random-uuid 2>/dev/null | tail -n1 | tr -d '[:space:]')"
    [[ "$id" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "could not generate a cluster id (got '$id')"
    echo "$id" > "$CLUSTER_ID_FILE"
  fi
  tr -d '[:space:]' < "$CLUSTER_ID_FILE"
}

format_storage() {
  local id out
  id="$(cluster_id)"
  # Same outcome as "format --ignore-formatted" on formatted storage, minus a JVM start.
  if [[ -s "$DATA_DIR/meta.properties" ]] && grep -qx "cluster.id=$id" "$DATA_DIR/meta.properties"; then
    log "storage: already formatted (cluster id $id)"
    return 0
  fi
  if ! out="$(tool_java "$STORAGE_TOOL_MAIN" format --ignore-formatted \
        -t "$id" -c "$SERVER_PROPS" 2>&1)"; then
    printf '%s\n' "$out" >&2
    die "storage format failed (cluster id $id, log.dirs $DATA_DIR)"
  fi
  log "storage: $(printf '%s' "$out" | tail -n1)"
}

# On fresh data, make the broker create __consumer_offsets now (a group
# coordinator lookup does that) so the first consumer in a test does not hit
# COORDINATOR_NOT_AVAILABLE and retry. Best effort: never fails the start.
warm_group_coordinator() {
  if compgen -G "$DATA_DIR/__consumer_offsets-*" >/dev/null; then return 0; fi
  local t0=$SECONDS
  timeout 30 "${TOOL_JVM[@]}" "$GROUP_TOOL_MAIN" \
    --bootstrap-server "$HOST:$KAFKA_PORT" --command-config "$ADMIN_PROPS" \
    --describe --group kafka-sh-warmup >/dev/null 2>&1 || true
  if compgen -G "$DATA_DIR/__consumer_offsets-*" >/dev/null; then
    log "group coordinator ready (__consumer_offsets created in $((SECONDS - t0)) s)"
  fi
}

# ------------------------------------------------------------ commands ----

print_brokers() { echo "KAFKA_BROKERS=$HOST:$KAFKA_PORT"; }

wait_ready() {
  local pid="$1" deadline=$((SECONDS + START_TIMEOUT)) t0=$SECONDS
  while (( SECONDS < deadline )); do
    if ! is_our_broker "$pid"; then
      log "broker process $pid exited during startup"
      show_log_tail
      rm -f "$PID_FILE"
      return 1
    fi
    if port_open "$KAFKA_PORT" && answers_metadata; then
      log "broker ready after $((SECONDS - t0)) s (pid $pid)"
      return 0
    fi
    sleep 0.5
  done
  log "broker not ready after ${START_TIMEOUT} s (pid $pid)"
  show_log_tail
  return 1
}

cmd_start() {
  require_java
  mkdir -p "$RUN_DIR"
  local pid
  pid="$(broker_pid)"
  if [[ -n "$pid" ]]; then
    fetch_jars
    if port_open "$KAFKA_PORT" && answers_metadata; then
      log "already running (pid $pid) on $HOST:$KAFKA_PORT"
      print_brokers
      return 0
    fi
    log "broker process $pid exists but does not answer yet; waiting"
    wait_ready "$pid" || die "broker (pid $pid) is not healthy; try: $0 restart"
    print_brokers
    return 0
  fi
  rm -f "$PID_FILE"

  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT"; do
    if port_open "$p"; then
      die "port $HOST:$p is already in use by another process (not a broker from $RUN_DIR); set KAFKA_PORT / KAFKA_CONTROLLER_PORT"
    fi
  done

  fetch_jars
  write_server_props
  write_admin_props
  format_storage

  log "starting Kafka 3.9.1 broker on $HOST:$KAFKA_PORT (controller $HOST:$KAFKA_CONTROLLER_PORT, run dir $RUN_DIR)"
  : > "$OUT_FILE"
  SERVER_LOG_OFFSET="$(stat -c %s "$LOGS_DIR/server.log" 2>/dev/null || echo 0)"
  local setsid_cmd=()
  if command -v setsid >/dev/null 2>&1; then setsid_cmd=(setsid); fi
  # The inner bash writes its own pid, then execs java, so the pid file holds
  # the JVM's pid even if setsid had to fork. The broker gets its own session,
  # no inherited stdout (callers capturing our stdout must not hang) and none
  # of our lock file descriptors (8, 9), or it would hold the run-dir lock
  # for its whole life.
  # shellcheck disable=SC2086,SC2016
  nohup "${setsid_cmd[@]}" bash -c 'echo $$ > "$1"; shift; exec "$@"' _ "$PID_FILE" \
    "$JAVA" $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
    -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$LOG4J_CONFIG" \
    -Dkafka.logs.dir="$LOGS_DIR" -Dkafka.log.name=server.log \
    -cp "$LIB_DIR/*" "$BROKER_MAIN" "$SERVER_PROPS" \
    >> "$OUT_FILE" 2>&1 < /dev/null 8>&- 9>&- &
  local launcher=$!

  # Wait for the pid file written by the launcher.
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s "$PID_FILE" ]] && break
    sleep 0.1
  done
  pid="$(tr -dc '0-9' < "$PID_FILE" 2>/dev/null || true)"
  [[ -n "$pid" ]] || pid="$launcher"
  echo "$pid" > "$PID_FILE"

  if ! wait_ready "$pid"; then
    stop_pid "$pid"
    rm -f "$PID_FILE"
    die "Kafka broker failed to start"
  fi
  warm_group_coordinator
  print_brokers
}

stop_pid() {
  local pid="$1" deadline
  kill -TERM "$pid" 2>/dev/null || return 0
  deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null && (( SECONDS < deadline )); do
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "broker (pid $pid) still alive after ${STOP_TIMEOUT} s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
}

cmd_stop() {
  local pid t0=$SECONDS
  pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    log "not running"
    return 0
  fi
  log "stopping broker (pid $pid) ..."
  stop_pid "$pid"
  rm -f "$PID_FILE"
  log "stopped in $((SECONDS - t0)) s"
}

cmd_status() {
  local pid
  pid="$(broker_pid)"
  if [[ -z "$pid" ]]; then
    log "not running"
    return 1
  fi
  if [[ ! -f "$LIB_DIR/.complete" ]]; then
    log "pid $pid is running but $LIB_DIR is incomplete; cannot probe"
    return 1
  fi
  require_java
  if port_open "$KAFKA_PORT" && answers_metadata; then
    log "running (pid $pid), answering on $HOST:$KAFKA_PORT"
    return 0
  fi
  log "process $pid is running but $HOST:$KAFKA_PORT does not answer metadata"
  return 1
}

cmd_restart() {
  cmd_stop
  cmd_start
}

cmd_reset() {
  cmd_stop
  log "deleting broker data in $RUN_DIR"
  rm -rf -- "$DATA_DIR" "$LOGS_DIR"
  rm -f -- "$CLUSTER_ID_FILE" "$SERVER_PROPS" "$ADMIN_PROPS" "$OUT_FILE" "$PID_FILE"
}

with_run_lock() {
  mkdir -p "$RUN_DIR"
  exec 9>"$RUN_DIR/.lock"
  flock -w 300 9 || die "another kafka.sh command holds $RUN_DIR/.lock"
  "$@"
}

usage() {
  sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

main() {
  local cmd="${1:-}"
  case "$cmd" in
    start)   with_run_lock cmd_start ;;
    stop)    with_run_lock cmd_stop ;;
    restart) with_run_lock cmd_restart ;;
    reset)   with_run_lock cmd_reset ;;
    status)  cmd_status ;;
    fetch)   require_java; fetch_jars ;;
    -h|--help|help) usage ;;
    *) usage; exit 2 ;;
  esac
}

main "$@"
