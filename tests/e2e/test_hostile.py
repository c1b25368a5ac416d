"""Hostile traffic: floods, spoofing and packets aimed at the router itself.

Each attack is sent as raw Ethernet frames (nshelper l2burst) from the
namespace an attacker would sit in, measured with the daemon's counters,
and checked from the user's side: what reached the LAN, what left on the
wan wire, and that legitimate traffic kept flowing while it ran.

The daemon runs, for this whole module, the reference configuration plus
HOSTILE below: a small session table (so that its quarter, the half-open
limit, is reachable), a small per-client cap, and two TCP forwards: one to
a target that answers (client2's web server) and one to a target that never
answers the flood (client1 has a blackhole route for the flood's spoofed
sources, so its SYN-ACKs never leave).

Rate limits (docs/architecture.md, per worker, one worker here): echo
replies and ARP replies 1000/s burst 100, ICMP errors 100/s burst 50.
"""

import contextlib
import os
import random
import tempfile
import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import topology as T
from test_foundation import ping, sniffing, tcp_exchange
from test_napt import inet, wait_until  # noqa: F401 (inet: a fixture)

pytestmark = pytest.mark.ipshare_only

SESSIONS = 256            # napt sessions: the half-open limit is a quarter of it
CLIENT_CAP = 64           # napt ports-per-client
ANSWERING_FWD, ANSWERING_PORT = 8080, 80    # -> client2:80, a listening server
SILENT_FWD, SILENT_PORT = 8081, 81          # -> client1:81, SYN-ACKs blackholed
FLOOD_NET = "198.18.0.0/15"                 # the SYN flood's spoofed sources

HOSTILE = f"""
napt sessions {SESSIONS}
napt ports-per-client {CLIENT_CAP}
forward tcp {ANSWERING_FWD} to {T.CLIENT2_IP} port {ANSWERING_PORT}
forward tcp {SILENT_FWD} to {T.CLIENT1_IP} port {SILENT_PORT}
"""

ECHO_RATE, ECHO_BURST = 1000, 100
ARP_RATE, ARP_BURST = 1000, 100
ERR_RATE, ERR_BURST = 100, 50
BCAST = "ff:ff:ff:ff:ff:ff"


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module", autouse=True)
def hostile_daemon(router):
    with router.configured(HOSTILE):
        yield router


def mac(ns, dev):
    return T.mac_of(ns, dev)


def router_mac(zone):
    return mac(T.ROUTER, T.ROUTER_PORTS[zone])


def burst_args(dev, frames, count=1, linger=1.0, keep=20000):
    """nshelper l2burst arguments; the frames go through a file (argv is
    too small for thousands), removed by burst_done()."""
    fd, path = tempfile.mkstemp(prefix="ipsh-e2e-frames-", suffix=".hex")
    with os.fdopen(fd, "w") as f:
        f.write("".join(bytes(fr).hex() + "\n" for fr in frames))
    return ["l2burst", "--iface", dev, "--count", count, "--linger", linger, "--keep", keep,
            "--frames-file", path]


def burst_done(args, res):
    os.unlink(args[-1])
    res["frames"] = [Ether(bytes.fromhex(h)) for h in res["frames"]]
    return res


def burst(ns, dev, frames, count=1, linger=1.0, keep=20000, timeout=60):
    """Send frames (scapy objects) count rounds as fast as possible from
    (ns, dev); returns the l2burst result with the incoming frames parsed."""
    args = burst_args(dev, frames, count, linger, keep)
    try:
        res = T.helper(ns, args, timeout=timeout)
    except Exception:
        os.unlink(args[-1])
        raise
    return burst_done(args, res)


def burst_start(ns, dev, frames, count=1, linger=1.0, name="burst"):
    """The same in the background: (Background, args); finish with burst_finish."""
    args = burst_args(dev, frames, count, linger)
    return T.Background(ns, [T.PY, T.HELPER] + args, name=name).start(), args


def burst_finish(started, timeout=60):
    bg, args = started
    try:
        res = bg.result(timeout=timeout)
    except Exception:
        os.unlink(args[-1])
        raise
    return burst_done(args, res)


def counters(router):
    return router.counters()


def drops_delta(before, after, *reasons):
    return {r: after.drop(r) - before.drop(r) for r in reasons}


def rx_delta(before, after, zone):
    return after.ports[zone]["rx"] - before.ports[zone]["rx"]


def sessions(router, *filters, limit=100000):
    return router.ctl("show", "sessions", *filters, "limit", limit, json=True)["sessions"]


def session_count(router, *filters):
    return router.ctl("show", "sessions", "count", *filters, json=True)["count"]


def session_capacity(router):
    rows = {r["name"]: r for r in router.ctl("show", "memory", json=True)["memory"]}
    return rows["sessions"]["capacity"]


def in_net(addr, net):
    import ipaddress
    return ipaddress.ip_address(addr) in ipaddress.ip_network(net)


@contextlib.contextmanager
def background(ns, args, name):
    bg = T.Background(ns, [T.PY, T.HELPER] + [str(a) for a in args], ready_line="ready", name=name).start()
    try:
        yield bg
    finally:
        bg.stop()


