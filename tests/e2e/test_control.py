"""The control plane, end to end: ipsharectl and the control socket against
the running daemon, with real traffic between the namespaces.

Every `show` is checked against what the test's own traffic created; every
change (a forward added or removed, a flush, a reload) is checked by sending
traffic that only works, or only stops working, if the change took effect.
The socket itself is probed with raw clients: bad lines, oversized lines,
clients that vanish mid-reply, many clients at once, a second daemon.

The module runs one daemon with CONFIG_EXTRA added to the default
configuration (restarted once for the module, the default restored after).
"""

import concurrent.futures
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import threading
import time
import uuid

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

import topology as T
from test_foundation import ping, send_ip
from test_napt import in_range, wait_until

pytestmark = pytest.mark.ipshare_only  # the control socket is ipshare's


# inet's services for the module
TCP_ECHO_PORT = 7310     # one line, echoed with "echo:" in front
UDP_ECHO_PORT = 7301     # every datagram echoed verbatim
STREAM_ECHO_PORT = 7320  # every byte echoed until the client half-closes
DISCARD_PORT = 9999      # nothing listens there

# Written out of canonical order, with comments and blank lines, so that
# `show config` has something to put in order.
CONFIG_EXTRA = f"""
# test_control
timeout udp 600

forward tcp 2200 to {T.CLIENT1_IP} port 22
napt sessions 65536
filter reject from lan to wan proto udp port 9
"""

# `show config` for DEFAULT_CONFIG + CONFIG_EXTRA (docs/configuration.md,
# "The CLI and the canonical form"), written out by hand.
CANONICAL = f"""\
port wan net_af_packet0
port lan net_af_packet1
port dmz net_af_packet2
lan address {T.LAN_IP}/24
wan network {T.WAN_NET} gateway {T.WAN_GW}
server address {T.WAN_IP}
napt ports 61000-65535
napt sessions 65536
napt filtering address-and-port-dependent
timeout tcp-established 7440
timeout tcp-transitory 240
timeout udp 600
timeout icmp 60
timeout port-rest 120
forward tcp 2200 to {T.CLIENT1_IP} port 22
hairpin source wan
filter reject from lan to wan proto udp port 9
filter policy from wan to lan deny
filter policy from wan to dmz allow
filter policy from lan to wan allow
filter policy from lan to dmz allow
filter policy from dmz to wan allow
filter policy from dmz to lan deny
""".splitlines()

POLICY_LINES = [ln for ln in CANONICAL if ln.startswith("filter policy")]


# ------------------------------------------------------------------ helpers


def token(tag):
    return f"{tag}-{uuid.uuid4().hex[:10]}"


