#!/usr/bin/env bash
# The demo on the docker/docker-compose.yml stack, checked end to end:
#
#   1. builds the node image and brings up ZooKeeper and Kafka, waiting until both are healthy;
#   2. starts the three compose game nodes at v1 and waits until they host every session;
#   3. rolls them to v2 one at a time, as compose does it (docker stop = SIGTERM, then a new
#      container with the same member id), and checks each handoff from the nodes' logs: the old
#      container stashed all its sessions and every final stash was acknowledged; the new one
#      picked up exactly those sessions at exactly their stashed ticks (equal fingerprints:
#      count, sum of ticks, hash of the ids; see dev.handoff.demo.SessionDigest); no stash or
#      pickup failed and no node failed to decode another version's state;
#   4. stops the compose nodes and runs the measured demo (java -jar handoff-demo.jar, its nodes
#      as JVMs on this machine) against the stack's Kafka and ZooKeeper: its report must say
#      lost = stale = duplicated = 0 (its exit code);
#   5. takes the stack down (docker compose down -v), whatever happened.
#
# Usage (from anywhere; build the jar first with `mvn -B -q install -DskipTests`):
#   scripts/compose-demo.sh
# Environment:
#   SESSIONS                 sessions of the compose nodes and of the measured demo      [60]
#   DEMO_ARGS                extra options of the measured demo [--warmup-ms 1000 --settle-ms 300 --crash-node 2]
#   HANDOFF_COMPOSE          the compose command          [`docker compose`, else `docker-compose`]
#   HANDOFF_COMPOSE_PROJECT  the compose project name                            [handoff-demo]
#   HANDOFF_COMPOSE_RUN_DIR  where container logs and the demo's logs go
#                                        [handoff-demo/target/compose-runs/<time>]
#   JAVA                     the java command that runs the measured demo              [java]
#   and those of docker/docker-compose.yml: HANDOFF_KAFKA_IMAGE, HANDOFF_ZOOKEEPER_IMAGE,
#   HANDOFF_JRE_IMAGE, HANDOFF_NODE_IMAGE, HANDOFF_KAFKA_PORT, HANDOFF_KAFKA_CONTROLLER_PORT,
#   HANDOFF_ZOOKEEPER_PORT (scripts/docker-local.sh compose-demo sets the images to local ones).
# Exit code: 0 if every check passed, 1 if one failed, 2 if the run could not be made.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
FILE="$ROOT/docker/docker-compose.yml"
JAR="$ROOT/handoff-demo/target/handoff-demo.jar"
PROJECT="${HANDOFF_COMPOSE_PROJECT:-handoff-demo}"
RUN_DIR="${HANDOFF_COMPOSE_RUN_DIR:-$ROOT/handoff-demo/target/compose-runs/$(date +%Y%m%d-%H%M%S)}"
export SESSIONS="${SESSIONS:-60}"
export HANDOFF_KAFKA_PORT="${HANDOFF_KAFKA_PORT:-29092}"
export HANDOFF_ZOOKEEPER_PORT="${HANDOFF_ZOOKEEPER_PORT:-22181}"
export NODE_1_VERSION=v1 NODE_2_VERSION=v1 NODE_3_VERSION=v1
DEMO_ARGS="${DEMO_ARGS:---warmup-ms 1000 --settle-ms 300 --crash-node 2}"
JAVA="${JAVA:-java}"
START_TIMEOUT=180
STEP_TIMEOUT=120

# Everything this script says goes to standard error, also from inside $(...).
say() { echo "compose-demo: $*" >&2; }
fail() {
  say "FAIL: $*"
  exit 1
}
broken() {
  say "cannot run: $*"
  exit 2
}

if [[ -n "${HANDOFF_COMPOSE:-}" ]]; then
  read -r -a COMPOSE <<<"$HANDOFF_COMPOSE"
elif docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
elif command -v docker-compose >/dev/null 2>&1; then
  COMPOSE=(docker-compose)
else
  broken "neither 'docker compose' nor 'docker-compose' is installed"
fi
compose() { "${COMPOSE[@]}" -f "$FILE" -p "$PROJECT" "$@"; }
[[ -f "$JAR" && -d "$ROOT/handoff-demo/target/lib" ]] ||
  broken "$JAR or its lib/ is missing; build it first: mvn -B -q install -DskipTests"
docker version >/dev/null 2>&1 || broken "no Docker daemon answers (DOCKER_HOST=${DOCKER_HOST:-unset})"
mkdir -p "$RUN_DIR"

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local t0=$SECONDS
  # Keep what the containers printed, then remove containers, network and volumes.
  local id service
  docker ps -a --filter "label=com.docker.compose.project=$PROJECT" \
    --format '{{.ID}} {{.Label "com.docker.compose.service"}}' 2>/dev/null |
    while read -r id service; do
      docker logs "$id" >"$RUN_DIR/$service.log" 2>&1 || true
    done
  compose down -v --remove-orphans >"$RUN_DIR/down.log" 2>&1 || {
    say "compose down failed:"
    cat "$RUN_DIR/down.log" >&2
  }
  say "stack taken down in $((SECONDS - t0)) s; logs in $RUN_DIR"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