@contextlib.contextmanager
def blackhole(ns, net):
    """A blackhole route in ns for net (removed by its exact spec)."""
    T.run(["ip", "-n", ns, "route", "add", "blackhole", net])
    try:
        yield
    finally:
        T.run(["ip", "-n", ns, "route", "del", "blackhole", net], check=False)


def syn_flood_frames(dport, n, seed):
    rnd = random.Random(seed)
    gw, wan0 = mac(T.WANGW, T.GW_WAN), router_mac("wan")
    frames, seen = [], set()
    while len(frames) < n:
        src = f"198.{18 + rnd.randrange(2)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
        sport = rnd.randrange(1024, 65535)
        if (src, sport) in seen:
            continue
        seen.add((src, sport))
        frames.append(Ether(dst=wan0, src=gw) / IP(src=src, dst=T.WAN_IP, ttl=60)
                      / TCP(sport=sport, dport=dport, flags="S", seq=rnd.randrange(1 << 32), window=1024))
    return frames


def flood_sessions(router):
    return [s for s in sessions(router) if in_net(s["remote_ip"], FLOOD_NET)]


def client_ok(ns, dst, port, timeout=15):
    return T.helper(ns, ["tcp-client", "--dst", dst, "--port", port, "--timeout", timeout], timeout=timeout + 10)


# ------------------------------------------------------------------ SYN flood


def test_syn_flood_to_a_silent_forward_is_bounded_and_short_lived(router):
    """RFC 5382 REQ-4 / nat.md: half-open inbound sessions (syn-in, 6 s) fill
    at most a quarter of the table; the rest of the flood is
    napt_half_open_limit; the LAN keeps its outbound service meanwhile; the
    half-open sessions are gone after their 6 s and the forward serves a
    real client again."""
    n = 400  # af_packet's receive ring holds 512 frames: a burst of 400 is all received
    limit = session_capacity(router) // 4
    router.ctl("flush", "sessions")
    assert ping(T.CLIENT1, T.INET_IP, count=1).returncode == 0  # client1's MAC known: nothing waits for ARP
    router.ctl("flush", "sessions")
    frames = syn_flood_frames(SILENT_FWD, n, seed=1)
    with blackhole(T.CLIENT1, FLOOD_NET), \
            background(T.CLIENT1, ["tcp-echo", "--port", SILENT_PORT, "--timeout", 90], "echo:81"), \
            background(T.INET, ["tcp-echo", "--port", 7030, "--timeout", 90], "inet echo"), \
            sniffing((T.CLIENT1, T.HOST_IF)) as (c1,):
        base = counters(router)
        res = burst(T.WANGW, T.GW_WAN, frames, linger=0.2)
        t_flood = time.monotonic()
        after = counters(router)
        half_open = session_count(router, "state", "syn-in")
        d = drops_delta(base, after, "napt_half_open_limit", "napt_table_full")
        received = rx_delta(base, after, "wan")
        # while the half-open sessions sit there: the LAN's own flows work
        p = ping(T.CLIENT2, T.INET_IP, count=3)
        out = client_ok(T.CLIENT2, T.INET_IP, 7030)
        during = time.monotonic() - t_flood
        syns_at_client1 = c1.frames("in", lambda f: TCP in f and f[TCP].dport == SILENT_PORT
                                    and in_net(f[IP].src, FLOOD_NET))
        # they go away by themselves after the SYN timeout (6 s)
        gone = wait_until(lambda: session_count(router, "state", "syn-in") == 0, 12, interval=0.5)
        gone_after = time.monotonic() - t_flood
        # and the forward serves an internet client again
        real = client_ok(T.INET, T.WAN_IP, SILENT_FWD)
    print(f"SYN flood (silent target): sent {res['sent']}, wan rx {received}, syn-in {half_open} "
          f"(limit {limit}), drops {d}, SYNs at client1 {len(syns_at_client1)}, "
          f"half-open gone after {gone_after:.1f} s")
    assert res["sent"] == n
    assert received >= limit + 100, f"the router received {received} of {n} frames"
    assert half_open == limit, f"{half_open} half-open sessions after {received} SYNs, expected the limit {limit}"
    assert d["napt_half_open_limit"] >= received - limit - 5, d
    assert d["napt_half_open_limit"] + half_open <= received
    assert d["napt_table_full"] == 0, d
    assert 1 <= len(syns_at_client1) <= limit, f"client1 got {len(syns_at_client1)} flood SYNs"
    assert p.returncode == 0, f"client2 could not ping inet during the flood ({during:.1f} s):\n{p.stdout}"
    assert "error" not in out, f"client2 -> inet TCP during the flood: {out}"
    assert gone, "half-open sessions still there 12 s after the flood"
    assert 4.0 <= gone_after <= 12.0, f"half-open sessions gone after {gone_after:.1f} s (expected ~6 s)"
    assert "error" not in real, f"inet -> forward {SILENT_FWD} after the flood: {real}"
    assert real["reply"] == "echo:" + real["sent"]


