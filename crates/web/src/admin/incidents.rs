//! `/admin/incidents`: the incidents of the administrator's scope (Đ10.3, Đ11.2), newest first,
//! with the forms that handle one (assign, status, escalate, resolve) and one to file an
//! incident for a reporter. Every rule is core's `incidents.rs`; an inspector sees the list and
//! is refused every form. A compromised account's incident (Đ13.4) is not resolved here: the
//! unit page's password reset with the agency's written confirmation resolves it, and the
//! confirmation is then downloaded at `/admin/incidents/{id}/confirmation`.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hopthu_core::incidents::{CATEGORIES, IncidentInput};
use maud::html;
use serde::Deserialize;

use super::{admin_form_or_return, admin_or_return};
use crate::AppState;
use crate::html::{date_time, see_other};

pub(crate) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let incidents = match state.core.incidents(&c.actor).await {
        Ok(v) => v,
        Err(e) => return c.error(&e),
    };
    let body = html! {
        h1 { (t.s("Sự cố", "Incidents")) }
        form method="post" action="/admin/incidents" id="incident-file" {
            (c.csrf_input())
            label for="reporter" { (t.s("Người báo (địa chỉ)", "Reporter (address)")) }
            input id="reporter" name="reporter" required;
            label for="summary" { (t.s("Nội dung", "What happened")) }
            input id="summary" name="summary" required maxlength="500";
            label for="category" { (t.s("Loại", "Kind")) }
            select id="category" name="category" {
                @for (id, name) in CATEGORIES { option value=(id) { (name) } }
            }
            label for="severity" { (t.s("Mức độ", "Severity")) }
            select id="severity" name="severity" {
                option value="normal" { "normal" }
                option value="high" { "high" }
                option value="low" { "low" }
            }
            button type="submit" class="primary" { (t.s("Ghi nhận", "File")) }
        }
        div class="scroll" {
            table class="grid" id="incidents" {
                thead {
                    tr {
                        th scope="col" { (t.s("Số", "No.")) }
                        th scope="col" { (t.s("Đơn vị", "Unit")) }
                        th scope="col" { (t.s("Người báo", "Reporter")) }
                        th scope="col" { (t.s("Nội dung", "Summary")) }
                        th scope="col" { (t.s("Mức độ", "Severity")) }
                        th scope="col" { (t.s("Hạn", "Deadline")) }
                        th scope="col" { (t.s("Trạng thái", "Status")) }
                        th scope="col" { (t.s("Xử lý", "Handle")) }
                    }
                }
                tbody {
                    @for i in &incidents {
                        tr id={ "incident-" (i.id) } data-status=(i.status) {
                            td { (i.id) }
                            td { (i.unit_code.as_deref().unwrap_or("—")) }
                            td { (i.reporter) }
                            td { (i.summary) @if i.escalated { " " strong { (t.s("(đã chuyển lên)", "(escalated)")) } } }
                            td { (i.severity) }
                            td class=(if i.overdue { "overdue" } else { "" }) { (date_time(i.deadline_at)) }
                            td { (i.status_name) @if let Some(a) = &i.assignee { br; (a) } }
                            td {
                                @if i.locks_account && i.status != "resolved" {
                                    (t.s(
                                        "Hộp thư đang khoá: cấp lại mật khẩu kèm văn bản xác nhận của cơ quan ở trang đơn vị.",
                                        "The mailbox is locked: reset its password with the agency's written confirmation on the unit's page."
                                    ))
                                } @else if i.status != "resolved" {
                                    form method="post" action={ "/admin/incidents/" (i.id) } {
                                        (c.csrf_input())
                                        select name="action" aria-label=(t.s("Việc", "Action")) {
                                            option value="assign" { (t.s("Phân công", "Assign")) }
                                            option value="in_progress" { (t.s("Đang xử lý", "In progress")) }
                                            option value="waiting" { (t.s("Chờ phản hồi", "Waiting")) }
                                            option value="escalate" { (t.s("Chuyển lên đầu mối", "Escalate")) }
                                            option value="resolve" { (t.s("Đã xử lý", "Resolve")) }
                                        }
                                        input name="value" aria-label=(t.s("Người xử lý hoặc ghi chú", "Handler or note"));
                                        button type="submit" { "OK" }
                                    }
                                } @else {
                                    (i.note)
                                    @if i.locks_account {
                                        " "
                                        a href={ "/admin/incidents/" (i.id) "/confirmation" } {
                                            (t.s("Văn bản xác nhận", "Written confirmation"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if incidents.is_empty() {
                        tr { td colspan="8" { (t.s("Chưa có sự cố nào.", "No incident.")) } }
                    }
                }
            }
        }
    };
    c.page("/admin/incidents", t.s("Sự cố", "Incidents"), body)
}

#[derive(Deserialize, Default)]
pub(crate) struct FileForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    reporter: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    severity: String,
}

pub(crate) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<FileForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    if c.actor.is_inspector() {
        return c.error(&hopthu_core::Error::forbidden(
            "thanh tra chỉ được xem / an inspector reads, and changes nothing",
        ));
    }
    // A unit IT officer files for a reporter of their scope: the incident lands in the
    // reporter's unit, which must be theirs.
    let input = IncidentInput {
        reporter: form.reporter,
        summary: form.summary,
        category: Some(form.category).filter(|s| !s.is_empty()),
        severity: Some(form.severity).filter(|s| !s.is_empty()),
        ..IncidentInput::default()
    };
    match state.core.file_incident_as(&c.actor, &input).await {
        Ok(_) => see_other("/admin/incidents"),
        Err(e) => c.error(&e),
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    value: String,
}

pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<ActForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let core = &state.core;
    let value = form.value.trim();
    let result = match form.action.as_str() {
        "assign" => core.assign_incident(&c.actor, id, value).await,
        "in_progress" | "waiting" => {
            core.set_incident_status(&c.actor, id, &form.action, value)
                .await
        }
        "escalate" => core.escalate_incident(&c.actor, id).await,
        "resolve" => core.resolve_incident(&c.actor, id, value).await,
        _ => Err(hopthu_core::Error::invalid(
            "unknown action / việc không hợp lệ",
        )),
    };
    match result {
        Ok(_) => see_other("/admin/incidents"),
        Err(e) => c.error(&e),
    }
}

/// The agency's written confirmation kept with a compromised account's incident, for whoever
/// may see the incident: the file as uploaded (its checked type), never cached.
pub(crate) async fn confirmation(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    use axum::http::header;
    use axum::response::IntoResponse;
    let c = admin_or_return!(state, headers);
    match state.core.incident_confirmation(&c.actor, id).await {
        Ok(Some((record, bytes))) => (
            [
                (header::CONTENT_TYPE, record.content_type),
                (
                    header::CONTENT_DISPOSITION,
                    crate::mail::content_disposition("attachment", &record.file_name),
                ),
                (header::CACHE_CONTROL, "no-store".to_string()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => c.error(&hopthu_core::Error::not_found(format!(
            "sự cố {id} không có văn bản xác nhận / incident {id} has no written confirmation"
        ))),
        Err(e) => c.error(&e),
    }
}