# The container id of a service, or nothing (by compose's labels: quicker than compose ps).
container() {
  docker ps -aq --filter "label=com.docker.compose.project=$PROJECT" \
    --filter "label=com.docker.compose.service=$1" 2>/dev/null | head -n 1
}
state() { docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1" 2>/dev/null; }

# Waits until the line pattern $2 (grep -E) appears in the log of container $1; prints the line.
await_log() {
  local id="$1" pattern="$2" what="$3" deadline=$((SECONDS + STEP_TIMEOUT)) line
  while :; do
    line="$(docker logs "$id" 2>&1 | grep -E -o "$pattern" | tail -n 1 || true)"
    if [[ -n "$line" ]]; then
      echo "$line"
      return
    fi
    if [[ "$(state "$id")" != running* ]]; then
      docker logs --tail 30 "$id" >&2 || true
      fail "the container exited before $what"
    fi
    ((SECONDS < deadline)) || fail "no sign after ${STEP_TIMEOUT} s that $what"
    sleep 0.5
  done
}

say "compose: ${COMPOSE[*]}; Kafka ${HANDOFF_KAFKA_IMAGE:-apache/kafka:4.3.1} on 127.0.0.1:$HANDOFF_KAFKA_PORT," \
  "ZooKeeper ${HANDOFF_ZOOKEEPER_IMAGE:-zookeeper:3.9} on 127.0.0.1:$HANDOFF_ZOOKEEPER_PORT, $SESSIONS sessions"

t0=$SECONDS
compose build >"$RUN_DIR/build.log" 2>&1 || {
  cat "$RUN_DIR/build.log"
  broken "building the node image failed"
}
say "node image built in $((SECONDS - t0)) s (base ${HANDOFF_JRE_IMAGE:-eclipse-temurin:17-jre})"

t0=$SECONDS
compose up -d zookeeper kafka >"$RUN_DIR/up.log" 2>&1 || {
  cat "$RUN_DIR/up.log"
  broken "starting ZooKeeper and Kafka failed"
}
declare -A healthy_after=() ids=()
for service in zookeeper kafka; do
  ids[$service]="$(container "$service")"
done
deadline=$((SECONDS + START_TIMEOUT))
while ((${#healthy_after[@]} < 2)); do
  for service in zookeeper kafka; do
    [[ -n "${healthy_after[$service]:-}" ]] && continue
    id="${ids[$service]}"
    case "$(state "$id")" in
      "running healthy") healthy_after[$service]=$((SECONDS - t0)) ;;
      running*) ;;
      *)
        docker logs --tail 30 "$id" || true
        broken "$service exited while starting"
        ;;
    esac
  done
  ((SECONDS < deadline)) || broken "ZooKeeper and Kafka are not both healthy after $START_TIMEOUT s"
  sleep 1
done
say "ZooKeeper healthy after ${healthy_after[zookeeper]} s, Kafka healthy after ${healthy_after[kafka]} s"

# v1 nodes: each creates its third of the sessions.
t0=$SECONDS
compose up -d --no-build node-1 node-2 node-3 >>"$RUN_DIR/up.log" 2>&1 || {
  cat "$RUN_DIR/up.log"
  broken "starting the nodes failed"
}
total=0
for i in 1 2 3; do
  line="$(await_log "$(container node-$i)" 'hosts [0-9]+ sessions: [0-9]+ picked up, [0-9]+ created' "node-$i hosts its sessions")"
  read -r _ n _ <<<"$line"
  hosting[i]=$n
  total=$((total + n))
done
((total == SESSIONS)) || fail "the v1 nodes host $total sessions, not $SESSIONS"
say "3 nodes at v1 host all $SESSIONS sessions (${hosting[1]}, ${hosting[2]}, ${hosting[3]}) $((SECONDS - t0)) s after start"
sleep 3 # let the sessions play and stash periodically before the roll

# The roll: one node at a time, v1 -> v2, stop first, then the new container.
for i in 1 2 3; do
  old="$(container node-$i)"
  t0=$SECONDS
  compose stop node-$i >>"$RUN_DIR/up.log" 2>&1 || broken "stopping node-$i failed"
  stop_s=$((SECONDS - t0))
  docker logs "$old" >"$RUN_DIR/node-$i-v1.log" 2>&1
  code="$(docker inspect -f '{{.State.ExitCode}}' "$old")"
  [[ "$code" == 143 || "$code" == 0 ]] ||
    fail "node-$i v1 exited with $code (137: killed after the grace period) instead of stopping on SIGTERM"
  stashed="$(grep -E -o "node-$i STASHED [0-9]+ [0-9]+ [0-9]+" "$RUN_DIR/node-$i-v1.log" | tail -n 1 || true)"
  [[ -n "$stashed" ]] || fail "node-$i v1 did not report its final stashes"
  read -r _ _ stash_total stash_acked stash_ms <<<"$stashed"
  ((stash_total == hosting[i] && stash_acked == stash_total)) ||
    fail "node-$i v1 hosted ${hosting[i]} sessions, stashed $stash_total at shutdown, $stash_acked acknowledged"
  final="$(grep -E -o 'final stashes: sessions=[0-9]+ tickSum=[0-9]+ keyHash=[0-9a-f]+' "$RUN_DIR/node-$i-v1.log" | tail -n 1 || true)"
  final="${final#final stashes: }"
  [[ -n "$final" ]] || fail "node-$i v1 logged no fingerprint of its final stashes"

  export "NODE_${i}_VERSION=v2"
  compose up -d --no-build node-$i >>"$RUN_DIR/up.log" 2>&1 || broken "starting node-$i v2 failed"
  new="$(container node-$i)"
  [[ -n "$new" && "$new" != "$old" ]] || fail "compose did not replace node-$i"
  line="$(await_log "$new" '\(v2\) hosts [0-9]+ sessions: [0-9]+ picked up, [0-9]+ created' "node-$i v2 hosts its sessions")"
  read -r _ _ n _ picked _ _ created _ <<<"$line"
  pause_s=$((SECONDS - t0))
  resumed="$(docker logs "$new" 2>&1 | grep -E -o 'resumed from the log: sessions=[0-9]+ tickSum=[0-9]+ keyHash=[0-9a-f]+' | tail -n 1 || true)"
  resumed="${resumed#resumed from the log: }"
  ((picked == stash_total && created == 0 && n == stash_total)) ||
    fail "node-$i v2 hosts $n sessions, $picked picked up and $created created; v1 stashed $stash_total"
  [[ "$resumed" == "$final" ]] ||
    fail "node-$i v2 resumed {$resumed} but v1's final stashes were {$final}: a session was lost or resumed from an older tick"
  hosting[i]=$n
  say "roll $i/3: node-$i v1 -> v2: v1 stashed $stash_total/$stash_total in $stash_ms ms (stop took $stop_s s);" \
    "v2 picked them up at their stashed ticks ($resumed), hosting again $pause_s s after the stop: OK"
done
sleep 3 # the v2 nodes peek at each other's states for a few seconds

# Every node's whole log: no failed stash or pickup, no undecodable state, no error.
for i in 1 2 3; do
  docker logs "$(container node-$i)" >"$RUN_DIR/node-$i-v2.log" 2>&1
done
problems="$(grep -h -E "node-[123] (NACK|PFAIL) | ERROR |cannot decode" "$RUN_DIR"/node-*-v[12].log | head -5 || true)"
[[ -z "$problems" ]] || fail "the nodes logged failures, e.g.:"$'\n'"$problems"
bad_stats="$(grep -h -E -o 'node-[123] STATS [0-9]+ [0-9]+ [0-9]+ [0-9]+ [0-9]+' "$RUN_DIR"/node-*-v[12].log |
  awk '$5 != 0 || $7 != 0' | head -3 || true)"