def test_syn_flood_to_an_answering_forward_does_not_fill_the_table(router):
    """A flood to a forward whose server answers with SYN-ACKs (to spoofed
    sources that never complete the handshake): the sessions are still
    half-open, so they must stay bounded and go away after a short timeout,
    and the LAN's outbound NAPT must keep working."""
    n = 600
    cap = session_capacity(router)
    router.ctl("flush", "sessions")
    frames = syn_flood_frames(ANSWERING_FWD, n, seed=2)
    try:
        with background(T.CLIENT2, ["tcp-echo", "--port", ANSWERING_PORT, "--timeout", 60], "web"):
            base = counters(router)
            burst(T.WANGW, T.GW_WAN, frames, linger=1.0)
            after = counters(router)
            flood = flood_sessions(router)
            states = {}
            for s in flood:
                states[s["state"]] = states.get(s["state"], 0) + 1
            d = drops_delta(base, after, "napt_half_open_limit", "napt_table_full")
            out = client_ok(T.CLIENT1, T.INET_IP, 7999, timeout=3)  # any answer (RST) proves NAPT works
            left = wait_until(lambda: not flood_sessions(router), 15, interval=0.5)
        print(f"SYN flood (answering target): {len(flood)} flood sessions of {cap}, states {states}, drops {d}, "
              f"client1 outbound: {out}")
        assert len(flood) <= cap // 4, f"{len(flood)} sessions for spoofed SYNs ({states}); capacity {cap}"
        assert set(states) <= {"syn-in", "syn-recv"}, f"spoofed SYNs' sessions left the half-open states: {states}"
        assert states.get("syn-recv", 0) > 0, f"the target's SYN-ACKs never reached a session: {states}"
        assert d["napt_half_open_limit"] > 0 and d["napt_table_full"] == 0, d
        assert left, "sessions of the spoofed SYNs still there 15 s after the flood"
    finally:
        router.ctl("flush", "sessions")


HALF_OPEN = {"syn-in", "syn-recv"}


def flow_states(router):
    """{(remote address, remote port): state} of the flood's sessions."""
    return {(s["remote_ip"], s["remote_port"]): s["state"] for s in flood_sessions(router)}


def test_blind_acks_do_not_establish_spoofed_sessions(router):
    """SYNs from spoofed sources to an answering forward, then an ACK for each
    that guesses the target's sequence number (a blind attacker never sees
    the SYN-ACK): the sessions stay half-open and age out in seconds. Only
    the flows whose ACK acknowledges the target's SYN (taken here from the
    wire, as a real peer would) are established (tcp_track, nat.md)."""
    n, real = 40, 4
    router.ctl("flush", "sessions")
    syns = syn_flood_frames(ANSWERING_FWD, n, seed=3)
    gw, wan0 = mac(T.WANGW, T.GW_WAN), router_mac("wan")
    rnd = random.Random(4)

    def after_syn(syn, flags, ack_no=0):
        """The spoofed peer's next segment of the flow `syn` opened."""
        return (Ether(dst=wan0, src=gw) / IP(src=syn[IP].src, dst=T.WAN_IP, ttl=60)
                / TCP(sport=syn[TCP].sport, dport=ANSWERING_FWD, flags=flags, seq=syn[TCP].seq + 1, ack=ack_no,
                      window=1024))

    try:
        with background(T.CLIENT2, ["tcp-echo", "--port", ANSWERING_PORT, "--timeout", 60], "web"), \
                sniffing((T.WANGW, T.GW_WAN)) as (wan,):
            burst(T.WANGW, T.GW_WAN, syns, linger=1.0)
            synacks = {(f[IP].dst, f[TCP].dport): f[TCP].seq
                       for f in wan.wait_for(lambda f: TCP in f and f[TCP].flags == "SA" and f[IP].src == T.WAN_IP
                                             and f[TCP].sport == ANSWERING_FWD, timeout=3, count=n, direction="in")}
            answered = [syn for syn in syns if (syn[IP].src, syn[TCP].sport) in synacks]
            proper_flows = {(syn[IP].src, syn[TCP].sport) for syn in answered[:real]}
            blind = [after_syn(syn, "A", rnd.randrange(1 << 32)) for syn in answered[real:]]
            proper = [after_syn(syn, "A", (synacks[(syn[IP].src, syn[TCP].sport)] + 1) % (1 << 32))
                      for syn in answered[:real]]
            burst(T.WANGW, T.GW_WAN, blind + proper, linger=1.0)
            state_of = flow_states(router)
            t0 = time.monotonic()
            settled = wait_until(lambda: set(flow_states(router)) <= proper_flows, 15, interval=0.5)
            left = flow_states(router)
            after = time.monotonic() - t0
            # Leave nothing behind at the target: a reset (in window) for every
            # flow it answered, before its server closes them (a FIN to an
            # absent peer is retransmitted for minutes, into later tests).
            burst(T.WANGW, T.GW_WAN, [after_syn(syn, "R") for syn in answered], linger=0.5)
        proper_flows_seen = {k: v for k, v in state_of.items() if k in proper_flows}
        blind_seen = {k: v for k, v in state_of.items() if k not in proper_flows}
        print(f"blind ACKs: {len(answered)} of {n} SYNs answered, {len(blind)} blind ACKs; after the ACKs, "
              f"the other flows {sorted(set(blind_seen.values()))}, proper flows {sorted(proper_flows_seen.values())}; "
              f"left after {after:.1f} s: {sorted(left.values())}")
        assert len(answered) >= real + 8, f"the target answered {len(answered)} of {n} spoofed SYNs"
        assert len(state_of) == n, f"{len(state_of)} sessions for {n} SYNs"
        assert set(blind_seen.values()) <= HALF_OPEN, (
            f"sessions of flows without a proper ACK (blind, or never answered): {blind_seen}")
        # a proper ACK completes the handshake (the target may then close or reset it: any state past it)
        assert len(proper_flows_seen) == real and not set(proper_flows_seen.values()) & HALF_OPEN, (
            f"sessions of flows with the right ACK: {proper_flows_seen}")
        assert settled, f"the blind ACKs' sessions were still there 15 s later: {left}"
        assert set(left) == proper_flows, left
    finally:
        router.ctl("flush", "sessions")
    # and the target sends the spoofed sources nothing more
    with sniffing((T.WANGW, T.GW_WAN)) as (wan,):
        time.sleep(3)
        late = wan.frames("in", lambda f: IP in f and in_net(f[IP].dst, FLOOD_NET))
    assert not late, f"still sent to the spoofed sources after the test: {[f.summary() for f in late[:3]]}"


