//! Secret documents never go by e-mail (Đ9), through the real binary: every marking form over
//! SMTP submission refused with `550 5.7.1` and ordinary look-alikes accepted
//! (`py/secret_submission.py`); the webmail's classification field and a marked subject
//! refused with 403 and the form kept; each refusal audited as `document.secret_refused`
//! without the subject; nothing of a refused message stored (messages, blobs, queue rows).

use super::harness::TestServer;
use super::submit::compose_post;
use super::web::{get, sign_in};

/// What a refused message must not add to: (messages, blobs, queue rows).
fn stored(server: &TestServer) -> (u64, u64, u64) {
    let row = server.sql(
        "SELECT (SELECT COUNT(*) FROM messages) || ' ' || (SELECT COUNT(*) FROM blobs) \
         || ' ' || (SELECT COUNT(*) FROM queue)",
    );
    let n: Vec<u64> = row.split_whitespace().map(|n| n.parse().unwrap()).collect();
    (n[0], n[1], n[2])
}

/// The `document.secret_refused` rows: `actor|target|after`, oldest first.
fn refusals(server: &TestServer) -> Vec<String> {
    server
        .sql(
            "SELECT actor || '|' || target || '|' || after FROM audit_log \
             WHERE action = 'document.secret_refused' ORDER BY id",
        )
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn smtp_submission_refuses_secret_documents() {
    let server = TestServer::start();
    let password = "Mat-khau-Gui-2026";
    let sender = server.add_account("vanthu.mat", "Văn Thư", password);
    let rcpt_password = "Mat-khau-Nhan-2026";
    let rcpt = server.add_account("nhan.mat", "Người Nhận", rcpt_password);
    let before = stored(&server);

    let out = server.python(
        "secret_submission.py",
        &[&sender, password, &rcpt, "ai.do@example.org", rcpt_password],
    );
    let refused = out.lines().filter(|l| l.starts_with("refused ")).count();
    let accepted = out.lines().filter(|l| l.starts_with("accepted ")).count();
    assert_eq!((refused, accepted), (15, 7), "{out}");

    // Only the accepted messages were stored (one copy each, in the recipient's INBOX); no
    // refused one reached the queue, though each named a remote recipient.
    let after = stored(&server);
    assert_eq!(after.0 - before.0, 7, "{before:?} → {after:?}");
    assert_eq!(after.1 - before.1, 7, "{before:?} → {after:?}");
    assert_eq!(after.2, before.2, "{before:?} → {after:?}");

    let rows = refusals(&server);
    assert_eq!(rows.len(), 15, "{rows:#?}");
    for row in &rows {
        let prefix = format!("{sender}|account:{sender}|");
        assert!(row.starts_with(&prefix), "{row}");
        assert!(row.contains(r#""via":"smtp""#), "{row}");
        // Neither the subject nor the body.
        for word in ["hoạch", "Danh", "Phương", "Nội dung"] {
            assert!(!row.contains(word), "{row}");
        }
    }
    let detail = |i: usize| {
        let after: serde_json::Value =
            serde_json::from_str(rows[i].splitn(3, '|').nth(2).unwrap()).unwrap();
        (
            after["level"].as_str().unwrap().to_string(),
            after["detected_by"].as_str().unwrap().to_string(),
        )
    };
    // In the script's order: the four header cases, then the subjects.
    let expected = [
        ("toi_mat", "header"),
        ("toi_mat", "header"),
        ("tuyet_mat", "header"),
        ("tuyet_mat", "header"),
        ("mat", "subject"),
        ("toi_mat", "subject"),
        ("mat", "subject"),
        ("tuyet_mat", "subject"),
        ("toi_mat", "subject"),
        ("mat", "subject"),
        ("mat", "subject"),
        ("toi_mat", "subject"),
        ("mat", "subject"),
        ("toi_mat", "subject"),
        ("tuyet_mat", "subject"),
    ];
    for (i, (level, by)) in expected.iter().enumerate() {
        assert_eq!(detail(i), (level.to_string(), by.to_string()), "{i}");
    }
    // The server log says why, without the subject.
    let log = server.log();
    assert!(log.contains("secret document refused"), "{log}");
    assert!(!log.contains("Kế hoạch bảo vệ"), "{log}");
}

#[test]
fn webmail_refuses_secret_documents_and_keeps_the_form() {
    let server = TestServer::start();
    let password = "Mat-khau-Web-2026";
    let user = server.add_account("web.mat", "Soạn Thư", password);
    let rcpt = server.add_account("web.nhan", "Người Nhận", "Mat-khau-Nhan-2026");
    let (session, csrf) = sign_in(&server, &user, password);

    // The compose form offers the classification: ordinary, then each configured level.
    let (_, page) = get(&server, "/compose", &session);
    assert!(page.contains(r#"name="classification""#), "{page}");
    for option in [
        r#"value="thuong""#,
        r#"value="mat""#,
        r#"value="toi_mat""#,
        r#"value="tuyet_mat""#,
        "Thường",
        "Tối mật",
        "Tuyệt mật",
    ] {
        assert!(page.contains(option), "{option} missing");
    }

    let form = |subject: &str, classification: &str, action: &str| {
        compose_post(
            &server,
            &session,
            &[
                ("csrf", &csrf),
                ("to", &rcpt),
                ("cc", ""),
                ("bcc", "ai.do@example.org"),
                ("subject", subject),
                ("classification", classification),
                ("body", "Noi dung can giu lai trong bieu mau"),
                ("action", action),
            ],
        )
    };
    let before = stored(&server);

    // The classification field: refused, the form shown again with what was typed.
    let out = form("Kế hoạch năm", "toi_mat", "send");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(out.contains("Tối mật"), "{out}");
    assert!(
        out.contains("văn bản mật không được gửi qua thư điện tử"),
        "{out}"
    );
    assert!(out.contains(r#"value="Kế hoạch năm""#), "{out}");
    assert!(out.contains("Noi dung can giu lai trong bieu mau"), "{out}");
    assert!(
        out.contains(r#"<option value="toi_mat" selected>"#),
        "the level stays chosen: {out}"
    );
    // A marked subject, with the field left ordinary.
    let out = form("[MẬT] Báo cáo", "thuong", "send");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    assert!(out.contains(r#"value="[MẬT] Báo cáo""#), "{out}");
    let out = form("Re: Tuyet mat - Bao cao", "", "send");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    // Nor is a secret document kept as a draft.
    let out = form("Kế hoạch", "mat", "draft");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    let out = form("Mật: Kế hoạch", "thuong", "draft");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    // A value naming no level is a mistake, not "ordinary".
    let out = form("Kế hoạch", "bi-mat-lam", "send");
    assert!(out.starts_with("HTTP/1.1 400"), "{out}");
    assert_eq!(stored(&server), before, "a refused message left something");

    let rows = refusals(&server);
    let expected = [
        ("toi_mat", "form", "webmail"),
        ("mat", "subject", "webmail"),
        ("tuyet_mat", "subject", "webmail"),
        ("mat", "form", "webmail_draft"),
        ("mat", "subject", "webmail_draft"),
    ];
    assert_eq!(rows.len(), expected.len(), "{rows:#?}");
    for (row, (level, by, via)) in rows.iter().zip(expected) {
        assert!(row.starts_with(&format!("{user}|account:{user}|")), "{row}");
        let after: serde_json::Value =
            serde_json::from_str(row.splitn(3, '|').nth(2).unwrap()).unwrap();
        assert_eq!(after["level"], level, "{row}");
        assert_eq!(after["detected_by"], by, "{row}");
        assert_eq!(after["via"], via, "{row}");
        assert!(
            !row.contains("Kế hoạch") && !row.contains("Noi dung"),
            "{row}"
        );
    }

    // An ordinary message whose subject starts like a level goes: the recipient's INBOX and
    // the Sent copy.
    let out = compose_post(
        &server,
        &session,
        &[
            ("csrf", &csrf),
            ("to", &rcpt),
            ("subject", "Mật độ dân số năm 2025"),
            ("classification", "thuong"),
            ("body", "Số liệu"),
            ("action", "send"),
        ],
    );
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let after = stored(&server);
    assert_eq!(after.0 - before.0, 2, "{before:?} → {after:?}");
    assert_eq!(refusals(&server).len(), expected.len());
}

/// The catalogue is configuration (Đ9: the province changes it from period to period): a
/// server started with its own `[documents]` shows that catalogue in the console and the
/// compose form, and refuses by its levels only.
#[test]
fn the_catalogue_is_configuration() {
    let server = TestServer::start_with(
        "[[documents.kinds]]\nid = \"thong_bao\"\nname = \"Thông báo\"\nname_en = \"Notice\"\n\
         [[documents.secrecy_levels]]\nid = \"toi_mat\"\nname = \"Tối mật\"\nname_en = \"Secret\"\n\
         [[documents.secrecy_levels]]\nid = \"mat_noi_bo\"\nname = \"Mật nội bộ\"\nname_en = \"Internal\"\n",
    );
    super::lifecycle::import_province(&server);
    let password = "Mat-khau-Quan-tri-2026";
    let focal = server.add_account("qtv.danhmuc", "Quản Trị", password);
    let out = server.cli(&["admin", "grant", &focal, "--focal"], "");
    assert!(out.status.success(), "{out:?}");
    let user_password = "Mat-khau-Nguoi-dung-2026";
    let user = server.add_account("nd.danhmuc", "Người Dùng", user_password);

    let (session, _) = sign_in(&server, &focal, password);
    let (head, page) = get(&server, "/admin/documents", &session);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    for shown in [
        "thong_bao",
        "Thông báo",
        "Notice",
        "mat_noi_bo",
        "Mật nội bộ",
    ] {
        assert!(page.contains(shown), "{shown} missing: {page}");
    }
    // The defaults are gone.
    assert!(
        !page.contains("giay_moi") && !page.contains("Tuyệt mật"),
        "{page}"
    );
    // Not for someone who administers nothing.
    let (user_session, csrf) = sign_in(&server, &user, user_password);
    let (head, _) = get(&server, "/admin/documents", &user_session);
    assert!(head.starts_with("HTTP/1.1 403"), "{head}");

    // The compose form offers the configured levels, and only they are refused.
    let (_, page) = get(&server, "/compose", &user_session);
    assert!(page.contains(r#"value="mat_noi_bo""#), "{page}");
    assert!(!page.contains(r#"value="tuyet_mat""#), "{page}");
    let send = |subject: &str| {
        compose_post(
            &server,
            &user_session,
            &[
                ("csrf", &csrf),
                ("to", &focal),
                ("subject", subject),
                ("classification", "thuong"),
                ("body", "x"),
                ("action", "send"),
            ],
        )
    };
    let out = send("[Mật nội bộ] Kế hoạch");
    assert!(out.starts_with("HTTP/1.1 403"), "{out}");
    let out = send("Mật: không còn là độ mật ở đây");
    assert!(out.starts_with("HTTP/1.1 303"), "{out}");
    let levels = server
        .sql("SELECT after FROM audit_log WHERE action = 'document.secret_refused' ORDER BY id");
    assert_eq!(levels.lines().count(), 1, "{levels}");
    assert!(levels.contains(r#""level":"mat_noi_bo""#), "{levels}");
}
