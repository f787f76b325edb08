#!/usr/bin/env bash
# Soak: N short sessions through the relay pair (connect, 1 KiB request, 1 KiB reply checked,
# close), then memory and open files of both relays compared with their values at the start
# (target: within 5 %). CP and SP are separate JVMs; everything runs in a network namespace of
# its own (loopback only). The sessions run in batches; after each batch the script prints the
# rate so far and both relays' heap (no forced GC), direct memory and open files.
#
#   bench/soak-short.sh                       1,000,000 sessions (hours at a few hundred per second)
#   bench/soak-short.sh --sessions 100000     fewer, while iterating
#   bench/soak-short.sh --batch 50000 --threads 8 --heap 1g
#   WANRELAY_JAR=/path/wanrelay.jar bench/soak-short.sh
#
# Start and end values: after a warm-up (max(2000, N/50) sessions, at most 20000), a full GC
# (jcmd GC.run), then heap used + JDK direct buffers from /metrics, open files from /proc/PID/fd.
# Needs root, java 17 (+ javac, jcmd), curl, iproute2. Not part of ./mvnw verify.
set -uo pipefail
cd "$(dirname "$0")/.."

SESSIONS=1000000
BATCH=50000
THREADS=8
HEAP=1g
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) SESSIONS="${2:?}"; shift ;;
    --batch) BATCH="${2:?}"; shift ;;
    --threads) THREADS="${2:?}"; shift ;;
    --heap) HEAP="${2:?}"; shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak-short: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$SESSIONS$BATCH" in *[!0-9]*) echo "soak-short: --sessions and --batch need whole numbers" >&2; exit 2 ;; esac

. bench/soak-common.sh
setup_soak 10000

REPLY_PORT=9200
LISTEN_PORT=16100
limits="limits: { max-sessions: 20000, max-streams-per-link: 20000 }"
cat >"$tmp/sp.yaml" <<YAML
node: { id: sp, admin: 127.0.0.1:$SP_ADMIN }
trunk: { listen: 127.0.0.1:$TRUNK_PORT, key: "$KEY", allow: [ 127.0.0.0/8 ] }
$limits
YAML
cat >"$tmp/cp.yaml" <<YAML
node: { id: cp, admin: 127.0.0.1:$CP_ADMIN }
trunk:
  peers: [ { name: sp, address: 127.0.0.1:$TRUNK_PORT, key: "$KEY", connections: 2 } ]
listeners:
  - { name: short, protocol: tcp, listen: 127.0.0.1:$LISTEN_PORT, target: 127.0.0.1:$REPLY_PORT, via: peer:sp }
$limits
YAML

start_bg reply java -Xmx512m -cp "$tmp/classes" net.wanrelay.it.loopbench.ReplyServer --listen "127.0.0.1:$REPLY_PORT" --threads 8
relay_up sp "$tmp/sp.yaml" "$SP_ADMIN" "$HEAP"; sp_pid=$LAST_PID
relay_up cp "$tmp/cp.yaml" "$CP_ADMIN" "$HEAP"; cp_pid=$LAST_PID
log "relays up (cp pid $cp_pid, sp pid $sp_pid, heap $HEAP each)"

load() { # load N : runs N sessions, prints SessionLoad's result line
  ns timeout 4000 java -Xmx256m -cp "$tmp/classes" net.wanrelay.it.loopbench.SessionLoad \
    --target "127.0.0.1:$LISTEN_PORT" --threads "$THREADS" --sessions "$1" --seconds 3600 --warmup-seconds 0 2>&1 | tail -n 1
}
active='^wanrelay_sessions_active\{protocol="tcp",route="trunk"'
snapshot() { # snapshot PID ADMIN : heap(no GC) direct fds, MiB / MiB / count
  printf '%.1f/%.1f MiB %s fds' "$(echo "$(metric_sum "$2" '^jvm_memory_used_bytes\{area="heap"') / 1048576" | bc -l)" \
    "$(echo "$(metric_sum "$2" '^jvm_buffer_memory_used_bytes\{id="direct"') / 1048576" | bc -l)" "$(ls "/proc/$1/fd" | wc -l)"
}

