"""ipshare foundation behaviour, seen from the end hosts.

Every check sends real traffic between namespaces and asserts what a user
would care about: the packet arrived, with these addresses and ports, and
nothing else did. Negative checks (X never arrives) always come with a
positive control sent afterwards on the same path, so that a dead capture
cannot make them pass.
"""

import contextlib
import re
import time

import pytest
from scapy.layers.inet import ICMP, IP, UDP, IPerror, UDPerror
from scapy.layers.l2 import ARP, GRE, Ether
from scapy.layers.sctp import SCTP, SCTPChunkData
from scapy.packet import Raw

import topology as T

BCAST = "ff:ff:ff:ff:ff:ff"


# ------------------------------------------------------------------ helpers


def arp_ask(ns, dev, psrc, pdst, timeout=2.0):
    """Broadcast who-has pdst from (ns, dev); return the ARP replies for pdst."""
    mac = T.mac_of(ns, dev)
    req = Ether(dst=BCAST, src=mac) / ARP(op=1, hwsrc=mac, psrc=psrc, hwdst="00:00:00:00:00:00", pdst=pdst)
    res = T.helper(ns, ["l2xchg", "--iface", dev, "--frame", bytes(req).hex(), "--timeout", timeout],
                   timeout=timeout + 10)
    replies = []
    for h in res["frames"]:
        f = Ether(bytes.fromhex(h))
        if ARP in f and f[ARP].op == 2 and f[ARP].psrc == pdst:
            replies.append(f)
    return mac, replies


def send_ip(ns, pkt, count=1, interval=0.05):
    T.helper(ns, ["send-ip", "--packet", bytes(pkt).hex(), "--count", count, "--interval", interval])


def ip_bytes(frame):
    """The IPv4 packet inside an Ethernet frame, without any Ethernet padding."""
    raw = bytes(frame)[14:]
    return raw[:int.from_bytes(raw[2:4], "big")]


def inet_checksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def ping(ns, dst, count=3, deadline=6):
    p = T.nsrun(ns, ["ping", "-n", "-c", str(count), "-i", "0.2", "-w", str(deadline), dst],
                timeout=deadline + 5, check=False)
    return p


def tcp_exchange(server_ns, port, client_ns, dst, bind_port=0):
    srv = T.server(server_ns, "tcp-server", port, timeout=10)
    try:
        cli = T.helper(client_ns, ["tcp-client", "--dst", dst, "--port", port,
                                   "--bind-port", bind_port, "--timeout", 8], timeout=15)
        got = srv.result(timeout=5) if "error" not in cli else None
    finally:
        srv.stop()
    assert "error" not in cli, f"TCP client in {client_ns} to {dst}:{port}: {cli['error']}"
    assert "error" not in got, f"TCP server in {server_ns}: {got['error']}"
    assert cli["reply"] == "echo:" + cli["sent"], f"echo mismatch: {cli}"
    return cli, got


@contextlib.contextmanager
def sniffing(*where):
    """Sniffers on several (ns, dev) at once, all stopped at the end."""
    sniffers = []
    try:
        for ns, dev in where:
            sniffers.append(T.Sniffer(ns, dev).start())
        yield sniffers
    finally:
        for s in sniffers:
            s.stop()


def wait_drop_delta(router, reasons, base, expected, timeout=3.0):
    """Poll the counters until the summed delta of reasons reaches expected
    (bounded); return the delta last seen."""
    if isinstance(reasons, str):
        reasons = [reasons]
    deadline = time.monotonic() + timeout
    while True:
        c = router.counters()
        delta = sum(c.drop(r) - base.drop(r) for r in reasons)
        if delta >= expected or time.monotonic() >= deadline:
            # let anything late arrive, then read once more: more is wrong too
            time.sleep(0.2)
            c = router.counters()
            return sum(c.drop(r) - base.drop(r) for r in reasons)
        time.sleep(0.1)


def udp_to(f, port):
    return IP in f and UDP in f and not f.haslayer(ICMP) and f[UDP].dport == port


# ------------------------------------------------------------------ ARP


