"""The focal unit's zip of a revoked mailbox, checked against what was stored.
  fill ADDRESS PASSWORD   store the messages (INBOX and a nested folder with a Vietnamese name)
  check ZIP               the zip holds one mboxrd file per folder, each message byte for byte,
                          and a manifest that counts them"""
import json
import re
import sys
import zipfile

from imap_common import imaps, ok

FOLDER = "Dự án/2026"


def messages():
    """(folder, raw) in the order they are stored; bodies with `From ` lines to be quoted."""
    out = []
    for i in range(3):
        out.append(("INBOX", (f"From: a{i}@example.org\r\nSubject: Thư {i}\r\n\r\n"
                              f"Dòng một\r\nFrom here {i}\r\n>From there\r\n").encode()))
    out.append((FOLDER, "From: b@example.org\r\nSubject: Dự án\r\n\r\nKế hoạch 2026\r\n".encode()))
    return out


def imap_name(name):
    # Modified UTF-7 (RFC 3501 §5.1.3) for the folder name.
    def enc(chunk):
        import base64
        b = base64.b64encode(chunk.encode("utf-16-be")).decode().rstrip("=")
        return "&" + b.replace("/", ",") + "-"
    out, run = "", ""
    for ch in name:
        if 0x20 <= ord(ch) <= 0x7e:
            if run:
                out += enc(run)
                run = ""
            out += "&-" if ch == "&" else ch
        else:
            run += ch
    if run:
        out += enc(run)
    return out


def fill(address, password):
    conn = imaps(address, password)
    ok(conn.create('"' + imap_name(FOLDER) + '"'))
    for folder, raw in messages():
        name = "INBOX" if folder == "INBOX" else '"' + imap_name(folder) + '"'
        ok(conn.append(name, None, None, raw))
    conn.logout()


def parse_mboxrd(data):
    found, current = [], None
    for line in data.split(b"\n")[:-1]:
        if line.startswith(b"From "):
            if current is not None:
                found.append(current)
            current = []
            continue
        if re.match(rb"^>+From ", line):
            line = line[1:]
        current.append(line)
    if current is not None:
        found.append(current)
    # Each message ends with the blank separator line the writer adds.
    return [b"\n".join(m[:-1]) + b"\n" for m in found]


def check(path):
    with zipfile.ZipFile(path) as z:
        names = sorted(z.namelist())
        manifest = json.loads(z.read("manifest.json"))
        by_folder = {}
        for folder, raw in messages():
            by_folder.setdefault(folder, []).append(raw)
        assert {"INBOX.mbox", FOLDER + ".mbox", "manifest.json"} <= set(names), names
        assert all(n.endswith(".mbox") for n in names if n != "manifest.json"), names
        for folder, raws in by_folder.items():
            got = parse_mboxrd(z.read(folder + ".mbox"))
            assert got == raws, (folder, got, raws)
        counts = {f["folder"]: f["messages"] for f in manifest["folders"]}
        assert counts["INBOX"] == 3 and counts[FOLDER] == 1, manifest
        assert manifest["format"] == "mboxrd", manifest
    print("OK")


if sys.argv[1] == "fill":
    fill(sys.argv[2], sys.argv[3])
    print("OK")
else:
    check(sys.argv[2])
