//! The admin console under `/admin`, for the focal unit and for unit IT officers (each confined
//! to their subtree by `hopthu_core`): the organisation tree, a unit's people and unit mailbox,
//! change requests (filing; the focal unit's approval queue), revoke and re-issue (as change
//! requests), password reset (the one-time password shown once), notices (list, download), the
//! inactivity outlook and the import with its dry-run table (`import.rs`).
//!
//! Sign-in is the webmail's session cookie; the administrator is `Core::actor`. Every decision
//! (who may see or do what) is core's: a handler maps core's answer to 403/404 and renders.
//! Every form is a plain HTML form with the session's CSRF token; a POST without it changes
//! nothing.

mod audit;
mod import;
mod report;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use hopthu_core::directory::{ChangeInput, ChangeKind, ChangeView, Credential, PersonState};
use hopthu_core::{Actor, AdminScope, ErrorKind};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Signed, csrf_refused, signed_in};
use crate::html::{T, date, date_time, esc, page, see_other, url};

const CSS: &str = include_str!("../../assets/admin.css");

/// Characters kept as they are in a path segment (unit codes such as `CB25-002` stay readable).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Percent-encodes a URL path segment.
fn seg(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, SEGMENT).to_string()
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/static/admin.css", get(css))
        .route("/admin", get(tree))
        .route("/admin/units/{code}", get(unit_page))
        .route("/admin/changes", get(changes).post(file_change))
        .route("/admin/changes/new", get(change_form))
        .route("/admin/changes/{id}/approve", post(approve))
        .route("/admin/changes/{id}/reject", post(reject))
        .route("/admin/reset", post(reset))
        .route("/admin/notices", get(notices))
        .route("/admin/notices/{id}", get(notice))
        .route("/admin/outlook", get(outlook))
        .route("/admin/audit", get(audit::audit))
        .route("/admin/report", get(report::report))
        .merge(import::routes())
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        CSS,
    )
        .into_response()
}

