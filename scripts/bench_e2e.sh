#!/usr/bin/env bash
# End-to-end throughput of ipshare on one machine, over memif, and the
# ceiling of the same set-up with dpdk-testpmd (io forwarding) in ipshare's
# place. Procedure, figures and limits: docs/performance-e2e.md.
#
#   generator (testpmd io)          DUT                      reflector (testpmd)
#   pcap replay -> memif  ====lan====>  ipshare   ====wan====>  memif 5tswap
#   (192.168.1.x -> 198.51.100.x) <====  (NAPT)  <====           (swaps L2/L3/L4)
#                                        dmz: net_null (no-rx)
#
# The DUT is the memif server of both links and starts first; the generator
# and the reflector are memif clients. Every trial starts the three processes
# afresh, seeds the neighbours, warms up, measures for --seconds while all
# three run (memif: counters are read before anyone stops), then stops them.
# ipshare and testpmd-io trials alternate, so each ratio compares two trials
# taken a minute apart on the same machine.
#
# ARP: testpmd answers no ARP in io or 5tswap mode, so
#  - on the LAN the generator first replays one ARP reply per client
#    ("192.168.1.x is-at GEN-MAC", to lan-ip) from a second pcap port;
#    ipshare learns a neighbour from a reply addressed to lan-ip;
#  - on the wan the reflector starts in icmpecho mode, which answers ARP
#    requests (ipshare's who-has 203.0.113.1) with its own MAC, and switches
#    to 5tswap once the gateway is resolved.
#
# Scheduling: each DPDK process runs in a session of its own (setsid), so
# that the kernel's autogroup scheduling gives the three busy-polling
# threads comparable shares on a shared machine; memif rings have 16384
# descriptors, so that traffic survives the gaps while a thread waits for
# its CPU. Each thread's CPU share is measured and reported.
#
# Usage: sudo scripts/bench_e2e.sh [--runs N] [--seconds S] [--flows N]
#            [--modes ipshare,testpmd] [--cpus DUT_MAIN,DUT_WORKER,GEN,REF]
#            [--ring-log2 N] [--keep DIR]
#   --runs 5        trials of each mode, alternating
#   --seconds 10    measurement window of a trial
#   --flows 1024    distinct UDP flows (1..4000)
#   --cpus          CPUs of the DUT's main and worker lcores, the generator
#                   and the reflector (default 0,1,0,0; 0,1,2,3 with 4 CPUs)
#   --ring-log2 14  memif ring size (log2)
#   --keep DIR      copy every process's output and the table into DIR
# BUILD_DIR (default build) chooses the build. Needs root (DPDK run
# directory), dpdk-testpmd, /usr/bin/python3 with scapy. Nothing leaves the
# machine: memif sockets live in a temporary directory removed at exit, no
# process uses hugepages, and every process is bounded by `timeout`.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD_DIR=${BUILD_DIR:-build}
PY=/usr/bin/python3

RUNS=5
SECONDS_MEASURE=10
FLOWS=1024
MODES=ipshare,testpmd
CPUS=
KEEP=
RING_LOG2=14

usage() { sed -n '2,/^set -uo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit "${1:-0}"; }
while (($#)); do
  case $1 in
    --runs) RUNS=$2; shift 2 ;;
    --seconds) SECONDS_MEASURE=$2; shift 2 ;;
    --flows) FLOWS=$2; shift 2 ;;
    --modes) MODES=$2; shift 2 ;;
    --cpus) CPUS=$2; shift 2 ;;
    --keep) KEEP=$2; shift 2 ;;
    --ring-log2) RING_LOG2=$2; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "bench_e2e: unknown option $1" >&2; usage 2 ;;
  esac
done

