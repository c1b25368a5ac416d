#!/usr/bin/env python3
"""Write the two ARP "seed" pcap files of the bare-metal test (README.md).

ipshare resolves its neighbours by ARP, and neither pktgen's range mode nor
testpmd's 5tswap reflector answers ARP for the addresses of the test. But
ipshare creates (or refreshes) a neighbour from an ARP reply addressed to
its own sender address on that port (docs/architecture.md, neighbour
resolution), so the testers send such replies before each trial:

  lan-seed.pcap  one reply per LAN client, "192.168.1.X is-at LAN_TESTER_MAC",
                 to lan-ip 192.168.1.1 (X = 10..250): replayed by pktgen on
                 the port wired to ipshare's lan (pcap mode);
  gw-seed.pcap   "203.0.113.1 is-at WAN_TESTER_MAC", to wan-ip 203.0.113.10:
                 replayed by reflector.sh on the port wired to ipshare's wan.

ipshare re-probes a neighbour that no ARP confirmed for 60 s and forgets it
when nobody answers, so the seeds are sent again before every trial.

Standard library only (no scapy needed on the tester).

usage: mkseed.py [--lan-mac MAC] [--wan-mac MAC] [--first 10] [--last 250] [--dir DIR]
"""

import argparse
import os
import struct
import sys

LAN_IP = "192.168.1.1"
WAN_IP = "203.0.113.10"
WAN_GW = "203.0.113.1"


def mac_bytes(text):
    b = bytes(int(x, 16) for x in text.split(":"))
    if len(b) != 6:
        raise ValueError(f"bad MAC {text!r}")
    return b


def ip_bytes(text):
    return bytes(int(x) for x in text.split("."))


def arp_reply(sender_mac, sender_ip, target_ip):
    """Ethernet broadcast, ARP reply sender -> target (ipshare accepts ARP
    to its own MAC or to broadcast), padded to the 60-byte minimum."""
    eth = b"\xff" * 6 + sender_mac + struct.pack("!H", 0x0806)
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 2) + sender_mac + ip_bytes(sender_ip) + b"\0" * 6 + ip_bytes(target_ip)
    frame = eth + arp
    return frame + b"\0" * (60 - len(frame))


def write_pcap(path, frames):
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # LINKTYPE_ETHERNET
        for fr in frames:
            f.write(struct.pack("<IIII", 0, 0, len(fr), len(fr)))
            f.write(fr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--lan-mac", default="02:ee:00:00:05:01",
                    help="MAC of the tester port wired to ipshare's lan (pktgen port 0)")
    ap.add_argument("--wan-mac", default="02:ee:00:00:01:01",
                    help="MAC of the tester port wired to ipshare's wan (the reflector); any unicast "
                         "MAC works on a direct cable, since testpmd receives in promiscuous mode")
    ap.add_argument("--first", type=int, default=10, help="first LAN client, 192.168.1.FIRST")
    ap.add_argument("--last", type=int, default=250, help="last LAN client, 192.168.1.LAST")
    ap.add_argument("--dir", default=".", help="where to write the two files")
    a = ap.parse_args()
    if not 2 <= a.first <= a.last <= 254:
        sys.exit("mkseed: clients must be within 192.168.1.2-254")
    lan, wan = mac_bytes(a.lan_mac), mac_bytes(a.wan_mac)
    clients = [f"192.168.1.{i}" for i in range(a.first, a.last + 1)]
    write_pcap(os.path.join(a.dir, "lan-seed.pcap"), [arp_reply(lan, c, LAN_IP) for c in clients])
    write_pcap(os.path.join(a.dir, "gw-seed.pcap"), [arp_reply(wan, WAN_GW, WAN_IP)])
    print(f"mkseed: {len(clients)} LAN replies ({clients[0]}-{clients[-1]} at {a.lan_mac}) in lan-seed.pcap; "
          f"{WAN_GW} at {a.wan_mac} in gw-seed.pcap")
    return 0


if __name__ == "__main__":
    sys.exit(main())
