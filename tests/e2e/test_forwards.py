"""Port forwards, hairpin NAT and the firewall, seen from the end hosts.

The daemon runs, for this whole module, the reference configuration plus
FORWARDS below: a web server on client2 published as wan-ip:8080, a UDP
service on client1, a port range on client2 for both protocols, and two
wan -> dmz filter rules. Each test sends real traffic (sockets, scapy
captures) and looks at what the other end received: which addresses and
ports arrived, and that nothing arrived where it should not. Negative
checks (X never arrives) come with a positive control on the same path.
Run-time changes (`hairpin source lan`, a filter rule, removing and
re-adding a forward) go through ipsharectl and are undone by the test.
"""

import json
import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.l2 import Ether

import topology as T
from test_foundation import ping, sniffing, tcp_exchange
from test_napt import agent, in_range, inet, records, token, udp_roundtrip, wait_records  # noqa: F401 (fixture)

pytestmark = pytest.mark.ipshare_only

WEB_PORT = 80            # client2's web server
WEB_FWD = 8080           # wan-ip:8080 -> client2:80
UDP_FWD = 5353           # wan-ip:5353 -> client1:5353 (udp)
RANGE = range(27015, 27021)  # wan-ip:27015-27020 -> client2, same ports, tcp and udp
TELNET, REJECTED = 23, 24    # filtered from wan to the server

FORWARDS = f"""
forward tcp {WEB_FWD} to {T.CLIENT2_IP} port {WEB_PORT}
forward udp {UDP_FWD} to {T.CLIENT1_IP}
forward tcp+udp {RANGE[0]}-{RANGE[-1]} to {T.CLIENT2_IP}
filter deny from wan to dmz proto tcp port {TELNET}
filter reject from wan to dmz proto tcp port {REJECTED}
"""

DENY_TELNET = f"filter deny from wan to dmz proto tcp port {TELNET}"
REJECT_24 = f"filter reject from wan to dmz proto tcp port {REJECTED}"


# ------------------------------------------------------------------ fixtures and helpers


@pytest.fixture(scope="module", autouse=True)
def forwards_daemon(router):
    with router.configured(FORWARDS):
        yield router


@pytest.fixture(scope="module")
def web(forwards_daemon):
    """client2's web server: a line echo on port 80 that logs every connection
    (peer and local address as client2 saw them)."""
    bg = T.Background(T.CLIENT2, [T.PY, T.HELPER, "tcp-echo", "--port", WEB_PORT, "--timeout", 900],
                      ready_line="ready", name="web").start()
    try:
        yield bg
    finally:
        bg.stop()


def tcp_echo(ns, port, timeout=120):
    return T.Background(ns, [T.PY, T.HELPER, "tcp-echo", "--port", port, "--timeout", timeout],
                        ready_line="ready", name=f"tcp-echo:{port}@{ns}").start()


def udp_echo(ns, ports, timeout=120):
    args = [T.PY, T.HELPER, "udp-echo", "--timeout", timeout]
    for p in ports:
        args += ["--port", p]
    return T.Background(ns, args, ready_line="ready", name=f"udp-echo@{ns}").start()


def tcp_client(ns, dst, port, timeout=8, bind_port=0):
    return T.helper(ns, ["tcp-client", "--dst", dst, "--port", port, "--bind-port", bind_port,
                         "--timeout", timeout], timeout=timeout + 10)


def udp_client(ns, dst, port, bind_port, timeout=6):
    return T.helper(ns, ["udp-client", "--dst", dst, "--port", port, "--bind-port", bind_port,
                         "--timeout", timeout], timeout=timeout + 10)


def served(bg, sent, timeout=3.0):
    """The connection records of a tcp-echo that received the line `sent`."""
    return wait_records(bg, lambda r: r.get("data") == sent, timeout)


def exchange_ok(cli, what):
    assert "error" not in cli, f"{what}: {cli.get('error')}"
    assert cli["reply"] == "echo:" + cli["sent"], f"{what}: echo mismatch {cli}"


def filter_packets(router, statement):
    rows = router.ctl("show", "filter", json=True)["filters"]
    found = [r for r in rows if r["statement"] == statement]
    assert len(found) == 1, f"show filter has {len(found)} rows {statement!r}: {rows}"
    return found[0]["packets"]


def forward_sessions(router):
    return {f["statement"]: f["sessions"] for f in router.ctl("show", "forwards", json=True)["forwards"]}


def drop_delta(router, base, reason, expected, timeout=3.0):
    """Poll until the drop counter rose by at least expected (bounded); the rise."""
    deadline = time.monotonic() + timeout
    while True:
        d = router.counters().drop(reason) - base.drop(reason)
        if d >= expected or time.monotonic() >= deadline:
            return d
        time.sleep(0.1)


