#!/usr/bin/env bash
# A private Docker daemon and locally made Kafka and ZooKeeper images, for machines that have
# no Docker daemon running and no image registry (see the Testcontainers section of
# handoff-testkit/README.md).
#
#   scripts/docker-local.sh start          install docker.io if needed, start the daemon, build images
#   scripts/docker-local.sh stop           stop the daemon (and every container it runs)
#   scripts/docker-local.sh build-images   (re)build the images with a running daemon
#   scripts/docker-local.sh env            print the environment a test run needs (eval it)
#   scripts/docker-local.sh compose-demo   run scripts/compose-demo.sh (docker/docker-compose.yml,
#                                          rolled and measured) with the local images; installs
#                                          Debian's docker-compose if no compose is there
#
# The daemon runs with --bridge=none and no iptables rules: containers use host networking
# only and the tests bind every server to 127.0.0.1. The images are made from this machine's
# JDK and the Kafka/ZooKeeper jars from Maven (local repository first, then Maven Central);
# nothing is pulled from a registry. They speak the same contract as the public images, which
# is all TestcontainersEnvironment and docker/docker-compose.yml use: handoff-local/kafka is
# configured by KAFKA_* variables and CLUSTER_ID like apache/kafka (or runs
# /opt/kafka/bin/kafka-storage.sh and kafka-server-start.sh on a given file), handoff-local/zookeeper
# by ZOO_* variables or a /conf/zoo.cfg like the official zookeeper image (zkServer.sh
# start-foreground|status), and handoff-local/jre:17 stands in for eclipse-temurin:17-jre.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STATE="${HANDOFF_DOCKER_DIR:-/tmp/handoff-docker}"
SOCK="$STATE/docker.sock"
PIDFILE="$STATE/dockerd.pid"
LOG="$STATE/dockerd.log"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/pom.xml")"
ZOOKEEPER_VERSION="$(sed -n 's:.*<zookeeper.version>\(.*\)</zookeeper.version>.*:\1:p' "$ROOT/pom.xml")"
KAFKA_IMAGE="handoff-local/kafka:$KAFKA_VERSION"
ZOOKEEPER_IMAGE="handoff-local/zookeeper:$ZOOKEEPER_VERSION"
JRE_IMAGE="handoff-local/jre:17"

say() { echo "docker-local: $*" >&2; }
docker_cli() { docker -H "unix://$SOCK" "$@"; }

daemon_running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && docker_cli version >/dev/null 2>&1
}

# Installs Debian package $2 unless command $1 exists.
install_package() {
  local command="$1" package="$2"
  if command -v "$command" >/dev/null 2>&1; then
    return
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "$command is missing and cannot be installed here (needs root and apt-get)"
    return 1
  fi
  say "installing Debian's $package"
  mkdir -p "$STATE"
  if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package"; } >"$STATE/apt.log" 2>&1; then
    tail -20 "$STATE/apt.log" >&2
    return 1
  fi
}

install_docker() { install_package dockerd docker.io; }

# The compose command for docker/docker-compose.yml: the "docker compose" plugin if the docker CLI
# has it, else docker-compose (Debian 12 has no compose plugin; its docker-compose is 1.29).
compose_command() {
  if docker compose version >/dev/null 2>&1; then
    echo "docker compose"
  else
    install_package docker-compose docker-compose >&2 || return 1
    echo "docker-compose"
  fi
}

