//! "My account is compromised" (Đ13.4, SPEC §7): one action by the owner locks the mailbox,
//! ends every session, and starts the reset.
//!
//! [`Core::report_compromised`] replaces the password by a random one nobody is told (so no
//! sign-in works and every IMAP/POP3 session ends at its next check, `Core::still_valid`),
//! deletes the web sessions, writes `account.compromised` to the audit log in the same
//! transaction, and tells the focal unit (and the person's unit mailbox, when the directory
//! knows it) what to do: have the agency confirm in writing, then reset the password in the
//! console (`/admin`), which issues a one-time password the owner must change at once. Mail
//! keeps arriving meanwhile.
//!
//! The report also files an incident (category `compromised`, severity high, the owner as
//! reporter; `incidents.rs`, so it has the same deadline and messages as any other) that
//! locks the account: a new password for it — the console's reset ([`Core::reset_password`])
//! or `hopthu account password` ([`Core::set_password_of`]) — is refused until the agency's
//! written confirmation is attached ([`ConfirmationFile`]: a PDF or an image, at most
//! [`CONFIRMATION_MAX_BYTES`]). With it, the file is kept (a blob, named by the incident's
//! `incident_confirmations` row), the incident resolved with a note naming it and the audit
//! row of the reset names it, all in the reset's one transaction
//! ([`hopthu_store::LifecycleEffect::ResolveCompromise`]).

use std::net::IpAddr;

use std::sync::Arc;

use hopthu_model::EmailAddress;
use hopthu_store::{Confirmation, LifecycleEffect, NewAudit, PutBody};

use crate::accounts::{Secret, generate_password};
use crate::incidents::IncidentInput;
use crate::{Core, Envelope, Error, Principal, Result, now};

/// The largest written confirmation accepted (a scanned page or a signed PDF).
pub const CONFIRMATION_MAX_BYTES: usize = 10 * 1024 * 1024;

/// The agency's written confirmation attached to a compromised account's password reset.
#[derive(Debug, Clone)]
pub struct ConfirmationFile {
    /// The file's name as uploaded (only its last path segment is kept).
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// What a file is, from its first bytes: a PDF or an image (PNG, JPEG, TIFF, WebP), with the
/// media type and extension kept; anything else is `None`.
pub fn confirmation_kind(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    if bytes.starts_with(b"%PDF-") {
        Some(("application/pdf", "pdf"))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(("image/jpeg", "jpg"))
    } else if bytes.starts_with(b"II*\0") || bytes.starts_with(b"MM\0*") {
        Some(("image/tiff", "tif"))
    } else if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else {
        None
    }
}

/// The name kept for an uploaded file: its last path segment without control characters, at
/// most 200 characters; `xac-nhan.<ext>` when nothing is left.
fn clean_file_name(name: &str, ext: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    let clean = clean.trim();
    if clean.is_empty() || clean == "." || clean == ".." {
        format!("xac-nhan.{ext}")
    } else {
        clean.to_string()
    }
}

/// A compromised account's reset, prepared: the effect and audit row that resolve its incident
/// in the reset's transaction, and what to do after the commit.
pub(crate) struct CompromiseResolution {
    pub effect: LifecycleEffect,
    pub audit: NewAudit,
    /// For the reset's own audit row.
    pub summary: serde_json::Value,
    incident: i64,
    put: PutBody,
    bytes: Arc<Vec<u8>>,
}

impl Core {
    /// Locks the principal's mailbox after its owner reported it compromised.
    pub async fn report_compromised(&self, who: &Principal, ip: IpAddr) -> Result<()> {
        let secret = format!("{}{}", generate_password(), generate_password());
        let hash = self.hash_in_turn(secret, Secret::Generated).await?;
        let address = who.address.to_string();
        let effects = [LifecycleEffect::SetPassword {
            account: who.account,
            hash,
            must_change: true,
        }];
        let audit = [NewAudit {
            actor: address.clone(),
            action: "account.compromised".into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(serde_json::json!({ "ip": ip.to_string(), "locked": true }).to_string()),
        }];
        self.replace_password(who.account, &effects, &audit).await?;
        tracing::warn!(%address, %ip, "mailbox reported compromised and locked");
        // The incident that keeps it locked until the reset with a confirmation (one at a
        // time: a second report while one is open adds nothing).
        let incident = match self.open_compromise(&address).await? {
            Some(open) => open.id,
            None => {
                let input = IncidentInput {
                    reporter: address.clone(),
                    summary:
                        "Hộp thư bị mất kiểm soát hoặc lộ mật khẩu, đã khoá (Điều 13 khoản 4) \
                              / mailbox reported compromised and locked"
                            .into(),
                    details: format!(
                        "Người dùng tự báo từ địa chỉ IP {ip}. Hộp thư đã bị khoá; cấp lại mật khẩu \
                         kèm văn bản xác nhận của cơ quan để mở lại.\n\
                         Reported by its owner from IP address {ip}. The mailbox is locked; reset \
                         the password with the agency's written confirmation attached to reopen it."
                    ),
                    happened_at: Some(now()),
                    message_ref: None,
                    category: Some("compromised".into()),
                    severity: Some("high".into()),
                };
                self.file_incident_locking(&address, &input, true).await?.id
            }
        };

        let (_, focal) = self.notice_issuer().await;
        let mut recipients = vec![focal];
        if let Some(person) = self
            .store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == address)
            && let Some(unit) = self
                .store
                .units()
                .await?
                .into_iter()
                .find(|u| u.id == person.unit)
            && !recipients.contains(&unit.address)
        {
            recipients.push(unit.address);
        }
        let recipients: Vec<EmailAddress> = recipients
            .iter()
            .filter_map(|r| EmailAddress::parse(r).ok())
            .collect();
        let message = report(
            &self.config.domain,
            &self.config.hostname,
            &who.display_name,
            &address,
            &ip.to_string(),
            incident,
            &recipients,
        );
        let envelope = Envelope {
            mail_from: None,
            recipients,
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(%address, error = %e, "compromise report not delivered");
        }
        Ok(())
    }