def expect_refused_by_wan_ip(who, addr, sport, dport, got, errs):
    """`who` (at `addr`) sent from a UDP socket on `sport`, connected to
    wan-ip:dport, and was refused: its socket saw ECONNREFUSED, and the one
    ICMP port unreachable it got comes from wan-ip and quotes the datagram
    exactly as `who` sent it."""
    assert [g.get("error") for g in got] == ["ECONNREFUSED"], f"{who}'s connected socket got {got}"
    assert len(errs) == 1, f"{who} got {len(errs)} ICMP errors: {[f.summary() for f in errs]}"
    f = errs[0]
    assert (f[ICMP].code, f[IP].src, f[IP].dst) == (3, T.WAN_IP, addr), f.summary()
    assert (f[IPerror].src, f[IPerror].dst) == (addr, T.WAN_IP), (
        f"the quoted datagram is {f[IPerror].src} -> {f[IPerror].dst}, not as {who} sent it")
    assert (f[UDPerror].sport, f[UDPerror].dport) == (sport, dport), (
        f"quoted ports {f[UDPerror].sport} -> {f[UDPerror].dport}")


def tcp_frames(sniffer, port, direction="in"):
    return sniffer.frames(direction, lambda f: IP in f and TCP in f and port in (f[TCP].sport, f[TCP].dport))


# ------------------------------------------------------------------ forwards from the internet


def test_inet_reaches_the_forwarded_web_server(router, web):
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        cli = tcp_client(T.INET, T.WAN_IP, WEB_FWD)
        exchange_ok(cli, f"inet -> {T.WAN_IP}:{WEB_FWD}")
        seen = served(web, cli["sent"])
        time.sleep(0.2)
        leaked = tcp_frames(srv, WEB_FWD)
    assert cli["peer"] == [T.WAN_IP, WEB_FWD], f"inet's peer is {cli['peer']}"
    assert len(seen) == 1, f"client2's web server logged {len(seen)} connections for {cli['sent']!r}"
    assert seen[0]["local"] == [T.CLIENT2_IP, WEB_PORT], seen[0]
    assert seen[0]["peer"] == [T.INET_IP, cli["local"][1]], (
        f"client2 saw the connection from {seen[0]['peer']}, not inet's own {T.INET_IP}:{cli['local'][1]}")
    assert not leaked, f"the server saw the forwarded connection: {[f.summary() for f in leaked]}"

    stmt = f"forward tcp {WEB_FWD} to {T.CLIENT2_IP} port {WEB_PORT}"
    fw = forward_sessions(router)
    assert fw.get(stmt, 0) >= 1, f"show forwards: {fw}"
    rows = [s for s in router.ctl("show", "sessions", "client", T.CLIENT2_IP, json=True)["sessions"]
            if s["remote_ip"] == T.INET_IP and s["remote_port"] == cli["local"][1]]
    assert len(rows) == 1, f"show sessions: {rows}"
    s = rows[0]
    assert (s["proto"], s["kind"], s["client_port"], s["outside_ip"], s["outside_port"]) == (
        "tcp", "forward", WEB_PORT, T.WAN_IP, WEB_FWD), s


def test_udp_forward_reaches_client1(router):
    c1 = udp_echo(T.CLIENT1, [UDP_FWD], timeout=30)
    srv = udp_echo(T.SERVER, [UDP_FWD], timeout=30)
    try:
        cli = udp_client(T.INET, T.WAN_IP, UDP_FWD, bind_port=45001)
        got = wait_records(c1, lambda r: True)
        at_server = records(srv)
    finally:
        c1.stop()
        srv.stop()
    assert "error" not in cli, f"inet -> {T.WAN_IP}:{UDP_FWD}/udp: {cli['error']}"
    assert cli["peer"] == [T.WAN_IP, UDP_FWD] and cli["reply"] == "hello udp\n", cli
    assert got, "client1 never got the datagram"
    assert {tuple(r["peer"]) for r in got} == {(T.INET_IP, 45001)}, f"client1 saw {got}"
    assert {r["port"] for r in got} == {UDP_FWD}
    assert not at_server, f"the server got the forwarded datagram: {at_server}"


def test_udp_forward_to_a_closed_port_answers_port_unreachable_from_wan_ip(router):
    """Nothing listens on client1:5353: client1's port unreachable goes back
    to inet translated, as from wan-ip about wan-ip:5353, and a connected
    socket on inet sees ECONNREFUSED. No LAN address leaves on wan."""
    tok = token("closed")
    with agent(T.INET) as ag, sniffing((T.INET, T.HOST_IF)) as (isn,):
        ag.open("c", 45002, connect=[T.WAN_IP, UDP_FWD])
        assert ag.send("c", T.WAN_IP, UDP_FWD, tok)["ok"]
        got = ag.recv("c", timeout=2)
        errs = isn.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 3, timeout=2, direction="in")
    expect_refused_by_wan_ip("inet", T.INET_IP, 45002, UDP_FWD, got, errs)