start_daemon() {
  if daemon_running; then
    say "daemon already running (pid $(cat "$PIDFILE"))"
    return
  fi
  if [[ "$(id -u)" != 0 ]]; then
    say "starting dockerd needs root"
    return 1
  fi
  install_docker
  mkdir -p "$STATE/data" "$STATE/exec"
  # No bridge, no iptables: the daemon creates no network of its own; containers use the host's.
  # containerd is started by dockerd itself (managed), under the exec root.
  setsid dockerd \
    --data-root "$STATE/data" \
    --exec-root "$STATE/exec" \
    --pidfile "$PIDFILE" \
    -H "unix://$SOCK" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    >"$LOG" 2>&1 </dev/null &
  for _ in $(seq 1 120); do
    if docker_cli version >/dev/null 2>&1; then
      say "daemon up at unix://$SOCK"
      return
    fi
    sleep 0.5
  done
  say "daemon did not answer within 60 s; last log lines:"
  tail -5 "$LOG" >&2 || true
  stop_daemon
  return 1
}

stop_daemon() {
  if [[ -S "$SOCK" ]] && docker_cli version >/dev/null 2>&1; then
    local ids
    ids="$(docker_cli ps -aq)"
    if [[ -n "$ids" ]]; then
      # shellcheck disable=SC2086
      docker_cli rm -f $ids >/dev/null || true
    fi
  fi
  if [[ -f "$PIDFILE" ]]; then
    local pid
    pid="$(cat "$PIDFILE")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.5
    done
    if kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$PIDFILE"
    # What the daemon leaves mounted under its state directory (the host network's namespace
    # file), so the directory can be removed.
    local m
    awk -v s="$STATE/" 'index($2, s) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || true
    done
    say "daemon stopped"
  fi
}

# Copies a file and the shared libraries it links to into the root file system $1.
copy_with_libs() {
  local rootfs="$1" f="$2" lib
  [[ -e "$rootfs$f" ]] || cp -L --parents "$f" "$rootfs"
  ldd "$f" 2>/dev/null | grep -o '/[^ ]*' | while read -r lib; do
    if [[ -e "$lib" && ! -e "$rootfs$lib" ]]; then
      cp -L --parents "$lib" "$rootfs" 2>/dev/null || true
    fi
  done
}

