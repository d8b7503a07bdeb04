//! The import screen (focal unit): upload a units file and optionally a people file (a plain
//! multipart form), see the dry run as a table, confirm to apply.
//!
//! The uploaded files stay under `data_dir/console-imports/<random id>/` between the preview and
//! the confirmation; the confirmation carries the digest of the table shown
//! (`hopthu_core::console::plan_digest`) and core applies only that plan. The files are removed
//! once applied, or a day after the preview when never confirmed.

use std::path::PathBuf;

use axum::Form;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use hopthu_core::directory::{ImportError, ImportPlan, ImportRequest, ImportSource, RowStatus};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, admin_form_or_return, admin_or_return};
use crate::AppState;
use crate::auth::csrf_refused;

/// Import files above this are refused (a province's whole directory is well below).
const MAX_UPLOAD: usize = 32 * 1024 * 1024;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/import", get(form).post(preview))
        .route("/admin/import/confirm", post(confirm))
        .layer(DefaultBodyLimit::max(MAX_UPLOAD))
}

/// An upload id is ours (64 hex digits); anything else is refused before touching the file
/// system.
fn valid_upload_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit())
}

fn upload_dir(state: &AppState, id: &str) -> Option<PathBuf> {
    valid_upload_id(id).then(|| {
        state
            .core
            .config()
            .data_dir
            .join("console-imports")
            .join(id)
    })
}

/// Uploads previewed but never confirmed are removed after this long.
const UPLOAD_TTL: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// Removes the uploads older than [`UPLOAD_TTL`] (best effort).
fn remove_stale(state: &AppState) {
    let root = state.core.config().data_dir.join("console-imports");
    let Ok(entries) = std::fs::read_dir(&root) else {
        return;
    };
    for entry in entries.flatten() {
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > UPLOAD_TTL);
        if old && let Err(e) = std::fs::remove_dir_all(entry.path()) {
            tracing::warn!(error = %e, "removing a stale import upload");
        }
    }
}

fn form_html(c: &Console, error: Option<Markup>) -> Markup {
    let t = c.t();
    html! {
        h1 { (t.s("Nhập danh bạ", "Import the directory")) }
        @if let Some(error) = error { (error) }
        p {
            (t.s(
                "Tải lên tệp đơn vị (kind,code,name,parent) và tệp cán bộ (full_name,unit,…), dạng CSV UTF-8 hoặc .xlsx. Bạn sẽ xem trước địa chỉ cấp cho từng dòng trước khi xác nhận.",
                "Upload the units file (kind,code,name,parent) and the people file (full_name,unit,…), as UTF-8 CSV or .xlsx. You will see the address of every row before confirming."
            ))
        }
        form method="post" action="/admin/import" enctype="multipart/form-data" class="stack" {
            (c.csrf_input())
            label for="units" { (t.s("Tệp đơn vị", "Units file")) }
            input id="units" name="units" type="file" accept=".csv,.xlsx" required;
            label for="people" { (t.s("Tệp cán bộ (không bắt buộc)", "People file (optional)")) }
            input id="people" name="people" type="file" accept=".csv,.xlsx";
            button type="submit" class="primary" id="preview" { (t.s("Xem trước", "Preview")) }
        }
    }
}

async fn form(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    // Core says who may import; the form is not shown to anyone else.
    if let Err(e) = state.core.authorize_focal(&c.actor) {
        return c.error(&e);
    }
    let t = c.t();
    c.page(
        "/admin/import",
        t.s("Nhập danh bạ", "Import"),
        form_html(&c, None),
    )
}

fn refused(c: &Console, status: StatusCode, error: &ImportError) -> Response {
    let t = c.t();
    let msg = html! {
        div class="error" role="alert" {
            p {
                (t.s(
                    "Không nhập được: chưa có gì được ghi.",
                    "Not imported: nothing was written."
                ))
            }
            ul {
                @match error {
                    ImportError::Refused(problems) => {
                        @for p in problems { li { (p.to_string()) } }
                    }
                    ImportError::Failed(e) => { li { (e.message) } }
                }
            }
        }
    };
    let status = match error {
        ImportError::Failed(e) => super::status_of(e.kind),
        ImportError::Refused(_) => status,
    };
    let mut r = c.page(
        "/admin/import",
        t.s("Nhập danh bạ", "Import"),
        form_html(c, Some(msg)),
    );
    *r.status_mut() = status;
    r
}