def test_wan_arp_for_wan_ip_answered_with_wan0_mac(router):
    gw_mac, replies = arp_ask(T.WANGW, T.GW_WAN, T.WAN_GW, T.WAN_IP)
    wan0 = T.mac_of(T.ROUTER, T.R_WAN)
    assert replies, "nobody answered wangw's who-has 203.0.113.10"
    for r in replies:
        assert r[ARP].hwsrc == wan0, f"who-has wan-ip answered by {r[ARP].hwsrc}, not wan0 {wan0}"
        assert r[Ether].src == wan0
        assert r[ARP].pdst == T.WAN_GW and r[ARP].hwdst == gw_mac and r[Ether].dst == gw_mac


def test_wan_arp_for_other_wan_address_not_answered(router):
    _, replies = arp_ask(T.WANGW, T.GW_WAN, T.WAN_GW, "203.0.113.77")
    assert not replies, f"who-has 203.0.113.77 on wan was answered: {[r.summary() for r in replies]}"
    # control: the same exchange for wan-ip is answered
    _, replies = arp_ask(T.WANGW, T.GW_WAN, T.WAN_GW, T.WAN_IP)
    assert replies


def test_server_arp_for_gateway_answered_with_dmz0_mac(router):
    srv_mac, replies = arp_ask(T.SERVER, T.HOST_IF, T.WAN_IP, T.WAN_GW)
    dmz0 = T.mac_of(T.ROUTER, T.R_DMZ)
    assert replies, "nobody answered the server's who-has 203.0.113.1"
    for r in replies:
        assert r[ARP].hwsrc == dmz0, f"who-has gateway answered by {r[ARP].hwsrc}, not dmz0 {dmz0}"
        assert r[ARP].pdst == T.WAN_IP and r[ARP].hwdst == srv_mac and r[Ether].dst == srv_mac


def test_server_address_probe_not_answered(router):
    """The server's duplicate-address probe for its own wan-ip must not see a conflict."""
    _, replies = arp_ask(T.SERVER, T.HOST_IF, "0.0.0.0", T.WAN_IP)
    assert not replies, f"the server's probe for wan-ip was answered: {[r.summary() for r in replies]}"
    _, replies = arp_ask(T.SERVER, T.HOST_IF, T.WAN_IP, T.WAN_GW)  # control
    assert replies


def test_client_arp_for_lan_ip_answered_with_lan0_mac(router):
    c_mac, replies = arp_ask(T.CLIENT1, T.HOST_IF, T.CLIENT1_IP, T.LAN_IP)
    lan0 = T.mac_of(T.ROUTER, T.R_LAN)
    assert replies, "nobody answered client1's who-has 192.168.1.1"
    for r in replies:
        assert r[ARP].hwsrc == lan0, f"who-has lan-ip answered by {r[ARP].hwsrc}, not lan0 {lan0}"
        assert r[ARP].pdst == T.CLIENT1_IP and r[ARP].hwdst == c_mac and r[Ether].dst == c_mac


# ------------------------------------------------------------------ ICMP echo


def test_inet_ping_wan_ip_is_served_by_the_server(router):
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        p = ping(T.INET, T.WAN_IP)
        reqs = srv.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 8, count=3,
                            timeout=2, direction="in")
    assert p.returncode == 0, f"inet -> 203.0.113.10 ping failed:\n{p.stdout}{p.stderr}"
    assert len(reqs) >= 3, "the server did not see the echo requests"
    for f in reqs:
        assert f[IP].src == T.INET_IP and f[IP].dst == T.WAN_IP, f.summary()
        assert f[IP].ttl == 62, f"TTL {f[IP].ttl}: expected 64 - wangw - router = 62"
        assert f[Ether].src == T.mac_of(T.ROUTER, T.R_DMZ)


def test_client_ping_lan_ip_answered_by_router(router):
    with sniffing((T.CLIENT1, T.HOST_IF), (T.SERVER, T.HOST_IF)) as (cli, srv):
        p = ping(T.CLIENT1, T.LAN_IP)
        replies = cli.wait_for(lambda f: IP in f and ICMP in f and f[ICMP].type == 0, count=3,
                               timeout=2, direction="in")
        leaked = srv.frames(pred=lambda f: ICMP in f and f[ICMP].type == 8)
    assert p.returncode == 0, f"client1 -> 192.168.1.1 ping failed:\n{p.stdout}{p.stderr}"
    lan0 = T.mac_of(T.ROUTER, T.R_LAN)
    for f in replies:
        assert f[IP].src == T.LAN_IP and f[IP].dst == T.CLIENT1_IP and f[Ether].src == lan0
    assert not leaked, "an echo request to lan-ip reached the server"


