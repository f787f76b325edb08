#!/usr/bin/env bash
# Scale benchmark: N concurrent idle TCP sessions through the relay pair, memory per session per
# relay. CP and SP are separate JVMs; clients, relays and the echo server share a network
# namespace of their own (loopback only). Clients connect from 127.1.0.0/16 source addresses,
# send one byte, wait for its echo (the session crossed the pair), then stay idle.
#
#   bench/soak-idle.sh                      100,000 sessions (~10-20 min on 2 vCPU)
#   bench/soak-idle.sh --sessions 20000     fewer, while iterating
#   bench/soak-idle.sh --heap 3g --window 300 --ports 5
#   WANRELAY_JAR=/path/wanrelay.jar bench/soak-idle.sh
#
# Memory per relay = heap used after a full GC (jcmd GC.run) + JDK direct buffers, both from the
# relay's /metrics; measured after a 2000-session warm-up (baseline) and with N sessions open.
# Per session = (loaded - baseline) / N. Target <= 10 KiB. RSS is printed next to it as a
# cross-check. Needs root, java 17 (+ javac, jcmd), curl, iproute2. Not part of ./mvnw verify.
set -uo pipefail
cd "$(dirname "$0")/.."

SESSIONS=100000
HEAP=2g
WINDOW=400
PORTS=5
while [ $# -gt 0 ]; do
  case "$1" in
    --sessions) SESSIONS="${2:?}"; shift ;;
    --heap) HEAP="${2:?}"; shift ;;
    --window) WINDOW="${2:?}"; shift ;;
    --ports) PORTS="${2:?}"; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "soak-idle: unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
  shift
done
case "$SESSIONS" in ''|*[!0-9]*|0) echo "soak-idle: --sessions needs a whole number >= 1" >&2; exit 2 ;; esac

. bench/soak-common.sh
setup_soak "$SESSIONS"
REQUESTED=$SESSIONS
if [ "$SESSIONS" -gt "$MAX_SESSIONS_BY_FDS" ]; then
  SESSIONS=$MAX_SESSIONS_BY_FDS
  log "running $SESSIONS sessions instead of $REQUESTED"
fi

echo_ports=""; targets=""; listeners=""
for i in $(seq 0 $((PORTS - 1))); do
  echo_ports+="${echo_ports:+,}$((9100 + i))"
  targets+="${targets:+,}127.0.0.1:$((16000 + i))"
  listeners+="  - { name: idle$i, protocol: tcp, listen: 127.0.0.1:$((16000 + i)), target: 127.0.0.1:$((9100 + i)), via: peer:sp }
"
done
limits="limits: { max-sessions: $((SESSIONS * 2 + 10000)), max-streams-per-link: $((SESSIONS + 10000)), idle-timeout: 2h, silent-timeout: 0 }"
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
$listeners$limits
YAML

start_bg echo java -Xmx512m -cp "$tmp/classes" net.wanrelay.it.soak.IdleEchoServer --listen 127.0.0.1 --ports "$echo_ports"
relay_up sp "$tmp/sp.yaml" "$SP_ADMIN" "$HEAP"; sp_pid=$LAST_PID
relay_up cp "$tmp/cp.yaml" "$CP_ADMIN" "$HEAP"; cp_pid=$LAST_PID
log "relays up (cp pid $cp_pid, sp pid $sp_pid, heap $HEAP each)"

client() { # client N TAG : opens N idle sessions, holds them until $tmp/TAG.release exists
  start_bg "client-$2" java -Xmx1g -cp "$tmp/classes" net.wanrelay.it.soak.IdleSessions --targets "$targets" \
    --sessions "$1" --window "$WINDOW" --per-source 1000 --ready "$tmp/$2.ready" --release "$tmp/$2.release"
  CLIENT_PID=$LAST_PID
}
active='^wanrelay_sessions_active\{protocol="tcp",route="trunk"'

log "warm-up: 2000 sessions opened and closed"
client 2000 warm
for _ in $(seq 600); do [ -f "$tmp/warm.ready" ] && break; sleep 0.5; done
touch "$tmp/warm.release"; wait "$CLIENT_PID" 2>/dev/null
wait_metric "$CP_ADMIN" "$active" -eq 0 60
sleep 2
read -r cp_h0 cp_d0 cp_f0 cp_r0 <<<"$(measure "$cp_pid" "$CP_ADMIN")"
read -r sp_h0 sp_d0 sp_f0 sp_r0 <<<"$(measure "$sp_pid" "$SP_ADMIN")"

