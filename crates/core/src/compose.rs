//! Composing in the webmail: address lists as typed, the MIME message built with
//! mail-builder (UTF-8 subject and names in RFC 2047, attachment names in RFC 2231), sending
//! through [`Core::submit`] and saving drafts to Drafts.

use hopthu_model::{EmailAddress, Flag, Flags, MailboxId, Uid};
use mail_builder::MessageBuilder;
use mail_builder::headers::address::Address as BuildAddress;

use crate::classification::{self, MarkedBy, Marking};
use crate::{
    Core, Error, Principal, Result, SendMode, SpecialUse, SubmittedVia, submit::Submitted,
};

/// A file attached in the compose form.
#[derive(Debug, Clone)]
pub struct NewAttachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Whom the compose form sends as: oneself, or a unit mailbox delegated to one (Đ12). Only a
/// choice: whether it is allowed is decided on submission ([`Core::prepare_submission`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ComposeFrom {
    #[default]
    Own,
    /// `From:` the unit; with [`SendMode::SendOnBehalf`] also `Sender:` oneself.
    Unit {
        address: EmailAddress,
        mode: SendMode,
    },
}

impl ComposeFrom {
    /// Reads the form's value: empty or `own`, `as:ADDRESS`, `behalf:ADDRESS`.
    pub fn parse(value: &str) -> Result<ComposeFrom> {
        let value = value.trim();
        if value.is_empty() || value == "own" {
            return Ok(ComposeFrom::Own);
        }
        let bad = || Error::invalid(format!("người gửi không hợp lệ / invalid sender: {value}"));
        let (mode, address) = match value.split_once(':') {
            Some(("as", a)) => (SendMode::SendAs, a),
            Some(("behalf", a)) => (SendMode::SendOnBehalf, a),
            _ => return Err(bad()),
        };
        let address = EmailAddress::parse(address).map_err(|_| bad())?;
        Ok(ComposeFrom::Unit { address, mode })
    }

    /// The form's value for this choice ([`ComposeFrom::parse`] reads it back).
    pub fn form_value(&self) -> String {
        match self {
            ComposeFrom::Own => "own".into(),
            ComposeFrom::Unit {
                address,
                mode: SendMode::SendAs,
            } => format!("as:{address}"),
            ComposeFrom::Unit {
                address,
                mode: SendMode::SendOnBehalf,
            } => format!("behalf:{address}"),
        }
    }
}

/// The `From:` and `Sender:` of a message being built: (display name, address) each.
struct Identity {
    from: (String, String),
    sender: Option<(String, String)>,
}

/// What the compose form holds.
#[derive(Debug, Clone, Default)]
pub struct Composed {
    /// Whom the message is from.
    pub from: ComposeFrom,
    pub to: String,
    pub cc: String,
    pub bcc: String,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub attachments: Vec<NewAttachment>,
    /// The classification field (độ mật): empty or [`NOT_CLASSIFIED`], or a secrecy level's
    /// id. A level is refused on Send and on Save draft (Đ9, [`Core::refuse_secret`]).
    pub classification: String,
}

