#!/usr/bin/env python3
"""A tiny DNS server on loopback (UDP) for the inbound benchmark: point hopthu's
`[dns] resolvers` at it to measure inbound mail with a resolver that answers nothing (a DNS
outage as the server sees it) or one that answers at once.

Modes:
  swallow   never answers (every look-up waits until `[dns] message_budget` ends it)
  answer    answers every query at once: the TXT records given with --txt, NXDOMAIN (with an
            SOA, so resolvers cache it) for everything else

Python standard library only. Prints how many queries it received when stopped (Ctrl-C or
SIGTERM).

Example:
    tools/smtp-bench/fake_dns.py --port 5353 --mode answer \
        --txt 'example.org=v=spf1 ip4:127.0.0.1 -all'
"""

import argparse
import signal
import socket
import struct
import sys

TTL = 300


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--port", type=int, default=5353)
    p.add_argument("--mode", choices=["swallow", "answer"], default="swallow")
    p.add_argument("--txt", action="append", default=[], metavar="NAME=TEXT",
                   help="a TXT record served in answer mode (repeatable)")
    return p.parse_args()


def question(packet):
    """Returns (name, qtype, end of the question) or None."""
    if len(packet) < 12 or packet[2] & 0x80:
        return None
    labels, at = [], 12
    while True:
        if at >= len(packet):
            return None
        n = packet[at]
        at += 1
        if n == 0:
            break
        if n > 63:
            return None
        labels.append(packet[at:at + n].decode("ascii", "replace").lower())
        at += n
    if at + 4 > len(packet):
        return None
    qtype = struct.unpack("!H", packet[at:at + 2])[0]
    return ".".join(labels), qtype, at + 4


def answer(packet, end, text):
    rd = packet[2] & 1
    header = packet[:2] + bytes([0x84 | rd, 0x80 | (0 if text is not None else 3)])
    if text is not None:
        data = text.encode()
        rdata = b"".join(bytes([len(c)]) + c for c in (data[i:i + 255] for i in range(0, len(data), 255)))
        counts = struct.pack("!HHHH", 1, 1, 0, 0)
        record = b"\xc0\x0c" + struct.pack("!HHIH", 16, 1, TTL, len(rdata)) + rdata
    else:
        counts = struct.pack("!HHHH", 1, 0, 1, 0)
        soa = b"\x00\x00" + struct.pack("!IIIII", 1, 3600, 600, 86400, TTL)
        record = b"\x00" + struct.pack("!HHIH", 6, 1, TTL, len(soa)) + soa
    return header + counts + packet[12:end] + record


def main():
    args = parse_args()
    records = {}
    for item in args.txt:
        name, _, text = item.partition("=")
        records[name.lower().rstrip(".")] = text
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", args.port))
    received = 0

    def stop(*_):
        print(f"fake_dns: {received} queries received", flush=True)
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"fake_dns: {args.mode} on 127.0.0.1:{args.port}", flush=True)
    while True:
        packet, peer = sock.recvfrom(1500)
        q = question(packet)
        if q is None:
            continue
        received += 1
        if args.mode == "swallow":
            continue
        name, qtype, end = q
        text = records.get(name) if qtype == 16 else None
        sock.sendto(answer(packet, end, text), peer)


if __name__ == "__main__":
    main()
