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
  send-ip    --packet HEX [--packet HEX ...] [--count N] [--interval S]
             send complete IPv4 packets as given, in the order given (raw
             socket, IP_HDRINCL)
  tcp-server --port P [--bind A] [--timeout T]  accept one connection, echo
  tcp-client --dst A --port P [--bind-port BP] [--timeout T]
  udp-server --port P [--bind A] [--timeout T]  answer one datagram
  udp-client --dst A --port P [--bind-port BP] [--timeout T]
  udp-echo   --port P [--port P ...] [--timeout T]
             echo every datagram verbatim; one JSON line per datagram
  tcp-echo   --port P [--timeout T]  like tcp-server, for any number of
             connections at once; one JSON line per connection
  tcp-many   --dst A --port P --count N [--parallel K] [--timeout T]
             N connections (connect, send a line, read the echo, close)
  udp-agent  [--timeout T]   UDP sockets driven by JSON commands on stdin,
             one JSON answer per command (see cmd_udp_agent)
  tcp-stream-echo --port P [--timeout T]
             echo every byte of any number of connections until each ends;
             one JSON line per connection
  tcp-stream --dst A --port P [--chunk B] [--interval S] [--timeout T]
             one connection sending B bytes every S seconds and checking the
             echo, until a line (or EOF) on stdin; then it half-closes, reads
             the rest of the echo and prints what it sent and got back
  udp-stream --dst A --port P --token T [--bind-port BP] [--interval S] [--timeout T]
             a datagram "T-SEQ" every S seconds from one socket, until a line
             (or EOF) on stdin; one JSON line per datagram: its seq and the
             wall-clock time (time.time()) just after it was sent
  l2burst    --iface I --frame HEX [--frame HEX ...] [--frames-file F] [--count N] [--linger L]
             [--keep K] send the frames, N rounds, as fast as the socket
             takes them; then collect incoming frames for L seconds; prints
             how many were sent, how long it took, and the first K incoming
             frames (hex) with the number of incoming frames in all
  udp-many   --dst A --port P --count N [--token T] [--timeout T]
             N datagrams, each from a new socket (a new source port), each
             resent every 0.3 s until its echo comes back (or the deadline)
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
    pkts = [bytes.fromhex(h) for h in a.packet]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    for i in range(a.count):
        if i:
            time.sleep(a.interval)
        for pkt in pkts:
            s.sendto(pkt, (socket.inet_ntoa(pkt[16:20]), 0))
    out({"sent": a.count * len(pkts)})


def recv_to_end(s):
    """Everything socket s receives until the peer closes its side."""
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk


def echo_line(c):
    """Reads from connection c up to a newline (or the end) and answers
    "echo:" and what it read; returns what it read, also when the
    connection failed or timed out midway."""
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = c.recv(4096)
            if not chunk:
                break
            data += chunk
        c.sendall(b"echo:" + data)
    except OSError:
        pass
    return data


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
    data = echo_line(c)
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
        reply = recv_to_end(s)
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


def cmd_udp_echo(a):
    socks = []
    for port in a.port:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        s.bind((a.bind, port))
        socks.append(s)
    ready()
    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select(socks, [], [], min(left, 0.5))
        for s in r:
            data, peer = s.recvfrom(65535)
            try:
                s.sendto(data, peer)
            except OSError as e:
                out({"port": s.getsockname()[1], "peer": list(peer), "error": str(e)})
                continue
            out({"port": s.getsockname()[1], "peer": list(peer), "len": len(data),
                 "head": data[:48].decode("latin-1")})
    out({"end": True})


def tcp_server(a, backlog, serve):
    """Listens on a.bind:a.port, says ready, and until a.timeout runs
    serve(conn, peer, report) in a thread of its own for each connection;
    report(record) prints one record (one thread at a time). Last: {"end": true}."""
    import threading
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((a.bind, a.port))
    ls.listen(backlog)
    ready()
    lock = threading.Lock()

    def report(record):
        with lock:
            out(record)

    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([ls], [], [], min(left, 0.5))
        if r:
            c, peer = ls.accept()
            threading.Thread(target=serve, args=(c, peer, report), daemon=True).start()
    out({"end": True})


def cmd_tcp_echo(a):
    def serve(c, peer, report):
        c.settimeout(10)
        try:
            data = echo_line(c)
        finally:
            local = c.getsockname()
            c.close()
        report({"peer": list(peer), "local": list(local), "data": data.decode(errors="replace")})

    tcp_server(a, 512, serve)