fn read_request(dir: &std::path::Path) -> std::io::Result<ImportRequest> {
    let names = std::fs::read_to_string(dir.join("names"))?;
    let mut names = names.lines();
    let units_name = names.next().unwrap_or("units").to_string();
    let people_name = names.next().unwrap_or("").to_string();
    let units = ImportSource {
        name: units_name,
        bytes: std::fs::read(dir.join("units"))?,
    };
    let people = match std::fs::read(dir.join("people")) {
        Ok(bytes) => Some(ImportSource {
            name: people_name,
            bytes,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    Ok(ImportRequest {
        units,
        people,
        person_duplicates: None,
    })
}

/// The remarks of a dry-run row: "review" first, then the warnings and the aliases.
fn row_notes(t: crate::html::T, r: &hopthu_core::directory::ImportRow) -> String {
    let mut notes: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
    if r.review {
        notes.insert(0, t.s("Cần xem lại", "Review").to_string());
    }
    if !r.aliases.is_empty() {
        notes.push(format!(
            "{}: {}",
            t.s("Bí danh", "Aliases"),
            r.aliases.join(", ")
        ));
    }
    notes.join("; ")
}

fn plan_table(c: &Console, plan: &ImportPlan) -> Markup {
    let t = c.t();
    html! {
        div class="scroll" {
            table class="grid" id="plan" {
                caption { (t.s("Kết quả chạy thử (chưa ghi gì)", "Dry run (nothing written yet)")) }
                thead {
                    tr {
                        th scope="col" { (t.s("Tệp", "File")) }
                        th scope="col" { (t.s("Dòng", "Line")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Mã đơn vị", "Unit code")) }
                        th scope="col" { (t.s("Địa chỉ thư", "Address")) }
                        th scope="col" { (t.s("Trạng thái", "Status")) }
                        th scope="col" { (t.s("Ghi chú", "Remarks")) }
                    }
                }
                tbody {
                    @for r in &plan.rows {
                        tr class=(r.status.as_str()) {
                            td {
                                (match r.file {
                                    hopthu_model::naming::Table::Units => t.s("Đơn vị", "Unit"),
                                    _ => t.s("Cán bộ", "Person"),
                                })
                            }
                            td { (r.line) }
                            td { (r.name) }
                            td { (r.unit_code) }
                            td { (r.address) }
                            td {
                                (match r.status {
                                    RowStatus::New => t.s("Mới", "New"),
                                    RowStatus::Existing => t.s("Đã có", "Existing"),
                                })
                            }
                            td { (row_notes(t, r)) }
                        }
                    }
                }
            }
        }
    }
}

async fn preview(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let mut csrf = String::new();
    let mut units: Option<(String, Vec<u8>)> = None;
    let mut people: Option<(String, Vec<u8>)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string());
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or_default().to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string()),
        };
        match name.as_str() {
            "csrf" => csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "units" if !bytes.is_empty() => units = Some((file_name, bytes)),
            "people" if !bytes.is_empty() => people = Some((file_name, bytes)),
            _ => {}
        }
    }
    if !c.signed.csrf_ok(&csrf) {
        return csrf_refused(t);
    }
    let Some((units_name, units_bytes)) = units else {
        let e = hopthu_core::Error::invalid(t.s("Hãy chọn tệp đơn vị.", "Choose the units file."));
        return refused(&c, StatusCode::BAD_REQUEST, &ImportError::Failed(e));
    };
    let clean_name = |n: &str, default: &str| {
        let n: String = n.chars().filter(|ch| !ch.is_control()).collect();
        if n.trim().is_empty() {
            default.to_string()
        } else {
            n
        }
    };
    let request = ImportRequest {
        units: ImportSource {
            name: clean_name(&units_name, "units.csv"),
            bytes: units_bytes,
        },
        people: people.map(|(n, bytes)| ImportSource {
            name: clean_name(&n, "people.csv"),
            bytes,
        }),
        person_duplicates: None,
    };
    let plan = match state.core.plan_import_as(&c.actor, &request).await {
        Ok(p) => p,
        Err(e) => return refused(&c, StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    remove_stale(&state);
    let id = hopthu_core::web_session::new_token();
    let Some(dir) = upload_dir(&state, &id) else {
        return crate::html::error_page(t, StatusCode::INTERNAL_SERVER_ERROR, "upload id");
    };
    let saved = (|| -> std::io::Result<()> {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("units"), &request.units.bytes)?;
        let mut names = request.units.name.clone();
        if let Some(p) = &request.people {
            std::fs::write(dir.join("people"), &p.bytes)?;
            names.push('\n');
            names.push_str(&p.name);
        }
        std::fs::write(dir.join("names"), names)
    })();
    if let Err(e) = saved {
        tracing::warn!(error = %e, "saving an import upload");
        return crate::html::error_page(t, StatusCode::SERVICE_UNAVAILABLE, &e.to_string());
    }
    let body = html! {
        h1 { (t.s("Xem trước khi nhập", "Import preview")) }
        p id="summary" {
            (t.s("Sẽ tạo", "Will create")) ": "
            (plan.new_units()) " " (t.s("đơn vị", "units")) ", "
            (plan.new_people()) " " (t.s("cán bộ", "people")) ", "
            (plan.new_aliases()) " " (t.s("bí danh", "aliases")) "."
        }
        (plan_table(&c, &plan))
        form method="post" action="/admin/import/confirm" class="stack" {
            (c.csrf_input())
            input type="hidden" name="upload" value=(id);
            input type="hidden" name="digest" value=(hopthu_core::console::plan_digest(&plan));
            button type="submit" class="primary" id="confirm" { (t.s("Xác nhận nhập", "Confirm the import")) }
        }
        p { a href="/admin/import" { (t.s("Huỷ, chọn tệp khác", "Cancel, choose other files")) } }
    };
    c.page("/admin/import", t.s("Xem trước", "Preview"), body)
}

#[derive(Deserialize, Default)]
struct ConfirmForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    upload: String,
    #[serde(default)]
    digest: String,
}

async fn confirm(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ConfirmForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let t = c.t();
    let Some(dir) = upload_dir(&state, &form.upload) else {
        return crate::html::error_page(
            t,
            StatusCode::BAD_REQUEST,
            t.s("Tệp tải lên không hợp lệ.", "Invalid upload."),
        );
    };
    let request = match read_request(&dir) {
        Ok(r) => r,
        Err(_) => {
            return crate::html::error_page(
                t,
                StatusCode::NOT_FOUND,
                t.s(
                    "Không còn tệp đã tải lên (đã nhập hoặc đã hết hạn). Hãy tải lên lại.",
                    "The uploaded files are gone (already imported or expired). Upload them again.",
                ),
            );
        }
    };
    let applied = match state
        .core
        .apply_import_as(&c.actor, &request, &form.digest)
        .await
    {
        Ok(a) => a,
        Err(e) => return refused(&c, StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    if let Err(e) = std::fs::remove_dir_all(&dir) {
        tracing::warn!(error = %e, "removing an applied import upload");
    }
    let body = html! {
        h1 { (t.s("Đã nhập danh bạ", "Directory imported")) }
        p class="ok" role="status" id="applied" {
            (t.s("Đã tạo", "Created")) ": "
            (applied.units.len()) " " (t.s("đơn vị", "units")) ", "
            (applied.people.len()) " " (t.s("cán bộ", "people")) ", "
            (applied.aliases) " " (t.s("bí danh", "aliases")) "."
        }
        p class="notice" {
            (t.s(
                "Mật khẩu dùng một lần chỉ hiện ở đây, một lần. Hãy trao cho từng người; họ phải đổi ở lần đăng nhập đầu tiên.",
                "The one-time passwords are shown here once. Hand each to its owner; they must be changed at the first sign-in."
            ))
        }
        div class="scroll" {
            table class="grid" id="credentials" {
                thead {
                    tr {
                        th scope="col" { (t.s("Mã đơn vị", "Unit code")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Địa chỉ thư", "Address")) }
                        th scope="col" { (t.s("Mật khẩu dùng một lần", "One-time password")) }
                    }
                }
                tbody {
                    @for cr in &applied.credentials {
                        tr {
                            td { (cr.unit_code) }
                            td { (cr.name) }
                            td { (cr.address) }
                            td { code { (cr.password) } }
                        }
                    }
                }
            }
        }
        p { a href="/admin" { (t.s("Xem cây tổ chức", "See the organisation tree")) } }
    };
    super::no_store(c.page("/admin/import", t.s("Đã nhập", "Imported"), body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_upload_ids_name_a_directory() {
        assert!(valid_upload_id(&hopthu_core::web_session::new_token()));
        assert!(!valid_upload_id(""));
        assert!(!valid_upload_id("../../etc/passwd"));
        assert!(!valid_upload_id(&format!("{}/", "a".repeat(63))));
        assert!(!valid_upload_id(&"a".repeat(65)));
    }
}
