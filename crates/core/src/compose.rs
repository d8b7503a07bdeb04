//! Composing in the webmail: address lists as typed, the MIME message built with
//! mail-builder (UTF-8 subject and names in RFC 2047, attachment names in RFC 2231), sending
//! through [`Core::submit`] and saving drafts to Drafts.

use hopthu_model::{EmailAddress, Flag, Flags, MailboxId, Uid};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as BuildAddress;

use crate::{Core, Error, Principal, Result, SpecialUse, submit::Submitted};

/// A file attached in the compose form.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What the compose form holds.
#[derive(Debug, Clone, Default)]
pub struct Composed {
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<NewAttachment>,
}

/// Splits a typed address list (`,` `;` or new lines; `Name <a@b>` or `a@b`).
pub fn parse_address_list(list: &str) -> Result<Vec<EmailAddress>> {
    let mut out: Vec<EmailAddress> = Vec::new();
    for item in list.split([',', ';', '\n']) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let address = match (item.rfind('<'), item.rfind('>')) {
            (Some(a), Some(b)) if a < b => &item[a + 1..b],
            _ => item,
        };
        let parsed = EmailAddress::parse(address.trim()).map_err(|_| {
            Error::invalid(format!("địa chỉ không hợp lệ / invalid address: {address}"))
        })?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(out)
}

fn clean_header(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

fn build_list(list: &[EmailAddress]) -> BuildAddress<'static> {
    BuildAddress::new_list(
        list.iter()
            .map(|a| BuildAddress::new_address(None::<String>, a.to_string()))
            .collect(),
    )
}

impl Core {
    /// Builds the message of a compose form. `Bcc:` is written only when `keep_bcc` (a
    /// draft, the Sent copy is not built from this).
    pub fn build_message(
        &self,
        who: &Principal,
        composed: &Composed,
        keep_bcc: bool,
    ) -> Result<Vec<u8>> {
        let to = parse_address_list(&composed.to)?;
        let cc = parse_address_list(&composed.cc)?;
        let bcc = parse_address_list(&composed.bcc)?;
        let mut builder = MessageBuilder::new()
            .from((who.display_name.clone(), who.address.to_string()))
            .subject(clean_header(&composed.subject))
            .date(chrono::Utc::now().timestamp())
            .message_id(format!(
                "{:016x}.{}@{}",
                rand::random::<u64>(),
                crate::now(),
                self.config.hostname
            ))
            .header(
                "User-Agent",
                mail_builder::headers::raw::Raw::new("hopthu webmail"),
            )
            .text_body(composed.body.replace("\r\n", "\n").replace('\n', "\r\n"));
        if !to.is_empty() {
            builder = builder.to(build_list(&to));
        }
        if !cc.is_empty() {
            builder = builder.cc(build_list(&cc));
        }
        if keep_bcc && !bcc.is_empty() {
            builder = builder.bcc(build_list(&bcc));
        }
        if let Some(id) = &composed.in_reply_to {
            builder = builder.in_reply_to(clean_header(id).trim_matches(['<', '>']).to_string());
        }
        if !composed.references.is_empty() {
            builder = builder.references(
                composed
                    .references
                    .iter()
                    .map(|r| clean_header(r).trim_matches(['<', '>']).to_string())
                    .collect::<Vec<_>>(),
            );
        }
        for a in &composed.attachments {
            let name = clean_header(&a.name);
            let name = if name.is_empty() {
                "tep-dinh-kem".to_string()
            } else {
                name
            };
            let content_type =
                if a.content_type.contains('/') && !a.content_type.contains(['\r', '\n']) {
                    a.content_type.clone()
                } else {
                    "application/octet-stream".to_string()
                };
            builder = builder.attachment(content_type, name, a.bytes.clone());
        }
        builder
            .write_to_vec()
            .map_err(|e| Error::invalid(format!("cannot build the message: {e}")))
    }

    /// Sends a compose form through the submission path (every rule of SMTP submission).
    pub async fn send_composed(&self, who: &Principal, composed: &Composed) -> Result<Submitted> {
        let mut recipients = parse_address_list(&composed.to)?;
        for extra in [&composed.cc, &composed.bcc] {
            for a in parse_address_list(extra)? {
                if !recipients.contains(&a) {
                    recipients.push(a);
                }
            }
        }
        let raw = self.build_message(who, composed, false)?;
        self.submit(who, &recipients, raw).await
    }

    /// Saves a compose form to Drafts (flagged `\Draft`); returns the folder and UID.
    pub async fn save_draft(
        &self,
        who: &Principal,
        composed: &Composed,
    ) -> Result<(MailboxId, Uid)> {
        let drafts = self
            .special_folder(who, SpecialUse::Drafts)
            .await
            .ok_or_else(|| Error::not_found("no Drafts folder"))?;
        let raw = self.build_message(who, composed, true)?;
        let mut flags = Flags::new();
        flags.insert(Flag::Draft);
        flags.insert(Flag::Seen);
        let outcome = self.append(who, drafts, raw, &flags, None).await?;
        Ok((drafts, outcome.uid))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn address_lists() {
        let l = parse_address_list("Nông Văn Đạt <dat@caobang.gov.vn>; b@x.vn,\n b@x.vn").unwrap();
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].to_string(), "dat@caobang.gov.vn");
        assert!(parse_address_list("not an address").is_err());
        assert!(parse_address_list(" , ").unwrap().is_empty());
    }
}