def table(text, last_has_blanks=False):
    """An aligned text table as a list of dicts keyed by the header words.
    With last_has_blanks, the last column takes the rest of the line."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    assert lines, "empty table"
    head = lines[0].split()
    rows = []
    for ln in lines[1:]:
        if ln.startswith("... "):
            continue
        cells = ln.split(None, len(head) - 1) if last_has_blanks else ln.split()
        assert len(cells) == len(head), f"row {ln!r} does not match header {head}"
        rows.append(dict(zip(head, cells)))
    return rows


def declared_drop_reasons():
    """The names of the X-macro list in dataplane/drop_reasons.h, in order."""
    header = (T.REPO_ROOT / "dataplane" / "drop_reasons.h").read_text()
    names = re.findall(r"\bX\((\w+),\s*\"", header)
    assert len(names) > 20, "could not read the drop reasons from dataplane/drop_reasons.h"
    return names


def ports_by_zone(router):
    return {p["zone"]: p for p in router.ctl("show", "ports", json=True)["ports"]}


def session_count(router, *filters):
    return router.ctl("show", "sessions", "count", *filters, json=True)["count"]


def sessions(router, *filters):
    return router.ctl("show", "sessions", *filters, json=True)["sessions"]


def forward_statements(router):
    return [f["statement"] for f in router.ctl("show", "forwards", json=True)["forwards"]]


def running_config(router):
    return router.ctl("show", "config", json=True)["statements"]


def tcp_via(server_ns, server_port, dst, dst_port, client_ns=T.INET, bind="0.0.0.0"):
    """One TCP exchange from client_ns to dst:dst_port, served by a one-shot
    echo server on server_ns:server_port. Returns (client result, server result)."""
    srv = T.server(server_ns, "tcp-server", server_port, timeout=8, bind=bind)
    try:
        cli = T.helper(client_ns, ["tcp-client", "--dst", dst, "--port", dst_port, "--timeout", 6], timeout=15)
        got = srv.result(timeout=5) if "error" not in cli else None
    finally:
        srv.stop()
    return cli, got


def listener_records(bg):
    with bg.cond:
        return [json.loads(ln) for ln in bg.lines if ln.startswith("{") and '"peer"' in ln]


class CtlConn:
    """A raw client of the control socket (ctl_protocol.h): LF-ended request
    lines; replies are lines ended by a "." line, dot-stuffed."""

    def __init__(self, path, timeout=10.0):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data if isinstance(data, bytes) else data.encode())

    def reply(self, timeout=10.0):
        """The next reply's lines (unstuffed, without the terminator)."""
        deadline = time.monotonic() + timeout
        lines = []
        while True:
            while b"\n" in self.buf:
                ln, self.buf = self.buf.split(b"\n", 1)
                ln = ln.decode(errors="replace")
                if ln == ".":
                    return lines
                lines.append(ln[1:] if ln.startswith(".") else ln)
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply within {timeout}s; have {lines[:5]}")
            self.s.settimeout(left)
            chunk = self.s.recv(65536)
            if not chunk:
                raise ConnectionError(f"closed before a complete reply; have {lines[:5]}")
            self.buf += chunk

    def request(self, line, timeout=10.0):
        self.send(line + "\n")
        return self.reply(timeout)

    def closed_by_peer(self, timeout=5.0):
        """True when the daemon closes the connection within timeout (any
        bytes still to come are read and ignored)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                return False
            except ConnectionResetError:
                return True
            if not chunk:
                return True
            self.buf += chunk
        return False

    def close(self):
        self.s.close()


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module", autouse=True)
def ctl_daemon(router):
    """The daemon with CONFIG_EXTRA for the whole module."""
    with router.configured(CONFIG_EXTRA):
        yield router


@pytest.fixture(scope="module")
def services(ctl_daemon):
    """inet: a TCP line echo, a UDP echo and a TCP stream echo."""
    started = []
    try:
        for args, name in (
                (["tcp-echo", "--port", TCP_ECHO_PORT], "tcp-echo"),
                (["udp-echo", "--port", UDP_ECHO_PORT], "udp-echo"),
                (["tcp-stream-echo", "--port", STREAM_ECHO_PORT], "tcp-stream-echo")):
            started.append(T.Background(T.INET, [T.PY, T.HELPER] + args + ["--timeout", 600],
                                        ready_line="ready", name=name).start())
        yield {bg.name: bg for bg in started}
    finally:
        for bg in started:
            bg.stop()


@pytest.fixture(scope="module")
def traffic(router, services):
    """client1 pings inet (echo id 4660) and opens a TCP connection to it;
    client2 opens one too. Returns what each side saw, and `show ports` before."""
    router.ctl("flush", "sessions")
    before = ports_by_zone(router)
    p = T.nsrun(T.CLIENT1, ["ping", "-n", "-c", "3", "-i", "0.2", "-w", "6", "-e", "4660", T.INET_IP],
                timeout=12, check=False)
    assert p.returncode == 0, f"client1 -> inet ping failed:\n{p.stdout}{p.stderr}"
    tcp = {}
    for ns in (T.CLIENT1, T.CLIENT2):
        cli = T.helper(ns, ["tcp-client", "--dst", T.INET_IP, "--port", TCP_ECHO_PORT, "--timeout", 8], timeout=15)
        assert "error" not in cli, f"TCP {ns} -> inet: {cli['error']}"
        sent = cli["sent"]
        seen = wait_until(lambda: [r for r in listener_records(services["tcp-echo"]) if r["data"] == sent], 3)
        assert len(seen) == 1, f"inet's echo saw {len(seen)} connections for {sent!r}"
        tcp[ns] = {"client_port": cli["local"][1], "outside": tuple(seen[0]["peer"])}
    return {"ports_before": before, "tcp": tcp, "ping_id": 4660, "pings": 3}


# ------------------------------------------------------------------ show


def test_show_sessions_lists_client1s_sessions(router, traffic):
    c1 = traffic["tcp"][T.CLIENT1]
    assert c1["outside"][0] == T.WAN_IP and in_range(c1["outside"][1]), c1

    rows = sessions(router, "client", T.CLIENT1_IP)
    assert sorted(r["proto"] for r in rows) == ["icmp", "tcp"], (
        f"client1 pinged and opened one TCP connection; show sessions lists {rows}")
    for r in rows:
        assert r["client_ip"] == T.CLIENT1_IP and r["remote_ip"] == T.INET_IP, r
        assert r["outside_ip"] == T.WAN_IP and r["kind"] == "napt", r
        assert r["packets_out"] >= 1 and r["packets_in"] >= 1, r
    icmp = next(r for r in rows if r["proto"] == "icmp")
    tcp = next(r for r in rows if r["proto"] == "tcp")
    assert icmp["client_port"] == traffic["ping_id"], f"echo id {traffic['ping_id']}, listed {icmp}"
    assert in_range(icmp["outside_port"]), icmp
    assert icmp["packets_out"] == traffic["pings"] and icmp["packets_in"] == traffic["pings"], icmp
    assert icmp["state"] == "active"
    assert tcp["client_port"] == c1["client_port"], tcp
    assert (tcp["outside_ip"], tcp["outside_port"]) == c1["outside"], (
        f"inet saw the connection from {c1['outside']}; show sessions says {tcp}")
    assert tcp["remote_port"] == TCP_ECHO_PORT, tcp
    assert tcp["state"] in ("time-wait", "fin-out", "fin-in", "closed"), f"a closed connection listed as {tcp}"

    # the text form lists the same two, and nothing of client2's
    text = table(router.ctl("show", "sessions", "client", T.CLIENT1_IP))
    got = sorted((r["PROTO"], r["KIND"], r["CLIENT"], r["OUTSIDE"], r["REMOTE"]) for r in text)
    want = sorted([
        ("icmp", "napt", f"{T.CLIENT1_IP}:{traffic['ping_id']}", f"{T.WAN_IP}:{icmp['outside_port']}", T.INET_IP),
        ("tcp", "napt", f"{T.CLIENT1_IP}:{c1['client_port']}", f"{T.WAN_IP}:{c1['outside'][1]}",
         f"{T.INET_IP}:{TCP_ECHO_PORT}")])
    assert got == want, f"show sessions (text): {got}"

    # the unfiltered listing has client2's connection too
    everything = sessions(router)
    c2 = traffic["tcp"][T.CLIENT2]
    assert any(r["client_ip"] == T.CLIENT2_IP and (r["outside_ip"], r["outside_port"]) == c2["outside"]
               for r in everything), f"client2's connection from {c2['outside']} not in {everything}"
    ours = [r for r in everything if r["client_ip"] == T.CLIENT1_IP]
    assert len(ours) == 2


def test_show_sessions_count_matches(router, traffic):
    listed = sessions(router)
    assert session_count(router) == len(listed)
    assert router.ctl("show", "sessions", "count").strip() == str(len(listed))
    assert session_count(router, "client", T.CLIENT1_IP) == 2
    assert session_count(router, "client", T.CLIENT1_IP, "proto", "tcp") == 1
    assert session_count(router, "client", T.CLIENT1_IP, "proto", "icmp") == 1
    assert session_count(router, "client", T.CLIENT2_IP, "proto", "tcp") == 1
    assert session_count(router, "client", "192.168.1.99") == 0
    assert session_count(router, "port", traffic["tcp"][T.CLIENT1]["client_port"]) == 1


def test_show_neighbours_has_client1_and_the_gateway(router, traffic):
    c1_mac = T.mac_of(T.CLIENT1, T.HOST_IF)
    gw_mac = T.mac_of(T.WANGW, T.GW_WAN)
    rows = router.ctl("show", "neighbours", json=True)["neighbours"]
    by = {(r["zone"], r["address"]): r for r in rows}
    assert ("lan", T.CLIENT1_IP) in by, f"192.168.1.11 not on lan in {rows}"
    assert by[("lan", T.CLIENT1_IP)]["mac"] == c1_mac, by[("lan", T.CLIENT1_IP)]
    assert ("wan", T.WAN_GW) in by, f"203.0.113.1 not on wan in {rows}"
    assert by[("wan", T.WAN_GW)]["mac"] == gw_mac, by[("wan", T.WAN_GW)]
    for key in (("lan", T.CLIENT1_IP), ("wan", T.WAN_GW)):
        assert by[key]["state"] == "reachable", by[key]
    text = {(r["ZONE"], r["ADDRESS"]): r["MAC"] for r in table(router.ctl("show", "neighbours"))}
    assert text[("lan", T.CLIENT1_IP)] == c1_mac and text[("wan", T.WAN_GW)] == gw_mac, text
    # the American spelling is the same command
    us = router.ctl("show", "neighbors", json=True)["neighbours"]
    assert [(r["zone"], r["address"], r["mac"]) for r in us] == [(r["zone"], r["address"], r["mac"]) for r in rows]


def test_show_ports_counters_rise(router, traffic):
    before, after = traffic["ports_before"], ports_by_zone(router)
    assert set(after) == {"wan", "lan", "dmz"}
    for zone, dev in T.ROUTER_PORTS.items():
        assert after[zone]["mac"] == T.mac_of(T.ROUTER, dev), after[zone]
        assert after[zone]["link"].startswith("up"), after[zone]
    # 3 echo requests + 2 TCP connections (at least 4 segments each way)
    out = traffic["pings"] + 2 * 4
    assert after["lan"]["rx"] - before["lan"]["rx"] >= out, (before["lan"], after["lan"])
    assert after["wan"]["tx"] - before["wan"]["tx"] >= out, (before["wan"], after["wan"])
    assert after["wan"]["rx"] - before["wan"]["rx"] >= out, (before["wan"], after["wan"])
    assert after["lan"]["tx"] - before["lan"]["tx"] >= out, (before["lan"], after["lan"])
    text = {ln.split()[0]: ln.split() for ln in router.ctl("show", "ports").splitlines()[1:] if ln.strip()}
    assert set(text) == {"wan", "lan", "dmz"}, text
    # RX TX DROPPED RX-PPS TX-PPS NIC-MISSED NIC-ERRORS close each row
    assert int(text["lan"][-7]) >= after["lan"]["rx"], (text["lan"], after["lan"])


def test_show_drops_lists_every_reason_and_counts(router, traffic):
    declared = declared_drop_reasons()
    rows = router.ctl("show", "drops", json=True)["drops"]
    assert [r["reason"] for r in rows] == declared, "show drops does not list exactly drop_reasons.h, in order"
    assert all(isinstance(r["count"], int) and r["description"] for r in rows)
    text = table(router.ctl("show", "drops"), last_has_blanks=True)
    assert [r["REASON"] for r in text] == declared

    base = {r["reason"]: r["count"] for r in rows}["spoofed_source"]
    spoofed = IP(src="10.99.0.1", dst=T.INET_IP) / UDP(sport=40100, dport=40100) / Raw(b"spoofed")
    send_ip(T.CLIENT1, spoofed, count=4, interval=0.02)

    def delta():
        now = {r["reason"]: r["count"] for r in router.ctl("show", "drops", json=True)["drops"]}
        return now["spoofed_source"] - base
    assert wait_until(lambda: delta() >= 4, 3), f"spoofed_source rose by {delta()}, expected 4"
    time.sleep(0.2)
    assert delta() == 4
    nonzero = router.ctl("show", "drops", "nonzero", json=True)["drops"]
    assert "spoofed_source" in [r["reason"] for r in nonzero]
    assert all(r["count"] > 0 for r in nonzero), nonzero


def test_show_workers(router, traffic):
    first = router.ctl("show", "workers", json=True)["workers"]
    assert first, "no worker listed"
    lcores = set()
    for part in router.daemon.lcores.split(","):
        lo, _, hi = part.partition("-")
        lcores.update(range(int(lo), int(hi or lo) + 1))
    main_lcore = min(lcores)
    assert len(first) == len(lcores) - 1, f"{len(lcores)} lcores, one is the main: workers {first}"
    for w in first:
        assert w["lcore"] in lcores and w["lcore"] != main_lcore, w
    assert sum(w["sessions"] for w in first) == session_count(router)
    time.sleep(0.3)
    second = router.ctl("show", "workers", json=True)["workers"]
    for a, b in zip(first, second):
        assert b["busy_polls"] + b["idle_polls"] > a["busy_polls"] + a["idle_polls"], f"worker stalled: {a} {b}"
    text = table(router.ctl("show", "workers"))
    assert [int(r["LCORE"]) for r in text] == [w["lcore"] for w in first]


def test_show_memory(router, traffic):
    rows = {r["name"]: r for r in router.ctl("show", "memory", json=True)["memory"]}
    assert {"mbufs", "sessions"} <= set(rows), rows
    mb = rows["mbufs"]
    assert 0 < mb["capacity"] and 0 <= mb["used"] <= mb["capacity"], mb
    s = rows["sessions"]
    assert s["capacity"] <= 65536 and s["capacity"] >= 65536 - 64, f"napt sessions 65536: {s}"
    assert s["used"] == session_count(router), f"memory says {s['used']} sessions"
    assert s["used"] >= 3  # client1's two, client2's one
    text = {r["NAME"]: r for r in table(router.ctl("show", "memory"))}
    assert int(text["sessions"]["CAPACITY"]) == s["capacity"]


def test_show_forwards(router, traffic):
    fw = router.ctl("show", "forwards", json=True)["forwards"]
    assert [f["statement"] for f in fw] == [f"forward tcp 2200 to {T.CLIENT1_IP} port 22"], fw
    assert fw[0]["sessions"] == 0
    rows = table(router.ctl("show", "forwards"), last_has_blanks=True)
    assert rows == [{"SESSIONS": "0", "FORWARD": f"forward tcp 2200 to {T.CLIENT1_IP} port 22"}]


def test_show_filter_counts_the_rule(router, traffic):
    def rows():
        return router.ctl("show", "filter", json=True)["filters"]
    first = rows()
    assert [r["statement"] for r in first] == ["filter reject from lan to wan proto udp port 9"] + POLICY_LINES
    assert [r["policy"] for r in first] == [False] + [True] * 6
    base = first[0]["packets"]
    probe = IP(src=T.CLIENT1_IP, dst=T.INET_IP) / UDP(sport=40200, dport=9) / Raw(b"x" * 20)
    send_ip(T.CLIENT1, probe, count=3, interval=0.02)
    assert wait_until(lambda: rows()[0]["packets"] - base >= 3, 3), f"the rule's packets did not rise: {rows()[0]}"
    r = rows()[0]
    assert r["packets"] - base == 3, r
    assert r["bytes"] >= 3 * 48, r
    text = table(router.ctl("show", "filter"), last_has_blanks=True)
    assert text[0]["RULE"] == "filter reject from lan to wan proto udp port 9" and int(text[0]["PKTS"]) >= 3


def test_show_filter_counts_what_a_policy_without_rules_lets_through(router):
    def packets():
        rows = router.ctl("show", "filter", json=True)["filters"]
        return next(r["packets"] for r in rows if r["statement"] == "filter policy from wan to dmz allow")
    base = packets()
    p = ping(T.INET, T.WAN_IP, count=3)  # wan -> dmz: the server answers
    assert p.returncode == 0, p.stdout
    assert wait_until(lambda: packets() > base, 3), (
        f"'filter policy from wan to dmz allow' still counts {packets()} packets after 3 pings to the server")


def test_show_config_is_the_file_in_canonical_form(router, tmp_path):
    text = router.ctl("show", "config")
    assert text.splitlines() == CANONICAL
    j = router.ctl("show", "config", json=True)
    assert j["statements"] == CANONICAL
    assert j["file"] == router.daemon.config_path

    # the canonical form read back: `ipshare --check` accepts it (devices
    # with the same names, on the router namespace's loopback)
    cfg = tmp_path / "canonical.conf"
    cfg.write_text(text)
    prefix = f"ipsh-e2e-check-{os.getpid()}"
    argv = [str(T.ipshare_binary()), "-l", "0", "--no-huge", "-m", "256", "--no-pci", "--file-prefix", prefix]
    for i in range(3):
        argv += ["--vdev", f"net_af_packet{i},iface=lo"]
    argv += ["--", "--config", str(cfg), "--check"]
    try:
        p = T.nsrun(T.ROUTER, argv, timeout=30, check=False)
    finally:
        shutil.rmtree(f"/var/run/dpdk/{prefix}", ignore_errors=True)
    assert p.returncode == 0, f"ipshare --check refused show config's output:\n{p.stdout}{p.stderr}"
    assert "configuration OK" in p.stdout


# ------------------------------------------------------------------ forwards at run time


def test_forward_added_and_removed_at_run_time(router, services):
    stmt = f"forward tcp 2222 to {T.CLIENT1_IP} port 22"
    out = router.ctl("forward", "tcp", "2222", "to", T.CLIENT1_IP, "port", "22")
    assert "applied" in out or out.strip() == "", out
    assert stmt in forward_statements(router)

    cli, got = tcp_via(T.CLIENT1, 22, T.WAN_IP, 2222)
    assert "error" not in cli, f"inet -> {T.WAN_IP}:2222 after adding the forward: {cli['error']}"
    assert got["local"] == [T.CLIENT1_IP, 22], f"the connection reached {got['local']}"
    assert got["peer"] == [T.INET_IP, cli["local"][1]], f"client1 saw the connection from {got['peer']}"
    fw = {f["statement"]: f["sessions"] for f in router.ctl("show", "forwards", json=True)["forwards"]}
    assert fw[stmt] == 1, f"show forwards: {fw}"
    rows = sessions(router, "port", "2222")
    assert len(rows) == 1, rows
    r = rows[0]
    assert (r["proto"], r["kind"], r["client_ip"], r["client_port"], r["outside_ip"], r["outside_port"],
            r["remote_ip"], r["remote_port"]) == ("tcp", "forward", T.CLIENT1_IP, 22, T.WAN_IP, 2222,
                                                  T.INET_IP, cli["local"][1]), r

    # the same outside port again is refused, and changes nothing
    p = router.daemon.ctl_run("forward", "tcp", "2222", "to", T.CLIENT2_IP)
    assert p.returncode == 1 and "overlaps" in p.stderr, (p.returncode, p.stderr)
    assert forward_statements(router).count(stmt) == 1
    assert f"forward tcp 2222 to {T.CLIENT2_IP}" not in forward_statements(router)

    router.ctl("no", "forward", "tcp", "2222")
    assert stmt not in forward_statements(router)
    assert session_count(router, "port", "2222") == 0, "the removed forward's session is still listed"

    # now 2222 is the server's, like any port that is not forwarded
    lan = T.server(T.CLIENT1, "tcp-server", 22, timeout=8)
    try:
        cli, got = tcp_via(T.SERVER, 2222, T.WAN_IP, 2222)
        time.sleep(0.2)
        leaked = listener_records(lan)
    finally:
        lan.stop()
    assert "error" not in cli, f"inet -> {T.WAN_IP}:2222 after removing the forward: {cli['error']}"
    assert got["local"] == [T.WAN_IP, 2222] and got["peer"] == [T.INET_IP, cli["local"][1]], got
    assert not leaked, f"client1's port 22 still got a connection: {leaked}"

    p = router.daemon.ctl_run("no", "forward", "tcp", "2222")
    assert p.returncode == 1 and p.stderr.startswith("error:"), (
        f"removing a forward that is not there: exit {p.returncode}\n{p.stdout}{p.stderr}")


def test_overlapping_forward_error_names_no_line_zero(router):
    router.ctl("forward", "tcp", "2225", "to", T.CLIENT1_IP)
    try:
        p = router.daemon.ctl_run("forward", "tcp", "2225", "to", T.CLIENT2_IP)
    finally:
        router.ctl("no", "forward", "tcp", "2225")
    assert p.returncode == 1 and "overlaps" in p.stderr, p.stderr
    assert "line 0" not in p.stderr, p.stderr


# ------------------------------------------------------------------ flush


def test_flush_sessions_of_one_client(router, services):
    with T.UdpAgent(T.CLIENT1).start() as a1, T.UdpAgent(T.CLIENT2).start() as a2:
        def roundtrip(ag, name):
            tok = token(name)
            r = ag.xchg(name, T.INET_IP, UDP_ECHO_PORT, tok)
            assert r["ok"] and r["reply"]["data_ok"], f"{ag.ns} {name}: no echo: {r}"
            recs = wait_until(lambda: [x for x in listener_records(services["udp-echo"])
                                       if x.get("head", "").split(".")[0] == tok], 3)
            assert recs, f"inet never logged {tok}"
            return tuple(recs[0]["peer"])

        c1_ports = [a1.open("x")[1], a1.open("y")[1]]
        c1_out = [roundtrip(a1, "x"), roundtrip(a1, "y")]
        a2.open("z")
        c2_out = roundtrip(a2, "z")

        def keyset(rows):
            return sorted((r["proto"], r["client_port"], r["outside_port"], r["remote_ip"], r["remote_port"])
                          for r in rows)
        n1 = session_count(router, "client", T.CLIENT1_IP)
        assert n1 >= 2
        c2_before = keyset(sessions(router, "client", T.CLIENT2_IP))
        assert any(k[0] == "udp" and k[2] == c2_out[1] for k in c2_before), (c2_before, c2_out)

        out = router.ctl("flush", "sessions", "client", T.CLIENT1_IP)
        assert out.strip() == f"flushed {n1} sessions", f"flush said {out!r}; client1 had {n1}"
        assert sessions(router, "client", T.CLIENT1_IP) == [], "client1's sessions are still listed"
        assert keyset(sessions(router, "client", T.CLIENT2_IP)) == c2_before, "client2's sessions changed"
        assert roundtrip(a2, "z") == c2_out, "client2's mapping moved after flushing client1's sessions"

        # client1's next packet makes a new session (the old outside port rests)
        again = roundtrip(a1, "x")
        assert again[0] == T.WAN_IP and in_range(again[1]), again
        rows = sessions(router, "client", T.CLIENT1_IP)
        assert len(rows) == 1, f"after one datagram, client1 has {rows}"
        r = rows[0]
        assert (r["proto"], r["client_port"], r["outside_port"]) == ("udp", c1_ports[0], again[1]), r
        assert again[1] != c1_out[0][1], f"the flushed session's port {c1_out[0][1]} was reused at once"


# ------------------------------------------------------------------ reload


def write_config(router, text):
    with open(router.daemon.config_path, "w") as f:
        f.write(text)


@pytest.fixture
def config_file(router):
    """The daemon's configuration file, restored (and reloaded) afterwards."""
    path = router.daemon.config_path
    with open(path) as f:
        original = f.read()
    yield original
    write_config(router, original)
    p = router.daemon.ctl_run("reload")
    assert p.returncode == 0, f"reload of the original file failed:\n{p.stdout}{p.stderr}"
    assert running_config(router) == CANONICAL


