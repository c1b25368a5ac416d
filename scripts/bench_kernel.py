#!/usr/bin/python3
"""ipshare and the Linux kernel as the same router, on the veth test bed.

The end-to-end test bed (tests/e2e/topology.py: namespaces ipsh-*, veth
pairs, a bridge as LAN switch) is built afresh for every trial, with either
the Linux reference router in ipsh-router (proxy ARP, routes, nftables
masquerade to wan-ip ports 61000-65535: configure_kernel_router) or ipshare
on af_packet ports (one worker, `-l 0,1`, as the e2e tests run it). The same
traffic crosses both, from client1 (192.168.1.11) to inet (198.51.100.20)
through the NAT and the gateway namespace, with iperf3 (Debian package):

  udp       iperf3 -u -b 0 -l 18: 64-byte frames as fast as one sender can;
            packets sent (client1's eth0), received (inet's eth0), loss
  tcp-up    iperf3, one TCP stream client1 -> inet
  tcp-down  iperf3 -R, one TCP stream inet -> client1

Kernel and ipshare trials alternate, so each ratio compares neighbours in
time. Procedure and figures: docs/performance-e2e.md.

On a 2-CPU machine ipshare's worker busy-polls CPU 1 for the whole trial;
the veth peers, the bridge, the gateway's forwarding and iperf3 share what
is left. The kernel router uses CPU only when packets arrive. ipshare runs
in a session of its own (setsid), as a service would, so that autogroup
scheduling does not lump it with iperf3. For ipshare, the UDP test also
reports how many frames the router's lan veth end received that ipshare
never read (its af_packet receive ring overflowed).

Usage: sudo /usr/bin/python3 scripts/bench_kernel.py [--runs N] [--seconds S]
           [--routers kernel,ipshare] [--tests udp,tcp-up,tcp-down] [--json FILE]
BUILD_DIR (default build) chooses ipshare's build. Takes the e2e suite's
lock (/run/ipsh-e2e.lock) for its whole run, since both use the ipsh-*
namespaces, and removes them at the end.
"""

import argparse
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.dont_write_bytecode = True  # leave no __pycache__ in the test directory
sys.path.insert(0, str(REPO / "tests" / "e2e"))
import topology as T  # noqa: E402

LOCK_PATH = "/run/ipsh-e2e.lock"
LOCK_WAIT_SECONDS = 1800
IPERF_PORT = 5201


def log(msg):
    print(f"bench_kernel: {msg}", file=sys.stderr, flush=True)


def take_lock():
    fd = os.open(LOCK_PATH, os.O_CREAT | os.O_RDWR, 0o600)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    waited = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if not waited:
                log(f"waiting for {LOCK_PATH} (an e2e run holds it)")
                waited = True
            if time.monotonic() > deadline:
                sys.exit(f"bench_kernel: {LOCK_PATH} still held after {LOCK_WAIT_SECONDS} s")
            time.sleep(1)


class Daemon(T.Daemon):
    """ipshare as the e2e tests run it, but in a session of its own (setsid),
    as a service would be: with the kernel's autogroup scheduling, it then
    competes for CPU as one group, not inside this script's group together
    with iperf3."""

    def argv(self):
        return ["setsid"] + super().argv()


def iperf3(args, seconds):
    """iperf3 client in client1 toward inet, bounded; its JSON."""
    p = T.nsrun(T.CLIENT1, ["iperf3", "-c", T.INET_IP, "-p", str(IPERF_PORT), "-t", str(seconds), "--json"]
                + args, timeout=seconds + 30, check=False)
    try:
        d = json.loads(p.stdout)
    except ValueError:
        raise T.CmdError(f"iperf3 {args}: no JSON (exit {p.returncode})\n{p.stdout}{p.stderr}")
    if d.get("error"):
        raise T.CmdError(f"iperf3 {args}: {d['error']}")
    return d


