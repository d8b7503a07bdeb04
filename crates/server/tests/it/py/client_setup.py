"""The requests mail clients send to set themselves up, as they send them, and the documents
parsed with Python's own parsers. Prints one JSON object.

client_setup.py thunderbird ADDRESS [HOST]  -- GET /mail/config-v1.1.xml?emailaddress=… (and the
                                               /.well-known/ path), Host autoconfig.<domain>
client_setup.py outlook ADDRESS [BODY]      -- POST /autodiscover/autodiscover.xml, text/xml
client_setup.py apple COOKIE                -- GET /settings/mobileconfig as a signed-in user
"""
import http.client
import json
import os
import plistlib
import sys
import urllib.parse
import xml.etree.ElementTree as ET

HOST = os.environ["HOPTHU_HOST"]
PORT = int(os.environ["HOPTHU_HTTP_PORT"])
DOMAIN = os.environ["HOPTHU_DOMAIN"]


def request(method, path, headers, body=None):
    c = http.client.HTTPConnection(HOST, PORT, timeout=20)
    c.request(method, path, body=body, headers=headers)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, dict((k.lower(), v) for k, v in r.getheaders()), data


def servers(root, tag):
    out = []
    for s in root.iter(tag):
        out.append({
            "type": s.get("type"),
            "hostname": s.findtext("hostname"),
            "port": int(s.findtext("port")),
            "socketType": s.findtext("socketType"),
            "authentication": s.findtext("authentication"),
            "username": s.findtext("username"),
        })
    return out


def thunderbird(address):
    # Thunderbird 115+: https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>,
    # the address percent-encoded; then the domain's own /.well-known/ path.
    query = urllib.parse.urlencode({"emailaddress": address})
    result = {}
    for name, path, host in [
        ("autoconfig", "/mail/config-v1.1.xml?" + query, "autoconfig." + DOMAIN),
        ("well_known", "/.well-known/autoconfig/mail/config-v1.1.xml?" + query, DOMAIN),
    ]:
        status, headers, body = request("GET", path, {
            "Host": host,
            "User-Agent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Thunderbird/128.5.0",
            "Accept": "*/*",
        })
        entry = {"status": status, "content_type": headers.get("content-type")}
        if status == 200:
            root = ET.fromstring(body)
            assert root.tag == "clientConfig" and root.get("version") == "1.1", root.tag
            provider = root.find("emailProvider")
            entry["domain"] = provider.findtext("domain")
            entry["incoming"] = servers(provider, "incomingServer")
            entry["outgoing"] = servers(provider, "outgoingServer")
            entry["carddav"] = root.findtext("addressBook/serverURL")
        result[name] = entry
    return result


OUTLOOK_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">'
    "<Request><EMailAddress>{}</EMailAddress>"
    "<AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema>"
    "</Request></Autodiscover>"
)

AD = "{http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006}"
ADR = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"


def outlook(address, body=None, path="/autodiscover/autodiscover.xml"):
    body = (body if body is not None else OUTLOOK_BODY.format(address)).encode()
    status, headers, data = request("POST", path, {
        "Host": "autodiscover." + DOMAIN,
        "Content-Type": "text/xml",
        "User-Agent": "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)",
        "Content-Length": str(len(body)),
    }, body)
    entry = {"status": status, "content_type": headers.get("content-type")}
    root = ET.fromstring(data)
    assert root.tag == AD + "Autodiscover", root.tag
    error = root.find(AD + "Response/" + AD + "Error")
    if error is not None:
        entry["error"] = error.findtext(AD + "ErrorCode")
        return entry
    account = root.find(ADR + "Response/" + ADR + "Account")
    entry["account_type"] = account.findtext(ADR + "AccountType")
    entry["action"] = account.findtext(ADR + "Action")
    entry["protocols"] = [
        {child.tag.replace(ADR, ""): child.text for child in p}
        for p in account.findall(ADR + "Protocol")
    ]
    return entry


def apple(cookie):
    status, headers, data = request("GET", "/settings/mobileconfig", {
        "Host": "mail." + DOMAIN,
        "Cookie": cookie,
        "User-Agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15",
    })
    entry = {
        "status": status,
        "content_type": headers.get("content-type"),
        "disposition": headers.get("content-disposition"),
    }
    if status == 200:
        entry["plist"] = plistlib.loads(data)
        entry["has_password"] = b"Password</key>\n      <string>" in data or b"MailServerPassword" in data
    return entry


mode = sys.argv[1]
if mode == "thunderbird":
    out = thunderbird(sys.argv[2])
elif mode == "outlook":
    if len(sys.argv) > 3:
        out = outlook(sys.argv[2], sys.argv[3])
    else:
        out = {
            "lower": outlook(sys.argv[2]),
            "upper": outlook(sys.argv[2], path="/Autodiscover/Autodiscover.xml"),
        }
else:
    out = apple(sys.argv[2])
print(json.dumps(out, default=str))