def test_reload_applies_a_changed_file_and_refuses_a_broken_one(router, config_file):
    stmt = f"forward tcp 2323 to {T.CLIENT1_IP} port 23"
    write_config(router, config_file + stmt + "\n")
    out = router.ctl("reload")
    assert "applied" in out, out
    assert stmt in forward_statements(router)
    applied = running_config(router)
    assert applied == CANONICAL[:15] + [stmt] + CANONICAL[15:], applied
    cli, got = tcp_via(T.CLIENT1, 23, T.WAN_IP, 2323)
    assert "error" not in cli, f"inet -> {T.WAN_IP}:2323 after the reload: {cli['error']}"
    assert got["local"] == [T.CLIENT1_IP, 23] and got["peer"] == [T.INET_IP, cli["local"][1]], got

    broken = config_file + stmt + "\n" + "frobnicate the router\n" + f"forward tcp 2424 to {T.CLIENT2_IP}\n"
    bad_line = broken.splitlines().index("frobnicate the router") + 1
    write_config(router, broken)
    p = router.daemon.ctl_run("reload")
    assert p.returncode == 1, f"reload of a broken file: exit {p.returncode}\n{p.stdout}{p.stderr}"
    assert p.stderr.startswith("error:"), p.stderr
    assert f"{router.daemon.config_path}:{bad_line}:" in p.stderr, (
        f"the error does not name FILE:{bad_line}: {p.stderr}")
    assert running_config(router) == applied, "a refused reload changed the configuration"
    assert f"forward tcp 2424 to {T.CLIENT2_IP}" not in forward_statements(router)
    cli, got = tcp_via(T.CLIENT1, 23, T.WAN_IP, 2323)
    assert "error" not in cli, f"the forward stopped working after a refused reload: {cli['error']}"
    assert got["local"] == [T.CLIENT1_IP, 23]

    # a valid file that changes what only a restart can change: refused as a whole
    write_config(router, config_file.replace("napt sessions 65536", "napt sessions 131072")
                 + f"forward tcp 2424 to {T.CLIENT2_IP}\n")
    p = router.daemon.ctl_run("reload")
    assert p.returncode == 1 and "'napt sessions' needs a restart" in p.stderr, (p.returncode, p.stderr)
    assert running_config(router) == applied, "a refused reload changed the configuration"


