#!/usr/bin/env python3
"""Webmail benchmark for hopthu: message-list latency on a 100,000-message folder and the page
weight of the inbox.

1. fill:  appends --distinct synthetic Vietnamese messages to INBOX over IMAPS, then doubles the
          folder with `UID COPY 1:* INBOX` until it holds at least --messages (a copy is one
          transaction, so 100,000 messages take seconds rather than 100,000 fsyncs);
2. list:  signs in to the webmail over HTTPS like a browser (sign-in form, CSRF token, cookie)
          and times --requests GETs of the first page of the folder and of deep pages
          (`?before=<uid>` at random positions), printing p50/p95/max per kind;
3. weight: the bytes a browser transfers for the inbox on a first visit (HTML, CSS, JS; the
          static files are cached for a year afterwards), and on a later visit (HTML only).

Standard library only. Example (hopthu with https on 9443 and imaps on 9993):

    tools/web-bench/web_bench.py --https-port 9443 --imaps-port 9993 \
        --user bench@caobang.gov.vn --password mat-khau-bench-1 --messages 100000
"""
import argparse
import http.client
import imaplib
import random
import re
import ssl
import statistics
import time
import urllib.parse

WORDS = ("báo cáo kế hoạch công văn thông báo giấy mời họp giao ban quyết định tờ trình dự thảo "
         "ngân sách tỉnh huyện xã đơn vị cán bộ công chức viên chức tổng hợp số liệu tháng quý năm "
         "triển khai thực hiện chỉ đạo ủy ban nhân dân sở ban ngành phòng tổ chức hành chính").split()
NAMES = ["Nông Văn Đạt", "Bế Thị Hòa", "Hoàng Minh Lan", "Lục Đức Hùng", "Đàm Thị Thảo"]


def insecure():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def message(rng, i):
    subject = " ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize()
    body = "\r\n".join(" ".join(rng.choice(WORDS) for _ in range(14)) for _ in range(rng.randint(5, 30)))
    return ("From: %s <user%d@caobang.gov.vn>\r\nTo: bench@caobang.gov.vn\r\nSubject: %s\r\n"
            "Date: Mon, 5 Feb 2024 08:%02d:00 +0700\r\nMessage-ID: <%d.%d@bench>\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n%s\r\n"
            % (rng.choice(NAMES), i, subject, i % 60, i, rng.randint(0, 1 << 30), body)).encode()


def fill(args):
    imap = imaplib.IMAP4_SSL(args.host, args.imaps_port, ssl_context=insecure(), timeout=600)
    imap.login(args.user, args.password)
    typ, data = imap.select("INBOX")
    have = int(data[0])
    rng = random.Random(7)
    started = time.time()
    for i in range(have, min(args.distinct, args.messages)):
        typ, _ = imap.append("INBOX", None, None, message(rng, i))
        assert typ == "OK"
    while True:
        typ, data = imap.select("INBOX")
        have = int(data[0])
        if have >= args.messages:
            break
        typ, data = imap.uid("COPY", "1:*", "INBOX")
        assert typ == "OK", data
    imap.logout()
    print("fill: INBOX holds %d messages (%.1f s)" % (have, time.time() - started))


class Web:
    def __init__(self, args):
        self.args = args
        self.cookies = {}
        self.conn = http.client.HTTPSConnection(args.host, args.https_port, context=insecure(), timeout=60)

    def request(self, method, path, body=None):
        headers = {"Cookie": "; ".join("%s=%s" % kv for kv in self.cookies.items())}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        data = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, value = v.split(";", 1)[0].split("=", 1)
                self.cookies[name] = value
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data

    def sign_in(self):
        _, _, page = self.request("GET", "/login")
        csrf = re.search(rb'name="csrf" value="([0-9a-f]+)"', page).group(1).decode()
        form = urllib.parse.urlencode({"csrf": csrf, "login": self.args.user, "password": self.args.password})
        status, headers, _ = self.request("POST", "/login", form)
        assert status == 303 and headers["location"] == "/mail", (status, headers)
        status, headers, _ = self.request("GET", "/mail")
        return headers["location"]


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def report(name, times):
    ms = [t * 1000 for t in times]
    print("%-28s n=%-5d p50=%7.1f ms  p95=%7.1f ms  max=%7.1f ms  mean=%7.1f ms"
          % (name, len(ms), pct(ms, 50), pct(ms, 95), max(ms), statistics.mean(ms)))


def bench(args):
    web = Web(args)
    inbox = web.sign_in()
    status, _, first = web.request("GET", inbox)
    assert status == 200
    uids = [int(u) for u in re.findall(rb'name="uid" value="(\d+)"', first)]
    top = max(uids)
    rows = len(uids)
    for _ in range(5):  # warm-up
        web.request("GET", inbox)
    first_times, deep_times = [], []
    rng = random.Random(11)
    for _ in range(args.requests):
        t = time.perf_counter()
        status, _, _ = web.request("GET", inbox)
        first_times.append(time.perf_counter() - t)
        assert status == 200
        before = rng.randint(2, top)
        t = time.perf_counter()
        status, _, page = web.request("GET", "%s?before=%d" % (inbox, before))
        deep_times.append(time.perf_counter() - t)
        assert status == 200 and b'name="uid"' in page
    print("list: folder of %d messages, %d rows per page" % (top, rows))
    report("first page", first_times)
    report("deep page (?before=uid)", deep_times)
    t = time.perf_counter()
    status, _, _ = web.request("GET", inbox + "?q=" + urllib.parse.quote("ngân sách"))
    print("search 'ngân sách' over the folder: %.1f ms (status %d)" % ((time.perf_counter() - t) * 1000, status))
    css = re.search(rb'href="(/static/app\.css[^"]*)"', first).group(1).decode()
    js = re.search(rb'src="(/static/app\.js[^"]*)"', first).group(1).decode()
    _, _, css_body = web.request("GET", css)
    _, js_headers, js_body = web.request("GET", js)
    total = len(first) + len(css_body) + len(js_body)
    print("weight: inbox HTML %d B + CSS %d B + JS %d B = %d B on a first visit; %d B after "
          "(static files cached: %s)" % (len(first), len(css_body), len(js_body), total, len(first),
                                          js_headers.get("cache-control", "?")))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--https-port", type=int, required=True)
    p.add_argument("--imaps-port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--messages", type=int, default=100000)
    p.add_argument("--distinct", type=int, default=400)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--skip-fill", action="store_true")
    args = p.parse_args()
    if not args.skip_fill:
        fill(args)
    bench(args)


if __name__ == "__main__":
    main()
