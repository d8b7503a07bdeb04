//! `POST /admin/export`: the focal unit downloads a revoked mailbox as a zip of mbox files
//! before the sweep purges it (`Core::export_revoked_mailbox`; the unit page offers it beside
//! each revoked person). The zip is written to a private file under
//! `data_dir/console-exports/`, unlinked as soon as it is open again, and streamed from there:
//! a large mailbox is never held in memory, and nothing is left on disk.

use axum::body::Body;
use axum::extract::{Form, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;

use super::admin_form_or_return;
use crate::AppState;

#[derive(Deserialize, Default)]
pub(super) struct ExportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

pub(super) async fn export(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<ExportForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let dir = state.core.config().data_dir.join("console-exports");
    let path = dir.join(format!(
        "export-{}.zip",
        hopthu_core::web_session::new_token()
    ));
    let opened = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
    });
    let file = match opened {
        Ok(f) => f,
        Err(e) => {
            return c.error(&hopthu_core::Error::new(
                hopthu_core::ErrorKind::Temporary,
                format!("cannot write the export: {e}"),
            ));
        }
    };
    // Gone from the folder at once; the open file stays readable until it is streamed.
    let _ = std::fs::remove_file(&path);
    let result = state
        .core
        .export_revoked_mailbox(&c.actor, &form.address, &file)
        .await;
    let export = match result {
        Ok(e) => e,
        Err(e) => return c.error(&e),
    };
    use std::io::Seek;
    let mut file = file;
    if let Err(e) = file.rewind() {
        return c.error(&hopthu_core::Error::new(
            hopthu_core::ErrorKind::Temporary,
            format!("cannot read the export: {e}"),
        ));
    }
    let stream = tokio_util::io::ReaderStream::new(tokio::fs::File::from_std(file));
    let name = format!("{}.zip", export.address.replace('@', "_at_"));
    crate::export::download(Body::from_stream(stream), "application/zip", &name)
}
