#!/usr/bin/python3
"""Small traffic tools run INSIDE a test namespace (`ip netns exec NS ...`).

Standard library only, so that each call starts in a few tens of
milliseconds (scapy is used by the test process to build and parse bytes,
never here). Every command has a hard deadline (--timeout) and prints its
result as one JSON object on stdout (the sniffer prints one per frame).
Long-running commands (servers, sniffer) print a line `ready` once their
socket is bound, so the caller knows when to start the traffic.

Commands:
  sniff      --iface I [--timeout T]           every frame seen on I, in and out
  l2xchg     --iface I --frame HEX [--ethertype 0x0806] [--timeout T] [--linger L]
             send one Ethernet frame, collect frames of that ethertype
  send-ip    --packet HEX [--count N] [--interval S]
             send a complete IPv4 packet as given (raw socket, IP_HDRINCL)
  tcp-server --port P [--bind A] [--timeout T]  accept one connection, echo
  tcp-client --dst A --port P [--bind-port BP] [--timeout T]
  udp-server --port P [--bind A] [--timeout T]  answer one datagram
  udp-client --dst A --port P [--bind-port BP] [--timeout T]
"""

import argparse
import json
import select
import signal
import socket
import sys
import time

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ready():
    sys.stdout.write("ready\n")
    sys.stdout.flush()


def cmd_sniff(a):
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((a.iface, 0))
    ready()
    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], min(left, 0.5))
        if not r:
            continue
        data, addr = s.recvfrom(65535)
        out({"t": time.time(), "dir": "out" if addr[2] == PACKET_OUTGOING else "in",
             "hex": data.hex()})
    out({"end": True})


def cmd_l2xchg(a):
    ethertype = int(a.ethertype, 0)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ethertype))
    s.bind((a.iface, 0))
    s.send(bytes.fromhex(a.frame))
    frames = []
    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([s], [], [], left)
        if not r:
            continue
        data, addr = s.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        frames.append(data.hex())
        # after the first ARP reply, wait only a little longer for duplicates
        is_arp_reply = data[12:14] == b"\x08\x06" and data[20:22] == b"\x00\x02"
        if is_arp_reply or ethertype != 0x0806:
            deadline = min(deadline, time.monotonic() + a.linger)
    out({"frames": frames})


def cmd_send_ip(a):
    pkt = bytes.fromhex(a.packet)
    dst = socket.inet_ntoa(pkt[16:20])
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(a.count):
        if i:
            time.sleep(a.interval)
        s.sendto(pkt, (dst, 0))
    out({"sent": a.count})


def cmd_tcp_server(a):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(4)
    ls.settimeout(a.timeout)
    ready()
    try:
        c, peer = ls.accept()
    except socket.timeout:
        out({"error": "no connection within %ss" % a.timeout})
        return 1
    c.settimeout(a.timeout)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(b"echo:" + data)
    except socket.timeout:
        pass
    out({"peer": list(peer), "local": list(c.getsockname()), "data": data.decode(errors="replace")})
    c.close()
    return 0


def cmd_tcp_client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.bind_port:
        s.bind(("0.0.0.0", a.bind_port))
    s.settimeout(a.timeout)
    try:
        s.connect((a.dst, a.port))
        msg = ("hello from %s\n" % (s.getsockname(),)).encode()
        s.sendall(msg)
        reply = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
    except OSError as e:
        out({"error": "%s: %s" % (type(e).__name__, e)})
        return 1
    out({"local": list(s.getsockname()), "peer": list(s.getpeername()),
         "sent": msg.decode(), "reply": reply.decode(errors="replace")})
    return 0


def cmd_udp_server(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((a.bind, a.port))
    s.settimeout(a.timeout)
    ready()
    try:
        data, peer = s.recvfrom(65535)
    except socket.timeout:
        out({"error": "no datagram within %ss" % a.timeout})
        return 1
    s.sendto(b"echo:" + data, peer)
    out({"peer": list(peer), "data": data.decode(errors="replace")})
    return 0


def cmd_udp_client(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.bind_port:
        s.bind(("0.0.0.0", a.bind_port))
    msg = b"hello udp\n"
    deadline = time.monotonic() + a.timeout
    tries = 0
    # a few tries: the first datagram may be lost while ARP resolves
    while time.monotonic() < deadline:
        s.sendto(msg, (a.dst, a.port))
        tries += 1
        s.settimeout(max(0.05, min(1.0, deadline - time.monotonic())))
        try:
            reply, peer = s.recvfrom(65535)
        except socket.timeout:
            continue
        out({"local": list(s.getsockname()), "peer": list(peer), "tries": tries,
             "reply": reply.decode(errors="replace")})
        return 0
    out({"error": "no reply within %ss after %d tries" % (a.timeout, tries)})
    return 1


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("sniff")
    s.add_argument("--iface", required=True)
    s.add_argument("--timeout", type=float, default=30)
    s.set_defaults(fn=cmd_sniff)

    s = sub.add_parser("l2xchg")
    s.add_argument("--iface", required=True)
    s.add_argument("--frame", required=True)
    s.add_argument("--ethertype", default="0x0806")
    s.add_argument("--timeout", type=float, default=2)
    s.add_argument("--linger", type=float, default=0.5)
    s.set_defaults(fn=cmd_l2xchg)

    s = sub.add_parser("send-ip")
    s.add_argument("--packet", required=True)
    s.add_argument("--count", type=int, default=1)
    s.add_argument("--interval", type=float, default=0.05)
    s.set_defaults(fn=cmd_send_ip)

    for name, fn in (("tcp-server", cmd_tcp_server), ("udp-server", cmd_udp_server)):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--bind", default="0.0.0.0")
        s.add_argument("--timeout", type=float, default=10)
        s.set_defaults(fn=fn)

    for name, fn in (("tcp-client", cmd_tcp_client), ("udp-client", cmd_udp_client)):
        s = sub.add_parser(name)
        s.add_argument("--dst", required=True)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--bind-port", type=int, default=0)
        s.add_argument("--timeout", type=float, default=5)
        s.set_defaults(fn=fn)

    a = p.parse_args()
    # a hard stop whatever happens inside
    signal.alarm(int(getattr(a, "timeout", 30)) + 5)
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