# ------------------------------------------------------------------ TCP / UDP


def test_inet_tcp_to_server_keeps_the_source_address(router):
    cli, got = tcp_exchange(T.SERVER, 5001, T.INET, T.WAN_IP)
    assert got["peer"] == [T.INET_IP, cli["local"][1]], f"server saw peer {got['peer']}"
    assert got["local"] == [T.WAN_IP, 5001]
    assert cli["peer"] == [T.WAN_IP, 5001]


def test_inet_udp_to_server_keeps_address_and_port(router):
    srv = T.server(T.SERVER, "udp-server", 5002, timeout=10)
    try:
        cli = T.helper(T.INET, ["udp-client", "--dst", T.WAN_IP, "--port", 5002,
                                "--bind-port", 40002, "--timeout", 6], timeout=15)
        got = srv.result(timeout=5)
    finally:
        srv.stop()
    assert "error" not in cli, cli
    assert got.get("peer") == [T.INET_IP, 40002], f"server saw {got}"
    assert cli["peer"] == [T.WAN_IP, 5002] and cli["reply"] == "echo:hello udp\n"


def test_server_tcp_to_inet_leaves_unchanged(router):
    cli, got = tcp_exchange(T.INET, 5003, T.SERVER, T.INET_IP, bind_port=40003)
    assert cli["local"] == [T.WAN_IP, 40003]
    assert got["peer"] == [T.WAN_IP, 40003], f"inet saw peer {got['peer']}: not the server's own address/port"


def test_client_tcp_to_server_keeps_the_client_address(router):
    cli, got = tcp_exchange(T.SERVER, 5004, T.CLIENT1, T.WAN_IP)
    assert got["peer"] == [T.CLIENT1_IP, cli["local"][1]], f"server saw peer {got['peer']}"
    assert cli["local"][0] == T.CLIENT1_IP


# ------------------------------------------------------------------ other protocols, unchanged


def _inet_to_server(l4, ident):
    pkt = IP(src=T.INET_IP, dst=T.WAN_IP, ttl=64, id=ident, tos=0x28, flags="DF") / l4
    return bytes(pkt)  # lengths and checksums filled in


@pytest.mark.parametrize("proto", ["gre", "sctp"])
def test_non_napt_protocols_reach_server_unchanged(router, proto):
    if proto == "gre":
        ident = 0x4747
        l4 = GRE(proto=0x0800) / IP(src="10.1.2.3", dst="10.3.2.1", ttl=9) / UDP(sport=7, dport=9) \
            / Raw(b"inside a GRE tunnel " * 3)
    else:
        ident = 0x5c7b
        l4 = SCTP(sport=3868, dport=3868, tag=0x01020304) / SCTPChunkData(tsn=1, data=b"sctp payload " * 3)
    sent = _inet_to_server(l4, ident)
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        send_ip(T.INET, sent)
        got = srv.wait_for(lambda f: IP in f and f[IP].src == T.INET_IP and f[IP].id == ident,
                           timeout=5, direction="in")
    assert got, f"the {proto} packet from inet never reached the server"
    assert len(got) == 1, f"{len(got)} copies arrived"
    rx = ip_bytes(got[0])
    assert len(rx) == len(sent), f"length changed: sent {len(sent)}, server got {len(rx)}"
    assert rx[8] == sent[8] - 2, f"TTL {rx[8]}, expected {sent[8] - 2} (wangw and router each -1)"
    ihl = (rx[0] & 0x0F) * 4
    assert inet_checksum(rx[:ihl]) == 0xFFFF, "bad IPv4 header checksum at the server"

    def masked(b):
        return b[:8] + b"\0" + b[9:10] + b"\0\0" + b[12:]
    assert masked(rx) == masked(sent), (
        f"{proto} packet changed beyond TTL/checksum:\n sent {sent.hex()}\n got  {rx.hex()}")


# ------------------------------------------------------------------ TTL expiry, anti-spoofing


