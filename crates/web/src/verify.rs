//! The public check of a document's origin and integrity (Đ14.2): `GET /verify` (a form with
//! a file input), `POST /verify` (the form, multipart) and `POST /verify.json` (multipart field
//! `file`) take an `.eml` or the attached file itself and render the verdict of
//! [`hopthu_core::Core::verify_document`]; no rule lives here.
//!
//! No sign-in and no CSRF token: the check reads and changes nothing, sets no cookie and
//! answers only the one who asked (a forged cross-site POST learns nothing and does nothing,
//! unlike a sign-in, whose double-submit token stops login CSRF). The body is bounded like a
//! message (`[limits] max_message_size`, with room for the form).

use axum::Json;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hopthu_core::verify::Verdict;
use hopthu_core::web_session::Language;
use maud::{Markup, html};
use serde_json::json;

use crate::AppState;
use crate::html::{T, page};

pub(crate) fn routes(max_message: usize) -> Router<AppState> {
    let limit = DefaultBodyLimit::max(max_message.saturating_add(1 << 16).max(1 << 20));
    Router::new()
        .route("/verify", get(form).post(check_form).layer(limit))
        .route("/verify.json", post(check_json).layer(limit))
}

/// The bytes of the multipart field `file`; `Err` is the sentence to show.
async fn file_of(mut multipart: Multipart) -> Result<Vec<u8>, String> {
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                return field
                    .bytes()
                    .await
                    .map(|b| b.to_vec())
                    .map_err(|e| format!("không đọc được tệp / the file could not be read: {e}"));
            }
            Ok(Some(_)) => {}
            Ok(None) => return Err("chưa chọn tệp / no file (field `file`)".into()),
            Err(e) => return Err(format!("biểu mẫu không đọc được / unreadable form: {e}")),
        }
    }
}

async fn verdict_of(
    state: &AppState,
    multipart: Multipart,
) -> Result<Verdict, (StatusCode, String)> {
    let bytes = file_of(multipart)
        .await
        .map_err(|e| (StatusCode::BAD_REQUEST, e))?;
    if bytes.is_empty() {
        return Err((
            StatusCode::BAD_REQUEST,
            "tệp rỗng / the file is empty".into(),
        ));
    }
    state.core.verify_document(&bytes).await.map_err(|e| {
        tracing::warn!(error = %e, "document verification failed");
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "không kiểm tra được, xin thử lại sau / cannot check now, try again later".into(),
        )
    })
}

async fn check_json(State(state): State<AppState>, multipart: Multipart) -> Response {
    match verdict_of(&state, multipart).await {
        Ok(v) => Json(v).into_response(),
        Err((status, e)) => (status, Json(json!({ "error": e }))).into_response(),
    }
}

async fn form() -> Response {
    verify_page(None).into_response()
}

async fn check_form(State(state): State<AppState>, multipart: Multipart) -> Response {
    match verdict_of(&state, multipart).await {
        Ok(v) => verify_page(Some(Ok(&v))).into_response(),
        Err((status, e)) => (status, verify_page(Some(Err(&e)))).into_response(),
    }
}

/// The verdict as a sentence: "Văn bản do … ban hành, số …, ngày …: nguyên vẹn / unchanged",
/// or the reason it was not verified. The webmail's reading page shows the same line.
pub(crate) fn verdict_line(v: &Verdict) -> Markup {
    html! {
        @if v.verified {
            p id="document-verdict" class="notice verified" role="status" {
                "Văn bản do "
                strong { (v.unit_name.as_deref().unwrap_or_default()) " (" (v.unit.as_deref().unwrap_or_default()) ")" }
                " ban hành, số " (v.number.as_deref().unwrap_or_default())
                ", ngày " (vn_date(v.date.as_deref().unwrap_or_default()))
                ": nguyên vẹn / unchanged"
            }
        } @else {
            p id="document-verdict" class="error" role="alert" {
                "Không xác thực được / Not verified: " (v.reason)
            }
        }
    }
}

/// `YYYY-MM-DD` as `dd/mm/yyyy`.
fn vn_date(iso: &str) -> String {
    match chrono::NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        Ok(d) => d.format("%d/%m/%Y").to_string(),
        Err(_) => iso.to_string(),
    }
}

fn verify_page(result: Option<Result<&Verdict, &str>>) -> Markup {
    let t = T(Language::Vi);
    let body = html! {
        main id="main" class="narrow" {
            h1 { "Kiểm tra văn bản " span lang="en" { "/ Verify a document" } }
            p {
                "Chọn thư (tệp .eml) hoặc tệp văn bản đính kèm để biết văn bản có do hệ thống này \
                 ban hành không, do đơn vị nào, ngày nào, và có còn nguyên vẹn không."
            }
            p lang="en" {
                "Choose the message (an .eml file) or the attached document file to learn whether \
                 it was issued through this system, by which unit, when, and whether it is unchanged."
            }
            @match result {
                Some(Ok(v)) => (verdict_line(v)),
                Some(Err(e)) => p id="document-verdict" class="error" role="alert" { (e) },
                None => {},
            }
            form method="post" action="/verify" enctype="multipart/form-data" {
                label for="file" { "Tệp cần kiểm tra / File to check" }
                input id="file" name="file" type="file" required;
                button class="primary" { "Kiểm tra / Verify" }
            }
        }
    };
    page(t, "Kiểm tra văn bản / Verify a document", None, body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verdict_reads_as_one_sentence() {
        let v = Verdict {
            verified: true,
            unit: Some("STTTT".into()),
            unit_name: Some("Sở Thông tin <và> Truyền thông".into()),
            number: Some("12/STTTT".into()),
            date: Some("2026-03-05".into()),
            reason: String::new(),
        };
        let out = verdict_line(&v).into_string();
        assert!(
            out.contains("Sở Thông tin &lt;và&gt; Truyền thông (STTTT)"),
            "{out}"
        );
        assert!(
            out.contains("số 12/STTTT, ngày 05/03/2026: nguyên vẹn / unchanged"),
            "{out}"
        );
        let out = verdict_line(&Verdict::refused(hopthu_core::verify::FILE_CHANGED)).into_string();
        assert!(
            out.contains("tệp đã bị sửa đổi / the file was changed"),
            "{out}"
        );
        let out = verify_page(None).into_string();
        assert!(out.contains(r#"enctype="multipart/form-data""#), "{out}");
        assert!(!out.contains("csrf"), "{out}");
    }
}