# A minimal root file system with this machine's Java 17 runtime, a POSIX shell and the few
# tools the images' scripts use (env, sed, grep, tr, cat, cp).
base_rootfs() {
  local rootfs="$1" java_home
  java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  if [[ ! -x "$java_home/bin/java" || "$("$java_home/bin/java" -version 2>&1)" != *'"17.'* ]]; then
    java_home=/usr/lib/jvm/java-17-openjdk-amd64
  fi
  mkdir -p "$rootfs"/{usr/bin,usr/lib,usr/lib64,usr/sbin,etc,tmp,opt,conf,data,datalog,logs}
  ln -s usr/bin "$rootfs/bin"
  ln -s usr/lib "$rootfs/lib"
  ln -s usr/lib64 "$rootfs/lib64"
  ln -s usr/sbin "$rootfs/sbin"
  chmod 1777 "$rootfs/tmp"
  # Writable by the servers' user, like the official ZooKeeper image's directories.
  chmod 777 "$rootfs/conf" "$rootfs/data" "$rootfs/datalog" "$rootfs/logs"
  printf 'root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/tmp:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nappuser:x:1000:\n' >"$rootfs/etc/group"
  printf 'hosts: files dns\n' >"$rootfs/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n' >"$rootfs/etc/hosts"
  # The JDK minus what a server never needs (sources, jmods, headers, docs).
  mkdir -p "$rootfs$java_home"
  tar -C "$java_home" --exclude=./jmods --exclude=./include --exclude=./man --exclude=./docs \
    --exclude=./lib/src.zip --exclude=./lib/ct.sym -cf - . | tar -C "$rootfs$java_home" -xf -
  # Debian's JDK keeps its configuration under /etc and links to it.
  local etc_java="/etc/java-17-openjdk"
  if [[ -d "$etc_java" ]]; then
    cp -a --parents "$etc_java" "$rootfs"
  fi
  ln -s "$java_home/bin/java" "$rootfs/usr/bin/java"
  local f
  for f in "$java_home/bin/java" "$java_home"/lib/*.so "$java_home"/lib/server/*.so; do
    case "$f" in *awt* | *atk* | *splash* | *jsound* | *fontmanager* | *lcms* | *jpeg* | *mlib*) continue ;; esac
    copy_with_libs "$rootfs" "$f"
  done
  copy_with_libs "$rootfs" /usr/bin/dash
  ln -s dash "$rootfs/usr/bin/sh"
  for f in env sed grep tr cat cp; do
    copy_with_libs "$rootfs" "/usr/bin/$f"
  done
  echo "$java_home" >"$rootfs.java_home"
}

# Resolves a set of Maven artifacts (with their dependencies) into directory $1.
maven_libs() {
  local dir="$1" pom="$2"
  mkdir -p "$dir"
  (cd "$(dirname "$pom")" &&
    { mvn -B -q -o -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" -DincludeScope=runtime >/dev/null 2>&1 ||
      mvn -B -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dir" -DincludeScope=runtime >&2; })
}

image_pom() {
  local out="$1" deps="$2"
  cat >"$out" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.handoff.local</groupId>
  <artifactId>image-libs</artifactId>
  <version>1</version>
  <dependencies>
$deps
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.17</version></dependency>
  </dependencies>
  <build><plugins><plugin>
    <groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version>
  </plugin></plugins></build>
</project>
EOF
}

# docker build with the classic builder (no BuildKit plugin is needed) and no network: the
# Dockerfiles below only COPY files into the local JRE image.
build_image() {
  local tag="$1" context="$2" out
  if ! out="$(DOCKER_BUILDKIT=0 docker_cli build -q --network none -t "$tag" "$context" 2>&1)"; then
    echo "$out" >&2
    return 1
  fi
}

# The JRE image: this machine's Java 17 on an empty root file system, made with docker import
# (a registry's eclipse-temurin:17-jre is not reachable here). The node Dockerfile and the Kafka
# and ZooKeeper images below start from it.
build_jre_image() {
  local work="$1" t0=$SECONDS java_home
  base_rootfs "$work/jre"
  java_home="$(cat "$work/jre.java_home")"
  tar -C "$work/jre" -cf - . | docker_cli import \
    -c "ENV PATH=/usr/bin:/bin JAVA_HOME=$java_home" -c 'WORKDIR /tmp' \
    -c 'CMD ["java", "-version"]' - "$JRE_IMAGE" >/dev/null
  say "built $JRE_IMAGE in $((SECONDS - t0)) s"
}

# Kafka: the entry points of apache/kafka. Its default command (/etc/kafka/docker/run) writes
# server.properties from the KAFKA_* environment variables and formats the storage with
# CLUSTER_ID; /opt/kafka/bin has kafka-storage.sh, kafka-server-start.sh (what
# TestcontainersEnvironment runs with its own configuration) and kafka-broker-api-versions.sh
# (the compose file's health check).
build_kafka_image() {
  local ctx="$1/kafka" t0=$SECONDS
  mkdir -p "$ctx/opt/kafka/bin" "$ctx/opt/kafka/config" "$ctx/etc/kafka/docker"
  image_pom "$1/kafka.pom.xml" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <!-- For BrokerApiVersionsCommand only; its other dependencies (Connect, Jetty) are not needed. -->
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>*</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>net.sourceforge.argparse4j</groupId><artifactId>argparse4j</artifactId><version>0.7.0</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>"
  maven_libs "$ctx/opt/kafka/libs" "$1/kafka.pom.xml"
  cat >"$ctx/opt/kafka/bin/kafka-storage.sh" <<'EOF'
#!/bin/sh
exec java -Xmx256m -XX:+UseSerialGC -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp '/opt/kafka/libs/*' kafka.tools.StorageTool "$@"
EOF
  cat >"$ctx/opt/kafka/bin/kafka-server-start.sh" <<'EOF'
#!/bin/sh
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} ${KAFKA_OPTS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$@"
EOF
  cat >"$ctx/opt/kafka/bin/kafka-broker-api-versions.sh" <<'EOF'
#!/bin/sh
exec java -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=error \
  -cp '/opt/kafka/libs/*' org.apache.kafka.tools.BrokerApiVersionsCommand "$@"
EOF
  cat >"$ctx/etc/kafka/docker/run" <<'EOF'
#!/bin/sh
# As apache/kafka's /etc/kafka/docker/run: server.properties is a mounted
# /mnt/shared/config/server.properties (if any) plus one line per KAFKA_* environment variable
# (KAFKA_FOO_BAR -> foo.bar, __ -> _, ___ -> -; the JVM option variables excluded); with
# neither, the image's default single-node configuration. The storage is formatted (once) with
# CLUSTER_ID, then the broker runs as PID 1.
set -e
final=/opt/kafka/config/server.properties
if [ -f /mnt/shared/config/server.properties ]; then
  cat /mnt/shared/config/server.properties >"$final"
  echo >>"$final"
else
  : >"$final"
fi
env | while IFS='=' read -r name value; do
  case "$name" in
    KAFKA_VERSION | KAFKA_HEAP_OPTS | KAFKA_LOG4J_OPTS | KAFKA_OPTS | KAFKA_JMX_OPTS | \
      KAFKA_JVM_PERFORMANCE_OPTS | KAFKA_GC_LOG_OPTS | KAFKA_LOG4J_ROOT_LOGLEVEL | \
      KAFKA_LOG4J_LOGGERS | KAFKA_TOOLS_LOG4J_LOGLEVEL | KAFKA_JMX_HOSTNAME) ;;
    KAFKA_*)
      key=$(printf '%s' "${name#KAFKA_}" | tr '[:upper:]' '[:lower:]' |
        sed -e 's/_/./g' -e 's/\.\.\./-/g' -e 's/\.\./_/g')
      printf '%s=%s\n' "$key" "$value" >>"$final"
      ;;
  esac
done
if ! grep -q '[^[:space:]]' "$final"; then
  cp /etc/kafka/docker/server.properties "$final"
fi
/opt/kafka/bin/kafka-storage.sh format --ignore-formatted \
  --cluster-id "${CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}" -c "$final" >/dev/null
exec /opt/kafka/bin/kafka-server-start.sh "$final"
EOF
  cat >"$ctx/etc/kafka/docker/server.properties" <<'EOF'
# Used when no KAFKA_* variable is set: one broker and controller on localhost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
advertised.listeners=PLAINTEXT://localhost:9092
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=/tmp/kraft-combined-logs
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
  chmod 755 "$ctx/opt/kafka/bin/"*.sh "$ctx/etc/kafka/docker/run"
  cat >"$ctx/Dockerfile" <<EOF
FROM $JRE_IMAGE
COPY --chown=1000:1000 opt/ /opt/
COPY etc/ /etc/
ENV PATH=/opt/kafka/bin:/usr/bin:/bin
USER appuser
WORKDIR /tmp
CMD ["/etc/kafka/docker/run"]
EOF
  build_image "$KAFKA_IMAGE" "$ctx"
  say "built $KAFKA_IMAGE in $((SECONDS - t0)) s"
}

# ZooKeeper: the entry points of the official image. /docker-entrypoint.sh writes /conf/zoo.cfg
# from the ZOO_* environment variables unless the file exists (TestcontainersEnvironment copies
# its own); zkServer.sh knows "start-foreground" and "status" (the compose file's health check).
# (snappy-java and metrics-core are "provided" in ZooKeeper's pom but needed by the server.)
build_zookeeper_image() {
  local ctx="$1/zookeeper" t0=$SECONDS
  mkdir -p "$ctx/opt/zookeeper/bin"
  image_pom "$1/zookeeper.pom.xml" "
    <dependency><groupId>org.apache.zookeeper</groupId><artifactId>zookeeper</artifactId><version>$ZOOKEEPER_VERSION</version>
      <exclusions><exclusion><groupId>ch.qos.logback</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>io.dropwizard.metrics</groupId><artifactId>metrics-core</artifactId><version>3.2.5</version></dependency>
    <dependency><groupId>org.xerial.snappy</groupId><artifactId>snappy-java</artifactId><version>1.1.10.7</version></dependency>"
  maven_libs "$ctx/opt/zookeeper/lib" "$1/zookeeper.pom.xml"
  cat >"$ctx/opt/zookeeper/bin/zkServer.sh" <<'EOF'
#!/bin/sh
# The two commands of ZooKeeper's zkServer.sh that the official image uses, on $ZOOCFGDIR/zoo.cfg.
ZOOCFG="${ZOOCFGDIR:-${ZOO_CONF_DIR:-/conf}}/zoo.cfg"
CP='/opt/zookeeper/lib/*'
setting() { sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$ZOOCFG" | sed -n '$p'; }
case "$1" in
  start-foreground)
    exec java "-Xmx${ZK_SERVER_HEAP:-256}m" ${JVMFLAGS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
      -cp "$CP" org.apache.zookeeper.server.quorum.QuorumPeerMain "$ZOOCFG"
    ;;
  status)
    # The client address: clientPortAddress and clientPort, else this server's line
    # server.<myid>=host:port:port;[address:]port.
    address=$(setting clientPortAddress)
    port=$(setting clientPort)
    if [ -z "$port" ]; then
      myid=$(cat "$(setting dataDir)/myid" 2>/dev/null || true)
      client=$(setting "server\\.$myid" | sed -n 's/.*;//p')
      port=${client##*:}
      case "$client" in *:*) address=${client%:*} ;; esac
    fi
    case "${address:-0.0.0.0}" in 0.0.0.0 | '[::]') address=localhost ;; esac
    java -Xmx32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=off \
      -cp "$CP" org.apache.zookeeper.client.FourLetterWordMain "$address" "$port" srvr 2>/dev/null |
      grep '^Mode:' || { echo "Error contacting service at $address:$port. It is probably not running."; exit 1; }
    ;;
  *)
    echo "usage: zkServer.sh start-foreground|status" >&2
    exit 2
    ;;
esac
EOF
  cat >"$ctx/docker-entrypoint.sh" <<'EOF'
#!/bin/sh
# As the official zookeeper image's entry point: writes $ZOO_CONF_DIR/zoo.cfg from the ZOO_*
# environment variables if the file does not exist, and $ZOO_DATA_DIR/myid likewise.
set -ef
config="$ZOO_CONF_DIR/zoo.cfg"
if [ ! -f "$config" ]; then
  {
    echo "dataDir=$ZOO_DATA_DIR"
    echo "dataLogDir=$ZOO_DATA_LOG_DIR"
    echo "tickTime=$ZOO_TICK_TIME"
    echo "initLimit=$ZOO_INIT_LIMIT"
    echo "syncLimit=$ZOO_SYNC_LIMIT"
    echo "autopurge.snapRetainCount=$ZOO_AUTOPURGE_SNAPRETAINCOUNT"
    echo "autopurge.purgeInterval=$ZOO_AUTOPURGE_PURGEINTERVAL"
    echo "maxClientCnxns=$ZOO_MAX_CLIENT_CNXNS"
    echo "standaloneEnabled=$ZOO_STANDALONE_ENABLED"
    echo "admin.enableServer=$ZOO_ADMINSERVER_ENABLED"
    servers="${ZOO_SERVERS:-server.1=localhost:2888:3888;2181}"
    for server in $servers; do
      echo "$server"
    done
    if [ -n "${ZOO_4LW_COMMANDS_WHITELIST:-}" ]; then
      echo "4lw.commands.whitelist=$ZOO_4LW_COMMANDS_WHITELIST"
    fi
    for extra in ${ZOO_CFG_EXTRA:-}; do
      echo "$extra"
    done
  } >"$config"
fi
if [ ! -f "$ZOO_DATA_DIR/myid" ]; then
  echo "${ZOO_MY_ID:-1}" >"$ZOO_DATA_DIR/myid"
fi
exec "$@"
EOF
  chmod 755 "$ctx/opt/zookeeper/bin/zkServer.sh" "$ctx/docker-entrypoint.sh"
  cat >"$ctx/Dockerfile" <<EOF
FROM $JRE_IMAGE
COPY opt/ /opt/
COPY docker-entrypoint.sh /docker-entrypoint.sh
ENV PATH=/opt/zookeeper/bin:/usr/bin:/bin \\
    ZOO_CONF_DIR=/conf ZOO_DATA_DIR=/data ZOO_DATA_LOG_DIR=/datalog ZOO_LOG_DIR=/logs \\
    ZOO_TICK_TIME=2000 ZOO_INIT_LIMIT=5 ZOO_SYNC_LIMIT=2 ZOO_AUTOPURGE_PURGEINTERVAL=0 \\
    ZOO_AUTOPURGE_SNAPRETAINCOUNT=3 ZOO_MAX_CLIENT_CNXNS=60 ZOO_STANDALONE_ENABLED=true \\
    ZOO_ADMINSERVER_ENABLED=true
USER appuser
WORKDIR /tmp
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["zkServer.sh", "start-foreground"]
EOF
  build_image "$ZOOKEEPER_IMAGE" "$ctx"
  say "built $ZOOKEEPER_IMAGE in $((SECONDS - t0)) s"
}

build_images() {
  local work="$STATE/build"
  rm -rf "$work"
  mkdir -p "$work"
  local t0=$SECONDS
  build_jre_image "$work"
  build_kafka_image "$work"
  build_zookeeper_image "$work"
  rm -rf "$work"
  # The images replaced by this build, so repeated builds do not fill the disk.
  docker_cli image prune -f >/dev/null
  say "built $JRE_IMAGE, $KAFKA_IMAGE and $ZOOKEEPER_IMAGE in $((SECONDS - t0)) s"
}

print_env() {
  cat <<EOF
export DOCKER_HOST=unix://$SOCK
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export HANDOFF_KAFKA_IMAGE=$KAFKA_IMAGE
export HANDOFF_ZOOKEEPER_IMAGE=$ZOOKEEPER_IMAGE
export HANDOFF_JRE_IMAGE=$JRE_IMAGE
EOF
}

case "${1:-}" in
  start)
    start_daemon
    build_images
    # For the compose test (handoff-demo's ComposeDemoIT); without it, that test skips.
    compose_command >/dev/null || say "no compose command: the docker-compose.yml test will skip"
    print_env
    ;;
  stop) stop_daemon ;;
  build-images)
    daemon_running || { say "no daemon running; use: $0 start"; exit 1; }
    build_images
    ;;
  env) print_env ;;
  compose-demo)
    # The compose stack with the local images, rolled and measured by scripts/compose-demo.sh;
    # starts the daemon (and builds the images) if needed and stops it again only if it started it.
    started=false
    if ! daemon_running; then
      start_daemon
      build_images
      started=true
    elif ! docker_cli image inspect "$JRE_IMAGE" "$KAFKA_IMAGE" "$ZOOKEEPER_IMAGE" >/dev/null 2>&1; then
      build_images
    fi
    code=0
    HANDOFF_COMPOSE="$(compose_command)" || code=2
    if ((code == 0)); then
      eval "$(print_env)"
      export HANDOFF_COMPOSE
      "$ROOT/scripts/compose-demo.sh" || code=$?
    fi
    if [[ "$started" == true ]]; then
      stop_daemon
    fi
    exit "$code"
    ;;
  *)
    echo "usage: $0 start|stop|build-images|env|compose-demo" >&2
    exit 2
    ;;
esac