die() { echo "bench_e2e: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "run as root (DPDK keeps its run directory under /var/run/dpdk)"
command -v dpdk-testpmd >/dev/null || die "dpdk-testpmd not found (Debian package dpdk)"
$PY -c 'import scapy' 2>/dev/null || die "$PY has no scapy (Debian package python3-scapy)"
IPSHARE=$BUILD_DIR/control/ipshare
IPSHARECTL=$BUILD_DIR/control/ipsharectl
[[ -x $IPSHARE ]] || die "$IPSHARE not built (scripts/build.sh)"
((FLOWS >= 1 && FLOWS <= 4000)) || die "--flows must be 1..4000 (one NAPT port each, range 61000-65535)"

# CPU placement: the DUT's worker gets a CPU of its own; generator and
# reflector get theirs when the machine has four CPUs, else share one.
ncpu=$(nproc)
if [[ -z $CPUS ]]; then
  if ((ncpu >= 4)); then CPUS=0,1,2,3; else CPUS=0,1,0,0; fi
fi
IFS=, read -r CPU_DUT_MAIN CPU_DUT_WORKER CPU_GEN CPU_REF <<<"$CPUS"

W=$(mktemp -d -t ipsh-bench-e2e.XXXXXX)
PREFIX=ipsb-$$
STARTED=()   # pids of `timeout` wrappers we started
trap '' PIPE

cleanup() {
  local p
  for p in "${STARTED[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for _ in $(seq 50); do
    local alive=0
    for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf /var/run/dpdk/"$PREFIX"-*
  if [[ -n $KEEP ]]; then mkdir -p "$KEEP" && cp -r "$W"/. "$KEEP"/; fi
  rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Fixed MACs: ipshare (and testpmd in its place) wan/lan, generator, reflector.
MAC_WAN=02:ee:00:00:00:01
MAC_LAN=02:ee:00:00:00:02
MAC_GEN=02:ee:00:00:05:01
MAC_REF=02:ee:00:00:01:01

# ---------------------------------------------------------------- traffic
# 64-byte frames (60 + FCS): UDP from 192.168.1.10-250 (the client rotates
# fastest, then the source port from 1024) to 198.51.100.20-219 port 9,
# IPv4 and UDP checksums valid; and the ARP replies that seed the LAN.
$PY - "$W" "$FLOWS" "$MAC_GEN" "$MAC_LAN" <<'EOF' || die "cannot build the pcap files"
import sys
from scapy.all import ARP, IP, UDP, Ether, raw, wrpcap
out, nflows, gen, lan = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
clients = [f"192.168.1.{10 + i}" for i in range(241)]
frames = []
for f in range(nflows):
    p = (Ether(src=gen, dst=lan) / IP(src=clients[f % 241], dst=f"198.51.100.{20 + f % 200}", ttl=64)
         / UDP(sport=1024 + f // 241, dport=9) / (b"\0" * 18))
    frames.append(Ether(raw(p)))  # checksums computed
assert len(raw(frames[0])) == 60
wrpcap(f"{out}/traffic.pcap", frames)
wrpcap(f"{out}/seed.pcap", [Ether(src=gen, dst=lan) / ARP(op=2, hwsrc=gen, psrc=c, hwdst=lan, pdst="192.168.1.1")
                            for c in clients[:min(241, nflows)]])
EOF

cat >"$W/ipshare.conf" <<EOF
port wan net_memif0
port lan net_memif1
port dmz net_null0
lan address 192.168.1.1/24
wan network 203.0.113.0/24 gateway 203.0.113.1
server address 203.0.113.10
EOF

# ---------------------------------------------------------------- processes
# A trial lasts well under this; every process is bounded by it.
MAX_LIFE=$((SECONDS_MEASURE + 240))
MEMIF="socket-abstract=no,rsize=$RING_LOG2"

declare -A FD OUT PID
SYNC=0

# start_testpmd NAME ARGS...: testpmd -i reading commands from a FIFO.
start_testpmd() {
  local name=$1; shift
  mkfifo "$W/$name.in"
  OUT[$name]=$W/$name.out
  setsid timeout -k 5 "$MAX_LIFE" stdbuf -oL -eL dpdk-testpmd --no-huge --no-pci --file-prefix "$PREFIX-$name" "$@" \
    <"$W/$name.in" >"${OUT[$name]}" 2>&1 &
  PID[$name]=$!
  STARTED+=("$!")
  local fd
  exec {fd}>"$W/$name.in"
  FD[$name]=$fd
}

# tp NAME CMD...: send commands, wait (bounded) until testpmd has run them;
# their output is left in $W/last.out.
tp() {
  local name=$1; shift
  local before
  before=$(wc -l <"${OUT[$name]}")
  SYNC=$((SYNC + 1))
  printf '%s\n' "$@" "ipsb_sync_$SYNC" >&"${FD[$name]}" || die "$name: testpmd has gone"
  for _ in $(seq 300); do
    if tail -n +"$((before + 1))" "${OUT[$name]}" |
        awk -v m="ipsb_sync_$SYNC" 'f && /Command not found/ {ok=1; exit} index($0, m) {f=1} END {exit !ok}'; then
      tail -n +"$((before + 1))" "${OUT[$name]}" >"$W/last.out"
      return 0
    fi
    kill -0 "${PID[$name]}" 2>/dev/null || die "$name exited; its output: ${OUT[$name]}"
    sleep 0.05
  done
  die "$name did not answer '$*' within 15 s"
}

wait_link_up() {  # NAME PORT
  for _ in $(seq 100); do
    tp "$1" "show port info $2"
    grep -q 'Link status: up' "$W/last.out" && return 0
    sleep 0.1
  done
  die "$1: port $2 (memif) did not come up"
}

# port_stats NAME: "port rx tx missed" lines from 'show port stats all'.
port_stats() {
  tp "$1" "show port stats all"
  awk '/NIC statistics for port/ {p=$6} /RX-packets:/ {rx[p]=$2; miss[p]=$4} /TX-packets:/ {tx[p]=$2}
       END {for (q in rx) print q, rx[q], tx[q], miss[q]}' "$W/last.out"
}

# CPU time (clock ticks) of the thread of lcore 1 of a process: the
# forwarding lcore of testpmd, the worker of ipshare (EAL names it rte-worker-1).
worker_ticks() {
  local pid=$1 t
  for t in /proc/"$pid"/task/*; do
    if [[ $(cat "$t/comm" 2>/dev/null) == rte-worker-1 ]]; then
      sed 's/.*) //' "$t/stat" | awk '{print $12 + $13}'
      return
    fi
  done
  echo 0
}
child_of() { pgrep -P "$1" | head -1; }

ipshare_counters() {  # PID OUTFILE -> key value lines of the newest block
  local pid=$1 out=$2 n
  n=$(grep -c '^ipshare: end counters' "$out")
  kill -USR1 "$pid" || die "ipshare has gone"
  for _ in $(seq 100); do
    (($(grep -c '^ipshare: end counters' "$out") > n)) && break
    sleep 0.05
  done
  awk '/^ipshare: counters/ {delete v} /^port / {v["port_" $2 "_rx"]=$4; v["port_" $2 "_tx"]=$6; v["port_" $2 "_dropped"]=$8}
       /^drop / {v["drop_" $2]=$3} /^nat_(created|translated_out|translated_in) / {v[$1]=$2}
       END {for (k in v) print k, v[k]}' "$out"
  # poll rounds of the worker that found packets / found none (ipsharectl)
  if [[ -x $IPSHARECTL ]]; then
    timeout 10 "$IPSHARECTL" --socket "$W/ctl.sock" show workers --json 2>/dev/null | $PY -c '
import json, sys
w = json.load(sys.stdin)["workers"]
print("busy_polls", sum(x["busy_polls"] for x in w)); print("idle_polls", sum(x["idle_polls"] for x in w))' 2>/dev/null
  fi
}

HZ=$(getconf CLK_TCK)
RESULTS=$W/results.tsv
printf 'run\tmode\tseconds\tload1\tgen_tx_pps\tgen_rx_pps\tref_rx_pps\tdut_fwd_pps\tdut_cpu\tgen_cpu\tref_cpu\tns_per_pkt\tdut_notes\n' >"$RESULTS"

trial() {  # RUN MODE
  local run=$1 mode=$2 dut_pid dut_out=$W/dut-$run-$mode.out
  echo "== run $run: $mode" >&2
  rm -f "$W"/*.sock "$W"/*.in
  # --- the DUT: memif server of lan and wan
  local lan_if="role=server,id=0,socket=$W/lan.sock,$MEMIF,mac=$MAC_LAN"
  local wan_if="role=server,id=0,socket=$W/wan.sock,$MEMIF,mac=$MAC_WAN"
  if [[ $mode == ipshare ]]; then
    setsid timeout -s INT -k 5 "$MAX_LIFE" "$IPSHARE" --lcores "0@$CPU_DUT_MAIN,1@$CPU_DUT_WORKER" --no-huge -m 1024 --no-pci \
      --file-prefix "$PREFIX-dut" --vdev "net_memif0,$wan_if" --vdev "net_memif1,$lan_if" --vdev net_null0,no-rx=1 \
      -- --config "$W/ipshare.conf" --socket "$W/ctl.sock" >"$dut_out" 2>&1 &
    STARTED+=("$!")
    local wrapper=$!
    for _ in $(seq 300); do grep -q '^ipshare: ready' "$dut_out" && break; sleep 0.1; done
    grep -q '^ipshare: ready' "$dut_out" || die "ipshare did not start: $(tail -5 "$dut_out")"
    dut_pid=$(child_of "$wrapper")
  else
    start_testpmd dut --lcores "0@$CPU_DUT_MAIN,1@$CPU_DUT_WORKER" -m 512 \
      --vdev "net_memif0,$lan_if" --vdev "net_memif1,$wan_if" \
      -- -i --forward-mode=io --port-topology=paired --total-num-mbufs=16384 --record-core-cycles
    tp dut "show port summary all"
    dut_pid=$(child_of "${PID[dut]}")  # timeout -> testpmd (stdbuf execs it)
  fi
  # --- the reflector (wan) and the generator (lan), memif clients
  start_testpmd ref --lcores "0@$CPU_DUT_MAIN,1@$CPU_REF" -m 512 \
    --vdev "net_memif0,role=client,id=0,socket=$W/wan.sock,$MEMIF,mac=$MAC_REF" \
    -- -i --forward-mode=icmpecho --port-topology=loop --total-num-mbufs=16384
  start_testpmd gen --lcores "0@$CPU_DUT_MAIN,1@$CPU_GEN" -m 512 \
    --vdev "net_pcap0,rx_pcap=$W/traffic.pcap,infinite_rx=1" \
    --vdev "net_memif0,role=client,id=0,socket=$W/lan.sock,$MEMIF,mac=$MAC_GEN" \
    --vdev "net_pcap1,rx_pcap=$W/seed.pcap" \
    -- -i --forward-mode=io --no-flush-rx --total-num-mbufs=32768
  wait_link_up ref 0
  wait_link_up gen 1
  [[ $mode == testpmd ]] && tp dut start
  local gen_pid ref_pid
  gen_pid=$(child_of "${PID[gen]}"); ref_pid=$(child_of "${PID[ref]}")

  # --- neighbours: LAN clients from the seed replies, the gateway by icmpecho
  tp ref start
  tp gen "set portlist 2,1" start
  sleep 1
  tp gen stop "set portlist 0,1" start
  sleep 1
  tp gen stop
  tp ref stop "set fwd 5tswap" start
  tp gen start
  sleep 2   # warm-up: sessions exist, replies flow

  # --- measurement, everything running
  # Counter snapshots are taken one after the other, in the same order at
  # both ends, each with its own clock reading; the load average is noted.
  local t0 t1 g0 g1 r0 r1 c0 c1 cg0 cg1 cr0 cr1 tc0 tc1 load
  load=$(cut -d' ' -f1 /proc/loadavg)
  tc0=$(date +%s.%N); c0=$(worker_ticks "$dut_pid"); cg0=$(worker_ticks "$gen_pid"); cr0=$(worker_ticks "$ref_pid")
  t0=$(date +%s.%N)
  g0=$(port_stats gen); r0=$(port_stats ref)
  if [[ $mode == ipshare ]]; then ipshare_counters "$dut_pid" "$dut_out" >"$W/dut0"; else port_stats dut >"$W/dut0"; fi
  sleep "$SECONDS_MEASURE"
  t1=$(date +%s.%N)
  g1=$(port_stats gen); r1=$(port_stats ref)
  if [[ $mode == ipshare ]]; then ipshare_counters "$dut_pid" "$dut_out" >"$W/dut1"; else port_stats dut >"$W/dut1"; fi
  tc1=$(date +%s.%N); c1=$(worker_ticks "$dut_pid"); cg1=$(worker_ticks "$gen_pid"); cr1=$(worker_ticks "$ref_pid")

  # --- stop: traffic first, then the DUT, then the clients
  tp gen stop
  tp ref stop
  if [[ $mode == ipshare ]]; then
    kill -INT "$dut_pid"
    for _ in $(seq 100); do kill -0 "$dut_pid" 2>/dev/null || break; sleep 0.1; done
  else
    tp dut stop
    printf 'quit\n' >&"${FD[dut]}"
  fi
  printf 'quit\n' >&"${FD[gen]}"; printf 'quit\n' >&"${FD[ref]}"
  local n
  for n in gen ref dut; do
    [[ -n ${FD[$n]:-} ]] || continue
    local fd=${FD[$n]}
    exec {fd}>&-
    unset "FD[$n]"
  done
  for _ in $(seq 100); do
    local alive=0 p
    for p in "${STARTED[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    ((alive)) || break
    sleep 0.1
  done
  for p in "${STARTED[@]}"; do kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
  STARTED=()
  for n in gen ref dut; do [[ -f $W/$n.out ]] && mv "$W/$n.out" "$W/$n-$run-$mode.out"; done
  rm -rf /var/run/dpdk/"$PREFIX"-*

  # --- figures
  $PY - "$run" "$mode" "$t0" "$t1" "$HZ" "$c0" "$c1" "$cg0" "$cg1" "$cr0" "$cr1" "$W/dut0" "$W/dut1" \
      "$g0" "$g1" "$r0" "$r1" "$tc0" "$tc1" "$load" >>"$RESULTS" <<'EOF'
import sys
run, mode, t0, t1, hz = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
c0, c1, cg0, cg1, cr0, cr1 = map(int, sys.argv[6:12])
dut0, dut1 = sys.argv[12], sys.argv[13]
tc = float(sys.argv[19]) - float(sys.argv[18])  # the CPU-time window
load = sys.argv[20]
def ports(text):  # "port rx tx missed" lines -> {port: (rx, tx)}
    d = {}
    for ln in text.splitlines():
        p, rx, tx, _ = ln.split()
        d[int(p)] = (int(rx), int(tx))
    return d
g0, g1, r0, r1 = (ports(a) for a in sys.argv[14:18])
s = t1 - t0
gen_tx = (g1[1][1] - g0[1][1]) / s      # generator -> lan (memif port 1)
gen_rx = (g1[1][0] - g0[1][0]) / s      # back from lan
ref_rx = (r1[0][0] - r0[0][0]) / s      # what left the DUT on wan
if mode == "ipshare":
    kv = lambda f: {k: int(v) for k, v in (ln.split() for ln in open(f))}
    a, b = kv(dut0), kv(dut1)
    fwd = (b["port_wan_tx"] - a["port_wan_tx"] + b["port_lan_tx"] - a["port_lan_tx"]) / s
    drops = {k[5:]: b[k] - a.get(k, 0) for k in b if k.startswith("drop_") and b[k] - a.get(k, 0)}
    dropstr = ",".join(f"{k}={v}" for k, v in sorted(drops.items())) or "-"
    if "busy_polls" in a and "busy_polls" in b:
        busy, idle = b["busy_polls"] - a["busy_polls"], b["idle_polls"] - a["idle_polls"]
        rx = b["port_lan_rx"] - a["port_lan_rx"] + b["port_wan_rx"] - a["port_wan_rx"]
        # share of poll rounds that found packets, and packets per such round
        dropstr += f" busy_polls={100.0 * busy / max(1, busy + idle):.0f}% pkts/busy_poll={rx / max(1, busy):.1f}"
else:
    a, b = ports(open(dut0).read()), ports(open(dut1).read())
    fwd = sum(b[p][1] - a[p][1] for p in b) / s
    miss = sum(b[p][0] - a[p][0] for p in b) - sum(b[p][1] - a[p][1] for p in b)
    dropstr = f"rx-tx={miss}"
cpu = (c1 - c0) / hz / tc
ns = cpu * 1e9 / fwd if fwd else 0  # CPU time the DUT's worker got per packet it forwarded
print(f"{run}\t{mode}\t{s:.2f}\t{load}\t{gen_tx:.0f}\t{gen_rx:.0f}\t{ref_rx:.0f}\t{fwd:.0f}\t{cpu:.2f}\t"
      f"{(cg1 - cg0) / hz / tc:.2f}\t{(cr1 - cr0) / hz / tc:.2f}\t{ns:.1f}\t{dropstr}")
EOF
  tail -1 "$RESULTS" >&2
}

IFS=, read -r -a MODE_LIST <<<"$MODES"
echo "bench_e2e: $RUNS run(s) x ${MODES}, $SECONDS_MEASURE s each, $FLOWS flow(s), CPUs dut $CPU_DUT_MAIN/$CPU_DUT_WORKER gen $CPU_GEN ref $CPU_REF ($ncpu online)" >&2
for run in $(seq "$RUNS"); do
  for mode in "${MODE_LIST[@]}"; do trial "$run" "$mode"; done
done

# ---------------------------------------------------------------- summary
$PY - "$RESULTS" "$FLOWS" <<'EOF'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
modes = sorted({r["mode"] for r in rows}, key=lambda m: m != "ipshare")
med = lambda xs: statistics.median(xs) if xs else 0
print(f"\nbench_e2e: {sys.argv[2]} flow(s), 64-byte UDP, medians of {len({r['run'] for r in rows})} run(s)")
print(f"{'':10} {'round trips/s':>14} {'DUT fwd pps':>12} {'gen->lan pps':>13} {'CPU dut':>8} {'gen':>5} {'ref':>5}"
      f" {'ns/pkt':>7} {'load':>5}")
for m in modes:
    rs = [r for r in rows if r["mode"] == m]
    f = lambda k: med([float(r[k]) for r in rs])
    print(f"{m:10} {f('gen_rx_pps'):14,.0f} {f('dut_fwd_pps'):12,.0f} {f('gen_tx_pps'):13,.0f} "
          f"{f('dut_cpu'):8.2f} {f('gen_cpu'):5.2f} {f('ref_cpu'):5.2f} {f('ns_per_pkt'):7.1f} {f('load1'):5.1f}")
print("(CPU: share of one CPU each forwarding thread got; ns/pkt: the DUT worker's CPU time per packet it\n"
      " forwarded, idle polling included; load: the 1-minute load average at the start of the window)")
if {"ipshare", "testpmd"} <= set(modes):
    by = {}
    for r in rows:
        by.setdefault(r["run"], {})[r["mode"]] = r
    ratios = [float(v["ipshare"]["dut_fwd_pps"]) / float(v["testpmd"]["dut_fwd_pps"])
              for v in by.values() if "ipshare" in v and "testpmd" in v and float(v["testpmd"]["dut_fwd_pps"])]
    print(f"ipshare / testpmd-io forwarding rate, per run: {' '.join(f'{x:.2f}' for x in ratios)}; "
          f"median {med(ratios):.2f}")
print("\nper trial:")
print(open(sys.argv[1]).read(), end="")
EOF
