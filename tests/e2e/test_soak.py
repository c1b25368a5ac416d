"""Soak: thousands of flows opened and closed continuously, for a bounded
time, while the configuration is reloaded and sessions are flushed.

Load (each in its own thread, in a loop until the time is up):
  client1, client2  TCP connections (connect, line, echo, close) and UDP
                    flows (a new socket each) to the internet host; pings
  inet              TCP connections through a forward to client2 and UDP
                    datagrams through a forward to client1
  control           every few seconds, in turn: `reload` (the file is
                    unchanged), `flush sessions proto udp`, `flush sessions
                    proto icmp`, `flush sessions state time-wait`, a
                    run-time `timeout udp` change and back

Duration: IPSHARE_SOAK_SECONDS (default 90, the CI bound); longer runs:
scripts/soak.sh SECONDS.

At the end: every connection and datagram exchange succeeded; no drop
counter rose except those named in EXPECTED_DROPS; all mbufs are back in
the pool; the session table empties once the timeouts run out; the
neighbour table holds what it held before; `show memory` is back to where
it started.

The transitory, UDP and ICMP timeouts and the port rest are short in this
module's configuration: the load opens several hundred flows a second, and
each holds its NAPT port for its timeout plus the port rest. With the
defaults (240 s, 300 s, 120 s) the 4536 ports of the range run out within
seconds (napt_ports_exhausted), which is the configured behaviour, not a
leak; with 5 s + 2 s the range holds the load.
"""

import os
import signal
import threading
import time

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

import topology as T
from conftest import drain_sessions, memory_used, wait_memory_idle
from test_foundation import send_ip
from test_napt import wait_until

pytestmark = pytest.mark.ipshare_only

SOAK_SECONDS = int(os.environ.get("IPSHARE_SOAK_SECONDS", "90"))
TCP_ECHO, UDP_ECHO = 7060, 7061          # on inet
FWD_TCP, FWD_UDP = 9080, 9053            # wan-ip -> client2:9080 (tcp), client1:9053 (udp)

SOAK = f"""
forward tcp {FWD_TCP} to {T.CLIENT2_IP}
forward udp {FWD_UDP} to {T.CLIENT1_IP}
timeout tcp-transitory 5
timeout udp 5
timeout icmp 10
timeout port-rest 2
"""

# Drop reasons the soak may raise, and why. Everything else must stay put.
EXPECTED_DROPS = {
    # `flush sessions proto udp` can fall between inet's datagram to the UDP
    # forward and client1's echo: the echo then leaves as a new NAPT flow
    # (client1:9053 <-> inet:P), and inet's retry to wan-ip:9053 cannot get a
    # forward session, whose inside key that NAPT session holds (a key
    # collision, never overwritten: test_forward_collision_is_counted_as_a_collision);
    # udp-many retries until it gets its echo, so nothing fails. Bounded
    # below by a share of the flows.
    "napt_collision": "key collision after a flush of a forwarded UDP flow",
}


@pytest.fixture(scope="module", autouse=True)
def soak_daemon(router):
    with router.configured(SOAK):
        yield router


class Load:
    """One load generator: calls step() in a loop until the deadline,
    adding up what each step reports."""

    def __init__(self, name, step, deadline):
        self.name, self.step, self.deadline = name, step, deadline
        self.ok = self.failed = self.rounds = 0
        self.errors = []
        self.t = threading.Thread(target=self.run, daemon=True, name=name)

    def run(self):
        while time.monotonic() < self.deadline:
            try:
                ok, failed, errs = self.step()
            except Exception as e:  # a helper that timed out or crashed
                ok, failed, errs = 0, 1, [f"{type(e).__name__}: {e}"]
            self.ok += ok
            self.failed += failed
            self.rounds += 1
            self.errors += errs[: max(0, 5 - len(self.errors))]


def tcp_step(ns, dst, port, count=60):
    def step():
        r = T.helper(ns, ["tcp-many", "--dst", dst, "--port", port, "--count", count, "--parallel", 6,
                          "--timeout", 50], timeout=60)
        return r["ok"], r["failed"] + r.get("not_started", 0), r["errors"]
    return step


