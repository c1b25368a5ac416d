"""Two workers: every NAT flow has one owner worker, and packets that arrive
on the other worker's queue are handed to it (dataplane/nat_stage.cc,
ownership). af_packet's qpairs spread flows over the queues with the
kernel's fanout hash, which knows nothing of the NAT: replies land on either
queue, so these tests exercise the handoff both ways. (On this 2-CPU machine
both workers share one CPU: correctness, not speed, is measured here.)"""

import pytest

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import topology as T
from test_foundation import ping
from test_hostile import burst_finish, burst_start, mac, router_mac, session_count
from test_napt import (TCP_ECHO_PORT, agent, assert_one_outside_port_per_inside_endpoint,  # noqa: F401 (inet)
                       in_range, inet, tcp_many_from_both_clients, udp_roundtrip, wait_records)

pytestmark = pytest.mark.ipshare_only

CLIENT_CAP = 256  # napt ports-per-client: 128 a worker, well above what the other tests open per client
CONFIG = f"""
forward tcp 8080 to 192.168.1.12 port 80
napt ports-per-client {CLIENT_CAP}
"""


@pytest.fixture(scope="module")
def two_workers(router, inet):  # noqa: F811
    with router.configured(CONFIG, workers=2):
        yield router


def worker_sessions(router):
    return {int(w["worker"]): int(w["sessions"]) for w in router.ctl("show", "workers", json=True)["workers"]}


def test_both_workers_run(two_workers):
    assert sorted(worker_sessions(two_workers)) == [0, 1]


def test_many_tcp_connections_from_both_clients(two_workers, inet):  # noqa: F811
    per_client = 150
    seen = tcp_many_from_both_clients(7021, per_client, parallel=4)
    assert len(seen) == 2 * per_client
    assert all(s["peer"][0] == T.WAN_IP and in_range(s["peer"][1]) for s in seen)
    assert_one_outside_port_per_inside_endpoint(seen)
    # Flows are owned by both workers (each owner keeps its sessions), and
    # nothing was lost between them.
    per_worker = worker_sessions(two_workers)
    assert all(n > 0 for n in per_worker.values()), f"sessions per worker: {per_worker}"
    c = two_workers.counters()
    assert c.drops["handoff_full"] == 0


def test_mapping_stays_endpoint_independent_across_workers(two_workers, inet):  # noqa: F811
    with agent(T.CLIENT1) as ag:
        ag.open("s", 40600)
        seen = {udp_roundtrip(ag, "s", port, inet, f"w2eim{port}") for port in (7001, 7002, 7003, 7004)}
    assert len(seen) == 1, f"one socket got several outside endpoints: {seen}"
    (addr, port), = seen
    assert addr == T.WAN_IP and in_range(port)


def test_ping_from_both_clients(two_workers):
    for ns in (T.CLIENT1, T.CLIENT2):
        p = ping(ns, T.INET_IP, count=5)
        assert p.returncode == 0, p.stdout


def test_forward_and_hairpin(two_workers):
    srv = T.Background(T.CLIENT2, [T.PY, T.HELPER, "tcp-echo", "--port", 80, "--timeout", 60],
                       ready_line="ready", name="tcp-echo client2:80").start()
    try:
        for ns in (T.INET, T.CLIENT1, T.INET, T.CLIENT1):
            cli = T.helper(ns, ["tcp-client", "--dst", T.WAN_IP, "--port", 8080, "--timeout", 8], timeout=15)
            assert "error" not in cli, f"{ns} -> {T.WAN_IP}:8080: {cli['error']}"
            assert cli["reply"] == "echo:" + cli["sent"]
        seen = wait_records(srv, lambda r: True, timeout=5, count=4)
    finally:
        srv.stop()
    peers = [s["peer"][0] for s in seen]
    assert peers.count(T.INET_IP) == 2, f"client2 saw {peers}"
    hairpinned = [s["peer"] for s in seen if s["peer"][0] == T.WAN_IP]
    assert len(hairpinned) == 2 and all(in_range(p) for _, p in hairpinned), f"client2 saw {peers}"


def test_client_cap_holds_across_workers(two_workers):
    """`napt ports-per-client` limits a client on the whole router, not on
    each worker: client1's endpoints spread over both workers, and together
    they admit exactly the cap (each its half), however many flows it opens."""
    n = 400  # about 200 a worker: both reach their share
    two_workers.ctl("flush", "sessions", "client", T.CLIENT1_IP)  # what the tests before left
    frames = [Ether(dst=router_mac("lan"), src=mac(T.CLIENT1, T.HOST_IF)) / IP(src=T.CLIENT1_IP, dst=T.INET_IP)
              / UDP(sport=20000 + i, dport=7001) / Raw(b"capflood") for i in range(n)]
    base = two_workers.counters()
    res = burst_finish(burst_start(T.CLIENT1, T.HOST_IF, frames, linger=2.0, name="cap flood"))
    held = session_count(two_workers, "client", T.CLIENT1_IP)
    per_worker = worker_sessions(two_workers)
    refused = two_workers.counters().drop("napt_client_cap") - base.drop("napt_client_cap")
    two_workers.ctl("flush", "sessions", "client", T.CLIENT1_IP)
    assert res["sent"] == n, res
    assert held == CLIENT_CAP, f"client1 holds {held} sessions after {n} flows, cap {CLIENT_CAP} ({per_worker} a worker)"
    assert refused == n - CLIENT_CAP, f"napt_client_cap rose by {refused}"
