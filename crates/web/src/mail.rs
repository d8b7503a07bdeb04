//! The webmail screens: folders with unread counts, the message list (keyset pages, newest
//! first), search, the reading view (sanitised HTML in a sandboxed frame, attachments),
//! actions (read/unread, flag, move, delete to Trash), compose with attachments, reply,
//! reply-all, forward and drafts, new-mail events (SSE) and the address autocomplete.
//!
//! Every screen works as plain HTML forms and links; `app.js` only enhances (live updates,
//! autocomplete, select-all). Handlers call `Core` and render: ownership, submission rules,
//! quotas and search are decided there.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hopthu_core::compose::{ComposeFrom, Composed, NOT_CLASSIFIED, NewAttachment};
use hopthu_core::shared::SHARED_ROOT;
use hopthu_core::web_session::Language;
use hopthu_core::webmail::{MessageSummary, MessageView, ShownAddress};
use hopthu_core::{ErrorKind, MailboxRecord, SendMode, SpecialUse};
use hopthu_model::{Flag, FlagOp, Flags, MailboxId, Uid};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{Signed, csrf_refused, signed_in};
use crate::html::{T, csrf_input, date_time, list_date, page, see_other, size, url};

/// Messages per list page.
const PAGE_SIZE: u32 = 50;

pub(crate) fn routes(max_message: usize) -> Router<AppState> {
    Router::new()
        .route("/mail", get(inbox))
        .route("/mail/{mailbox}", get(list))
        .route("/mail/{mailbox}/act", post(act))
        .route("/mail/{mailbox}/{uid}", get(read))
        .route("/mail/{mailbox}/{uid}/body", get(body))
        .route("/mail/{mailbox}/{uid}/part/{index}", get(part))
        .route(
            "/compose",
            get(compose_form)
                .post(compose)
                // Room for the largest message plus the form's own overhead.
                .layer(DefaultBodyLimit::max(
                    max_message.saturating_mul(2).max(1 << 20),
                )),
        )
        .route("/events", get(events))
        .route("/address-book", get(address_book))
        .route("/unit-mailbox/log", get(unit_log))
}

macro_rules! signed {
    ($state:expr, $headers:expr) => {
        match signed_in(&$state, &$headers, false).await {
            Ok(s) => s,
            Err(r) => return r,
        }
    };
}

/// The signed-in session and the message `uid` of `mailbox` it may read, or the response to
/// send instead.
async fn signed_view(
    state: &AppState,
    headers: &HeaderMap,
    mailbox: MailboxId,
    uid: Uid,
) -> Result<(Signed, MessageView), Response> {
    let signed = signed_in(state, headers, false).await?;
    match state
        .core
        .message_view(&signed.session.principal, mailbox, uid)
        .await
    {
        Ok(view) => Ok((signed, view)),
        Err(e) => Err(core_error(signed.t(), &e)),
    }
}

pub(crate) fn core_error(t: T, e: &hopthu_core::Error) -> Response {
    let status = match e.kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorKind::AlreadyExists | ErrorKind::HasChildren => StatusCode::CONFLICT,
        ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let msg = match e.kind {
        ErrorKind::NotFound => t
            .s(
                "Không tìm thấy thư hoặc thư mục.",
                "Message or folder not found.",
            )
            .to_string(),
        _ => e.message.clone(),
    };
    crate::html::error_page(t, status, &msg)
}

/// The unit mailbox a folder belongs to, by address, when it is one of the shared folders
/// (`Shared/<unit address>/<folder>`); `None` for one's own.
fn unit_of(m: &MailboxRecord) -> Option<&str> {
    let rest = m.name.strip_prefix(SHARED_ROOT)?.strip_prefix('/')?;
    rest.split('/').next().filter(|a| !a.is_empty())
}

/// A folder's name within its own mailbox: without the `Shared/<unit address>/` prefix.
fn local_name(m: &MailboxRecord) -> &str {
    match unit_of(m) {
        Some(unit) => m
            .name
            .get(SHARED_ROOT.len() + 1 + unit.len()..)
            .and_then(|rest| rest.strip_prefix('/'))
            .unwrap_or_default(),
        None => &m.name,
    }
}

/// A unit mailbox's folders carry no SPECIAL-USE for the people it is shared with (they are not
/// their own Sent or Trash); their standard names still say what they are.
fn special_use_of(m: &MailboxRecord) -> Option<SpecialUse> {
    if unit_of(m).is_none() {
        return m.special_use;
    }
    hopthu_core::STANDARD_FOLDERS
        .iter()
        .find(|(name, _)| *name == local_name(m))
        .and_then(|(_, special)| *special)
}

/// The name people see for a folder.
pub(crate) fn folder_name(t: T, m: &MailboxRecord) -> String {
    if local_name(m) == "INBOX" {
        return t.s("Hộp thư đến", "Inbox").to_string();
    }
    match special_use_of(m) {
        Some(SpecialUse::Sent) => t.s("Đã gửi", "Sent").to_string(),
        Some(SpecialUse::Drafts) => t.s("Thư nháp", "Drafts").to_string(),
        Some(SpecialUse::Trash) => t.s("Thùng rác", "Trash").to_string(),
        Some(SpecialUse::Junk) => t.s("Thư rác", "Junk").to_string(),
        Some(SpecialUse::Archive) => t.s("Lưu trữ", "Archive").to_string(),
        _ => local_name(m).to_string(),
    }
}

fn folder_order(m: &MailboxRecord) -> (u8, String) {
    let rank = if local_name(m) == "INBOX" {
        0
    } else {
        match special_use_of(m) {
            Some(SpecialUse::Drafts) => 1,
            Some(SpecialUse::Sent) => 2,
            Some(SpecialUse::Archive) => 3,
            Some(SpecialUse::Junk) => 4,
            Some(SpecialUse::Trash) => 5,
            _ => 6,
        }
    };
    (rank, local_name(m).to_string())
}

