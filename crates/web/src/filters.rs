//! Filters in the webmail's settings: `/settings/rules` (from / to / subject contains TEXT →
//! move, flag, forward, discard; add, delete, reorder) and `/settings/vacation` (the
//! out-of-office reply: on/off, dates as dd/mm/yyyy in Vietnam time, subject, text, days
//! between replies to one sender). Both are saved as one Sieve script by
//! `hopthu_core::sieve_rules` (`Core::save_web_filters`), which keeps the form's data in the
//! script; a hand-written active script (ManageSieve) is replaced only with the confirmation
//! box ticked.

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Form, Router};
use hopthu_core::ErrorKind;
use hopthu_core::sieve_rules::{
    Filters, FiltersState, Rule, RuleAction, RuleField, parse_day, show_day,
};
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Signed, csrf_refused, signed_in};
use crate::html::{T, csrf_input, page, see_other};
use crate::mail::core_error;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/settings/rules", get(rules_form).post(rules_post))
        .route("/settings/vacation", get(vacation_form).post(vacation_post))
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
struct SavedQuery {
    #[serde(default)]
    saved: Option<u8>,
}

fn field_name(t: T, f: RuleField) -> &'static str {
    match f {
        RuleField::From => t.s("Người gửi", "From"),
        RuleField::To => t.s("Người nhận (To, Cc)", "To or Cc"),
        RuleField::Subject => t.s("Tiêu đề", "Subject"),
    }
}

fn action_text(t: T, a: &RuleAction) -> String {
    match a {
        RuleAction::Move(folder) => format!("{} {folder}", t.s("Chuyển vào thư mục", "Move to")),
        RuleAction::Flag => t.s("Gắn cờ", "Flag").to_string(),
        RuleAction::Forward(to) => format!(
            "{} {to}",
            t.s(
                "Chuyển tiếp (giữ bản sao) tới",
                "Forward (keeping a copy) to"
            )
        ),
        RuleAction::Discard => t.s("Xoá luôn", "Discard").to_string(),
    }
}

/// The warning and the confirmation box shown while another script is active.
fn other_script(t: T, state: &FiltersState) -> Markup {
    html! {
        @if let Some(other) = &state.other_active {
            p class="error" id="other-active" {
                (t.s(
                    "Một bộ lọc khác đang hoạt động (do chương trình thư tải lên qua ManageSieve):",
                    "Another filter script is active (uploaded by a mail program over ManageSieve):"
                ))
                " «" (other) "». "
                (t.s(
                    "Lưu ở đây sẽ thay nó; hãy đánh dấu ô xác nhận.",
                    "Saving here replaces it: tick the confirmation box."
                ))
            }
        }
    }
}

fn replace_box(t: T, state: &FiltersState) -> Markup {
    html! {
        @if state.other_active.is_some() {
            label {
                input type="checkbox" name="replace" value="yes";
                " " (t.s("Tôi đồng ý thay bộ lọc đang hoạt động", "Replace the active script"))
            }
        }
    }
}

fn status_line(t: T, saved: bool, error: Option<&str>) -> Markup {
    html! {
        @if saved {
            p class="ok" role="status" id="saved" { (t.s("Đã lưu.", "Saved.")) }
        }
        @if let Some(e) = error {
            p class="error" role="alert" id="error" { (e) }
        }
    }
}

async fn load(state: &AppState, signed: &Signed) -> Result<FiltersState, Response> {
    state
        .core
        .web_filters(&signed.session.principal)
        .await
        .map_err(|e| core_error(signed.t(), &e))
}