def test_port_range_forward_each_port_both_protocols(router):
    udp = udp_echo(T.CLIENT2, list(RANGE))
    tcps = {p: tcp_echo(T.CLIENT2, p) for p in RANGE}
    outside = udp_echo(T.SERVER, [RANGE[0] - 1, RANGE[-1] + 1])
    try:
        for i, p in enumerate(RANGE):
            cli = tcp_client(T.INET, T.WAN_IP, p)
            exchange_ok(cli, f"inet -> {T.WAN_IP}:{p}/tcp")
            assert cli["peer"] == [T.WAN_IP, p]
            seen = served(tcps[p], cli["sent"])
            assert len(seen) == 1, f"client2's listener on {p} logged {len(seen)} connections"
            assert seen[0]["local"] == [T.CLIENT2_IP, p], f"outside port {p} reached {seen[0]['local']}"
            assert seen[0]["peer"] == [T.INET_IP, cli["local"][1]], seen[0]

            u = udp_client(T.INET, T.WAN_IP, p, bind_port=46000 + i)
            assert "error" not in u, f"inet -> {T.WAN_IP}:{p}/udp: {u['error']}"
            assert u["peer"] == [T.WAN_IP, p], u
            recs = wait_records(udp, lambda r, i=i: r["peer"] == [T.INET_IP, 46000 + i])
            assert recs and {r["port"] for r in recs} == {p}, f"outside port {p}/udp reached {recs}"
        # just outside the range: the server's
        for j, p in enumerate((RANGE[0] - 1, RANGE[-1] + 1)):
            u = udp_client(T.INET, T.WAN_IP, p, bind_port=46100 + j)
            assert "error" not in u, f"inet -> {T.WAN_IP}:{p}/udp (not forwarded): {u['error']}"
            recs = wait_records(outside, lambda r, j=j: r["peer"] == [T.INET_IP, 46100 + j])
            assert recs and {r["port"] for r in recs} == {p}, f"port {p} did not reach the server: {recs}"
        strays = [r for r in records(udp) if r["peer"][1] >= 46100]
        assert not strays, f"client2 got datagrams for ports outside the range: {strays}"
    finally:
        udp.stop()
        outside.stop()
        for bg in tcps.values():
            bg.stop()


# ------------------------------------------------------------------ hairpin


def test_hairpin_client1_reaches_the_forward_with_its_outside_address(router, web):
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        cli = tcp_client(T.CLIENT1, T.WAN_IP, WEB_FWD)
        exchange_ok(cli, f"client1 -> {T.WAN_IP}:{WEB_FWD}")
        seen = served(web, cli["sent"])
        time.sleep(0.2)
        leaked = tcp_frames(srv, WEB_FWD)
    assert cli["peer"] == [T.WAN_IP, WEB_FWD], f"client1's peer is {cli['peer']}"
    assert len(seen) == 1, f"client2's web server logged {len(seen)} connections for {cli['sent']!r}"
    src, sport = seen[0]["peer"]
    assert src == T.WAN_IP, f"client2 saw client1's hairpinned connection from {src}, expected wan-ip"
    assert in_range(sport), f"client2 saw source port {sport}, outside the NAPT range 61000-65535"
    assert seen[0]["local"] == [T.CLIENT2_IP, WEB_PORT]
    assert not leaked, f"the server saw the hairpinned connection: {[f.summary() for f in leaked]}"


def test_hairpin_source_lan_shows_lan_ip(router, web):
    router.ctl("hairpin", "source", "lan")
    try:
        assert "hairpin source lan" in router.ctl("show", "config").splitlines()
        cli = tcp_client(T.CLIENT1, T.WAN_IP, WEB_FWD)
        exchange_ok(cli, f"client1 -> {T.WAN_IP}:{WEB_FWD} (hairpin source lan)")
        seen = served(web, cli["sent"])
        kinds = {(s["kind"], s["outside_ip"]) for s in
                 router.ctl("show", "sessions", "client", T.CLIENT1_IP, json=True)["sessions"]
                 if s["remote_ip"] == T.WAN_IP and s["remote_port"] == WEB_FWD}
    finally:
        router.ctl("no", "hairpin", "source")
    assert cli["peer"] == [T.WAN_IP, WEB_FWD], f"client1's peer is {cli['peer']}"
    assert len(seen) == 1, f"client2's web server logged {len(seen)} connections for {cli['sent']!r}"
    assert seen[0]["peer"][0] == T.LAN_IP, f"with hairpin source lan client2 saw {seen[0]['peer']}"
    assert ("hairpin", T.LAN_IP) in kinds, f"show sessions for client1: {kinds}"
    # and back to wan-ip
    cli = tcp_client(T.CLIENT1, T.WAN_IP, WEB_FWD)
    exchange_ok(cli, "after no hairpin source")
    seen = served(web, cli["sent"])
    assert seen and seen[0]["peer"][0] == T.WAN_IP, f"after 'no hairpin source' client2 saw {seen}"