    /// Before a new password for `address`: `Ok(None)` when it is not locked as compromised
    /// (and no confirmation came); the resolution to write with the password when it is and
    /// `confirmation` is a PDF or an image within the limit; otherwise a refusal saying why,
    /// with nothing written (a body put in the blob store is not referenced and goes with the
    /// next collection).
    pub(crate) async fn compromise_resolution(
        &self,
        actor_name: &str,
        address: &str,
        confirmation: Option<ConfirmationFile>,
    ) -> Result<Option<CompromiseResolution>> {
        let open = self.open_compromise(address).await?;
        let (incident, file) = match (open, confirmation) {
            (None, None) => return Ok(None),
            (None, Some(_)) => {
                return Err(Error::invalid(format!(
                    "{address}: hộp thư không bị khoá vì báo mất kiểm soát, không cần văn bản xác nhận; \
                     không thay đổi gì / the mailbox is not locked as compromised: no confirmation is \
                     needed; nothing was changed"
                )));
            }
            (Some(i), None) => {
                return Err(Error::invalid(format!(
                    "{address}: hộp thư đã bị khoá vì báo mất kiểm soát (sự cố số {id}); chỉ cấp lại \
                     mật khẩu khi đính kèm văn bản xác nhận của cơ quan (tệp PDF hoặc ảnh, Điều 13 \
                     khoản 4); không thay đổi gì / the mailbox is locked as compromised (incident {id}): \
                     a new password needs the agency's written confirmation attached (a PDF or an \
                     image, article 13.4); nothing was changed",
                    id = i.id
                )));
            }
            (Some(i), Some(file)) => (i, file),
        };
        if file.bytes.is_empty() {
            return Err(Error::invalid(
                "văn bản xác nhận rỗng; không thay đổi gì / the confirmation file is empty; nothing was changed",
            ));
        }
        if file.bytes.len() > CONFIRMATION_MAX_BYTES {
            return Err(Error::invalid(format!(
                "văn bản xác nhận quá lớn (tối đa {} MB); không thay đổi gì / the confirmation is \
                 larger than {} MB; nothing was changed",
                CONFIRMATION_MAX_BYTES >> 20,
                CONFIRMATION_MAX_BYTES >> 20
            )));
        }
        let Some((content_type, ext)) = confirmation_kind(&file.bytes) else {
            return Err(Error::invalid(
                "văn bản xác nhận phải là tệp PDF hoặc ảnh (PNG, JPEG, TIFF, WebP); không thay đổi gì \
                 / the confirmation must be a PDF or an image (PNG, JPEG, TIFF, WebP); nothing was changed",
            ));
        };
        let file_name = clean_file_name(&file.file_name, ext);
        let size = file.bytes.len() as u64;
        let bytes = Arc::new(file.bytes);
        let put = self.store.put_body(bytes.clone()).await?;
        let sha256 = put.id.as_str().to_string();
        let at = now();
        let note = format!(
            "Đã cấp lại mật khẩu kèm văn bản xác nhận của cơ quan: {file_name} (SHA-256 {sha256}), \
             người cấp {actor_name} / password reset with the agency's written confirmation {file_name}"
        );
        let summary = serde_json::json!({
            "incident": incident.id,
            "file": file_name,
            "sha256": sha256,
            "content_type": content_type,
            "size": size,
        });
        let audit = NewAudit {
            actor: actor_name.to_string(),
            action: "incident.resolve".into(),
            target: format!("incident:{}", incident.id),
            before: Some(
                serde_json::json!({
                    "status": incident.status, "assignee": incident.assignee,
                    "escalated": incident.escalated,
                })
                .to_string(),
            ),
            after: Some(
                serde_json::json!({
                    "status": "resolved", "note": note, "confirmation": summary,
                })
                .to_string(),
            ),
        };
        Ok(Some(CompromiseResolution {
            effect: LifecycleEffect::ResolveCompromise {
                incident: incident.id,
                note,
                confirmation: Confirmation {
                    blob: sha256,
                    file_name,
                    content_type: content_type.into(),
                    size,
                    added_by: actor_name.to_string(),
                    added_at: at,
                },
            },
            audit,
            summary,
            incident: incident.id,
            put,
            bytes,
        }))
    }