def test_fifty_reloads_disturb_neither_tcp_streams_nor_pings(router, config_file, services):
    """50 reloads alternating two files (a forward added, removed): a TCP
    stream from client1 through the NAT and one from inet through the
    unchanged forward 2200 keep flowing, every byte echoed, and pings at
    50 per second all come back."""
    other = config_file + f"forward tcp 2424 to {T.CLIENT2_IP}\n"
    fwd_stmt = f"forward tcp 2200 to {T.CLIENT1_IP} port 22"
    lan_echo = T.Background(T.CLIENT1, [T.PY, T.HELPER, "tcp-stream-echo", "--port", 22, "--timeout", 90],
                            ready_line="ready", name="tcp-stream-echo:22").start()
    streams = {}
    done = threading.Event()
    pings = []

    def pinger():
        # back-to-back runs of 50 pings at 50/s until the reloads are over
        while not done.is_set() and len(pings) < 60:
            p = T.nsrun(T.CLIENT1, ["ping", "-n", "-q", "-i", "0.02", "-c", "50", "-w", "10", T.INET_IP],
                        timeout=20, check=False)
            pings.append(p)

    th = threading.Thread(target=pinger, daemon=True)
    replies, results = [], {}
    try:
        for name, ns, dst, port in (("napt", T.CLIENT1, T.INET_IP, STREAM_ECHO_PORT),
                                    ("forward", T.INET, T.WAN_IP, 2200)):
            streams[name] = T.Background(ns, [T.PY, T.HELPER, "tcp-stream", "--dst", dst, "--port", port,
                                              "--timeout", 90], ready_line="ready", name=f"tcp-stream {name}",
                                         stdin_pipe=True).start()
        th.start()
        time.sleep(0.5)  # the streams and the pings are flowing
        for i in range(50):
            write_config(router, other if i % 2 == 0 else config_file)
            p = router.daemon.ctl_run("reload")
            replies.append(p)
            assert p.returncode == 0, f"reload {i + 1}: exit {p.returncode}\n{p.stdout}{p.stderr}"
        time.sleep(0.5)
        fw = {f["statement"]: f["sessions"] for f in router.ctl("show", "forwards", json=True)["forwards"]}
    finally:
        done.set()
        th.join(30)
        for name, bg in streams.items():
            bg.send_line("stop")
        for name, bg in streams.items():
            results[name] = bg.result(timeout=20)
        lan_echo.stop()
    gens = [int(re.search(r"generation (\d+)", p.stdout).group(1)) for p in replies]
    assert gens == list(range(gens[0], gens[0] + 50)), f"table generations {gens}"
    # for a failure: where packets were lost (a starved worker shows as nic_missed)
    why = (f"\nshow drops nonzero:\n{router.ctl('show', 'drops', 'nonzero')}"
           f"nic_missed: { {z: p['nic_missed'] for z, p in ports_by_zone(router).items()} }")
    for name, res in results.items():
        assert res["error"] is None, f"the {name} TCP stream broke during the reloads: {res}{why}"
        assert res["match"], f"the echo of the {name} stream differs from what was sent"
        assert res["sent"] == res["received"] and res["sent"] > 100000, (name, res)
    assert fw.get(fwd_stmt) == 1, f"the forwarded stream's session is not counted after the reloads: {fw}"
    # one session carried each stream from start to end (not one re-made on
    # the way): it counted at least every full-size segment of both directions
    for name, kind, field in (("napt", "napt", "client_port"), ("forward", "forward", "remote_port")):
        port = results[name]["local"][1]
        rows = [r for r in sessions(router, "proto", "tcp", "port", str(port))
                if r[field] == port and r["kind"] == kind]
        assert len(rows) == 1, f"{name} stream (port {port}): sessions {rows}"
        least = 2 * (results[name]["sent"] // 1460)
        counted = rows[0]["packets_out"] + rows[0]["packets_in"]
        assert counted >= least, f"the {name} stream's session counted {counted} packets, fewer than {least}: {rows[0]}"
    assert pings, "no ping ran"
    bad = [p.stdout for p in pings if p.returncode != 0 or " 50 received" not in p.stdout
           or " 0% packet loss" not in p.stdout]
    assert not bad, f"{len(bad)} of {len(pings)} runs of 50 pings lost packets during the reloads:\n{bad[0]}{why}"


# ------------------------------------------------------------------ capture


def tcpdump_lines(path):
    p = T.run(["tcpdump", "-n", "-e", "-r", str(path)], timeout=10, check=False)
    if p.returncode != 0:
        return None
    return [ln for ln in p.stdout.splitlines() if ln.strip()]


def test_capture_writes_a_pcap_tcpdump_reads(router):
    d = tempfile.mkdtemp(prefix="ipsh-e2e-cap-")
    try:
        path = os.path.join(d, "wan.pcap")
        out = router.ctl("capture", "wan", "count", "10", "filter", "icmp", "file", path)
        assert path in out, out
        p = T.nsrun(T.INET, ["ping", "-n", "-c", "5", "-i", "0.2", "-w", "6", T.WAN_IP], timeout=12, check=False)
        assert p.returncode == 0, p.stdout
        lines = wait_until(lambda: (lambda ls: ls if ls is not None and len(ls) >= 10 else None)(
            tcpdump_lines(path)), 10)
        assert lines, f"the capture file never held 10 packets: {tcpdump_lines(path)}"
        # more ICMP after the count is reached is not written
        ping(T.INET, T.WAN_IP, count=2)
        time.sleep(0.3)
        lines = tcpdump_lines(path)
        assert len(lines) == 10, "\n".join(lines)
        wan0, gw = T.mac_of(T.ROUTER, T.R_WAN), T.mac_of(T.WANGW, T.GW_WAN)
        pat = re.compile(r" (\S+) > (\S+), ethertype IPv4 \(0x0800\), length \d+: (\S+) > (\S+): ICMP echo (\w+)")
        seen = sorted(m.groups() for m in map(pat.search, lines) if m)
        want = sorted([(gw, wan0, T.INET_IP, T.WAN_IP, "request")] * 5 + [(wan0, gw, T.WAN_IP, T.INET_IP, "reply")] * 5)
        assert seen == want, "tcpdump -e -r:\n" + "\n".join(lines)

        # the next capture may start now; a bad filter is refused
        p = router.daemon.ctl_run("capture", "wan", "count", "1", "filter", "tcp port", "file",
                                  os.path.join(d, "bad.pcap"))
        assert p.returncode == 1 and "bad filter" in p.stderr, p.stderr
    finally:
        shutil.rmtree(d, ignore_errors=True)


CAPTURE_SECONDS = 20  # longer than 2^64 / 10^9 TSC cycles at any clock above 0.93 GHz


def test_capture_for_some_seconds_ends_by_itself(router):
    d = tempfile.mkdtemp(prefix="ipsh-e2e-cap-")
    try:
        path = os.path.join(d, "timed.pcap")
        t0 = time.monotonic()
        router.ctl("capture", "wan", "seconds", CAPTURE_SECONDS, "filter", "icmp", "file", path)
        p = T.nsrun(T.INET, ["ping", "-n", "-c", "3", "-i", "0.2", "-w", "5", T.WAN_IP], timeout=10, check=False)
        assert p.returncode == 0, p.stdout
        # the file is complete (flushed and closed) once the capture has ended
        left = CAPTURE_SECONDS + 6 - (time.monotonic() - t0)
        lines = wait_until(lambda: (lambda ls: ls if ls is not None and len(ls) >= 6 else None)(
            tcpdump_lines(path)), left, interval=0.5)
        took = time.monotonic() - t0
        assert lines, f"the {CAPTURE_SECONDS}-second capture had not ended after {took:.0f} s"
        assert len(lines) == 6, "\n".join(lines)
        ping(T.INET, T.WAN_IP, count=2)
        time.sleep(0.3)
        assert len(tcpdump_lines(path)) == 6, "packets written after the capture ended"
        out = router.ctl("capture", "wan", "count", "1", "filter", "icmp", "file", os.path.join(d, "next.pcap"))
        assert "capturing" in out
        ping(T.INET, T.WAN_IP, count=1)  # ends it
    finally:
        shutil.rmtree(d, ignore_errors=True)


# ------------------------------------------------------------------ DPDK telemetry


def telemetry(file_prefix, *commands):
    """dpdk-telemetry.py -f PREFIX, commands on its stdin; the JSON answers merged."""
    p = T.run(["dpdk-telemetry.py", "-f", file_prefix], input="".join(c + "\n" for c in commands),
              timeout=20, check=False)
    assert p.returncode == 0, f"dpdk-telemetry.py: exit {p.returncode}\n{p.stdout}{p.stderr}"
    merged = {}
    for ln in p.stdout.splitlines():
        ln = ln.strip()
        if ln.startswith("{"):
            merged.update(json.loads(ln))
    return merged, p.stdout


def test_dpdk_telemetry_shows_ipshare_counters(router, traffic):
    before = ports_by_zone(router)
    got, raw = telemetry(router.daemon.file_prefix, "/ipshare/counters", "/ipshare/drops")
    after = ports_by_zone(router)
    assert "/ipshare/counters" in got, f"no /ipshare/counters in:\n{raw}"
    c = got["/ipshare/counters"]
    for zone in ("wan", "lan", "dmz"):
        for k in ("rx", "tx", "dropped"):
            key = f"{zone}_{k}"
            assert key in c, f"{key} missing from /ipshare/counters: {sorted(c)}"
            assert before[zone][k] <= c[key] <= after[zone][k], (
                f"{key} = {c[key]}, show ports said {before[zone][k]} then {after[zone][k]}")
    assert c["lan_rx"] > 0 and c["wan_tx"] > 0
    assert "/ipshare/drops" in got, f"no /ipshare/drops in:\n{raw}"
    assert list(got["/ipshare/drops"]) == declared_drop_reasons()


def test_dpdk_telemetry_shows_active_sessions(router, traffic):
    for _ in range(3):  # a session may expire in between: then ask again
        want = {p: session_count(router, "proto", p) for p in ("tcp", "udp", "icmp")}
        total = session_count(router)
        got, raw = telemetry(router.daemon.file_prefix, "/ipshare/sessions")
        if want == {p: session_count(router, "proto", p) for p in ("tcp", "udp", "icmp")}:
            break
    assert "/ipshare/sessions" in got, f"no /ipshare/sessions in:\n{raw}"
    s = got["/ipshare/sessions"]
    assert want["tcp"] >= 2, want  # client1's and client2's connections
    for p, n in want.items():
        assert s.get(p) == n, f"telemetry {p} {s.get(p)}, show sessions count proto {p} says {n}"
    assert s.get("total") == total, f"telemetry {s}, show sessions count {total}"


# ------------------------------------------------------------------ many clients


def test_fifty_concurrent_cli_clients(router):
    n = 50
    barrier = threading.Barrier(n, timeout=20)

    def one(_):
        barrier.wait()
        return router.daemon.ctl_run("show", "ports", "--json", timeout=30)

    with concurrent.futures.ThreadPoolExecutor(n) as ex:
        results = list(ex.map(one, range(n)))
    bad = [f"exit {p.returncode}: {p.stderr.strip()}" for p in results if p.returncode != 0]
    assert not bad, f"{len(bad)} of {n} ipsharectl runs failed: {bad[:3]}"
    for p in results:
        assert [z["zone"] for z in json.loads(p.stdout)["ports"]] == ["wan", "lan", "dmz"]


def test_fifty_raw_clients_at_once_and_pipelining(router):
    conns = [CtlConn(router.daemon.socket_path) for _ in range(50)]
    try:
        for c in conns:
            c.send("show ports\n")
        for i, c in enumerate(conns):
            lines = c.reply()
            assert lines and lines[0] == "ok", f"client {i}: {lines[:3]}"
            assert [ln.split()[0] for ln in lines[2:]] == ["wan", "lan", "dmz"], lines
        # the daemon serves at most 64 clients: the next one is told so
        extra = [CtlConn(router.daemon.socket_path) for _ in range(14)]
        conns += extra
        over = CtlConn(router.daemon.socket_path)
        try:
            lines = over.reply()
            assert lines == ["error: too many control connections (at most 64)"], lines
            assert over.closed_by_peer(5)
        finally:
            over.close()
        for c in extra:
            c.close()
        for c in extra:
            conns.remove(c)
        # and once some leave, newcomers are served again
        def newcomer():
            c = CtlConn(router.daemon.socket_path)
            try:
                return c.request("show sessions count")
            finally:
                c.close()
        lines = wait_until(lambda: (lambda ls: ls if ls[0] == "ok" else None)(newcomer()), 3)
        assert lines, f"after 14 clients left, a newcomer still gets {newcomer()}"
        # requests on one connection are answered in order
        c = conns[0]
        c.send("show sessions count\nfrobnicate\nshow sessions count --json\n")
        first, second, third = c.reply(), c.reply(), c.reply()
        assert first[0] == "ok" and first[1].isdigit(), first
        assert second[0].startswith("error: unknown command 'frobnicate'"), second
        assert third[0] == "ok" and "count" in json.loads("\n".join(third[1:])), third
    finally:
        for c in conns:
            c.close()


# ------------------------------------------------------------------ bad input


def test_unknown_command_gets_an_error_and_the_connection_stays(router):
    c = CtlConn(router.daemon.socket_path)
    try:
        lines = c.request("frobnicate the router")
        assert len(lines) == 1 and lines[0].startswith("error: unknown command 'frobnicate'"), lines
        lines = c.request("show sessions count")
        assert lines[0] == "ok" and lines[1].isdigit(), lines
    finally:
        c.close()
    p = router.daemon.ctl_run("frobnicate")
    assert p.returncode == 1 and p.stderr.startswith("error: unknown command"), (p.returncode, p.stderr)
    p = router.daemon.ctl_run("show", "sessions", "proto", "bogus")
    assert p.returncode == 1 and "bad protocol 'bogus'" in p.stderr, p.stderr


def test_oversized_line_gets_an_error_and_the_connection_closes(router):
    limit = 4096
    # exactly the limit is a request like any other
    c = CtlConn(router.daemon.socket_path)
    try:
        line = "show sessions count".ljust(limit)
        lines = c.request(line)
        assert lines[0] == "ok" and lines[1].isdigit(), lines
    finally:
        c.close()
    for payload in (b"show ports " + b"x" * (limit - 10) + b"\n",  # one byte over, with its LF
                    b"show " + b"y" * 20000):                      # no LF at all
        c = CtlConn(router.daemon.socket_path)
        try:
            c.send(payload)
            lines = c.reply()
            assert lines == [f"error: line too long (at most {limit} bytes)"], lines
            assert c.closed_by_peer(5), "the connection stayed open after an oversized line"
        finally:
            c.close()
    assert router.ctl("show", "sessions", "count").strip().isdigit()


def test_clients_that_vanish_mid_reply_disturb_nothing(router, services):
    # many sessions, for a reply far larger than a socket buffer
    n = 1200
    # one datagram per source port 20000.. (UDP checksum 0: none), 300 per send-ip run
    tmpl = bytes(IP(src=T.CLIENT1_IP, dst=T.INET_IP) / UDP(sport=0, dport=DISCARD_PORT, chksum=0) / Raw(b"many"))
    pkts = [tmpl[:20] + (20000 + i).to_bytes(2, "big") + tmpl[22:] for i in range(n)]
    for i in range(0, n, 300):
        T.helper(T.CLIENT1, ["send-ip"] + [a for p in pkts[i:i + 300] for a in ("--packet", p.hex())])
    filt = ("remote", T.INET_IP, "port", str(DISCARD_PORT))
    assert wait_until(lambda: session_count(router, *filt) >= n - 20, 5), (
        f"only {session_count(router, *filt)} of {n} UDP sessions")
    total = session_count(router, *filt)
    try:
        probe = CtlConn(router.daemon.socket_path)
        probe.send(f"show sessions limit {n} --json\n")
        size = len("\n".join(probe.reply(timeout=20)))
        probe.close()
        assert size > 200000, f"the reply is only {size} bytes"
        text = router.ctl("show", "sessions", *filt, "limit", "10")
        assert len(table(text)) == 10 and text.splitlines()[-1] == f"... {total - 10} more", text

        for i in range(20):
            c = CtlConn(router.daemon.socket_path)
            c.send(f"show sessions limit {n} --json\n")
            if i % 2:
                c.s.recv(100)  # a little of the reply, then gone
            if i % 4 == 3:  # an abortive close (RST)
                c.s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()

        # a client that sends without reading stalls only itself, and loses nothing
        slow = CtlConn(router.daemon.socket_path)
        try:
            for _ in range(5):
                slow.send(f"show sessions limit {n} --json\n")
            time.sleep(0.5)
            assert session_count(router, *filt) == total  # another client, answered meanwhile
            for i in range(5):
                lines = slow.reply(timeout=20)
                assert lines[0] == "ok", lines[:2]
                assert len(json.loads("\n".join(lines[1:]))["sessions"]) == min(n, total), f"reply {i}"
        finally:
            slow.close()

        # the next client is answered, the daemon is alive, traffic flows
        assert session_count(router, *filt) == total
        assert router.daemon.running()
        p = ping(T.CLIENT2, T.INET_IP, count=3)
        assert p.returncode == 0, f"client2 -> inet ping after the vanished clients:\n{p.stdout}"
        c = CtlConn(router.daemon.socket_path)
        try:
            lines = c.request(f"show sessions limit {n}", timeout=20)
            assert lines[0] == "ok" and len(lines) >= total + 2, len(lines)
        finally:
            c.close()
    finally:
        out = router.ctl("flush", "sessions", *filt)
    assert out.strip() == f"flushed {total} sessions", out


# ------------------------------------------------------------------ the socket itself


class DaemonAt(T.Daemon):
    """ipshare with its control socket at a given path."""

    def __init__(self, socket_path, **kw):
        super().__init__(**kw)
        self._socket = socket_path

    @property
    def socket_path(self):
        return self._socket


class DaemonOnSocket(DaemonAt):
    """A second ipshare on `socket_path`, with its own file prefix and null
    ports (net_null vdevs), so that only the control socket is shared."""

    def __init__(self, socket_path):
        super().__init__(socket_path, config_text=T.DEFAULT_CONFIG.replace("net_af_packet", "net_null"))

    def argv(self):
        return [str(self.binary), "-l", "0", "--no-huge", "-m", "256", "--no-pci",
                "--file-prefix", self.file_prefix,
                "--vdev", "net_null0", "--vdev", "net_null1", "--vdev", "net_null2",
                "--", "--config", self.config_path, "--socket", self.socket_path]


def test_second_daemon_on_the_same_socket_refuses_to_start(router):
    path = router.daemon.socket_path
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode), f"{path} is not a socket"
    assert stat.S_IMODE(st.st_mode) == 0o600, f"socket mode {oct(stat.S_IMODE(st.st_mode))}, expected 0600"

    second = DaemonOnSocket(path)
    try:
        second.start(wait_ready=False)
        rc = second.wait_exit(20)
        out, err = second.stdout, second.stderr
    finally:
        second.stop(timeout=5)
    assert rc is not None, "the second ipshare was still running after 20 s"
    assert rc != 0, f"the second ipshare exited {rc}\n{out}{err}"
    assert path in err and "another ipshare is running" in err, f"stderr does not name the socket:\n{err}"
    assert T.READY not in out, "the second ipshare printed ready"

    # the first one still owns its socket, and still routes
    st2 = os.lstat(path)
    assert st2.st_ino == st.st_ino and stat.S_IMODE(st2.st_mode) == 0o600, "the socket file was replaced"
    assert router.ctl("show", "sessions", "count").strip().isdigit()
    p = ping(T.CLIENT1, T.INET_IP, count=2)
    assert p.returncode == 0, p.stdout

    p = T.ctl_run(os.path.join(os.path.dirname(path), "nobody-here.sock"), "show", "ports")
    assert p.returncode == 2 and "cannot connect" in p.stderr, (p.returncode, p.stderr)