async fn rules_page(
    state: &AppState,
    signed: &Signed,
    filters: &FiltersState,
    saved: bool,
    error: Option<&str>,
) -> Response {
    let t = signed.t();
    let folders = state
        .core
        .filter_folders(&signed.session.principal)
        .await
        .unwrap_or_default();
    let csrf = csrf_input(&signed.session.csrf_token);
    let rules = &filters.filters.rules;
    let body = html! {
        main id="main" class="narrow" {
            p { a href="/settings" { "← " (t.s("Về trang cài đặt", "Back to settings")) } }
            h1 { (t.s("Quy tắc lọc thư", "Mail rules")) }
            p {
                (t.s(
                    "Các quy tắc được áp dụng lần lượt cho thư đến. “Chuyển vào thư mục” và “Xoá luôn” dừng các quy tắc sau.",
                    "Rules apply in order to incoming mail. “Move” and “Discard” stop the rules after them."
                ))
            }
            (status_line(t, saved, error))
            (other_script(t, filters))
            @if filters.other_active.is_some() {
                form method="post" action="/settings/rules" class="stack" id="activate" {
                    (csrf)
                    input type="hidden" name="op" value="activate";
                    (replace_box(t, filters))
                    button type="submit" { (t.s("Dùng các quy tắc dưới đây thay cho nó", "Use the rules below instead")) }
                }
            }
            div class="scroll" {
                table class="grid" id="rules" {
                    thead {
                        tr {
                            th scope="col" { "#" }
                            th scope="col" { (t.s("Điều kiện", "Condition")) }
                            th scope="col" { (t.s("Hành động", "Action")) }
                            th scope="col" { (t.s("Thứ tự", "Order")) }
                        }
                    }
                    tbody {
                        @for (i, r) in rules.iter().enumerate() {
                            tr class="rule" {
                                td { (i + 1) }
                                td { (field_name(t, r.field)) " " (t.s("chứa", "contains")) " “" (r.contains) "”" }
                                td { (action_text(t, &r.action)) }
                                td {
                                    @for (op, label) in [("up", "↑"), ("down", "↓"), ("delete", t.s("Xoá", "Delete"))] {
                                        form method="post" action="/settings/rules" class="inline" {
                                            (csrf)
                                            input type="hidden" name="op" value=(op);
                                            input type="hidden" name="index" value=(i);
                                            button type="submit" name="do" value=(op) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        @if rules.is_empty() {
                            tr { td colspan="4" { (t.s("Chưa có quy tắc nào.", "No rule yet.")) } }
                        }
                    }
                }
            }
            h2 { (t.s("Thêm quy tắc", "Add a rule")) }
            form method="post" action="/settings/rules" class="stack" id="add-rule" {
                (csrf)
                input type="hidden" name="op" value="add";
                label for="field" { (t.s("Khi", "When")) }
                select id="field" name="field" {
                    @for f in [RuleField::From, RuleField::To, RuleField::Subject] {
                        option value=(f.as_str()) { (field_name(t, f)) }
                    }
                }
                label for="contains" { (t.s("chứa", "contains")) }
                input id="contains" name="contains" required maxlength="200";
                label for="action" { (t.s("thì", "then")) }
                select id="action" name="action" {
                    option value="move" { (t.s("Chuyển vào thư mục", "Move to a folder")) }
                    option value="flag" { (t.s("Gắn cờ", "Flag")) }
                    option value="forward" { (t.s("Chuyển tiếp (giữ bản sao)", "Forward (keeping a copy)")) }
                    option value="discard" { (t.s("Xoá luôn", "Discard")) }
                }
                label for="folder" { (t.s("Thư mục (khi chuyển)", "Folder (to move to)")) }
                select id="folder" name="folder" {
                    @for f in &folders {
                        option value=(f) { (f) }
                    }
                }
                label for="forward" { (t.s("Địa chỉ (khi chuyển tiếp)", "Address (to forward to)")) }
                input id="forward" name="forward" type="email";
                (replace_box(t, filters))
                button type="submit" class="primary" { (t.s("Thêm", "Add")) }
            }
            p { a href="/settings/vacation" { (t.s("Trả lời tự động khi vắng mặt", "Out-of-office reply")) } }
        }
    };
    form_page(
        t,
        t.s("Quy tắc lọc thư", "Mail rules"),
        &signed.session,
        body,
        error.is_some(),
    )
}

async fn rules_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let filters = match load(&state, &signed).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    rules_page(&state, &signed, &filters, q.saved.is_some(), None).await
}

#[derive(Deserialize, Default)]
struct RuleForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    field: String,
    #[serde(default)]
    contains: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    folder: String,
    #[serde(default)]
    forward: String,
    #[serde(default)]
    replace: String,
}

/// Saves `filters`; the response is the page again with the error, or a redirect to `to`.
async fn save(
    state: &AppState,
    signed: &Signed,
    mut current: FiltersState,
    filters: Filters,
    replace: bool,
    to: &str,
    rules_page_on_error: bool,
) -> Response {
    let t = signed.t();
    match state
        .core
        .save_web_filters(&signed.session.principal, &filters, replace)
        .await
    {
        Ok(()) => see_other(to),
        Err(e) if matches!(e.kind, ErrorKind::Invalid | ErrorKind::Forbidden) => {
            current.filters = filters;
            if rules_page_on_error {
                rules_page(state, signed, &current, false, Some(&e.message)).await
            } else {
                vacation_page(signed, &current, false, Some(&e.message))
            }
        }
        Err(e) => core_error(t, &e),
    }
}

async fn rules_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<RuleForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    let current = match load(&state, &signed).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut filters = current.filters.clone();
    match (f.op.as_str(), f.index) {
        ("add", _) => {
            let field = RuleField::parse(&f.field).unwrap_or(RuleField::Subject);
            let action = match f.action.as_str() {
                "move" => RuleAction::Move(f.folder.clone()),
                "flag" => RuleAction::Flag,
                "forward" => RuleAction::Forward(f.forward.trim().to_string()),
                _ => RuleAction::Discard,
            };
            filters.rules.push(Rule {
                field,
                contains: f.contains.trim().to_string(),
                action,
            });
        }
        ("activate", _) => {}
        ("up", Some(i)) => filters.move_rule(i, true),
        ("down", Some(i)) => filters.move_rule(i, false),
        ("delete", Some(i)) => filters.remove_rule(i),
        _ => {
            return rules_page(
                &state,
                &signed,
                &current,
                false,
                Some(t.s("Yêu cầu không hợp lệ.", "Invalid request.")),
            )
            .await;
        }
    }
    let replace = f.replace == "yes";
    save(
        &state,
        &signed,
        current,
        filters,
        replace,
        "/settings/rules?saved=1",
        true,
    )
    .await
}

fn vacation_page(
    signed: &Signed,
    filters: &FiltersState,
    saved: bool,
    error: Option<&str>,
) -> Response {
    let t = signed.t();
    let v = &filters.filters.vacation;
    let day = |d: &Option<String>| d.as_deref().map(show_day).unwrap_or_default();
    let body = html! {
        main id="main" class="narrow" {
            p { a href="/settings" { "← " (t.s("Về trang cài đặt", "Back to settings")) } }
            h1 { (t.s("Trả lời tự động khi vắng mặt", "Out-of-office reply")) }
            p {
                (t.s(
                    "Khi bật, mỗi người gửi nhận thư trả lời này nhiều nhất một lần trong số ngày đã chọn. Thư từ danh sách thư, thư tự động và thư rác không được trả lời. Ngày tính theo giờ Việt Nam (UTC+7).",
                    "While on, each sender gets this reply at most once in the chosen number of days. Mailing lists, automatic messages and spam get no reply. Dates are in Vietnam time (UTC+7)."
                ))
            }
            (status_line(t, saved, error))
            (other_script(t, filters))
            form method="post" action="/settings/vacation" class="stack" id="vacation-form" {
                (csrf_input(&signed.session.csrf_token))
                label {
                    input type="checkbox" id="enabled" name="enabled" value="yes" checked[v.enabled];
                    " " (t.s("Bật trả lời tự động", "Reply automatically"))
                }
                label for="start" { (t.s("Từ ngày (dd/mm/yyyy, để trống: ngay bây giờ)", "From (dd/mm/yyyy, empty: now)")) }
                input id="start" name="start" placeholder="dd/mm/yyyy" value=(day(&v.start));
                label for="end" { (t.s("Đến hết ngày (dd/mm/yyyy, để trống: đến khi tắt)", "Until the end of (dd/mm/yyyy, empty: until turned off)")) }
                input id="end" name="end" placeholder="dd/mm/yyyy" value=(day(&v.end));
                label for="subject" { (t.s("Tiêu đề", "Subject")) }
                input id="subject" name="subject" maxlength="200" value=(v.subject);
                label for="text" { (t.s("Nội dung", "Text")) }
                textarea id="text" name="text" rows="8" { (v.text) }
                label for="days" { (t.s("Số ngày giữa hai lần trả lời cùng một người", "Days between two replies to one sender")) }
                input id="days" name="days" type="number" min="1" value=(v.days);
                (replace_box(t, filters))
                button type="submit" class="primary" { (t.s("Lưu", "Save")) }
            }
            p { a href="/settings/rules" { (t.s("Quy tắc lọc thư", "Mail rules")) } }
        }
    };
    form_page(
        t,
        t.s("Trả lời tự động", "Out of office"),
        &signed.session,
        body,
        error.is_some(),
    )
}

async fn vacation_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SavedQuery>,
) -> Response {
    let signed = signed!(state, headers);
    match load(&state, &signed).await {
        Ok(f) => vacation_page(&signed, &f, q.saved.is_some(), None),
        Err(r) => r,
    }
}

#[derive(Deserialize, Default)]
struct VacationForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    replace: String,
}

