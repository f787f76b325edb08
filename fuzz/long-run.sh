#!/usr/bin/env bash
# Long fuzzing run on demand (docs/FUZZING.md, "Long run on demand"). Not part of any build.
#
#   fuzz/long-run.sh [--executions N] [--max-time SECONDS] [--jobs 1|2] [--no-build] [TARGET...]
#
# Builds the fuzz module and its upstream modules once (no install), then runs each target (all
# *FuzzTest classes, or the ones named: FrameDecoder, FrameDecoderFuzzTest, ...) in its own JVM
# through Jazzer's command line, to N executions (default 10,000,000) or the time cap per target
# (default 3 h), up to --jobs targets at a time (default 2), under SCHED_IDLE and nice 19 so the
# runs only take CPU nobody else wants. Leak checking is the targets' BufferLedger (exact, per
# input) with Netty's own detector off. Prints a table and appends it to fuzz/target/long-run.txt;
# each target's log and any finding are under fuzz/target/long-run/<Target>/.
set -euo pipefail

executions=10000000
max_time=10800
jobs=2
build=1
targets=()
while (($#)); do
  case "$1" in
    --executions) executions="$2"; shift 2 ;;
    --max-time) max_time="$2"; shift 2 ;;
    --jobs) jobs="$2"; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    -*) echo "unknown option $1" >&2; exit 2 ;;
    *) t="${1%FuzzTest}"; targets+=("${t}FuzzTest"); shift ;;
  esac
done

