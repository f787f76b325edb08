#!/usr/bin/env bash
# Loopback benchmark: what the relay costs on one machine, next to the usual TCP proxies.
# Everything runs on 127.0.0.1. Prints one table with ratios to the direct path:
#   1. iperf3 single-stream throughput: direct, wanrelay forward (via: direct), socat, haproxy,
#      wanrelay pair (CP --trunk--> SP, via: peer:sp), the same pair inside TLS 1.3 (trunk.tls,
#      certificates made with openssl), kcptun pair (fast3, no crypt, no comp)
#   2. iperf3 -P 100 aggregate: direct, wanrelay pair, kcptun pair
#   3. short sessions (connect, 1 KiB request, 1 KiB reply, close) per second: direct, haproxy,
#      wanrelay forward, wanrelay pair
# plus the relays' trunk byte counters after the pair run and the CPU each proxy used.
#
#   bench/loopback-bench.sh            full run: JIT warm-up, 2 rounds of 8 s per case, best round
#                                      counts (~8 min)
#   bench/loopback-bench.sh --quick    short warm-up, 1 round of 3 s per case (~2 min)
#   bench/loopback-bench.sh --seconds N --rounds N --skip socat,kcptun    (peers to leave out)
#   bench/loopback-bench.sh --pair-threads N   node.io-threads of each pair relay (default: half the
#                                      cores, at least 1: the two relays of the pair share this host)
#   WANRELAY_JAR=/path/wanrelay.jar bench/loopback-bench.sh     use that jar (no build)
#
# Needs: java 17, iperf3, socat, haproxy, kcptun (apt-get install iperf3 socat haproxy kcptun),
# curl, ss (iproute2). A missing tool skips its rows and says so. Not part of ./mvnw verify.
set -uo pipefail
cd "$(dirname "$0")/.."

SECONDS_PER_CASE=8
OMIT=2
ROUNDS=2
SKIP=" "
# Both relays of the pair run on this host, so each gets half of its cores as event loops; the
# relay's own default (one per core) is measured too, for short sessions.
PAIR_THREADS=$(( $(nproc) / 2 > 0 ? $(nproc) / 2 : 1 ))
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) SECONDS_PER_CASE=3; OMIT=1; ROUNDS=1 ;;
    --rounds) ROUNDS="${2:?--rounds needs a value}"; shift ;;
    --seconds) SECONDS_PER_CASE="${2:?--seconds needs a value}"; shift ;;
    --pair-threads) PAIR_THREADS="${2:?--pair-threads needs a value}"; shift ;;
    --skip) SKIP+="$(printf '%s' "${2:?--skip needs a value}" | tr ',' ' ') "; shift ;;
    -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "loopback-bench: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$SECONDS_PER_CASE" in ''|*[!0-9]*) echo "loopback-bench: --seconds needs a whole number" >&2; exit 2 ;; esac
case "$PAIR_THREADS" in ''|*[!0-9]*|0) echo "loopback-bench: --pair-threads needs a whole number >= 1" >&2; exit 2 ;; esac
case "$ROUNDS" in ''|*[!0-9]*|0) echo "loopback-bench: --rounds needs a whole number >= 1" >&2; exit 2 ;; esac
[ "$SECONDS_PER_CASE" -ge 1 ] || { echo "loopback-bench: --seconds must be >= 1" >&2; exit 2; }
[ "$SECONDS_PER_CASE" -gt "$OMIT" ] || OMIT=0

KEY="loopback-bench-psk-0123456789abcdef"
tmp="$(mktemp -d /tmp/wanrelay-loopbench.XXXXXX)"
pids=()

# Every background process gets its own process group (setsid), so stopping it also stops what it
# forked (socat children). Only those groups are signalled.
cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for pid in "${pids[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  pids=()
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'echo "loopback-bench: interrupted" >&2; exit 130' INT TERM

log() { echo "[loopback-bench] $*" >&2; }
# have TOOL : installed and not left out with --skip (--skip kcptun covers kcptun-server/-client)
have() {
  case "$SKIP" in *" $1 "*|*" ${1%%-*} "*) return 1 ;; esac
  command -v "$1" >/dev/null 2>&1
}

# start NAME CMD... : runs CMD in the background in its own process group; sets LAST_PID.
start() {
  local name="$1"; shift
  setsid "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" </dev/null &
  LAST_PID=$!
  pids+=("$LAST_PID")
}

stop() {
  local pid="$1" keep=() p
  kill -TERM -- "-$pid" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL -- "-$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=("${keep[@]+"${keep[@]}"}")
}

