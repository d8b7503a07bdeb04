//! Export and import in the webmail: a message as `.eml`, a folder as mboxrd, and the import
//! of an mbox or `.eml` files, checked byte for byte against IMAP by `py/web_export.py`.

use super::harness::TestServer;
use super::web::{get, header, sign_in};

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
