#!/usr/bin/env bash
# Configure (once) and build ipshare with meson + ninja.
# BUILD_DIR (default: build) is relative to the repository root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}

if [[ ! -f "$BUILD_DIR/meson-private/coredata.dat" ]]; then
  meson setup "$BUILD_DIR"
fi
ninja -C "$BUILD_DIR"
