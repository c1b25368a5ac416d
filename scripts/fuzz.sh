#!/usr/bin/env bash
# Fuzzing (libFuzzer, clang) and the unit tests under ASan + UBSan.
#
#   scripts/fuzz.sh [--ci] [--seconds N] [--no-unit] [FUZZER...]
#
#   --ci          45 seconds per fuzzer (what scripts/test.sh runs)
#   --seconds N   N seconds per fuzzer (default 300)
#   --no-unit     skip the unit tests
#   FUZZER        fuzz_config, fuzz_commands, fuzz_pipeline (default: all)
#   FUZZ_BUILD_DIR  build directory, relative to the repo root (default build-fuzz)
#
# Steps:
#  1. Configure (once) and build FUZZ_BUILD_DIR with clang, ASan + UBSan and
#     libFuzzer coverage, unit tests included.
#  2. The unit tests (meson test) under ASan + UBSan.
#  3. Known bugs: every tests/fuzz/corpus/FUZZER/bug_* reproducer is run alone;
#     one that still crashes is reported (and counted as a failure).
#  4. The fuzzers, side by side, for the time given, from the seed corpus
#     (tests/fuzz/corpus/FUZZER, read only) and a working corpus kept in
#     FUZZ_BUILD_DIR/fuzz/corpus/FUZZER; -max_len=2048. Crash inputs land in
#     FUZZ_BUILD_DIR/fuzz/artifacts/; reproduce one with
#     FUZZ_BUILD_DIR/tests/fuzz/FUZZER FILE.
# Prints one summary line per fuzzer and an overall line; exits non-zero if
# the build, a unit test, a known bug or a fuzzer failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${FUZZ_BUILD_DIR:-build-fuzz}

seconds=300
unit=1
fuzzers=()
while (($#)); do
  case "$1" in
    --ci) seconds=45 ;;
    --seconds) seconds=${2:?--seconds needs a number}; shift ;;
    --no-unit) unit=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    fuzz_*) fuzzers+=("$1") ;;
    *) echo "scripts/fuzz.sh: unknown argument '$1' (try --help)" >&2; exit 2 ;;
  esac
  shift
