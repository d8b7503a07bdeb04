//! Incidents in the webmail (Đ10.3, Đ11.2): a user reports what happened, when, and the
//! message concerned (`/incidents`, posted to the same path) and follows their reports'
//! status there; the reporter also gets a message at each change. The rules are in
//! `hopthu_core::incidents`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use hopthu_core::incidents::{CATEGORIES, IncidentInput};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{csrf_refused, signed_in};
use crate::html::{csrf_input, date_time, page, see_other};
use crate::mail::{core_error, sidebar};

pub(crate) fn routes() -> Router<AppState> {
    Router::new().route("/incidents", get(list).post(file))
}

macro_rules! signed {
    ($state:expr, $headers:expr) => {
        match signed_in(&$state, &$headers, false).await {
            Ok(s) => s,
            Err(r) => return r,
        }
    };
}

#[derive(Deserialize, Default)]
struct ListQuery {
    #[serde(default)]
    filed: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let mine = match state.core.my_incidents(&signed.session.principal).await {
        Ok(v) => v,
        Err(e) => return core_error(t, &e),
    };
    let side = sidebar(&state, &signed, None).await;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Báo cáo sự cố", "Report an incident")) }
                @if let Some(id) = q.filed {
                    p class="ok" role="status" id="filed" {
                        (t.s("Đã gửi báo cáo sự cố số", "Incident reported, number")) " " (id)
                    }
                }
                form method="post" action="/incidents" id="incident-form" {
                    (csrf_input(&signed.session.csrf_token))
                    label for="summary" { (t.s("Chuyện gì đã xảy ra?", "What happened?")) }
                    input id="summary" name="summary" required maxlength="500";
                    label for="details" { (t.s("Chi tiết", "Details")) }
                    textarea id="details" name="details" rows="4" {}
                    label for="happened" { (t.s("Khi nào (ngày, giờ)", "When (date, time)")) }
                    input id="happened" name="happened" type="datetime-local";
                    label for="message" { (t.s("Thư liên quan (Message-ID, nếu có)", "Message concerned (Message-ID, if any)")) }
                    input id="message" name="message";
                    label for="category" { (t.s("Loại", "Kind")) }
                    select id="category" name="category" {
                        @for (id, name) in CATEGORIES {
                            option value=(id) { (name) }
                        }
                    }
                    label for="severity" { (t.s("Mức độ", "Severity")) }
                    select id="severity" name="severity" {
                        option value="normal" { (t.s("Bình thường", "Normal")) }
                        option value="high" { (t.s("Nghiêm trọng", "High")) }
                        option value="low" { (t.s("Thấp", "Low")) }
                    }
                    button type="submit" class="primary" { (t.s("Gửi báo cáo", "Send the report")) }
                }
                h2 { (t.s("Báo cáo của tôi", "My reports")) }
                div class="scroll" {
                    table class="grid" id="incidents" {
                        thead {
                            tr {
                                th scope="col" { (t.s("Số", "No.")) }
                                th scope="col" { (t.s("Ngày", "Date")) }
                                th scope="col" { (t.s("Nội dung", "Summary")) }
                                th scope="col" { (t.s("Trạng thái", "Status")) }
                                th scope="col" { (t.s("Ghi chú", "Note")) }
                            }
                        }
                        tbody {
                            @for i in &mine {
                                tr data-status=(i.status) {
                                    td { (i.id) }
                                    td { (date_time(i.created_at)) }
                                    td { (i.summary) }
                                    td { (i.status_name) }
                                    td { (i.note) }
                                }
                            }
                            @if mine.is_empty() {
                                tr { td colspan="5" { (t.s("Chưa có báo cáo nào.", "No report yet.")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(t, t.s("Sự cố", "Incidents"), Some(&signed.session), body).into_response()
}

#[derive(Deserialize, Default)]
struct IncidentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    details: String,
    /// `YYYY-MM-DDTHH:MM`, Vietnam time.
    #[serde(default)]
    happened: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: String,
}

async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<IncidentForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    let who = &signed.session.principal;
    let happened_at = chrono::NaiveDateTime::parse_from_str(f.happened.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .map(|d| d.and_utc().timestamp() - 7 * 3600);
    let some = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let input = IncidentInput {
        reporter: who.address.to_string(),
        summary: f.summary,
        details: f.details,
        happened_at,
        message_ref: some(&f.message),
        category: some(&f.category),
        severity: some(&f.severity),
    };
    match state
        .core
        .file_incident(&who.address.to_string(), &input)
        .await
    {
        Ok(i) => see_other(&format!("/incidents?filed={}", i.id)),
        Err(e) => core_error(t, &e),
    }
}