# port VAR : a port free for TCP and UDP on this machine, below the ephemeral range, not yet handed out.
handed_out=" "
port() {
  local p
  for _ in $(seq 500); do
    p=$((20000 + RANDOM % 12000))
    case "$handed_out" in *" $p "*) continue ;; esac
    if [ -z "$(ss -Htuan "sport = :$p" 2>/dev/null)" ]; then
      handed_out+="$p "
      printf -v "$1" '%s' "$p"
      return 0
    fi
  done
  log "no free port found"; exit 1
}

# wait_port PROTO(t|u) PORT PID NAME : waits until PORT listens; fails if PID died or after 30 s.
wait_port() {
  local proto="$1" p="$2" pid="$3" name="$4"
  for _ in $(seq 300); do
    if [ -n "$(ss -H"$proto"ln "sport = :$p" 2>/dev/null)" ]; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      log "$name exited: $(tail -n 3 "$tmp/$name.err" "$tmp/$name.out" 2>/dev/null | grep -v '^==>' | tr '\n' ' ')"
      return 1
    fi
    sleep 0.1
  done
  log "$name: port $p not listening after 30 s"
  return 1
}

# CPU seconds (user+system, incl. reaped children) of every process in process group PGID.
cpu_seconds() {
  local pgid="$1" hz total=0 f line rest
  hz=$(getconf CLK_TCK)
  for f in /proc/[0-9]*/stat; do
    line=$(cat "$f" 2>/dev/null) || continue
    rest=${line##*) }   # fields after "pid (comm) "
    # shellcheck disable=SC2086
    set -- $rest
    [ "${3:-}" = "$pgid" ] || continue
    total=$((total + ${12} + ${13} + ${14} + ${15}))
  done
  awk -v t="$total" -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}

# ---- tools -----------------------------------------------------------------------------------
missing=()
for t in java javac curl ss setsid; do have "$t" || { log "required tool '$t' not found"; exit 1; }; done
for t in iperf3 socat haproxy kcptun-server kcptun-client; do have "$t" || missing+=("$t"); done
[ ${#missing[@]} -eq 0 ] || log "missing or --skip: ${missing[*]} (apt-get install iperf3 socat haproxy kcptun); their rows are skipped"
have iperf3 || log "without iperf3 there are no throughput rows"

# ---- relay jar and the Java helpers -----------------------------------------------------------
jar="${WANRELAY_JAR:-}"
if [ -z "$jar" ]; then
  if [ ! -f relay-core/target/wanrelay.jar ]; then
    log "building relay-core/target/wanrelay.jar"
    # In the background and waited for, so Ctrl-C / TERM stop the build too (cleanup kills its group).
    setsid ./mvnw -q -B package -DskipTests -pl relay-core -am </dev/null &
    build_pid=$!
    pids+=("$build_pid")
    wait "$build_pid" || { log "build failed"; exit 1; }
    pids=()   # nothing else runs yet
  fi
  jar=relay-core/target/wanrelay.jar
fi
[ -f "$jar" ] || { log "no jar at $jar"; exit 1; }
# Others may rebuild relay-core/target while this runs: use a private copy.
cp "$jar" "$tmp/wanrelay.jar"
jar="$tmp/wanrelay.jar"
relay_version=$(java -jar "$jar" version 2>/dev/null | head -n 1)

# The session load generator and reply server need only the JDK: compile them straight from the
# test sources, so the bench does not depend on the rest of the test tree compiling.
src=integration-tests/src/test/java/net/wanrelay/it/loopbench
mkdir -p "$tmp/classes"
javac -nowarn -d "$tmp/classes" "$src/ShortSession.java" "$src/ReplyServer.java" "$src/SessionLoad.java" \
  || { log "javac of the session helpers failed"; exit 1; }

# ---- cases ----------------------------------------------------------------------------------
# A case is KEY -> port (+ the process groups whose CPU it is charged with). Proxies are all started
# first; then every case runs in each round, the order reversed every other round, and the best
# round counts (other work on this machine makes single runs noisy).
declare -A PORT PGIDS R RUNS CPU NOTE DETAIL

add_case() { # add_case KEY PORT [PGIDS...]
  local key="$1"; PORT[$key]="$2"; shift 2; PGIDS[$key]="$*"
}

# record KEY VALUE CPU DETAIL : keeps every round's value, and the best one with its CPU and detail
record() {
  RUNS[$1]="${RUNS[$1]:+${RUNS[$1]} / }$(awk -v v="$2" 'BEGIN { printf (v < 100 ? "%.2f" : "%.0f"), v }')"
  if [ -z "${R[$1]:-}" ] || awk -v a="$2" -v b="${R[$1]}" 'BEGIN { exit !(a > b) }'; then
    R[$1]="$2"; CPU[$1]="$3"; DETAIL[$1]="$4"
  fi
}

cpu_of() { # cpu_of PGIDS... : summed CPU seconds
  local g t=0
  for g in "$@"; do t=$(awk -v a="$t" -v b="$(cpu_seconds "$g")" 'BEGIN { print a + b }'); done
  echo "$t"
}

# run_case KEY : one iperf3 run (keys *.single, *.p100) or one session-rate run (*.sessions)
run_case() {
  local key="$1" p="${PORT[$1]}" out before after wall value detail="" cpu="-" errors par=1
  # shellcheck disable=SC2086
  before=$(cpu_of ${PGIDS[$key]})
  if [[ $key == *.sessions ]]; then
    log "sessions $key (port $p, ${SECONDS_PER_CASE}s after 1s warm-up)"
    wall=$((SECONDS_PER_CASE + 1))
    out=$(timeout $((SECONDS_PER_CASE + 40)) java -cp "$tmp/classes" net.wanrelay.it.loopbench.SessionLoad \
      --target "127.0.0.1:$p" --threads 8 --seconds "$SECONDS_PER_CASE" --warmup-seconds 1 2>&1)
    value=$(printf '%s\n' "$out" | sed -n 's/.* rate=\([0-9.]*\) .*/\1/p')
    errors=$(printf '%s\n' "$out" | sed -n 's/.* errors=\([0-9]*\) .*/\1/p')
    detail=$(printf '%s\n' "$out" | sed -n 's/.*p50_us=\([0-9]*\) p99_us=\([0-9]*\).*/p50 \1 us, p99 \2 us/p')
    [ "${errors:-0}" = 0 ] || detail+="; $errors errors $(printf '%s\n' "$out" | sed -n 's/.*errors_by_kind=//p')"
  else
    [[ $key == *.p100 ]] && par=100
    log "iperf3 $key (port $p, -P $par, ${SECONDS_PER_CASE}s after ${OMIT}s omitted)"
    wall=$((SECONDS_PER_CASE + OMIT))
    out=$(timeout $((SECONDS_PER_CASE + OMIT + 30)) iperf3 -c 127.0.0.1 -p "$p" -t "$SECONDS_PER_CASE" \
      -O "$OMIT" -P "$par" -f m 2>&1)
    value=$(printf '%s\n' "$out" | awk '/receiver/ { for (i = 2; i <= NF; i++) if ($i == "Mbits/sec") v = $(i - 1) }
      END { if (v != "") printf "%.3f", v / 1000 }')
  fi
  # shellcheck disable=SC2086
  after=$(cpu_of ${PGIDS[$key]})
  [ -n "${PGIDS[$key]}" ] && cpu=$(awk -v a="$after" -v b="$before" -v w="$wall" 'BEGIN { printf "%.2f", (a - b) / w }')
  if [ -n "$value" ]; then
    record "$key" "$value" "$cpu" "$detail"
  else
    NOTE[$key]="a run failed: $(printf '%s\n' "$out" | grep -iE 'error|exception' | head -n 1)"
    log "$key failed: $(printf '%s\n' "$out" | tail -n 3 | tr '\n' ' ')"
    [[ $key == *.sessions ]] || restart_iperf_server
  fi
}

# relay NAME CONFIG_FILE ADMIN_PORT : starts a relay and waits for /healthz; sets LAST_PID.
relay() {
  local name="$1" cfg="$2" admin="$3"
  if ! java -jar "$jar" check-config -c "$cfg" >"$tmp/$name.check" 2>&1; then
    RELAY_ERROR="config rejected: $(tail -n 1 "$tmp/$name.check")"
    return 1
  fi
  start "$name" java -jar "$jar" run -c "$cfg"
  for _ in $(seq 300); do
    if curl -fs -o /dev/null "http://127.0.0.1:$admin/healthz"; then return 0; fi
    if ! kill -0 "$LAST_PID" 2>/dev/null; then
      RELAY_ERROR="exited: $(cat "$tmp/$name.err" "$tmp/$name.out" 2>/dev/null | grep -v '^\s*at ' \
        | grep -iE 'error|exception|not available' | head -n 1 \
        | sed -E 's/^wanrelay: //; s/[a-z.]*(Exception|Error): //')"
      [ -n "${RELAY_ERROR#exited: }" ] || RELAY_ERROR="exited: $(tail -n 2 "$tmp/$name.err" | tr '\n' ' ')"
      wait "$LAST_PID" 2>/dev/null
      return 1
    fi
    sleep 0.1
  done
  RELAY_ERROR="no /healthz on 127.0.0.1:$admin after 30 s"
  return 1
}

metric_sum() { # metric_sum ADMIN_PORT REGEX : sum of the samples whose line matches REGEX
  curl -fs "http://127.0.0.1:$1/metrics" | grep -E "$2" | awk '{ s += $NF } END { printf "%.0f", s }'
}

unavailable() { # unavailable WHY KEYS... : these cases do not run
  local why="$1" k; shift
  for k in "$@"; do NOTE[$k]="$why"; done
}

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- servers --------------------------------------------------------------------------------
port IPERF
restart_iperf_server() {
  [ -n "${IPERF_PID:-}" ] && stop "$IPERF_PID"
  start iperf3-server iperf3 -s -B 127.0.0.1 -p "$IPERF"
  IPERF_PID=$LAST_PID
  wait_port t "$IPERF" "$IPERF_PID" iperf3-server
}
if have iperf3; then restart_iperf_server || exit 1; fi

port REPLY
start reply-server java -cp "$tmp/classes" net.wanrelay.it.loopbench.ReplyServer --listen "127.0.0.1:$REPLY" --threads 8
REPLY_PID=$LAST_PID
wait_port t "$REPLY" "$REPLY_PID" reply-server || exit 1

# ---- direct ---------------------------------------------------------------------------------
if have iperf3; then add_case direct.single "$IPERF"; add_case direct.p100 "$IPERF"; fi
add_case direct.sessions "$REPLY"

# ---- wanrelay forward (via: direct) ----------------------------------------------------------
port FWD_ADMIN; port FWD_IPERF; port FWD_REPLY
cat >"$tmp/forward.yaml" <<YAML
node: { id: fwd, admin: 127.0.0.1:$FWD_ADMIN }
listeners:
  - { name: iperf, protocol: tcp, listen: 127.0.0.1:$FWD_IPERF, target: 127.0.0.1:$IPERF, via: direct }
  - { name: reply, protocol: tcp, listen: 127.0.0.1:$FWD_REPLY, target: 127.0.0.1:$REPLY, via: direct }
YAML
if relay forward "$tmp/forward.yaml" "$FWD_ADMIN"; then
  FWD_PID=$LAST_PID
  have iperf3 && add_case forward.single "$FWD_IPERF" "$FWD_PID"
  add_case forward.sessions "$FWD_REPLY" "$FWD_PID"
else
  log "wanrelay forward not available: $RELAY_ERROR"
  unavailable "not available: $RELAY_ERROR" forward.single forward.sessions
fi

# ---- socat ----------------------------------------------------------------------------------
if have socat; then
  port SOCAT
  start socat socat "TCP-LISTEN:$SOCAT,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$IPERF"
  SOCAT_PID=$LAST_PID
  if wait_port t "$SOCAT" "$SOCAT_PID" socat; then add_case socat.single "$SOCAT" "$SOCAT_PID"
  else unavailable "failed to start" socat.single; fi
else
  unavailable "skipped: no socat" socat.single
fi

# ---- haproxy --------------------------------------------------------------------------------
if have haproxy; then
  port HAP_IPERF; port HAP_REPLY
  cat >"$tmp/haproxy.cfg" <<CFG
global
  maxconn 4000
defaults
  mode tcp
  timeout connect 5s
  timeout client 60s
  timeout server 60s
frontend iperf
  bind 127.0.0.1:$HAP_IPERF
  default_backend iperf
backend iperf
  server s 127.0.0.1:$IPERF
frontend reply
  bind 127.0.0.1:$HAP_REPLY
  default_backend reply
backend reply
  server s 127.0.0.1:$REPLY
CFG
  start haproxy haproxy -db -f "$tmp/haproxy.cfg"
  HAP_PID=$LAST_PID
  if wait_port t "$HAP_REPLY" "$HAP_PID" haproxy; then
    add_case haproxy.single "$HAP_IPERF" "$HAP_PID"
    add_case haproxy.sessions "$HAP_REPLY" "$HAP_PID"
  else
    unavailable "failed to start: $(tail -n 1 "$tmp/haproxy.err")" haproxy.single haproxy.sessions
  fi
else
  unavailable "skipped: no haproxy" haproxy.single haproxy.sessions
fi

# ---- wanrelay pair (CP -> trunk -> SP) ----------------------------------------------------------
port SP_ADMIN; port SP_TRUNK; port CP_ADMIN; port CP_IPERF; port CP_REPLY
cat >"$tmp/sp.yaml" <<YAML
node: { id: sp, admin: 127.0.0.1:$SP_ADMIN, io-threads: $PAIR_THREADS }
trunk:
  listen: 127.0.0.1:$SP_TRUNK
  key: "$KEY"
  allow: [ 127.0.0.0/8 ]
YAML
cat >"$tmp/cp.yaml" <<YAML
node: { id: cp, admin: 127.0.0.1:$CP_ADMIN, io-threads: $PAIR_THREADS }
listeners:
  - { name: iperf, protocol: tcp, listen: 127.0.0.1:$CP_IPERF, target: 127.0.0.1:$IPERF, via: peer:sp }
  - { name: reply, protocol: tcp, listen: 127.0.0.1:$CP_REPLY, target: 127.0.0.1:$REPLY, via: peer:sp }
trunk:
  peers:
    - { name: sp, address: 127.0.0.1:$SP_TRUNK, key: "$KEY" }
YAML
# start_pair NAME SP_CFG SP_ADMIN CP_CFG CP_ADMIN : starts both relays and waits (bounded) for the CP
# to report its trunk to "sp" up; sets PAIR_SP_PID / PAIR_CP_PID, or PAIR_ERROR and returns 1.
start_pair() {
  local name="$1" up=""
  PAIR_ERROR=""
  relay "$name-sp" "$2" "$3" || { PAIR_ERROR="sp $RELAY_ERROR"; return 1; }
  PAIR_SP_PID=$LAST_PID
  relay "$name-cp" "$4" "$5" || { PAIR_ERROR="cp $RELAY_ERROR"; return 1; }
  PAIR_CP_PID=$LAST_PID
  for _ in $(seq 150); do
    up=$(metric_sum "$5" '^wanrelay_trunk_up\{[^}]*peer="sp"')
    [ "${up:-0}" -ge 1 ] 2>/dev/null && return 0
    kill -0 "$PAIR_CP_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$PAIR_CP_PID" 2>/dev/null; then
    PAIR_ERROR="trunk to sp did not come up within 15 s (wanrelay_trunk_up{peer=\"sp\"} is not 1)"
  else
    PAIR_ERROR="cp exited: $(tail -n 2 "$tmp/$name-cp.err" | tr '\n' ' ')"
  fi
  return 1
}
pair_error=""
if start_pair pair "$tmp/sp.yaml" "$SP_ADMIN" "$tmp/cp.yaml" "$CP_ADMIN"; then
  SP_PID=$PAIR_SP_PID; CP_PID=$PAIR_CP_PID
  if have iperf3; then
    add_case pair.single "$CP_IPERF" "$CP_PID" "$SP_PID"; add_case pair.p100 "$CP_IPERF" "$CP_PID" "$SP_PID"
  fi
  add_case pair.sessions "$CP_REPLY" "$CP_PID" "$SP_PID"
else
  pair_error="$PAIR_ERROR"
fi
if [ -n "$pair_error" ]; then
  log "wanrelay pair not available: $pair_error"
  unavailable "pair not available (below)" pair.single pair.p100 pair.sessions
fi

# ---- the same pair with the relays' default of one event loop per core each ---------------------
# (so 2 x nproc loops on nproc cores): what a co-located pair costs without the tuning above.
if [ -z "$pair_error" ] && [ "$PAIR_THREADS" != "$(nproc)" ]; then
  port DSP_ADMIN; port DSP_TRUNK; port DCP_ADMIN; port DCP_REPLY
  sed -e "s/$SP_ADMIN/$DSP_ADMIN/; s/$SP_TRUNK/$DSP_TRUNK/; s/, io-threads: $PAIR_THREADS//" "$tmp/sp.yaml" >"$tmp/sp-def.yaml"
  cat >"$tmp/cp-def.yaml" <<YAML
node: { id: cp-def, admin: 127.0.0.1:$DCP_ADMIN }
listeners:
  - { name: reply, protocol: tcp, listen: 127.0.0.1:$DCP_REPLY, target: 127.0.0.1:$REPLY, via: peer:sp }
trunk:
  peers:
    - { name: sp, address: 127.0.0.1:$DSP_TRUNK, key: "$KEY" }
YAML
  if start_pair pairdef "$tmp/sp-def.yaml" "$DSP_ADMIN" "$tmp/cp-def.yaml" "$DCP_ADMIN"; then
    add_case pairdef.sessions "$DCP_REPLY" "$PAIR_CP_PID" "$PAIR_SP_PID"
  else
    unavailable "pair with default threads not available: $PAIR_ERROR" pairdef.sessions
  fi
elif [ -z "$pair_error" ]; then
  unavailable "not run: the pair above already has one loop per core" pairdef.sessions
fi

# ---- wanrelay pair inside TLS 1.3 with mutual certificates (trunk.tls): what TLS costs ----------
if have openssl && have iperf3; then
  mkdir -p "$tmp/pki"
  cert_ok=1
  ( cd "$tmp/pki" &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout ca.key -out ca.crt \
      -days 2 -subj /CN=bench-ca &&
    for n in sp cp; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout $n.key -out $n.csr -subj /CN=$n &&
      openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $n.crt -days 2 || exit 1
    done ) >"$tmp/pki.log" 2>&1 || cert_ok=0
  if [ "$cert_ok" = 1 ]; then
    port TSP_ADMIN; port TSP_TRUNK; port TCP_ADMIN; port TCP_IPERF
    sed -e "s/$SP_ADMIN/$TSP_ADMIN/; s/$SP_TRUNK/$TSP_TRUNK/" "$tmp/sp.yaml" >"$tmp/sp-tls.yaml"
    echo "  tls: { cert: $tmp/pki/sp.crt, key: $tmp/pki/sp.key, ca: $tmp/pki/ca.crt }" >>"$tmp/sp-tls.yaml"
    cat >"$tmp/cp-tls.yaml" <<YAML
node: { id: cp-tls, admin: 127.0.0.1:$TCP_ADMIN, io-threads: $PAIR_THREADS }
listeners:
  - { name: iperf, protocol: tcp, listen: 127.0.0.1:$TCP_IPERF, target: 127.0.0.1:$IPERF, via: peer:sp }
trunk:
  peers:
    - { name: sp, address: 127.0.0.1:$TSP_TRUNK, key: "$KEY" }
  tls: { cert: $tmp/pki/cp.crt, key: $tmp/pki/cp.key, ca: $tmp/pki/ca.crt }
YAML
    if start_pair pairtls "$tmp/sp-tls.yaml" "$TSP_ADMIN" "$tmp/cp-tls.yaml" "$TCP_ADMIN"; then
      add_case pairtls.single "$TCP_IPERF" "$PAIR_CP_PID" "$PAIR_SP_PID"
    else
      unavailable "TLS pair not available: $PAIR_ERROR" pairtls.single
    fi
  else
    unavailable "openssl could not make the test certificates" pairtls.single
  fi
else
  unavailable "skipped: no openssl or no iperf3" pairtls.single
fi

# ---- kcptun pair ----------------------------------------------------------------------------
if have kcptun-server && have kcptun-client; then
  port KCP_UDP; port KCP_LOCAL
  kflags=(--crypt none --nocomp --mode fast3 --sndwnd 4096 --rcvwnd 4096 --quiet)
  start kcptun-server kcptun-server -l "127.0.0.1:$KCP_UDP" -t "127.0.0.1:$IPERF" "${kflags[@]}"
  KS_PID=$LAST_PID
  start kcptun-client kcptun-client -l "127.0.0.1:$KCP_LOCAL" -r "127.0.0.1:$KCP_UDP" "${kflags[@]}"
  KC_PID=$LAST_PID
  if wait_port u "$KCP_UDP" "$KS_PID" kcptun-server && wait_port t "$KCP_LOCAL" "$KC_PID" kcptun-client; then
    add_case kcptun.single "$KCP_LOCAL" "$KC_PID" "$KS_PID"; add_case kcptun.p100 "$KCP_LOCAL" "$KC_PID" "$KS_PID"
  else
    unavailable "failed to start" kcptun.single kcptun.p100
  fi
else
  unavailable "skipped: no kcptun" kcptun.single kcptun.p100
fi
have iperf3 || unavailable "skipped: no iperf3" direct.single direct.p100 forward.single socat.single \
  haproxy.single pair.single pair.p100 kcptun.single kcptun.p100

# ---- JIT warm-up -----------------------------------------------------------------------------
# The relays are JVMs: let the JIT compile the paths before anything counts (the native proxies need
# none). Measured here: a cold relay spends about half its CPU in the bytecode interpreter and needs
# 5-10x more CPU per session than after ~20k sessions, and a loaded 2-vCPU machine compiles slowly.
# The bulk path took 15-20 s of iperf3 here before C2 went quiet (cold: 0.6-0.9 Gbit/s through the
# pair, warm: 2-3.4); the session path is warmed by count (bounded by time too).
warm=$((SECONDS_PER_CASE < 4 ? 5 : 15))
warm_sessions=$((SECONDS_PER_CASE < 4 ? 5000 : 30000))
warm_session_seconds=$((SECONDS_PER_CASE < 4 ? 10 : 30))
for key in forward.single pair.single pairtls.single; do
  if [ -n "${PORT[$key]:-}" ]; then
    log "warm-up: iperf3 through ${key%.single} (${warm}s, not counted)"
    timeout $((warm + 30)) iperf3 -c 127.0.0.1 -p "${PORT[$key]}" -t "$warm" >/dev/null 2>&1 || restart_iperf_server
  fi
done
for key in forward.sessions pair.sessions pairdef.sessions; do
  if [ -n "${PORT[$key]:-}" ]; then
    log "warm-up: sessions through ${key%.sessions} ($warm_sessions sessions or ${warm_session_seconds}s, not counted)"
    timeout $((warm_session_seconds + 30)) java -cp "$tmp/classes" net.wanrelay.it.loopbench.SessionLoad \
      --target "127.0.0.1:${PORT[$key]}" --threads 8 --sessions "$warm_sessions" \
      --seconds "$warm_session_seconds" --warmup-seconds 0 >/dev/null 2>&1
  fi
done

# ---- rounds ---------------------------------------------------------------------------------
ORDER=(direct.single forward.single socat.single haproxy.single pair.single pairtls.single kcptun.single
       direct.p100 pair.p100 kcptun.p100
       direct.sessions haproxy.sessions forward.sessions pair.sessions pairdef.sessions)
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  keys=("${ORDER[@]}")
  if [ $((round % 2)) = 0 ]; then
    keys=(); for ((i = ${#ORDER[@]} - 1; i >= 0; i--)); do keys+=("${ORDER[$i]}"); done
  fi
  for key in "${keys[@]}"; do
    if [ -n "${PORT[$key]:-}" ]; then run_case "$key"; fi
  done
done

# ---- the relays' own counters: did the pair's traffic really cross the trunk? ------------------
PAIR_METRICS=""
if [ -n "${CP_PID:-}" ] && [ -z "$pair_error" ]; then
  for side in "cp:$CP_ADMIN" "sp:$SP_ADMIN"; do
    PAIR_METRICS+="  ${side%%:*}: $(curl -fs "http://127.0.0.1:${side#*:}/metrics" \
      | grep -E '^wanrelay_(trunk_bytes_total|trunk_up|session_bytes_total|trunk_reconnects_total|trunk_window_stalls_total|trunk_compression_saved_bytes_total)|^jvm_gc_pause_seconds_(count|sum)' \
      | awk '$NF + 0 != 0' | sort | sed '2,$s/^/      /')"$'\n'
  done
  cp_tx=$(metric_sum "$CP_ADMIN" '^wanrelay_trunk_bytes_total\{[^}]*direction="tx"')
  sp_rx=$(metric_sum "$SP_ADMIN" '^wanrelay_trunk_bytes_total\{[^}]*direction="rx"')
  PAIR_CHECK=$(awk -v t="${cp_tx:-0}" -v r="${sp_rx:-0}" 'BEGIN {
    printf "CP trunk tx %.2f GB, SP trunk rx %.2f GB: %s", t / 1e9, r / 1e9,
      (t > 1e6 && r > 1e6) ? "traffic crossed the trunk" : "WARNING: no trunk traffic counted" }')
fi

# ---- table ----------------------------------------------------------------------------------
ratio() { # ratio A B : A/B with 2 decimals, or "-"
  local a="${R[$1]:-}" b="${R[$2]:-}"
  if [ -n "$a" ] && [ -n "$b" ]; then awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'
  else echo "-"; fi
}
# target KEY OTHER FACTOR TEXT : "TEXT: met|MISSED (ratio)", comparing R[KEY] >= FACTOR * R[OTHER]
target() {
  local a="${R[$1]:-}" b="${R[$2]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo "$4: cannot check"; return; fi
  awk -v a="$a" -v b="$b" -v f="$3" -v t="$4" 'BEGIN {
    need = f * b; printf "%s: %s (%.2f x)", t, (a >= need ? "met" : "MISSED"), (b > 0 ? a / b : 0) }'
}
times() { # times KEY OTHER NAME : "= R x NAME"
  local a="${R[$1]:-}" b="${R[$2]:-}"
  if [ -z "$a" ] || [ -z "$b" ]; then echo "vs $3: cannot compare"; return; fi
  awk -v a="$a" -v b="$b" -v n="$3" 'BEGIN { printf "= %.2f x %s", (b > 0 ? a / b : 0), n }'
}
# cost KEY UNIT : proxy CPU per unit of work, which other load on the machine disturbs far less
# than the rates: CPU seconds per GB moved, or CPU microseconds per session.
cost() {
  local c="${CPU[$1]:-}" v="${R[$1]:-}"
  if [ -z "$c" ] || [ "$c" = - ] || [ -z "$v" ]; then echo "-"; return; fi
  if [ "$2" = Gbit/s ]; then awk -v c="$c" -v v="$v" 'BEGIN { if (v > 0) printf "%.2f s/GB", c * 8 / v; else print "-" }'
  else awk -v c="$c" -v v="$v" 'BEGIN { if (v > 0) printf "%.0f us/sess", c * 1e6 / v; else print "-" }'; fi
}
row() { # row LABEL KEY UNIT BASE TARGET
  local label="$1" key="$2" unit="$3" base="$4" tgt="${5:-}" value cpu note
  if [ -n "${R[$key]:-}" ]; then
    if [ "$unit" = Gbit/s ]; then value=$(printf '%8.2f %s' "${R[$key]}" "$unit")
    else value=$(printf '%8.0f %s' "${R[$key]}" "$unit"); fi
  else
    value=$(printf '%8s %s' "-" "$unit")
  fi
  cpu="${CPU[$key]:--}"
  note="${NOTE[$key]:-}"
  [ -n "${DETAIL[$key]:-}" ] && note="${DETAIL[$key]}${note:+; $note}"
  [ "$ROUNDS" -gt 1 ] && [ -n "${RUNS[$key]:-}" ] && note="rounds ${RUNS[$key]}${note:+; $note}"
  printf '%-30s %-20s %9s %9s %14s  %s\n' "$label" "$value" "$(ratio "$key" "$base")" "$cpu" "$(cost "$key" "$unit")" \
    "${tgt}${tgt:+${note:+; }}${note}"
}

now=$(date -u '+%Y-%m-%d %H:%M UTC')
{
  echo
  echo "wanrelay loopback benchmark, $now"
  echo "host: $(nproc) vCPU, $(uname -r), $(java -version 2>&1 | head -n 1); ${relay_version:-wanrelay ?}"
  echo "iperf3 ${SECONDS_PER_CASE}s per case after ${OMIT}s omitted; sessions ${SECONDS_PER_CASE}s after 1s warm-up, 8 client threads"
  echo "$ROUNDS round(s), order reversed every other round; the best round is shown"
  echo "load average at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg) (other work shares this machine)"
  echo "proxy CPU = cores used by the proxy processes during the case (both ends for pairs); CPU cost = that CPU per GB or per session"
  echo "pair relays: node.io-threads $PAIR_THREADS each (two relays share this host's $(nproc) cores); forward: one per core;" \
    "haproxy: its default, one thread per core"
  echo "JVM relays warmed up first (not counted): ${warm}s of iperf3, then $warm_sessions sessions or ${warm_session_seconds}s"
  echo
  printf '%-30s %-20s %9s %9s %14s  %s\n' "case" "result" "vs direct" "proxy CPU" "CPU cost" "target / notes"
  printf '%s\n' "-------------------------------------------------------------------------------------------------------------------------"
  row "1 stream   direct"            direct.single    Gbit/s direct.single
  row "1 stream   wanrelay forward"  forward.single   Gbit/s direct.single "$(target forward.single haproxy.single 1 '>= haproxy')"
  row "1 stream   socat"             socat.single     Gbit/s direct.single
  row "1 stream   haproxy"           haproxy.single   Gbit/s direct.single
  row "1 stream   wanrelay pair"     pair.single      Gbit/s direct.single "$(target pair.single direct.single 0.30 '>= 0.30 x direct'); $(target pair.single kcptun.single 10 '>= 10 x kcptun')"
  row "1 stream   wanrelay pair TLS" pairtls.single   Gbit/s direct.single "TLS cost: $(times pairtls.single pair.single 'the plain pair')"
  row "1 stream   kcptun pair"       kcptun.single    Gbit/s direct.single
  row "100 streams direct"           direct.p100      Gbit/s direct.p100
  row "100 streams wanrelay pair"    pair.p100        Gbit/s direct.p100 "$(times pair.p100 kcptun.p100 kcptun)"
  row "100 streams kcptun pair"      kcptun.p100      Gbit/s direct.p100
  row "1 KiB sessions direct"        direct.sessions  sess/s direct.sessions
  row "1 KiB sessions haproxy"       haproxy.sessions sess/s direct.sessions
  row "1 KiB sessions wanrelay fwd"  forward.sessions sess/s direct.sessions
  row "1 KiB sessions wanrelay pair" pair.sessions    sess/s direct.sessions "$(target pair.sessions haproxy.sessions 0.5 '>= 0.5 x haproxy')"
  row "1 KiB sessions pair, 1/core"  pairdef.sessions sess/s direct.sessions "$(times pairdef.sessions haproxy.sessions haproxy); io-threads = cores in each relay"
  echo
  if [ -n "$PAIR_METRICS" ]; then
    echo "relay counters after the pair runs, non-zero samples (${PAIR_CHECK:-}):"
    printf '%s' "$PAIR_METRICS"
  else
    echo "wanrelay pair not available: $pair_error"
  fi
}
