"""Faults: links that go down and up, a daemon killed with SIGKILL, control
clients that misbehave. After each, service comes back by itself within a
bounded wait, and what was not hit is not disturbed.

The daemon runs the reference configuration (the session-wide `router`).
"""

import os
import random
import signal
import socket
import stat
import time

import pytest

import topology as T
from test_control import CtlConn, DaemonAt
from test_foundation import ping, tcp_exchange

pytestmark = pytest.mark.ipshare_only

RECOVERY_SECONDS = 15.0   # a link back up -> traffic flows again
RESTART_SECONDS = 15.0    # SIGKILL -> a new daemon routes again


def ping_once(ns, dst):
    return T.nsrun(ns, ["ping", "-n", "-c", "1", "-W", "1", dst], timeout=5, check=False).returncode == 0


def wait_service(ns, dst, timeout):
    """Seconds until one ping from ns to dst succeeds (bounded), or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if ping_once(ns, dst):
            return time.monotonic() - t0
    return None


def link(ns, dev, state):
    T.run(["ip", "-n", ns, "link", "set", dev, state])


def port_link(router, zone):
    return {p["zone"]: p["link"] for p in router.ctl("show", "ports", json=True)["ports"]}[zone]


# ------------------------------------------------------------------ links


@pytest.mark.parametrize("ns,dev,zone,probe", [
    (T.ROUTER, T.R_WAN, "wan", (T.CLIENT1, T.INET_IP)),           # the router's own end
    (T.LANSW, "sw-router", "lan", (T.CLIENT2, T.INET_IP)),        # the peer's end (carrier lost)
    (T.ROUTER, T.R_DMZ, "dmz", (T.INET, T.WAN_IP)),               # the server's port
], ids=["wan-router-side", "lan-peer-side", "dmz-router-side"])
def test_link_down_and_up_recovers_by_itself(router, ns, dev, zone, probe):
    src, dst = probe
    assert wait_service(src, dst, 5) is not None, f"{src} -> {dst} did not work before the fault"
    link(ns, dev, "down")
    try:
        time.sleep(1.0)
        down_state = port_link(router, zone)
        lost = not ping_once(src, dst)
    finally:
        link(ns, dev, "up")
    t_up = time.monotonic()
    took = wait_service(src, dst, RECOVERY_SECONDS)
    up_state = port_link(router, zone)
    print(f"link {ns}/{dev} ({zone}): while down '{down_state}', ping lost {lost}; "
          f"back after {took} s, link '{up_state}'")
    assert lost, f"{src} -> {dst} still worked with {ns}/{dev} down"
    assert took is not None, f"{src} -> {dst} did not recover within {RECOVERY_SECONDS} s of {dev} up"
    # `show ports` LINK is what the PMD reports: DPDK 22.11's af_packet sets
    # the link up at start and never updates it (its link_update does
    # nothing), so on this test bed it says "up" throughout; a NIC reports
    # the real state. Only "up" after recovery is asserted.
    assert up_state.startswith("up"), f"show ports says '{up_state}' for {zone} after the link came back"
    # a connection, not only pings
    if zone == "dmz":
        tcp_exchange(T.SERVER, 7050, T.INET, T.WAN_IP)
    else:
        tcp_exchange(T.INET, 7051, src, T.INET_IP)
    assert time.monotonic() - t_up < RECOVERY_SECONDS + 20


# ------------------------------------------------------------------ SIGKILL


@pytest.mark.leaves_sessions
def test_sigkill_and_restart_brings_service_back(router):
    assert ping(T.CLIENT1, T.INET_IP, count=2).returncode == 0
    assert router.ctl("show", "sessions", "count", json=True)["count"] >= 1
    old = router.daemon
    path = old.socket_path
    new = None
    try:
        t0 = time.monotonic()
        old.bg.proc.send_signal(signal.SIGKILL)
        rc = old.bg.wait(10)
        assert rc == -signal.SIGKILL, f"ipshare exited {rc} on SIGKILL"
        assert os.path.lexists(path), "a killed daemon cannot have removed its socket"
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(ConnectionRefusedError):
            stale.connect(path)  # nobody listens on the file the dead daemon left
        stale.close()
        assert not ping_once(T.CLIENT1, T.INET_IP), "traffic still routed with the daemon dead"
        t_start = time.monotonic()
        new = DaemonAt(path, config_text=router.config_text, workers=router.workers).start(timeout=30)
        ready = time.monotonic() - t_start
        count0 = T.ctl(path, "show", "sessions", "count", json=True)["count"]
        took = wait_service(T.CLIENT1, T.INET_IP, RESTART_SECONDS)
        total = time.monotonic() - t0
        st = os.lstat(path)
        print(f"SIGKILL: new daemon ready after {ready:.1f} s, service back {total:.1f} s after the kill, "
              f"sessions at start {count0}")
        assert took is not None, f"no service within {RESTART_SECONDS} s of the new daemon being ready"
        assert count0 == 0, f"the new daemon started with {count0} sessions"
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        # replaced: the new daemon listens on the path (inode numbers may be reused)
        assert T.ctl(path, "show", "sessions", "count", json=True)["count"] >= 1
        tcp_exchange(T.INET, 7052, T.CLIENT2, T.INET_IP)
        tcp_exchange(T.SERVER, 7053, T.INET, T.WAN_IP)
        assert total < 30, f"service back {total:.1f} s after SIGKILL"
        assert new.stop() == 0
        new = None
    finally:
        if new is not None:
            new.stop()
        old._cleanup()
        router.start()


# ------------------------------------------------------------------ control clients


def drops_nonzero(router):
    return {d["reason"]: d["count"] for d in router.ctl("show", "drops", "nonzero", json=True)["drops"]}


def test_misbehaving_control_clients_disturb_nothing(router):
    path = router.daemon.socket_path
    assert ping(T.CLIENT1, T.INET_IP, count=2).returncode == 0
    before_drops = drops_nonzero(router)
    before_sessions = router.ctl("show", "sessions", "count", json=True)["count"]
    before_config = router.ctl("show", "config")
    rnd = random.Random(7)

    # 1. binary garbage, no line end, then gone
    c = CtlConn(path)
    c.send(bytes(rnd.randrange(256) for _ in range(3000)).replace(b"\n", b"x"))
    c.close()
    # 2. half a command, then gone
    c = CtlConn(path)
    c.send(b"flush sess")
    c.close()
    # 3. a command, gone before the reply
    c = CtlConn(path)
    c.send(b"show sessions\nshow config\nshow drops\n")
    c.close()
    # 4. a huge line: an error, and the connection is closed
    c = CtlConn(path)
    try:
        c.send(b"A" * (1 << 20))
    except OSError:
        pass  # the daemon may close while we still write
    closed = c.closed_by_peer(10)
    c.close()
    # 5. control characters and an unknown command: an error each, the connection stays
    c = CtlConn(path)
    r1 = c.request("show\x01 ports")
    r2 = c.request("\xff\xfe garbage \x7f")
    r3 = c.request("show sessions count")
    c.close()
    # 6. a client that sends and never reads stalls only itself
    stall = CtlConn(path)
    try:
        stall.s.setblocking(False)
        sent = 0
        try:
            for _ in range(20000):
                sent += stall.s.send(b"show config\n")
        except (BlockingIOError, OSError):
            pass
        t0 = time.monotonic()
        out = router.ctl("show", "ports", json=True)
        answered = time.monotonic() - t0
    finally:
        stall.close()
    # 7. sixty clients connect and vanish at once
    conns = [CtlConn(path) for _ in range(60)]
    for c in conns:
        c.close()

    p = ping(T.CLIENT1, T.INET_IP, count=2)
    print(f"control garbage: huge line closed {closed}, replies {r1} {r2} {r3}, "
          f"stalled client sent {sent} bytes, another client answered in {answered:.2f} s")
    assert closed, "a 1 MB line did not get the connection closed"
    assert r1 and r1[0].startswith("error:"), r1
    assert r2 and r2[0].startswith("error:"), r2
    assert r3 and r3[0] == "ok", r3
    assert [x["zone"] for x in out["ports"]] == ["wan", "lan", "dmz"]
    assert answered < 5
    assert p.returncode == 0, p.stdout
    assert router.ctl("show", "config") == before_config, "the configuration changed"
    assert router.ctl("show", "sessions", "count", json=True)["count"] >= before_sessions, "sessions were flushed"
    assert drops_nonzero(router) == before_drops, "drop counters changed"
    assert router.daemon.running()
    # no leftover connection blocks the next client
    assert T.ctl_run(path, "show", "memory").returncode == 0
    # the socket file is the same one, root-only
    st = os.lstat(path)
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_unix_socket_is_the_only_control_path(router):
    """No network control port: the daemon's process listens on no TCP or
    UDP socket in any namespace it could reach."""
    pid = router.daemon.bg.proc.pid
    fds = os.listdir(f"/proc/{pid}/fd")
    inodes = set()
    for fd in fds:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = []
    for proto in ("tcp", "udp", "tcp6", "udp6"):
        try:
            with open(f"/proc/{pid}/net/{proto}") as f:
                rows = f.read().splitlines()[1:]
        except FileNotFoundError:
            continue
        for row in rows:
            cols = row.split()
            if cols[9] in inodes:
                listening.append((proto, cols[1]))
    assert not listening, f"ipshare holds IP sockets: {listening}"
    assert any(True for _ in inodes), "no socket at all? the control socket is missing"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(router.daemon.socket_path)
    s.close()
