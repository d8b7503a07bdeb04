//! Export and import from the webmail: a message as `.eml` (its stored bytes), a folder as
//! mboxrd (streamed, a few messages read at a time), and the import of an mbox file or `.eml`
//! files into a folder. The whole upload is read and checked before anything is appended, and
//! every message goes through core's append (rights, quota, search index).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hopthu_core::mbox::{self, Imported, Malformed};
use hopthu_model::{MailboxId, Uid};
use maud::html;

use crate::AppState;
use crate::auth::{csrf_refused, signed_in};
use crate::html::{T, csrf_input, error_page, page, see_other};
use crate::mail::{content_disposition, core_error, folder_name};

/// The largest upload accepted by the import form.
pub(crate) const MAX_IMPORT: usize = 50 << 20;

/// Messages whose bytes are read together while streaming an mbox.
const EXPORT_BATCH: usize = 16;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/mail/{mailbox}/{uid}/eml", get(eml))
        .route("/mail/{mailbox}/mbox", get(mbox_download))
        .route(
            "/mail/{mailbox}/import",
            get(import_form)
                .post(import)
                // Room for the multipart framing around the largest upload.
                .layer(DefaultBodyLimit::max(MAX_IMPORT + (1 << 20))),
        )
}

pub(crate) fn download(bytes: Body, content_type: &'static str, name: &str) -> Response {
    let mut r = (StatusCode::OK, bytes).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&content_disposition("attachment", name)) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    r
}

async fn eml(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path((mailbox, uid)): Path<(i64, u32)>,
) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    match state
        .core
        .message_raw(&signed.session.principal, MailboxId(mailbox), Uid(uid))
        .await
    {
        Ok((_, raw)) => download(
            Body::from(raw),
            "message/rfc822",
            &format!("thu-{mailbox}-{uid}.eml"),
        ),
        Err(e) => core_error(t, &e),
    }
}

async fn mbox_download(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(mailbox): Path<i64>,
) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    let who = &signed.session.principal;
    let record = match state.core.mailbox_by_id(who, MailboxId(mailbox)).await {
        Ok(r) => r,
        Err(e) => return core_error(t, &e),
    };
    let records = match state.core.export_records(who, MailboxId(mailbox)).await {
        Ok(r) => r,
        Err(e) => return core_error(t, &e),
    };
    let core = state.core.clone();
    let batches: Vec<Vec<_>> = records.chunks(EXPORT_BATCH).map(<[_]>::to_vec).collect();
    let stream = futures_util::stream::unfold(
        (core, batches.into_iter()),
        |(core, mut batches)| async move {
            let batch = batches.next()?;
            let blobs = batch.iter().map(|r| r.blob.clone()).collect();
            let chunk = match core.messages_bytes(blobs).await {
                Ok(all) => {
                    let mut out = Vec::new();
                    for (record, raw) in batch.iter().zip(all) {
                        match raw {
                            Ok(raw) => mbox::write_message(&mut out, &raw, record.internal_date),
                            Err(e) => {
                                return Some((
                                    Err(std::io::Error::other(e.message)),
                                    (core, batches),
                                ));
                            }
                        }
                    }
                    Ok(Bytes::from(out))
                }
                Err(e) => Err(std::io::Error::other(e.message)),
            };
            Some((chunk, (core, batches)))
        },
    );
    let name = format!("{}.mbox", folder_name(t, &record));
    download(Body::from_stream(stream), "application/mbox", &name)
}

fn import_page(
    t: T,
    session: &hopthu_core::web_session::WebSession,
    mailbox: i64,
    folder: &str,
    error: Option<&str>,
) -> Response {
    let body = html! {
        main id="main" class="narrow" {
            h1 { (t.s("Nhập thư vào", "Import messages into")) " " (folder) }
            @if let Some(e) = error {
                p class="error" role="alert" id="import-error" { (e) }
            }
            p {
                (t.s(
                    "Chọn một tệp mbox hoặc một hay nhiều tệp .eml (tối đa 50 MiB). Tệp được kiểm tra toàn bộ trước khi nhập; nếu có lỗi thì không thư nào được nhập.",
                    "Choose an mbox file or one or more .eml files (50 MiB at most). The upload is checked in full first; if anything is wrong, nothing is imported."
                ))
            }
            form method="post" action={ "/mail/" (mailbox) "/import" } enctype="multipart/form-data" {
                (csrf_input(&session.csrf_token))
                label for="import-files" { (t.s("Tệp", "Files")) }
                " "
                input id="import-files" type="file" name="file" multiple accept=".mbox,.eml,message/rfc822,application/mbox";
                " "
                button class="primary" { (t.s("Nhập", "Import")) }
            }
            p { a href={ "/mail/" (mailbox) } { "← " (t.s("Quay lại thư mục", "Back to the folder")) } }
        }
    };
    page(t, t.s("Nhập thư", "Import messages"), Some(session), body).into_response()
}

