#!/usr/bin/env bash
# A private Docker daemon and locally made Kafka and ZooKeeper images, for machines that have
# no Docker daemon running and no image registry (see the Testcontainers section of
# handoff-testkit/README.md).
#
#   scripts/docker-local.sh start          install docker.io if needed, start the daemon, build images
#   scripts/docker-local.sh stop           stop the daemon (and every container it runs)
#   scripts/docker-local.sh build-images   (re)build the images with a running daemon
#   scripts/docker-local.sh env            print the environment a test run needs (eval it)
#
# The daemon runs with --bridge=none and no iptables rules: containers use host networking
# only and the tests bind every server to 127.0.0.1. The images are made from this machine's
# JDK and the Kafka/ZooKeeper jars from Maven (local repository first, then Maven Central);
# nothing is pulled from a registry. They speak the same contract as the public images
# (apache/kafka: /opt/kafka/bin/kafka-storage.sh and kafka-server-start.sh; zookeeper:
# zkServer.sh start-foreground reading /conf/zoo.cfg), which is all TestcontainersEnvironment uses.
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

say() { echo "docker-local: $*" >&2; }
docker_cli() { docker -H "unix://$SOCK" "$@"; }

daemon_running() {
  [[ -f "$PIDFILE" ]] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null && docker_cli version >/dev/null 2>&1
}

install_docker() {
  if command -v dockerd >/dev/null 2>&1; then
    return
  fi
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
    say "dockerd is missing and cannot be installed here (needs root and apt-get)"
    return 1
  fi
  say "installing Debian's docker.io"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null
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

# A minimal root file system with this machine's Java 17 runtime and a POSIX shell.
base_rootfs() {
  local rootfs="$1" java_home
  java_home="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
  if [[ ! -x "$java_home/bin/java" || "$("$java_home/bin/java" -version 2>&1)" != *'"17.'* ]]; then
    java_home=/usr/lib/jvm/java-17-openjdk-amd64
  fi
  mkdir -p "$rootfs"/{usr/bin,usr/lib,usr/lib64,usr/sbin,etc,tmp,opt,conf,data,datalog}
  ln -s usr/bin "$rootfs/bin"
  ln -s usr/lib "$rootfs/lib"
  ln -s usr/lib64 "$rootfs/lib64"
  ln -s usr/sbin "$rootfs/sbin"
  chmod 1777 "$rootfs/tmp"
  chmod 777 "$rootfs/data" "$rootfs/datalog"
  printf 'root:x:0:0:root:/root:/bin/sh\nappuser:x:1000:1000::/tmp:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nappuser:x:1000:\n' >"$rootfs/etc/group"
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

build_images() {
  local work="$STATE/build"
  rm -rf "$work"
  mkdir -p "$work"
  local t0=$SECONDS
  base_rootfs "$work/base"

  # Kafka: the same entry points as apache/kafka's /opt/kafka/bin scripts.
  cp -a "$work/base" "$work/kafka"
  image_pom "$work/kafka.pom.xml" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-server</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>"
  maven_libs "$work/kafka/opt/kafka/libs" "$work/kafka.pom.xml"
  mkdir -p "$work/kafka/opt/kafka/bin"
  cat >"$work/kafka/opt/kafka/bin/kafka-storage.sh" <<'EOF'
#!/bin/sh
exec java -Xmx256m -cp '/opt/kafka/libs/*' kafka.tools.StorageTool "$@"
EOF
  cat >"$work/kafka/opt/kafka/bin/kafka-server-start.sh" <<'EOF'
#!/bin/sh
exec java ${KAFKA_HEAP_OPTS:--Xmx1g} ${KAFKA_OPTS:-} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp '/opt/kafka/libs/*' kafka.Kafka "$@"
EOF
  chmod 755 "$work/kafka/opt/kafka/bin/"*.sh
  tar -C "$work/kafka" -cf - . | docker_cli import \
    -c 'ENV PATH=/opt/kafka/bin:/usr/bin:/bin' -c 'USER appuser' -c 'WORKDIR /tmp' \
    -c 'CMD ["/opt/kafka/bin/kafka-server-start.sh", "/opt/kafka/config/server.properties"]' \
    - "$KAFKA_IMAGE" >/dev/null

  # ZooKeeper: (snappy-java and metrics-core are "provided" in ZooKeeper's pom but needed by the
  # server) the same entry point as the official image (zkServer.sh start-foreground, /conf/zoo.cfg).
  mv "$work/base" "$work/zookeeper"
  image_pom "$work/zookeeper.pom.xml" "
    <dependency><groupId>org.apache.zookeeper</groupId><artifactId>zookeeper</artifactId><version>$ZOOKEEPER_VERSION</version>
      <exclusions><exclusion><groupId>ch.qos.logback</groupId><artifactId>*</artifactId></exclusion></exclusions></dependency>
    <dependency><groupId>io.dropwizard.metrics</groupId><artifactId>metrics-core</artifactId><version>3.2.5</version></dependency>
    <dependency><groupId>org.xerial.snappy</groupId><artifactId>snappy-java</artifactId><version>1.1.10.7</version></dependency>"
  maven_libs "$work/zookeeper/opt/zookeeper/lib" "$work/zookeeper.pom.xml"
  cat >"$work/zookeeper/usr/bin/zkServer.sh" <<'EOF'
#!/bin/sh
# Only "start-foreground" (what the official image runs); configuration in /conf/zoo.cfg.
exec java ${JVMFLAGS:--Xmx256m} -Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  -cp '/opt/zookeeper/lib/*' org.apache.zookeeper.server.quorum.QuorumPeerMain /conf/zoo.cfg
EOF
  chmod 755 "$work/zookeeper/usr/bin/zkServer.sh"
  tar -C "$work/zookeeper" -cf - . | docker_cli import \
    -c 'ENV PATH=/usr/bin:/bin' -c 'USER appuser' -c 'WORKDIR /tmp' \
    -c 'CMD ["zkServer.sh", "start-foreground"]' \
    - "$ZOOKEEPER_IMAGE" >/dev/null
  rm -rf "$work"
  # The images replaced by this build, so repeated builds do not fill the disk.
  docker_cli image prune -f >/dev/null
  say "built $KAFKA_IMAGE and $ZOOKEEPER_IMAGE in $((SECONDS - t0)) s"
}

print_env() {
  cat <<EOF
export DOCKER_HOST=unix://$SOCK
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
export HANDOFF_KAFKA_IMAGE=$KAFKA_IMAGE
export HANDOFF_ZOOKEEPER_IMAGE=$ZOOKEEPER_IMAGE
EOF
}

case "${1:-}" in
  start)
    start_daemon
    build_images
    print_env
    ;;
  stop) stop_daemon ;;
  build-images)
    daemon_running || { say "no daemon running; use: $0 start"; exit 1; }
    build_images
    ;;
  env) print_env ;;
  *)
    echo "usage: $0 start|stop|build-images|env" >&2
    exit 2
    ;;
esac