def cmd_tcp_many(a):
    import threading
    lock = threading.Lock()
    res = {"ok": 0, "failed": 0, "errors": [], "locals": []}
    todo = list(range(a.count))
    deadline = time.monotonic() + a.timeout

    def one(i):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(max(0.5, min(10.0, deadline - time.monotonic())))
        try:
            s.connect((a.dst, a.port))
            local = s.getsockname()
            msg = ("conn %d from %s:%d\n" % (i, local[0], local[1])).encode()
            s.sendall(msg)
            reply = recv_to_end(s)
            if reply != b"echo:" + msg:
                raise ValueError("bad echo %r" % reply[:80])
            return local[1], None
        except (OSError, ValueError) as e:
            return None, "%d: %s: %s" % (i, type(e).__name__, e)
        finally:
            s.close()

    def worker():
        while time.monotonic() < deadline:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            port, err = one(i)
            with lock:
                if err is None:
                    res["ok"] += 1
                    res["locals"].append(port)
                else:
                    res["failed"] += 1
                    if len(res["errors"]) < 5:
                        res["errors"].append(err)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(a.parallel)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, deadline - time.monotonic()))
    with lock:
        res["not_started"] = len(todo)
        out(res)
    return 0 if res["ok"] == a.count else 1


def cmd_udp_agent(a):
    """UDP sockets driven by one JSON command per stdin line; one JSON answer
    per command (always with "ok"). Datagrams are payload `token` padded with
    '.' to `len` bytes. Commands (name: a socket's label):
      {"op": "open", "name": N, "bind_port": P, "connect": [A, P] or null}
      {"op": "xchg", "name": N, "dst": A, "port": P, "token": T, "len": L, "timeout": S}
           send, until a datagram from (A, P) comes back (resent every 0.5 s)
      {"op": "send", "name": N, "dst": A, "port": P, "token": T, "len": L}
      {"op": "recv", "name": N, "timeout": S}   every datagram until S passes
      {"op": "close", "name": N}
    Received datagrams are reported as {"from": [A, P], "len": L, "head": H,
    "data_ok": payload equals what was sent with that token}; a socket error
    (ECONNREFUSED on a connected socket) as {"error": NAME, "errno": E}.
    """
    import errno as errno_mod
    socks = {}
    sent = {}

    def payload(token, length):
        b = token.encode()
        return b + b"." * max(0, length - len(b))

    def describe(data, peer):
        head = data[:48].decode("latin-1")
        token = head.split(".")[0]
        return {"from": list(peer), "len": len(data), "head": head,
                "data_ok": sent.get(token) == data}

    def recv_some(s, until, stop_on=None):
        got = []
        while True:
            left = until - time.monotonic()
            if left <= 0:
                return got
            r, _, _ = select.select([s], [], [], left)
            if not r:
                continue
            try:
                data, peer = s.recvfrom(65535)
            except OSError as e:
                got.append({"error": errno_mod.errorcode.get(e.errno, str(e.errno)), "errno": e.errno})
                continue
            got.append(describe(data, peer))
            if stop_on and stop_on(peer):
                return got

    ready()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            c = json.loads(line)
            op = c["op"]
            if op == "open":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                s.bind(("0.0.0.0", c.get("bind_port", 0)))
                if c.get("connect"):
                    s.connect(tuple(c["connect"]))
                socks[c["name"]] = s
                out({"ok": True, "local": list(s.getsockname())})
            elif op in ("xchg", "send"):
                s = socks[c["name"]]
                data = payload(c["token"], c.get("len", 0))
                sent[c["token"]] = data
                dst = (c["dst"], c["port"])
                if op == "send":
                    s.sendto(data, dst)
                    out({"ok": True})
                    continue
                until = time.monotonic() + c.get("timeout", 5)
                got, tries = [], 0
                while time.monotonic() < until and not any(g.get("from") == list(dst) for g in got):
                    s.sendto(data, dst)
                    tries += 1
                    got += recv_some(s, min(until, time.monotonic() + 0.5), lambda p: p == dst)
                replies = [g for g in got if g.get("from") == list(dst)]
                out({"ok": bool(replies), "tries": tries, "reply": replies[0] if replies else None,
                     "received": got})
            elif op == "recv":
                got = recv_some(socks[c["name"]], time.monotonic() + c.get("timeout", 1))
                out({"ok": True, "received": got})
            elif op == "close":
                socks.pop(c["name"]).close()
                out({"ok": True})
            else:
                out({"ok": False, "error": "unknown op %r" % op})
        except Exception as e:  # report, keep serving
            out({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    return 0


def cmd_tcp_stream_echo(a):
    def serve(c, peer, report):
        total, err = 0, None
        c.settimeout(a.timeout)
        try:
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                c.sendall(chunk)
                total += len(chunk)
        except OSError as e:
            err = "%s: %s" % (type(e).__name__, e)
        finally:
            c.close()
        report({"peer": list(peer), "bytes": total, "error": err})

    tcp_server(a, 16, serve)


def cmd_tcp_stream(a):
    pattern = bytes(range(256)) * 64  # 16 KB; the stream is this, repeated
    res = {"sent": 0, "received": 0, "match": True, "error": None}
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(min(10.0, a.timeout))
    try:
        s.connect((a.dst, a.port))
    except OSError as e:
        res["error"] = "connect: %s: %s" % (type(e).__name__, e)
        out(res)
        return 1
    res["local"] = list(s.getsockname())
    s.setblocking(False)
    ready()
    deadline = time.monotonic() + a.timeout
    stdin_open, wr_open = True, True
    next_send = time.monotonic()
    pending = b""  # the part of the current chunk not written yet

    def check(chunk):
        off = res["received"] % len(pattern)
        want = (pattern[off:] + pattern * (len(chunk) // len(pattern) + 1))[:len(chunk)]
        if chunk != want:
            res["match"] = False
        res["received"] += len(chunk)

    try:
        while True:
            now = time.monotonic()
            if now >= deadline:
                res["error"] = "timeout after %ss" % a.timeout
                break
            if wr_open and stdin_open and not pending and now >= next_send:
                off = res["sent"] % len(pattern)
                pending = (pattern[off:] + pattern)[:a.chunk]
                next_send = now + a.interval
            if wr_open and not stdin_open and not pending:
                s.shutdown(socket.SHUT_WR)  # the echo server closes once it has echoed it all
                wr_open = False
            wait = 0.5 if (pending or not wr_open) else max(0.0, next_send - now)
            rlist = [s] + ([sys.stdin] if stdin_open else [])
            r, w, _ = select.select(rlist, [s] if pending else [], [], min(wait, deadline - now))
            if sys.stdin in r:
                sys.stdin.readline()  # any line, or EOF: stop sending
                stdin_open = False
            if s in r:
                chunk = s.recv(65536)
                if not chunk:
                    if wr_open or res["received"] != res["sent"]:
                        res["error"] = "closed by the peer after %d of %d bytes" % (res["received"], res["sent"])
                    break
                check(chunk)
            if s in w and pending:
                try:
                    n = s.send(pending)
                except BlockingIOError:
                    n = 0
                res["sent"] += n
                pending = pending[n:]
    except OSError as e:
        res["error"] = "%s: %s" % (type(e).__name__, e)
    finally:
        s.close()
    out(res)
    return 0 if res["error"] is None and res["match"] and res["sent"] == res["received"] else 1

def cmd_udp_stream(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if a.bind_port:
        s.bind(("0.0.0.0", a.bind_port))
    ready()
    deadline = time.monotonic() + a.timeout
    next_send = time.monotonic()
    seq = 0
    while True:
        now = time.monotonic()
        if now >= deadline:
            break
        r, _, _ = select.select([sys.stdin], [], [], max(0.0, min(next_send - now, deadline - now)))
        if r:
            sys.stdin.readline()  # any line, or EOF: stop
            break
        if time.monotonic() < next_send:
            continue
        try:
            s.sendto(("%s-%06d" % (a.token, seq)).encode(), (a.dst, a.port))
            out({"seq": seq, "t": time.time()})
        except OSError as e:  # e.g. ECONNREFUSED from an earlier port unreachable
            out({"seq": seq, "t": time.time(), "error": str(e)})
        seq += 1
        next_send += a.interval
    out({"end": True, "sent": seq})
    return 0


def cmd_l2burst(a):
    frames = [bytes.fromhex(h) for h in a.frame or []]
    if a.frames_file:
        with open(a.frames_file) as f:
            frames += [bytes.fromhex(ln.strip()) for ln in f if ln.strip()]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
    s.bind((a.iface, 0))
    got, kept = 0, []

    def drain(timeout):
        nonlocal got
        while True:
            r, _, _ = select.select([s], [], [], timeout)
            if not r:
                return
            data, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING:
                continue
            got += 1
            if len(kept) < a.keep:
                kept.append(data.hex())

    sent, errors = 0, 0
    t0 = time.monotonic()
    for _ in range(a.count):
        for f in frames:
            try:
                s.send(f)
                sent += 1
            except OSError:  # ENOBUFS: the queue is full, the frame is lost
                errors += 1
    elapsed = time.monotonic() - t0
    deadline = time.monotonic() + a.linger
    while time.monotonic() < deadline:
        drain(max(0.0, min(0.2, deadline - time.monotonic())))
    out({"sent": sent, "send_errors": errors, "elapsed": elapsed, "received": got, "frames": kept})


def cmd_udp_many(a):
    deadline = time.monotonic() + a.timeout
    res = {"ok": 0, "failed": 0, "ports": []}
    for i in range(a.count):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", 0))
        msg = ("%s-%d" % (a.token, i)).encode()
        ok = False
        while not ok and time.monotonic() < deadline:
            s.sendto(msg, (a.dst, a.port))
            end = min(deadline, time.monotonic() + 0.3)
            while time.monotonic() < end:
                r, _, _ = select.select([s], [], [], max(0.0, end - time.monotonic()))
                if not r:
                    break
                try:
                    data, peer = s.recvfrom(65535)
                except OSError:
                    continue
                if data == msg and peer == (a.dst, a.port):
                    ok = True
                    break
        res["ok" if ok else "failed"] += 1
        res["ports"].append(s.getsockname()[1])
        s.close()
    out(res)
    return 0 if res["failed"] == 0 else 1


# Options that several sub-commands share: (flag, add_argument keywords).
PORT = ("--port", dict(type=int, required=True))
DST = ("--dst", dict(required=True))
BIND = ("--bind", dict(default="0.0.0.0"))
IFACE = ("--iface", dict(required=True))


def timeout(seconds):
    return ("--timeout", dict(type=float, default=seconds))


# Each sub-command: its name, its function and its options.
COMMANDS = [
    ("sniff", cmd_sniff, [IFACE, timeout(30)]),
    ("l2xchg", cmd_l2xchg, [IFACE, ("--frame", dict(required=True)), ("--ethertype", dict(default="0x0806")),
                            timeout(2), ("--linger", dict(type=float, default=0.5))]),
    ("send-ip", cmd_send_ip, [("--packet", dict(required=True, action="append")),
                              ("--count", dict(type=int, default=1)),
                              ("--interval", dict(type=float, default=0.05))]),
    ("tcp-server", cmd_tcp_server, [PORT, BIND, timeout(10)]),
    ("udp-server", cmd_udp_server, [PORT, BIND, timeout(10)]),
    ("tcp-client", cmd_tcp_client, [DST, PORT, ("--bind-port", dict(type=int, default=0)), timeout(5)]),
    ("udp-client", cmd_udp_client, [DST, PORT, ("--bind-port", dict(type=int, default=0)), timeout(5)]),
    ("udp-echo", cmd_udp_echo, [("--port", dict(type=int, required=True, action="append")), BIND, timeout(60)]),
    ("tcp-echo", cmd_tcp_echo, [PORT, BIND, timeout(60)]),
    ("tcp-many", cmd_tcp_many, [DST, PORT, ("--count", dict(type=int, required=True)),
                                ("--parallel", dict(type=int, default=8)), timeout(60)]),
    ("udp-agent", cmd_udp_agent, [timeout(120)]),
    ("tcp-stream-echo", cmd_tcp_stream_echo, [PORT, BIND, timeout(60)]),
    ("tcp-stream", cmd_tcp_stream, [DST, PORT, ("--chunk", dict(type=int, default=1000)),
                                    ("--interval", dict(type=float, default=0.005)), timeout(60)]),
    ("udp-stream", cmd_udp_stream, [DST, PORT, ("--token", dict(required=True)),
                                    ("--bind-port", dict(type=int, default=0)),
                                    ("--interval", dict(type=float, default=0.02)), timeout(60)]),
    ("l2burst", cmd_l2burst, [IFACE, ("--frame", dict(action="append")),
                              ("--frames-file", dict(help="more frames, one hex line each")),
                              ("--count", dict(type=int, default=1)), ("--linger", dict(type=float, default=1.0)),
                              ("--keep", dict(type=int, default=10000)), timeout(30)]),
    ("udp-many", cmd_udp_many, [DST, PORT, ("--count", dict(type=int, required=True)),
                                ("--token", dict(default="many")), timeout(60)]),
]


def parser():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, fn, options in COMMANDS:
        s = sub.add_parser(name)
        for flag, kw in options:
            s.add_argument(flag, **kw)
        s.set_defaults(fn=fn)
    return p


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    p = parser()
    a = p.parse_args()
    # a hard stop whatever happens inside
    signal.alarm(int(getattr(a, "timeout", 30)) + 5)
    sys.exit(a.fn(a) or 0)


if __name__ == "__main__":
    main()