def udp_step(ns, dst, port, tag, count=30):
    def step():
        r = T.helper(ns, ["udp-many", "--dst", dst, "--port", port, "--count", count, "--token", tag,
                          "--timeout", 40], timeout=50)
        return r["ok"], r["failed"], [] if not r["failed"] else [f"{r['failed']} UDP exchanges failed"]
    return step


def ping_step(ns):
    def step():
        p = T.nsrun(ns, ["ping", "-n", "-q", "-c", "20", "-i", "0.05", "-w", "10", T.INET_IP], timeout=15,
                    check=False)
        return (1, 0, []) if p.returncode == 0 else (0, 1, [p.stdout[-200:]])
    return step


def control_step(router, state):
    actions = [("reload",), ("flush", "sessions", "proto", "udp"), ("flush", "sessions", "proto", "icmp"),
               ("flush", "sessions", "state", "time-wait"), ("timeout", "udp", "6"), ("timeout", "udp", "5")]

    def step():
        i = state["n"] % len(actions)
        state["n"] += 1
        out = router.ctl(*actions[i])
        if actions[i][0] == "flush":
            state["flushed"] += int(out.split()[1])
        time.sleep(2.0)
        return 1, 0, []
    return step


def test_forward_collision_is_counted_as_a_collision(router):
    """A forwarded UDP flow is flushed; its target then sends to the remote
    first (a NAPT session client1:9053 <-> inet:P); the remote's next
    datagram to wan-ip:9053 needs a forward session whose inside key that
    NAPT session holds: it is dropped as napt_collision, not as a full
    table (the table is nearly empty)."""
    rport = 45123
    srv = T.Background(T.CLIENT1, [T.PY, T.HELPER, "udp-echo", "--port", FWD_UDP, "--timeout", 30],
                       ready_line="ready", name="udp-echo 9053").start()
    try:
        with T.UdpAgent(T.INET) as ag:
            ag.open("s", rport)
            r = ag.xchg("s", T.WAN_IP, FWD_UDP, "collide-1")
            assert r["ok"], f"the forward did not answer: {r}"
            router.ctl("flush", "sessions", "proto", "udp")
            pkt = IP(src=T.CLIENT1_IP, dst=T.INET_IP) / UDP(sport=FWD_UDP, dport=rport) / Raw(b"from-target")
            send_ip(T.CLIENT1, pkt)
            assert wait_until(lambda: router.ctl("show", "sessions", "count", "client", T.CLIENT1_IP, "proto", "udp",
                                                 json=True)["count"] == 1, 3)
            base = router.counters()
            ag.send("s", T.WAN_IP, FWD_UDP, "collide-2")
            time.sleep(0.5)
            after = router.counters()
    finally:
        srv.stop()
        router.ctl("flush", "sessions", "proto", "udp")
    full = after.drop("napt_table_full") - base.drop("napt_table_full")
    collided = after.drop("napt_collision") - base.drop("napt_collision")
    used = router.ctl("show", "memory", json=True)["memory"]
    print(f"collision: napt_collision +{collided}, napt_table_full +{full}; memory {used}")
    assert full == 0, f"napt_table_full rose by {full} with the table nearly empty: {used}"
    assert collided == 1, f"napt_collision rose by {collided} for the one colliding datagram"


def neighbour_set(router):
    return {(n["zone"], n["address"], n["mac"]) for n in router.ctl("show", "neighbours", json=True)["neighbours"]}


