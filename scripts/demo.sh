#!/usr/bin/env bash
# THE demo: build ipshare, wire up the test topology (network namespaces and
# veth pairs), start the daemon on af_packet ports and show real traffic:
# the internet reaching the server on the shared address, a LAN client
# reaching the server, the server reaching the internet, and the counters.
# Everything it creates is removed on exit. Needs root.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export BUILD_DIR=${BUILD_DIR:-build}
export PYTHONDONTWRITEBYTECODE=1

TOPO=(/usr/bin/python3 tests/e2e/topology.py)

if [[ $(id -u) -ne 0 ]]; then
  echo "scripts/demo.sh: run as root (it creates network namespaces)" >&2
  exit 1
fi

if [[ -t 1 ]]; then B=$'\e[1m'; N=$'\e[0m'; else B=; N=; fi
heading() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
in_ns() { local ns=$1; shift; ip netns exec "ipsh-$ns" "$@"; }

heading "Dependencies and build"
bash scripts/install-deps.sh
bash scripts/build.sh >/dev/null
BIN=$BUILD_DIR/control/ipshare
echo "built $BIN"

work=$(mktemp -d -t ipsh-demo.XXXXXX)
prefix=ipsh-demo-$$
daemon_pid=

stop_daemon() {
  [[ -n $daemon_pid ]] || return 0
  if kill -0 "$daemon_pid" 2>/dev/null; then
    kill -INT "$daemon_pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$daemon_pid" 2>/dev/null || true
  fi
  wait "$daemon_pid" 2>/dev/null && daemon_rc=0 || daemon_rc=$?
  daemon_pid=
}

cleanup() {
  stop_daemon
  "${TOPO[@]}" down >/dev/null 2>&1 || true
  rm -rf "/var/run/dpdk/$prefix" "$work"
}
trap cleanup EXIT

heading "Topology"
"${TOPO[@]}" up
cat <<'EOF'
  ipsh-inet    198.51.100.20   a host on the internet, behind the upstream gateway
  ipsh-wangw   203.0.113.1     the upstream gateway (a Linux router)
  ipsh-router  wan0 lan0 dmz0  ipshare's three ports (af_packet on veth, no kernel address)
  ipsh-server  203.0.113.10    the designated server: holds THE public address itself
  ipsh-client1 192.168.1.11    LAN clients behind lan-ip 192.168.1.1
  ipsh-client2 192.168.1.12
EOF

heading "Starting ipshare"
"${TOPO[@]}" config >"$work/ipshare.conf"
sed 's/^/  | /' "$work/ipshare.conf"
# shellcheck disable=SC2054  # the commas belong to DPDK arguments
af=framesz=16384,blocksz=16384   # room for datagrams the kernel reassembles (af_packet defrag)
cmd=(ip netns exec ipsh-router "$BIN" -l 0,1 --no-huge -m 1024 --no-pci --file-prefix "$prefix"
     --vdev "net_af_packet0,iface=wan0,$af" --vdev "net_af_packet1,iface=lan0,$af"
     --vdev "net_af_packet2,iface=dmz0,$af"
     -- --config "$work/ipshare.conf" --socket "$work/ipshare.sock" --mbuf-size 16512)
echo "  \$ ${cmd[*]}"
"${cmd[@]}" >"$work/stdout" 2>"$work/stderr" &
daemon_pid=$!
for _ in $(seq 300); do
  grep -q '^ipshare: ready' "$work/stdout" && break
  kill -0 "$daemon_pid" 2>/dev/null || break
  sleep 0.1
done
if ! grep -q '^ipshare: ready' "$work/stdout"; then
  echo "ipshare did not become ready; its output:" >&2
  tail -n 30 "$work/stdout" "$work/stderr" >&2
  exit 1
fi
grep '^ipshare: ready' "$work/stdout" | sed 's/^/  /'

# capture on a namespace's eth0 while a command runs: shows what that host sees
watch_on() {  # watch_on NS FILTER COUNT -- command...
  local ns=$1 filter=$2 count=$3; shift 4
  in_ns "$ns" timeout 6 tcpdump -l -n -e -c "$count" -i eth0 "$filter" >"$work/cap" 2>/dev/null &
  local tpid=$!
  sleep 0.5
  "$@" 2>&1 | sed 's/^/  /' || true
  wait "$tpid" 2>/dev/null || true
  echo "  what ipsh-$ns sees on eth0:"
  sed 's/^/    /' "$work/cap"
}

wait_listen() {  # wait_listen NS PORT
  for _ in $(seq 50); do
    [[ -n $(in_ns "$1" ss -Hltn "sport = :$2") ]] && return 0
    sleep 0.1
  done
  return 1
}

heading "inet pings the public address 203.0.113.10: the server answers"
watch_on server icmp 6 -- in_ns inet ping -n -c 3 -i 0.3 -w 5 203.0.113.10

heading "client1 pings the server at the public address"
watch_on server icmp 6 -- in_ns client1 ping -n -c 3 -i 0.3 -w 5 203.0.113.10

heading "client1 pings the router's LAN address 192.168.1.1"
in_ns client1 ping -n -c 2 -i 0.3 -w 5 192.168.1.1 | sed 's/^/  /'

heading "TCP inet -> server port 5001: the server sees the real client address"
# shellcheck disable=SC2016  # $SOCAT_* expand in the shell that socat starts
in_ns server timeout 10 socat -T 5 TCP-LISTEN:5001,reuseaddr \
  SYSTEM:'echo "server $SOCAT_SOCKADDR:$SOCAT_SOCKPORT: hello $SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
lpid=$!
wait_listen server 5001
echo "  inet$ socat - TCP:203.0.113.10:5001"
in_ns inet timeout 5 socat -T 3 - TCP:203.0.113.10:5001 </dev/null | sed 's/^/  reply: /' || true
wait "$lpid" 2>/dev/null || true

heading "TCP server -> inet port 5003 from source port 40003: no NAT on the way"
# shellcheck disable=SC2016
in_ns inet timeout 10 socat -T 5 TCP-LISTEN:5003,reuseaddr \
  SYSTEM:'echo "inet $SOCAT_SOCKADDR:$SOCAT_SOCKPORT: hello $SOCAT_PEERADDR:$SOCAT_PEERPORT"' &
lpid=$!
wait_listen inet 5003
echo "  server$ socat - TCP:198.51.100.20:5003,sourceport=40003"
in_ns server timeout 5 socat -T 3 - TCP:198.51.100.20:5003,sourceport=40003 </dev/null | sed 's/^/  reply: /' || true
wait "$lpid" 2>/dev/null || true

heading "ipshare counters (SIGUSR1)"
blocks=$(grep -c '^ipshare: end counters' "$work/stdout" || true)
kill -USR1 "$daemon_pid"
for _ in $(seq 50); do
  (( $(grep -c '^ipshare: end counters' "$work/stdout" || true) > blocks )) && break
  sleep 0.1
done
# the last block: ports, and the drop reasons that are not zero
awk '/^ipshare: end counters/ {n++} {line[NR]=$0} END {
       b=0; for (i=1;i<=NR;i++) { if (line[i] ~ /^ipshare: end counters/) { b++; continue }
         if (b == n-1 && (line[i] ~ /^port / || (line[i] ~ /^drop / && line[i] !~ / 0$/))) print "  " line[i] } }' \
  "$work/stdout"
echo "  (drop reasons at zero not shown)"

heading "Stopping ipshare (SIGINT)"
stop_daemon
echo "  exit status $daemon_rc"

heading "Cleaning up"
"${TOPO[@]}" down