fuzz_dir="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$fuzz_dir")"
src="$fuzz_dir/src/test/java/net/wanrelay/fuzz"
out="$fuzz_dir/target/long-run"
if ((${#targets[@]} == 0)); then
  for f in "$src"/*FuzzTest.java; do targets+=("$(basename "$f" .java)"); done
fi
for t in "${targets[@]}"; do
  [[ -f "$src/$t.java" ]] || { echo "no such target: $t" >&2; exit 2; }
done

idle=(nice -n 19)
if chrt -i 0 true 2>/dev/null; then
  idle=(chrt -i 0 nice -n 19)
fi

cd "$root"
if ((build)); then
  # One reactor build; the classpath file lets every target JVM start without Maven.
  "${idle[@]}" ./mvnw ${LONG_RUN_MAVEN_FLAGS--o} -B -q -pl fuzz -am test-compile dependency:build-classpath \
    -Dmdep.outputFile=target/test-classpath.txt -Dmdep.includeScope=test
fi
mkdir -p "$out"
# The JVMs run from a snapshot of the class directories, so rebuilding while they run (which
# rewrites target/classes) cannot hand a running target a class from another revision.
snapshot="$out/classes.$$"
rm -rf "$snapshot"
classpath=""
i=0
for entry in "$fuzz_dir/target/test-classes" "$fuzz_dir/target/classes" $(tr ':' ' ' <"$fuzz_dir/target/test-classpath.txt"); do
  if [[ -d "$entry" ]]; then
    mkdir -p "$snapshot/$i"
    cp -r "$entry/." "$snapshot/$i/"
    entry="$snapshot/$i"
    i=$((i + 1))
  fi
  classpath="${classpath:+$classpath:}$entry"
done
# Same instrumentation as the Maven runs (fuzz.instrument in fuzz/pom.xml); Jazzer's CLI wants ':'.
instrument="$(sed -n 's|.*<fuzz.instrument>\(.*\)</fuzz.instrument>.*|\1|p' "$fuzz_dir/pom.xml" | tr ',' ':')"
[[ -n "$instrument" ]] || { echo "fuzz.instrument not found in fuzz/pom.xml" >&2; exit 2; }

run_target() {
  local t="$1" dir="$out/$1" method corpus seeds start rc=0
  method="$(awk '/@FuzzTest/ {f=1} f && match($0, /void [A-Za-z0-9_]+\(/) {print substr($0, RSTART+5, RLENGTH-6); exit}' "$src/$t.java")"
  corpus="$fuzz_dir/.cifuzz-corpus/net.wanrelay.fuzz.$t/$method"
  seeds="$fuzz_dir/src/test/resources/net/wanrelay/fuzz/${t}Inputs"
  rm -rf "$dir"
  mkdir -p "$dir" "$corpus"
  start=$(date +%s)
  # The corpus (first dir) is where libFuzzer adds inputs; the seeds and saved findings are read only.
  # -timeout: one input taking a minute is a hang (generous: SCHED_IDLE may starve the JVM for a while).
  "${idle[@]}" java -Xmx1g -XX:+UseParallelGC -Dio.netty.allocator.type=unpooled \
    -Dio.netty.leakDetection.level=disabled -cp "$classpath" com.code_intelligence.jazzer.Jazzer \
    --target_class="net.wanrelay.fuzz.$t" --instrumentation_includes="$instrument" \
    --reproducer_path="$dir" -artifact_prefix="$dir/" -runs="$executions" -max_total_time="$max_time" \
    -timeout=60 -rss_limit_mb=4096 "$corpus" $( [[ -d "$seeds" ]] && echo "$seeds" ) \
    >"$dir/log.txt" 2>&1 &
  local jvm=$!
  echo "$jvm" >"$dir/pid"
  trap 'kill "$jvm" 2>/dev/null' INT TERM
  wait "$jvm" || rc=$?
  local wall=$(($(date +%s) - start)) runs secs outcome artifact
  runs="$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1/p' "$dir/log.txt" | tail -1)"
  secs="$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\2/p' "$dir/log.txt" | tail -1)"
  artifact="$(sed -n 's/.*Test unit written to \([^ ]*\).*/\1/p' "$dir/log.txt" | tail -1)"
  if [[ -z "$runs" ]]; then
    # No "Done" line after a finding: the last status line's count, and the wall time.
    runs="$(grep -o '^#[0-9]*' "$dir/log.txt" | tail -1 | tr -d '#')"
    runs="${runs:-0}"
    secs="$wall"
  fi
  if ((rc == 0)) && [[ -z "$artifact" ]]; then
    if ((runs >= executions)); then outcome="ok"; else outcome="ok (time cap)"; fi
  elif [[ "$artifact" == *timeout-* ]]; then
    outcome="hang: $artifact"
  elif [[ "$artifact" == *oom-* ]]; then
    outcome="out of memory: $artifact"
  elif grep -q 'buffer leak after' "$dir/log.txt"; then
    outcome="leak: $artifact"
  elif [[ -n "$artifact" ]]; then
    outcome="finding: $artifact"
  else
    outcome="error: exit $rc, see $dir/log.txt"
  fi
  printf '%s\t%s\t%s\t%s\n' "$t" "$runs" "$secs" "$outcome" >"$dir/result.tsv"
  rm -f "$dir/pid"
}

started="$(date -u '+%Y-%m-%d %H:%M UTC')"
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done' INT TERM
for t in "${targets[@]}"; do
  while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
  run_target "$t" &
  pids+=($!)
  echo "started $t"
done
wait || true
rm -rf "$snapshot"

{
  echo "fuzz/long-run.sh, started $started, ended $(date -u '+%H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg);" \
    "target $executions executions, cap ${max_time}s per target, $jobs at a time, ${idle[*]}"
  printf '%-28s %12s %9s %9s  %s\n' target executions seconds exec/s outcome
  for t in "${targets[@]}"; do
    if [[ -f "$out/$t/result.tsv" ]]; then
      IFS=$'\t' read -r name runs secs outcome <"$out/$t/result.tsv"
      printf '%-28s %12s %9s %9s  %s\n' "$name" "$runs" "$secs" "$((runs / (secs > 0 ? secs : 1)))" "$outcome"
    else
      printf '%-28s %12s %9s %9s  %s\n' "$t" - - - "did not finish"
    fi
  done
} | tee -a "$fuzz_dir/target/long-run.txt"