@pytest.mark.parametrize("source", ["wan", "lan"])
def test_hairpin_icmp_error_from_the_target_reaches_the_client(router, source):
    """Nothing listens on client2's UDP port 27016 (forwarded): client2's
    port unreachable, sent to the source it saw (wan-ip, or lan-ip with
    `hairpin source lan`), is turned around to client1 as from wan-ip about
    the datagram client1 sent to wan-ip:27016 (RFC 5508 REQ-7), and client1's
    connected socket sees ECONNREFUSED. The server sees none of it."""
    port, tok = RANGE[1], token("hp-err")
    cport = 45101 if source == "wan" else 45102  # a fresh mapping for each hairpin source
    if source == "lan":
        router.ctl("hairpin", "source", "lan")
    try:
        with agent(T.CLIENT1) as ag, sniffing((T.CLIENT1, T.HOST_IF), (T.CLIENT2, T.HOST_IF),
                                              (T.SERVER, T.HOST_IF)) as (c1, c2, srv):
            ag.open("c", cport, connect=[T.WAN_IP, port])
            assert ag.send("c", T.WAN_IP, port, tok)["ok"]
            got = ag.recv("c", timeout=2)
            errs = c1.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 3, timeout=2, direction="in")
            at_target = c2.frames("in", lambda f: IP in f and UDP in f and f[UDP].dport == port)
            at_server = srv.frames(pred=lambda f: IP in f and (UDP in f or ICMP in f))
    finally:
        if source == "lan":
            router.ctl("no", "hairpin", "source")
    assert len(at_target) == 1, f"client2 got {[f.summary() for f in at_target]}"
    expected_src = T.WAN_IP if source == "wan" else T.LAN_IP
    assert at_target[0][IP].src == expected_src and in_range(at_target[0][UDP].sport), at_target[0].summary()
    expect_refused_by_wan_ip("client1", T.CLIENT1_IP, cport, port, got, errs)
    assert not at_server, f"the server saw the hairpinned flow: {[x.summary() for x in at_server]}"


def test_client_ping_to_wan_ip_is_answered_by_the_server(router):
    """An ICMP query to wan-ip follows no NAPT mapping (its identifier is the
    client's own): like any flow to wan-ip that no forward or mapping claims,
    it reaches the holder of wan-ip, the server, from the client's own
    address, and the server's replies come back through the dmz -> lan policy
    (which denies only new flows)."""
    with sniffing((T.SERVER, T.HOST_IF), (T.CLIENT1, T.HOST_IF)) as (srv, c1):
        p = ping(T.CLIENT1, T.WAN_IP)
        reqs = srv.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 8, count=3, timeout=2,
                            direction="in")
        replies = c1.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 0, count=3, timeout=2,
                              direction="in")
    assert p.returncode == 0 and " 3 received" in p.stdout, f"client1 -> wan-ip ping:\n{p.stdout}{p.stderr}"
    assert len(reqs) == 3, f"the server saw {len(reqs)} echo requests"
    assert {(f[IP].src, f[IP].dst) for f in reqs} == {(T.CLIENT1_IP, T.WAN_IP)}, [f.summary() for f in reqs]
    assert {(f[IP].src, f[IP].dst) for f in replies} == {(T.WAN_IP, T.CLIENT1_IP)}, [f.summary() for f in replies]
    assert {f[Ether].src for f in replies} == {T.mac_of(T.ROUTER, T.R_LAN)}