/// Midnight at the start of a `YYYY-MM-DD` day in Vietnam (UTC+7), as Unix seconds (the
/// date filters of the audit log and the report).
pub(crate) fn day_start(day: &str) -> Option<i64> {
    let date = chrono::NaiveDate::parse_from_str(day.trim(), "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp() - 7 * 3600)
}

/// A signed-in administrator: the webmail session and core's actor for it.
pub(crate) struct Console {
    pub signed: Signed,
    pub actor: Actor,
}

impl Console {
    pub(crate) fn t(&self) -> T {
        self.signed.t()
    }

    pub(crate) fn csrf(&self) -> String {
        esc(&self.signed.session.csrf_token)
    }

    /// A console page: the console's navigation, then `body`, in the webmail's frame.
    pub(crate) fn page(&self, current: &str, title: &str, body: &str) -> Response {
        let t = self.t();
        let mut links = vec![
            ("/admin", t.s("Cây tổ chức", "Organisation")),
            ("/admin/changes", t.s("Yêu cầu thay đổi", "Change requests")),
            ("/admin/notices", t.s("Thông báo", "Notices")),
            ("/admin/report", t.s("Báo cáo", "Report")),
            (
                "/admin/outlook",
                t.s("Dự kiến thu hồi", "Inactivity outlook"),
            ),
        ];
        if self.actor.is_focal() {
            links.push(("/admin/import", t.s("Nhập danh bạ", "Import")));
            links.push(("/admin/audit", t.s("Nhật ký kiểm tra", "Audit log")));
        }
        links.push(("/mail", t.s("Hộp thư", "Mailbox")));
        let nav: String = links
            .iter()
            .map(|(href, label)| {
                let cur = if *href == current {
                    r#" aria-current="page""#
                } else {
                    ""
                };
                format!(r#"<li><a href="{href}"{cur}>{label}</a></li>"#)
            })
            .collect();
        let scope = match self.actor.scope {
            AdminScope::Focal => t.s("Đơn vị đầu mối", "Focal unit"),
            AdminScope::Unit(_) => t.s("Cán bộ CNTT đơn vị", "Unit IT officer"),
        };
        let html = format!(
            r#"<link rel="stylesheet" href="/static/admin.css?v={v}">
<main id="main" class="admin">
<nav class="console" aria-label="{navl}"><ul>{nav}</ul></nav>
<p class="muted">{scope_l}: {scope}</p>
{body}
</main>"#,
            v = crate::html::ASSET_VERSION,
            navl = t.s("Quản trị", "Administration"),
            scope_l = t.s("Quyền", "Role"),
        );
        page(t, title, Some(&self.signed.session), &html).into_response()
    }

    /// Core's refusal or failure as a page with its status (403, 404, 400, 409, 503).
    pub(crate) fn error(&self, e: &hopthu_core::Error) -> Response {
        let status = status_of(e.kind);
        let mut r = self.page(
            "",
            self.t().s("Lỗi", "Error"),
            &format!(
                r#"<h1>{}</h1><p class="error" role="alert">{}</p>"#,
                self.t().s("Không thực hiện được", "That did not work"),
                esc(&e.message)
            ),
        );
        *r.status_mut() = status;
        r
    }
}

/// A page showing a one-time password: never stored by the browser or a proxy.
pub(crate) fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

pub(crate) fn status_of(kind: ErrorKind) -> StatusCode {
    match kind {
        ErrorKind::Invalid | ErrorKind::QuotaExceeded => StatusCode::BAD_REQUEST,
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::AlreadyExists | ErrorKind::HasChildren => StatusCode::CONFLICT,
        ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The link to the console in the webmail's side bar, for administrators only (core says who).
pub(crate) async fn nav_link(state: &AppState, signed: &Signed) -> String {
    match state.core.actor(&signed.session.principal).await {
        Ok(_) => format!(
            r#"<p class="admin-link"><a href="/admin" id="admin-link">{}</a></p>"#,
            signed.t().s("Quản trị danh bạ", "Directory administration")
        ),
        Err(_) => String::new(),
    }
}

fn kind_name(t: T, kind: &str) -> String {
    let label = match kind {
        "department" => t.s("Sở, ban, ngành", "Department"),
        "board" => t.s("Ban", "Board"),
        "organisation" => t.s("Tổ chức", "Organisation"),
        "commune" => t.s("Xã", "Commune"),
        "ward" => t.s("Phường", "Ward"),
        _ => return esc(kind),
    };
    label.to_string()
}

/// The administrator of a request, or the response instead: the sign-in page, the forced
/// password change, or 403 for someone who is not an administrator.
pub(crate) async fn console(state: &AppState, headers: &HeaderMap) -> Result<Console, Response> {
    let signed = signed_in(state, headers, false).await?;
    match state.core.actor(&signed.session.principal).await {
        Ok(actor) => Ok(Console { signed, actor }),
        Err(e) => Err(crate::html::error_page(
            signed.t(),
            status_of(e.kind),
            &e.message,
        )),
    }
}

/// [`console`] for a form post: also refuses a CSRF token that is not the session's.
pub(crate) async fn console_form(
    state: &AppState,
    headers: &HeaderMap,
    csrf: &str,
) -> Result<Console, Response> {
    let c = console(state, headers).await?;
    if !c.signed.csrf_ok(csrf) {
        return Err(csrf_refused(c.t()));
    }
    Ok(c)
}

macro_rules! admin_or_return {
    ($state:expr, $headers:expr) => {
        match $crate::admin::console(&$state, &$headers).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}
pub(crate) use admin_or_return;

/// [`admin_or_return!`] for a form post with a `csrf` field.
macro_rules! admin_form_or_return {
    ($state:expr, $headers:expr, $csrf:expr) => {
        match $crate::admin::console_form(&$state, &$headers, $csrf).await {
            Ok(c) => c,
            Err(r) => return r,
        }
    };
}
pub(crate) use admin_form_or_return;

fn kind_label(t: T, kind: ChangeKind) -> &'static str {
    match t.0 {
        hopthu_core::web_session::Language::Vi => kind.label(),
        hopthu_core::web_session::Language::En => match kind {
            ChangeKind::NewHire => "New hire",
            ChangeKind::TransferIn => "Transfer in",
            ChangeKind::Transfer => "Transfer between units",
            ChangeKind::Resignation => "Resignation",
            ChangeKind::Death => "Death",
            ChangeKind::Retirement => "Retirement",
            ChangeKind::TransferOut => "Transfer out",
            ChangeKind::Reissue => "Re-issue",
        },
    }
}

fn state_label(t: T, state: &str) -> &'static str {
    match state {
        "filed" => t.s("Chờ duyệt", "Awaiting approval"),
        "approved" => t.s("Đã duyệt", "Approved"),
        "rejected" => t.s("Từ chối", "Rejected"),
        "active" => t.s("Đang hoạt động", "Active"),
        "revoked" => t.s("Đã thu hồi", "Revoked"),
        "reserved" => t.s("Đã xoá dữ liệu (giữ địa chỉ)", "Purged (address kept)"),
        _ => t.s("Khác", "Other"),
    }
}

// ---- the organisation tree --------------------------------------------------------------

async fn tree(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let units = match state.core.units_in_scope(&c.actor).await {
        Ok(u) => u,
        Err(e) => return c.error(&e),
    };
    // Roots: units whose parent is not visible to the actor.
    let visible = |id| units.iter().any(|u| u.id == id);
    fn branch(
        out: &mut String,
        units: &[hopthu_core::directory::UnitRecord],
        parent: Option<hopthu_model::UnitId>,
        roots: bool,
        visible: &dyn Fn(hopthu_model::UnitId) -> bool,
        depth: usize,
    ) {
        let children: Vec<_> = units
            .iter()
            .filter(|u| {
                if roots {
                    u.parent.is_none_or(|p| !visible(p))
                } else {
                    u.parent == parent
                }
            })
            .collect();
        if children.is_empty() || depth > units.len() {
            return;
        }
        out.push_str(if roots {
            r#"<ul class="tree">"#
        } else {
            "<ul>"
        });
        for u in children {
            out.push_str(&format!(
                r#"<li><a href="/admin/units/{code_url}">{name}</a> <span class="kind">{code} · {address}</span>"#,
                code_url = seg(&u.code),
                name = esc(&u.name),
                code = esc(&u.code),
                address = esc(&u.address),
            ));
            branch(out, units, Some(u.id), false, visible, depth + 1);
            out.push_str("</li>");
        }
        out.push_str("</ul>");
    }
    let mut list = String::new();
    branch(&mut list, &units, None, true, &visible, 0);
    if units.is_empty() {
        list = format!("<p>{}</p>", t.s("Chưa có đơn vị nào.", "No units yet."));
    }
    let body = format!(
        r#"<h1>{title}</h1><p>{count}: {n}</p>{list}"#,
        title = t.s("Cây tổ chức", "Organisation tree"),
        count = t.s("Số đơn vị", "Units"),
        n = units.len(),
    );
    c.page("/admin", t.s("Cây tổ chức", "Organisation tree"), &body)
}

// ---- a unit: its mailbox and its people ------------------------------------------------

async fn unit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let unit = match state.core.unit_in_scope(&c.actor, &code).await {
        Ok(u) => u,
        Err(e) => return c.error(&e),
    };
    let people = match state.core.people_in_scope(&c.actor).await {
        Ok(p) => p,
        Err(e) => return c.error(&e),
    };
    let csrf = c.csrf();
    let reset_form = |address: &str| {
        format!(
            r#"<form method="post" action="/admin/reset" class="row"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="address" value="{a}"><button type="submit">{l}</button></form>"#,
            a = esc(address),
            l = t.s("Cấp lại mật khẩu", "Reset password"),
        )
    };
    let mut rows = String::new();
    for p in people.iter().filter(|p| p.unit == unit.id) {
        let actions = match p.state {
            PersonState::Active => format!(
                r#"{reset} <a href="/admin/changes/new?kind=resignation&amp;person={a}">{revoke}</a> · <a href="/admin/changes/new?kind=transfer&amp;person={a}">{move_l}</a>"#,
                reset = reset_form(&p.address),
                a = url(&p.address),
                revoke = t.s("Thu hồi…", "Revoke…"),
                move_l = t.s("Điều chuyển…", "Transfer…"),
            ),
            _ => format!(
                r#"<a href="/admin/changes/new?kind=reissue&amp;person={a}">{l}</a>"#,
                a = url(&p.address),
                l = t.s("Cấp lại hộp thư…", "Re-issue…"),
            ),
        };
        rows.push_str(&format!(
            r#"<tr><td>{name}</td><td>{address}</td><td>{position}</td><td class="state-{st}">{state}</td><td>{last}</td><td>{actions}</td></tr>"#,
            name = esc(&p.full_name),
            address = esc(&p.address),
            position = esc(p.position.as_deref().unwrap_or("")),
            st = p.state.as_str(),
            state = state_label(t, p.state.as_str()),
            last = p
                .last_access_at
                .map(date)
                .unwrap_or_else(|| t.s("chưa đăng nhập", "never").to_string()),
        ));
    }
    if rows.is_empty() {
        rows = format!(
            r#"<tr><td colspan="6">{}</td></tr>"#,
            t.s("Đơn vị chưa có ai.", "Nobody in this unit yet.")
        );
    }
    let mailbox = if unit.account.is_some() {
        reset_form(&unit.address)
    } else {
        String::new()
    };
    let body = format!(
        r#"<p><a href="/admin">← {back}</a></p>
<h1>{name}</h1>
<p>{code_l}: {code} · {kind}</p>
<section aria-labelledby="mb"><h2 id="mb">{mb_l}</h2><div><span id="unit-address">{address}</span> {mailbox}</div></section>
<section aria-labelledby="ppl"><h2 id="ppl">{people_l}</h2>
<div class="scroll"><table class="grid" id="people"><caption class="sr">{people_l}</caption>
<thead><tr><th scope="col">{h_name}</th><th scope="col">{h_addr}</th><th scope="col">{h_pos}</th><th scope="col">{h_state}</th><th scope="col">{h_last}</th><th scope="col">{h_act}</th></tr></thead>
<tbody>{rows}</tbody></table></div></section>
<section aria-labelledby="hire"><h2 id="hire">{hire_l}</h2>
<form method="post" action="/admin/changes" class="stack">
<input type="hidden" name="csrf" value="{csrf}">
<input type="hidden" name="kind" value="new_hire">
<input type="hidden" name="unit" value="{code}">
<label for="full_name">{h_name}</label><input id="full_name" name="full_name" required>
<label for="position">{h_pos}</label><input id="position" name="position">
<label for="staff_id">{staff_l}</label><input id="staff_id" name="staff_id">
<label for="phone">{phone_l}</label><input id="phone" name="phone" type="tel">
<label for="reason">{reason_l}</label><input id="reason" name="reason">
<label><input type="checkbox" name="public" value="1"> {public_l}</label>
<button type="submit" class="primary" id="file-hire">{file_l}</button>
</form>
<p><a href="/admin/changes/new?unit={code_url}">{other_l}</a></p>
</section>"#,
        back = t.s("Cây tổ chức", "Organisation tree"),
        name = esc(&unit.name),
        code_l = t.s("Mã đơn vị", "Unit code"),
        code = esc(&unit.code),
        code_url = seg(&unit.code),
        kind = kind_name(t, &unit.kind),
        mb_l = t.s("Hộp thư đơn vị", "Unit mailbox"),
        address = esc(&unit.address),
        people_l = t.s("Cán bộ, công chức", "People"),
        h_name = t.s("Họ và tên", "Full name"),
        h_addr = t.s("Địa chỉ thư", "Address"),
        h_pos = t.s("Chức vụ", "Position"),
        h_state = t.s("Trạng thái", "State"),
        h_last = t.s("Đăng nhập gần nhất", "Last sign-in"),
        h_act = t.s("Thao tác", "Actions"),
        hire_l = t.s(
            "Đề nghị cấp hộp thư (tuyển dụng mới)",
            "Request a mailbox (new hire)"
        ),
        staff_l = t.s("Mã cán bộ (nếu có)", "Staff id (if any)"),
        phone_l = t.s("Điện thoại", "Phone"),
        reason_l = t.s("Lý do / căn cứ", "Reason / reference"),
        public_l = t.s("Công khai trong danh bạ", "Listed in the public directory"),
        file_l = t.s("Gửi đề nghị", "File the request"),
        other_l = t.s("Đề nghị khác…", "Another request…"),
    );
    c.page("/admin", &unit.name, &body)
}

// ---- change requests ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct NewChangeQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    unit: String,
}

async fn change_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<NewChangeQuery>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let units = match state.core.units_in_scope(&c.actor).await {
        Ok(u) => u,
        Err(e) => return c.error(&e),
    };
    let unit_options: String = units
        .iter()
        .map(|u| {
            let sel = if u.code == q.unit { " selected" } else { "" };
            format!(
                r#"<option value="{code}"{sel}>{code} — {name}</option>"#,
                code = esc(&u.code),
                name = esc(&u.name)
            )
        })
        .collect();
    let options: String = ChangeKind::ALL
        .iter()
        .map(|k| {
            let sel = if k.as_str() == q.kind {
                " selected"
            } else {
                ""
            };
            format!(
                r#"<option value="{}"{sel}>{}</option>"#,
                k.as_str(),
                kind_label(t, *k)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>{title}</h1>
<form method="post" action="/admin/changes" class="stack">
<input type="hidden" name="csrf" value="{csrf}">
<label for="kind">{kind_l}</label><select id="kind" name="kind">{options}</select>
<label for="person">{person_l}</label><input id="person" name="person" value="{person}" aria-describedby="person-h">
<p id="person-h" class="muted">{person_h}</p>
<label for="unit">{unit_l}</label><select id="unit" name="unit" aria-describedby="unit-h"><option value="">—</option>{unit_options}</select>
<p id="unit-h" class="muted">{unit_h}</p>
<label for="full_name">{name_l}</label><input id="full_name" name="full_name">
<label for="position">{pos_l}</label><input id="position" name="position">
<label for="staff_id">{staff_l}</label><input id="staff_id" name="staff_id">
<label for="phone">{phone_l}</label><input id="phone" name="phone" type="tel">
<label for="reason">{reason_l}</label><input id="reason" name="reason">
<label><input type="checkbox" name="public" value="1"> {public_l}</label>
<button type="submit" class="primary">{file_l}</button>
</form>"#,
        title = t.s("Đề nghị thay đổi", "File a change request"),
        csrf = c.csrf(),
        kind_l = t.s("Loại đề nghị", "Kind"),
        person_l = t.s("Địa chỉ thư của người", "The person's address"),
        person = esc(&q.person),
        person_h = t.s(
            "Cho mọi loại trừ tuyển dụng mới và chuyển đến.",
            "For every kind except new hire and transfer in."
        ),
        unit_l = t.s("Mã đơn vị", "Unit code"),
        unit_h = t.s(
            "Đơn vị tuyển dụng (tuyển dụng mới, chuyển đến) hoặc đơn vị chuyển đến (điều chuyển).",
            "The hiring unit (new hire, transfer in) or the destination (transfer)."
        ),
        name_l = t.s("Họ và tên", "Full name"),
        pos_l = t.s("Chức vụ", "Position"),
        staff_l = t.s("Mã cán bộ (nếu có)", "Staff id (if any)"),
        phone_l = t.s("Điện thoại", "Phone"),
        reason_l = t.s("Lý do / căn cứ", "Reason / reference"),
        public_l = t.s("Công khai trong danh bạ", "Listed in the public directory"),
        file_l = t.s("Gửi đề nghị", "File the request"),
    );
    c.page(
        "/admin/changes",
        t.s("Đề nghị thay đổi", "Change request"),
        &body,
    )
}

#[derive(Deserialize, Default)]
struct ChangeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    public: String,
}

fn some(s: String) -> Option<String> {
    let s = s.trim().to_string();
    (!s.is_empty()).then_some(s)
}

async fn file_change(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ChangeForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let input = ChangeInput {
        kind: form.kind,
        person: some(form.person),
        unit: some(form.unit),
        full_name: some(form.full_name),
        position: some(form.position),
        staff_id: some(form.staff_id),
        phone: some(form.phone),
        public: !form.public.is_empty(),
        reason: form.reason.trim().to_string(),
    };
    match state.core.file_change(&c.actor, &input).await {
        Ok(change) => see_other(&format!("/admin/changes?filed={}", change.id)),
        Err(e) => c.error(&e),
    }
}

#[derive(Deserialize, Default)]
struct ChangesQuery {
    #[serde(default)]
    filed: Option<i64>,
}

fn change_row(c: &Console, ch: &ChangeView) -> String {
    let t = c.t();
    let kind = ChangeKind::parse(&ch.kind)
        .map(|k| kind_label(t, k).to_string())
        .unwrap_or_else(|| ch.kind_label.clone());
    let who = ch
        .full_name
        .clone()
        .or_else(|| ch.person.clone())
        .unwrap_or_default();
    let decide = if ch.state == "filed" && c.actor.is_focal() {
        format!(
            r#"<form method="post" action="/admin/changes/{id}/approve" class="row"><input type="hidden" name="csrf" value="{csrf}"><label class="sr" for="note-a{id}">{note}</label><input id="note-a{id}" name="note" placeholder="{note}"><button type="submit" class="primary" id="approve-{id}">{approve}</button></form>
<form method="post" action="/admin/changes/{id}/reject" class="row"><input type="hidden" name="csrf" value="{csrf}"><input type="hidden" name="note" value=""><button type="submit" id="reject-{id}">{reject}</button></form>"#,
            id = ch.id,
            csrf = c.csrf(),
            note = t.s("Ghi chú", "Note"),
            approve = t.s("Duyệt", "Approve"),
            reject = t.s("Từ chối", "Reject"),
        )
    } else {
        ch.decision_note.as_deref().map(esc).unwrap_or_default()
    };
    format!(
        r#"<tr id="change-{id}"><td>{id}</td><td>{filed}</td><td>{kind}</td><td>{who}</td><td>{unit}</td><td>{reason}</td><td>{by}</td><td>{state}</td><td>{decide}</td></tr>"#,
        id = ch.id,
        filed = date(ch.filed_at),
        kind = esc(&kind),
        who = esc(&who),
        unit = esc(&ch.unit_name),
        reason = esc(&ch.reason),
        by = esc(&ch.filed_by),
        state = state_label(t, &ch.state),
    )
}

async fn changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ChangesQuery>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let all = match state.core.changes(&c.actor).await {
        Ok(v) => v,
        Err(e) => return c.error(&e),
    };
    let table = |rows: String, id: &str| {
        format!(
            r#"<div class="scroll"><table class="grid" id="{id}"><thead><tr><th scope="col">#</th><th scope="col">{d}</th><th scope="col">{k}</th><th scope="col">{p}</th><th scope="col">{u}</th><th scope="col">{r}</th><th scope="col">{b}</th><th scope="col">{s}</th><th scope="col">{a}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
            d = t.s("Ngày gửi", "Filed"),
            k = t.s("Loại", "Kind"),
            p = t.s("Người", "Person"),
            u = t.s("Đơn vị", "Unit"),
            r = t.s("Lý do", "Reason"),
            b = t.s("Người gửi", "Filed by"),
            s = t.s("Trạng thái", "State"),
            a = t.s("Quyết định", "Decision"),
        )
    };
    let pending: String = all
        .iter()
        .filter(|ch| ch.state == "filed")
        .map(|ch| change_row(&c, ch))
        .collect();
    let done: String = all
        .iter()
        .filter(|ch| ch.state != "filed")
        .map(|ch| change_row(&c, ch))
        .collect();
    let filed = q
        .filed
        .map(|id| {
            format!(
                r#"<p class="ok" role="status">{} #{id}</p>"#,
                t.s("Đã gửi đề nghị", "Request filed:")
            )
        })
        .unwrap_or_default();
    let body = format!(
        r#"<h1>{title}</h1>{filed}<p><a href="/admin/changes/new">{new}</a></p>
<h2>{pending_l}</h2>{pending}
<h2>{done_l}</h2>{done}"#,
        title = t.s("Yêu cầu thay đổi", "Change requests"),
        new = t.s("Đề nghị mới…", "New request…"),
        pending_l = t.s("Chờ duyệt", "Awaiting approval"),
        pending = table(pending, "pending"),
        done_l = t.s("Đã quyết định", "Decided"),
        done = table(done, "decided"),
    );
    c.page(
        "/admin/changes",
        t.s("Yêu cầu thay đổi", "Change requests"),
        &body,
    )
}