def cpu_busy():
    """(busy, total) jiffies of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def run_udp(seconds, daemon=None):
    tx0 = T.link_stats(T.CLIENT1, T.HOST_IF)["tx"]
    rx0 = T.link_stats(T.INET, T.HOST_IF)["rx"]
    # where frames are lost: the router's lan veth end counts every frame
    # the kernel delivered to it, ipshare counts what it read from it
    lan0 = T.link_stats(T.ROUTER, T.R_LAN)["rx"]
    c0 = daemon.counters() if daemon else None
    t0 = time.monotonic()
    d = iperf3(["-u", "-b", "0", "-l", "18"], seconds)
    t1 = time.monotonic()
    tx1 = T.link_stats(T.CLIENT1, T.HOST_IF)["tx"]
    rx1 = T.link_stats(T.INET, T.HOST_IF)["rx"]
    lan1 = T.link_stats(T.ROUTER, T.R_LAN)["rx"]
    c1 = daemon.counters() if daemon else None
    s = d["end"]["sum"]
    # Frames counted by the kernel on client1's and inet's interfaces (the
    # iperf3 control connection adds a few dozen): what the router and the
    # gateway delivered, whether or not iperf3's server kept up with them.
    sent, received = tx1 - tx0, rx1 - rx0
    secs = s["seconds"]
    out = {
        "seconds": secs,
        "sent_pps": sent / secs,
        "received_pps": received / secs,
        "path_loss_percent": 100.0 * (sent - received) / sent if sent else 0.0,
        "frames_sent": sent,
        "frames_received": received,
        "iperf_sent": s["packets"],
        "iperf_loss_percent": s["lost_percent"],  # at the receiving socket
        "wall": t1 - t0,
        "router_lan_rx": lan1 - lan0,
    }
    if daemon:
        out["ipshare_lan_rx"] = c1.ports["lan"]["rx"] - c0.ports["lan"]["rx"]
        out["ipshare_wan_tx"] = c1.ports["wan"]["tx"] - c0.ports["wan"]["tx"]
        # frames the kernel delivered to lan0 that ipshare never read: the
        # af_packet receive ring overflowed while the worker was off its CPU
        out["af_packet_ring_drops"] = out["router_lan_rx"] - out["ipshare_lan_rx"]
    return out


def run_tcp(seconds, reverse):
    d = iperf3(["-R"] if reverse else [], seconds)
    e = d["end"]
    return {"mbps": e["sum_received"]["bits_per_second"] / 1e6,
            "retransmits": e["sum_sent"].get("retransmits", 0)}


def trial(router, tests, seconds):
    """One router, every test; the topology is built and removed here."""
    res = {"router": router}
    daemon = None
    server = None
    try:
        T.up()
        if router == "kernel":
            T.configure_kernel_router()
        else:
            daemon = Daemon().start()
        # neighbours resolved everywhere before measuring
        T.nsrun(T.CLIENT1, ["ping", "-c", "3", "-i", "0.2", "-W", "1", T.INET_IP], timeout=10, check=False)
        server = subprocess.Popen(["ip", "netns", "exec", T.INET, "timeout", str(len(tests) * (seconds + 40)),
                                   "iperf3", "-s", "-p", str(IPERF_PORT)],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
        for t in tests:
            b0 = cpu_busy()
            if t == "udp":
                res[t] = run_udp(seconds, daemon)
            else:
                res[t] = run_tcp(seconds, reverse=(t == "tcp-down"))
            b1 = cpu_busy()
            res[t]["machine_cpu_busy"] = (b1[0] - b0[0]) / max(1, b1[1] - b0[1])
            time.sleep(1)
        if daemon:
            c = daemon.counters()
            res["ipshare_drops"] = {k: v for k, v in c.drops.items() if v}
            # frames the af_packet rings dropped before ipshare saw them
            try:
                res["ipshare_ports"] = daemon.ctl("show", "ports", json=True)
            except T.CmdError as e:
                res["ipshare_ports"] = str(e)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
        if daemon:
            daemon.stop()
        T.down()
    return res


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--routers", default="kernel,ipshare")
    ap.add_argument("--tests", default="udp,tcp-up,tcp-down")
    ap.add_argument("--json", help="write every trial's figures to this file")
    a = ap.parse_args()
    routers = a.routers.split(",")
    tests = a.tests.split(",")
    if os.geteuid() != 0:
        sys.exit("bench_kernel: run as root (it creates network namespaces)")
    for tool in ("iperf3", "nft"):
        if not shutil.which(tool):
            sys.exit(f"bench_kernel: {tool} not found (apt-get install {'iperf3' if tool == 'iperf3' else 'nftables'})")
    if "ipshare" in routers and not T.ipshare_binary().exists():
        sys.exit(f"bench_kernel: {T.ipshare_binary()} not built (scripts/build.sh)")

    lock = take_lock()
    trials = []
    try:
        for r in range(1, a.runs + 1):
            for router in routers:
                log(f"run {r}: {router}")
                res = trial(router, tests, a.seconds)
                res["run"] = r
                res["load1"] = os.getloadavg()[0]
                trials.append(res)
                log(json.dumps(res))
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)

    if a.json:
        with open(a.json, "w") as f:
            json.dump(trials, f, indent=1)

    def col(router, test, key):
        return [t[test][key] for t in trials if t["router"] == router and test in t]

    print(f"\nbench_kernel: medians of {a.runs} run(s), {a.seconds} s per test, client1 -> inet through the NAT")
    hdr = f"{'':9}"
    if "udp" in tests:
        hdr += f" {'UDP sent pps':>12} {'UDP recv pps':>12} {'loss %':>7}"
    if "tcp-up" in tests:
        hdr += f" {'TCP up Mb/s':>11}"
    if "tcp-down" in tests:
        hdr += f" {'TCP down Mb/s':>13}"
    print(hdr)
    for router in routers:
        line = f"{router:9}"
        if "udp" in tests:
            line += (f" {median(col(router, 'udp', 'sent_pps')):12,.0f} {median(col(router, 'udp', 'received_pps')):12,.0f}"
                     f" {median(col(router, 'udp', 'path_loss_percent')):7.1f}")
        if "tcp-up" in tests:
            line += f" {median(col(router, 'tcp-up', 'mbps')):11,.0f}"
        if "tcp-down" in tests:
            line += f" {median(col(router, 'tcp-down', 'mbps')):13,.0f}"
        print(line)
    if {"kernel", "ipshare"} <= set(routers):
        for test, key in (("udp", "received_pps"), ("tcp-up", "mbps"), ("tcp-down", "mbps")):
            if test not in tests:
                continue
            ratios = []
            for r in range(1, a.runs + 1):
                k = [t[test][key] for t in trials if t["run"] == r and t["router"] == "kernel"]
                i = [t[test][key] for t in trials if t["run"] == r and t["router"] == "ipshare"]
                if k and i and k[0]:
                    ratios.append(i[0] / k[0])
            print(f"ipshare / kernel, {test} {key}: per run {' '.join(f'{x:.2f}' for x in ratios)}; "
                  f"median {median(ratios):.2f}")
    ring = [t["udp"]["af_packet_ring_drops"] / max(1, t["udp"]["frames_sent"]) for t in trials
            if t["router"] == "ipshare" and "udp" in t and "af_packet_ring_drops" in t["udp"]]
    if ring:
        print("UDP frames lost in ipshare's af_packet receive ring (lan0), share of frames sent: "
              + " ".join(f"{100 * x:.1f}%" for x in ring))
    drops = [t.get("ipshare_drops") for t in trials if t["router"] == "ipshare"]
    if any(drops):
        print("ipshare drops (cumulative per trial):", "; ".join(json.dumps(d) for d in drops))
    return 0


if __name__ == "__main__":
    sys.exit(main())
