//! Client set-up by itself: the requests Thunderbird, Outlook and an Apple device send, as
//! they send them (`py/client_setup.py`), and the documents parsed with Python's XML and
//! plist parsers. Every port is a non-standard `[public]` one, so each must come from there.

use serde_json::Value;

use super::harness::{DOMAIN, TestServer};
use super::web;

const PUBLIC: &str = "[public]\nhost = \"thu.caobang.gov.vn\"\nimaps_port = 10993\nimap_port = 0\n\
                      pop3s_port = 10995\npop3_port = 10110\nsubmissions_port = 10465\n\
                      submission_port = 10587\n";

fn start() -> TestServer {
    TestServer::start_with(PUBLIC)
}

fn run(server: &TestServer, args: &[&str]) -> Value {
    let out = server.python("client_setup.py", args);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

fn server_entry(list: &Value, kind: &str, socket: &str) -> Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["type"] == kind && s["socketType"] == socket)
        .cloned()
        .unwrap_or_else(|| panic!("no {kind} {socket} in {list}"))
}

#[test]
fn thunderbird_finds_the_public_host_and_ports() {
    let server = start();
    let address = server.add_account("nvan.test", "Nông Văn An", "An-mat-khau-2026");
    // An address with no account gets the same answer: nothing tells which accounts exist.
    for who in [address.as_str(), &format!("khong.co.ai@{DOMAIN}")] {
        let out = run(&server, &["thunderbird", who]);
        for path in ["autoconfig", "well_known"] {
            let doc = &out[path];
            assert_eq!(doc["status"], 200, "{path}: {out}");
            assert!(
                doc["content_type"].as_str().unwrap().contains("xml"),
                "{out}"
            );
            assert_eq!(doc["domain"], DOMAIN);
            let incoming = &doc["incoming"];
            let imaps = server_entry(incoming, "imap", "SSL");
            assert_eq!(imaps["hostname"], "thu.caobang.gov.vn");
            assert_eq!(imaps["port"], 10993);
            assert_eq!(imaps["username"], "%EMAILADDRESS%");
            assert_eq!(imaps["authentication"], "password-cleartext");
            assert_eq!(doc["carddav"], "https://thu.caobang.gov.vn/dav/");
            // imap_port = 0: IMAP with STARTTLS is not offered.
            assert!(
                !incoming
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|s| s["type"] == "imap" && s["socketType"] == "STARTTLS"),
                "{incoming}"
            );
            assert_eq!(server_entry(incoming, "pop3", "SSL")["port"], 10995);
            assert_eq!(server_entry(incoming, "pop3", "STARTTLS")["port"], 10110);
            let outgoing = &doc["outgoing"];
            let smtps = server_entry(outgoing, "smtp", "SSL");
            assert_eq!(smtps["port"], 10465);
            assert_eq!(smtps["hostname"], "thu.caobang.gov.vn");
            assert_eq!(server_entry(outgoing, "smtp", "STARTTLS")["port"], 10587);
        }
    }
    // Another domain's address: not ours to answer.
    let out = run(&server, &["thunderbird", "someone@gmail.com"]);
    assert_eq!(out["autoconfig"]["status"], 404, "{out}");
    assert_eq!(out["well_known"]["status"], 404, "{out}");
}

#[test]
fn outlook_autodiscover_answers_imap_and_smtp() {
    let server = start();
    let address = server.add_account("ltbich.test", "Lê Thị Bích", "Bich-mat-khau-2026");
    let out = run(&server, &["outlook", &address]);
    for case in ["lower", "upper"] {
        let doc = &out[case];
        assert_eq!(doc["status"], 200, "{out}");
        assert!(
            doc["content_type"].as_str().unwrap().contains("xml"),
            "{out}"
        );
        assert_eq!(doc["account_type"], "email");
        assert_eq!(doc["action"], "settings");
        let protocols = doc["protocols"].as_array().unwrap();
        let find = |t: &str| {
            protocols
                .iter()
                .find(|p| p["Type"] == t)
                .unwrap_or_else(|| panic!("no {t}: {out}"))
        };
        let imap = find("IMAP");
        assert_eq!(imap["Server"], "thu.caobang.gov.vn");
        assert_eq!(imap["Port"], "10993");
        assert_eq!(imap["SSL"], "on");
        assert_eq!(imap["SPA"], "off");
        assert_eq!(imap["LoginName"], address.as_str());
        let smtp = find("SMTP");
        assert_eq!(smtp["Server"], "thu.caobang.gov.vn");
        assert_eq!(smtp["Port"], "10465");
        assert_eq!(smtp["SSL"], "on");
        assert_eq!(smtp["AuthRequired"], "on");
        assert_eq!(smtp["LoginName"], address.as_str());
    }
    // No such account: the same settings, so the answer reveals nothing.
    let nobody = format!("khong.co.ai@{DOMAIN}");
    let out = run(&server, &["outlook", &nobody]);
    assert_eq!(out["lower"]["status"], 200, "{out}");
    assert_eq!(out["lower"]["protocols"][0]["LoginName"], nobody.as_str());
    // Another domain: an Autodiscover error.
    let out = run(&server, &["outlook", "someone@gmail.com"]);
    assert_eq!(out["lower"]["error"], "500", "{out}");
    // Not the request Outlook sends: 400 with error 600.
    let out = run(
        &server,
        &[
            "outlook",
            &address,
            "<Autodiscover><Request><EMailAddress>x</Request></Autodiscover>",
        ],
    );
    assert_eq!(out["status"], 400, "{out}");
    assert_eq!(out["error"], "600", "{out}");
}