def test_two_clients_hole_punch_through_their_udp_mappings(router, inet):
    """Like two peers behind one NAT using STUN: each learns its outside port
    from inet, then each sends to the other's. Under address-and-port-
    dependent filtering the first datagram (client1's) is dropped: client2 has
    not sent to client1's mapping yet; once both have sent, both directions
    pass, each seeing the other as wan-ip and the other's outside port."""
    with agent(T.CLIENT1) as a1, agent(T.CLIENT2) as a2:
        a1.open("p")
        a2.open("p")
        src1 = udp_roundtrip(a1, "p", 7001, inet, "stun1")
        src2 = udp_roundtrip(a2, "p", 7001, inet, "stun2")
        assert src1[0] == T.WAN_IP and src2[0] == T.WAN_IP, (src1, src2)
        p1, p2 = src1[1], src2[1]
        assert p1 != p2
        toks = {k: token(k) for k in ("a1", "b1", "a2", "b2")}
        assert a1.send("p", T.WAN_IP, p2, toks["a1"])["ok"]
        time.sleep(0.3)  # a1 goes first: it finds no session of client2's toward p1
        assert a2.send("p", T.WAN_IP, p1, toks["b1"])["ok"]
        time.sleep(0.3)
        assert a1.send("p", T.WAN_IP, p2, toks["a2"])["ok"]
        assert a2.send("p", T.WAN_IP, p1, toks["b2"])["ok"]
        got1 = a1.recv("p", timeout=1.5)
        got2 = a2.recv("p", timeout=0.5)

    def by_token(got):
        return {g["head"].split(".")[0]: g for g in got if "head" in g}

    g1, g2 = by_token(got1), by_token(got2)
    for k in ("b1", "b2"):
        g = g1.get(toks[k])
        assert g, f"client1 never got client2's datagram {k}; client1 got {got1}"
        assert g["from"] == [T.WAN_IP, p2], f"client1 got {k} from {g['from']}, expected {T.WAN_IP}:{p2}"
    g = g2.get(toks["a2"])
    assert g, f"client2 never got client1's second datagram; client2 got {got2}"
    assert g["from"] == [T.WAN_IP, p1], f"client2 got it from {g['from']}, expected {T.WAN_IP}:{p1}"
    assert toks["a1"] not in g2, (
        "client1's first datagram reached client2 before client2 had sent to client1's mapping "
        "(address-and-port-dependent filtering)")
    assert set(g1) == {toks["b1"], toks["b2"]}, f"client1 got unexpected datagrams: {got1}"
    assert set(g2) == {toks["a2"]}, f"client2 got unexpected datagrams: {got2}"
    stray = [t for t in toks.values() if inet.udp_seen(t, timeout=0)]
    assert not stray, f"hairpinned datagrams reached inet: {stray}"


# ------------------------------------------------------------------ changing forwards under traffic


def _stream_sends(bg):
    with bg.cond:
        lines = list(bg.lines)
    sends = {}
    for ln in lines:
        if ln.startswith("{"):
            o = json.loads(ln)
            if "seq" in o:
                sends[o["seq"]] = o["t"]
    return sends


def _seqs(bg, tok):
    out = set()
    for r in records(bg):
        head = r.get("head", "")
        if head.startswith(tok + "-"):
            out.add(int(head[len(tok) + 1:]))
    return out


def test_removing_a_forward_while_a_udp_stream_runs(router):
    tok = token("stream")
    stmt_c1 = ["forward", "udp", UDP_FWD, "to", T.CLIENT1_IP]
    rx = {ns: udp_echo(ns, [UDP_FWD]) for ns in (T.CLIENT1, T.CLIENT2, T.SERVER)}
    sender = None
    base = router.counters()
    try:
        sender = T.Background(T.INET, [T.PY, T.HELPER, "udp-stream", "--dst", T.WAN_IP, "--port", UDP_FWD,
                                       "--bind-port", 45353, "--interval", 0.02, "--token", tok,
                                       "--timeout", 60],
                              ready_line="ready", name="udp-stream", stdin_pipe=True).start()

        def wait_count(ns, n, after=0.0, timeout=5.0):
            deadline = time.monotonic() + timeout
            while True:
                sends = _stream_sends(sender)
                got = [s for s in _seqs(rx[ns], tok) if sends.get(s, 0) > after]
                if len(got) >= n or time.monotonic() >= deadline:
                    return got
                time.sleep(0.05)

        assert len(wait_count(T.CLIENT1, 10)) >= 10, "the stream never reached client1 through the forward"

        t_removing = time.time()
        router.ctl("no", "forward", "udp", UDP_FWD)
        t_removed = time.time()  # the command has returned
        assert len(wait_count(T.SERVER, 25, after=t_removed)) >= 25, (
            "after 'no forward udp 5353' the stream did not reach the server")

        t_readding = time.time()
        router.ctl(*stmt_c1[:-1], T.CLIENT2_IP)
        t_readded = time.time()
        assert len(wait_count(T.CLIENT2, 25, after=t_readded)) >= 25, (
            "after re-adding the forward to client2 the stream did not reach client2")

        sender.send_line("stop")
        sender.wait(5)
        time.sleep(0.3)  # the last datagrams land
        sends = _stream_sends(sender)
        last_t = max(sends.values())
        got = {ns: _seqs(bg, tok) for ns, bg in rx.items()}
        end = router.counters()
        drops = {k: v - base.drop(k) for k, v in end.drops.items() if v != base.drop(k)}
    finally:
        if sender is not None:
            sender.stop()
        for bg in rx.values():
            bg.stop()
        # back to the module's forward udp 5353 -> client1
        T.ctl_run(router.daemon.socket_path, "no", "forward", "udp", UDP_FWD)
        router.ctl(*stmt_c1)

    # A datagram the router had not yet processed when a command changed the
    # tables may go either way ("in flight"); one sent after the command
    # returned may not. So: what was sent after each command returned went
    # to the new place, each receiver got one unbroken run of sequence
    # numbers (a clean switch, never back and forth), and nothing was lost.
    def sent_after(t0):
        return {s for s, t in sends.items() if t > t0}

    def sent_before(t0):
        return {s for s, t in sends.items() if t < t0}

    c1, c2, srv = got[T.CLIENT1], got[T.CLIENT2], got[T.SERVER]
    late_c1 = sorted(c1 & sent_after(t_removed))
    assert len(late_c1) <= 1, (
        f"{len(late_c1)} datagrams sent after 'no forward' returned still reached client1 (seqs {late_c1[:10]})")
    assert c1 and srv and c2, f"client1 got {len(c1)}, the server {len(srv)}, client2 {len(c2)} datagrams"
    assert max(c1) < min(srv), (
        f"client1 and the server got interleaved datagrams: client1 up to {max(c1)}, the server from {min(srv)}")
    assert max(srv) < min(c2), (
        f"the server and client2 got interleaved datagrams: the server up to {max(srv)}, client2 from {min(c2)} "
        f"(sent {sends[min(c2)] - t_readding:+.3f} s after the re-add command started)")
    assert not (c2 & sent_before(t_removing)), "client2 got datagrams sent before the removal"
    late_srv = sorted(srv & sent_after(t_readded))
    assert len(late_srv) <= 1, (
        f"{len(late_srv)} datagrams sent after the re-add returned reached the server: {late_srv[:10]}")
    assert not (c1 & sent_after(t_readded)), "after the forward was re-added to client2, datagrams reached client1"
    # Nothing sent after a command returned is lost (100 ms after it: the
    # new next hop may need ARP). Datagrams sent while a command runs may be:
    # the control thread resolves neighbours and is busy applying the
    # change, so those waiting for ARP can overflow their queue
    # (neigh_queue_full).
    expected = {s for s, t in sends.items()
                if t_removed + 0.1 < t < t_readding or t_readded + 0.1 < t < last_t - 0.05}
    lost = sorted(expected - (c1 | srv | c2))
    assert not lost, (
        f"{len(lost)} of {len(expected)} datagrams sent after the commands returned were lost: {lost[:10]}, sent "
        f"{[round(sends[q] - t_removing, 3) for q in lost[:10]]} s after the removal and "
        f"{[round(sends[q] - t_readding, 3) for q in lost[:10]]} s after the re-add started (the commands took "
        f"{t_removed - t_removing:.3f} s and {t_readded - t_readding:.3f} s); client1 got up to {max(c1)}, "
        f"the server {min(srv)}-{max(srv)}, client2 from {min(c2)}; drops during the test: {drops}")
    dup = (c1 & srv) | (srv & c2) | (c1 & c2)
    assert not dup, f"datagrams delivered twice: {sorted(dup)[:10]}"