    /// Writes a new password for `account` in one transaction with its audit row (`action`,
    /// by `actor`) and, for a mailbox locked as compromised, the incident's resolution and its
    /// confirmation ([`Self::compromise_resolution`]); then settles the resolution.
    pub(crate) async fn write_password(
        &self,
        actor: &crate::Actor,
        action: &str,
        (account, address): (hopthu_model::AccountId, &str),
        (hash, must_change): (String, bool),
        resolution: Option<CompromiseResolution>,
    ) -> Result<()> {
        let mut effects = vec![hopthu_store::LifecycleEffect::SetPassword {
            account,
            hash,
            must_change,
        }];
        let mut after = serde_json::json!({ "must_change_password": must_change });
        if let Some(r) = &resolution {
            effects.push(r.effect.clone());
            after["confirmation"] = r.summary.clone();
        }
        let mut audit = vec![crate::NewAudit {
            actor: actor.name.clone(),
            action: action.into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(after.to_string()),
        }];
        if let Some(r) = &resolution {
            audit.push(r.audit.clone());
        }
        self.replace_password(account, &effects, &audit).await?;
        if let Some(r) = resolution {
            self.compromise_resolved(r).await;
        }
        Ok(())
    }

    /// After the reset's commit: the body made safe from a collector on another node, and the
    /// reporter told that the incident is resolved. The reset stands either way: a failure
    /// here is logged.
    pub(crate) async fn compromise_resolved(&self, r: CompromiseResolution) {
        if let Err(e) = self.store.settle_body(&r.put, r.bytes).await {
            tracing::error!(incident = r.incident, error = %e, "confirmation body not settled");
        }
        match self.incident_view_of(r.incident).await {
            Ok(view) => self.tell_reporter(&view, "Đã xử lý xong / resolved").await,
            Err(e) => tracing::warn!(incident = r.incident, error = %e, "incident not read back"),
        }
    }

    /// The written confirmation kept with a compromised account's incident: its record and
    /// bytes, for whoever may see the incident.
    pub async fn incident_confirmation(
        &self,
        actor: &crate::Actor,
        id: i64,
    ) -> Result<Option<(Confirmation, Vec<u8>)>> {
        self.incident(actor, id).await?;
        let Some(c) = self.store.incident_confirmation(id).await? else {
            return Ok(None);
        };
        let blob = hopthu_store::BlobId::parse(&c.blob)
            .ok_or_else(|| Error::new(crate::ErrorKind::Internal, "confirmation blob name"))?;
        let bytes = self.store.blobs().get(&blob).await?;
        Ok(Some((c, bytes)))
    }
}