log "opening $SESSIONS idle sessions (window $WINDOW)"
started=$(date +%s)
client "$SESSIONS" main
while [ ! -f "$tmp/main.ready" ]; do
  kill -0 "$CLIENT_PID" 2>/dev/null || { log "client exited: $(tail -n 3 "$tmp/client-main.err")"; exit 1; }
  sleep 1
done
open_seconds=$(( $(date +%s) - started ))
result=$(grep '^established=' "$tmp/client-main.out")
established=$(sed -n 's/^established=\([0-9]*\).*/\1/p' <<<"$result")
cp_active=$(metric_sum "$CP_ADMIN" "$active")
sp_streams=$(metric_sum "$SP_ADMIN" '^wanrelay_trunk_streams_active')
read -r cp_h1 cp_d1 cp_f1 cp_r1 <<<"$(measure "$cp_pid" "$CP_ADMIN")"
read -r sp_h1 sp_d1 sp_f1 sp_r1 <<<"$(measure "$sp_pid" "$SP_ADMIN")"

touch "$tmp/main.release"
for _ in $(seq 600); do kill -0 "$CLIENT_PID" 2>/dev/null || break; sleep 0.5; done
closed=$(grep '^closed=' "$tmp/client-main.out")
wait_metric "$CP_ADMIN" "$active" -eq 0 300
sleep 5
read -r cp_h2 cp_d2 cp_f2 cp_r2 <<<"$(measure "$cp_pid" "$CP_ADMIN")"
read -r sp_h2 sp_d2 sp_f2 sp_r2 <<<"$(measure "$sp_pid" "$SP_ADMIN")"

row() { # row NAME h0 d0 f0 r0 h1 d1 f1 r1 h2 d2 f2 r2
  awk -v n="$1" -v h0="$2" -v d0="$3" -v f0="$4" -v r0="$5" -v h1="$6" -v d1="$7" -v f1="$8" -v r1="$9" \
      -v h2="${10}" -v d2="${11}" -v f2="${12}" -v r2="${13}" -v s="$established" 'BEGIN {
    per = ((h1 + d1) - (h0 + d0)) / s; rss = (r1 - r0) / s
    printf "%-3s | %8.1f / %6.1f MiB | %8.1f / %6.1f MiB | %7d -> %7d -> %7d | %7.0f B = %5.2f KiB | %6.2f KiB | %s\n",
      n, h0 / 1048576, d0 / 1048576, h1 / 1048576, d1 / 1048576, f0, f1, f2, per, per / 1024, rss / 1024,
      (per <= 10240 ? "met" : "MISSED")
    printf "    after close: heap %.1f MiB, direct %.1f MiB, rss %.1f MiB\n", h2 / 1048576, d2 / 1048576, r2 / 1048576 }'
}
echo
echo "== soak-idle: $SESSIONS concurrent idle TCP sessions through the pair (CP and SP separate JVMs, -Xmx$HEAP) =="
host_line
[ -n "$FD_LIMIT_NOTE" ] && echo "$FD_LIMIT_NOTE: ran $SESSIONS of the $REQUESTED sessions asked for"
echo "client: $result"
echo "client: $closed"
echo "opened in ${open_seconds} s; CP trunk sessions active $cp_active, SP trunk streams active $sp_streams"
echo
echo "relay | heap / direct, baseline | heap / direct, $established open | fds base -> open -> closed | heap+direct per session | RSS per session | <= 10 KiB"
row CP "$cp_h0" "$cp_d0" "$cp_f0" "$cp_r0" "$cp_h1" "$cp_d1" "$cp_f1" "$cp_r1" "$cp_h2" "$cp_d2" "$cp_f2" "$cp_r2"
row SP "$sp_h0" "$sp_d0" "$sp_f0" "$sp_r0" "$sp_h1" "$sp_d1" "$sp_f1" "$sp_r1" "$sp_h2" "$sp_d2" "$sp_f2" "$sp_r2"
