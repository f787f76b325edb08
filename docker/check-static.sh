#!/usr/bin/env bash
# Static checks of the docker topology; no Docker engine needed.
#
#   docker/check-static.sh [DOCKER_DIR]
#
# DOCKER_DIR defaults to this script's directory. Checks:
#   1. docker-compose config -q accepts the compose file;
#   2. every bind-mount source of the compose file exists, every network a service joins is declared;
#   3. promtool accepts the Prometheus config, and every scrape target host is a compose service;
#   4. every Grafana dashboard JSON parses, and its datasource uids are provisioned;
#   5. the relay configs pass `wanrelay.jar check-config`, also with their commented transparent-mode
#      stanza (from "# intercept:" on) uncommented (skipped with a note when the jar is absent;
#      WANRELAY_JAR overrides the default relay-core/target/wanrelay.jar).
# Needs: docker-compose, promtool (Debian package prometheus), python3 with PyYAML (docker-compose
# depends on python3-yaml), java for check 5.
set -uo pipefail

DIR=$(cd "${1:-$(dirname "$0")}" && pwd) || { echo "check-static: no such directory: ${1:-}" >&2; exit 2; }
ROOT=$(cd "$(dirname "$0")/.." && pwd)
JAR=${WANRELAY_JAR:-$ROOT/relay-core/target/wanrelay.jar}
COMPOSE="$DIR/docker-compose.yml"
PROM="$DIR/prometheus/prometheus.yml"
failures=0
# check-config is a short-lived JVM: start it cheaply.
JVM_OPTS="-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx64m"

fail() { echo "check-static: FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { echo "check-static: ok: $*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "check-static: FAIL: '$1' not found (apt-get install -y $2)" >&2; exit 2; }; }

need docker-compose docker-compose
need promtool prometheus
# Debian's python3 has PyYAML through docker-compose; prefer it over any python3 earlier in PATH.
PY=python3
if [ -x /usr/bin/python3 ] && /usr/bin/python3 -c 'import yaml' 2>/dev/null; then PY=/usr/bin/python3; fi
"$PY" -c 'import yaml' 2>/dev/null || { echo "check-static: FAIL: python3 with PyYAML not found (apt-get install -y python3-yaml)" >&2; exit 2; }

for f in "$COMPOSE" "$PROM"; do
  [ -f "$f" ] || { echo "check-static: FAIL: missing $f" >&2; exit 1; }
done

# 1. compose syntax and semantics (docker-compose validates without talking to an engine)
if out=$(docker-compose -f "$COMPOSE" config -q 2>&1); then
  ok "docker-compose config -q"
else
  fail "docker-compose config rejects $COMPOSE: $out"
fi

