#!/usr/bin/env bash
# THE benchmark command: builds the dataplane benchmarks, runs them (JSON),
# and writes the generated section of docs/performance.md and
# docs/performance.png from the results (scripts/bench_report.py).
# Procedure and how to read the numbers: docs/performance.md.
#
#   BUILD_DIR       build directory, relative to the repository root (default build)
#   BENCH_REPS      repetitions of each benchmark; the report quotes medians (default 5)
#   BENCH_PACKETS   packets per repetition (default 1048576)
#   BENCH_SESSIONS  NAPT table sizes (default 1024,65536,1048576,4194304)
#   BENCH_FILTER    Google Benchmark --benchmark_filter regex (default: all)
#   BENCH_CAPACITY  default: NAT capacity max(sessions, 1M), the daemon's default
#                   table; full: a table of exactly `sessions`
#   BENCH_EAL       EAL options (default: hugepages with --in-memory when at least
#                   3 GiB of them are free, else --no-huge -m 6144; both --no-pci)
#   BENCH_OUT       results directory (default BUILD_DIR/bench-results)
#   BENCH_NO_REPORT=1  run only, leave docs/ alone
# 2 to 6 minutes on a 2-CPU machine (quiet or busy). Needs no root unless python3-matplotlib
# is missing (then it is installed with apt-get).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
REPS=${BENCH_REPS:-5}
PACKETS=${BENCH_PACKETS:-1048576}
SESSIONS=${BENCH_SESSIONS:-1024,65536,1048576,4194304}
CAPACITY=${BENCH_CAPACITY:-default}
OUT=${BENCH_OUT:-$BUILD_DIR/bench-results}
PY=/usr/bin/python3

# ---- build
if [[ ! -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
  meson setup "$BUILD_DIR" -Dbenchmarks=true
elif ! meson configure "$BUILD_DIR" 2>/dev/null | grep -qE '^\s*benchmarks\s+true\b'; then
  meson configure "$BUILD_DIR" -Dbenchmarks=true
fi
ninja -C "$BUILD_DIR" bench/bench_dataplane
BIN="$BUILD_DIR/bench/bench_dataplane"

# ---- the report's plotting library (Debian's, for /usr/bin/python3)
if [[ -z ${BENCH_NO_REPORT:-} ]] && ! "$PY" -c 'import matplotlib' 2>/dev/null; then
  echo "bench.sh: installing python3-matplotlib"
  if [[ $(id -u) -eq 0 ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib
  else
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends python3-matplotlib
  fi
fi

# ---- EAL: hugepages when the machine has enough free, else anonymous memory
lcores() {  # the first two CPUs this shell may run on
  "$PY" -c 'import os; print(",".join(str(c) for c in sorted(os.sched_getaffinity(0))[:2]))'
}
if [[ -n ${BENCH_EAL:-} ]]; then
  read -r -a EAL <<<"$BENCH_EAL"
else
  free_kb=$(awk '/^HugePages_Free:/ {f=$2} /^Hugepagesize:/ {s=$2} END {print f*s}' /proc/meminfo)
  if (( free_kb >= 3 * 1024 * 1024 )); then
    EAL=(--in-memory --no-pci --file-prefix=ipshare_bench --log-level=error -l "$(lcores)")
  else
    # 4M sessions take about 1.6 GB of NAT tables; --in-memory is refused
    # with --no-huge, --no-shconf keeps the EAL from writing runtime files.
    EAL=(--no-huge -m 6144 --no-pci --no-shconf --file-prefix=ipshare_bench --log-level=error -l "$(lcores)")
  fi
fi

# ---- run
mkdir -p "$OUT"
JSON="$OUT/bench_dataplane.json"
echo "bench.sh: $BIN ${EAL[*]} -- (${REPS} repetitions, ${PACKETS} packets each)"
start=$(date +%s)
timeout -k 30 1800 "$BIN" "${EAL[@]}" -- \
  --benchmark_repetitions="$REPS" \
  --benchmark_report_aggregates_only=true \
  --benchmark_out="$JSON" --benchmark_out_format=json \
  --benchmark_filter="${BENCH_FILTER:-.}" \
  --packets="$PACKETS" --sessions="$SESSIONS" --capacity="$CAPACITY" \
  2>&1 | tee "$OUT/bench_dataplane.log"
echo "bench.sh: benchmarks took $(( $(date +%s) - start )) s; results in $JSON"

# ---- report
if [[ -z ${BENCH_NO_REPORT:-} ]]; then
  "$PY" scripts/bench_report.py "$JSON" --doc docs/performance.md --png docs/performance.png
fi