# ------------------------------------------------------------------ a LAN client opening sessions fast


def test_lan_client_opening_sessions_fast_hits_its_cap_only(router, inet):  # noqa: F811
    n = 400
    router.ctl("flush", "sessions")
    c1, lan0 = mac(T.CLIENT1, T.HOST_IF), router_mac("lan")
    frames = [Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.INET_IP) / UDP(sport=20000 + i, dport=7001)
              / Raw(b"capflood") for i in range(n)]
    with sniffing((T.WANGW, T.GW_WAN)) as (wan,):
        base = counters(router)
        started = burst_start(T.CLIENT1, T.HOST_IF, frames, linger=2.0, name="cap flood")
        # client2, meanwhile: pings and 20 new UDP flows
        p = ping(T.CLIENT2, T.INET_IP, count=5)
        many = T.helper(T.CLIENT2, ["udp-many", "--dst", T.INET_IP, "--port", 7002, "--count", 20,
                                    "--token", "c2", "--timeout", 20], timeout=30)
        res = burst_finish(started)
        after = counters(router)
        time.sleep(0.3)
        out_c1 = wan.frames("in", lambda f: UDP in f and f[IP].src == T.WAN_IP and bytes(f[UDP].payload)[:8]
                            == b"capflood")
        leaked = wan.frames("in", lambda f: IP in f and (in_net(f[IP].src, T.LAN_NET)
                                                          or in_net(f[IP].dst, T.LAN_NET)))
    c1_sessions = session_count(router, "client", T.CLIENT1_IP)
    router.ctl("flush", "sessions", "client", T.CLIENT1_IP)  # give client1 its cap back
    d = drops_delta(base, after, "napt_client_cap", "napt_table_full", "napt_ports_exhausted")
    received = rx_delta(base, after, "lan")
    unreach = [f for f in res["frames"] if ICMP in f and f[ICMP].type == 3 and f[ICMP].code == 13 and f[IP].src == T.LAN_IP]
    print(f"client cap: sent {res['sent']} in {res['elapsed']:.3f} s, client1 sessions {c1_sessions}, "
          f"drops {d}, datagrams out on wan {len(out_c1)}, 3/13 back to client1 {len(unreach)}, "
          f"client2 udp {many['ok']}/20")
    assert c1_sessions == CLIENT_CAP, f"client1 holds {c1_sessions} sessions, cap {CLIENT_CAP}"
    assert len(out_c1) == CLIENT_CAP, f"{len(out_c1)} of client1's flood datagrams left on wan"
    assert d["napt_client_cap"] == n - CLIENT_CAP, d
    assert d["napt_table_full"] == 0 and d["napt_ports_exhausted"] == 0, d
    assert 1 <= len(unreach) <= ERR_BURST + ERR_RATE * (res["elapsed"] + 1.0), (
        f"{len(unreach)} ICMP 3/13 for {d['napt_client_cap']} refused datagrams in {res['elapsed']:.2f} s")
    assert p.returncode == 0, f"client2's ping failed while client1 flooded:\n{p.stdout}"
    assert many["ok"] == 20, f"client2's new UDP flows: {many}"
    assert session_count(router, "client", T.CLIENT2_IP) >= 20
    assert not leaked, f"a LAN address appeared on the wan wire: {leaked[0].summary()}"


# ------------------------------------------------------------------ ARP


def neighbours(router):
    return router.ctl("show", "neighbours", json=True)["neighbours"]


