//! The admin console under `/admin`, for the focal unit and for unit IT officers (each confined
//! to their subtree by `hopthu_core`): the organisation tree, a unit's people and unit mailbox,
//! change requests (filing; the focal unit's approval queue), revoke and re-issue (as change
//! requests), password reset (the one-time password shown once), the unit mailbox's owner,
//! delegates and log with grant and revoke (`unit_mailbox.rs`), notices (list, download), the
//! inactivity outlook, the import with its dry-run table (`import.rs`), the document
//! catalogue of Đ9 as configured, read-only (`documents.rs`), and the group addresses
//! (`groups.rs`).
//!
//! Sign-in is the webmail's session cookie; the administrator is `Core::actor`. Every decision
//! (who may see or do what) is core's: a handler maps core's answer to 403/404 and renders.
//! Every form is a plain HTML form with the session's CSRF token; a POST without it changes
//! nothing.

mod audit;
mod documents;
mod export;
mod groups;
mod import;
mod incidents;
mod report;
pub(crate) mod unit_mailbox;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use hopthu_core::compromised::ConfirmationFile;
use hopthu_core::directory::{ChangeInput, ChangeKind, ChangeView, Credential, PersonState};
use hopthu_core::{Actor, AdminScope, ErrorKind};
use maud::{Markup, html};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Signed, csrf_refused, signed_in};
use crate::html::{T, csrf_input, date, date_time, page, see_other, url};

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
        .route(
            "/admin/reset",
            post(reset).layer(axum::extract::DefaultBodyLimit::max(
                hopthu_core::compromised::CONFIRMATION_MAX_BYTES + (64 << 10),
            )),
        )
        .route("/admin/notices", get(notices))
        .route("/admin/notices/{id}", get(notice))
        .route("/admin/outlook", get(outlook))
        .route("/admin/audit", get(audit::audit))
        .route("/admin/report", get(report::report))
        .route("/admin/documents", get(documents::documents))
        .route("/admin/export", post(export::export))
        .route(
            "/admin/incidents",
            get(incidents::list).post(incidents::file),
        )
        .route("/admin/incidents/{id}", post(incidents::act))
        .route(
            "/admin/incidents/{id}/confirmation",
            get(incidents::confirmation),
        )
        .merge(import::routes())
        .merge(unit_mailbox::routes())
        .merge(groups::routes())
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

    /// The hidden field with the session's CSRF token, for the console's forms.
    pub(crate) fn csrf_input(&self) -> Markup {
        csrf_input(&self.signed.session.csrf_token)
    }

    /// A console page: the console's navigation, then `body`, in the webmail's frame.
    pub(crate) fn page(&self, current: &str, title: &str, body: Markup) -> Response {
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
            ("/admin/documents", t.s("Danh mục văn bản", "Documents")),
            ("/admin/groups", t.s("Nhóm thư", "Group addresses")),
            ("/admin/incidents", t.s("Sự cố", "Incidents")),
        ];
        if self.actor.is_focal() {
            links.push(("/admin/import", t.s("Nhập danh bạ", "Import")));
        }
        if self.actor.is_focal() || self.actor.is_inspector() {
            links.push(("/admin/audit", t.s("Nhật ký kiểm tra", "Audit log")));
        }
        links.push(("/mail", t.s("Hộp thư", "Mailbox")));
        let scope = match self.actor.scope {
            AdminScope::Focal => t.s("Đơn vị đầu mối", "Focal unit"),
            AdminScope::Unit(_) => t.s("Cán bộ CNTT đơn vị", "Unit IT officer"),
            AdminScope::Inspector => t.s("Thanh tra (chỉ xem)", "Inspector (read only)"),
        };
        let html = html! {
            link rel="stylesheet" href={ "/static/admin.css?v=" (crate::html::ASSET_VERSION) };
            main id="main" class="admin" {
                nav class="console" aria-label=(t.s("Quản trị", "Administration")) {
                    ul {
                        @for (href, label) in &links {
                            li { a href=(href) aria-current=[(*href == current).then_some("page")] { (label) } }
                        }
                    }
                }
                p class="muted" { (t.s("Quyền", "Role")) ": " (scope) }
                (body)
            }
        };
        page(t, title, Some(&self.signed.session), html).into_response()
    }

    /// Core's refusal or failure as a page with its status (403, 404, 400, 409, 503).
    pub(crate) fn error(&self, e: &hopthu_core::Error) -> Response {
        let status = status_of(e.kind);
        let t = self.t();
        let mut r = self.page(
            "",
            t.s("Lỗi", "Error"),
            html! {
                h1 { (t.s("Không thực hiện được", "That did not work")) }
                p class="error" role="alert" { (e.message) }
            },
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
pub(crate) async fn nav_link(state: &AppState, signed: &Signed) -> Markup {
    match state.core.actor(&signed.session.principal).await {
        Ok(_) => html! {
            p class="admin-link" {
                a href="/admin" id="admin-link" {
                    (signed.t().s("Quản trị danh bạ", "Directory administration"))
                }
            }
        },
        Err(_) => Markup::default(),
    }
}

fn kind_name(t: T, kind: &str) -> &str {
    match kind {
        "department" => t.s("Sở, ban, ngành", "Department"),
        "board" => t.s("Ban", "Board"),
        "organisation" => t.s("Tổ chức", "Organisation"),
        "commune" => t.s("Xã", "Commune"),
        "ward" => t.s("Phường", "Ward"),
        _ => kind,
    }
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
            ChangeKind::HeadChange => "New head of unit (unit mailbox handover)",
            ChangeKind::UnitCreate => "New unit",
            ChangeKind::UnitRename => "Unit renamed",
            ChangeKind::UnitMove => "Unit moved",
            ChangeKind::UnitMerge => "Units merged",
            ChangeKind::UnitDissolve => "Unit dissolved",
            ChangeKind::Update => "Update personal details",
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
        units: &[hopthu_core::directory::UnitRecord],
        parent: Option<hopthu_model::UnitId>,
        roots: bool,
        visible: &dyn Fn(hopthu_model::UnitId) -> bool,
        depth: usize,
    ) -> Markup {
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
            return Markup::default();
        }
        html! {
            ul class=[roots.then_some("tree")] {
                @for u in children {
                    li {
                        a href={ "/admin/units/" (seg(&u.code)) } { (u.name) }
                        " "
                        span class="kind" { (u.code) " · " (u.address) }
                        (branch(units, Some(u.id), false, visible, depth + 1))
                    }
                }
            }
        }
    }
    let body = html! {
        h1 { (t.s("Cây tổ chức", "Organisation tree")) }
        p { (t.s("Số đơn vị", "Units")) ": " (units.len()) }
        @if units.is_empty() {
            p { (t.s("Chưa có đơn vị nào.", "No units yet.")) }
        } @else {
            (branch(&units, None, true, &visible, 0))
        }
    };
    c.page("/admin", t.s("Cây tổ chức", "Organisation tree"), body)
}