def test_file_that_is_not_a_socket_is_left_alone(router, tmp_path):
    path = tmp_path / "ipshare.sock"
    path.write_text("not a socket\n")
    second = DaemonOnSocket(str(path))
    try:
        second.start(wait_ready=False)
        rc = second.wait_exit(20)
        err = second.stderr
    finally:
        second.stop(timeout=5)
    assert rc is not None and rc != 0, f"ipshare started over a regular file (exit {rc})"
    assert f"{path} exists and is not a socket" in err, err
    assert path.read_text() == "not a socket\n", "the file was changed"


def test_socket_left_by_a_dead_daemon_is_taken_over_and_removed_at_exit(router):
    d = tempfile.mkdtemp(prefix="ipsh-e2e-stale-")
    path = os.path.join(d, "ipshare.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)  # a socket file nobody listens on, as a killed daemon leaves it
    s.close()
    try:
        with router.stopped():
            daemon = DaemonAt(path, config_text=router.config_text)
            try:
                daemon.start(timeout=30)
                st = os.lstat(path)
                assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
                assert [p["zone"] for p in T.ctl(path, "show", "ports", json=True)["ports"]] == ["wan", "lan", "dmz"]
                p = ping(T.CLIENT1, T.INET_IP, count=2)
                assert p.returncode == 0, p.stdout
            finally:
                rc = daemon.stop()
            assert rc == 0, f"ipshare exited {rc}"
            assert not os.path.lexists(path), "ipshare left its socket file behind at exit"
    finally:
        shutil.rmtree(d, ignore_errors=True)
