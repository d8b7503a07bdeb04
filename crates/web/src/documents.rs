//! Official documents in the webmail (Đ15): a unit's head or `send-as` delegate issues a
//! document (`/documents/new?unit=…`, posted to `/documents`), whoever may read the unit
//! mailbox follows its documents (`/documents?unit=…`) and each one's recipients
//! (`/documents/{id}`: delivered, opened by whom, acknowledged), and a recipient unit
//! acknowledges a document from its message (`POST /documents/{id}/ack`). Every rule is in
//! `hopthu_core::documents`; these handlers read forms and render.

use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use hopthu_core::documents::{DispatchRequest, DocumentStatus, RecipientStatus};
use hopthu_core::webmail::MessageView;
use hopthu_model::MailboxId;
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Signed, csrf_refused, signed_in};
use crate::html::{T, csrf_input, date_time, page, see_other, url};
use crate::mail::{core_error, sidebar};

/// How many of a unit's documents its list shows.
const LISTED: u32 = 100;

pub(crate) fn routes(max_message: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/documents",
            get(list).post(dispatch).layer(DefaultBodyLimit::max(
                max_message.saturating_mul(2).max(1 << 20),
            )),
        )
        .route("/documents/new", get(form))
        .route("/documents/{id}", get(one))
        .route("/documents/{id}/ack", post(acknowledge))
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
struct UnitQuery {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    sent: Option<i64>,
}

fn time(t: T, at: Option<i64>) -> String {
    at.map(date_time)
        .unwrap_or_else(|| t.s("chưa", "not yet").to_string())
}