def test_arp_spoofing_from_the_lan_and_wan_is_not_learnt(router):
    """ARP claiming the router's own addresses (lan-ip, wan-ip), the wan
    gateway, an internet host or the LAN's network/broadcast address, from
    the LAN, the wan and the dmz: the router's neighbour table learns none of
    it. The spoofed frames go to the router's MAC (unicast), so that the
    other hosts' caches are not poisoned: what is tested is the router."""
    # the genuine entries first: the gateway (wan), client1 (lan), the server (dmz)
    assert ping(T.CLIENT1, T.INET_IP, count=2).returncode == 0
    tcp_exchange(T.SERVER, 7040, T.INET, T.WAN_IP)
    before = {(n["zone"], n["address"]): n["mac"] for n in neighbours(router)}
    gw_mac = mac(T.WANGW, T.GW_WAN)
    assert before.get(("wan", T.WAN_GW)) == gw_mac, before
    evil = "02:ee:00:00:66:01"  # sent from client2's port, as no host of the LAN
    lan0 = router_mac("lan")
    frames = []
    for claimed in (T.LAN_IP, T.WAN_IP, T.WAN_GW, T.INET_IP, "192.168.1.0", "192.168.1.255"):
        # gratuitous request, gratuitous reply, unsolicited reply to the router
        frames.append(Ether(dst=lan0, src=evil) / ARP(op=1, hwsrc=evil, psrc=claimed, hwdst="00:00:00:00:00:00",
                                                       pdst=claimed))
        frames.append(Ether(dst=lan0, src=evil) / ARP(op=2, hwsrc=evil, psrc=claimed, hwdst=BCAST, pdst=claimed))
        frames.append(Ether(dst=lan0, src=evil) / ARP(op=2, hwsrc=evil, psrc=claimed, hwdst=lan0, pdst=T.LAN_IP))
        # a request the router answers (who-has lan-ip), from the claimed sender
        frames.append(Ether(dst=lan0, src=evil) / ARP(op=1, hwsrc=evil, psrc=claimed, pdst=T.LAN_IP))
    # from the wan: someone claims wan-ip and the LAN's addresses
    wan_evil = "02:ee:00:00:66:02"
    wan0 = router_mac("wan")
    wframes = [Ether(dst=wan0, src=wan_evil) / ARP(op=2, hwsrc=wan_evil, psrc=a, hwdst=BCAST, pdst=a)
               for a in (T.WAN_IP, T.LAN_IP, T.CLIENT1_IP)]
    wframes += [Ether(dst=wan0, src=wan_evil) / ARP(op=2, hwsrc=wan_evil, psrc=a, hwdst=wan0, pdst=T.WAN_IP)
                for a in (T.WAN_IP, T.LAN_IP, T.CLIENT1_IP)]
    # from the dmz: the server claims the gateway and a LAN host
    dmz_evil = "02:ee:00:00:66:03"
    dmz0 = router_mac("dmz")
    dframes = [Ether(dst=dmz0, src=dmz_evil) / ARP(op=2, hwsrc=dmz_evil, psrc=a, hwdst=dmz0, pdst=T.WAN_IP)
               for a in (T.WAN_GW, T.CLIENT1_IP, T.LAN_IP)]
    burst(T.CLIENT2, T.HOST_IF, frames, count=5, linger=0.3)
    burst(T.WANGW, T.GW_WAN, wframes, count=5, linger=0.3)
    burst(T.SERVER, T.HOST_IF, dframes, count=5, linger=0.3)
    time.sleep(0.5)  # learning goes through the control thread
    after = neighbours(router)
    bad = [n for n in after if n["mac"] in (evil, wan_evil, dmz_evil)]
    assert not bad, f"the router learnt spoofed ARP: {bad}"
    now = {(n["zone"], n["address"]): n["mac"] for n in after}
    for key, m in before.items():
        if key in now:
            assert now[key] == m, f"{key} changed from {m} to {now[key]}"
    allowed = {"wan": lambda a: in_net(a, T.WAN_NET) and a not in (T.WAN_IP, "203.0.113.0", "203.0.113.255"),
               "lan": lambda a: in_net(a, T.LAN_NET) and a not in (T.LAN_IP, "192.168.1.0", "192.168.1.255"),
               "dmz": lambda a: a == T.WAN_IP}
    wrong = [k for k in now if not allowed[k[0]](k[1])]
    assert not wrong, f"neighbour entries for addresses that are not hosts of their port: {wrong}"
    # traffic still goes where it should
    with sniffing((T.WANGW, T.GW_WAN), (T.CLIENT2, T.HOST_IF)) as (wan, c2):
        assert ping(T.CLIENT1, T.INET_IP, count=3).returncode == 0
        tcp_exchange(T.SERVER, 7041, T.INET, T.WAN_IP)
        assert ping(T.CLIENT1, T.LAN_IP, count=2).returncode == 0
        time.sleep(0.2)
        to_gw = wan.frames("in", lambda f: IP in f and f[IP].src == T.WAN_IP and ICMP in f)
        stolen = c2.frames("in", lambda f: f.dst == evil)
    assert to_gw and all(f.dst == gw_mac for f in to_gw), [f.dst for f in to_gw]
    assert not stolen, f"traffic for others reached the spoofer: {stolen[0].summary()}"


def flood_lan_ip(router, ns, req, is_reply, rate, burst_size, what, n=3000):
    """n copies of `req` from `ns` as fast as they go; the replies `ns` got,
    the frames the router received on lan, its `ratelimited` rise, and the
    most replies a token bucket of `rate`/s and `burst_size` allows."""
    base = counters(router)
    res = burst(ns, T.HOST_IF, [req], count=n, linger=1.0, keep=n + 100)
    after = counters(router)
    replies = [f for f in res["frames"] if is_reply(f)]
    received = rx_delta(base, after, "lan")
    limited = after.drop("ratelimited") - base.drop("ratelimited")
    bound = burst_size + rate * (res["elapsed"] + 0.5)
    print(f"{what} flood: sent {res['sent']} in {res['elapsed']:.3f} s, router received {received}, "
          f"replies {len(replies)} (bound {bound:.0f}), ratelimited {limited}")
    return res, replies, received, limited, bound