#[derive(Deserialize, Default)]
struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    note: String,
}

/// The one-time password of a new, re-issued or reset mailbox, shown once.
fn credential_section(c: &Console, cred: &Credential) -> String {
    let t = c.t();
    format!(
        r#"<section aria-labelledby="otp-title" class="card"><h2 id="otp-title">{title}</h2>
<p>{name} — <strong id="otp-address">{address}</strong></p>
<p>{pw_l}: <span id="otp" class="secret">{password}</span></p>
<p class="notice">{hint}</p></section>"#,
        title = t.s("Mật khẩu dùng một lần", "One-time password"),
        name = esc(&cred.name),
        address = esc(&cred.address),
        pw_l = t.s("Mật khẩu", "Password"),
        password = esc(&cred.password),
        hint = t.s(
            "Mật khẩu chỉ hiện một lần. Hãy trao trực tiếp cho người dùng; họ phải đổi mật khẩu ở lần đăng nhập đầu tiên (Điều 13 khoản 4).",
            "Shown only once. Hand it to its owner in person; it must be changed at the first sign-in (article 13.4)."
        ),
    )
}

async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let t = c.t();
    let approved = match state
        .core
        .approve_change(&c.actor, id, form.note.trim())
        .await
    {
        Ok(a) => a,
        Err(e) => return c.error(&e),
    };
    let cred = approved
        .credential
        .as_ref()
        .map(|cr| credential_section(&c, cr))
        .unwrap_or_default();
    let notices: String = approved
        .notices
        .iter()
        .map(|n| {
            format!(
                r#"<li><a href="/admin/notices/{}">{} — {}</a></li>"#,
                n.id,
                esc(&n.reference),
                esc(&n.subject)
            )
        })
        .collect();
    let body = format!(
        r#"<h1>{title} #{id}</h1><p class="ok" role="status">{done}</p>{cred}
<h2>{notices_l}</h2><ul>{notices}</ul><p><a href="/admin/changes">← {back}</a></p>"#,
        title = t.s("Đã duyệt đề nghị", "Request approved"),
        done = t.s("Thay đổi đã được áp dụng.", "The change is applied."),
        notices_l = t.s("Thông báo đã phát hành", "Notices issued"),
        back = t.s("Yêu cầu thay đổi", "Change requests"),
    );
    no_store(c.page("/admin/changes", t.s("Đã duyệt", "Approved"), &body))
}

