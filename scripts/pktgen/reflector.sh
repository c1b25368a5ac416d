#!/usr/bin/env bash
# The wan-side reflector of the bare-metal test (README.md): dpdk-testpmd in
# 5tswap mode on the tester port wired to ipshare's wan. Every translated
# packet comes back with its Ethernet, IPv4 and UDP/TCP source and
# destination swapped, i.e. as the internet host's reply, so ipshare
# translates it back to the LAN client and pktgen counts it.
#
# testpmd answers no ARP in 5tswap mode, and ipshare must know a MAC for
# its gateway 203.0.113.1. The reflector therefore has a second, virtual
# port: a pcap file with one ARP reply "203.0.113.1 is-at MAC" addressed to
# wan-ip (mkseed.py's gw-seed.pcap). `seed` replays it toward ipshare (io
# forwarding pcap -> wan for a moment), then goes back to 5tswap. ipshare
# forgets a neighbour that nothing confirmed for about 60 s, so the pktgen
# scripts call `reflector.sh seed` before every trial.
#
#   reflector.sh start DEVICE [--lcores 0,1] [--seconds 7200] [--seed FILE] [-- EAL...]
#   reflector.sh seed       replay the gateway's ARP reply, back to 5tswap
#   reflector.sh stats      port statistics of the wan port
#   reflector.sh stop
#
# DEVICE is the PCI address of the tester port wired to ipshare's wan
# (passed as -a), or a virtual device (passed as --vdev, e.g. a memif for a
# test on one machine). EAL... is added as is (e.g. --no-huge -m 512).
# testpmd runs in the background for at most --seconds, reading its
# commands from a FIFO in REFLECTOR_DIR (default /run/ipshare-reflector).
set -uo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
DIR=${REFLECTOR_DIR:-/run/ipshare-reflector}

die() { echo "reflector: $*" >&2; exit 1; }

# send CMD...: write commands to testpmd and wait (bounded) until it ran them.
send() {
  [[ -p $DIR/in ]] || die "not running (no $DIR/in); use: reflector.sh start DEVICE"
  local pid
  pid=$(cat "$DIR/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null || die "testpmd has exited; see $DIR/out"
  local before mark
  before=$(wc -l <"$DIR/out")
  mark="reflector_sync_$$_$RANDOM"
  printf '%s\n' "$@" "$mark" >"$DIR/in"
  for _ in $(seq 200); do
    if tail -n +"$((before + 1))" "$DIR/out" |
        awk -v m="$mark" 'f && /Command not found/ {ok=1; exit} index($0, m) {f=1} END {exit !ok}'; then
      tail -n +"$((before + 1))" "$DIR/out" | sed "/$mark/,\$d"
      return 0
    fi
    sleep 0.05
  done
  die "testpmd did not answer within 10 s; see $DIR/out"
}

seed() {
  # The pcap port rewinds its file when restarted. Forward it to the wan
  # port for a moment (what arrives meanwhile is dropped), then reflect.
  send stop "port stop 1" "port start 1" "set fwd io" "set portlist 1,0" start >/dev/null
  sleep 0.2
  send stop >"$DIR/seed.out"
  grep -q 'TX-packets: [1-9]' "$DIR/seed.out" || echo "reflector: warning: the seed was not sent (link down?)" >&2
  send "set portlist 0" "set fwd 5tswap" start >/dev/null
}

cmd=${1:-}
shift || true
case $cmd in
  start)
    dev=${1:-}
    [[ -n $dev ]] || die "usage: reflector.sh start DEVICE [--lcores L] [--seconds S] [--seed FILE] [-- EAL...]"
    shift
    lcores=0,1 seconds=7200 seedfile=
    while (($#)); do
      case $1 in
        --lcores) lcores=$2; shift 2 ;;
        --seconds) seconds=$2; shift 2 ;;
        --seed) seedfile=$2; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option $1" ;;
      esac
    done
    [[ $(id -u) -eq 0 ]] || die "run as root"
    command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found"
    if [[ -p $DIR/in ]] && pid=$(cat "$DIR/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
      die "already running (pid $pid); reflector.sh stop first"
    fi
    rm -rf "$DIR" && mkdir -p "$DIR" || die "cannot create $DIR"
    if [[ -n $seedfile ]]; then
      cp "$seedfile" "$DIR/gw-seed.pcap" || die "cannot read $seedfile"
    else
      python3 "$HERE/mkseed.py" --dir "$DIR" >/dev/null || die "mkseed.py failed"
    fi
    if [[ $dev =~ ^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$ ]]; then devarg=(-a "$dev"); else devarg=(--vdev "$dev"); fi
    unlink=(--huge-unlink)  # no hugepage files left behind; not with --no-huge
    for a in "$@"; do [[ $a == --no-huge ]] && unlink=(); done
    mkfifo "$DIR/in"
    # A writer that holds the FIFO open, so that testpmd never reads EOF
    # (it exits at the end of its input) between two commands.
    setsid timeout "$seconds" sleep "$seconds" >"$DIR/in" 2>/dev/null &
    echo $! >"$DIR/holder"
    setsid timeout -k 5 "$seconds" stdbuf -oL -eL dpdk-testpmd -l "$lcores" --file-prefix ipshare-reflector \
      "${unlink[@]}" "${devarg[@]}" --vdev "net_pcap_seed0,rx_pcap=$DIR/gw-seed.pcap" "$@" \
      -- -i --no-flush-rx --port-topology=paired --forward-mode=5tswap --total-num-mbufs=16384 <"$DIR/in" >"$DIR/out" 2>&1 &
    echo $! >"$DIR/pid"
    for _ in $(seq 300); do
      grep -q '^testpmd> ' "$DIR/out" && break
      kill -0 "$(cat "$DIR/pid")" 2>/dev/null || die "testpmd did not start: $(tail -5 "$DIR/out")"
      sleep 0.1
    done
    for _ in $(seq 100); do
      send "show port info 0" | grep -q 'Link status: up' && break
      sleep 0.1
    done
    seed
    echo "reflector: running (testpmd pid $(cat "$DIR/pid"), at most $seconds s); 5tswap on port 0 ($dev)"
    ;;
  seed)
    seed
    ;;
  stats)
    send "show port stats 0"
    ;;
  stop)
    if [[ -p $DIR/in ]] && pid=$(cat "$DIR/pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
      (send stop >/dev/null 2>&1)
      timeout 2 bash -c 'printf "quit\n" >"$1"' _ "$DIR/in" 2>/dev/null
    fi
    for f in pid holder; do
      pid=$(cat "$DIR/$f" 2>/dev/null) || continue
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -TERM "$pid" 2>/dev/null
    done
    rm -rf "$DIR" /var/run/dpdk/ipshare-reflector
    echo "reflector: stopped"
    ;;
  *)
    sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'
    [[ -z $cmd || $cmd == -h || $cmd == --help ]] && exit 0
    exit 2
    ;;
esac