def test_arp_flood_replies_are_rate_limited(router):
    c2 = mac(T.CLIENT2, T.HOST_IF)
    req = Ether(dst=BCAST, src=c2) / ARP(op=1, hwsrc=c2, psrc=T.CLIENT2_IP, pdst=T.LAN_IP)
    res, replies, received, limited, bound = flood_lan_ip(
        router, T.CLIENT2, req, lambda f: ARP in f and f[ARP].op == 2 and f[ARP].psrc == T.LAN_IP,
        ARP_RATE, ARP_BURST, "ARP")
    assert len(replies) <= min(res["sent"], bound), f"{len(replies)} ARP replies to {res['sent']} requests"
    assert len(replies) >= 1
    assert limited >= received - len(replies) - 20, f"ratelimited {limited}, received {received}"
    if received > bound:
        assert limited > 0
    # the neighbour table did not grow: one sender
    assert sum(1 for x in neighbours(router) if x["address"] == T.CLIENT2_IP) <= 1
    assert ping(T.CLIENT1, T.INET_IP, count=2).returncode == 0


# ------------------------------------------------------------------ fragments


def snmp_ip(ns):
    lines = [ln.split() for ln in T.nsrun(ns, ["cat", "/proc/net/snmp"]).stdout.splitlines() if ln.startswith("Ip:")]
    return dict(zip(lines[0][1:], map(int, lines[1][1:])))


def test_fragment_flood_is_bounded_and_nothing_leaks(router):
    """Fragments that never complete. On this test bed the af_packet PMD's
    fanout (PACKET_FANOUT_FLAG_DEFRAG) makes the router's kernel reassemble
    before ipshare reads: the kernel holds them (bounded by ipfrag_high_thresh,
    counted in its Ip ReasmReqds), ipshare never sees the fragments, nothing
    reaches the server or the LAN, and legitimate traffic flows meanwhile."""
    n = 1500
    gw, wan0 = mac(T.WANGW, T.GW_WAN), router_mac("wan")
    frames = []
    for i in range(n):
        ident = 0x4000 + i
        if i % 2:  # a first fragment, MF set, its rest never comes
            frames.append(Ether(dst=wan0, src=gw) / IP(src=T.INET_IP, dst=T.WAN_IP, id=ident, flags="MF", proto=17)
                          / Raw(b"\x9c\x40\x1f\x91\x05\xdc\x00\x00" + b"F" * 400))
        else:  # a non-initial fragment of a datagram that never began
            frames.append(Ether(dst=wan0, src=gw) / IP(src=T.INET_IP, dst=T.WAN_IP, id=ident, frag=100,
                                                       flags="MF", proto=17) / Raw(b"G" * 400))
    ids = set(range(0x4000, 0x4000 + n))

    def is_flood(f):  # the flood's id, source and payload: not a legitimate packet whose id happens to match
        return (IP in f and f[IP].id in ids and f[IP].src == T.INET_IP
                and (b"FFFF" in bytes(f[IP].payload) or b"GGGG" in bytes(f[IP].payload)))

    snmp0 = snmp_ip(T.ROUTER)
    with sniffing((T.SERVER, T.HOST_IF), (T.CLIENT1, T.HOST_IF)) as (srv, c1):
        base = counters(router)
        started = burst_start(T.WANGW, T.GW_WAN, frames, linger=0.5, name="frag flood")
        p = ping(T.CLIENT1, T.INET_IP, count=5)
        res = burst_finish(started)
        tcp_exchange(T.SERVER, 7042, T.INET, T.WAN_IP)
        after = counters(router)
        time.sleep(0.3)
        leaked = srv.frames(pred=is_flood) + c1.frames(pred=is_flood)
    snmp1 = snmp_ip(T.ROUTER)
    reasm = snmp1["ReasmReqds"] - snmp0["ReasmReqds"]
    received = rx_delta(base, after, "wan")
    thresh = int(T.nsrun(T.ROUTER, ["sysctl", "-n", "net.ipv4.ipfrag_high_thresh"]).stdout)
    print(f"fragment flood: sent {res['sent']} in {res['elapsed']:.2f} s, kernel ReasmReqds +{reasm}, "
          f"ipshare wan rx +{received}, leaked {len(leaked)}, ipfrag_high_thresh {thresh}")
    assert res["sent"] == n
    assert reasm >= n * 0.9, f"the router's kernel saw {reasm} fragments of {n}"
    assert received < n // 10, f"ipshare received {received} frames: the fragments were not held back"
    assert not leaked, f"{len(leaked)} flood fragments reached the server or the LAN"
    assert p.returncode == 0, f"client1's ping during the flood:\n{p.stdout}"


# ------------------------------------------------------------------ spoofed sources


def _udp(src, dst, dport, ttl=64):
    return IP(src=src, dst=dst, ttl=ttl) / UDP(sport=40000, dport=dport) / Raw(b"spoof")