def test_ttl_expiry_from_inet_gets_time_exceeded_from_wan_ip(router):
    probe = IP(src=T.INET_IP, dst=T.WAN_IP, ttl=2, id=0x7171) / UDP(sport=40009, dport=33434) / Raw(b"ttl probe")
    control = IP(src=T.INET_IP, dst=T.WAN_IP, ttl=3, id=0x7172) / UDP(sport=40009, dport=33435) / Raw(b"control")
    base = router.counters() if router.is_ipshare else None
    with sniffing((T.INET, T.HOST_IF), (T.SERVER, T.HOST_IF)) as (inet, srv):
        send_ip(T.INET, probe, count=3, interval=0.1)
        send_ip(T.INET, control)
        ctrl = srv.wait_for(lambda f: udp_to(f, 33435), timeout=5, direction="in")
        errs = inet.wait_for(lambda f: ICMP in f and f[ICMP].type == 11, timeout=3, direction="in")
        time.sleep(0.3)
        leaked = srv.frames(pred=lambda f: udp_to(f, 33434))
        errs = inet.frames("in", lambda f: ICMP in f and f[ICMP].type == 11)
    assert ctrl, "control packet (TTL 3) never reached the server"
    assert ctrl[0][IP].ttl == 1
    assert not leaked, f"{len(leaked)} expired packets reached the server"
    assert errs, "no ICMP time exceeded came back to inet"
    for f in errs:
        assert f[IP].src == T.WAN_IP, f"time exceeded from {f[IP].src}, expected wan-ip {T.WAN_IP}"
        assert f[IP].dst == T.INET_IP and f[ICMP].code == 0
        assert f[IPerror].src == T.INET_IP and f[IPerror].dst == T.WAN_IP
        assert f[UDPerror].dport == 33434
    if router.is_ipshare:
        d = wait_drop_delta(router, ["ttl_exceeded", "ttl_exceeded_silent"], base, 3)
        assert d == 3, f"ttl_exceeded + ttl_exceeded_silent rose by {d}, expected 3"
        c = router.counters()
        assert c.drop("ttl_exceeded") - base.drop("ttl_exceeded") == len(errs)


def test_ttl_expiry_from_lan_gets_time_exceeded_from_lan_ip(router):
    probe = IP(src=T.CLIENT1_IP, dst=T.WAN_IP, ttl=1, id=0x7373) / UDP(sport=40019, dport=33436) / Raw(b"ttl probe")
    control = IP(src=T.CLIENT1_IP, dst=T.WAN_IP, ttl=2, id=0x7374) / UDP(sport=40019, dport=33437) / Raw(b"ctl")
    with sniffing((T.CLIENT1, T.HOST_IF), (T.SERVER, T.HOST_IF)) as (cli, srv):
        send_ip(T.CLIENT1, probe)
        send_ip(T.CLIENT1, control)
        ctrl = srv.wait_for(lambda f: udp_to(f, 33437), timeout=5, direction="in")
        errs = cli.wait_for(lambda f: ICMP in f and f[ICMP].type == 11, timeout=3, direction="in")
        time.sleep(0.3)
        leaked = srv.frames(pred=lambda f: udp_to(f, 33436))
        errs = cli.frames("in", lambda f: ICMP in f and f[ICMP].type == 11)
    assert ctrl, "control packet (TTL 2) never reached the server"
    assert not leaked, "the expired packet reached the server"
    assert len(errs) == 1, f"expected one ICMP time exceeded at client1, got {len(errs)}"
    f = errs[0]
    assert f[IP].src == T.LAN_IP, f"time exceeded from {f[IP].src}, expected lan-ip {T.LAN_IP}"
    assert f[IP].dst == T.CLIENT1_IP and f[UDPerror].dport == 33436


def test_spoofed_lan_source_is_dropped(router):
    spoofed = IP(src="10.99.0.1", dst=T.WAN_IP, id=0x5050) / UDP(sport=40010, dport=40010) / Raw(b"spoofed")
    control = IP(src=T.CLIENT1_IP, dst=T.WAN_IP, id=0x5051) / UDP(sport=40011, dport=40011) / Raw(b"genuine")
    n = 5
    base = router.counters() if router.is_ipshare else None
    with sniffing((T.SERVER, T.HOST_IF)) as (srv,):
        send_ip(T.CLIENT1, spoofed, count=n)
        send_ip(T.CLIENT1, control)
        ctrl = srv.wait_for(lambda f: udp_to(f, 40011), timeout=5, direction="in")
        time.sleep(0.3)
        leaked = srv.frames(pred=lambda f: IP in f and (f[IP].src == "10.99.0.1" or udp_to(f, 40010)))
    assert ctrl, "control packet with client1's real source never reached the server"
    assert ctrl[0][IP].src == T.CLIENT1_IP
    assert not leaked, f"{len(leaked)} spoofed packets reached the server"
    if router.is_ipshare:
        d = wait_drop_delta(router, "spoofed_source", base, n)
        assert d == n, f"spoofed_source rose by {d}, expected {n}"


