#!/usr/bin/env bash
# THE test command: dependencies, build, unit tests (meson test), then the
# end-to-end tests (pytest, real hosts in network namespaces; needs root).
# Fuzzing (clang, ASan + UBSan, and the unit tests under them) is its own
# command for now: scripts/fuzz.sh [--ci] (see docs/: not yet in CI's budget).
#   IPSHARE_TEST_FUZZ=1 adds `scripts/fuzz.sh --ci` to this run.
#   BUILD_DIR           build directory, relative to the repo root (default build)
#   IPSHARE_E2E_ROUTER  ipshare (default) or kernel (the Linux reference router)
# Exits non-zero if anything failed; both suites run even if the first fails.
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

if [[ ${IPSHARE_TEST_FUZZ:-0} == 1 ]]; then
  echo "== fuzzing, and the unit tests under ASan + UBSan (scripts/fuzz.sh --ci)"
  timeout -k 30 1200 bash scripts/fuzz.sh --ci || status=1
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
