//! The focal unit's export of a revoked mailbox before its retention ends and the sweep purges
//! it: a zip with one mboxrd file per folder (`INBOX.mbox`, `Sent.mbox`, `Du an/2026.mbox`…,
//! the same writer as the webmail's folder download) and `manifest.json` (the address, when,
//! and each folder's file and message count).
//!
//! **Rules**: only the focal unit (Đ5: it manages the system's mailboxes) and only a revoked
//! mailbox — a working person's mail is theirs to export, from their webmail. Every export is
//! in the audit log (`account.export`), with the counts.

use std::io::{Seek, Write};

use hopthu_store::{AccountState, LifecycleWrite};

use crate::{Actor, Core, Error, ErrorKind, NewAudit, Result};

/// What an export wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxExport {
    pub address: String,
    pub folders: usize,
    pub messages: usize,
    /// Bytes of mail (as stored), before compression.
    pub bytes: u64,
}

/// Messages read from the blob store at a time.
const BATCH: usize = 16;

impl Core {
    /// Writes the zip of a revoked mailbox to `out`. Refused (Forbidden) for anyone but the
    /// focal unit and for a mailbox that is not revoked; NotFound for an unknown address or a
    /// mailbox already purged (no folders left).
    pub async fn export_revoked_mailbox<W: Write + Seek>(
        &self,
        actor: &Actor,
        address: &str,
        out: W,
    ) -> Result<MailboxExport> {
        if !actor.is_focal() {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "chỉ đơn vị đầu mối được xuất hộp thư / only the focal unit exports mailboxes",
            ));
        }
        let address = address.trim().to_lowercase();
        let account = self
            .store
            .account_by_address(&address)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!("{address}: không có hộp thư này / no such mailbox"))
            })?;
        if account.state != AccountState::Revoked {
            return Err(Error::new(
                ErrorKind::Forbidden,
                format!(
                    "{address}: hộp thư chưa bị thu hồi, người dùng tự xuất thư của mình / \
                     the mailbox is not revoked; its owner exports their own mail"
                ),
            ));
        }
        let mut folders = self.store.mailboxes(account.id).await?;
        folders.retain(|f| !f.name.starts_with("Shared/") && f.name != "Shared");
        folders.sort_by(|a, b| {
            (a.name != "INBOX", a.name.as_str()).cmp(&(b.name != "INBOX", b.name.as_str()))
        });
        if folders.is_empty() {
            return Err(Error::not_found(format!(
                "{address}: dữ liệu đã bị xoá / the mailbox's data is already purged"
            )));
        }
        let mut zip = zip::ZipWriter::new(out);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(true);
        let zip_err = |e: zip::result::ZipError| {
            Error::new(
                ErrorKind::Temporary,
                format!("cannot write the export: {e}"),
            )
        };
        let io_err = |e: std::io::Error| {
            Error::new(
                ErrorKind::Temporary,
                format!("cannot write the export: {e}"),
            )
        };
        let mut manifest = Vec::new();
        let mut export = MailboxExport {
            address: address.clone(),
            folders: folders.len(),
            messages: 0,
            bytes: 0,
        };
        for folder in &folders {
            let file = format!("{}.mbox", folder.name);
            zip.start_file(file.as_str(), options).map_err(zip_err)?;
            let records = self.store.messages(folder.id).await?;
            for chunk in records.chunks(BATCH) {
                let bodies = self
                    .messages_bytes(chunk.iter().map(|r| r.blob.clone()).collect())
                    .await?;
                let mut buf = Vec::new();
                for (record, body) in chunk.iter().zip(bodies) {
                    let raw = body?;
                    export.bytes += raw.len() as u64;
                    crate::mbox::write_message(&mut buf, &raw, record.internal_date);
                }
                zip.write_all(&buf).map_err(io_err)?;
            }
            export.messages += records.len();
            manifest.push(serde_json::json!({
                "folder": folder.name, "file": file, "messages": records.len(),
            }));
        }
        let at = crate::now();
        zip.start_file("manifest.json", options).map_err(zip_err)?;
        let manifest = serde_json::json!({
            "address": address, "exported_at": at, "exported_by": actor.name,
            "format": "mboxrd", "folders": manifest,
        });
        zip.write_all(
            serde_json::to_string_pretty(&manifest)
                .unwrap_or_default()
                .as_bytes(),
        )
        .map_err(io_err)?;
        let mut out = zip.finish().map_err(zip_err)?;
        out.flush().map_err(io_err)?;
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: "account.export".into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(
                serde_json::json!({
                    "folders": export.folders, "messages": export.messages, "bytes": export.bytes,
                })
                .to_string(),
            ),
        }];
        self.store
            .write_lifecycle(&LifecycleWrite {
                at,
                audit: &audit,
                ..LifecycleWrite::default()
            })
            .await?;
        tracing::info!(address = %address, folders = export.folders, messages = export.messages, "revoked mailbox exported");
        Ok(export)
    }
}