def test_lan_stream_to_a_removed_forward_goes_to_the_server(router):
    """A LAN client streams UDP to a forwarded port (hairpin to client2);
    once the forward is removed, wan-ip:5400 is an ordinary port of the
    server: the datagrams reach the server, untranslated (DESIGN.md, ingress
    lan: 'IPv4 to wan-ip otherwise: route to the server'), not client2."""
    port, cport = 5400, 45400
    tok = token("lanstream")
    router.ctl("forward", "udp", port, "to", T.CLIENT2_IP)
    rx = {ns: udp_echo(ns, [port]) for ns in (T.CLIENT2, T.SERVER)}
    sender = None
    try:
        sender = T.Background(T.CLIENT1, [T.PY, T.HELPER, "udp-stream", "--dst", T.WAN_IP, "--port", port,
                                          "--bind-port", cport, "--interval", 0.02, "--token", tok,
                                          "--timeout", 60],
                              ready_line="ready", name="udp-stream", stdin_pipe=True).start()

        def at(ns, after=0.0):
            sends = _stream_sends(sender)
            return [s for s in _seqs(rx[ns], tok) if sends.get(s, 0) > after]

        deadline = time.monotonic() + 5
        while len(at(T.CLIENT2)) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(at(T.CLIENT2)) >= 10, "client1's stream never reached client2 through the forward (hairpin)"
        router.ctl("no", "forward", "udp", port)
        t_removed = time.time()
        base = router.counters()
        deadline = time.monotonic() + 3
        while len(at(T.SERVER, t_removed)) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        sender.send_line("stop")
        sender.wait(5)
        time.sleep(0.3)
        sends = _stream_sends(sender)
        got = {ns: _seqs(bg, tok) for ns, bg in rx.items()}
        peers = {tuple(r["peer"]) for r in records(rx[T.SERVER])}
        filtered = router.counters().drop("hairpin_filtered") - base.drop("hairpin_filtered")
    finally:
        if sender is not None:
            sender.stop()
        for bg in rx.values():
            bg.stop()
        T.ctl_run(router.daemon.socket_path, "no", "forward", "udp", port)
    after = {s for s, t in sends.items() if t > t_removed}
    settled = {s for s, t in sends.items() if t > t_removed + 0.1}
    late = sorted(got[T.CLIENT2] & after)
    assert len(late) <= 1, f"{len(late)} datagrams sent after 'no forward' returned still reached client2"
    missing = sorted(settled - got[T.SERVER])
    assert not missing, (
        f"{len(missing)} of {len(settled)} datagrams client1 sent after the forward was removed never reached "
        f"the server (seqs {missing[:5]}...; hairpin_filtered rose by {filtered})")
    assert peers <= {(T.CLIENT1_IP, cport)}, f"the server saw the stream from {peers}, not client1's own address"


