//! Export and import in the webmail: a message as `.eml`, a folder as mboxrd, and the import
//! of an mbox or `.eml` files, checked byte for byte against IMAP by `py/web_export.py`.

use super::harness::TestServer;
use super::web::{get, header, post, sign_in};

#[test]
fn messages_and_folders_export_and_import_byte_for_byte() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let password = "Hoa-mat-khau-2026";
    let address = server.add_account("hoa", "Phạm Thị Hoa", password);
    let (session, csrf) = sign_in(&server, &address, password);
    let (head, _) = get(&server, "/mail", &session);
    let inbox = header(&head, "location")[0]
        .trim_start_matches("/mail/")
        .to_string();
    server.python(
        "web_export.py",
        &[&address, password, &session, &csrf, &inbox],
    );
    // Another account cannot download the messages.
    let other = server.add_account("lan", "Lê Thị Lan", "Lan-mat-khau-2026");
    let (other_session, _) = sign_in(&server, &other, "Lan-mat-khau-2026");
    let (head, _) = get(&server, &format!("/mail/{inbox}/1/eml"), &other_session);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
    let (head, _) = get(&server, &format!("/mail/{inbox}/mbox"), &other_session);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");
}

/// The focal unit exports a revoked mailbox before it is purged: `hopthu account export` writes
/// a zip with one mboxrd file per folder (checked byte for byte against what was stored) and a
/// manifest, audited; a working mailbox is refused and no file is left; the console's unit
/// page offers the same zip for a revoked person, to the focal unit only.
#[test]
fn the_focal_unit_exports_a_revoked_mailbox_as_a_zip_of_mbox_files() {
    let server = TestServer::start_with("https = \"127.0.0.1:0\"\n");
    let password = "Hoa-mat-khau-2026";
    let address = server.add_account("hoa", "Phạm Thị Hoa", password);
    server.python("mailbox_export.py", &["fill", &address, password]);
    let zip = server.dir.join("hoa.zip");
    let export = |out: &std::path::Path| {
        server.cli(
            &[
                "account",
                "export",
                &address,
                "--out",
                out.to_str().unwrap(),
            ],
            "",
        )
    };
    // A working mailbox is its owner's to export: refused, nothing written.
    let refused = export(&zip);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not revoked"),
        "{refused:?}"
    );
    assert!(!zip.exists(), "no file is left behind");

    server.sql(&format!(
        "UPDATE accounts SET state = 'revoked' WHERE address = '{address}'"
    ));
    let done = export(&zip);
    assert!(done.status.success(), "{done:?}");
    assert!(
        String::from_utf8_lossy(&done.stdout).contains("4 messages"),
        "{done:?}"
    );
    server.python("mailbox_export.py", &["check", zip.to_str().unwrap()]);
    // The file exists now: a second export does not overwrite it.
    assert!(!export(&zip).status.success());
    let audited = server.sql(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.export' AND target = 'account:{address}'"
    ));
    assert_eq!(audited.trim(), "1", "one export audited");

    // The console: the focal unit's administrator downloads the same zip; anyone else cannot.
    let admin = server.add_account("qtv", "Quản trị viên", "Qtv-mat-khau-2026");
    let granted = server.cli(&["admin", "grant", &admin, "--focal"], "");
    assert!(granted.status.success(), "{granted:?}");
    let (session, csrf) = sign_in(&server, &admin, "Qtv-mat-khau-2026");
    let form = format!("csrf={csrf}&address={}", address.replace('@', "%40"));
    let (head, body) = post(&server, "/admin/export", &session, &form);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(header(&head, "content-type"), ["application/zip"], "{head}");
    assert!(body.contains("PK\u{3}\u{4}"), "a zip");
    let (head, _) = post(
        &server,
        "/admin/export",
        &session,
        &format!("csrf=wrong&address={}", address.replace('@', "%40")),
    );
    assert!(
        !head.starts_with("HTTP/1.1 200"),
        "no CSRF token, no export: {head}"
    );
    let other = server.add_account("lan", "Lê Thị Lan", "Lan-mat-khau-2026");
    let (other_session, other_csrf) = sign_in(&server, &other, "Lan-mat-khau-2026");
    let (head, _) = post(
        &server,
        "/admin/export",
        &other_session,
        &format!("csrf={other_csrf}&address={}", address.replace('@', "%40")),
    );
    assert!(
        !head.starts_with("HTTP/1.1 200"),
        "not an administrator: {head}"
    );
    let audited = server.sql(&format!(
        "SELECT COUNT(*) FROM audit_log WHERE action = 'account.export' AND target = 'account:{address}'"
    ));
    assert_eq!(audited.trim(), "2", "each export audited");
}