async fn reject(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    match state
        .core
        .reject_change(&c.actor, id, form.note.trim())
        .await
    {
        Ok(_) => see_other("/admin/changes"),
        Err(e) => c.error(&e),
    }
}

// ---- password reset ----------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct ResetForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ResetForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let t = c.t();
    let cred = match state.core.reset_password(&c.actor, &form.address).await {
        Ok(cr) => cr,
        Err(e) => return c.error(&e),
    };
    let body = format!(
        r#"<h1>{title}</h1>{cred}<p><a href="/admin/units/{code}">← {back}</a></p>"#,
        title = t.s("Đã cấp lại mật khẩu", "Password reset"),
        cred = credential_section(&c, &cred),
        code = seg(&cred.unit_code),
        back = esc(&cred.unit_name),
    );
    no_store(c.page("/admin", t.s("Cấp lại mật khẩu", "Password reset"), &body))
}

// ---- notices -----------------------------------------------------------------------------

async fn notices(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let (list, units) = match (
        state.core.notices(&c.actor).await,
        state.core.units_in_scope(&c.actor).await,
    ) {
        (Ok(l), Ok(u)) => (l, u),
        (Err(e), _) | (_, Err(e)) => return c.error(&e),
    };
    let rows: String = list
        .iter()
        .map(|n| {
            format!(
                r#"<tr><td>{reference}</td><td>{date}</td><td>{unit}</td><td>{subject}</td><td><a href="/admin/notices/{id}" download>{dl}</a></td></tr>"#,
                reference = esc(&n.reference),
                date = date_time(n.created_at),
                unit = esc(
                    units
                        .iter()
                        .find(|u| u.id == n.unit)
                        .map_or("", |u| u.name.as_str())
                ),
                subject = esc(&n.subject),
                id = n.id,
                dl = t.s("Tải về", "Download"),
            )
        })
        .collect();
    let body = format!(
        r#"<h1>{title}</h1><div class="scroll"><table class="grid" id="notices"><thead><tr><th scope="col">{r}</th><th scope="col">{d}</th><th scope="col">{u}</th><th scope="col">{s}</th><th scope="col">{f}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        title = t.s("Thông báo", "Notices"),
        r = t.s("Số", "Number"),
        d = t.s("Ngày", "Date"),
        u = t.s("Gửi đơn vị", "To unit"),
        s = t.s("Trích yếu", "Subject"),
        f = t.s("Tệp", "File"),
    );
    c.page("/admin/notices", t.s("Thông báo", "Notices"), &body)
}