# ------------------------------------------------------------------ the firewall


def test_filter_deny_wan_to_dmz_port_23_is_silent_and_counted(router):
    base = router.counters()
    telnet = tcp_echo(T.SERVER, TELNET, timeout=30)
    try:
        with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
            cli = tcp_client(T.INET, T.WAN_IP, TELNET, timeout=3)
            time.sleep(0.2)
            leaked = tcp_frames(srv, TELNET)
        logged = records(telnet)
    finally:
        telnet.stop()
    assert "error" in cli and "timed out" in cli["error"], (
        f"inet -> {T.WAN_IP}:{TELNET}: expected a silent drop (timeout), got {cli}")
    assert not leaked, f"the server saw {len(leaked)} frames for port {TELNET}: {[f.summary() for f in leaked]}"
    assert not logged, f"the server's listener on {TELNET} accepted {logged}"
    d = drop_delta(router, base, "filter_denied", 1)
    assert d >= 1, f"filter_denied rose by {d}"
    assert filter_packets(router, DENY_TELNET) >= 1, router.ctl("show", "filter")
    # control: port 22 of the server is open from the internet
    cli, got = tcp_exchange(T.SERVER, 22, T.INET, T.WAN_IP)
    assert got["peer"] == [T.INET_IP, cli["local"][1]]


def test_filter_reject_answers_with_a_tcp_reset(router):
    base = router.counters()
    with sniffing((T.INET, T.HOST_IF), (T.SERVER, T.HOST_IF)) as (isn, srv):
        cli = tcp_client(T.INET, T.WAN_IP, REJECTED, timeout=5)
        rsts = isn.wait_for(lambda f: IP in f and TCP in f and f[TCP].sport == REJECTED and f[TCP].flags.R,
                            timeout=2, direction="in")
        syns = isn.frames("out", lambda f: IP in f and TCP in f and f[TCP].dport == REJECTED and f[TCP].flags.S)
        time.sleep(0.2)
        leaked = tcp_frames(srv, REJECTED)
    assert "error" in cli and "ConnectionRefused" in cli["error"], (
        f"inet -> {T.WAN_IP}:{REJECTED}: expected connection refused (a reset), got {cli}")
    assert rsts, "no TCP reset reached inet"
    assert syns, "inet's capture shows no SYN"
    syn = syns[0]
    for f in rsts:
        assert f[IP].src == T.WAN_IP and f[IP].dst == T.INET_IP, f.summary()
        assert f[TCP].sport == REJECTED and f[TCP].dport == syn[TCP].sport, f.summary()
        assert f[TCP].flags.A and f[TCP].ack == (syn[TCP].seq + 1) % (1 << 32), (
            f"the reset does not acknowledge the SYN (seq {syn[TCP].seq}): {f.summary()} ack {f[TCP].ack}")
    assert not leaked, f"the server saw {len(leaked)} frames for port {REJECTED}"
    d = drop_delta(router, base, "filter_rejected", 1)
    assert d >= 1, f"filter_rejected rose by {d}"
    assert filter_packets(router, REJECT_24) >= 1, router.ctl("show", "filter")