async fn import_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(mailbox): Path<i64>,
) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    match state
        .core
        .mailbox_by_id(&signed.session.principal, MailboxId(mailbox))
        .await
    {
        Ok(record) => import_page(t, &signed.session, mailbox, &folder_name(t, &record), None),
        Err(e) => core_error(t, &e),
    }
}

/// What went wrong with which file, in the reader's language.
fn malformed_text(t: T, file: &str, m: &Malformed) -> String {
    match m {
        Malformed::Empty => format!("{}: {}", file, t.s("tệp rỗng.", "the file is empty.")),
        Malformed::NotMbox => format!(
            "{}: {}",
            file,
            t.s(
                "không phải tệp mbox (phải bắt đầu bằng dòng “From ”).",
                "not an mbox file (it must begin with a “From ” line)."
            )
        ),
        Malformed::NotMessage(n) => format!(
            "{}: {} {} {}",
            file,
            t.s("thư thứ", "message"),
            n,
            t.s(
                "không phải thư điện tử hợp lệ (thiếu phần tiêu đề).",
                "is not a valid e-mail message (no header section)."
            )
        ),
    }
}

async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(mailbox): Path<i64>,
    mut multipart: Multipart,
) -> Response {
    let signed = match signed_in(&state, &headers, false).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let t = signed.t();
    let who = &signed.session.principal;
    let record = match state.core.mailbox_by_id(who, MailboxId(mailbox)).await {
        Ok(r) => r,
        Err(e) => return core_error(t, &e),
    };
    let folder = folder_name(t, &record);
    let mut csrf = String::new();
    let mut files: Vec<(String, Bytes)> = Vec::new();
    let mut total = 0usize;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return error_page(
                    t,
                    StatusCode::BAD_REQUEST,
                    &format!("{}: {e}", t.s("Biểu mẫu không đọc được", "Unreadable form")),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "csrf" {
            csrf = field.text().await.unwrap_or_default();
            continue;
        }
        if name != "file" {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => return error_page(t, StatusCode::BAD_REQUEST, &e.to_string()),
        };
        if file_name.is_empty() && bytes.is_empty() {
            continue;
        }
        total += bytes.len();
        if total > MAX_IMPORT {
            let mut r = import_page(
                t,
                &signed.session,
                mailbox,
                &folder,
                Some(t.s(
                    "Tệp tải lên vượt quá 50 MiB.",
                    "The upload is larger than 50 MiB.",
                )),
            );
            *r.status_mut() = StatusCode::PAYLOAD_TOO_LARGE;
            return r;
        }
        files.push((file_name, bytes));
    }
    if !signed.csrf_ok(&csrf) {
        return csrf_refused(t);
    }
    let refuse = |message: &str, status: StatusCode| {
        let mut r = import_page(t, &signed.session, mailbox, &folder, Some(message));
        *r.status_mut() = status;
        r
    };
    if files.is_empty() {
        return refuse(
            t.s("Chưa chọn tệp nào.", "No file was chosen."),
            StatusCode::BAD_REQUEST,
        );
    }
    // Every file is read in full before anything is appended.
    let mut messages: Vec<Imported> = Vec::new();
    let mut origin: Vec<(String, usize)> = Vec::new();
    for (name, bytes) in &files {
        let is_eml = name.to_ascii_lowercase().ends_with(".eml") || !bytes.starts_with(b"From ");
        let is_mbox = name.to_ascii_lowercase().ends_with(".mbox") || !is_eml;
        let parsed = if is_mbox {
            mbox::parse_mbox(bytes)
        } else {
            mbox::parse_eml(bytes).map(|m| vec![m])
        };
        match parsed {
            Ok(list) => {
                for (i, m) in list.into_iter().enumerate() {
                    origin.push((name.clone(), i + 1));
                    messages.push(m);
                }
            }
            Err(m) => return refuse(&malformed_text(t, name, &m), StatusCode::BAD_REQUEST),
        }
    }
    match state
        .core
        .import_messages(who, MailboxId(mailbox), messages)
        .await
    {
        Ok(_) => see_other(&format!("/mail/{mailbox}")),
        Err((0, e)) => refuse(&e.message, StatusCode::BAD_REQUEST),
        Err((n, e)) => {
            let (file, index) = &origin[n - 1];
            let done = n - 1;
            refuse(
                &format!(
                    "{file}, {} {index}: {}. {} {done} {}",
                    t.s("thư thứ", "message"),
                    e.message,
                    t.s("Đã nhập", "Imported"),
                    t.s("thư trước đó.", "messages before it."),
                ),
                StatusCode::BAD_REQUEST,
            )
        }
    }
}