async fn notice(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Response {
    let c = admin_or_return!(state, headers);
    match state.core.notice(&c.actor, id).await {
        Ok(n) => {
            let file = format!(
                "thong-bao-{}.html",
                n.reference.replace(['/', '"', '\\'], "-")
            );
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{file}\""),
                    ),
                ],
                n.body_html,
            )
                .into_response()
        }
        Err(e) => c.error(&e),
    }
}

// ---- the inactivity outlook --------------------------------------------------------------

async fn outlook(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let items = match state.core.inactivity_outlook(&c.actor, now).await {
        Ok(i) => i,
        Err(e) => return c.error(&e),
    };
    let rows: String = items
        .iter()
        .map(|i| {
            format!(
                r#"<tr{cls}><td>{deadline}</td><td>{days}</td><td>{name}</td><td>{address}</td><td>{unit}</td><td>{since}</td></tr>"#,
                cls = if i.warned { r#" class="warned""# } else { "" },
                deadline = date(i.deadline),
                days = i.days_left,
                name = esc(&i.full_name),
                address = esc(&i.address),
                unit = esc(&i.unit_code),
                since = date(i.since),
            )
        })
        .collect();
    let body = format!(
        r#"<h1>{title}</h1><p>{intro}</p>
<div class="scroll"><table class="grid" id="outlook"><thead><tr><th scope="col">{d}</th><th scope="col">{n}</th><th scope="col">{p}</th><th scope="col">{a}</th><th scope="col">{u}</th><th scope="col">{s}</th></tr></thead><tbody>{rows}</tbody></table></div>"#,
        title = t.s("Dự kiến thu hồi do không sử dụng", "Inactivity outlook"),
        intro = t.s(
            "Hộp thư không được đăng nhập trong thời hạn quy định sẽ bị thu hồi (Điều 8 khoản 3). Danh sách xếp theo ngày thu hồi sớm nhất.",
            "Mailboxes nobody signs in to within the period are revoked (article 8.3). Soonest first."
        ),
        d = t.s("Ngày thu hồi", "Revoked on"),
        n = t.s("Còn (ngày)", "Days left"),
        p = t.s("Họ và tên", "Full name"),
        a = t.s("Địa chỉ thư", "Address"),
        u = t.s("Đơn vị", "Unit"),
        s = t.s("Tính từ", "Since"),
    );
    c.page(
        "/admin/outlook",
        t.s("Dự kiến thu hồi", "Inactivity outlook"),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::web_session::Language;

    #[test]
    fn days_start_at_midnight_in_vietnam() {
        // 2026-03-02 00:00 UTC+7 = 2026-03-01 17:00 UTC.
        assert_eq!(day_start("2026-03-02"), Some(1_772_384_400));
        assert_eq!(day_start("02/03/2026"), None);
        assert_eq!(day_start(""), None);
    }

    #[test]
    fn unit_codes_stay_readable_in_paths() {
        assert_eq!(seg("CB25-002"), "CB25-002");
        assert_eq!(seg("a/b c"), "a%2Fb%20c");
        assert_eq!(seg("Xã"), "X%C3%A3");
    }

    #[test]
    fn every_change_kind_has_both_labels() {
        for kind in ChangeKind::ALL {
            assert!(!kind_label(T(Language::Vi), kind).is_empty());
            assert!(kind_label(T(Language::En), kind).is_ascii());
        }
        assert_eq!(kind_name(T(Language::Vi), "commune"), "Xã");
        assert_eq!(kind_name(T(Language::En), "<b>"), "&lt;b&gt;");
    }
}