# 2. + 3b. + 4b. cross-file checks in one small python program
if out=$("$PY" - "$DIR" <<'PY' 2>&1
import json, os, sys, yaml, glob
d = sys.argv[1]
errors = []
compose = yaml.safe_load(open(os.path.join(d, "docker-compose.yml")))
services = set((compose.get("services") or {}).keys())

# bind mounts: "./src:/dst[:mode]" relative to the compose file
for name, svc in (compose.get("services") or {}).items():
    for vol in svc.get("volumes") or []:
        src = vol.split(":")[0] if isinstance(vol, str) else vol.get("source", "")
        if src.startswith(".") or src.startswith("/"):
            path = os.path.normpath(os.path.join(d, src))
            if not os.path.exists(path):
                errors.append(f"service {name}: bind-mount source {src} does not exist ({path})")

# networks a service joins must be declared (docker-compose v1's config does not check this)
declared = set((compose.get("networks") or {}).keys())
for name, svc in (compose.get("services") or {}).items():
    nets = svc.get("networks") or []
    for net in (nets.keys() if isinstance(nets, dict) else nets):
        if net not in declared:
            errors.append(f"service {name}: network {net} is not declared under networks: (have {', '.join(sorted(declared))})")
    mode = svc.get("network_mode", "")
    if mode.startswith("service:") and mode[len("service:"):] not in services:
        errors.append(f"service {name}: network_mode {mode} names no service")

prom = yaml.safe_load(open(os.path.join(d, "prometheus", "prometheus.yml")))
targets = 0
for job in prom.get("scrape_configs") or []:
    for sc in job.get("static_configs") or []:
        for t in sc.get("targets") or []:
            targets += 1
            host = t.rsplit(":", 1)[0]
            if host not in services:
                errors.append(f"prometheus job {job.get('job_name')}: target {t}: host '{host}' is not a compose service "
                              f"(services: {', '.join(sorted(services))})")
if targets == 0:
    errors.append("prometheus.yml has no static scrape targets")

uids = set()
for f in glob.glob(os.path.join(d, "grafana", "provisioning", "datasources", "*.y*ml")):
    for ds in (yaml.safe_load(open(f)) or {}).get("datasources") or []:
        uids.add(ds.get("uid"))
dashboards = glob.glob(os.path.join(d, "grafana", "dashboards", "*.json"))
if not dashboards:
    errors.append("no dashboard JSON under grafana/dashboards")
for f in dashboards:
    try:
        dash = json.load(open(f))
    except ValueError as e:
        errors.append(f"{os.path.basename(f)} does not parse as JSON: {e}")
        continue
    def walk(o):
        if isinstance(o, dict):
            ds = o.get("datasource")
            if isinstance(ds, dict) and ds.get("uid") not in uids:
                errors.append(f"{os.path.basename(f)}: datasource uid {ds.get('uid')} is not provisioned (have {sorted(uids)})")
            for v in o.values(): walk(v)
        elif isinstance(o, list):
            for v in o: walk(v)
    walk(dash)
    exprs = [t.get("expr", "") for p in dash.get("panels", []) for t in p.get("targets", [])]
    if not any("wanrelay_" in e for e in exprs):
        errors.append(f"{os.path.basename(f)}: no panel queries a wanrelay_ metric")
print(f"{len(services)} services, {targets} scrape targets, {len(dashboards)} dashboard(s)")
if errors:
    print("\n".join(errors))
    sys.exit(1)
PY
); then
  ok "mounts, scrape targets, dashboards: $out"
else
  fail "$out"
fi

# 3. Prometheus' own validation of the scrape config
if out=$(promtool check config "$PROM" 2>&1); then
  ok "promtool check config"
else
  fail "promtool rejects $PROM: $out"
fi

# 5. relay configs, validated by the relay itself
configs=("$DIR"/relay/*.yaml)
if [ ! -e "${configs[0]}" ]; then
  fail "no relay configs under $DIR/relay"
elif [ -f "$JAR" ]; then
  need java default-jre-headless
  # A check-config that accepts an unknown key validates nothing (e.g. a stub jar): say so, loudly.
  bogus=$(mktemp --suffix=.yaml)
  printf 'node: { id: x, admin: 127.0.0.1:9464 }\nno-such-key-wanrelay-static-check: 1\n' > "$bogus"
  if java $JVM_OPTS -jar "$JAR" check-config -c "$bogus" >/dev/null 2>&1; then
    fail "$JAR check-config accepted a config with an unknown key, so it validates nothing; relay configs not checked"
  else
    for c in "${configs[@]}"; do
      if out=$(java $JVM_OPTS -jar "$JAR" check-config -c "$c" 2>&1); then
        ok "check-config $(basename "$c")"
      else
        fail "wanrelay check-config rejects $c: $out"
      fi
      # The commented transparent-mode stanza (from '# intercept:' on) must stay valid too.
      if grep -q '^# intercept:' "$c"; then
        t=$(mktemp --suffix=.yaml)
        sed '/^# intercept:/,$ s/^# //' "$c" > "$t"
        if out=$(java $JVM_OPTS -jar "$JAR" check-config -c "$t" 2>&1); then
          ok "check-config $(basename "$c") with its transparent stanza uncommented"
        else
          fail "wanrelay check-config rejects $c with its commented transparent stanza uncommented: $out"
        fi
        rm -f "$t"
      fi
    done
  fi
  rm -f "$bogus"
else
  echo "check-static: note: $JAR not built; relay configs not validated (run ./mvnw -q -B package -DskipTests -pl relay-core -am)"
fi

if [ "$failures" -gt 0 ]; then
  echo "check-static: $failures check(s) failed" >&2
  exit 1
fi
echo "check-static: all checks passed"