/// The mailbox switcher: one's own mailbox, then each unit mailbox one may read (Đ12), by
/// the unit's name and address. Nothing for someone with no unit mailbox. `current` is the
/// unit shown (`None`: one's own).
fn switcher(
    t: T,
    units: &[(hopthu_core::shared::SharedMailbox, String)],
    current: Option<&str>,
) -> Markup {
    if units.is_empty() {
        return Markup::default();
    }
    html! {
        nav class="switcher" id="mailbox-switcher" aria-labelledby="switcher-title" {
            h2 id="switcher-title" { (t.s("Hộp thư", "Mailboxes")) }
            ul {
                li {
                    a href="/mail" id="switch-own" aria-current=[current.is_none().then_some("page")] {
                        (t.s("Hộp thư của tôi", "My mailbox"))
                    }
                }
                @for (m, name) in units {
                    @let here = current.is_some_and(|c| c.eq_ignore_ascii_case(&m.address));
                    li {
                        a href={ "/mail?unit=" (url(&m.address)) } class="switch-unit" data-unit=(m.address)
                            aria-current=[here.then_some("page")] {
                            (name)
                            " "
                            span class="addr" { "<" (m.address) ">" }
                        }
                        div class="unit-links" {
                            a href={ "/documents?unit=" (url(&m.address)) } class="unit-documents" {
                                (t.s("văn bản", "documents"))
                            }
                            @if m.access == hopthu_core::shared::Access::Owner {
                                " · "
                                a href={ "/unit-mailbox/log?unit=" (url(&m.address)) } class="unit-log" {
                                    (t.s("nhật ký", "log"))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The side bar: compose, the mailbox switcher, the folders of the mailbox shown (one's own,
/// or the unit mailbox `current` belongs to) with unread counts, one's quota.
pub(crate) async fn sidebar(
    state: &AppState,
    signed: &Signed,
    current: Option<MailboxId>,
) -> Markup {
    let t = signed.t();
    let who = &signed.session.principal;
    let current_record = match current {
        Some(id) => state.core.mailbox_by_id(who, id).await.ok(),
        None => None,
    };
    let unit = current_record
        .as_ref()
        .and_then(unit_of)
        .map(str::to_string);
    let units = match state.core.readable_unit_mailboxes(who).await {
        Ok(units) => units,
        Err(e) => {
            tracing::warn!(error = %e, "could not list the unit mailboxes one may read");
            Vec::new()
        }
    };
    let mut folders = match &unit {
        Some(address) => state
            .core
            .shared_folder_counts(who, address)
            .await
            .unwrap_or_default(),
        None => state.core.folder_counts(who).await.unwrap_or_default(),
    };
    folders.sort_by_key(|(m, _, _)| folder_order(m));
    let quota = if unit.is_none() {
        state.core.quota(who).await.ok()
    } else {
        None
    };
    let admin_link = crate::admin::nav_link(state, signed).await;
    html! {
        nav class="side" aria-label=(t.s("Thư mục", "Folders")) {
            a class="button primary" href="/compose" { (t.s("Soạn thư", "Compose")) }
            (switcher(t, &units, unit.as_deref()))
            ul class="folders" id="folders" data-unit=[unit.as_deref()] {
                @for (m, _, unseen) in &folders {
                    li {
                        a href={ "/mail/" (m.id.0) } aria-current=[(Some(m.id) == current).then_some("page")] data-mailbox=(m.id.0) {
                            (folder_name(t, m))
                            @if *unseen > 0 {
                                " "
                                span class="count" aria-label={ (unseen) " " (t.s("chưa đọc", "unread")) } { (unseen) }
                            }
                        }
                    }
                }
            }
            @if let Some(q) = quota {
                @let percent = q.used.saturating_mul(100).checked_div(q.limit).unwrap_or(0).min(100);
                div class="quota" {
                    label for="quota" { (t.s("Dung lượng đã dùng", "Storage used")) }
                    progress id="quota" max="100" value=(percent) { (percent) "%" }
                    span { (size(q.used)) " / " (size(q.limit)) }
                }
            }
            p class="contacts-link" {
                a href="/contacts" id="contacts-link" { (t.s("Danh bạ cá nhân", "Personal contacts")) }
            }
            (admin_link)
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ListQuery {
    #[serde(default)]
    before: Option<u32>,
    #[serde(default)]
    q: String,
    #[serde(default)]
    changed: Option<u8>,
    #[serde(default)]
    sent: Option<u8>,
    #[serde(default)]
    saved: Option<u8>,
    /// `/mail?unit=<unit address>`: the mailbox switcher's way into a unit mailbox (its INBOX).
    /// Past that, the folder's id in the path says whose mailbox is shown.
    #[serde(default)]
    unit: String,
}

async fn inbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let unit = q.unit.trim();
    let inbox = if unit.is_empty() {
        "INBOX".to_string()
    } else {
        format!("{SHARED_ROOT}/{unit}/INBOX")
    };
    match state.core.mailbox(&signed.session.principal, &inbox).await {
        Ok(m) => {
            let mut to = format!("/mail/{}", m.id.0);
            let mut sep = '?';
            if !q.q.is_empty() {
                let _ = write!(to, "{sep}q={}", url(&q.q));
                sep = '&';
            }
            for (key, v) in [("changed", q.changed), ("sent", q.sent), ("saved", q.saved)] {
                if v.is_some() {
                    let _ = write!(to, "{sep}{key}=1");
                    sep = '&';
                }
            }
            see_other(&to)
        }
        Err(e) => core_error(signed.t(), &e),
    }
}

fn who_shown(m: &MessageSummary, sent_folder: bool) -> String {
    let _ = sent_folder;
    if !m.from_name.is_empty() {
        m.from_name.clone()
    } else {
        m.from_address.clone()
    }
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(mailbox): Path<i64>,
    Query(q): Query<ListQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let who = &signed.session.principal;
    let mailbox = MailboxId(mailbox);
    let query = q.q.trim().chars().take(200).collect::<String>();
    let (record, messages, next) = if query.is_empty() {
        match state
            .core
            .message_page(who, mailbox, q.before.map(Uid), PAGE_SIZE)
            .await
        {
            Ok(p) => (p.mailbox, p.messages, p.next_before),
            Err(e) => return core_error(t, &e),
        }
    } else {
        let record = match state.core.mailbox_by_id(who, mailbox).await {
            Ok(r) => r,
            Err(e) => return core_error(t, &e),
        };
        match state
            .core
            .search_messages(who, mailbox, &query, q.before.map(Uid), PAGE_SIZE)
            .await
        {
            Ok((m, next)) => (record, m, next),
            Err(e) => return core_error(t, &e),
        }
    };
    // Đ13.1: the person opened their own mailbox (its first page, not paging or searching).
    if record.account_id == who.account
        && record.name == "INBOX"
        && q.before.is_none()
        && query.is_empty()
    {
        state.core.note_mailbox_opened(who.account).await;
    }
    let folder = folder_name(t, &record);
    let now = chrono::Utc::now().timestamp();
    let side = sidebar(&state, &signed, Some(mailbox)).await;
    let actions = action_bar(&state, &signed, mailbox, true).await;
    // A search keeps its words from page to page.
    let search = if query.is_empty() {
        String::new()
    } else {
        format!("q={}", crate::html::url(&query))
    };
    let first = if search.is_empty() {
        format!("/mail/{}", mailbox.0)
    } else {
        format!("/mail/{}?{search}", mailbox.0)
    };
    let live = if q.before.is_none() && query.is_empty() {
        "1"
    } else {
        "0"
    };
    let body = html! {
        div class="layout" {
            (side)
            main id="main" data-live=(live) data-mailbox=(mailbox.0) {
                h1 { (folder) }
                @if let Some(unit) = unit_of(&record) {
                    p class="muted" id="unit-shown" { (t.s("Hộp thư đơn vị", "Unit mailbox")) ": " (unit) }
                }
                @for (shown, vi, en) in [
                    (q.changed.is_some(), "Đã đổi mật khẩu.", "Password changed."),
                    (q.sent.is_some(), "Đã gửi thư.", "Message sent."),
                    (q.saved.is_some(), "Đã lưu thư nháp.", "Draft saved."),
                ] {
                    @if shown {
                        p class="ok" role="status" { (t.s(vi, en)) }
                    }
                }
                form method="get" action={ "/mail/" (mailbox.0) } role="search" class="folder-search" {
                    label for="fq" { (t.s("Tìm trong thư mục này", "Search this folder")) }
                    " "
                    input id="fq" name="q" type="search" value=(query);
                    " "
                    button { (t.s("Tìm", "Search")) }
                }
                @if !query.is_empty() {
                    p class="muted" {
                        (t.s("Kết quả cho", "Results for")) " “" (query) "”: " (messages.len()) " · "
                        a href={ "/mail/" (mailbox.0) } { (t.s("Bỏ tìm", "Clear search")) }
                    }
                }
                form method="post" action={ "/mail/" (mailbox.0) "/act" } id="list-form" {
                    (csrf_input(&signed.session.csrf_token))
                    input type="hidden" name="back" value={ "/mail/" (mailbox.0) };
                    (actions)
                    div id="list" { (list_rows(t, mailbox, &messages, now)) }
                }
                p class="folder-tools" {
                    a id="download-mbox" href={ "/mail/" (mailbox.0) "/mbox" } download { (t.s("Tải thư mục về (mbox)", "Download folder (mbox)")) }
                    " · "
                    a id="import-link" href={ "/mail/" (mailbox.0) "/import" } { (t.s("Nhập thư vào thư mục này", "Import messages into this folder")) }
                }
                @if let Some(next) = next {
                    nav class="pager" aria-label=(t.s("Trang", "Pages")) {
                        a href=(first) { (t.s("Mới nhất", "Newest")) }
                        " "
                        a rel="next" href={
                            "/mail/" (mailbox.0) "?" (search)
                            @if !search.is_empty() { "&" }
                            "before=" (next.0)
                        } { (t.s("Thư cũ hơn", "Older")) " →" }
                    }
                } @else if q.before.is_some() {
                    nav class="pager" { a href=(first) { (t.s("Mới nhất", "Newest")) } }
                }
            }
        }
    };
    page(t, &folder, Some(&signed.session), body).into_response()
}

fn list_rows(t: T, mailbox: MailboxId, messages: &[MessageSummary], now: i64) -> Markup {
    if messages.is_empty() {
        return html! { p class="empty" { (t.s("Không có thư.", "No messages.")) } };
    }
    html! {
        table class="messages" {
            caption class="sr" { (t.s("Danh sách thư", "Messages")) }
            thead {
                tr {
                    th scope="col" { span class="sr" { (t.s("Chọn", "Select")) } }
                    th scope="col" { (t.s("Người gửi", "From")) }
                    th scope="col" { (t.s("Tiêu đề", "Subject")) }
                    th scope="col" { (t.s("Ngày", "Date")) }
                }
            }
            tbody {
                @for m in messages {
                    @let subject = if m.subject.is_empty() {
                        t.s("(không có tiêu đề)", "(no subject)")
                    } else {
                        m.subject.as_str()
                    };
                    tr class=(if m.record.flags.contains(&Flag::Seen) { "seen" } else { "unseen" }) {
                        td { input type="checkbox" name="uid" value=(m.record.uid.0) aria-label=(subject); }
                        td class="from" {
                            @if m.record.flags.contains(&Flag::Flagged) {
                                span class="star" aria-label="★" { "★" }
                                " "
                            }
                            (who_shown(m, false))
                        }
                        td class="subject" {
                            a href={ "/mail/" (mailbox.0) "/" (m.record.uid.0) } { (subject) }
                            @if m.has_attachments {
                                " "
                                span class="clip" title=(t.s("Có tệp đính kèm", "Has attachments")) aria-label=(t.s("Có tệp đính kèm", "Has attachments")) { "📎" }
                            }
                        }
                        td class="date" { (list_date(m.date, now)) }
                    }
                }
            }
        }
    }
}

/// Buttons acting on the selected (or the shown) messages.
async fn action_bar(state: &AppState, signed: &Signed, current: MailboxId, many: bool) -> Markup {
    let t = signed.t();
    let mut folders = state
        .core
        .mailboxes(&signed.session.principal)
        .await
        .unwrap_or_default();
    folders.sort_by_key(folder_order);
    // Messages move within the mailbox shown: one's own folders, or the unit mailbox's.
    let unit = folders
        .iter()
        .find(|m| m.id == current)
        .and_then(unit_of)
        .map(str::to_string);
    // The usual destination is preselected: Archive, else INBOX (not whichever folder sorts
    // first, which is Drafts).
    let others: Vec<_> = folders
        .iter()
        .filter(|m| m.id != current && unit_of(m) == unit.as_deref())
        .collect();
    let preselected = others
        .iter()
        .find(|m| special_use_of(m) == Some(SpecialUse::Archive))
        .or_else(|| others.iter().find(|m| local_name(m) == "INBOX"))
        .map(|m| m.id);
    let _ = many;
    // Only what the rights allow (a unit mailbox's read-only delegate: no delete, no move).
    let access = state
        .core
        .mailbox_access(&signed.session.principal, current)
        .await
        .map(|(_, a)| a)
        .ok();
    let may = |right: char| access.is_some_and(|a| a.allows(right));
    html! {
        div class="actions" role="toolbar" aria-label=(t.s("Thao tác", "Actions")) {
            @if may('s') {
                button name="action" value="read" { (t.s("Đánh dấu đã đọc", "Mark read")) }
                button name="action" value="unread" { (t.s("Chưa đọc", "Mark unread")) }
            }
            @if may('w') {
                button name="action" value="flag" { (t.s("Gắn sao", "Star")) }
                button name="action" value="unflag" { (t.s("Bỏ sao", "Unstar")) }
            }
            @if may('t') {
                button name="action" value="delete" class="danger" { (t.s("Xóa", "Delete")) }
                " "
                label for={ "target-" (current.0) } class="sr" { (t.s("Chuyển đến thư mục", "Move to folder")) }
                select id={ "target-" (current.0) } name="target" {
                    @for m in others {
                        option value=(m.id.0) selected[Some(m.id) == preselected] { (folder_name(t, m)) }
                    }
                }
                button name="action" value="move" { (t.s("Chuyển", "Move")) }
            }
        }
    }
}

/// `uid=1&uid=2&action=…` (serde's form extractor cannot read repeated keys).
fn form_fields(body: &[u8]) -> HashMap<String, Vec<String>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for (k, v) in form_urlencoded::parse(body) {
        out.entry(k.into_owned()).or_default().push(v.into_owned());
    }
    out
}

fn first<'a>(fields: &'a HashMap<String, Vec<String>>, key: &str) -> &'a str {
    fields
        .get(key)
        .and_then(|v| v.first())
        .map_or("", String::as_str)
}

async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(mailbox): Path<i64>,
    body: Bytes,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let fields = form_fields(&body);
    if !signed.csrf_ok(first(&fields, "csrf")) {
        return csrf_refused(t);
    }
    let who = &signed.session.principal;
    let mailbox = MailboxId(mailbox);
    let uids: Vec<Uid> = fields
        .get("uid")
        .map(|v| v.iter().filter_map(|u| u.parse().ok()).map(Uid).collect())
        .unwrap_or_default();
    let back = first(&fields, "back");
    // Only our own paths: never an open redirect.
    let back = if back.starts_with("/mail/") && !back.starts_with("//") {
        back.to_string()
    } else {
        format!("/mail/{}", mailbox.0)
    };
    if uids.is_empty() {
        return see_other(&back);
    }
    let flag_op = |op: FlagOp, flag: Flag| {
        let mut flags = Flags::new();
        flags.insert(flag);
        (op, flags)
    };
    let action = first(&fields, "action");
    let flag_change = match action {
        "read" => Some((FlagOp::Add, Flag::Seen)),
        "unread" => Some((FlagOp::Remove, Flag::Seen)),
        "flag" => Some((FlagOp::Add, Flag::Flagged)),
        "unflag" => Some((FlagOp::Remove, Flag::Flagged)),
        _ => None,
    };
    let result = match (action, flag_change) {
        (_, Some((op, flag))) => {
            let (op, f) = flag_op(op, flag);
            state
                .core
                .store_flags(who, mailbox, &uids, op, &f, None)
                .await
                .map(|_| ())
        }
        ("move", None) => match first(&fields, "target").parse::<i64>() {
            Ok(target) => state
                .core
                .move_messages(who, mailbox, &uids, MailboxId(target))
                .await
                .map(|_| ()),
            Err(_) => Err(hopthu_core::Error::invalid(
                t.s("Chưa chọn thư mục đích.", "No target folder chosen."),
            )),
        },
        ("delete", None) => {
            // The Trash of the mailbox shown: a unit mailbox's deletions stay in it.
            let trash = match state.core.trash_for(who, mailbox).await {
                Ok(trash) => trash,
                Err(e) => return action_refused(t, &e, &back),
            };
            match trash {
                // Deleting in Trash removes for good; elsewhere it moves to Trash.
                Some(trash) if trash != mailbox => state
                    .core
                    .move_messages(who, mailbox, &uids, trash)
                    .await
                    .map(|_| ()),
                _ => {
                    let (op, f) = flag_op(FlagOp::Add, Flag::Deleted);
                    match state
                        .core
                        .store_flags(who, mailbox, &uids, op, &f, None)
                        .await
                    {
                        Ok(_) => state
                            .core
                            .expunge(who, mailbox, Some(&uids))
                            .await
                            .map(|_| ()),
                        Err(e) => Err(e),
                    }
                }
            }
        }
        _ => Err(hopthu_core::Error::invalid("unknown action")),
    };
    match result {
        Ok(()) => {
            // After deleting or moving the message being read, show its folder.
            let reading_gone = matches!(action, "delete" | "move") && back.matches('/').count() > 2;
            if reading_gone {
                see_other(&format!("/mail/{}", mailbox.0))
            } else {
                see_other(&back)
            }
        }
        Err(e) => action_refused(t, &e, &back),
    }
}

/// Core's refusal of an action (a read-only delegate deleting in a unit mailbox, say) as a page
/// with its status and message, and the way back to where the action was asked.
fn action_refused(t: T, e: &hopthu_core::Error, back: &str) -> Response {
    if e.kind == ErrorKind::NotFound {
        return core_error(t, e);
    }
    let mut r = core_error(t, e);
    if matches!(e.kind, ErrorKind::Forbidden | ErrorKind::Invalid) {
        let body = html! {
            main id="main" class="narrow" {
                h1 { (t.s("Không thực hiện được", "That did not work")) }
                p class="error" role="alert" id="refused" { (e.message) }
                p { a href=(back) id="back" { "← " (t.s("Quay lại", "Go back")) } }
            }
        };
        let status = r.status();
        r = (status, page(t, t.s("Lỗi", "Error"), None, body)).into_response();
    }
    r
}

fn address_line(list: &[ShownAddress]) -> Markup {
    html! {
        @for (i, a) in list.iter().enumerate() {
            @if i > 0 { ", " }
            @if a.name.is_empty() {
                (a.address)
            } @else {
                (a.name) " " span class="addr" { "<" (a.address) ">" }
            }
        }
    }
}

#[derive(Deserialize, Default)]
pub(crate) struct ReadQuery {
    #[serde(default)]
    images: Option<u8>,
}

async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((mailbox, uid)): Path<(i64, u32)>,
    Query(q): Query<ReadQuery>,
) -> Response {
    let mailbox = MailboxId(mailbox);
    let (signed, view) = match signed_view(&state, &headers, mailbox, Uid(uid)).await {
        Ok(sv) => sv,
        Err(r) => return r,
    };
    let t = signed.t();
    let who = &signed.session.principal;
    if !view.record.flags.contains(&Flag::Seen) {
        let mut seen = Flags::new();
        seen.insert(Flag::Seen);
        if let Err(e) = state
            .core
            .store_flags(who, mailbox, &[Uid(uid)], FlagOp::Add, &seen, None)
            .await
        {
            tracing::warn!(error = %e, "mark seen");
        }
    }
    let images = q.images.is_some();
    let document = crate::documents::document_box(&state, &signed, mailbox, &view).await;
    let side = sidebar(&state, &signed, Some(mailbox)).await;
    let actions = action_bar(&state, &signed, mailbox, false).await;
    let subject = if view.subject.is_empty() {
        t.s("(không có tiêu đề)", "(no subject)").to_string()
    } else {
        view.subject.clone()
    };
    let attachments: Vec<_> = view
        .parts
        .iter()
        .filter(|p| !(p.inline && p.content_id.is_some() && view.html.is_some()))
        .collect();
    let mb = mailbox.0;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" class="reading" {
                p { a href={ "/mail/" (mb) } { "← " (t.s("Về danh sách thư", "Back to the list")) } }
                (document)
                article aria-labelledby="subject" {
                    h1 id="subject" { (subject) }
                    dl class="headers" {
                        dt { (t.s("Từ", "From")) }
                        dd { (address_line(&view.from)) }
                        dt { (t.s("Đến", "To")) }
                        dd { (address_line(&view.to)) }
                        @if !view.cc.is_empty() {
                            dt { "Cc" }
                            dd { (address_line(&view.cc)) }
                        }
                        @if !view.bcc.is_empty() {
                            dt { "Bcc" }
                            dd { (address_line(&view.bcc)) }
                        }
                        dt { (t.s("Ngày", "Date")) }
                        dd { (date_time(view.date)) }
                    }
                    @if let Some(verdict) = &view.document {
                        (crate::verify::verdict_line(verdict))
                    }
                    nav class="reply" aria-label=(t.s("Trả lời", "Reply")) {
                        @if view.record.flags.contains(&Flag::Draft) {
                            a class="button primary" href={ "/compose?mailbox=" (mb) "&uid=" (uid) "&mode=draft" } {
                                (t.s("Sửa thư nháp", "Edit draft"))
                            }
                            " "
                        }
                        a class="button" href={ "/compose?mailbox=" (mb) "&uid=" (uid) "&mode=reply" } { (t.s("Trả lời", "Reply")) }
                        " "
                        a class="button" href={ "/compose?mailbox=" (mb) "&uid=" (uid) "&mode=all" } { (t.s("Trả lời tất cả", "Reply all")) }
                        " "
                        a class="button" href={ "/compose?mailbox=" (mb) "&uid=" (uid) "&mode=forward" } { (t.s("Chuyển tiếp", "Forward")) }
                        " "
                        a class="button" id="download-eml" href={ "/mail/" (mb) "/" (uid) "/eml" } download { (t.s("Tải về (.eml)", "Download (.eml)")) }
                    }
                    form method="post" action={ "/mail/" (mb) "/act" } {
                        (csrf_input(&signed.session.csrf_token))
                        input type="hidden" name="uid" value=(uid);
                        input type="hidden" name="back" value={ "/mail/" (mb) "/" (uid) };
                        (actions)
                    }
                    @if let Some(html) = &view.html {
                        @if (html.contains("http://") || html.contains("https://")) && !images {
                            p class="notice" {
                                (t.s(
                                    "Ảnh từ bên ngoài đã bị chặn để bảo vệ bạn.",
                                    "Remote images were blocked to protect you."
                                ))
                                " "
                                a href={ "/mail/" (mb) "/" (uid) "?images=1" } { (t.s("Hiện ảnh", "Show images")) }
                            }
                        }
                        iframe class="mail-body" title=(t.s("Nội dung thư", "Message body"))
                            sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer"
                            src={ "/mail/" (mb) "/" (uid) "/body" @if images { "?images=1" } } {}
                        details {
                            summary { (t.s("Xem dạng văn bản", "Plain text")) }
                            pre class="text-body" { (view.text) }
                        }
                    } @else {
                        pre class="text-body" { (view.text) }
                    }
                    @if !attachments.is_empty() {
                        section class="attachments" aria-labelledby="att-title" {
                            h2 id="att-title" { (t.s("Tệp đính kèm", "Attachments")) }
                            ul {
                                @for p in &attachments {
                                    li {
                                        a href={ "/mail/" (mb) "/" (uid) "/part/" (p.index) } download { (p.name) }
                                        " "
                                        span class="muted" { "(" (size(p.size as u64)) ")" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    page(t, &subject, Some(&signed.session), body).into_response()
}

/// The HTML body alone, sanitised, for the sandboxed frame; its own CSP forbids every script
/// and every fetch except images (remote ones only when the reader asked).
async fn body(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((mailbox, uid)): Path<(i64, u32)>,
    Query(q): Query<ReadQuery>,
) -> Response {
    let mailbox = MailboxId(mailbox);
    let (signed, view) = match signed_view(&state, &headers, mailbox, Uid(uid)).await {
        Ok(sv) => sv,
        Err(r) => return r,
    };
    let who = &signed.session.principal;
    // Every `cid:` part from one read of the message.
    let cid_parts: Vec<_> = view
        .parts
        .iter()
        .filter(|p| p.content_id.is_some() && p.size <= 2 * 1024 * 1024)
        .collect();
    let indices: Vec<u32> = cid_parts.iter().map(|p| p.index).collect();
    let contents = if indices.is_empty() {
        Vec::new()
    } else {
        state
            .core
            .message_parts(who, mailbox, Uid(uid), &indices)
            .await
            .unwrap_or_default()
    };
    let mut inline = HashMap::new();
    for (p, content) in cid_parts.into_iter().zip(contents) {
        inline.insert(
            p.content_id.clone().unwrap_or_default(),
            (p.content_type.clone(), content.bytes),
        );
    }
    let images = q.images.is_some();
    let html = view.html.as_deref().unwrap_or_default();
    let (safe, _) = crate::sanitize::clean(html, inline, images);
    let doc = body_document(&safe).into_string();
    let img_src = if images {
        "img-src data: https: http:"
    } else {
        "img-src data:"
    };
    let mut r = (StatusCode::OK, doc).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "default-src 'none'; {img_src}; style-src 'unsafe-inline'; frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox allow-popups allow-popups-to-escape-sandbox"
    )) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert("x-frame-options", HeaderValue::from_static("SAMEORIGIN"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

/// The document of the sandboxed frame around sanitised HTML mail.
fn body_document(safe: &str) -> Markup {
    html! {
        (DOCTYPE)
        html {
            head {
                meta charset="utf-8";
                // A constant without `& < > "`, so escaping leaves it as it is (a test checks).
                style { (BODY_CSS) }
            }
            // `safe` is ammonia's output (`sanitize::clean`): its own allow-list of tags and
            // attributes, every text and attribute value re-serialised and escaped.
            body { (PreEscaped(safe)) }
        }
    }
}

const BODY_CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:8px;overflow-wrap:anywhere;\
color:#111;background:#fff}img{max-width:100%;height:auto}";

/// `Content-Disposition` with the name in RFC 6266/5987 form (`filename*=UTF-8''…`) and an
/// ASCII fallback, so Vietnamese names arrive intact in every browser.
pub(crate) fn content_disposition(kind: &str, name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            let folded = hopthu_model::text::search_fold(&c.to_string());
            let mut f = folded.chars();
            let c2 = match (f.next(), f.next()) {
                (Some(one), None) if c.is_uppercase() => one.to_ascii_uppercase(),
                (Some(one), None) => one,
                _ => '_',
            };
            if (c2.is_ascii_graphic() && c2 != '"' && c2 != '\\') || c2 == ' ' {
                c2
            } else {
                '_'
            }
        })
        .collect();
    let ascii = if ascii.trim().is_empty() {
        "file".to_string()
    } else {
        ascii
    };
    let encoded = percent_encoding::utf8_percent_encode(name, &RFC5987).to_string();
    format!(r#"{kind}; filename="{ascii}"; filename*=UTF-8''{encoded}"#)
}

const RFC5987: percent_encoding::AsciiSet = percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

async fn part(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((mailbox, uid, index)): Path<(i64, u32, u32)>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let content = match state
        .core
        .message_part(
            &signed.session.principal,
            MailboxId(mailbox),
            Uid(uid),
            index,
        )
        .await
    {
        Ok(c) => c,
        Err(e) => return core_error(t, &e),
    };
    let mut r = (StatusCode::OK, content.bytes).into_response();
    let h = r.headers_mut();
    // Always a download, never rendered on our origin (an HTML attachment could script).
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Ok(v) = HeaderValue::from_str(&content_disposition("attachment", &content.name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

// ---- compose ------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
pub(crate) struct ComposeQuery {
    #[serde(default)]
    mailbox: Option<i64>,
    #[serde(default)]
    uid: Option<u32>,
    #[serde(default)]
    mode: String,
    #[serde(default)]
    to: String,
}

fn quote(text: &str) -> String {
    text.lines()
        .map(|l| format!("> {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

fn list_text(list: &[ShownAddress]) -> String {
    list.iter()
        .map(|a| a.address.clone())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn compose_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ComposeQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let who = &signed.session.principal;
    let mut c = Composed {
        to: q.to.clone(),
        ..Composed::default()
    };
    let signature = &signed.session.settings.signature;
    let mut origin = String::new();
    if let (Some(mb), Some(uid)) = (q.mailbox, q.uid) {
        let view = match state.core.message_view(who, MailboxId(mb), Uid(uid)).await {
            Ok(v) => v,
            Err(e) => return core_error(t, &e),
        };
        let me = who.address.to_string();
        let reply_to = if view.reply_to.is_empty() {
            &view.from
        } else {
            &view.reply_to
        };
        let intro = format!(
            "\n\n{} {}, {}:\n",
            date_time(view.date),
            view.from.first().map_or("", |a| if a.name.is_empty() {
                a.address.as_str()
            } else {
                a.name.as_str()
            }),
            t.s("đã viết", "wrote")
        );
        match q.mode.as_str() {
            "draft" => {
                c.to = list_text(&view.to);
                c.cc = list_text(&view.cc);
                c.bcc = list_text(&view.bcc);
                c.subject = view.subject.clone();
                c.body = view.text.clone();
                c.in_reply_to = None;
                c.from = draft_from(&view, &me);
                origin = format!("draft:{mb}/{uid}");
                return compose_page(&state, &signed, &c, None, &origin).await;
            }
            "forward" => {
                origin = format!("forward:{mb}/{uid}");
                c.subject = format!("Fwd: {}", view.subject);
                c.body = format!(
                    "\n\n---------- {} ----------\n{}: {}\n{}: {}\n{}: {}\n{}: {}\n\n{}",
                    t.s("Thư chuyển tiếp", "Forwarded message"),
                    t.s("Từ", "From"),
                    list_text(&view.from),
                    t.s("Ngày", "Date"),
                    date_time(view.date),
                    t.s("Tiêu đề", "Subject"),
                    view.subject,
                    t.s("Đến", "To"),
                    list_text(&view.to),
                    view.text
                );
            }
            mode => {
                c.subject = if view.subject.to_lowercase().starts_with("re:") {
                    view.subject.clone()
                } else {
                    format!("Re: {}", view.subject)
                };
                c.to = list_text(reply_to);
                if mode == "all" {
                    let others: Vec<ShownAddress> = view
                        .to
                        .iter()
                        .chain(view.cc.iter())
                        .filter(|a| {
                            !a.address.eq_ignore_ascii_case(&me)
                                && !reply_to.iter().any(|r| r.address == a.address)
                        })
                        .cloned()
                        .collect();
                    c.cc = list_text(&others);
                }
                c.body = format!("{intro}{}", quote(&view.text));
                c.in_reply_to = view.message_id.clone();
                c.references = view.references.clone();
                if let Some(id) = &view.message_id {
                    c.references.push(id.clone());
                }
            }
        }
    }
    if !signature.is_empty() {
        c.body = format!("\n\n-- \n{signature}{}", c.body);
    }
    compose_page(&state, &signed, &c, None, &origin).await
}

/// The From choice a draft was saved with: a single `From:` other than one's own is a unit's,
/// sent as it, or on its behalf when the draft has a `Sender:`. Whether it may still be used is
/// decided when it is sent.
fn draft_from(view: &MessageView, me: &str) -> ComposeFrom {
    let [from] = view.from.as_slice() else {
        return ComposeFrom::Own;
    };
    if from.address.eq_ignore_ascii_case(me) {
        return ComposeFrom::Own;
    }
    match hopthu_model::EmailAddress::parse(&from.address) {
        Ok(address) => ComposeFrom::Unit {
            address,
            mode: if view.sender.is_empty() {
                SendMode::SendAs
            } else {
                SendMode::SendOnBehalf
            },
        },
        Err(_) => ComposeFrom::Own,
    }
}

/// `forward:<mailbox>/<uid>` (attach the original's files) or `draft:<mailbox>/<uid>` (the
/// draft being edited, removed once sent or saved again).
fn parse_origin(origin: &str) -> Option<(&str, MailboxId, Uid)> {
    let (kind, rest) = origin.split_once(':')?;
    let (mb, uid) = rest.split_once('/')?;
    Some((kind, MailboxId(mb.parse().ok()?), Uid(uid.parse().ok()?)))
}

async fn compose_page(
    state: &AppState,
    signed: &Signed,
    c: &Composed,
    error: Option<&str>,
    origin: &str,
) -> Response {
    let t = signed.t();
    let side = sidebar(state, signed, None).await;
    let choices = from_choices(state, signed, &c.from).await;
    let levels = &state.core.config().documents.secrecy_levels;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Soạn thư", "Compose")) }
                @if let Some(e) = error {
                    p class="error" role="alert" { (e) }
                }
                form method="post" action="/compose" enctype="multipart/form-data" class="compose stack" {
                    (csrf_input(&signed.session.csrf_token))
                    input type="hidden" name="in_reply_to" value=(c.in_reply_to.as_deref().unwrap_or_default());
                    input type="hidden" name="references" value=(c.references.join(" "));
                    input type="hidden" name="origin" value=(origin);
                    @if origin.starts_with("forward:") {
                        p class="muted" {
                            (t.s(
                                "Các tệp đính kèm của thư gốc sẽ được gửi kèm.",
                                "The original's attachments will be attached."
                            ))
                        }
                    }
                    @if choices.len() > 1 {
                        label for="from" { (t.s("Từ", "From")) }
                        select id="from" name="from" {
                            @for (value, label, selected) in &choices {
                                option value=(value) selected[*selected] { (label) }
                            }
                        }
                    }
                    label for="to" { (t.s("Đến", "To")) }
                    input id="to" name="to" type="text" value=(c.to) autocomplete="off" data-autocomplete list="to-list" aria-describedby="addr-hint";
                    datalist id="to-list" {}
                    label for="cc" { "Cc" }
                    input id="cc" name="cc" type="text" value=(c.cc) autocomplete="off" data-autocomplete list="cc-list";
                    datalist id="cc-list" {}
                    label for="bcc" { "Bcc" }
                    input id="bcc" name="bcc" type="text" value=(c.bcc) autocomplete="off" data-autocomplete list="bcc-list";
                    datalist id="bcc-list" {}
                    p id="addr-hint" class="muted" {
                        (t.s(
                            "Nhiều địa chỉ cách nhau bằng dấu phẩy. Gõ tên (có dấu hoặc không dấu) để tìm trong danh bạ.",
                            "Separate addresses with commas. Type a name (with or without accents) to look it up in the directory."
                        ))
                    }
                    label for="subject" { (t.s("Tiêu đề", "Subject")) }
                    input id="subject" name="subject" type="text" value=(c.subject);
                    label for="classification" { (t.s("Độ mật", "Classification")) }
                    select id="classification" name="classification" aria-describedby="classification-hint" {
                        option value=(NOT_CLASSIFIED) selected[!levels.iter().any(|l| l.id == c.classification)] {
                            (t.s("Thường", "Not classified"))
                        }
                        @for level in levels {
                            option value=(level.id) selected[level.id == c.classification] {
                                (if t.0 == Language::En { &level.name_en } else { &level.name })
                            }
                        }
                    }
                    p id="classification-hint" class="muted" {
                        (t.s(
                            "Văn bản mật (Mật, Tối mật, Tuyệt mật) không được gửi qua thư điện tử (Điều 9 Quy chế sử dụng thư điện tử).",
                            "Secret documents (Mật, Tối mật, Tuyệt mật) must not be sent by e-mail (Article 9 of the e-mail regulation)."
                        ))
                    }
                    label for="body" { (t.s("Nội dung", "Message")) }
                    textarea id="body" name="body" rows="14" { (c.body) }
                    label for="files" { (t.s("Tệp đính kèm", "Attachments")) }
                    input id="files" name="attachment" type="file" multiple;
                    div class="buttons" {
                        button type="submit" name="action" value="send" class="primary" { (t.s("Gửi", "Send")) }
                        " "
                        button type="submit" name="action" value="draft" { (t.s("Lưu nháp", "Save draft")) }
                    }
                }
            }
        }
    };
    page(t, t.s("Soạn thư", "Compose"), Some(&signed.session), body).into_response()
}

/// The compose form's sender choices (value, label, selected): one's own address, then each
/// unit mailbox delegated to one with `send-as` (as the unit) and with `send-on-behalf` (on
/// its behalf). Only a convenience: submission decides what is allowed. A choice not among
/// them (a right revoked meanwhile) is kept, so the refusal names it.
async fn from_choices(
    state: &AppState,
    signed: &Signed,
    current: &ComposeFrom,
) -> Vec<(String, String, bool)> {
    let t = signed.t();
    let who = &signed.session.principal;
    let me = if who.display_name.is_empty() {
        who.address.to_string()
    } else {
        format!("{} <{}>", who.display_name, who.address)
    };
    let mut choices = vec![(
        ComposeFrom::Own.form_value(),
        me.clone(),
        *current == ComposeFrom::Own,
    )];
    let units = match state.core.unit_senders(who).await {
        Ok(units) => units,
        Err(e) => {
            tracing::warn!(error = %e, "could not list the unit mailboxes one may send for");
            Vec::new()
        }
    };
    for unit in units {
        for (right, mode) in [
            (hopthu_model::DelegateRight::SendAs, SendMode::SendAs),
            (
                hopthu_model::DelegateRight::SendOnBehalf,
                SendMode::SendOnBehalf,
            ),
        ] {
            if !unit.rights.has(right) {
                continue;
            }
            let choice = ComposeFrom::Unit {
                address: unit.address.clone(),
                mode,
            };
            let label = match mode {
                SendMode::SendAs => format!("{} <{}>", unit.name, unit.address),
                SendMode::SendOnBehalf => format!(
                    "{me} {} {} <{}>",
                    t.s("thay mặt", "on behalf of"),
                    unit.name,
                    unit.address
                ),
            };
            let selected = *current == choice;
            choices.push((choice.form_value(), label, selected));
        }
    }
    if !choices.iter().any(|c| c.2) {
        choices.push((current.form_value(), current.form_value(), true));
    }
    choices
}

async fn compose(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut multipart: Multipart,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let mut c = Composed::default();
    let mut csrf = String::new();
    let mut action = String::new();
    let mut origin = String::new();
    let mut from = String::new();
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
        if name == "attachment" {
            let file_name = field.file_name().unwrap_or_default().to_string();
            let content_type = field
                .content_type()
                .unwrap_or("application/octet-stream")
                .to_string();
            let bytes = match field.bytes().await {
                Ok(b) => b,
                Err(e) => {
                    return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string());
                }
            };
            if file_name.is_empty() && bytes.is_empty() {
                continue; // the empty file input of a form without attachments
            }
            c.attachments.push(NewAttachment {
                name: file_name,
                content_type,
                bytes: bytes.to_vec(),
            });
            continue;
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => return crate::html::error_page(t, StatusCode::BAD_REQUEST, &e.to_string()),
        };
        match name.as_str() {
            "csrf" => csrf = value,
            "origin" => origin = value,
            "action" => action = value,
            "from" => from = value,
            "to" => c.to = value,
            "cc" => c.cc = value,
            "bcc" => c.bcc = value,
            "subject" => c.subject = value,
            "classification" => c.classification = value,
            "body" => c.body = value,
            "in_reply_to" if !value.trim().is_empty() => c.in_reply_to = Some(value),
            "references" => {
                c.references = value.split_whitespace().map(str::to_string).collect();
            }
            _ => {}
        }
    }
    if !signed.csrf_ok(&csrf) {
        return csrf_refused(t);
    }
    c.from = match ComposeFrom::parse(&from) {
        Ok(choice) => choice,
        Err(e) => {
            let mut r = compose_page(&state, &signed, &c, Some(&e.message), &origin).await;
            *r.status_mut() = StatusCode::BAD_REQUEST;
            return r;
        }
    };
    let who = &signed.session.principal;
    let parsed_origin = parse_origin(&origin);
    let mut to_send = c.clone();
    if let Some(("forward", mb, uid)) = parsed_origin {
        match state.core.message_view(who, mb, uid).await {
            Ok(view) => {
                let indices: Vec<u32> = view.parts.iter().map(|p| p.index).collect();
                match state.core.message_parts(who, mb, uid, &indices).await {
                    Ok(parts) => {
                        to_send
                            .attachments
                            .extend(parts.into_iter().map(|part| NewAttachment {
                                name: part.name,
                                content_type: part.content_type,
                                bytes: part.bytes,
                            }))
                    }
                    Err(e) => return core_error(t, &e),
                }
            }
            Err(e) => return core_error(t, &e),
        }
    }
    let result = if action == "draft" {
        state
            .core
            .save_draft(who, &to_send)
            .await
            .map(|_| "/mail?saved=1")
    } else {
        state
            .core
            .send_composed(who, &to_send)
            .await
            .map(|_| "/mail?sent=1")
    };
    match result {
        Ok(to) => {
            if let Some(("draft", mb, uid)) = parsed_origin {
                // The edited draft is replaced by the new one (or sent): remove the old copy.
                let mut deleted = Flags::new();
                deleted.insert(Flag::Deleted);
                let removed = match state
                    .core
                    .store_flags(who, mb, &[uid], FlagOp::Add, &deleted, None)
                    .await
                {
                    Ok(_) => state.core.expunge(who, mb, Some(&[uid])).await.map(|_| ()),
                    Err(e) => Err(e),
                };
                if let Err(e) = removed {
                    tracing::warn!(error = %e, "could not remove the edited draft");
                }
            }
            see_other(to)
        }
        Err(e) => {
            let msg = if action == "draft" {
                e.message.clone()
            } else {
                format!(
                    "{} {}",
                    t.s("Chưa gửi được thư:", "The message was not sent:"),
                    e.message
                )
            };
            let mut r = compose_page(&state, &signed, &c, Some(&msg), &origin).await;
            *r.status_mut() = match e.kind {
                ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
                ErrorKind::Forbidden => StatusCode::FORBIDDEN,
                ErrorKind::QuotaExceeded => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            r
        }
    }
}

// ---- live updates and autocomplete --------------------------------------------------------

/// Server-sent events: `mail` with the mailbox id whenever a mailbox of the signed-in account,
/// or of a unit mailbox it may read, changes (new mail, flags, moves). The page re-reads its list; nothing else is sent.
async fn events(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let signed = signed!(state, headers);
    // One's own mailbox and the unit mailboxes one may read (as they were when the page
    // opened; a grant or revocation shows at the next page).
    let mut accounts = vec![signed.session.principal.account];
    if let Ok(units) = state
        .core
        .readable_unit_mailboxes(&signed.session.principal)
        .await
    {
        accounts.extend(units.into_iter().map(|(m, _)| m.account));
    }
    let rx = state.core.subscribe();
    // The stream ends at shutdown, so an open page never holds the server up.
    let shutdown = state.shutdown.clone();
    let accounts = std::sync::Arc::new(accounts);
    let stream = futures_util::stream::unfold(rx, move |mut rx| {
        let shutdown = shutdown.clone();
        let accounts = accounts.clone();
        async move {
            loop {
                let received = tokio::select! {
                    r = rx.recv() => r,
                    () = shutdown.cancelled() => return None,
                };
                match received {
                    Ok(ev) if accounts.contains(&ev.account) => {
                        let event = Event::default()
                            .event("mail")
                            .data(ev.mailbox.0.to_string());
                        return Some((Ok::<_, Infallible>(event), rx));
                    }
                    Ok(_) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        return Some((Ok(Event::default().event("mail").data("*")), rx));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

#[derive(Deserialize, Default)]
pub(crate) struct AddressQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
struct Suggestion {
    name: String,
    address: String,
    detail: String,
    /// From one's own contacts (else the published directory).
    personal: bool,
}

/// Address look-up for the compose fields: one's own contacts first, then the published
/// directory, with the same diacritic folding as `/directory` (`Core::address_suggestions`).
async fn address_book(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AddressQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let query: String = q.q.trim().chars().take(100).collect();
    if query.chars().count() < 2 {
        return Json(Vec::<Suggestion>::new()).into_response();
    }
    let found = match state
        .core
        .address_suggestions(&signed.session.principal, &query, 10)
        .await
    {
        Ok(found) => found,
        Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
    };
    let t = signed.t();
    let out: Vec<Suggestion> = found
        .into_iter()
        .map(|s| Suggestion {
            name: s.name,
            address: s.address,
            detail: if s.personal && s.detail.is_empty() {
                t.s("Danh bạ cá nhân", "Personal contacts").to_string()
            } else {
                s.detail
            },
            personal: s.personal,
        })
        .collect();
    Json(out).into_response()
}

#[derive(Deserialize, Default)]
struct UnitLogQuery {
    #[serde(default)]
    unit: String,
}

/// `/unit-mailbox/log?unit=<unit address>`: for the unit mailbox's owner (the unit's head),
/// who did what in it, each delegate by name (Đ12); 403 for anyone else.
async fn unit_log(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<UnitLogQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let who = &signed.session.principal;
    let overview = match state
        .core
        .owned_unit_mailbox_overview(who, &q.unit, crate::admin::unit_mailbox::AUDIT_SHOWN)
        .await
    {
        Ok(o) => o,
        Err(e) => return core_error(t, &e),
    };
    let side = sidebar(&state, &signed, None).await;
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Hộp thư đơn vị", "Unit mailbox")) " " (overview.address) }
                h2 { (t.s("Người được ủy quyền", "Delegates")) }
                ul id="unit-delegates" {
                    @for d in &overview.delegates {
                        li { (d.delegate_address) " — " (d.rights.to_string()) }
                    }
                    @if overview.delegates.is_empty() {
                        li { (t.s("Chưa giao cho ai.", "Nobody yet.")) }
                    }
                }
                (crate::admin::unit_mailbox::audit_table(t, &overview))
            }
        }
    };
    page(
        t,
        t.s("Nhật ký hộp thư đơn vị", "Unit mailbox log"),
        Some(&signed.session),
        body,
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::web_session::Language;

    const HOSTILE: &str = r#""><script>alert(1)</script><img src=x onerror=alert(2)>"#;

    /// No tag or attribute of the hostile value survives as markup.
    fn assert_inert(out: &str) {
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<img "), "{out}");
    }

    #[test]
    fn message_lists_escape_subjects_and_senders() {
        let mut flags = Flags::new();
        flags.insert(Flag::Flagged);
        let m = MessageSummary {
            record: hopthu_core::MessageRecord {
                uid: Uid(7),
                blob: hopthu_core::BlobId::of(b"x"),
                size: 1,
                internal_date: 0,
                flags,
                modseq: 1,
            },
            from_name: HOSTILE.into(),
            from_address: "a@b.c".into(),
            subject: HOSTILE.into(),
            date: 0,
            has_attachments: true,
        };
        let out = list_rows(T(Language::Vi), MailboxId(3), &[m], 0).into_string();
        assert_inert(&out);
        assert!(
            out.contains(r#"aria-label="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"#),
            "{out}"
        );
        assert!(
            out.contains(r#"<a href="/mail/3/7">&quot;&gt;&lt;script&gt;"#),
            "{out}"
        );
    }

    #[test]
    fn addresses_are_escaped() {
        let out = address_line(&[
            ShownAddress {
                name: HOSTILE.into(),
                address: "x@y.z".into(),
            },
            ShownAddress {
                name: String::new(),
                address: "<b>@y.z".into(),
            },
        ])
        .into_string();
        assert_inert(&out);
        assert!(
            out.contains(r#"<span class="addr">&lt;x@y.z&gt;</span>, &lt;b&gt;@y.z"#),
            "{out}"
        );
    }

    #[test]
    fn the_frame_document_holds_the_sanitised_body_as_it_is() {
        let (safe, _) = crate::sanitize::clean(
            &format!("<p>{HOSTILE}</p><b>bold</b>"),
            HashMap::new(),
            false,
        );
        let out = body_document(&safe).into_string();
        assert_inert(&out);
        assert!(out.contains(&format!("<body>{safe}</body>")), "{out}");
        assert!(out.contains("<b>bold</b>"), "{out}");
        assert!(
            out.contains(BODY_CSS),
            "the style sheet is not altered: {out}"
        );
    }

    #[test]
    fn vietnamese_file_names_survive_downloads() {
        let h = content_disposition("attachment", "Báo cáo tháng 3 — Hòa An.pdf");
        assert!(
            h.starts_with(r#"attachment; filename="Bao cao thang 3 _ Hoa An.pdf""#),
            "{h}"
        );
        assert!(h.contains("filename*=UTF-8''B%C3%A1o%20c%C3%A1o"), "{h}");
    }
}