done
((${#fuzzers[@]})) || fuzzers=(fuzz_config fuzz_commands fuzz_pipeline)

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

start=$SECONDS
status=0

echo "== fuzz: build ($BUILD: clang, ASan + UBSan, libFuzzer)"
if ! echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' |
    clang++ -x c++ -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1; then
  echo "scripts/fuzz.sh: clang++ cannot link libFuzzer with ASan/UBSan (Debian: clang, libclang-rt-14-dev)" >&2
  exit 1
fi
if [[ ! -f "$BUILD/meson-private/coredata.dat" ]]; then
  CC=clang CXX=clang++ meson setup "$BUILD" \
    -Dfuzz=true -Dtests=true -Dbenchmarks=false \
    -Dbuildtype=plain -Db_sanitize=address,undefined -Db_lundef=false \
    "-Dcpp_args=-O1 -gline-tables-only -fsanitize=fuzzer-no-link -Wno-deprecated-volatile -Wno-unknown-warning-option"
fi
if ! ninja -C "$BUILD" >"$BUILD/fuzz-build.log" 2>&1; then
  tail -40 "$BUILD/fuzz-build.log" >&2
  echo "== fuzz: BUILD FAILED (log: $BUILD/fuzz-build.log)" >&2
  exit 1
fi
echo "   built in $((SECONDS - start)) s"

unit_result="skipped"
if ((unit)); then
  echo "== fuzz: unit tests under ASan + UBSan"
  t0=$SECONDS
  if meson test -C "$BUILD" --no-rebuild --print-errorlogs; then
    unit_result="passed"
  else
    unit_result="FAILED"
    status=1
  fi
  echo "   unit tests $unit_result in $((SECONDS - t0)) s"
fi

# What a crash log says went wrong: the invariant, or the sanitizer's summary.
signature() {
  grep -m1 -oE "invariant '[^']+'|SUMMARY: [A-Za-z]+Sanitizer: [a-z-]+ [^ ]+|runtime error: .*" "$1" || true
}

mkdir -p "$BUILD/fuzz/artifacts" "$BUILD/fuzz/logs"
known=0
declare -A broken=() known_sig=()
echo "== fuzz: known-bug reproducers"
for f in "${fuzzers[@]}"; do
  for r in tests/fuzz/corpus/"$f"/bug_*; do
    [[ -e "$r" ]] || continue
    if "$BUILD/tests/fuzz/$f" "$r" >"$BUILD/fuzz/logs/$f-$(basename "$r").log" 2>&1; then
      echo "   fixed: $f $(basename "$r")"
    else
      echo "   STILL CRASHES: $f $(basename "$r") (log: $BUILD/fuzz/logs/$f-$(basename "$r").log)"
      grep -m1 -E "invariant|^SUMMARY|ERROR: AddressSanitizer|runtime error|^==== " \
        "$BUILD/fuzz/logs/$f-$(basename "$r").log" | sed 's/^/      /' || true
      broken["$f/$(basename "$r")"]=1
      sig=$(signature "$BUILD/fuzz/logs/$f-$(basename "$r").log")
      [[ -z "$sig" ]] || known_sig["$f: $sig"]=$(basename "$r")
      known=$((known + 1))
      status=1
    fi
  done
done
((known)) || echo "   none crashes"

echo "== fuzz: ${fuzzers[*]}: ${seconds} s each, side by side"
pids=()
for f in "${fuzzers[@]}"; do
  # The seeds, less the reproducers that still crash (fuzzing goes on past them).
  seeds="$BUILD/fuzz/seeds/$f"
  rm -rf "$seeds"
  mkdir -p "$seeds" "$BUILD/fuzz/corpus/$f"
  for s in tests/fuzz/corpus/"$f"/*; do
    [[ -n "${broken["$f/$(basename "$s")"]:-}" ]] || cp "$s" "$seeds/"
  done
  dict=()
  [[ -f "tests/fuzz/$f.dict" ]] && dict=("-dict=tests/fuzz/$f.dict")
  "$BUILD/tests/fuzz/$f" "${dict[@]}" -max_total_time="$seconds" -max_len=2048 -timeout=10 \
    -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$BUILD/fuzz/artifacts/$f-" \
    "$BUILD/fuzz/corpus/$f" "$seeds" >"$BUILD/fuzz/logs/$f.log" 2>&1 &
  pids+=($!)
done

crashes=0
for i in "${!fuzzers[@]}"; do
  f=${fuzzers[$i]}
  log="$BUILD/fuzz/logs/$f.log"
  rc=0
  again=""
  wait "${pids[$i]}" || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  if ((rc == 0)); then
    result="0 crashes"
  else
    status=1
    art=$(grep -o "Test unit written to .*" "$log" | tail -1 | sed 's/Test unit written to //' || true)
    sig=$(signature "$log")
    again=${known_sig["$f: $sig"]:-}
    if [[ -n "$again" ]]; then
      result="crash: the known bug of $again again (${sig})${art:+: $art}"
    else
      crashes=$((crashes + 1))
      result="NEW CRASH (exit $rc${sig:+, $sig})${art:+: $art}"
    fi
  fi
  printf '%-14s %10s execs (%s/s), cov %s, ft %s, corpus %s, %s\n' "$f:" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "${corp:-?}" "$result"
  if ((rc != 0)); then
    [[ -n "$again" ]] ||
      grep -m1 -B2 -A30 -E "^==== |ERROR: AddressSanitizer|runtime error|ERROR: libFuzzer" "$log" | sed 's/^/   | /' || true
    echo "   reproduce: $BUILD/tests/fuzz/$f ${art:-ARTIFACT}   (log: $log)"
  fi
done

echo "== fuzz: unit tests $unit_result; known bugs still crashing: $known; new crashes: $crashes;" \
  "$((SECONDS - start)) s in all"
exit $status