[[ -z "$bad_stats" ]] || fail "stash failures or decode errors in the nodes' counters:"$'\n'"$bad_stats"
say "compose roll: PASS ($SESSIONS sessions, 3 nodes v1 -> v2, no failed stash, pickup or decode)"

# The compose nodes make way for the measured demo (their JVMs would only compete for the CPU).
compose stop node-1 node-2 node-3 >>"$RUN_DIR/up.log" 2>&1 || broken "stopping the nodes failed"

t0=$SECONDS
say "measured demo: java -jar handoff-demo.jar --kafka 127.0.0.1:$HANDOFF_KAFKA_PORT" \
  "--zookeeper 127.0.0.1:$HANDOFF_ZOOKEEPER_PORT --sessions $SESSIONS $DEMO_ARGS"
code=0
# shellcheck disable=SC2086 # DEMO_ARGS is a list of options
"$JAVA" -jar "$JAR" --kafka "127.0.0.1:$HANDOFF_KAFKA_PORT" --zookeeper "127.0.0.1:$HANDOFF_ZOOKEEPER_PORT" \
  --sessions "$SESSIONS" $DEMO_ARGS --run-dir "$RUN_DIR/demo" || code=$?
case "$code" in
  0) say "measured demo: PASS in $((SECONDS - t0)) s (lost, stale and duplicated are 0)" ;;
  1) fail "the measured demo's report counts lost, stale or duplicated sessions (see above)" ;;
  *) broken "the measured demo failed to run (exit $code; logs in $RUN_DIR/demo)" ;;
esac
say "PASS"
