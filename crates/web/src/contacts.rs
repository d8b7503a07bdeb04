//! Personal contacts in the webmail: `/contacts` lists one's own cards (the book CardDAV
//! serves at `/dav/addressbooks/<address>/personal/`), with a form to add one;
//! `/contacts?edit=<name>` fills the form with a card to change; `POST /contacts` adds,
//! `POST /contacts/{name}` saves a change, `POST /contacts/{name}/delete` deletes. Every form
//! carries the session's CSRF token. The rules (what a card must hold, the ETag check against
//! a change made meanwhile by a phone) are in `hopthu_core::contacts`.

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use hopthu_core::contacts::{Contact, ContactFields, ContactOutcome, Precondition};
use maud::html;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{csrf_refused, signed_in};
use crate::html::{csrf_input, page, see_other, url};
use crate::mail::{core_error, sidebar};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/contacts", get(list).post(add))
        .route("/contacts/{name}", post(save))
        .route("/contacts/{name}/delete", post(remove))
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
    edit: String,
    #[serde(default)]
    saved: Option<u8>,
    #[serde(default)]
    deleted: Option<u8>,
}

async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ListQuery>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    let who = &signed.session.principal;
    let contacts = match state.core.contact_list(who).await {
        Ok(c) => c,
        Err(e) => return core_error(t, &e),
    };
    let editing: Option<&Contact> = contacts.iter().find(|c| c.record.name == q.edit);
    let dav_url = format!(
        "https://{}/dav/addressbooks/{}/personal/",
        state.core.config().public.host,
        who.address
    );
    let side = sidebar(&state, &signed, None).await;
    let (action, legend) = match editing {
        Some(c) => (
            format!("/contacts/{}", url(&c.record.name)),
            t.s("Sửa danh thiếp", "Edit the contact"),
        ),
        None => (
            "/contacts".to_string(),
            t.s("Thêm người liên hệ", "Add a contact"),
        ),
    };
    let value = |f: fn(&Contact) -> String| editing.map(f).unwrap_or_default();
    let body = html! {
        div class="layout" {
            (side)
            main id="main" {
                h1 { (t.s("Danh bạ cá nhân", "Personal contacts")) }
                @if q.saved.is_some() {
                    p class="ok" role="status" id="saved" { (t.s("Đã lưu.", "Saved.")) }
                }
                @if q.deleted.is_some() {
                    p class="ok" role="status" id="deleted" { (t.s("Đã xoá.", "Deleted.")) }
                }
                form method="post" action=(action) id="contact-form" {
                    (csrf_input(&signed.session.csrf_token))
                    fieldset {
                        legend { (legend) }
                        label for="name" { (t.s("Họ và tên", "Full name")) }
                        input id="name" name="name" required maxlength="200" value=(value(|c| c.summary.name.clone()));
                        label for="email" { (t.s("Địa chỉ thư (cách nhau bởi dấu phẩy)", "E-mail addresses (separated by commas)")) }
                        input id="email" name="email" maxlength="1000" value=(value(|c| c.summary.emails.join(", ")));
                        label for="phone" { (t.s("Điện thoại", "Phone")) }
                        input id="phone" name="phone" type="tel" maxlength="100" value=(value(|c| c.summary.phones.first().cloned().unwrap_or_default()));
                        label for="org" { (t.s("Cơ quan", "Organisation")) }
                        input id="org" name="org" maxlength="300" value=(value(|c| c.summary.org.clone()));
                        label for="note" { (t.s("Ghi chú", "Note")) }
                        textarea id="note" name="note" rows="3" maxlength="2000" { (value(|c| c.summary.note.clone())) }
                        button type="submit" class="primary" { (t.s("Lưu", "Save")) }
                        @if editing.is_some() {
                            " "
                            a href="/contacts" { (t.s("Huỷ", "Cancel")) }
                        }
                    }
                }
                h2 { (t.s("Người liên hệ", "Contacts")) " (" (contacts.len()) ")" }
                div class="scroll" {
                    table class="grid" id="contacts" {
                        thead {
                            tr {
                                th scope="col" { (t.s("Họ và tên", "Name")) }
                                th scope="col" { (t.s("Địa chỉ thư", "E-mail")) }
                                th scope="col" { (t.s("Điện thoại", "Phone")) }
                                th scope="col" { (t.s("Cơ quan", "Organisation")) }
                                th scope="col" { span class="sr" { (t.s("Thao tác", "Actions")) } }
                            }
                        }
                        tbody {
                            @for c in &contacts {
                                tr data-card=(c.record.name) {
                                    td { (c.summary.name) }
                                    td {
                                        @for (i, e) in c.summary.emails.iter().enumerate() {
                                            @if i > 0 { ", " }
                                            a href={ "/compose?to=" (url(e)) } { (e) }
                                        }
                                    }
                                    td { (c.summary.phones.join(", ")) }
                                    td { (c.summary.org) }
                                    td {
                                        a href={ "/contacts?edit=" (url(&c.record.name)) } { (t.s("Sửa", "Edit")) }
                                        " "
                                        form method="post" action={ "/contacts/" (url(&c.record.name)) "/delete" } class="inline" {
                                            (csrf_input(&signed.session.csrf_token))
                                            input type="hidden" name="etag" value=(c.record.etag);
                                            button class="link" { (t.s("Xoá", "Delete")) }
                                        }
                                    }
                                }
                            }
                            @if contacts.is_empty() {
                                tr { td colspan="5" { (t.s("Chưa có người liên hệ nào.", "No contact yet.")) } }
                            }
                        }
                    }
                }
                h2 { (t.s("Đồng bộ với điện thoại (CardDAV)", "Sync with a phone (CardDAV)")) }
                p {
                    (t.s("Địa chỉ CardDAV, đăng nhập bằng địa chỉ thư và mật khẩu của bạn:", "CardDAV address; sign in with your address and password:"))
                    " "
                    code id="dav-url" { (dav_url) }
                    " "
                    (t.s("(danh bạ công khai ở cùng chỗ, mục «directory», chỉ đọc)", "(the published directory is beside it, «directory», read-only)"))
                }
            }
        }
    };
    page(t, t.s("Danh bạ", "Contacts"), Some(&signed.session), body).into_response()
}