/// A document's recipients: delivered, opened (when, by whom), acknowledged.
fn tracking(t: T, doc: &DocumentStatus) -> Markup {
    let opened = doc
        .recipients
        .iter()
        .filter(|r| r.opened_at.is_some())
        .count();
    let acknowledged = doc
        .recipients
        .iter()
        .filter(|r| r.acknowledged_at.is_some())
        .count();
    html! {
        p id="tracking-summary" {
            (doc.recipients.len()) " " (t.s("nơi nhận", "recipients")) " · "
            (opened) " " (t.s("đã mở", "opened")) " · "
            (acknowledged) " " (t.s("đã xác nhận", "acknowledged"))
        }
        div class="scroll" {
            table class="grid" id="tracking" {
                thead {
                    tr {
                        th scope="col" { (t.s("Đơn vị nhận", "Recipient unit")) }
                        th scope="col" { (t.s("Đã chuyển", "Delivered")) }
                        th scope="col" { (t.s("Mở lần đầu", "First opened")) }
                        th scope="col" { (t.s("Người mở", "Opened by")) }
                        th scope="col" { (t.s("Xác nhận", "Acknowledged")) }
                    }
                }
                tbody {
                    @for r in &doc.recipients {
                        tr data-unit=(r.unit) {
                            td { (r.name) " " span class="addr" { "<" (r.address) ">" } }
                            td { (if r.delivered { t.s("có", "yes") } else { t.s("không", "no") }) }
                            td { (time(t, r.opened_at)) }
                            td { (r.opened_by.as_deref().unwrap_or("")) }
                            td {
                                (time(t, r.acknowledged_at))
                                @if let Some(by) = &r.acknowledged_by { " — " (by) }
                            }
                        }
                    }
                }
            }
        }
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UnitQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let who = &signed.session.principal;
    let (unit, docs) = match state.core.unit_documents(who, &q.unit, LISTED).await {
        Ok(v) => v,
        Err(e) => return core_error(t, &e),
    };
    let may_issue = state
        .core
        .dispatching_units(who)
        .await
        .unwrap_or_default()
        .iter()
        .any(|u| u.id == unit.id);
    let side = sidebar(&state, &signed, None).await;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Văn bản đã ban hành", "Documents issued")) ": " (unit.name) }
                @if let Some(id) = q.sent {
                    p class="ok" role="status" id="dispatched" {
                        (t.s("Đã ban hành văn bản", "Document issued")) " #" (id)
                    }
                }
                @if may_issue {
                    p { a class="button primary" id="new-document" href={ "/documents/new?unit=" (url(&unit.address)) } { (t.s("Ban hành văn bản", "Issue a document")) } }
                }
                div class="scroll" {
                    table class="grid" id="documents" {
                        thead {
                            tr {
                                th scope="col" { (t.s("Số, ký hiệu", "Number")) }
                                th scope="col" { (t.s("Ngày", "Date")) }
                                th scope="col" { (t.s("Trích yếu", "Summary")) }
                                th scope="col" { (t.s("Nơi nhận", "Recipients")) }
                                th scope="col" { (t.s("Đã mở", "Opened")) }
                                th scope="col" { (t.s("Đã xác nhận", "Acknowledged")) }
                            }
                        }
                        tbody {
                            @for d in &docs {
                                tr {
                                    td { a href={ "/documents/" (d.id) } { (d.number) } }
                                    td { (d.date) }
                                    td { (d.summary) }
                                    td { (d.recipients.len()) }
                                    td { (d.recipients.iter().filter(|r| r.opened_at.is_some()).count()) }
                                    td { (d.recipients.iter().filter(|r| r.acknowledged_at.is_some()).count()) }
                                }
                            }
                            @if docs.is_empty() {
                                tr { td colspan="6" { (t.s("Chưa có văn bản nào.", "No document yet.")) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page(t, t.s("Văn bản", "Documents"), Some(&signed.session), body).into_response()
}

async fn one(State(state): State<AppState>, headers: HeaderMap, Path(id): Path<i64>) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let doc = match state
        .core
        .document_status_as(&signed.session.principal, id)
        .await
    {
        Ok(d) => d,
        Err(e) => return core_error(t, &e),
    };
    let side = sidebar(&state, &signed, None).await;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Văn bản số", "Document")) " " (doc.number) }
                dl class="document" {
                    dt { (t.s("Ngày", "Date")) } dd { (doc.date) }
                    dt { (t.s("Đơn vị ban hành", "Issued by")) } dd { (doc.unit_name) " (" (doc.unit) ")" }
                    dt { (t.s("Loại", "Kind")) } dd { (doc.kind_name) }
                    dt { (t.s("Trích yếu", "Summary")) } dd { (doc.summary) }
                    dt { (t.s("Tệp", "File")) } dd { (doc.file_name) " " code { (doc.sha256) } }
                    dt { (t.s("Người ban hành", "Dispatched by")) } dd { (doc.dispatched_by) ", " (date_time(doc.dispatched_at)) }
                }
                (tracking(t, &doc))
            }
        }
    };
    page(t, &doc.number, Some(&signed.session), body).into_response()
}

/// The dispatch form of `unit` (its head or a `send-as` delegate), with `error` shown.
async fn form_page(
    state: &AppState,
    signed: &Signed,
    unit_address: &str,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let t = signed.t();
    let who = &signed.session.principal;
    let issuers = state.core.dispatching_units(who).await.unwrap_or_default();
    let Some(unit) = issuers
        .iter()
        .find(|u| u.address.eq_ignore_ascii_case(unit_address.trim()))
    else {
        return crate::html::error_page(
            t,
            StatusCode::FORBIDDEN,
            t.s(
                "Chỉ lãnh đạo đơn vị hoặc người được gửi với danh nghĩa đơn vị mới ban hành được văn bản.",
                "Only the unit's head or a send-as delegate may issue its documents.",
            ),
        );
    };
    let units = state.core.recipient_choices().await.unwrap_or_default();
    let kinds = &state.core.config().documents.kinds;
    let today = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(7 * 3600).expect("offset"))
        .format("%Y-%m-%d")
        .to_string();
    let side = sidebar(state, signed, None).await;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Ban hành văn bản", "Issue a document")) ": " (unit.name) }
                @if let Some(e) = error {
                    p class="error" role="alert" id="dispatch-error" { (e) }
                }
                form method="post" action="/documents" enctype="multipart/form-data" class="stack" id="dispatch-form" {
                    (csrf_input(&signed.session.csrf_token))
                    input type="hidden" name="from" value=(unit.code);
                    input type="hidden" name="unit" value=(unit.address);
                    label for="number" { (t.s("Số, ký hiệu", "Number and symbol")) }
                    input id="number" name="number" required placeholder="12/STTTT";
                    label for="date" { (t.s("Ngày ban hành", "Date")) }
                    input id="date" name="date" type="date" required value=(today);
                    label for="kind" { (t.s("Loại văn bản", "Kind")) }
                    select id="kind" name="kind" {
                        @for k in kinds {
                            option value=(k.id) {
                                (if t.code() == "en" { &k.name_en } else { &k.name })
                            }
                        }
                    }
                    label for="summary" { (t.s("Trích yếu", "Summary")) }
                    input id="summary" name="summary" required;
                    label for="file" { (t.s("Tệp văn bản đã ký số", "The signed file")) }
                    input id="file" name="file" type="file" required;
                    label for="to" { (t.s("Nơi nhận (giữ Ctrl để chọn nhiều)", "Recipients (hold Ctrl to pick several)")) }
                    select id="to" name="to" multiple size="12" required {
                        @for (u, depth) in &units {
                            @if u.id != unit.id {
                                option value=(u.code) { (" ".repeat(depth * 3)) (u.name) " (" (u.code) ")" }
                            }
                        }
                    }
                    label {
                        input type="checkbox" name="subtree" value="1" id="subtree";
                        " " (t.s("Gồm cả các đơn vị trực thuộc", "With every unit under them"))
                    }
                    button type="submit" class="primary" id="dispatch" { (t.s("Ban hành", "Issue")) }
                }
            }
        }
    };
    let mut response = page(
        t,
        t.s("Ban hành văn bản", "Issue a document"),
        Some(&signed.session),
        body,
    )
    .into_response();
    *response.status_mut() = status;
    response
}