#[test]
fn apple_profile_is_downloaded_from_settings() {
    let server = start();
    let address = server.add_account("hmai.test", "Hoàng Thị Mai", "Mai-mat-khau-2026");
    let (session, _) = web::sign_in(&server, &address, "Mai-mat-khau-2026");
    let (_, settings) = web::get(&server, "/settings", &session);
    assert!(
        settings.contains("href=\"/settings/mobileconfig\""),
        "{settings}"
    );
    assert!(settings.contains("thu.caobang.gov.vn"));

    let first = run(&server, &["apple", &session]);
    assert_eq!(first["status"], 200, "{first}");
    assert_eq!(first["content_type"], "application/x-apple-aspen-config");
    assert!(
        first["disposition"]
            .as_str()
            .unwrap()
            .contains(".mobileconfig"),
        "{first}"
    );
    assert_eq!(first["has_password"], false);
    let plist = &first["plist"];
    assert_eq!(plist["PayloadType"], "Configuration");
    let payloads = plist["PayloadContent"].as_array().unwrap();
    assert_eq!(payloads.len(), 2);
    let mail = &payloads[0];
    let carddav = &payloads[1];
    assert_eq!(carddav["PayloadType"], "com.apple.carddav.account");
    assert_eq!(carddav["CardDAVHostName"], "thu.caobang.gov.vn");
    assert_eq!(carddav["CardDAVUsername"], address.as_str());
    assert_eq!(
        carddav["CardDAVPrincipalURL"],
        format!("/dav/principals/{address}/")
    );
    assert_eq!(mail["PayloadType"], "com.apple.mail.managed");
    assert_eq!(mail["EmailAddress"], address.as_str());
    assert_eq!(mail["EmailAccountName"], "Hoàng Thị Mai");
    assert_eq!(mail["EmailAccountType"], "EmailTypeIMAP");
    assert_eq!(mail["IncomingMailServerHostName"], "thu.caobang.gov.vn");
    assert_eq!(mail["IncomingMailServerPortNumber"], 10993);
    assert_eq!(mail["IncomingMailServerUseSSL"], true);
    assert_eq!(mail["IncomingMailServerUsername"], address.as_str());
    assert_eq!(mail["OutgoingMailServerHostName"], "thu.caobang.gov.vn");
    assert_eq!(mail["OutgoingMailServerPortNumber"], 10465);
    assert_eq!(mail["OutgoingMailServerUseSSL"], true);
    // No password: the device asks for it when the profile is installed.
    for key in ["IncomingPassword", "OutgoingPassword"] {
        assert!(mail.get(key).is_none(), "{key} in the profile");
    }
    // Again: the same identifier (it replaces the installed one), fresh UUIDs.
    let second = run(&server, &["apple", &session]);
    let again = &second["plist"];
    assert_eq!(again["PayloadIdentifier"], plist["PayloadIdentifier"]);
    assert_eq!(
        again["PayloadContent"][0]["PayloadIdentifier"],
        mail["PayloadIdentifier"]
    );
    assert_ne!(again["PayloadUUID"], plist["PayloadUUID"]);
    assert_ne!(
        again["PayloadContent"][0]["PayloadUUID"],
        mail["PayloadUUID"]
    );
    // Without a session: the sign-in page.
    let out = run(&server, &["apple", "hopthu_session=forged"]);
    assert_eq!(out["status"], 303, "{out}");
}

#[test]
fn dns_records_name_the_public_host_and_ports() {
    let server = start();
    let out = server.cli(&["dns", "records"], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        format!("_imaps._tcp.{DOMAIN}. IN SRV 0 1 10993 thu.caobang.gov.vn."),
        format!("_imap._tcp.{DOMAIN}. IN SRV 0 0 0 ."),
        format!("_pop3s._tcp.{DOMAIN}. IN SRV 20 1 10995 thu.caobang.gov.vn."),
        format!("_pop3._tcp.{DOMAIN}. IN SRV 30 1 10110 thu.caobang.gov.vn."),
        format!("_submissions._tcp.{DOMAIN}. IN SRV 0 1 10465 thu.caobang.gov.vn."),
        format!("_submission._tcp.{DOMAIN}. IN SRV 10 1 10587 thu.caobang.gov.vn."),
        format!("autoconfig.{DOMAIN}. IN CNAME thu.caobang.gov.vn."),
        format!("autodiscover.{DOMAIN}. IN CNAME thu.caobang.gov.vn."),
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
    }
    // The landing page tells the same host and ports.
    let (_, home) = web::get(&server, "/", "");
    assert!(home.contains("thu.caobang.gov.vn"), "{home}");
    assert!(
        home.contains("10993 (SSL/TLS)") && home.contains("10465 (SSL/TLS) / 10587 (STARTTLS)"),
        "{home}"
    );
}
