#!/usr/bin/env bash
# Install what ipshare needs to build, test and demo (Debian 12 packages).
# Idempotent and quiet: when every package is already installed it does not
# touch apt at all, so repeated runs take well under a second.
set -euo pipefail

PACKAGES=(
  # build
  meson ninja-build pkg-config g++ clang
  dpdk dpdk-dev libdpdk-dev libpcap-dev
  libgtest-dev libbenchmark-dev
  # end-to-end tests and demo (for /usr/bin/python3, never pip)
  python3-scapy python3-pytest
  iproute2 ethtool tcpdump iputils-ping iputils-arping
  socat netcat-openbsd bridge-utils nftables procps
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
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
