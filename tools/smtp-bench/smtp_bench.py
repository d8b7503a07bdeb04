#!/usr/bin/env python3
"""Inbound SMTP benchmark: N concurrent sessions deliver mail to local mailboxes over plain SMTP
(the MX port), and the tool prints messages per second and the acknowledgement latency (from the
final "." of DATA to the server's 250) at p50/p99/max.

Python standard library only. Each session pipelines MAIL/RCPT/DATA (RFC 2920) and sends
messages back to back on one connection, like a relaying MTA. It speaks plain SMTP, so the same
command measures any server (e.g. Postfix delivering into Dovecot) on the same machine.

Example:
    tools/smtp-bench/smtp_bench.py --port 2525 --sessions 20 --messages 200 \
        --rcpt a@caobang.gov.vn,b@caobang.gov.vn --size 4096
"""

import argparse
import socket
import sys
import threading
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--sessions", type=int, default=10, help="concurrent SMTP sessions")
    p.add_argument("--messages", type=int, default=100, help="messages per session")
    p.add_argument("--rcpt", required=True, help="comma-separated local recipients (round robin)")
    p.add_argument("--sender", default="bench@example.org")
    p.add_argument("--size", type=int, default=4096, help="approximate message size in bytes")
    return p.parse_args()


class Session:
    def __init__(self, host, port):
        self.sock = socket.create_connection((host, port), timeout=120)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb")

    def reply(self):
        """Reads one (possibly multi-line) reply; returns (code, last line)."""
        while True:
            line = self.reader.readline()
            if not line:
                raise ConnectionError("connection closed")
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3]), line.decode("utf-8", "replace").strip()

    def send(self, data):
        self.sock.sendall(data)

    def close(self):
        try:
            self.send(b"QUIT\r\n")
            self.reply()
        except OSError:
            pass
        self.sock.close()


def body(i, size):
    head = (
        f"From: <bench@example.org>\r\nTo: <bench@caobang.gov.vn>\r\nSubject: Benchmark {i}\r\n"
        f"Message-ID: <bench.{i}.{time.time_ns()}@example.org>\r\n"
        "Date: Fri, 28 Nov 2025 10:00:00 +0700\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
    )
    # Built without re-encoding in a loop: the client's own CPU should not limit the figures.
    line = "Kính gửi các đơn vị trực thuộc tỉnh Cao Bằng, báo cáo số liệu tháng.\r\n".encode()
    head = head.encode()
    repeats = max(0, -(-(size - len(head)) // len(line)))
    return head + line * repeats


def worker(args, index, rcpts, latencies, errors, start):
    try:
        s = Session(args.host, args.port)
        code, line = s.reply()
        if code != 220:
            raise RuntimeError(f"greeting: {line}")
        s.send(b"EHLO bench.example.org\r\n")
        code, line = s.reply()
        if code != 250:
            raise RuntimeError(f"EHLO: {line}")
        start.wait()
        for m in range(args.messages):
            n = index * args.messages + m
            rcpt = rcpts[n % len(rcpts)]
            s.send(f"MAIL FROM:<{args.sender}>\r\nRCPT TO:<{rcpt}>\r\nDATA\r\n".encode())
            for want in (250, 250, 354):
                code, line = s.reply()
                if code != want:
                    raise RuntimeError(f"expected {want}: {line}")
            s.send(body(n, args.size))
            t0 = time.perf_counter()
            s.send(b".\r\n")
            code, line = s.reply()
            t1 = time.perf_counter()
            if code != 250:
                raise RuntimeError(f"end of DATA: {line}")
            latencies.append(t1 - t0)
        s.close()
    except Exception as e:  # reported once at the end
        errors.append(f"session {index}: {e}")


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    args = parse_args()
    rcpts = [r.strip() for r in args.rcpt.split(",") if r.strip()]
    latencies, errors = [], []
    start = threading.Barrier(args.sessions + 1)
    threads = [
        threading.Thread(target=worker, args=(args, i, rcpts, latencies, errors, start), daemon=True)
        for i in range(args.sessions)
    ]
    for t in threads:
        t.start()
    try:
        start.wait(timeout=60)
    except threading.BrokenBarrierError:
        print("sessions did not all connect:", *errors, sep="\n  ", file=sys.stderr)
        return 1
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    done = len(latencies)
    lat = sorted(latencies)
    print(f"sessions {args.sessions}, messages {done} of {args.sessions * args.messages}, "
          f"size ~{args.size} B, {elapsed:.2f} s")
    print(f"throughput: {done / elapsed:.1f} messages/s")
    print(f"ack latency: p50 {percentile(lat, 50) * 1000:.1f} ms, "
          f"p99 {percentile(lat, 99) * 1000:.1f} ms, max {lat[-1] * 1000 if lat else float('nan'):.1f} ms")
    for e in errors[:10]:
        print(f"error: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