# ------------------------------------------------------------------ daemon life cycle (ipshare only)

# Reasons the tests rely on; the full list is the X-macro in
# dataplane/drop_reasons.h, and the dump must print exactly that list.
DROP_REASONS_REQUIRED = ["spoofed_source", "martian_source", "wan_not_for_us", "ttl_exceeded",
                         "ttl_exceeded_silent", "ip_bad_checksum", "arp_ignored", "no_route"]


def declared_drop_reasons():
    header = T.REPO_ROOT / "dataplane" / "drop_reasons.h"
    names = re.findall(r'\bX\((\w+),\s*"', header.read_text()) if header.exists() else []
    return set(names) | set(DROP_REASONS_REQUIRED)


def check_drop_lines(c):
    """Every declared reason printed (zeros included), and nothing else."""
    printed = set(c.drops)
    declared = declared_drop_reasons()
    assert not declared - printed, f"drop reasons missing from the dump: {sorted(declared - printed)}"
    assert not printed - declared, f"dump prints reasons not declared in drop_reasons.h: {sorted(printed - declared)}"


@pytest.mark.ipshare_only
def test_counters_count_forwarded_packets(router):
    base = router.counters()
    assert set(base.ports) == {"wan", "lan", "dmz"}, f"port lines: {base.ports}"
    check_drop_lines(base)
    p = ping(T.INET, T.WAN_IP, count=3)
    assert p.returncode == 0, p.stdout
    # A worker adds to its counters just after the burst left: poll (bounded)
    # rather than read once, the moment the last reply arrived.
    want = [("wan", "rx"), ("dmz", "tx"), ("dmz", "rx"), ("wan", "tx")]
    deadline = time.monotonic() + 3
    while True:
        after = router.counters()
        rises = {w: after.ports[w[0]][w[1]] - base.ports[w[0]][w[1]] for w in want}
        if all(r >= 3 for r in rises.values()) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert all(r >= 3 for r in rises.values()), f"port counters rose by {rises} for 3 echoes and 3 replies"


@pytest.mark.ipshare_only
def test_clean_stop_prints_final_counters(router):
    with router.stopped() as info:
        assert info.rc == 0, f"ipshare exited {info.rc} on SIGTERM\n{info.stderr}"
        assert info.final is not None, f"no final counter block after SIGTERM:\n{info.stdout[-2000:]}"
        assert set(info.final.ports) == {"wan", "lan", "dmz"}
        check_drop_lines(info.final)


def _port_traffic():
    s = {}
    for zone, dev in T.ROUTER_PORTS.items():
        s[f"router {dev} tx"] = T.link_stats(T.ROUTER, dev)["tx"]
        ns, peer = T.PEER_OF[zone]
        s[f"{ns} {peer} rx"] = T.link_stats(ns, peer)["rx"]
    return s


@pytest.mark.ipshare_only
def test_bad_config_is_refused_before_any_port_starts(router):
    cfg = ("port wan net_af_packet0\n"
           "port lan net_af_packet1\n"
           "frobnicate the router\n"
           "port dmz net_af_packet2\n"
           f"lan address {T.LAN_IP}/24\n"
           f"wan network {T.WAN_NET} gateway {T.WAN_GW}\n"
           f"server address {T.WAN_IP}\n")
    with router.stopped():
        before = _port_traffic()
        d = T.Daemon(config_text=cfg)
        try:
            d.start(wait_ready=False)
            rc = d.wait_exit(10)
            out, err, path = d.stdout, d.stderr, d.config_path
        finally:
            d.stop(timeout=5)
        time.sleep(0.2)
        after = _port_traffic()
    assert rc is not None, "ipshare with a bad config was still running after 10 s"
    assert rc != 0, "ipshare accepted a config with an unknown word on line 3"
    assert f"{path}:3:" in err, f"stderr does not name {path}:3:\n{err}"
    assert T.READY not in out, "ipshare printed ready with a bad config"
    assert after == before, f"ports saw traffic: before {before}, after {after}"
