#!/usr/bin/python3
"""The ipshare end-to-end topology: network namespaces, veth pairs, hosts.

                         ipsh-inet 198.51.100.20/24 (default via .1)
                              |
                         ipsh-wangw  198.51.100.1/24, 203.0.113.1/24, ip_forward=1
                              | gw-wan
                              | wan0
  ipsh-client1 ---+      +----------------+
  192.168.1.11    |      |  ipsh-router   |  dmz0 ---- eth0  ipsh-server
  ipsh-client2 ---+ lan0 |  (ipshare, or  |                  203.0.113.10/24
  192.168.1.12    +------|  Linux kernel) |                  default via 203.0.113.1
   (bridge br0 in ipsh-lansw)
                         +----------------+

The router's three veth ends wan0, lan0, dmz0 carry no address and no IPv6,
so the kernel of ipsh-router stays silent while ipshare drives them through
DPDK's af_packet PMD. In `kernel` mode the same namespace is configured as the
Linux reference router instead (proxy ARP, policy-free routes, nftables
masquerade for the LAN).

Library: up(), down(), configure_kernel_router(), Daemon (start/stop ipshare,
counters()), Sniffer, UdpAgent (UDP sockets driven step by step), helpers to
run things inside a namespace.
CLI:     topology.py up [--router none|kernel] | down | status | config

Every name created here starts with PREFIX (default `ipsh-`, override with
IPSHARE_E2E_PREFIX); down() removes exactly those namespaces and nothing else.
Every command runs with a timeout.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
HELPER = HERE / "nshelper.py"
PY = "/usr/bin/python3"  # Debian's python, with python3-scapy / python3-pytest

PREFIX = os.environ.get("IPSHARE_E2E_PREFIX", "ipsh-")
ROUTER = PREFIX + "router"
LANSW = PREFIX + "lansw"
CLIENT1 = PREFIX + "client1"
CLIENT2 = PREFIX + "client2"
SERVER = PREFIX + "server"
WANGW = PREFIX + "wangw"
INET = PREFIX + "inet"
NAMESPACES = [ROUTER, LANSW, CLIENT1, CLIENT2, SERVER, WANGW, INET]

# reference addresses (docs/DESIGN)
LAN_NET = "192.168.1.0/24"
LAN_IP = "192.168.1.1"
CLIENT1_IP = "192.168.1.11"
CLIENT2_IP = "192.168.1.12"
WAN_NET = "203.0.113.0/24"
WAN_IP = "203.0.113.10"  # held by the server
WAN_GW = "203.0.113.1"
INET_GW = "198.51.100.1"
INET_IP = "198.51.100.20"

# interface names, per namespace
R_WAN, R_LAN, R_DMZ = "wan0", "lan0", "dmz0"
GW_WAN, GW_INET = "gw-wan", "gw-inet"
HOST_IF = "eth0"  # the single interface of client1, client2, server, inet

# Fixed, locally administered MACs so that captures read the same every run.
# Tests still read the MACs back from the kernel.
MAC = {
    (ROUTER, R_WAN): "02:ee:00:00:00:01",
    (ROUTER, R_LAN): "02:ee:00:00:00:02",
    (ROUTER, R_DMZ): "02:ee:00:00:00:03",
    (WANGW, GW_WAN): "02:ee:00:00:01:01",
    (WANGW, GW_INET): "02:ee:00:00:01:02",
    (INET, HOST_IF): "02:ee:00:00:02:01",
    (SERVER, HOST_IF): "02:ee:00:00:03:01",
    (LANSW, "br0"): "02:ee:00:00:04:00",
    (LANSW, "sw-router"): "02:ee:00:00:04:01",
    (LANSW, "sw-c1"): "02:ee:00:00:04:02",
    (LANSW, "sw-c2"): "02:ee:00:00:04:03",
    (CLIENT1, HOST_IF): "02:ee:00:00:05:01",
    (CLIENT2, HOST_IF): "02:ee:00:00:06:01",
}

# veth pairs: (ns_a, dev_a, ns_b, dev_b)
VETHS = [
    (ROUTER, R_WAN, WANGW, GW_WAN),
    (ROUTER, R_LAN, LANSW, "sw-router"),
    (ROUTER, R_DMZ, SERVER, HOST_IF),
    (WANGW, GW_INET, INET, HOST_IF),
    (LANSW, "sw-c1", CLIENT1, HOST_IF),
    (LANSW, "sw-c2", CLIENT2, HOST_IF),
]

# the router's veth ends and their peers, per zone
ROUTER_PORTS = {"wan": R_WAN, "lan": R_LAN, "dmz": R_DMZ}
PEER_OF = {"wan": (WANGW, GW_WAN), "lan": (LANSW, "sw-router"), "dmz": (SERVER, HOST_IF)}

DEFAULT_CONFIG = f"""\
port wan net_af_packet0
port lan net_af_packet1
port dmz net_af_packet2
lan address {LAN_IP}/24
wan network {WAN_NET} gateway {WAN_GW}
server address {WAN_IP}
"""


class CmdError(RuntimeError):
    pass


def log(msg):
    if os.environ.get("IPSHARE_E2E_VERBOSE"):
        print("[topology] " + msg, file=sys.stderr, flush=True)


def run(cmd, timeout=15, check=True, input=None):
    """Run a command (list), bounded by timeout; return CompletedProcess (text)."""
    log(" ".join(cmd))
    try:
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise CmdError(f"timed out after {timeout}s: {' '.join(cmd)}") from e
    if check and p.returncode != 0:
        raise CmdError(f"exit {p.returncode}: {' '.join(cmd)}\n{p.stdout}{p.stderr}")
    return p


def nsrun(ns, cmd, timeout=15, check=True, input=None):
    return run(["ip", "netns", "exec", ns] + list(cmd), timeout=timeout, check=check, input=input)


def sysctl(ns, *assignments, check=True):
    return nsrun(ns, ["sysctl", "-q", "-w"] + list(assignments), check=check)


def list_namespaces(prefix=PREFIX):
    p = run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in p.stdout.splitlines() if line.strip()]
    return [n for n in names if n.startswith(prefix)]


def ns_pids(ns):
    p = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in p.stdout.split() if x.isdigit()]


# ---------------------------------------------------------------- build up


def _offloads_off(ns, dev):
    nsrun(ns, ["ethtool", "-K", dev, "rx", "off", "tx", "off", "tso", "off", "gso", "off", "gro", "off"])


def up():
    """Build the whole topology (after removing leftovers of ours by name)."""
    down()
    try:
        _build()
    except Exception:
        down()
        raise


def _build():
    for ns in NAMESPACES:
        run(["ip", "netns", "add", ns])
        # no IPv6 anywhere (clean captures, a silent router kernel); no rp_filter
        # unless a test sets it; defaults first, so that new devices inherit them
        sysctl(ns,
               "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1",
               "net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.default.rp_filter=0",
               "net.ipv4.conf.all.accept_redirects=0", "net.ipv4.conf.default.accept_redirects=0",
               "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.default.send_redirects=0")
        run(["ip", "-n", ns, "link", "set", "lo", "up"])

    for ns_a, dev_a, ns_b, dev_b in VETHS:
        run(["ip", "-n", ns_a, "link", "add", dev_a, "address", MAC[(ns_a, dev_a)], "type", "veth",
             "peer", "name", dev_b, "address", MAC[(ns_b, dev_b)], "netns", ns_b])
        for ns, dev in ((ns_a, dev_a), (ns_b, dev_b)):
            _offloads_off(ns, dev)
            sysctl(ns, f"net.ipv6.conf.{dev}.disable_ipv6=1", f"net.ipv4.conf.{dev}.rp_filter=0")

    # the LAN switch
    run(["ip", "-n", LANSW, "link", "add", "br0", "address", MAC[(LANSW, "br0")], "type", "bridge",
         "stp_state", "0", "forward_delay", "0"])
    sysctl(LANSW, "net.ipv6.conf.br0.disable_ipv6=1")
    for port in ("sw-router", "sw-c1", "sw-c2"):
        run(["ip", "-n", LANSW, "link", "set", port, "master", "br0"])
        run(["ip", "-n", LANSW, "link", "set", port, "up"])
    run(["ip", "-n", LANSW, "link", "set", "br0", "up"])

    # the router's ports: up, no address
    for dev in (R_WAN, R_LAN, R_DMZ):
        run(["ip", "-n", ROUTER, "link", "set", dev, "up"])

    def host(ns, dev, cidr, gw=None):
        run(["ip", "-n", ns, "addr", "add", cidr, "dev", dev])
        run(["ip", "-n", ns, "link", "set", dev, "up"])
        if gw:
            run(["ip", "-n", ns, "route", "add", "default", "via", gw])

    host(CLIENT1, HOST_IF, f"{CLIENT1_IP}/24", LAN_IP)
    host(CLIENT2, HOST_IF, f"{CLIENT2_IP}/24", LAN_IP)
    host(SERVER, HOST_IF, f"{WAN_IP}/24", WAN_GW)
    host(WANGW, GW_WAN, f"{WAN_GW}/24")
    host(WANGW, GW_INET, f"{INET_GW}/24")
    host(INET, HOST_IF, f"{INET_IP}/24", INET_GW)
    sysctl(WANGW, "net.ipv4.ip_forward=1")


def configure_kernel_router():
    """Make ipsh-router the Linux reference router (the seed's recipe, tidied).

    - lan0 holds lan-ip; wan-ip is routed (/32) to dmz0, the wan subnet and
      the default route to wan0; proxy ARP on wan0 and dmz0 answers who-has
      wan-ip on wan and who-has anything-but-wan-ip on dmz, with no delay.
    - wan0 carries wan-ip/32 and dmz0 the gateway/32 WITHOUT their local
      routes: they only give the kernel the right source for its ARP
      requests and, with icmp_errors_use_inbound_ifaddr, for ICMP errors
      (time exceeded toward wan comes from wan-ip, toward the LAN from lan-ip).
      Since those addresses are "ours" for the kernel, packets (and ARP)
      from the server and the gateway would be martians: accept_local=1.
    - rp_filter on lan0 drops spoofed LAN sources.
    - nftables (when installed) masquerades the LAN to wan-ip, ports 61000-65535.
    """
    r = ROUTER
    sysctl(r, "net.ipv4.ip_forward=1", "net.ipv4.icmp_errors_use_inbound_ifaddr=1",
           f"net.ipv4.conf.{R_WAN}.proxy_arp=1", f"net.ipv4.conf.{R_DMZ}.proxy_arp=1",
           f"net.ipv4.neigh.{R_WAN}.proxy_delay=0", f"net.ipv4.neigh.{R_DMZ}.proxy_delay=0",
           f"net.ipv4.conf.{R_WAN}.accept_local=1", f"net.ipv4.conf.{R_DMZ}.accept_local=1",
           f"net.ipv4.conf.{R_LAN}.rp_filter=1")
    run(["ip", "-n", r, "addr", "add", f"{LAN_IP}/24", "dev", R_LAN])
    run(["ip", "-n", r, "addr", "add", f"{WAN_IP}/32", "dev", R_WAN])
    run(["ip", "-n", r, "route", "del", "table", "local", "local", WAN_IP, "dev", R_WAN])
    run(["ip", "-n", r, "addr", "add", f"{WAN_GW}/32", "dev", R_DMZ])
    run(["ip", "-n", r, "route", "del", "table", "local", "local", WAN_GW, "dev", R_DMZ])
    run(["ip", "-n", r, "route", "add", f"{WAN_IP}/32", "dev", R_DMZ])
    run(["ip", "-n", r, "route", "add", WAN_NET, "dev", R_WAN])
    run(["ip", "-n", r, "route", "add", "default", "via", WAN_GW, "dev", R_WAN])
    if shutil.which("nft"):
        nsrun(r, ["nft", "-f", "-"], input=f"""
table ip ipshare_ref {{
    chain postrouting {{
        type nat hook postrouting priority srcnat; policy accept;
        oifname "{R_WAN}" ip saddr {LAN_NET} meta l4proto {{ tcp, udp }} masquerade to :61000-65535
        oifname "{R_WAN}" ip saddr {LAN_NET} masquerade
    }}
}}
""")
    else:
        print("topology: nft not installed; kernel router has no NAPT for the LAN", file=sys.stderr)


# ---------------------------------------------------------------- tear down


def _kill_pids(pids, timeout=5.0):
    for pid in pids:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [p for p in alive if os.path.exists(f"/proc/{p}")]
    for pid in alive:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def down():
    """Remove our namespaces (by name), ending the processes still inside
    them; tolerate any partial state. Returns the names that remained."""
    present = list_namespaces()
    ours = [ns for ns in NAMESPACES if ns in present]
    pids = []
    for ns in ours:
        pids += ns_pids(ns)
    pids = [p for p in set(pids) if p != os.getpid()]
    if pids:
        _kill_pids(pids)
    for ns in ours:
        run(["ip", "netns", "del", ns], check=False)
    left = [ns for ns in NAMESPACES if ns in list_namespaces()]
    return left


def status():
    present = list_namespaces()
    if not present:
        print(f"no {PREFIX}* namespace")
        return
    for ns in NAMESPACES:
        if ns not in present:
            print(f"== {ns}: absent")
            continue
        print(f"== {ns}")
        print(run(["ip", "-n", ns, "-br", "link"], check=False).stdout.rstrip())
        print(run(["ip", "-n", ns, "-br", "-4", "addr"], check=False).stdout.rstrip())
        routes = run(["ip", "-n", ns, "route"], check=False).stdout.rstrip()
        if routes:
            print(routes)
        pids = ns_pids(ns)
        if pids:
            print("processes:", " ".join(map(str, pids)))
    others = [n for n in present if n not in NAMESPACES]
    if others:
        print("other namespaces with the prefix:", " ".join(others))


# ---------------------------------------------------------------- inspection


def link_info(ns, dev):
    p = run(["ip", "-n", ns, "-j", "-s", "link", "show", "dev", dev])
    return json.loads(p.stdout)[0]


def mac_of(ns, dev):
    return link_info(ns, dev)["address"]


def link_stats(ns, dev):
    """{'rx': packets, 'tx': packets} from the kernel's counters."""
    s = link_info(ns, dev)["stats64"]
    return {"rx": s["rx"]["packets"], "tx": s["tx"]["packets"]}


# ---------------------------------------------------------------- in-namespace tools


def helper(ns, args, timeout=15):
    """Run nshelper.py in ns; return its JSON result (the last JSON line)."""
    p = nsrun(ns, [PY, str(HELPER)] + [str(a) for a in args], timeout=timeout, check=False)
    lines = [ln for ln in p.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise CmdError(f"nshelper {args[0]} in {ns}: exit {p.returncode}, no result\n{p.stdout}{p.stderr}")
    return json.loads(lines[-1])


class Background:
    """A long-running command in a namespace whose stdout is read by a thread.
    If ready_line is given, start() waits (bounded) until that line appears."""

    def __init__(self, ns, cmd, ready_line=None, ready_timeout=10.0, name=None, stdin_pipe=False):
        self.ns, self.cmd, self.ready_line = ns, list(cmd), ready_line
        self.stdin_pipe = stdin_pipe
        self.ready_timeout = ready_timeout
        self.name = name or cmd[0]
        self.lines = []
        self.stderr_lines = []
        self.cond = threading.Condition()
        self.proc = None
        self.eof = False

    def start(self):
        full = ["ip", "netns", "exec", self.ns] + [str(c) for c in self.cmd]
        log(" ".join(full))
        self.proc = subprocess.Popen(full, stdin=subprocess.PIPE if self.stdin_pipe else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1)
        self._t_out = threading.Thread(target=self._reader, args=(self.proc.stdout, self.lines, True),
                                       daemon=True)
        self._t_err = threading.Thread(target=self._reader, args=(self.proc.stderr, self.stderr_lines, False),
                                       daemon=True)
        self._t_out.start()
        self._t_err.start()
        if self.ready_line is not None:
            if self.wait_line(lambda ln: ln.startswith(self.ready_line), self.ready_timeout) is None:
                self.stop()
                raise CmdError(f"{self.name} in {self.ns} not ready within {self.ready_timeout}s; "
                               f"exit={self.proc.returncode}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}")
        return self

    def _reader(self, stream, sink, is_stdout):
        for line in stream:
            with self.cond:
                sink.append(line.rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            if is_stdout:
                self.eof = True
            self.cond.notify_all()

    @property
    def stdout(self):
        with self.cond:
            return "\n".join(self.lines)

    @property
    def stderr(self):
        with self.cond:
            return "\n".join(self.stderr_lines)

    def wait_line(self, pred, timeout, start=0):
        """Index of the first stdout line (from index start) matching pred, or None."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    return None
                self.cond.wait(min(left, 0.2))

    def send_line(self, text):
        """Write one line to the command's stdin (needs stdin_pipe=True)."""
        self.proc.stdin.write(text.rstrip("\n") + "\n")
        self.proc.stdin.flush()

    def wait(self, timeout):
        """Wait for exit (bounded); return the exit code or None."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._t_out.join(timeout=2)
        self._t_err.join(timeout=2)
        return rc

    @property
    def returncode(self):
        return None if self.proc is None else self.proc.poll()

    def stop(self, sig=signal.SIGTERM, timeout=5.0):
        if self.proc is None:
            return None
        if self.stdin_pipe and self.proc.stdin and not self.proc.stdin.closed:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
            except ProcessLookupError:
                pass
            if self.wait(timeout) is None:
                self.proc.kill()
                self.wait(5)
        else:
            self.wait(2)
        return self.proc.returncode

    def result(self, timeout):
        """For a helper that prints one JSON result: wait for it (bounded)."""
        rc = self.wait(timeout)
        if rc is None:
            self.stop()
        objs = [json.loads(ln) for ln in self.lines if ln.startswith("{")]
        if not objs:
            raise CmdError(f"{self.name} in {self.ns}: no result (exit {self.proc.returncode})\n"
                           f"{self.stdout}\n{self.stderr}")
        return objs[-1]


def server(ns, kind, port, timeout=10, bind="0.0.0.0"):
    """Start a one-shot tcp-server/udp-server (nshelper) in ns; returns Background."""
    return Background(ns, [PY, HELPER, kind, "--port", port, "--bind", bind, "--timeout", timeout],
                      ready_line="ready", name=f"{kind}:{port}").start()


class UdpAgent:
    """UDP sockets in a namespace, driven command by command (nshelper
    udp-agent): each call writes one JSON command and waits (bounded) for its
    JSON answer. Use as a context manager, or call stop()."""

    def __init__(self, ns, timeout=120):
        self.ns = ns
        self.bg = Background(ns, [PY, HELPER, "udp-agent", "--timeout", timeout], ready_line="ready",
                             name="udp-agent", stdin_pipe=True)
        self._next = 0

    def start(self):
        if self.bg.proc is None:
            self.bg.start()
            with self.bg.cond:
                self._next = len(self.bg.lines)
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.bg.stop()

    def cmd(self, op, wait=None, **kw):
        kw["op"] = op
        self.bg.send_line(json.dumps(kw))
        wait = wait if wait is not None else float(kw.get("timeout", 0)) + 10
        i = self.bg.wait_line(lambda ln: ln.startswith("{"), wait, start=self._next)
        if i is None:
            raise CmdError(f"udp-agent in {self.ns}: no answer to {kw} within {wait}s "
                           f"(exit {self.bg.returncode})\n{self.bg.stderr}")
        self._next = i + 1
        with self.bg.cond:
            return json.loads(self.bg.lines[i])

    def open(self, name, bind_port=0, connect=None):
        r = self.cmd("open", name=name, bind_port=bind_port, connect=connect)
        if not r["ok"]:
            raise CmdError(f"udp-agent in {self.ns}: open {name} port {bind_port}: {r['error']}")
        return tuple(r["local"])

    def xchg(self, name, dst, port, token, length=0, timeout=5):
        return self.cmd("xchg", name=name, dst=dst, port=port, token=token, len=length, timeout=timeout)

    def send(self, name, dst, port, token, length=0):
        return self.cmd("send", name=name, dst=dst, port=port, token=token, len=length)

    def recv(self, name, timeout=1.0):
        return self.cmd("recv", name=name, timeout=timeout)["received"]

    def close(self, name):
        return self.cmd("close", name=name)


class Sniffer:
    """Every frame seen on (ns, dev), in both directions, from start() to stop().
    frames() returns scapy Ether objects (scapy imported lazily)."""

    def __init__(self, ns, dev, timeout=60):
        self.bg = Background(ns, [PY, HELPER, "sniff", "--iface", dev, "--timeout", timeout],
                             ready_line="ready", name=f"sniff {dev}")
        self.ns, self.dev = ns, dev

    def start(self):
        self.bg.start()
        return self

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self.bg.stop()

    def raw(self, direction=None):
        out = []
        with self.bg.cond:
            lines = list(self.bg.lines)
        for ln in lines:
            if not ln.startswith("{"):
                continue
            o = json.loads(ln)
            if "hex" in o and (direction is None or o["dir"] == direction):
                out.append(bytes.fromhex(o["hex"]))
        return out

    def frames(self, direction=None, pred=None):
        from scapy.layers.l2 import Ether
        res = []
        for b in self.raw(direction):
            f = Ether(b)
            if pred is None or pred(f):
                res.append(f)
        return res

    def wait_for(self, pred, timeout=5.0, count=1, direction=None):
        """Wait (bounded) until at least count frames match; return the matches."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.frames(direction, pred)
            if len(found) >= count or time.monotonic() >= deadline:
                return found
            with self.bg.cond:
                self.bg.cond.wait(0.1)


# ---------------------------------------------------------------- the daemon


def build_dir():
    b = Path(os.environ.get("BUILD_DIR", "build"))
    return b if b.is_absolute() else REPO_ROOT / b


def ipshare_binary():
    return build_dir() / "control" / "ipshare"


def ipsharectl_binary():
    return build_dir() / "control" / "ipsharectl"


def ctl_run(socket_path, *words, timeout=20, input=None):
    """ipsharectl --socket socket_path WORDS... (bounded); the CompletedProcess.
    Exit status: 0 ok, 1 error reply, 2 cannot connect, 3 no reply, 64 usage."""
    return run([str(ipsharectl_binary()), "--socket", str(socket_path)] + [str(w) for w in words],
               timeout=timeout, check=False, input=input)


def ctl(socket_path, *words, json=False, timeout=20):
    """One ipsharectl command that must succeed: its output as text, or
    parsed (json=True adds --json). CmdError, with the reply, otherwise."""
    import json as _json  # the module (the parameter shadows it)
    words = list(words) + (["--json"] if json else [])
    p = ctl_run(socket_path, *words, timeout=timeout)
    if p.returncode != 0:
        raise CmdError(f"ipsharectl {' '.join(map(str, words))}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    if json:
        try:
            return _json.loads(p.stdout)
        except ValueError as e:
            raise CmdError(f"ipsharectl {' '.join(map(str, words))}: not JSON ({e}):\n{p.stdout}") from e
    return p.stdout


COUNTER_PORT_RE = re.compile(r"^port (\S+) rx (\d+) tx (\d+) dropped (\d+)\s*$")
COUNTER_DROP_RE = re.compile(r"^drop (\S+) (\d+)\s*$")
COUNTER_NAT_ACTIVE_RE = re.compile(r"^nat_active (\S+) (\d+)\s*$")
COUNTER_VALUE_RE = re.compile(r"^(\w+) (\d+)\s*$")  # nat_created N, icmp_sent N, ...
END_COUNTERS = "ipshare: end counters"
READY = "ipshare: ready"


class Counters:
    def __init__(self, lines):
        self.ports = {}
        self.drops = {}
        self.values = {}      # single-valued lines: nat_created, nat_expired, icmp_sent...
        self.nat_active = {}  # nat_active tcp|udp|icmp|other
        self.lines = lines
        for ln in lines:
            m = COUNTER_PORT_RE.match(ln)
            if m:
                self.ports[m.group(1)] = {"rx": int(m.group(2)), "tx": int(m.group(3)),
                                          "dropped": int(m.group(4))}
                continue
            m = COUNTER_DROP_RE.match(ln)
            if m:
                self.drops[m.group(1)] = int(m.group(2))
                continue
            m = COUNTER_NAT_ACTIVE_RE.match(ln)
            if m:
                self.nat_active[m.group(1)] = int(m.group(2))
                continue
            m = COUNTER_VALUE_RE.match(ln)
            if m:
                self.values[m.group(1)] = int(m.group(2))

    def drop(self, reason):
        return self.drops.get(reason, 0)

    def value(self, name):
        """A single-valued line (nat_created...); KeyError when not printed."""
        if name not in self.values:
            raise KeyError(f"counter {name!r} not in the dump (have {sorted(self.values)})")
        return self.values[name]

    def active(self, proto=None):
        """nat_active for one protocol, or the sum over all."""
        if not self.nat_active:
            raise KeyError("no 'nat_active' line in the dump")
        if proto is None:
            return sum(self.nat_active.values())
        if proto not in self.nat_active:
            raise KeyError(f"'nat_active {proto}' not in the dump (have {sorted(self.nat_active)})")
        return self.nat_active[proto]

    def __repr__(self):
        return f"Counters(ports={self.ports}, drops={ {k: v for k, v in self.drops.items() if v} })"


_daemon_seq = 0
AF_PACKET_FRAME = 16384


class Daemon:
    """ipshare running in the router namespace on af_packet vdevs."""

    def __init__(self, config_text=DEFAULT_CONFIG, config_path=None, binary=None, lcores=None,
                 ns=ROUTER, workers=1):
        global _daemon_seq
        _daemon_seq += 1
        self.tmp = tempfile.mkdtemp(prefix="ipsh-e2e-")
        if config_path is None:
            config_path = os.path.join(self.tmp, "ipshare.conf")
            with open(config_path, "w") as f:
                f.write(config_text)
        self.config_path = config_path
        self.binary = Path(binary) if binary else ipshare_binary()
        self.file_prefix = f"ipsh-e2e-{os.getpid()}-{_daemon_seq}"
        self.lcores = lcores or os.environ.get("IPSHARE_E2E_LCORES", "0,1")
        # Several workers: one queue pair each on every port (af_packet qpairs:
        # the kernel's fanout hash spreads flows, so replies often land on
        # another worker's queue than their flow's owner). On a 2-CPU machine
        # the extra worker lcores share the last CPU.
        self.workers = workers
        self.ns = ns
        self.bg = None
        self.final_counters = None

    @property
    def socket_path(self):
        """The daemon's control socket (ipsharectl --socket), in this daemon's temp dir."""
        return os.path.join(self.tmp, "ipshare.sock")

    def argv(self):
        # af_packet hands over datagrams the kernel reassembled (its fanout
        # uses PACKET_FANOUT_FLAG_DEFRAG): 16 KB frames and buffers to match.
        af = f",framesz={AF_PACKET_FRAME},blocksz={AF_PACKET_FRAME}"
        cores = ["-l", self.lcores]
        if self.workers > 1:
            last = max(0, (os.cpu_count() or 2) - 1)
            af += f",qpairs={self.workers}"
            cores = ["--lcores", ",".join(["0@0"] + [f"{i}@{min(i, last)}" for i in range(1, self.workers + 1)])]
        return [str(self.binary), *cores, "--no-huge", "-m", "1024", "--no-pci",
                "--file-prefix", self.file_prefix,
                "--vdev", f"net_af_packet0,iface={R_WAN}{af}",
                "--vdev", f"net_af_packet1,iface={R_LAN}{af}",
                "--vdev", f"net_af_packet2,iface={R_DMZ}{af}",
                "--", "--config", self.config_path, "--socket", self.socket_path,
                "--mbuf-size", str(AF_PACKET_FRAME + 128)]

    def start(self, wait_ready=True, timeout=30.0):
        if not self.binary.exists():
            self._cleanup()
            raise CmdError(f"ipshare binary not found: {self.binary} (run scripts/build.sh)")
        self.bg = Background(self.ns, self.argv(), name="ipshare")
        self.bg.start()
        if wait_ready:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30.0):
        i = self.bg.wait_line(lambda ln: ln.startswith(READY), timeout)
        if i is None:
            rc = self.bg.returncode
            self.stop()
            raise CmdError(f"ipshare did not print '{READY}' within {timeout}s (exit {rc})\n"
                           f"--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}")

    @property
    def stdout(self):
        return self.bg.stdout if self.bg else ""

    @property
    def stderr(self):
        return self.bg.stderr if self.bg else ""

    @property
    def returncode(self):
        return self.bg.returncode if self.bg else None

    def running(self):
        return self.bg is not None and self.bg.returncode is None

    def _block_after(self, start, timeout):
        i = self.bg.wait_line(lambda ln: ln.strip() == END_COUNTERS, timeout, start=start)
        if i is None:
            return None
        with self.bg.cond:
            return Counters(self.bg.lines[start:i])

    def counters(self, timeout=5.0):
        """SIGUSR1, then parse the next complete counter block."""
        if not self.running():
            raise CmdError(f"ipshare is not running (exit {self.returncode})\n{self.stderr}")
        with self.bg.cond:
            start = len(self.bg.lines)
        self.bg.proc.send_signal(signal.SIGUSR1)
        c = self._block_after(start, timeout)
        if c is None:
            raise CmdError(f"no '{END_COUNTERS}' within {timeout}s after SIGUSR1\n{self.stdout[-3000:]}")
        return c

    def wait_exit(self, timeout):
        return self.bg.wait(timeout)

    def stop(self, sig=signal.SIGINT, timeout=15.0):
        """Stop (SIGINT by default); returns the exit code; parses the final
        counter block into self.final_counters (None if absent)."""
        if self.bg is None:
            return None
        with self.bg.cond:
            start = len(self.bg.lines)
        was_running = self.bg.returncode is None
        rc = self.bg.stop(sig, timeout)
        if was_running:
            self.final_counters = self._block_after(start, 0)
        self._cleanup()
        return rc

    def ctl(self, *words, json=False, timeout=20):
        """ipsharectl against this daemon's socket (see ctl())."""
        return ctl(self.socket_path, *words, json=json, timeout=timeout)

    def ctl_run(self, *words, timeout=20, input=None):
        return ctl_run(self.socket_path, *words, timeout=timeout, input=input)

    def _cleanup(self):
        for base in ("/var/run/dpdk", "/run/dpdk"):
            d = os.path.join(base, self.file_prefix)
            if os.path.isdir(d):
                shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)


# ---------------------------------------------------------------- CLI


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p_up = sub.add_parser("up", help="build the topology (removing leftovers first)")
    p_up.add_argument("--router", choices=["none", "kernel"], default="none",
                      help="none: bare ports for ipshare (default); kernel: Linux reference router")
    sub.add_parser("down", help=f"remove every {PREFIX}* namespace of the topology")
    sub.add_parser("status", help="show namespaces, addresses, routes, processes")
    sub.add_parser("config", help="print the default ipshare configuration")
    a = ap.parse_args(argv)

    if a.cmd == "config":
        sys.stdout.write(DEFAULT_CONFIG)
        return 0
    if os.geteuid() != 0:
        print("topology.py: must run as root", file=sys.stderr)
        return 1
    if a.cmd == "up":
        up()
        if a.router == "kernel":
            configure_kernel_router()
        print(f"topology up ({a.router} router): " + " ".join(NAMESPACES))
    elif a.cmd == "down":
        left = down()
        if left:
            print("could not remove: " + " ".join(left), file=sys.stderr)
            return 1
        print("topology down")
    elif a.cmd == "status":
        status()
    return 0


if __name__ == "__main__":
    sys.exit(main())