#[derive(Deserialize, Default)]
struct ContactForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    org: String,
    #[serde(default)]
    note: String,
}

impl ContactForm {
    fn fields(self) -> ContactFields {
        ContactFields {
            name: self.name,
            email: self.email,
            phone: self.phone,
            org: self.org,
            note: self.note,
        }
    }
}

async fn add(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<ContactForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    match state
        .core
        .save_contact_form(&signed.session.principal, None, &f.fields())
        .await
    {
        Ok(_) => see_other("/contacts?saved=1"),
        Err(e) => core_error(t, &e),
    }
}

async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<ContactForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    match state
        .core
        .save_contact_form(&signed.session.principal, Some(&name), &f.fields())
        .await
    {
        Ok(_) => see_other("/contacts?saved=1"),
        Err(e) => core_error(t, &e),
    }
}

#[derive(Deserialize, Default)]
struct DeleteForm {
    #[serde(default)]
    csrf: String,
    /// The ETag the list showed: a card changed since (by a phone) is not deleted unseen.
    #[serde(default)]
    etag: String,
}

async fn remove(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Form(f): Form<DeleteForm>,
) -> Response {
    let signed = signed!(state, headers);
    let t = signed.t();
    if !signed.csrf_ok(&f.csrf) {
        return csrf_refused(t);
    }
    let expect = if f.etag.is_empty() {
        Precondition::Present
    } else {
        Precondition::Etag(f.etag)
    };
    match state
        .core
        .delete_contact(&signed.session.principal, &name, expect)
        .await
    {
        Ok(ContactOutcome::Done { .. }) => see_other("/contacts?deleted=1"),
        Ok(ContactOutcome::PreconditionFailed) => crate::html::error_page(
            t,
            axum::http::StatusCode::CONFLICT,
            t.s(
                "Danh thiếp vừa được thay đổi ở nơi khác, hãy tải lại trang.",
                "The contact was changed meanwhile: reload the page.",
            ),
        ),
        Err(e) => core_error(t, &e),
    }
}