warm=$(( SESSIONS / 50 )); [ "$warm" -lt 2000 ] && warm=2000; [ "$warm" -gt 20000 ] && warm=20000
log "warm-up: $warm sessions"
log "warm-up: $(load "$warm")"
wait_metric "$CP_ADMIN" "$active" -eq 0 60
sleep 2
read -r cp_h0 cp_d0 cp_f0 cp_r0 <<<"$(measure "$cp_pid" "$CP_ADMIN")"
read -r sp_h0 sp_d0 sp_f0 sp_r0 <<<"$(measure "$sp_pid" "$SP_ADMIN")"
histo "$cp_pid" "$tmp/cp.histo0"; histo "$sp_pid" "$tmp/sp.histo0"

echo "== soak-short: $SESSIONS short sessions through the pair (CP and SP separate JVMs, -Xmx$HEAP), batches of $BATCH, $THREADS client threads =="
host_line
done_n=0; ok=0; errors=0
started=$(date +%s)
while [ "$done_n" -lt "$SESSIONS" ]; do
  n=$BATCH; [ $((SESSIONS - done_n)) -lt "$n" ] && n=$((SESSIONS - done_n))
  line=$(load "$n")
  b_ok=$(sed -n 's/^sessions_ok=\([0-9]*\) .*/\1/p' <<<"$line"); b_err=$(sed -n 's/.* errors=\([0-9]*\) .*/\1/p' <<<"$line")
  [ -n "$b_ok" ] || { echo "batch failed: $line"; b_ok=0; b_err=$n; }
  ok=$((ok + b_ok)); errors=$((errors + ${b_err:-0})); done_n=$((done_n + n))
  el=$(( $(date +%s) - started )); [ "$el" -gt 0 ] || el=1
  echo "$(date -u +%H:%M:%S) $done_n sessions, ok $ok, errors $errors, $((done_n / el))/s overall | CP $(snapshot "$cp_pid" "$CP_ADMIN") | SP $(snapshot "$sp_pid" "$SP_ADMIN") | batch: $line"
done
elapsed=$(( $(date +%s) - started ))
wait_metric "$CP_ADMIN" "$active" -eq 0 120
sleep 5
read -r cp_h1 cp_d1 cp_f1 cp_r1 <<<"$(measure "$cp_pid" "$CP_ADMIN")"
read -r sp_h1 sp_d1 sp_f1 sp_r1 <<<"$(measure "$sp_pid" "$SP_ADMIN")"
histo "$cp_pid" "$tmp/cp.histo1"; histo "$sp_pid" "$tmp/sp.histo1"

echo
echo "sessions: $done_n in ${elapsed} s = $(( done_n / (elapsed > 0 ? elapsed : 1) ))/s; ok $ok, errors $errors"
echo "CP sessions by outcome: $(ns curl -fs "http://127.0.0.1:$CP_ADMIN/metrics" | grep -E '^wanrelay_sessions_total\{' | grep -v ' 0.0$' | sed -E 's/.*outcome="([a-z_]*)".*route="([a-z]*)"\} (.*)/\1\/\2=\3/' | tr '\n' ' ')"
row() { # row NAME h0 d0 f0 r0 h1 d1 f1 r1
  awk -v n="$1" -v h0="$2" -v d0="$3" -v f0="$4" -v r0="$5" -v h1="$6" -v d1="$7" -v f1="$8" -v r1="$9" 'BEGIN {
    m0 = h0 + d0; m1 = h1 + d1; dm = (m1 - m0) / m0 * 100; df = (f1 - f0) / f0 * 100
    printf "%-3s | %7.1f MiB -> %7.1f MiB (%+.1f %%; heap %.1f -> %.1f, direct %.1f -> %.1f) | %5d -> %5d (%+.1f %%) | rss %6.1f -> %6.1f MiB | %s\n",
      n, m0 / 1048576, m1 / 1048576, dm, h0 / 1048576, h1 / 1048576, d0 / 1048576, d1 / 1048576, f0, f1, df, r0 / 1048576, r1 / 1048576,
      (dm <= 5 && dm >= -5 && df <= 5 && df >= -5) ? "within 5 %: met" : "MISSED" }'
}
echo "relay | heap+direct after GC, start -> end | open files start -> end | rss | target"
row CP "$cp_h0" "$cp_d0" "$cp_f0" "$cp_r0" "$cp_h1" "$cp_d1" "$cp_f1" "$cp_r1"
row SP "$sp_h0" "$sp_d0" "$sp_f0" "$sp_r0" "$sp_h1" "$sp_d1" "$sp_f1" "$sp_r1"
echo "live heap growth by class, start -> end (jcmd GC.class_histogram), CP:"
histo_growth "$tmp/cp.histo0" "$tmp/cp.histo1"
echo "SP:"
histo_growth "$tmp/sp.histo0" "$tmp/sp.histo1"