// ---- a unit: its mailbox and its people ------------------------------------------------

#[derive(Deserialize, Default)]
struct UnitQuery {
    /// The delegate just granted rights (after the grant form).
    #[serde(default)]
    granted: String,
    /// The delegate whose rights were just revoked.
    #[serde(default)]
    revoked: String,
}

async fn unit_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Query(q): Query<UnitQuery>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let unit = match state.core.unit_in_scope(&c.actor, &code).await {
        Ok(u) => u,
        Err(e) => return c.error(&e),
    };
    let delegation = if unit.account.is_some() {
        match state
            .core
            .unit_mailbox_overview(&c.actor, &unit.address, unit_mailbox::AUDIT_SHOWN)
            .await
        {
            Ok(overview) => {
                let notice = if !q.granted.is_empty() {
                    Some(html! {
                        p class="ok" role="status" id="delegation-done" {
                            (t.s("Đã giao quyền cho", "Rights granted to")) " " (q.granted)
                        }
                    })
                } else if !q.revoked.is_empty() {
                    Some(html! {
                        p class="ok" role="status" id="delegation-done" {
                            (t.s("Đã thu hồi quyền của", "Rights revoked from")) " " (q.revoked)
                        }
                    })
                } else {
                    None
                };
                unit_mailbox::section(&c, &unit, &overview, notice)
            }
            Err(e) => return c.error(&e),
        }
    } else {
        Markup::default()
    };
    let people = match state.core.people_in_scope(&c.actor).await {
        Ok(p) => p,
        Err(e) => return c.error(&e),
    };
    let locked = match state.core.compromise_locked().await {
        Ok(l) => l,
        Err(e) => return c.error(&e),
    };
    // A mailbox locked as compromised (Đ13.4) is reset only with the agency's written
    // confirmation attached: its form carries the file.
    let reset_form = |address: &str| {
        if locked.contains(&address.to_ascii_lowercase()) {
            html! {
                form method="post" action="/admin/reset" class="row" enctype="multipart/form-data" {
                    (c.csrf_input())
                    input type="hidden" name="address" value=(address);
                    label {
                        strong { (t.s("Đã khoá vì báo mất kiểm soát.", "Locked as compromised.")) }
                        " "
                        (t.s("Văn bản xác nhận của cơ quan (PDF hoặc ảnh, tối đa 10 MB)",
                             "The agency's written confirmation (PDF or image, at most 10 MB)"))
                        " "
                        input type="file" name="confirmation" required
                            accept=".pdf,application/pdf,image/png,image/jpeg,image/tiff,image/webp";
                    }
                    button type="submit" { (t.s("Cấp lại mật khẩu", "Reset password")) }
                }
            }
        } else {
            html! {
                form method="post" action="/admin/reset" class="row" {
                    (c.csrf_input())
                    input type="hidden" name="address" value=(address);
                    button type="submit" { (t.s("Cấp lại mật khẩu", "Reset password")) }
                }
            }
        }
    };
    let members: Vec<_> = people.iter().filter(|p| p.unit == unit.id).collect();
    let h_name = t.s("Họ và tên", "Full name");
    let h_pos = t.s("Chức vụ", "Position");
    let people_l = t.s("Cán bộ, công chức", "People");
    let staff_l = t.s("Mã cán bộ (nếu có)", "Staff id (if any)");
    let phone_l = t.s("Điện thoại", "Phone");
    let reason_l = t.s("Lý do / căn cứ", "Reason / reference");
    let public_l = t.s("Công khai trong danh bạ", "Listed in the public directory");
    let body = html! {
        p { a href="/admin" { "← " (t.s("Cây tổ chức", "Organisation tree")) } }
        h1 { (unit.name) }
        p { (t.s("Mã đơn vị", "Unit code")) ": " (unit.code) " · " (kind_name(t, &unit.kind)) }
        section aria-labelledby="mb" {
            h2 id="mb" { (t.s("Hộp thư đơn vị", "Unit mailbox")) }
            div {
                span id="unit-address" { (unit.address) }
                " "
                @if unit.account.is_some() { (reset_form(&unit.address)) }
            }
        }
        (delegation)
        section aria-labelledby="ppl" {
            h2 id="ppl" { (people_l) }
            div class="scroll" {
                table class="grid" id="people" {
                    caption class="sr" { (people_l) }
                    thead {
                        tr {
                            th scope="col" { (h_name) }
                            th scope="col" { (t.s("Địa chỉ thư", "Address")) }
                            th scope="col" { (h_pos) }
                            th scope="col" { (t.s("Trạng thái", "State")) }
                            th scope="col" { (t.s("Đăng nhập gần nhất", "Last sign-in")) }
                            th scope="col" { (t.s("Thao tác", "Actions")) }
                        }
                    }
                    tbody {
                        @for p in &members {
                            tr {
                                td { (p.full_name) }
                                td { (p.address) }
                                td { (p.position.as_deref().unwrap_or("")) }
                                td class={ "state-" (p.state.as_str()) } { (state_label(t, p.state.as_str())) }
                                td {
                                    @match p.last_access_at {
                                        Some(at) => { (date(at)) }
                                        None => { (t.s("chưa đăng nhập", "never")) }
                                    }
                                }
                                td {
                                    @if matches!(p.state, PersonState::Active) {
                                        (reset_form(&p.address))
                                        " "
                                        a href={ "/admin/changes/new?kind=resignation&person=" (url(&p.address)) } { (t.s("Thu hồi…", "Revoke…")) }
                                        " · "
                                        a href={ "/admin/changes/new?kind=transfer&person=" (url(&p.address)) } { (t.s("Điều chuyển…", "Transfer…")) }
                                        " · "
                                        a href={ "/admin/changes/new?kind=update&person=" (url(&p.address)) } { (t.s("Cập nhật thông tin…", "Update details…")) }
                                    } @else {
                                        a href={ "/admin/changes/new?kind=reissue&person=" (url(&p.address)) } { (t.s("Cấp lại hộp thư…", "Re-issue…")) }
                                        @if matches!(p.state, PersonState::Revoked) && c.actor.is_focal() {
                                            form method="post" action="/admin/export" class="row" {
                                                (c.csrf_input())
                                                input type="hidden" name="address" value=(p.address);
                                                button type="submit" class="export-mailbox" {
                                                    (t.s("Xuất hộp thư (zip)", "Export mailbox (zip)"))
                                                }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        @if members.is_empty() {
                            tr { td colspan="6" { (t.s("Đơn vị chưa có ai.", "Nobody in this unit yet.")) } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="hire" {
            h2 id="hire" { (t.s("Đề nghị cấp hộp thư (tuyển dụng mới)", "Request a mailbox (new hire)")) }
            form method="post" action="/admin/changes" class="stack" {
                (c.csrf_input())
                input type="hidden" name="kind" value="new_hire";
                input type="hidden" name="unit" value=(unit.code);
                label for="full_name" { (h_name) }
                input id="full_name" name="full_name" required;
                label for="position" { (h_pos) }
                input id="position" name="position";
                label for="staff_id" { (staff_l) }
                input id="staff_id" name="staff_id";
                label for="phone" { (phone_l) }
                input id="phone" name="phone" type="tel";
                label for="reason" { (reason_l) }
                input id="reason" name="reason";
                label { input type="checkbox" name="public" value="1"; " " (public_l) }
                button type="submit" class="primary" id="file-hire" { (t.s("Gửi đề nghị", "File the request")) }
            }
            p { a href={ "/admin/changes/new?unit=" (seg(&unit.code)) } { (t.s("Đề nghị khác…", "Another request…")) } }
        }
    };
    c.page("/admin", &unit.name, body)
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
    let body = html! {
        h1 { (t.s("Đề nghị thay đổi", "File a change request")) }
        form method="post" action="/admin/changes" class="stack" {
            (c.csrf_input())
            label for="kind" { (t.s("Loại đề nghị", "Kind")) }
            select id="kind" name="kind" {
                @for k in ChangeKind::ALL {
                    option value=(k.as_str()) selected[k.as_str() == q.kind] { (kind_label(t, k)) }
                }
            }
            label for="person" { (t.s("Địa chỉ thư của người", "The person's address")) }
            input id="person" name="person" value=(q.person) aria-describedby="person-h";
            p id="person-h" class="muted" {
                (t.s(
                    "Cho mọi loại trừ tuyển dụng mới và chuyển đến.",
                    "For every kind except new hire and transfer in."
                ))
            }
            label for="unit" { (t.s("Mã đơn vị", "Unit code")) }
            select id="unit" name="unit" aria-describedby="unit-h" {
                option value="" { "—" }
                @for u in &units {
                    option value=(u.code) selected[u.code == q.unit] { (u.code) " — " (u.name) }
                }
            }
            p id="unit-h" class="muted" {
                (t.s(
                    "Đơn vị tuyển dụng (tuyển dụng mới, chuyển đến) hoặc đơn vị chuyển đến (điều chuyển).",
                    "The hiring unit (new hire, transfer in) or the destination (transfer)."
                ))
            }
            label for="full_name" { (t.s("Họ và tên", "Full name")) }
            input id="full_name" name="full_name";
            label for="position" { (t.s("Chức vụ", "Position")) }
            input id="position" name="position";
            label for="staff_id" { (t.s("Mã cán bộ (nếu có)", "Staff id (if any)")) }
            input id="staff_id" name="staff_id";
            label for="phone" { (t.s("Điện thoại", "Phone")) }
            input id="phone" name="phone" type="tel";
            label for="keep_delegates" {
                (t.s(
                    "Người được ủy quyền hộp thư đơn vị mà lãnh đạo mới xác nhận (thay đổi lãnh đạo; địa chỉ, cách nhau bởi dấu phẩy)",
                    "Delegates of the unit mailbox the new head confirms (head change; addresses, comma separated)"
                ))
            }
            input id="keep_delegates" name="keep_delegates";
            fieldset {
                legend { (t.s("Thay đổi đơn vị (unit_*)", "Unit changes (unit_*)")) }
                label for="code" { (t.s("Mã đơn vị mới (thành lập)", "New unit's code (create)")) }
                input id="code" name="code";
                label for="unit_kind" { (t.s("Loại đơn vị (thành lập)", "Unit kind (create)")) }
                select id="unit_kind" name="unit_kind" {
                    option value="" { "—" }
                    @for k in &state.core.config().naming.kinds {
                        option value=(k.id) { (k.id) }
                    }
                }
                label for="name" { (t.s("Tên đơn vị (thành lập, đổi tên)", "Unit name (create, rename)")) }
                input id="name" name="name";
                label for="parent" { (t.s("Đơn vị cấp trên (thành lập, chuyển)", "Parent unit (create, move)")) }
                select id="parent" name="parent" {
                    option value="" { "—" }
                    @for u in &units {
                        option value=(u.code) { (u.code) " — " (u.name) }
                    }
                }
                label for="into" { (t.s("Hợp nhất vào đơn vị", "Merge into unit")) }
                select id="into" name="into" {
                    option value="" { "—" }
                    @for u in &units {
                        option value=(u.code) { (u.code) " — " (u.name) }
                    }
                }
            }
            label for="reason" { (t.s("Lý do / căn cứ", "Reason / reference")) }
            input id="reason" name="reason";
            label for="public" { (t.s("Công khai trong danh bạ", "Listed in the public directory")) }
            select id="public" name="public" aria-describedby="public-h" {
                option value="" { (t.s("— (không đổi; người mới: không)", "— (unchanged; new hire: no)")) }
                option value="yes" { (t.s("Có", "Yes")) }
                option value="no" { (t.s("Không", "No")) }
            }
            p id="public-h" class="muted" {
                (t.s(
                    "Cập nhật thông tin: chỉ các ô đã điền được thay đổi; chức vụ hoặc điện thoại để trống thì giữ nguyên.",
                    "Update: only the fields filled in change; an empty position or phone is kept."
                ))
            }
            @if c.actor.is_focal() {
                label {
                    input type="checkbox" name="new_address" value="1";
                    " "
                    (t.s(
                        "Cấp địa chỉ mới theo họ tên đã sửa (địa chỉ cũ thành bí danh)",
                        "A new address for the corrected name (the old one becomes an alias)"
                    ))
                }
            }
            button type="submit" class="primary" { (t.s("Gửi đề nghị", "File the request")) }
        }
    };
    c.page(
        "/admin/changes",
        t.s("Đề nghị thay đổi", "Change request"),
        body,
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
    /// head_change: the delegates the new head confirms, comma separated.
    #[serde(default)]
    keep_delegates: String,
    /// unit_* kinds.
    #[serde(default)]
    code: String,
    #[serde(default)]
    unit_kind: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    parent: String,
    #[serde(default)]
    into: String,
    #[serde(default)]
    public: String,
    #[serde(default)]
    new_address: String,
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
        // The unit page's new-hire box sends "1"; the generic form's select yes, no or nothing.
        public: match form.public.trim() {
            "" => None,
            "no" => Some(false),
            _ => Some(true),
        },
        reason: form.reason.trim().to_string(),
        keep_delegates: form
            .keep_delegates
            .split(',')
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty())
            .collect(),
        code: some(form.code),
        unit_kind: some(form.unit_kind),
        name: some(form.name),
        parent: some(form.parent),
        into: some(form.into),
        new_address: !form.new_address.is_empty(),
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

fn change_row(c: &Console, ch: &ChangeView) -> Markup {
    let t = c.t();
    let kind = ChangeKind::parse(&ch.kind)
        .map(|k| kind_label(t, k).to_string())
        .unwrap_or_else(|| ch.kind_label.clone());
    let who = ch
        .full_name
        .clone()
        .or_else(|| ch.person.clone())
        .unwrap_or_default();
    let id = ch.id;
    let note = t.s("Ghi chú", "Note");
    html! {
        tr id={ "change-" (id) } {
            td { (id) }
            td { (date(ch.filed_at)) }
            td { (kind) }
            td {
                (who)
                @if let Some(u) = &ch.update {
                    (update_summary(t, u))
                }
            }
            td { (ch.unit_name) }
            td { (ch.reason) }
            td { (ch.filed_by) }
            td { (state_label(t, &ch.state)) }
            td {
                @if ch.state == "filed" && c.actor.is_focal() {
                    form method="post" action={ "/admin/changes/" (id) "/approve" } class="row" {
                        (c.csrf_input())
                        label class="sr" for={ "note-a" (id) } { (note) }
                        input id={ "note-a" (id) } name="note" placeholder=(note);
                        button type="submit" class="primary" id={ "approve-" (id) } { (t.s("Duyệt", "Approve")) }
                    }
                    form method="post" action={ "/admin/changes/" (id) "/reject" } class="row" {
                        (c.csrf_input())
                        input type="hidden" name="note" value="";
                        button type="submit" id={ "reject-" (id) } { (t.s("Từ chối", "Reject")) }
                    }
                } @else {
                    (ch.decision_note.as_deref().unwrap_or_default())
                }
            }
        }
    }
}

/// What an update changes, under the person's name in the list of requests.
fn update_summary(t: T, u: &hopthu_core::directory::UpdateView) -> Markup {
    let value = |v: &str| {
        if v.is_empty() {
            t.s("(xoá)", "(cleared)").to_string()
        } else {
            v.to_string()
        }
    };
    html! {
        ul class="update" {
            @if let Some(name) = &u.full_name {
                li { (t.s("Họ tên mới: ", "New name: ")) (name) }
            }
            @if let Some(position) = &u.position {
                li { (t.s("Chức vụ: ", "Position: ")) (value(position)) }
            }
            @if let Some(phone) = &u.phone {
                li { (t.s("Điện thoại: ", "Phone: ")) (value(phone)) }
            }
            @if let Some(public) = u.public {
                li {
                    @if public {
                        (t.s("Công khai trong danh bạ", "Listed in the public directory"))
                    } @else {
                        (t.s("Không công khai trong danh bạ", "Not listed in the public directory"))
                    }
                }
            }
            @if u.new_address {
                li class="new-address" {
                    (t.s(
                        "Cấp địa chỉ mới theo họ tên (địa chỉ cũ thành bí danh)",
                        "A new address for the name (the old one becomes an alias)"
                    ))
                }
            }
        }
    }
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
    let table = |pending: bool, id: &str| {
        html! {
            div class="scroll" {
                table class="grid" id=(id) {
                    thead {
                        tr {
                            th scope="col" { "#" }
                            th scope="col" { (t.s("Ngày gửi", "Filed")) }
                            th scope="col" { (t.s("Loại", "Kind")) }
                            th scope="col" { (t.s("Người", "Person")) }
                            th scope="col" { (t.s("Đơn vị", "Unit")) }
                            th scope="col" { (t.s("Lý do", "Reason")) }
                            th scope="col" { (t.s("Người gửi", "Filed by")) }
                            th scope="col" { (t.s("Trạng thái", "State")) }
                            th scope="col" { (t.s("Quyết định", "Decision")) }
                        }
                    }
                    tbody {
                        @for ch in all.iter().filter(|ch| (ch.state == "filed") == pending) {
                            (change_row(&c, ch))
                        }
                    }
                }
            }
        }
    };
    let body = html! {
        h1 { (t.s("Yêu cầu thay đổi", "Change requests")) }
        @if let Some(id) = q.filed {
            p class="ok" role="status" { (t.s("Đã gửi đề nghị", "Request filed:")) " #" (id) }
        }
        p { a href="/admin/changes/new" { (t.s("Đề nghị mới…", "New request…")) } }
        h2 { (t.s("Chờ duyệt", "Awaiting approval")) }
        (table(true, "pending"))
        h2 { (t.s("Đã quyết định", "Decided")) }
        (table(false, "decided"))
    };
    c.page(
        "/admin/changes",
        t.s("Yêu cầu thay đổi", "Change requests"),
        body,
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
fn credential_section(c: &Console, cred: &Credential) -> Markup {
    let t = c.t();
    html! {
        section aria-labelledby="otp-title" class="card" {
            h2 id="otp-title" { (t.s("Mật khẩu dùng một lần", "One-time password")) }
            p { (cred.name) " — " strong id="otp-address" { (cred.address) } }
            p { (t.s("Mật khẩu", "Password")) ": " span id="otp" class="secret" { (cred.password) } }
            p class="notice" {
                (t.s(
                    "Mật khẩu chỉ hiện một lần. Hãy trao trực tiếp cho người dùng; họ phải đổi mật khẩu ở lần đăng nhập đầu tiên (Điều 13 khoản 4).",
                    "Shown only once. Hand it to its owner in person; it must be changed at the first sign-in (article 13.4)."
                ))
            }
        }
    }
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
    let body = html! {
        h1 { (t.s("Đã duyệt đề nghị", "Request approved")) " #" (id) }
        p class="ok" role="status" { (t.s("Thay đổi đã được áp dụng.", "The change is applied.")) }
        @if let Some(cr) = &approved.credential {
            (credential_section(&c, cr))
        }
        h2 { (t.s("Thông báo đã phát hành", "Notices issued")) }
        ul {
            @for n in &approved.notices {
                li { a href={ "/admin/notices/" (n.id) } { (n.reference) " — " (n.subject) } }
            }
        }
        p { a href="/admin/changes" { "← " (t.s("Yêu cầu thay đổi", "Change requests")) } }
    };
    no_store(c.page("/admin/changes", t.s("Đã duyệt", "Approved"), body))
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

/// The reset form as multipart (a compromised mailbox's, with the confirmation file): its
/// fields and the file, if one was chosen.
async fn reset_multipart(
    state: &AppState,
    headers: &HeaderMap,
    request: axum::extract::Request,
) -> Result<(ResetForm, Option<ConfirmationFile>), Response> {
    use axum::extract::FromRequest;
    let t = match signed_in(state, headers, false).await {
        Ok(s) => s.t(),
        Err(r) => return Err(r),
    };
    let bad = |e: &dyn std::fmt::Display| {
        crate::html::error_page(
            t,
            StatusCode::BAD_REQUEST,
            &format!(
                "{}: {e}",
                t.s(
                    "Không đọc được biểu mẫu (văn bản xác nhận tối đa 10 MB)",
                    "The form could not be read (a confirmation of at most 10 MB)"
                )
            ),
        )
    };
    let mut multipart = axum::extract::Multipart::from_request(request, state)
        .await
        .map_err(|e| bad(&e))?;
    let mut form = ResetForm::default();
    let mut file = None;
    while let Some(field) = multipart.next_field().await.map_err(|e| bad(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or_default().to_string();
        let bytes = field.bytes().await.map_err(|e| bad(&e))?;
        match name.as_str() {
            "csrf" => form.csrf = String::from_utf8_lossy(&bytes).into_owned(),
            "address" => form.address = String::from_utf8_lossy(&bytes).into_owned(),
            // No file chosen: an empty part.
            "confirmation" if !bytes.is_empty() || !file_name.is_empty() => {
                file = Some(ConfirmationFile {
                    file_name,
                    bytes: bytes.to_vec(),
                });
            }
            _ => {}
        }
    }
    Ok((form, file))
}

async fn reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    request: axum::extract::Request,
) -> Response {
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (form, confirmation) = if multipart {
        match reset_multipart(&state, &headers, request).await {
            Ok(f) => f,
            Err(r) => return r,
        }
    } else {
        use axum::extract::FromRequest;
        match Form::<ResetForm>::from_request(request, &state).await {
            Ok(Form(f)) => (f, None),
            Err(e) => return e.into_response(),
        }
    };
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let t = c.t();
    let cred = match state
        .core
        .reset_password(&c.actor, &form.address, confirmation)
        .await
    {
        Ok(cr) => cr,
        Err(e) => return c.error(&e),
    };
    let body = html! {
        h1 { (t.s("Đã cấp lại mật khẩu", "Password reset")) }
        (credential_section(&c, &cred))
        p { a href={ "/admin/units/" (seg(&cred.unit_code)) } { "← " (cred.unit_name) } }
    };
    no_store(c.page("/admin", t.s("Cấp lại mật khẩu", "Password reset"), body))
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
    let body = html! {
        h1 { (t.s("Thông báo", "Notices")) }
        div class="scroll" {
            table class="grid" id="notices" {
                thead {
                    tr {
                        th scope="col" { (t.s("Số", "Number")) }
                        th scope="col" { (t.s("Ngày", "Date")) }
                        th scope="col" { (t.s("Gửi đơn vị", "To unit")) }
                        th scope="col" { (t.s("Trích yếu", "Subject")) }
                        th scope="col" { (t.s("Tệp", "File")) }
                    }
                }
                tbody {
                    @for n in &list {
                        tr {
                            td { (n.reference) }
                            td { (date_time(n.created_at)) }
                            td { (units.iter().find(|u| u.id == n.unit).map_or("", |u| u.name.as_str())) }
                            td { (n.subject) }
                            td { a href={ "/admin/notices/" (n.id) } download { (t.s("Tải về", "Download")) } }
                        }
                    }
                }
            }
        }
    };
    c.page("/admin/notices", t.s("Thông báo", "Notices"), body)
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
    let units = match state.core.unit_mailbox_outlook(&c.actor, now).await {
        Ok(i) => i,
        Err(e) => return c.error(&e),
    };
    let swept = state.core.config().lifecycle.sweep_unit_mailboxes;
    let body = html! {
        h1 { (t.s("Dự kiến thu hồi do không sử dụng", "Inactivity outlook")) }
        p {
            (t.s(
                "Hộp thư không được đăng nhập trong thời hạn quy định sẽ bị thu hồi (Điều 8 khoản 3). Danh sách xếp theo ngày thu hồi sớm nhất.",
                "Mailboxes nobody signs in to within the period are revoked (article 8.3). Soonest first."
            ))
        }
        div class="scroll" {
            table class="grid" id="outlook" {
                thead {
                    tr {
                        th scope="col" { (t.s("Ngày thu hồi", "Revoked on")) }
                        th scope="col" { (t.s("Còn (ngày)", "Days left")) }
                        th scope="col" { (t.s("Họ và tên", "Full name")) }
                        th scope="col" { (t.s("Địa chỉ thư", "Address")) }
                        th scope="col" { (t.s("Đơn vị", "Unit")) }
                        th scope="col" { (t.s("Tính từ", "Since")) }
                    }
                }
                tbody {
                    @for i in &items {
                        tr class=[i.warned.then_some("warned")] {
                            td { (date(i.deadline)) }
                            td { (i.days_left) }
                            td { (i.full_name) }
                            td { (i.address) }
                            td { (i.unit_code) }
                            td { (date(i.since)) }
                        }
                    }
                }
            }
        }
        h2 { (t.s("Hộp thư đơn vị không ai mở", "Unit mailboxes nobody opened")) }
        p id="unit-sweep-rule" {
            @if swept {
                (t.s(
                    "Hộp thư đơn vị cũng bị thu hồi nếu lãnh đạo đơn vị và người được ủy quyền không mở trong thời hạn trên ([lifecycle] sweep_unit_mailboxes = true); phê duyệt thay đổi lãnh đạo sẽ mở lại.",
                    "Unit mailboxes are revoked too when neither the head nor a delegate opens them within the period ([lifecycle] sweep_unit_mailboxes = true); approving a head change re-opens one."
                ))
            } @else {
                (t.s(
                    "Hộp thư đơn vị không bị thu hồi tự động vì nhận văn bản và thông báo ([lifecycle] sweep_unit_mailboxes = false); danh sách dưới đây để đơn vị giao người theo dõi.",
                    "Unit mailboxes are not revoked by the sweep, as they receive documents and notices ([lifecycle] sweep_unit_mailboxes = false); this list is for the units to assign someone."
                ))
            }
        }
        div class="scroll" {
            table class="grid" id="unit-outlook" {
                thead {
                    tr {
                        th scope="col" { (t.s("Hộp thư đơn vị", "Unit mailbox")) }
                        th scope="col" { (t.s("Đơn vị", "Unit")) }
                        th scope="col" { (t.s("Mở lần cuối", "Last opened")) }
                        th scope="col" { (t.s("Số ngày không mở", "Days unopened")) }
                        th scope="col" { (t.s("Ngày thu hồi", "Revoked on")) }
                    }
                }
                tbody {
                    @for u in &units {
                        tr {
                            td { (u.address) }
                            td { (u.unit_code) " — " (u.unit_name) }
                            td {
                                @match u.last_opened {
                                    Some(at) => (date(at)),
                                    None => (t.s("chưa bao giờ", "never")),
                                }
                            }
                            td { (u.idle_days) }
                            td {
                                @match (u.revoked_at, u.deadline) {
                                    (Some(at), _) => { (t.s("đã thu hồi ", "revoked ")) (date(at)) }
                                    (None, Some(d)) => (date(d)),
                                    (None, None) => (t.s("miễn thu hồi", "exempt")),
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    c.page(
        "/admin/outlook",
        t.s("Dự kiến thu hồi", "Inactivity outlook"),
        body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::web_session::Language;

    const HOSTILE: &str = r#""><script>alert(1)</script>"#;

    fn focal_console() -> Console {
        Console {
            signed: Signed {
                session: crate::html::test_session(),
                token: "cookie".into(),
            },
            actor: Actor {
                name: "an@example.gov.vn".into(),
                scope: AdminScope::Focal,
            },
        }
    }

    #[tokio::test]
    async fn console_pages_escape_what_people_typed() {
        let c = focal_console();
        let change = ChangeView {
            id: 4,
            kind: "resignation".into(),
            kind_label: HOSTILE.into(),
            state: "filed".into(),
            unit_code: "U1".into(),
            unit_name: HOSTILE.into(),
            person: Some(HOSTILE.into()),
            full_name: None,
            target_unit: None,
            keep_delegates: vec![HOSTILE.into()],
            reason: HOSTILE.into(),
            filed_by: HOSTILE.into(),
            filed_at: 0,
            decided_by: None,
            decided_at: None,
            decision_note: None,
            update: Some(hopthu_core::directory::UpdateView {
                full_name: Some(HOSTILE.into()),
                position: None,
                phone: None,
                public: None,
                new_address: true,
            }),
        };
        let row = change_row(&c, &change).into_string();
        assert!(!row.contains("<script"), "{row}");
        assert!(
            row.contains(r#"<button type="submit" class="primary" id="approve-4">"#),
            "{row}"
        );
        assert!(
            row.contains(r#"<input type="hidden" name="csrf" value="token">"#),
            "{row}"
        );
        let decided = ChangeView {
            state: "rejected".into(),
            decision_note: Some(HOSTILE.into()),
            ..change
        };
        let row = change_row(&c, &decided).into_string();
        assert!(
            !row.contains("<script") && row.contains("&lt;script&gt;"),
            "{row}"
        );

        let cred = Credential {
            unit_code: "U1".into(),
            unit_name: HOSTILE.into(),
            kind: hopthu_core::directory::MailboxKind::Person,
            name: HOSTILE.into(),
            position: None,
            address: "x@y.vn".into(),
            password: r#"a"b<c"#.into(),
        };
        let out = credential_section(&c, &cred).into_string();
        assert!(!out.contains("<script"), "{out}");
        assert!(
            out.contains(r#"<span id="otp" class="secret">a&quot;b&lt;c</span>"#),
            "{out}"
        );

        let page = c.error(&hopthu_core::Error::invalid(HOSTILE));
        assert_eq!(page.status(), StatusCode::BAD_REQUEST);
        let bytes = axum::body::to_bytes(page.into_body(), usize::MAX)
            .await
            .expect("body");
        let out = String::from_utf8_lossy(&bytes);
        assert!(!out.contains("<script>"), "{out}");
        assert!(
            out.contains(r#"<p class="error" role="alert">&quot;&gt;&lt;script&gt;"#),
            "{out}"
        );
    }

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
        assert_eq!(
            kind_name(T(Language::En), "<b>"),
            "<b>",
            "escaped where it is shown"
        );
    }
}