SPOOF_WAN = [  # (source, destination, expected drop reason), from the internet side
    (T.CLIENT1_IP, T.WAN_IP, "spoofed_source"),
    ("10.1.2.3", T.WAN_IP, "spoofed_source"),
    (T.WAN_IP, T.WAN_IP, "spoofed_source"),
    ("169.254.1.1", T.WAN_IP, "spoofed_source"),
    ("127.0.0.1", T.WAN_IP, "martian_source"),
    ("0.1.2.3", T.WAN_IP, "martian_source"),
    ("224.0.0.5", T.WAN_IP, "martian_source"),
    ("240.0.0.1", T.WAN_IP, "martian_source"),
    ("255.255.255.255", T.WAN_IP, "martian_source"),
    (T.INET_IP, T.CLIENT1_IP, "wan_not_for_us"),
    (T.INET_IP, T.LAN_IP, "wan_not_for_us"),
]
SPOOF_LAN = [  # from client2
    (T.WAN_IP, T.INET_IP, "spoofed_source"),
    ("198.51.100.99", T.INET_IP, "spoofed_source"),
    (T.LAN_IP, T.INET_IP, "spoofed_source"),
    ("192.168.1.255", T.INET_IP, "spoofed_source"),
    ("192.168.1.0", T.INET_IP, "spoofed_source"),
    ("10.0.0.1", T.INET_IP, "spoofed_source"),
    ("127.0.0.1", T.INET_IP, "martian_source"),
    ("0.0.0.0", T.INET_IP, "martian_source"),
    (T.CLIENT2_IP, "192.168.1.255", "martian_destination"),
    (T.CLIENT2_IP, "127.0.0.1", "martian_destination"),
]
SPOOF_DMZ = [  # from the server
    (T.CLIENT1_IP, T.INET_IP, "spoofed_source"),
    (T.INET_IP, T.CLIENT1_IP, "spoofed_source"),
    ("203.0.113.99", T.INET_IP, "spoofed_source"),
    (T.LAN_IP, T.INET_IP, "spoofed_source"),
    ("127.0.0.1", T.INET_IP, "martian_source"),
]


def test_spoofed_sources_on_every_port_are_dropped_and_never_leak(router, inet):  # noqa: F811
    rounds = 3
    plan = []  # (ns, dev, frames, reasons)
    port = 41000
    marks = set()
    for (ns, dev, zone, table) in ((T.WANGW, T.GW_WAN, "wan", SPOOF_WAN), (T.CLIENT2, T.HOST_IF, "lan", SPOOF_LAN),
                                   (T.SERVER, T.HOST_IF, "dmz", SPOOF_DMZ)):
        src_mac, dst_mac = mac(ns, dev), router_mac(zone)
        frames = []
        for src, dst, _ in table:
            frames.append(Ether(dst=dst_mac, src=src_mac) / _udp(src, dst, port))
            marks.add(port)
            port += 1
        plan.append((ns, dev, frames, [r for _, _, r in table]))
    expected = {}
    for _, _, _, reasons in plan:
        for r in reasons:
            expected[r] = expected.get(r, 0) + rounds
    wheres = [(T.WANGW, T.GW_WAN), (T.CLIENT1, T.HOST_IF), (T.SERVER, T.HOST_IF), (T.INET, T.HOST_IF)]
    with sniffing(*wheres) as (wan, c1, srv, inet_s):
        base = counters(router)
        for ns, dev, frames, _ in plan:
            burst(ns, dev, frames, count=rounds, linger=0)
        # positive controls on each path
        tcp_exchange(T.SERVER, 7043, T.INET, T.WAN_IP)            # wan -> dmz
        assert ping(T.CLIENT2, T.INET_IP, count=2).returncode == 0  # lan -> wan
        tcp_exchange(T.INET, 7044, T.SERVER, T.INET_IP)           # dmz -> wan
        time.sleep(0.3)
        after = counters(router)
        lan_on_wan = wan.frames("in", lambda f: (IP in f and (in_net(f[IP].src, T.LAN_NET)
                                                              or in_net(f[IP].dst, T.LAN_NET)))
                                or (ARP in f and (in_net(f[ARP].psrc, T.LAN_NET) or in_net(f[ARP].pdst, T.LAN_NET))))
        marked = {name: s.frames("in", lambda f: UDP in f and f[UDP].dport in marks and f.haslayer(Raw)
                                 and bytes(f[Raw]) == b"spoof")
                  for name, s in (("client1", c1), ("server", srv), ("inet", inet_s), ("wan", wan))}
        marked["wan"] = wan.frames("in", lambda f: UDP in f and f[UDP].dport in marks)
    d = drops_delta(base, after, *expected)
    print(f"spoofed sources: expected {expected}, counted {d}")
    assert d == expected, f"drop counters {d}, expected {expected}"
    assert not lan_on_wan, f"a LAN address appeared on the wan wire: {lan_on_wan[0].summary()}"
    for name, got in marked.items():
        assert not got, f"a spoofed packet reached {name}: {got[0].summary()}"


# ------------------------------------------------------------------ traffic aimed at the router