/// The classification field's value for an ordinary document ("Thường").
pub const NOT_CLASSIFIED: &str = "thuong";

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
    /// `From:` and `Sender:` for the form's choice: the unit's name from its delegation (an
    /// address that is none of one's unit mailboxes is written bare, and refused on
    /// submission).
    async fn identity(&self, who: &Principal, from: &ComposeFrom) -> Result<Identity> {
        let own = (who.display_name.clone(), who.address.to_string());
        let ComposeFrom::Unit { address, mode } = from else {
            return Ok(Identity {
                from: own,
                sender: None,
            });
        };
        let name = self
            .unit_senders(who)
            .await?
            .into_iter()
            .find(|u| u.address == *address)
            .map(|u| u.name)
            .unwrap_or_default();
        Ok(Identity {
            from: (name, address.to_string()),
            sender: (*mode == SendMode::SendOnBehalf).then_some(own),
        })
    }

    /// Builds the message of a compose form. `Bcc:` is written only when `keep_bcc` (a
    /// draft, the Sent copy is not built from this).
    pub async fn build_message(
        &self,
        who: &Principal,
        composed: &Composed,
        keep_bcc: bool,
    ) -> Result<Vec<u8>> {
        let identity = self.identity(who, &composed.from).await?;
        let message_id = format!(
            "{:016x}.{}@{}",
            rand::random::<u64>(),
            crate::now(),
            self.config.hostname
        );
        self.build(
            &identity,
            composed,
            keep_bcc,
            &message_id,
            chrono::Utc::now().timestamp(),
        )
    }

    fn build(
        &self,
        identity: &Identity,
        composed: &Composed,
        keep_bcc: bool,
        message_id: &str,
        date: i64,
    ) -> Result<Vec<u8>> {
        let to = parse_address_list(&composed.to)?;
        let cc = parse_address_list(&composed.cc)?;
        let bcc = parse_address_list(&composed.bcc)?;
        let mut builder = MessageBuilder::new()
            .from(identity.from.clone())
            .subject(clean_header(&composed.subject))
            .date(date)
            .message_id(message_id.to_string())
            .header(
                "User-Agent",
                mail_builder::headers::raw::Raw::new("hopthu webmail"),
            )
            .text_body(composed.body.replace("\r\n", "\n").replace('\n', "\r\n"));
        if let Some(sender) = &identity.sender {
            builder = builder.sender(sender.clone());
        }
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

    /// Refuses a compose form whose classification field names a secrecy level (Đ9),
    /// auditing the refusal. The field holds a level's id; anything else naming a level
    /// ([`classification::level_named`]) counts too, and an unknown value is refused as
    /// invalid rather than sent unclassified.
    async fn refuse_classified_form(
        &self,
        who: &Principal,
        via: SubmittedVia,
        composed: &Composed,
    ) -> Result<()> {
        let value = composed.classification.trim();
        if value.is_empty() || value == NOT_CLASSIFIED {
            return Ok(());
        }
        let levels = &self.config.documents.secrecy_levels;
        match classification::level_named(levels, value) {
            Some(level) => {
                let marking = Marking {
                    level: level.clone(),
                    by: MarkedBy::Form,
                };
                Err(self.refuse_secret(who, via, &marking).await)
            }
            None => Err(Error::invalid(format!(
                "độ mật không hợp lệ / invalid classification: {value}"
            ))),
        }
    }

    /// Sends a compose form through the submission path (every rule of SMTP submission).
    /// A form marked secret (its classification field or its subject) is refused first.
    pub async fn send_composed(&self, who: &Principal, composed: &Composed) -> Result<Submitted> {
        self.refuse_classified_form(who, SubmittedVia::Webmail, composed)
            .await?;
        let mut recipients = parse_address_list(&composed.to)?;
        for extra in [&composed.cc, &composed.bcc] {
            for a in parse_address_list(extra)? {
                if !recipients.contains(&a) {
                    recipients.push(a);
                }
            }
        }
        // The recipients get the message without Bcc:; the sender's Sent copy keeps it (same
        // Message-ID and Date, so both are the one message).
        let message_id = format!(
            "{:016x}.{}@{}",
            rand::random::<u64>(),
            crate::now(),
            self.config.hostname
        );
        let date = chrono::Utc::now().timestamp();
        let identity = self.identity(who, &composed.from).await?;
        let raw = self.build(&identity, composed, false, &message_id, date)?;
        let sent_copy = if composed.bcc.trim().is_empty() {
            None
        } else {
            Some(self.build(&identity, composed, true, &message_id, date)?)
        };
        self.submit_with_copy(who, &recipients, raw, sent_copy)
            .await
    }

    /// Saves a compose form to Drafts (flagged `\Draft`); returns the folder and UID. A form
    /// marked secret is refused like a message sent: a secret document is not kept on the
    /// mail server either (Đ9).
    pub async fn save_draft(
        &self,
        who: &Principal,
        composed: &Composed,
    ) -> Result<(MailboxId, Uid)> {
        self.refuse_classified_form(who, SubmittedVia::WebmailDraft, composed)
            .await?;
        let drafts = self
            .special_folder(who, SpecialUse::Drafts)
            .await
            .ok_or_else(|| Error::not_found("no Drafts folder"))?;
        let raw = self.build_message(who, composed, true).await?;
        self.refuse_if_secret(who, SubmittedVia::WebmailDraft, &raw)
            .await?;
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

    #[test]
    fn the_from_choice_reads_back_what_the_form_wrote() {
        let unit = EmailAddress::parse("sonoivu@caobang.gov.vn").unwrap();
        for choice in [
            ComposeFrom::Own,
            ComposeFrom::Unit {
                address: unit.clone(),
                mode: SendMode::SendAs,
            },
            ComposeFrom::Unit {
                address: unit.clone(),
                mode: SendMode::SendOnBehalf,
            },
        ] {
            assert_eq!(ComposeFrom::parse(&choice.form_value()).unwrap(), choice);
        }
        assert_eq!(ComposeFrom::parse("").unwrap(), ComposeFrom::Own);
        for bad in [
            "as:",
            "as:not an address",
            "owner:a@b.vn",
            "sonoivu@caobang.gov.vn",
        ] {
            assert!(ComposeFrom::parse(bad).is_err(), "{bad}");
        }
    }
}
