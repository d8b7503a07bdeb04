//! `hopthu serve --demo`: seeds the sample province (the 2025 units of Cao Bằng and their
//! staff, shipped in `crates/server/demo/`) on first start, and prints how to sign in.
//!
//! The seed goes through the directory import (`Core::plan_import` / `Core::apply_import`):
//! units, people with their addresses by the rules of Đ7.3, unit mailboxes, one-time passwords,
//! one transaction. Every third person is marked public, so the published directory shows
//! some. Two administrators are added: an operator of the focal unit and the IT officer of
//! Sở Nội vụ (CB25-002), each with a password printed once. The first person of Sở Nội vụ is
//! made its head by a `head_change` (owner of its unit mailbox, Đ12). Every credential is
//! written to `data_dir/demo-credentials.csv`.

use std::sync::Arc;

use anyhow::Context;
use hopthu_core::admin::Actor;
use hopthu_core::directory::{ChangeInput, ImportRequest, ImportSource, credentials_csv, csv_row};
use hopthu_core::{Core, NewAccountRequest};

const UNITS: &str = include_str!("../demo/units-2025.csv");
const PEOPLE: &str = include_str!("../demo/people-2025.csv");

/// The unit whose IT officer the demo creates.
const OFFICER_UNIT: &str = "CB25-002";

/// The demo's official document: a minimal PDF with one line of text.
const DEMO_DOCUMENT: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 100]/Contents 4 0 R>>endobj\n\
4 0 obj<</Length 44>>stream\nBT /F1 12 Tf 20 50 Td (Van ban mau 1/SNV) Tj ET\nendstream endobj\n\
trailer<</Root 1 0 R>>\n%%EOF\n";