async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UnitQuery>,
) -> Response {
    let signed = signed!(state, headers);
    form_page(&state, &signed, &q.unit, None, StatusCode::OK).await
}

async fn dispatch(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let mut request = DispatchRequest::default();
    let mut csrf = String::new();
    let mut unit = String::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return crate::html::error_page(
                    t,
                    StatusCode::BAD_REQUEST,
                    &format!("{}: {e}", t.s("Biểu mẫu không đọc được", "Unreadable form")),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            request.file_name = field.file_name().unwrap_or_default().to_string();
            match field.bytes().await {
                Ok(b) => request.file = b.to_vec(),
                Err(e) => {
                    return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string());
                }
            }
            continue;
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string()),
        };
        match name.as_str() {
            "csrf" => csrf = value,
            "unit" => unit = value,
            "from" => request.from = value,
            "number" => request.number = value,
            "date" => request.date = value,
            "kind" => request.kind = value,
            "summary" => request.summary = value,
            "to" => request.to.push(value),
            "subtree" => request.subtree = !value.is_empty(),
            _ => {}
        }
    }
    if !signed.csrf_ok(&csrf) {
        return csrf_refused(t);
    }
    match state
        .core
        .dispatch_document_as(&signed.session.principal, &request)
        .await
    {
        Ok(done) => see_other(&format!("/documents?unit={}&sent={}", url(&unit), done.id)),
        Err(e) => {
            let status = match e.kind {
                hopthu_core::ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                hopthu_core::ErrorKind::AlreadyExists => StatusCode::CONFLICT,
                hopthu_core::ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_REQUEST,
            };
            form_page(&state, &signed, &unit, Some(&e.message), status).await
        }
    }
}

#[derive(Deserialize)]
struct AckForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    back: String,
}

async fn acknowledge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(f): Form<AckForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    match state
        .core
        .acknowledge_document_as(&signed.session.principal, id, &f.unit)
        .await
    {
        // Back to the message (a path of this site only).
        Ok(()) if f.back.starts_with("/mail/") && !f.back.contains("//") => see_other(&f.back),
        Ok(()) => see_other("/mail"),
        Err(e) => core_error(t, &e),
    }
}

/// The box above a received document's message: what it is, and for a recipient unit its
/// acknowledgement (a button until someone acknowledges). Nothing for other messages.
pub(crate) async fn document_box(
    state: &AppState,
    signed: &Signed,
    mailbox: MailboxId,
    view: &MessageView,
) -> Markup {
    let t = signed.t();
    let Some(message_id) = view.message_id.as_deref() else {
        return Markup::default();
    };
    let found = state
        .core
        .document_of_message(&signed.session.principal, mailbox, message_id)
        .await;
    let (doc, here): (DocumentStatus, Option<RecipientStatus>) = match found {
        Ok(Some(v)) => v,
        Ok(None) => return Markup::default(),
        Err(e) => {
            tracing::warn!(error = %e, "document of a message not looked up");
            return Markup::default();
        }
    };
    let back = format!("/mail/{}/{}", mailbox.0, view.record.uid.0);
    html! {
        aside class="document-box" id="document" aria-label=(t.s("Văn bản", "Document")) {
            p {
                strong { (t.s("Văn bản điện tử", "Official document")) }
                " " (doc.kind_name) " số " (doc.number) " — " (doc.date) " — " (doc.unit_name)
            }
            @if let Some(r) = here {
                @match (r.acknowledged_at, &r.acknowledged_by) {
                    (Some(at), by) => {
                        p id="acknowledged" {
                            (t.s("Đã xác nhận lúc", "Acknowledged at")) " " (date_time(at))
                            @if let Some(by) = by { " — " (by) }
                        }
                    }
                    (None, _) => {
                        form method="post" action={ "/documents/" (doc.id) "/ack" } {
                            (csrf_input(&signed.session.csrf_token))
                            input type="hidden" name="unit" value=(r.address);
                            input type="hidden" name="back" value=(back);
                            button type="submit" class="primary" id="acknowledge" {
                                (t.s("Xác nhận đã nhận văn bản", "Acknowledge receipt"))
                            }
                        }
                    }
                }
            }
        }
    }
}
