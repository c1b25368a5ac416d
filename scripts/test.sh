#!/usr/bin/env bash
# THE test command: dependencies, build, unit tests (meson test), the unit
# tests again under ASan + UBSan and every fuzzer for a bounded time
# (scripts/fuzz.sh --ci, clang + libFuzzer, 45 s per fuzzer: about 6 minutes
# from a clean build-fuzz on 2 idle cores, most of it the clang build), then
# the end-to-end tests (pytest, real hosts in network namespaces; needs root).
#   IPSHARE_TEST_FUZZ=0 skips the fuzz step (the default is 1);
#   IPSHARE_FUZZ_SECONDS=N runs each fuzzer N seconds instead of --ci's.
#   BUILD_DIR           build directory, relative to the repo root (default build)
#   IPSHARE_E2E_ROUTER  ipshare (default) or kernel (the Linux reference router)
# Exits non-zero if anything failed; every step runs even if an earlier one failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BUILD_DIR=${BUILD_DIR:-build}
export PYTHONDONTWRITEBYTECODE=1

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/test.sh: run as root (the end-to-end tests create network namespaces)" >&2
  exit 1
fi

bash scripts/install-deps.sh
bash scripts/build.sh

# Safety net: whatever happens to pytest, leave no ipsh-* namespace behind.
trap '/usr/bin/python3 tests/e2e/topology.py down >/dev/null 2>&1 || true' EXIT

status=0
echo "== unit tests (meson test)"
timeout -k 30 900 meson test -C "$BUILD_DIR" --print-errorlogs || status=1

if [[ ${IPSHARE_TEST_FUZZ:-1} != 0 ]]; then
  echo "== fuzzing, and the unit tests under ASan + UBSan (scripts/fuzz.sh --ci)"
  fuzz_args=(--ci)
  [[ -z ${IPSHARE_FUZZ_SECONDS:-} ]] || fuzz_args+=(--seconds "$IPSHARE_FUZZ_SECONDS")
  timeout -k 30 1200 bash scripts/fuzz.sh "${fuzz_args[@]}" || status=1
else
  echo "== fuzzing skipped (IPSHARE_TEST_FUZZ=0)"
fi

echo "== end-to-end tests (router: ${IPSHARE_E2E_ROUTER:-ipshare})"
# SIGINT on timeout so that pytest still runs its finalizers
timeout -s INT -k 60 1200 /usr/bin/python3 -m pytest -v tests/e2e || status=1

if ((status == 0)); then
  echo "== all tests passed"
else
  echo "== SOME TESTS FAILED" >&2
fi
exit $status
