#!/usr/bin/env bash
# WAN benchmark: direct path vs. kcptun pair vs. wanrelay pair over the namespace test bed's
# emulated WAN (25 ms one way each direction, 100 Mbit/s, without and with 1% loss).
# Prints a table with ratios to direct (also in integration-tests/target/wan-bench.txt).
# Needs root, iproute2, /dev/net/tun; kcptun (Debian package) for its row.
#
#   bench/wan-bench.sh                  build the relay jar, then run the bench
#   WANRELAY_JAR=/path/wanrelay.jar bench/wan-bench.sh   use that jar, skip the build
#   BENCH_OPTS="-Dbench.sessions=50 -Dbench.uploadMiB=16 -Dbench.capSeconds=30" bench/wan-bench.sh
#   BENCH_TESTS=TransparentBenchTest bench/wan-bench.sh   only the transparent-mode rows
# The transparent-mode rows (TransparentBenchTest): TTFB through the pair in transparent mode with
# the PMT warm and for first contacts with new servers, and without an SP on the path.
set -euo pipefail
cd "$(dirname "$0")/.."

jar="${WANRELAY_JAR:-}"
if [ -z "$jar" ]; then
  ./mvnw -q -B package -DskipTests -pl relay-core -am
  # others may rebuild relay-core/target while the bench runs: use a private copy
  jar="$(mktemp -d)/wanrelay.jar"
  cp relay-core/target/wanrelay.jar "$jar"
fi

# shellcheck disable=SC2086
./mvnw -B -pl integration-tests verify -Dtest.excludedGroups= -Dgroups=bench \
  -Dtest="${BENCH_TESTS:-WanBenchTest,TransparentBenchTest}" -Dsurefire.failIfNoSpecifiedTests=false \
  -Dwanrelay.jar="$jar" ${BENCH_OPTS:-} 2>&1 | grep -v ' DEBUG ' | grep -E '^\[bench\]|^WAN bench|^TTFB|^condition|^---|^RTT|^n/a|^Reference|^\[transparent\]|Tests run:|BUILD|ERROR'