def test_filter_reject_on_a_forward_tells_the_sender(router, web):
    """`reject` from wan to lan on a forwarded port: TCP gets a reset and UDP
    an ICMP administratively prohibited, both from wan-ip and about the
    port the sender used; the target sees nothing."""
    rules = [["filter", "reject", "from", "wan", "to", "lan", "proto", "tcp", "orig-port", WEB_FWD],
             ["filter", "reject", "from", "wan", "to", "lan", "proto", "udp", "orig-port", UDP_FWD]]
    tok = token("rejudp")
    c1 = udp_echo(T.CLIENT1, [UDP_FWD], timeout=30)
    for r in rules:
        router.ctl(*r)
    try:
        before = len(records(web))
        with sniffing((T.INET, T.HOST_IF)) as (isn,), agent(T.INET) as ag:
            cli = tcp_client(T.INET, T.WAN_IP, WEB_FWD, timeout=5)
            ag.open("u", 45003)
            assert ag.send("u", T.WAN_IP, UDP_FWD, tok)["ok"]
            rsts = isn.wait_for(lambda f: IP in f and TCP in f and f[TCP].sport == WEB_FWD and f[TCP].flags.R,
                                timeout=2, direction="in")
            prohibited = isn.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 3, timeout=2,
                                      direction="in")
        from_inet = [r for r in records(web)[before:] if r["peer"][0] == T.INET_IP]
        at_c1 = records(c1)
    finally:
        for r in rules:
            router.ctl("no", *r)
        c1.stop()
    assert "error" in cli and "ConnectionRefused" in cli["error"], f"inet -> {T.WAN_IP}:{WEB_FWD}: {cli}"
    assert rsts and all(f[IP].src == T.WAN_IP for f in rsts), [f.summary() for f in rsts]
    assert not from_inet, f"client2 accepted inet's connection: {from_inet}"
    assert len(prohibited) == 1, f"inet got {len(prohibited)} ICMP errors for the rejected datagram"
    f = prohibited[0]
    assert (f[ICMP].code, f[IP].src, f[IP].dst) == (13, T.WAN_IP, T.INET_IP), f.summary()
    assert (f[IPerror].dst, f[UDPerror].sport, f[UDPerror].dport) == (T.WAN_IP, 45003, UDP_FWD), (
        f"the error quotes {f[IPerror].dst}:{f[UDPerror].dport}, not what inet sent")
    assert not at_c1, f"client1 got the rejected datagram: {at_c1}"


def test_server_cannot_open_a_connection_into_the_lan(router):
    base = router.counters()
    ssh = tcp_echo(T.CLIENT1, 22, timeout=30)
    try:
        with sniffing((T.CLIENT1, T.HOST_IF)) as (c1,):
            cli = tcp_client(T.SERVER, T.CLIENT1_IP, 22, timeout=3)
            time.sleep(0.2)
            leaked = tcp_frames(c1, 22)
        logged = records(ssh)
    finally:
        ssh.stop()
    assert "error" in cli and "timed out" in cli["error"], (
        f"server -> {T.CLIENT1_IP}:22: expected a silent drop (timeout), got {cli}")
    assert not leaked, f"client1 saw {len(leaked)} frames of the server's connection attempt"
    assert not logged, f"client1's listener accepted {logged}"
    d = drop_delta(router, base, "filter_denied", 1)
    assert d >= 1, f"filter_denied rose by {d}"
    # control: client1's connection to the server works both ways
    cli, got = tcp_exchange(T.SERVER, 5005, T.CLIENT1, T.WAN_IP)
    assert got["data"] == cli["sent"], f"the server received {got['data']!r}, client1 sent {cli['sent']!r}"
    assert cli["reply"] == "echo:" + cli["sent"], "client1 did not receive the server's data"
    assert got["peer"] == [T.CLIENT1_IP, cli["local"][1]], got


def test_filter_from_wan_to_lan_restricts_a_forward(router, web):
    rule = ["filter", "deny", "from", "wan", "to", "lan", "proto", "tcp", "orig-port", WEB_FWD]
    statement = " ".join(map(str, rule))
    game = tcp_echo(T.CLIENT2, RANGE[0], timeout=60)
    base = router.counters()
    router.ctl(*rule)
    try:
        before = len(records(web))
        blocked = tcp_client(T.INET, T.WAN_IP, WEB_FWD, timeout=3)
        other = tcp_client(T.INET, T.WAN_IP, RANGE[0])
        hairpin = tcp_client(T.CLIENT1, T.WAN_IP, WEB_FWD)
        hairpin_seen = served(web, hairpin.get("sent"))
        from_inet = [r for r in records(web)[before:] if r["peer"][0] == T.INET_IP]
        counted = filter_packets(router, statement)
    finally:
        router.ctl("no", *rule)
        game.stop()
    assert "error" in blocked and "timed out" in blocked["error"], (
        f"inet -> {T.WAN_IP}:{WEB_FWD} with '{statement}': expected a silent drop, got {blocked}")
    assert not from_inet, f"client2's web server accepted inet's connection: {from_inet}"
    assert counted >= 1, f"show filter counted {counted} packets for the rule"
    d = drop_delta(router, base, "filter_denied", 1)
    assert d >= 1, f"filter_denied rose by {d}"
    exchange_ok(other, f"inet -> {T.WAN_IP}:{RANGE[0]} (another forward, same target)")
    # a rule from wan does not apply to LAN clients (hairpin)
    exchange_ok(hairpin, f"client1 -> {T.WAN_IP}:{WEB_FWD} (hairpin) with a wan -> lan rule")
    assert len(hairpin_seen) == 1
    # the rule removed: the forward works again
    cli = tcp_client(T.INET, T.WAN_IP, WEB_FWD)
    exchange_ok(cli, f"inet -> {T.WAN_IP}:{WEB_FWD} after 'no {statement}'")
    assert served(web, cli["sent"]), "client2 did not log the connection after the rule was removed"
