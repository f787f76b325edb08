# Shared by bench/soak-idle.sh and bench/soak-short.sh (sourced, not run). Everything runs in a
# network namespace of its own (its loopback, its port range, no connection tracking), as root.
# Provides: setup_soak, start_bg, ns, relay_up, measure, print_measure, cleanup (trap-installed).

KEY="soak-bench-psk-0123456789abcdef"
NS="wrsoak$$"
tmp="$(mktemp -d /tmp/wanrelay-soak.XXXXXX)"
pids=()
CP_ADMIN=9464
SP_ADMIN=9465
TRUNK_PORT=7800

log() { echo "[$(basename "$0" .sh)] $*" >&2; }

cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  pids=()
  ip netns del "$NS" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'log "interrupted"; exit 130' INT TERM

ns() { ip netns exec "$NS" "$@"; }

# start_bg NAME CMD... : runs CMD inside the namespace in its own process group; sets LAST_PID.
start_bg() {
  local name="$1"; shift
  setsid ip netns exec "$NS" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  LAST_PID=$!
  pids+=("$LAST_PID")
}

# setup_soak : root check, file limits, namespace with loopback up, the jar and the Java helpers.
setup_soak() {
  [ "$(id -u)" = 0 ] || { log "needs root (network namespace, file limits)"; exit 1; }
  for t in java javac jcmd curl ip setsid; do
    command -v "$t" >/dev/null || { log "required tool '$t' not found"; exit 1; }
  done
  # Each process (client, CP, SP, server) holds one socket per session, plus a margin.
  local want=$((${1:-100000} + 2000))
  if [ "$(cat /proc/sys/fs/nr_open)" -lt "$want" ]; then
    log "raising fs.nr_open to $want"
    sysctl -qw fs.nr_open="$want"
  fi
  FD_LIMIT_NOTE=""
  if ! ulimit -n "$want" 2>/dev/null; then
    # Raising the hard limit needs CAP_SYS_RESOURCE (containers often drop it).
    ulimit -n "$(ulimit -Hn)"
    FD_LIMIT_NOTE="LIMITED: the hard limit of open files is $(ulimit -Hn) per process here and cannot be raised (no CAP_SYS_RESOURCE)"
    log "$FD_LIMIT_NOTE"
  fi
  MAX_SESSIONS_BY_FDS=$(( $(ulimit -n) - 2000 ))
  ip netns add "$NS" || exit 1
  ns ip link set lo up
  # Per-namespace settings: wide port range, deep accept queues.
  ns sysctl -qw net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=65535 \
    net.ipv4.tcp_max_syn_backlog=65535 net.ipv4.tcp_tw_reuse=1
  jar="${WANRELAY_JAR:-}"
  if [ -z "$jar" ]; then
    if [ ! -f relay-core/target/wanrelay.jar ]; then
      log "building relay-core/target/wanrelay.jar"
      ./mvnw -q -B package -DskipTests -pl relay-core -am >&2 || { log "build failed"; exit 1; }
    fi
    jar=relay-core/target/wanrelay.jar
  fi
  cp "$jar" "$tmp/wanrelay.jar"
  jar="$tmp/wanrelay.jar"
  mkdir -p "$tmp/classes"
  javac -d "$tmp/classes" integration-tests/src/test/java/net/wanrelay/it/soak/*.java \
    integration-tests/src/test/java/net/wanrelay/it/loopbench/{SessionLoad,ReplyServer,ShortSession}.java || { log "javac failed"; exit 1; }
}

# relay_up NAME CONFIG ADMIN_PORT HEAP : starts a relay in the namespace, waits for /healthz.
relay_up() {
  local name="$1" cfg="$2" admin="$3" heap="$4"
  java -jar "$jar" check-config -c "$cfg" >"$tmp/$name.check" 2>&1 || { log "$name config: $(tail -n 1 "$tmp/$name.check")"; exit 1; }
  start_bg "$name" java -Xms"$heap" -Xmx"$heap" -XX:MaxDirectMemorySize=1g -jar "$jar" run -c "$cfg"
  local pid=$LAST_PID
  for _ in $(seq 300); do
    ns curl -fs -o /dev/null "http://127.0.0.1:$admin/healthz" && return 0
    kill -0 "$pid" 2>/dev/null || { log "$name exited: $(tail -n 3 "$tmp/$name.err")"; exit 1; }
    sleep 0.1
  done
  log "$name: no /healthz after 30 s"; exit 1
}

metric_sum() { # metric_sum ADMIN_PORT REGEX
  ns curl -fs "http://127.0.0.1:$1/metrics" | grep -E "$2" | awk '{ s += $NF } END { printf "%.0f", s }'
}

# measure PID ADMIN_PORT : full GC, then "heap_used direct_used fds rss" (bytes, bytes, count, bytes)
measure() {
  local pid="$1" admin="$2"
  # Twice: objects freed through cleaners or reference queues (sockets, direct buffers) go only
  # on the second collection.
  jcmd "$pid" GC.run >/dev/null 2>&1
  sleep 1
  jcmd "$pid" GC.run >/dev/null 2>&1
  sleep 1
  local heap direct fds rss
  heap=$(metric_sum "$admin" '^jvm_memory_used_bytes\{area="heap"')
  direct=$(metric_sum "$admin" '^jvm_buffer_memory_used_bytes\{id="direct"')
  fds=$(ls "/proc/$pid/fd" | wc -l)
  rss=$(awk '/^VmRSS/ { print $2 * 1024 }' "/proc/$pid/status")
  echo "$heap $direct $fds $rss"
}

# histo PID FILE : live-object class histogram (full GC first)
histo() { jcmd "$1" GC.class_histogram 2>/dev/null | awk '$1 ~ /^[0-9]+:$/ { print $4, $2, $3 }' >"$2"; }

# histo_growth BEFORE AFTER : the 8 classes whose live bytes grew most
histo_growth() {
  awk 'NR == FNR { n[$1] = $2; b[$1] = $3; next } { d = $3 - b[$1]; if (d > 0) printf "%d %d %s\n", d, $2 - n[$1], $1 }' "$1" "$2" \
    | sort -rn | head -n 8 | awk '{ printf "    %+9d B %+7d objects  %s\n", $1, $2, $3 }'
}

wait_metric() { # wait_metric ADMIN_PORT REGEX OP VALUE SECONDS : until sum OP VALUE (OP: -ge, -le, -eq)
  local v
  for _ in $(seq $(($5 * 5))); do
    v=$(metric_sum "$1" "$2")
    [ "$v" "$3" "$4" ] && return 0
    sleep 0.2
  done
  log "metric $2 is $v after $5 s, wanted $3 $4"
  return 1
}

host_line() {
  echo "host: $(nproc) vCPU, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r), $(java -version 2>&1 | head -n 1), load $(cut -d' ' -f1-3 /proc/loadavg)"
}