pub async fn seed(core: &Core) -> anyhow::Result<()> {
    let config = core.config();
    let credentials_path = config.data_dir.join("demo-credentials.csv");
    if core.account_count().await? > 0 {
        println!(
            "Dữ liệu mẫu đã có sẵn / demo data already present: see {}",
            credentials_path.display()
        );
        return Ok(());
    }
    let request = ImportRequest {
        units: ImportSource {
            name: "demo/units-2025.csv".into(),
            bytes: UNITS.as_bytes().to_vec(),
        },
        people: Some(ImportSource {
            name: "demo/people-2025.csv".into(),
            bytes: with_public_column(PEOPLE).into_bytes(),
        }),
        person_duplicates: None,
    };
    let plan = core
        .plan_import(&request)
        .await
        .map_err(|e| anyhow::anyhow!("the demo data is refused by the import: {e}"))?;
    let applied = core
        .apply_import(&Actor::console(), plan, Arc::new(|_| {}))
        .await
        .context("import the demo province")?;

    // The administrators: mailboxes recorded as exceptions to the directory (they are no person
    // of the sample data), with a chosen password and a role.
    let focal_unit = config.lifecycle.focal_unit.as_deref();
    let mut admins = Vec::new();
    for (local, name, unit) in [
        ("qtv", "Quản trị hệ thống (đơn vị đầu mối)", None),
        ("cntt.sonoivu", "Cán bộ CNTT Sở Nội vụ", Some(OFFICER_UNIT)),
    ] {
        let address = format!("{local}@{}", config.domain);
        let password = hopthu_core::generate_password();
        core.create_account(
            &Actor::console(),
            NewAccountRequest {
                address: address.clone(),
                display_name: name.into(),
                password: Some(password.clone()),
                must_change_password: false,
                exception: "Dữ liệu mẫu: quản trị viên / demo administrator".into(),
            },
        )
        .await
        .with_context(|| format!("create {address}"))?;
        core.grant_admin(&Actor::console(), &address, unit)
            .await
            .with_context(|| format!("grant {address}"))?;
        admins.push((address, name, unit, password));
    }

    // Đ12: the first person of Sở Nội vụ heads it and owns its unit mailbox, which they see
    // under `Shared/` in their own mail client; the unit mailbox's own password is then no
    // longer needed (a numbered handover notice arrives in it).
    let head = applied
        .credentials
        .iter()
        .find(|c| c.address.starts_with("datnv@"))
        .map(|c| c.address.clone());
    if let Some(head) = &head {
        let change = core
            .file_change(
                &Actor::console(),
                &ChangeInput {
                    kind: "head_change".into(),
                    person: Some(head.clone()),
                    unit: Some(OFFICER_UNIT.into()),
                    reason: "Dữ liệu mẫu / demo".into(),
                    ..ChangeInput::default()
                },
            )
            .await
            .context("file the demo head change")?;
        core.approve_change(&Actor::console(), change.id, "")
            .await
            .context("approve the demo head change")?;
        // Đ15: Sở Nội vụ has issued one document to the Văn phòng UBND tỉnh and Sở Tư pháp, so
        // the head finds it under the unit's "văn bản" with its tracking, and the recipients
        // in their unit mailboxes.
        core.dispatch_document(
            &Actor::console(),
            &hopthu_core::documents::DispatchRequest {
                from: OFFICER_UNIT.into(),
                number: "1/SNV".into(),
                date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
                kind: "cong_van".into(),
                summary: "V/v triển khai hệ thống thư điện tử công vụ (dữ liệu mẫu)".into(),
                file_name: "1-SNV.pdf".into(),
                file: DEMO_DOCUMENT.to_vec(),
                to: vec!["CB25-001".into(), "CB25-003".into()],
                subtree: false,
            },
        )
        .await
        .context("dispatch the demo document")?;
    }

    let mut sheet = credentials_csv(&applied.credentials);
    for (address, name, unit, password) in &admins {
        csv_row(
            &mut sheet,
            &[
                unit.or(focal_unit).unwrap_or(""),
                "",
                "admin",
                name,
                "",
                address,
                password,
            ],
        );
    }
    crate::private::write_private(&credentials_path, sheet.as_bytes())
        .with_context(|| format!("write {}", credentials_path.display()))?;

    let find = |local: &str| {
        applied
            .credentials
            .iter()
            .find(|c| c.address.starts_with(&format!("{local}@")))
    };
    println!();
    println!(
        "Đã tạo tỉnh mẫu / demo province seeded: {} đơn vị / units, {} cán bộ / people",
        applied.units.len(),
        applied.people.len()
    );
    println!(
        "  Hộp thư / mailboxes — mật khẩu một lần: đăng nhập webmail để đổi trước, rồi dùng IMAP, POP3, SMTP"
    );
    println!(
        "  (one-time passwords: sign in to the webmail to change them first, then IMAP, POP3, SMTP work):"
    );
    if let Some(c) = find("datnv") {
        let unit = find("sonoivu").map(|u| u.address.as_str()).unwrap_or("");
        println!(
            "    {}  {}  ({}; lãnh đạo Sở Nội vụ, thấy hộp thư đơn vị {unit} trong mục Shared/ / head of Sở Nội vụ: its unit mailbox is under Shared/)",
            c.address, c.password, c.name
        );
    }
    println!("  Quản trị / administrators (console /admin, API /api):");
    for (address, name, _, password) in &admins {
        println!("    {address}  {password}  ({name})");
    }
    println!(
        "  Danh sách đầy đủ / every account: {}",
        credentials_path.display()
    );
    println!();
    Ok(())
}

/// The people file with a `public` column: every third person is published.
fn with_public_column(people: &str) -> String {
    let mut out = String::with_capacity(people.len() + 200);
    for (i, line) in people.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        out.push_str(line.trim_end_matches('\r'));
        out.push_str(match i {
            0 => ",public",
            i if i % 3 == 1 => ",1",
            _ => ",0",
        });
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_third_person_is_public() {
        let out =
            super::with_public_column("full_name,unit,position\nA,U1,\nB,U1,\nC,U2,\nD,U2,\n");
        assert_eq!(
            out,
            "full_name,unit,position,public\nA,U1,,1\nB,U1,,0\nC,U2,,0\nD,U2,,1\n"
        );
    }
}