/// The report to the focal unit, Vietnamese first, then English.
fn report(
    domain: &str,
    hostname: &str,
    name: &str,
    address: &str,
    ip: &str,
    incident: i64,
    to: &[EmailAddress],
) -> Vec<u8> {
    let at = now();
    let to: Vec<String> = to.iter().map(|a| format!("<{a}>")).collect();
    let name = name.replace(['\r', '\n'], " ");
    let body = format!(
        "{name} <{address}> báo hộp thư bị mất kiểm soát hoặc lộ mật khẩu (Điều 13.4), từ địa chỉ IP {ip}, lúc {}.\r\n\
         Hộp thư đã bị khoá: mọi phiên đăng nhập đã kết thúc và mật khẩu cũ không còn dùng được; thư đến vẫn được nhận.\r\n\
         Đã mở sự cố số {incident} (mức độ cao).\r\n\
         Việc cần làm: cơ quan của người dùng xác nhận bằng văn bản; sau đó cấp lại mật khẩu tại trang quản trị (/admin) \
         kèm văn bản xác nhận, người dùng phải đổi mật khẩu ngay khi đăng nhập.\r\n\
         \r\n\
         {name} <{address}> reported the mailbox compromised (article 13.4), from IP address {ip}, at {}.\r\n\
         The mailbox is locked: every session has ended and the old password no longer works; incoming mail is still kept.\r\n\
         Incident {incident} is open (high severity).\r\n\
         Next: the user's agency confirms in writing; then reset the password in the console (/admin) with the \
         confirmation attached, and the user must change it at the first sign-in.\r\n",
        crate::dsn::rfc2822_date(at),
        crate::dsn::rfc2822_date(at),
    );
    crate::dsn::system_message(
        domain,
        hostname,
        &to.join(", "),
        &format!("Báo mất kiểm soát hộp thư {address} / Mailbox reported compromised"),
        "compromised",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::{clean_file_name, confirmation_kind, report};

    #[test]
    fn a_confirmation_is_a_pdf_or_an_image_with_a_plain_name() {
        assert_eq!(
            confirmation_kind(b"%PDF-1.7\n"),
            Some(("application/pdf", "pdf"))
        );
        assert_eq!(
            confirmation_kind(&[0xFF, 0xD8, 0xFF, 0xE0]),
            Some(("image/jpeg", "jpg"))
        );
        assert_eq!(
            confirmation_kind(b"\x89PNG\r\n\x1a\n.."),
            Some(("image/png", "png"))
        );
        assert_eq!(confirmation_kind(b"<html>"), None);
        assert_eq!(confirmation_kind(b""), None);
        assert_eq!(
            clean_file_name("C:\\Scan\\xác nhận.pdf", "pdf"),
            "xác nhận.pdf"
        );
        assert_eq!(clean_file_name("../../etc/x\r\n.pdf", "pdf"), "x.pdf");
        assert_eq!(clean_file_name("", "png"), "xac-nhan.png");
    }
    use hopthu_model::EmailAddress;

    #[test]
    fn the_report_names_the_mailbox_and_the_next_steps() {
        let to = [EmailAddress::parse("sokhcn@caobang.gov.vn").unwrap()];
        let raw = report(
            "caobang.gov.vn",
            "mail.caobang.gov.vn",
            "Nông Văn Đạt\r\nBcc: x@example.org",
            "datnv@caobang.gov.vn",
            "192.0.2.7",
            42,
            &to,
        );
        let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            mail.subject(),
            Some("Báo mất kiểm soát hộp thư datnv@caobang.gov.vn / Mailbox reported compromised")
        );
        let body = mail.body_text(0).unwrap();
        assert!(body.contains("từ địa chỉ IP 192.0.2.7"), "{body}");
        assert!(body.contains("cấp lại mật khẩu"), "{body}");
        assert!(body.contains("sự cố số 42"), "{body}");
        assert!(
            mail.bcc().is_none(),
            "a display name cannot add header lines"
        );
    }
}