def test_router_answers_only_what_it_should(router):
    c1, lan0 = mac(T.CLIENT1, T.HOST_IF), router_mac("lan")
    gw, wan0 = mac(T.WANGW, T.GW_WAN), router_mac("wan")
    bad_icmp = IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / ICMP(type=8, id=7, seq=1, chksum=0x1234) / Raw(b"x" * 8)
    lan_frames = [  # (frame, expected reason)
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / UDP(sport=5000, dport=53), "to_router_unhandled"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / TCP(sport=5001, dport=22, flags="S"),
         "to_router_unhandled"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / TCP(sport=5002, dport=80, flags="A"),
         "to_router_unhandled"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP, proto=47) / Raw(b"\0" * 8),
         "to_router_unhandled"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / ICMP(type=13, id=1), "to_router_unhandled"),
        (Ether(dst=lan0, src=c1) / bad_icmp, "icmp_bad_checksum"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst="192.168.1.255") / ICMP(type=8, id=8),
         "martian_destination"),
        (Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst="255.255.255.255") / ICMP(type=8, id=9),
         "martian_destination"),
        (Ether(dst=BCAST, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / ICMP(type=8, id=10), "l2_not_for_us"),
        (Ether(dst="02:ee:00:00:99:99", src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / ICMP(type=8, id=11),
         "l2_not_for_us"),
    ]
    wan_frames = [
        (Ether(dst=wan0, src=gw) / IP(src=T.INET_IP, dst="203.0.113.77") / ICMP(type=8, id=12), "wan_not_for_us"),
        (Ether(dst=wan0, src=gw) / IP(src=T.INET_IP, dst="198.51.100.99") / UDP(sport=1, dport=2), "wan_not_for_us"),
        (Ether(dst=wan0, src=gw) / IP(src=T.INET_IP, dst="203.0.113.255") / ICMP(type=8, id=13), "wan_not_for_us"),
        (Ether(dst=BCAST, src=gw) / IP(src=T.INET_IP, dst=T.WAN_IP) / ICMP(type=8, id=14), "l2_not_for_us"),
    ]
    rounds = 3
    expected = {}
    for _, r in lan_frames + wan_frames:
        expected[r] = expected.get(r, 0) + rounds
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        base = counters(router)
        rl = burst(T.CLIENT1, T.HOST_IF, [f for f, _ in lan_frames], count=rounds, linger=1.0)
        rw = burst(T.WANGW, T.GW_WAN, [f for f, _ in wan_frames], count=rounds, linger=1.0)
        after = counters(router)
        to_server = srv.frames("in", lambda f: IP in f and f[IP].src in (T.CLIENT1_IP, T.INET_IP) and (
            ICMP in f and f[ICMP].id in range(7, 15) or UDP in f and f[UDP].dport in (2, 53)))
    answers = [f for f in rl["frames"] if f.src == lan0 and IP in f] + [f for f in rw["frames"]
                                                                         if f.src == wan0 and IP in f]
    d = drops_delta(base, after, *expected)
    print(f"to the router: counted {d}; answers {[f.summary() for f in answers]}")
    assert not answers, f"the router answered: {[f.summary() for f in answers]}"
    assert d == expected, f"drops {d}, expected {expected}"
    assert not to_server, f"passed to the server: {to_server[0].summary()}"
    # and what it does answer, it answers
    assert ping(T.CLIENT1, T.LAN_IP, count=2).returncode == 0


def test_echo_flood_to_lan_ip_is_rate_limited(router):
    c1, lan0 = mac(T.CLIENT1, T.HOST_IF), router_mac("lan")
    req = Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.LAN_IP) / ICMP(type=8, id=0x4242, seq=1) / Raw(b"p" * 32)
    res, replies, received, limited, bound = flood_lan_ip(
        router, T.CLIENT1, req, lambda f: ICMP in f and f[ICMP].type == 0 and f[IP].src == T.LAN_IP,
        ECHO_RATE, ECHO_BURST, "echo")
    assert 1 <= len(replies) <= min(res["sent"], bound)
    assert limited >= received - len(replies) - 20
    if received > bound:
        assert limited > 0
    assert all(len(bytes(f[ICMP])) == len(bytes(req[ICMP])) for f in replies), "a reply larger than its request"


def test_ttl_expiry_flood_gets_rate_limited_time_exceeded(router):
    n = 2000
    c1, lan0 = mac(T.CLIENT1, T.HOST_IF), router_mac("lan")
    pkt = Ether(dst=lan0, src=c1) / IP(src=T.CLIENT1_IP, dst=T.INET_IP, ttl=1) / UDP(sport=33000, dport=33434) \
        / Raw(b"t" * 64)
    base = counters(router)
    res = burst(T.CLIENT1, T.HOST_IF, [pkt], count=n, linger=1.0, keep=n + 100)
    after = counters(router)
    errs = [f for f in res["frames"] if ICMP in f and f[ICMP].type == 11 and f[IP].src == T.LAN_IP]
    d = drops_delta(base, after, "ttl_exceeded", "ttl_exceeded_silent")
    received = rx_delta(base, after, "lan")
    bound = ERR_BURST + ERR_RATE * (res["elapsed"] + 0.5)
    print(f"TTL flood: sent {res['sent']} in {res['elapsed']:.3f} s, received {received}, time exceeded "
          f"{len(errs)} (bound {bound:.0f}), drops {d}")
    assert 1 <= len(errs) <= min(res["sent"], bound), f"{len(errs)} time exceeded for {res['sent']} datagrams"
    assert d["ttl_exceeded"] == len(errs), d
    assert d["ttl_exceeded"] + d["ttl_exceeded_silent"] >= received - 20, (d, received)
    assert all(len(f[IP]) <= 576 for f in errs)
