#!/usr/bin/env bash
# Install what ipshare needs to build, test and demo (Debian 12 packages).
# Idempotent and quiet: when every package is already installed it does not
# touch apt at all (one dpkg-query call), so repeated runs take well under a
# second.
set -euo pipefail

PACKAGES=(
  # build
  meson ninja-build pkg-config g++
  # scripts/fuzz.sh: clang 14; -fsanitize=fuzzer,address,undefined links
  # libclang_rt.{fuzzer,asan,ubsan_standalone}-x86_64.a from libclang-rt-14-dev
  # (only a Recommends of clang, so named here: libfuzzer-14-dev is the
  # standalone libFuzzer.a, which clang does not use); llvm provides
  # llvm-symbolizer for readable sanitizer stack traces. ld.bfd links it all.
  clang libclang-rt-14-dev llvm
  dpdk dpdk-dev libdpdk-dev libpcap-dev
  libgtest-dev libbenchmark-dev
  # end-to-end tests and demo (for /usr/bin/python3, never pip)
  python3-scapy python3-pytest
  iproute2 ethtool tcpdump iputils-ping iputils-arping
  socat netcat-openbsd bridge-utils nftables procps
  # scripts/bench_kernel.py
  iperf3
)

# One dpkg-query for all: "NAME STATUS" per known package (unknown ones are
# missing from its output).
declare -A installed=()
while read -r name status; do
  if [[ "$status" == "installed" ]]; then installed["${name%%:*}"]=1; fi
done < <(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for p in "${PACKAGES[@]}"; do
  [[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  SUDO=sudo
else
  SUDO=
fi

echo "install-deps: installing ${missing[*]}"
timeout 600 $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
timeout 1200 $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