def test_soak(router):
    # this test outlives the suite's per-phase watchdog by design (bounded anyway)
    signal.alarm(SOAK_SECONDS + 150)
    bgs = []
    try:
        for ns, args in ((T.INET, ["tcp-echo", "--port", TCP_ECHO]), (T.INET, ["udp-echo", "--port", UDP_ECHO]),
                         (T.CLIENT2, ["tcp-echo", "--port", FWD_TCP]), (T.CLIENT1, ["udp-echo", "--port", FWD_UDP])):
            bgs.append(T.Background(ns, [T.PY, T.HELPER] + args + ["--timeout", SOAK_SECONDS + 120],
                                    ready_line="ready", name=" ".join(args[:2]) + f" {ns}").start())
        # warm up: neighbours known, then the reference readings
        for ns in (T.CLIENT1, T.CLIENT2):
            assert T.nsrun(ns, ["ping", "-n", "-c", "2", "-i", "0.2", T.INET_IP], check=False).returncode == 0
        assert T.nsrun(T.SERVER, ["ping", "-n", "-c", "1", "-W", "2", T.INET_IP], check=False).returncode == 0
        neigh0 = neighbour_set(router)
        mem0 = memory_used(router.daemon)
        base = router.counters()

        deadline = time.monotonic() + SOAK_SECONDS
        state = {"n": 0, "flushed": 0}
        loads = [
            Load("client1 tcp", tcp_step(T.CLIENT1, T.INET_IP, TCP_ECHO), deadline),
            Load("client2 tcp", tcp_step(T.CLIENT2, T.INET_IP, TCP_ECHO), deadline),
            Load("client1 udp", udp_step(T.CLIENT1, T.INET_IP, UDP_ECHO, "c1"), deadline),
            Load("client2 udp", udp_step(T.CLIENT2, T.INET_IP, UDP_ECHO, "c2"), deadline),
            Load("inet tcp fwd", tcp_step(T.INET, T.WAN_IP, FWD_TCP), deadline),
            Load("inet udp fwd", udp_step(T.INET, T.WAN_IP, FWD_UDP, "in"), deadline),
            Load("client1 ping", ping_step(T.CLIENT1), deadline),
            Load("control", control_step(router, state), deadline),
        ]
        peak = {"sessions": 0, "mbufs": 0}
        for ld in loads:
            ld.t.start()
        while time.monotonic() < deadline:
            m = memory_used(router.daemon)
            for k in peak:
                peak[k] = max(peak[k], m.get(k, 0))
            time.sleep(2.0)
        for ld in loads:
            ld.t.join(timeout=90)
        assert not any(ld.t.is_alive() for ld in loads), "a load generator did not finish"
    finally:
        for bg in bgs:
            bg.stop()

    after = router.counters()
    summary = {ld.name: (ld.ok, ld.failed) for ld in loads}
    flows = sum(ld.ok for ld in loads if "ping" not in ld.name and ld.name != "control")
    rose = {r: after.drop(r) - base.drop(r) for r in after.drops if after.drop(r) != base.drop(r)}
    ok_mem, mem_end, _ = wait_memory_idle(router.daemon, timeout=10)
    left = drain_sessions(router.daemon)
    mem1 = memory_used(router.daemon)
    neigh1 = neighbour_set(router)
    print(f"soak {SOAK_SECONDS} s: {flows} flows; per load (ok, failed) {summary}; control actions {state['n']}, "
          f"sessions flushed {state['flushed']}; peak {peak}; drops that rose {rose}; memory before {mem0}, "
          f"after {mem1}; nat_created {after.values.get('nat_created', 0) - base.values.get('nat_created', 0)}")
    for ld in loads:
        assert ld.failed == 0, f"{ld.name}: {ld.failed} failed of {ld.ok + ld.failed}: {ld.errors}"
    assert flows >= 1000 * SOAK_SECONDS // 90 // 2, f"only {flows} flows in {SOAK_SECONDS} s"
    assert state["n"] >= 6, "the control thread's actions did not all run"
    unexpected = {r: n for r, n in rose.items() if r not in EXPECTED_DROPS}
    assert not unexpected, f"drop counters rose: {unexpected}"
    assert sum(rose.values()) <= flows // 200, f"expected drops, but too many: {rose} for {flows} flows"
    assert peak["sessions"] < 100000, f"peak {peak['sessions']} sessions: napt_table_full could be genuine"
    assert ok_mem, f"mbufs not back in the pool: {mem_end}"
    assert left == 0, f"{left} sessions left after the timeouts"
    assert mem1["sessions"] == 0 and mem1["mbufs"] <= mem0["mbufs"] and mem1["neighbour-queue"] == 0, (mem0, mem1)
    assert neigh1 == neigh0, f"neighbour table changed: before {sorted(neigh0)}, after {sorted(neigh1)}"
