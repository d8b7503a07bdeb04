//! Contacts over CardDAV and in the webmail: Debian's `vdirsyncer` discovers the two address
//! books from the server's root over HTTPS (`/.well-known/carddav` → principal → home) and
//! syncs them with a local folder both ways; raw requests with curl check the protocol's
//! answers (PROPFIND, REPORT, preconditions, the read-only directory, sign-in refusals); the
//! webmail's `/contacts` page and the compose autocomplete are driven with a session.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::harness::TestServer;
use super::web::{get, post, sign_in};

fn start() -> TestServer {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let units = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/units-2011.csv");
    let out = server.cli(
        &["directory", "import", "--units", units.to_str().unwrap()],
        "",
    );
    assert!(
        out.status.success(),
        "import: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    server
}

/// One request with curl over HTTPS (the server's certificate trusted): status, headers
/// (lower-cased names) and body.
fn dav(
    server: &TestServer,
    user: (&str, &str),
    method: &str,
    path: &str,
    headers: &[&str],
    body: Option<&str>,
) -> (u16, String, String) {
    let url = format!("https://127.0.0.1:{}{path}", server.port("https"));
    let cert = server.data_dir().join("tls/cert.pem");
    let mut cmd = Command::new("curl");
    cmd.args([
        "-sS",
        "--max-time",
        "20",
        "-D",
        "-",
        "-X",
        method,
        "--cacert",
    ])
    .arg(&cert);
    if !user.0.is_empty() {
        cmd.args(["-u", &format!("{}:{}", user.0, user.1)]);
    }
    for h in headers {
        cmd.args(["-H", h]);
    }
    if body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    let mut child = cmd
        .arg(&url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("curl");
    if let Some(body) = body {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(body.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = String::from_utf8(out.stdout).unwrap();
    let (head, body) = all.split_once("\r\n\r\n").unwrap_or((&all, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn etag_of(head: &str) -> String {
    head.lines()
        .find_map(|l| l.strip_prefix("etag:"))
        .unwrap_or_else(|| panic!("no ETag in {head}"))
        .trim()
        .to_string()
}

const PROPFIND_BOOK: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<d:propfind xmlns:d="DAV:" xmlns:cs="http://calendarserver.org/ns/"><d:prop>
<d:resourcetype/><d:displayname/><cs:getctag/><d:sync-token/><d:getetag/>
<d:current-user-privilege-set/><d:supported-report-set/><d:getcontenttype/>
</d:prop></d:propfind>"#;

fn card(uid: &str, name: &str, email: &str) -> String {
    format!(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{name}\r\nEMAIL;TYPE=INTERNET:{email}\r\nEND:VCARD\r\n"
    )
}

#[test]
fn carddav_answers_raw_requests() {
    let server = start();
    let password = "Hoa-mat-khau-2026";
    let me = server.add_account("hoa", "Phạm Thị Hoa", password);
    let other = server.add_account("lan", "Lê Thị Lan", "Lan-mat-khau-2026");
    let user = (me.as_str(), password);
    let home = format!("/dav/addressbooks/{me}/");
    let personal = format!("{home}personal/");
    let directory = format!("{home}directory/");

    // Discovery and the refusals of a sign-in.
    let (status, head, _) = dav(&server, ("", ""), "OPTIONS", "/dav/", &[], None);
    assert_eq!(status, 200);
    assert!(head.contains("dav: 1, 3, addressbook"), "{head}");
    let (status, head, _) = dav(&server, ("", ""), "GET", "/.well-known/carddav", &[], None);
    assert_eq!(status, 301);
    assert!(head.contains("location: /dav/"), "{head}");
    let (status, head, _) = dav(&server, ("", ""), "PROPFIND", "/dav/", &[], None);
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: basic"), "{head}");
    let (status, _, _) = dav(&server, (&me, "wrong"), "PROPFIND", "/dav/", &[], None);
    assert_eq!(status, 401, "a wrong password");
    let first = server.add_first_time_account("moi", "Người Mới", "Mk-cap-lan-dau-7");
    let (status, _, body) = dav(
        &server,
        (&first, "Mk-cap-lan-dau-7"),
        "PROPFIND",
        "/dav/",
        &[],
        None,
    );
    assert_eq!(status, 403, "a one-time password opens no CardDAV: {body}");
    assert!(body.contains("webmail"), "{body}");

    let (status, _, body) = dav(
        &server,
        user,
        "PROPFIND",
        "/dav/",
        &["Depth: 0"],
        Some(r#"<propfind xmlns="DAV:"><prop><current-user-principal/></prop></propfind>"#),
    );
    assert_eq!(status, 207, "{body}");
    let principal = format!("<d:href>/dav/principals/{me}/</d:href>");
    assert!(body.contains(&principal), "{body}");
    let (status, _, body) = dav(
        &server,
        user,
        "PROPFIND",
        &format!("/dav/principals/{me}/"),
        &["Depth: 0"],
        Some(
            r#"<propfind xmlns="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><prop><c:addressbook-home-set/><unknown xmlns="urn:x"/></prop></propfind>"#,
        ),
    );
    assert_eq!(status, 207);
    assert!(
        body.contains(&format!(
            "<card:addressbook-home-set><d:href>{home}</d:href>"
        )),
        "{body}"
    );
    assert!(
        body.contains("404 Not Found"),
        "an unknown property: {body}"
    );
    // The home lists both books; the directory is read-only.
    let (status, _, body) = dav(
        &server,
        user,
        "PROPFIND",
        &home,
        &["Depth: 1"],
        Some(PROPFIND_BOOK),
    );
    assert_eq!(status, 207, "{body}");
    let responses: Vec<&str> = body.split("<d:response>").skip(1).collect();
    assert_eq!(responses.len(), 3, "{body}");
    let personal_props = responses
        .iter()
        .find(|r| r.contains(&format!("<d:href>{personal}</d:href>")))
        .expect("the personal book");
    let directory_props = responses
        .iter()
        .find(|r| r.contains(&format!("<d:href>{directory}</d:href>")))
        .expect("the directory book");
    for props in [personal_props, directory_props] {
        assert!(props.contains("<card:addressbook/>"), "{props}");
        assert!(props.contains("<cs:getctag>"), "{props}");
        assert!(props.contains("<d:sync-token>"), "{props}");
        assert!(props.contains("<card:addressbook-multiget/>"), "{props}");
    }
    assert!(personal_props.contains("<d:write/>"), "{personal_props}");
    assert!(
        !directory_props.contains("<d:write/>") && directory_props.contains("<d:read/>"),
        "{directory_props}"
    );
    // Another user's books are not there for us.
    let (status, _, _) = dav(
        &server,
        user,
        "PROPFIND",
        &format!("/dav/addressbooks/{other}/personal/"),
        &["Depth: 1"],
        None,
    );
    assert_eq!(status, 404);

    // Writing a card, with preconditions.
    let href = format!("{personal}an.vcf");
    let an = card("uid-an", "Nguyễn Văn An", "an@example.vn");
    let (status, head, _) = dav(
        &server,
        user,
        "PUT",
        &href,
        &["Content-Type: text/vcard", "If-None-Match: *"],
        Some(&an),
    );
    assert_eq!(status, 201, "{head}");
    let etag = etag_of(&head);
    let (status, _, _) = dav(
        &server,
        user,
        "PUT",
        &href,
        &["If-None-Match: *"],
        Some(&an),
    );
    assert_eq!(status, 412, "If-None-Match: * on an existing card");
    let an2 = card("uid-an", "Nguyễn Văn An", "an.moi@example.vn");
    let (status, _, _) = dav(
        &server,
        user,
        "PUT",
        &href,
        &["If-Match: \"stale\""],
        Some(&an2),
    );
    assert_eq!(status, 412, "a stale If-Match");
    let (status, head, _) = dav(
        &server,
        user,
        "PUT",
        &href,
        &[&format!("If-Match: {etag}")],
        Some(&an2),
    );
    assert_eq!(status, 204, "{head}");
    let etag2 = etag_of(&head);
    assert_ne!(etag, etag2);
    let (status, head, body) = dav(&server, user, "GET", &href, &[], None);
    assert_eq!(status, 200);
    assert_eq!(body, an2, "kept byte for byte");
    assert_eq!(etag_of(&head), etag2);
    // No UID: refused; the same UID under another name: a conflict.
    let (status, _, _) = dav(
        &server,
        user,
        "PUT",
        &format!("{personal}bad.vcf"),
        &[],
        Some("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:X\r\nEND:VCARD\r\n"),
    );
    assert_eq!(status, 400);
    let (status, _, _) = dav(
        &server,
        user,
        "PUT",
        &format!("{personal}twin.vcf"),
        &[],
        Some(&an),
    );
    assert_eq!(status, 409);
    // The directory takes no write.
    let (status, _, _) = dav(
        &server,
        user,
        "PUT",
        &format!("{directory}x.vcf"),
        &[],
        Some(&card("x", "X", "x@example.vn")),
    );
    assert_eq!(status, 403);

    // Reports.
    let (status, _, body) = dav(
        &server,
        user,
        "REPORT",
        &personal,
        &["Depth: 1"],
        Some(&format!(
            r#"<c:addressbook-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/><c:address-data/></d:prop><d:href>{href}</d:href><d:href>{personal}none.vcf</d:href></c:addressbook-multiget>"#
        )),
    );
    assert_eq!(status, 207, "{body}");
    assert!(body.contains("FN:Nguyễn Văn An"), "{body}");
    assert!(
        body.contains(&format!(
            "<d:getetag>&quot;{}&quot;</d:getetag>",
            etag2.trim_matches('"')
        )),
        "{body}"
    );
    assert!(body.contains("HTTP/1.1 404 Not Found"), "{body}");
    dav(
        &server,
        user,
        "PUT",
        &format!("{personal}binh.vcf"),
        &[],
        Some(&card("uid-binh", "Lê Thị Bình", "binh@example.vn")),
    );
    let query = |text: &str| {
        format!(
            r#"<c:addressbook-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><d:prop><d:getetag/></d:prop><c:filter><c:prop-filter name="FN"><c:text-match match-type="contains">{text}</c:text-match></c:prop-filter></c:filter></c:addressbook-query>"#
        )
    };
    let (status, _, body) = dav(
        &server,
        user,
        "REPORT",
        &personal,
        &[],
        Some(&query("bình")),
    );
    assert_eq!(status, 207, "{body}");
    assert!(
        body.contains("binh.vcf") && !body.contains("an.vcf"),
        "{body}"
    );
    let (_, _, body) = dav(
        &server,
        user,
        "REPORT",
        &directory,
        &[],
        Some(&query("tư pháp")),
    );
    assert!(
        body.contains("<d:response>"),
        "the directory answers queries: {body}"
    );

    // sync-collection: everything first, then only what changed, deletions as 404.
    let sync = |token: &str| {
        format!(
            r#"<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level><d:prop><d:getetag/></d:prop></d:sync-collection>"#
        )
    };
    let token_of = |body: &str| {
        let at = body.find("<d:sync-token>").expect("a token") + 14;
        body[at..at + body[at..].find('<').unwrap()].to_string()
    };
    let (status, _, body) = dav(&server, user, "REPORT", &personal, &[], Some(&sync("")));
    assert_eq!(status, 207, "{body}");
    assert!(
        body.contains("an.vcf") && body.contains("binh.vcf"),
        "{body}"
    );
    let token = token_of(&body);
    let (status, _, _) = dav(
        &server,
        user,
        "DELETE",
        &href,
        &["If-Match: \"stale\""],
        None,
    );
    assert_eq!(status, 412);
    let (status, _, _) = dav(
        &server,
        user,
        "DELETE",
        &href,
        &[&format!("If-Match: {etag2}")],
        None,
    );
    assert_eq!(status, 204);
    let (status, _, _) = dav(&server, user, "GET", &href, &[], None);
    assert_eq!(status, 404);
    let (status, _, body) = dav(&server, user, "REPORT", &personal, &[], Some(&sync(&token)));
    assert_eq!(status, 207, "{body}");
    assert!(
        body.contains(&format!(
            "<d:href>{href}</d:href><d:status>HTTP/1.1 404 Not Found"
        )),
        "{body}"
    );
    assert!(!body.contains("binh.vcf"), "unchanged: {body}");
    let (status, _, body) = dav(
        &server,
        user,
        "REPORT",
        &personal,
        &[],
        Some(&sync("urn:hopthu:sync:personal:999")),
    );
    assert_eq!(status, 403);
    assert!(body.contains("valid-sync-token"), "{body}");
    let (status, _, _) = dav(
        &server,
        user,
        "DELETE",
        &format!("{directory}x.vcf"),
        &[],
        None,
    );
    assert_eq!(status, 403);
}

/// A vdirsyncer configuration: one pair between `dir/contacts/` and every address book the
/// server's root leads to.
fn vdirsyncer_config(server: &TestServer, dir: &Path, user: &str, password: &str) -> PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            r#"[general]
status_path = "{dir}/status/"

[pair contacts]
a = "local"
b = "server"
collections = ["from b"]
conflict_resolution = "b wins"

[storage local]
type = "filesystem"
path = "{dir}/contacts/"
fileext = ".vcf"

[storage server]
type = "carddav"
url = "https://127.0.0.1:{port}/"
username = "{user}"
password = "{password}"
verify = "{cert}"
"#,
            dir = dir.display(),
            port = server.port("https"),
            cert = server.data_dir().join("tls/cert.pem").display(),
        ),
    )
    .unwrap();
    config
}

fn vdirsyncer(server: &TestServer, config: &Path, args: &[&str]) -> String {
    let mut child = Command::new("/usr/bin/vdirsyncer")
        .arg("-c")
        .arg(config)
        .args(args)
        .env("LC_ALL", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("vdirsyncer");
    // `discover` asks before creating local folders.
    let _ = child.stdin.take().unwrap().write_all(b"y\ny\ny\ny\n");
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "vdirsyncer {args:?} failed:\n{text}\n--- server log\n{}",
        server.log()
    );
    text
}

/// The `.vcf` files of a local collection, by content.
fn local_cards(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "vcf"))
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    out.sort();
    out
}

#[test]
fn vdirsyncer_syncs_both_books_and_the_webmail_shares_them() {
    if !super::needs::require(&[super::needs::VDIRSYNCER]) {
        return;
    }
    let server = start();
    let password = "Hoa-mat-khau-2026";
    let me = server.add_account("hoa", "Phạm Thị Hoa", password);
    let (session, csrf) = sign_in(&server, &me, password);

    // A contact made in the webmail (CSRF checked first).
    let form = |csrf: &str, name: &str, email: &str| {
        format!(
            "csrf={csrf}&name={}&email={}&phone=0912345678&org=&note=",
            name.replace(' ', "+"),
            email.replace('@', "%40")
        )
    };
    let (head, _) = post(
        &server,
        "/contacts",
        &session,
        &form(&"0".repeat(64), "Tran Thi Lan", "lan@example.vn"),
    );
    assert!(
        head.starts_with("HTTP/1.1 403"),
        "a wrong CSRF token: {head}"
    );
    let (head, _) = post(
        &server,
        "/contacts",
        &session,
        &form(&csrf, "Trần Thị Lan", "lan@example.vn"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (_, page) = get(&server, "/contacts", &session);
    assert!(
        page.contains("Trần Thị Lan") && page.contains("lan@example.vn"),
        "{page}"
    );
    assert!(
        page.contains("id=\"contacts-link\""),
        "linked in the side bar"
    );

    let tmp = server.dir.join("vdirsyncer");
    std::fs::create_dir_all(tmp.join("contacts/personal")).unwrap();
    std::fs::create_dir_all(tmp.join("contacts/directory")).unwrap();
    let config = vdirsyncer_config(&server, &tmp, &me, password);
    let found = vdirsyncer(&server, &config, &["discover", "contacts"]);
    assert!(
        found.contains("personal") && found.contains("directory"),
        "{found}"
    );
    vdirsyncer(&server, &config, &["sync"]);
    let personal = tmp.join("contacts/personal");
    let cards = local_cards(&personal);
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(cards[0].contains("FN:Trần Thị Lan"), "{}", cards[0]);
    let directory = local_cards(&tmp.join("contacts/directory"));
    assert!(
        directory.len() > 5 && directory.iter().all(|c| c.contains("UID:hopthu-")),
        "the directory came down: {} cards",
        directory.len()
    );

    // A card made on this side goes up and shows in the webmail and the autocomplete.
    std::fs::write(
        personal.join("nam-local.vcf"),
        card("nam-local", "Phạm Văn Nam", "nam@example.vn"),
    )
    .unwrap();
    vdirsyncer(&server, &config, &["sync"]);
    let (_, page) = get(&server, "/contacts", &session);
    assert!(page.contains("Phạm Văn Nam"), "{page}");
    let (_, json) = get(&server, "/address-book?q=nam", &session);
    let found: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        found
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["address"] == "nam@example.vn" && s["personal"] == true),
        "{json}"
    );
    // The directory is suggested too, after one's own contacts.
    let (_, json) = get(&server, "/address-book?q=lan", &session);
    assert!(json.contains("lan@example.vn"), "{json}");

    // A change made in the webmail comes down at the next sync; so does a deletion.
    let lan_name = page
        .split("data-card=\"")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .find(|name| *name != "nam-local.vcf")
        .expect("Lan's card")
        .to_string();
    let (head, _) = post(
        &server,
        &format!("/contacts/{lan_name}"),
        &session,
        &form(&csrf, "Trần Thị Lan", "lan.moi@example.vn"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    let (_, page) = get(&server, "/contacts", &session);
    let nam_etag = {
        let row = &page[page.find("data-card=\"nam-local.vcf\"").expect("Nam's row")..];
        let at = row.find("name=\"etag\" value=\"").unwrap() + 19;
        row[at..at + row[at..].find('"').unwrap()].to_string()
    };
    let (head, _) = post(
        &server,
        "/contacts/nam-local.vcf/delete",
        &session,
        &format!("csrf={csrf}&etag={nam_etag}"),
    );
    assert!(head.starts_with("HTTP/1.1 303"), "{head}");
    vdirsyncer(&server, &config, &["sync"]);
    let cards = local_cards(&personal);
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(cards[0].contains("lan.moi@example.vn"), "{}", cards[0]);
}