async fn vacation_post(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<VacationForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    let current = match load(&state, &signed).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let mut filters = current.filters.clone();
    let day = |s: &str| -> Result<Option<String>, ()> {
        if s.trim().is_empty() {
            Ok(None)
        } else {
            parse_day(s).map(Some).ok_or(())
        }
    };
    let (Ok(start), Ok(end)) = (day(&f.start), day(&f.end)) else {
        return vacation_page(
            &signed,
            &current,
            false,
            Some(t.s(
                "Ngày phải có dạng dd/mm/yyyy.",
                "Dates are written dd/mm/yyyy.",
            )),
        );
    };
    let v = &mut filters.vacation;
    v.enabled = f.enabled == "yes";
    v.start = start;
    v.end = end;
    v.subject = f.subject.trim().to_string();
    v.text = f.text.replace("\r\n", "\n");
    v.days = f.days.trim().parse().unwrap_or(0);
    let replace = f.replace == "yes";
    save(
        &state,
        &signed,
        current,
        filters,
        replace,
        "/settings/vacation?saved=1",
        false,
    )
    .await
}

/// A settings form's page: 400 when it comes back with an error, so a client sees the refusal.
fn form_page(
    t: T,
    title: &str,
    session: &hopthu_core::web_session::WebSession,
    body: maud::Markup,
    refused: bool,
) -> Response {
    let status = if refused {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    (status, page(t, title, Some(session), body)).into_response()
}
