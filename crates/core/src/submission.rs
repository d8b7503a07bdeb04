//! Rules for mail a signed-in user submits (SMTP submission and the webmail): who may appear
//! as the sender, and the header fields a message must carry (RFC 6409 §8).
//!
//! **Invariant**: the envelope sender and the `From:`/`Sender:` pair of a submitted message
//! pass [`Core::may_send_as`] and [`Core::prepare_submission`] (through [`decide_sender`]);
//! SMTP and the webmail call these same functions, so they cannot disagree.
//!
//! A person sends as themselves, or for a unit mailbox delegated to them (Đ12):
//! - `send-as`: `From:` the unit's address alone, no `Sender:` (or `Sender:` the unit itself);
//! - `send-on-behalf`: `From:` the unit's address, `Sender:` the person's own address.
//!
//! The envelope sender of such a message may be the person's own address or the unit's (a
//! client picks; the webmail uses the unit's for send-as, so bounces reach the unit mailbox,
//! and the person's own for send-on-behalf, where the person is the sender). Anything else is
//! [`crate::ErrorKind::Forbidden`] (SMTP `550 5.7.1`).

use hopthu_model::{AccountId, DelegateRight, DelegateRights, EmailAddress, Flag, Flags, Uid};
use hopthu_store::{AccountState, LifecycleWrite};

use crate::classification::{self, MarkedBy, Marking};
use crate::shared::Access;
use crate::{Core, Error, NewAudit, Principal, Result, SpecialUse, now};

/// A unit mailbox delegated to the signed-in person, as a possible sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitSender {
    /// The unit mailbox's account.
    pub account: AccountId,
    pub address: EmailAddress,
    /// The unit's name, for `From:` and the webmail's selector.
    pub name: String,
    /// The person's rights on it.
    pub rights: DelegateRights,
}

impl UnitSender {
    /// Whether the person may send for the unit at all (`send-as` or `send-on-behalf`).
    pub fn may_send(&self) -> bool {
        self.rights.has(DelegateRight::SendAs) || self.rights.has(DelegateRight::SendOnBehalf)
    }
}

/// How a unit's message names its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendMode {
    /// `From:` the unit (right `send-as`).
    SendAs,
    /// `From:` the unit, `Sender:` the person (right `send-on-behalf`).
    SendOnBehalf,
}

impl SendMode {
    /// The right's name, as the audit log and the rights list write it.
    pub fn as_str(self) -> &'static str {
        match self {
            SendMode::SendAs => "send-as",
            SendMode::SendOnBehalf => "send-on-behalf",
        }
    }
}

/// Whom a submitted message is from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sending {
    /// The signed-in person.
    Own,
    /// A unit mailbox delegated to them.
    Unit { unit: UnitSender, mode: SendMode },
}

impl Sending {
    /// The envelope sender to use when the server picks it (the webmail): the unit's address
    /// for send-as, else the person's own.
    pub fn envelope_sender(&self, own: &EmailAddress) -> EmailAddress {
        match self {
            Sending::Unit {
                unit,
                mode: SendMode::SendAs,
            } => unit.address.clone(),
            _ => own.clone(),
        }
    }
}

/// Which submission path a message came by (for the audit log of a refusal).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubmittedVia {
    /// SMTP submission (`submission`, `submissions` listeners).
    Smtp,
    /// The webmail's Send.
    Webmail,
    /// The webmail's Save draft.
    WebmailDraft,
}

impl SubmittedVia {
    /// The name written in the audit log.
    pub fn as_str(self) -> &'static str {
        match self {
            SubmittedVia::Smtp => "smtp",
            SubmittedVia::Webmail => "webmail",
            SubmittedVia::WebmailDraft => "webmail_draft",
        }
    }
}

/// A submitted message once its sender fields passed: the content (with `Date:` and
/// `Message-ID:` added when missing), whom it is from, and its Message-ID (without `<>`).
#[derive(Debug, Clone)]
pub struct Prepared {
    pub content: Vec<u8>,
    pub sending: Sending,
    pub message_id: String,
}

/// Decides whom a message is from, given the person's own address, the addresses of `From:`
/// and `Sender:`, the envelope sender (none for `<>` or when the server picks it) and the
/// unit mailboxes delegated to the person. The refusal is a Vietnamese / English text.
pub fn decide_sender(
    own: &EmailAddress,
    from: &[EmailAddress],
    sender: &[EmailAddress],
    envelope: Option<&EmailAddress>,
    units: &[UnitSender],
) -> std::result::Result<Sending, String> {
    if from.is_empty() {
        return Err("thư không có địa chỉ From: / the message has no From: address".into());
    }
    if sender.len() > 1 {
        return Err(
            "trường Sender: chỉ được có một địa chỉ / the Sender: field must hold one address"
                .into(),
        );
    }
    let sender = sender.first();
    if from.iter().all(|a| a == own) {
        if let Some(s) = sender.filter(|s| *s != own) {
            return Err(not_yours("Sender", s));
        }
        if let Some(e) = envelope.filter(|e| *e != own) {
            return Err(envelope_refused(e));
        }
        return Ok(Sending::Own);
    }
    let unit_of = |a: &EmailAddress| units.iter().find(|u| u.address == *a);
    let unit = match from {
        [one] => unit_of(one).cloned(),
        _ => None,
    };
    let Some(unit) = unit else {
        if let Some(shared) = from.iter().find(|a| unit_of(a).is_some()) {
            return Err(format!(
                "thư gửi với danh nghĩa đơn vị chỉ có địa chỉ <{shared}> trong From: / \
                 a message sent for a unit has <{shared}> alone in From:"
            ));
        }
        let foreign = from.iter().find(|a| *a != own).unwrap_or(&from[0]);
        return Err(not_yours("From", foreign));
    };
    let name = &unit.address;
    let send_as = unit.rights.has(DelegateRight::SendAs);
    let on_behalf = unit.rights.has(DelegateRight::SendOnBehalf);
    let mode = match sender {
        None => SendMode::SendAs,
        Some(s) if *s == unit.address => SendMode::SendAs,
        Some(s) if s == own => SendMode::SendOnBehalf,
        Some(s) => {
            return Err(format!(
                "Sender: <{s}> phải là địa chỉ của chính bạn <{own}> / \
                 Sender: <{s}> must be your own address <{own}>"
            ));
        }
    };
    match mode {
        _ if !unit.may_send() => {
            return Err(format!(
                "bạn chỉ có quyền {rights} trên hộp thư {name}, không có quyền gửi thư \
                 (send-as, send-on-behalf) / you hold only {rights} on {name}, not send-as \
                 or send-on-behalf",
                rights = unit.rights
            ));
        }
        SendMode::SendAs if !send_as => {
            return Err(format!(
                "bạn không có quyền gửi với danh nghĩa {name} (send-as); để gửi thay mặt \
                 đơn vị (send-on-behalf), thư phải có Sender: <{own}> / you may not send as \
                 {name} (send-as); to send on its behalf (send-on-behalf) the message needs \
                 Sender: <{own}>"
            ));
        }
        SendMode::SendOnBehalf if !on_behalf => {
            return Err(format!(
                "bạn không có quyền gửi thay mặt {name} (send-on-behalf); với quyền gửi với \
                 danh nghĩa đơn vị (send-as), hãy bỏ trường Sender: / you may not send on \
                 behalf of {name} (send-on-behalf); with send-as, leave out Sender:"
            ));
        }
        _ => {}
    }
    if let Some(e) = envelope.filter(|e| *e != own && **e != unit.address) {
        return Err(envelope_refused(e));
    }
    Ok(Sending::Unit { unit, mode })
}

fn not_yours(field: &str, address: &EmailAddress) -> String {
    format!(
        "{field}: <{address}> không phải địa chỉ bạn được phép gửi thư / \
         {field}: <{address}> is not an address you may send as"
    )
}

fn envelope_refused(address: &EmailAddress) -> String {
    format!(
        "địa chỉ người gửi trong phong bì (MAIL FROM) <{address}> không dùng được cho thư này / \
         the envelope sender (MAIL FROM) <{address}> may not be used for this message"
    )
}

impl Core {
    /// The unit mailboxes `who` owns (every right) or is a delegate of (any right), with
    /// their names; only active ones. Two indexed look-ups when there are none, the usual
    /// case.
    pub async fn unit_senders(&self, who: &Principal) -> Result<Vec<UnitSender>> {
        let shared = self.shared_mailboxes(who).await?;
        if shared.is_empty() {
            return Ok(Vec::new());
        }
        let units = self.store.units().await?;
        let mut out = Vec::new();
        for m in shared {
            let rights = match m.access {
                Access::Delegate(rights) => rights,
                Access::Owner | Access::Own => DelegateRight::ALL
                    .into_iter()
                    .fold(DelegateRights::default(), DelegateRights::with),
            };
            let Some(account) = self.store.account(m.account).await? else {
                continue;
            };
            if account.state != AccountState::Active {
                continue;
            }
            let Ok(address) = EmailAddress::parse(&m.address) else {
                continue;
            };
            let name = units
                .iter()
                .find(|u| u.account == Some(m.account))
                .map(|u| u.name.clone())
                .unwrap_or(account.display_name);
            out.push(UnitSender {
                account: m.account,
                address,
                name,
                rights,
            });
        }
        Ok(out)
    }

    /// May `who` give `address` as the envelope sender (SMTP `MAIL FROM`)? Their own address,
    /// or that of a unit mailbox they may send for (`send-as` or `send-on-behalf`); the
    /// message itself is checked at its end ([`Core::prepare_submission`]).
    pub async fn may_send_as(&self, who: &Principal, address: &EmailAddress) -> Result<bool> {
        if *address == who.address {
            return Ok(true);
        }
        Ok(self
            .unit_senders(who)
            .await?
            .iter()
            .any(|u| u.address == *address && u.may_send()))
    }

    /// Checks the sender fields of a submitted message against the person and the envelope
    /// sender `envelope` ([`decide_sender`]), and adds `Date:` and `Message-ID:` when missing
    /// (RFC 6409 §8.2, §8.3). Refusals of the sender are [`crate::ErrorKind::Forbidden`].
    ///
    /// The content returned is signed with the domain's DKIM keys ([`Core::dkim_sign`], Đ14.2).
    ///
    /// A message marked with a secrecy level (Đ9, [`crate::classification`]) is refused
    /// ([`crate::ErrorKind::Forbidden`], SMTP `550 5.7.1`) and the refusal audited
    /// ([`Core::refuse_secret`]) before anything else is looked at.
    ///
    /// The header section must be unambiguous, so that what is checked here is what every
    /// reader (a recipient's client, a DMARC check) sees: lines end with CRLF, every field line
    /// has a name, and the fields RFC 5322 §3.6 allows once appear at most once (`From:`
    /// exactly once). Otherwise [`crate::ErrorKind::Invalid`].
    pub async fn prepare_submission(
        &self,
        who: &Principal,
        via: SubmittedVia,
        envelope: Option<&EmailAddress>,
        content: Vec<u8>,
    ) -> Result<Prepared> {
        let fields = header_fields(&content).map_err(Error::invalid)?;
        if let Some(problem) = repeated_field(&fields) {
            return Err(Error::invalid(problem));
        }
        self.refuse_if_secret(who, via, &content).await?;
        let message = mail_parser::MessageParser::default()
            .parse_headers(&content)
            .ok_or_else(|| Error::invalid("the message has no header"))?;
        // The parser must see the same single From: as the strict reading above.
        let parsed_from = message
            .headers()
            .iter()
            .filter(|h| h.name == mail_parser::HeaderName::From)
            .count();
        if parsed_from != 1 {
            return Err(Error::invalid(
                "the message must have exactly one From: field / thư phải có đúng một trường From:",
            ));
        }
        let from = header_addresses(message.from());
        if from.is_empty() {
            return Err(Error::invalid("the message has no From: address"));
        }
        let parse = |field: &str, list: Vec<String>| -> Result<Vec<EmailAddress>> {
            list.into_iter()
                .map(|a| {
                    EmailAddress::parse(&a).map_err(|_| {
                        Error::forbidden(format!(
                            "{field}: <{a}> không phải địa chỉ bạn được phép gửi thư / \
                             {field}: <{a}> is not an address you may send as"
                        ))
                    })
                })
                .collect()
        };
        let from = parse("From", from)?;
        let sender = parse("Sender", header_addresses(message.sender()))?;
        let units = if from.iter().all(|a| *a == who.address)
            && sender.iter().all(|a| *a == who.address)
            && envelope.is_none_or(|e| *e == who.address)
        {
            // The usual case needs no look-up.
            Vec::new()
        } else {
            self.unit_senders(who).await?
        };
        let sending = decide_sender(&who.address, &from, &sender, envelope, &units)
            .map_err(Error::forbidden)?;
        let mut message_id = message.message_id().map(str::to_string);
        let mut added = String::new();
        // By the field names, not the parsed values: an unparsable `Date:` must not get a
        // second one next to it.
        if !fields.iter().any(|n| n == "date") {
            added.push_str(&format!(
                "Date: {}\r\n",
                chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")
            ));
        }
        if !fields.iter().any(|n| n == "message-id") {
            let id = format!(
                "{:016x}.{}@{}",
                rand::random::<u64>(),
                crate::now(),
                self.config.hostname
            );
            added.push_str(&format!("Message-ID: <{id}>\r\n"));
            message_id = Some(id);
        }
        let message_id = message_id.unwrap_or_default();
        let content = if added.is_empty() {
            content
        } else {
            let mut out = added.into_bytes();
            out.extend_from_slice(&content);
            out
        };
        // Đ14.2: signed once, before it is stored, for local and remote recipients alike.
        let content = self.dkim_sign(content)?;
        Ok(Prepared {
            content,
            sending,
            message_id,
        })
    }

    /// Refuses `content` when it is marked secret ([`classification::message_marking`]: an
    /// `X-Document-Classification:` field or the subject), auditing the refusal.
    pub async fn refuse_if_secret(
        &self,
        who: &Principal,
        via: SubmittedVia,
        content: &[u8],
    ) -> Result<()> {
        match classification::message_marking(&self.config.documents.secrecy_levels, content) {
            Some(marking) => Err(self.refuse_secret(who, via, &marking).await),
            None => Ok(()),
        }
    }

    /// Secret documents never go by e-mail (Đ9): the refusal of a message with `marking`,
    /// audited as `document.secret_refused` (actor and target the person's account; after:
    /// the level, where the marking was found and the submission path — never the body or the
    /// subject). Returns the error to answer with ([`crate::ErrorKind::Forbidden`]: SMTP
    /// `550 5.7.1`, the webmail 403), Vietnamese then English. Nothing of the message is
    /// stored: the callers return before any delivery, queue row, Sent copy or draft.
    pub async fn refuse_secret(
        &self,
        who: &Principal,
        via: SubmittedVia,
        marking: &Marking,
    ) -> Error {
        let audit = [NewAudit {
            actor: who.address.to_string(),
            action: "document.secret_refused".into(),
            target: format!("account:{}", who.address),
            before: None,
            after: Some(
                serde_json::json!({
                    "level": marking.level.id,
                    "detected_by": marking.by.as_str(),
                    "via": via.as_str(),
                })
                .to_string(),
            ),
        }];
        let write = LifecycleWrite {
            at: now(),
            decision: None,
            effects: &[],
            warnings: &[],
            audit: &audit,
        };
        if let Err(e) = self.store.write_lifecycle(&write).await {
            // Refused all the same: the rule does not depend on the log.
            tracing::error!(login = %who.address, error = %e, "could not audit a refused secret document");
        }
        tracing::warn!(
            login = %who.address,
            level = %marking.level.id,
            detected_by = marking.by.as_str(),
            via = via.as_str(),
            "secret document refused (Đ9)"
        );
        let (where_vi, where_en) = match marking.by {
            MarkedBy::Header => (
                "trường X-Document-Classification",
                "X-Document-Classification field",
            ),
            MarkedBy::Subject => ("tiêu đề", "subject"),
            MarkedBy::Form => ("mục Độ mật", "classification field"),
        };
        let level = &marking.level;
        Error::forbidden(format!(
            "thư được đánh dấu \"{name}\" ({where_vi}): văn bản mật không được gửi qua thư \
             điện tử (Điều 9 Quy chế sử dụng thư điện tử), thư chưa được gửi / the message is \
             marked \"{name}\" ({name_en}, {where_en}): secret documents must not be sent by \
             e-mail (Article 9 of the e-mail regulation), the message was not sent",
            name = level.name,
            name_en = level.name_en,
        ))
    }

    /// After a message sent as or on behalf of a unit mailbox was delivered: the audit row
    /// (`unit_mailbox.send_as` / `unit_mailbox.send_on_behalf`: the person, the unit, the mode,
    /// the Message-ID and the number of recipients), then `copy` in the unit mailbox's Sent
    /// (seen). The message is already delivered, so a failure here is logged, not returned;
    /// the UID of the copy when there is one.
    pub async fn record_unit_sending(
        &self,
        who: &Principal,
        unit: &UnitSender,
        mode: SendMode,
        message_id: &str,
        recipients: usize,
        copy: Vec<u8>,
    ) -> Option<Uid> {
        let action = match mode {
            SendMode::SendAs => "unit_mailbox.send_as",
            SendMode::SendOnBehalf => "unit_mailbox.send_on_behalf",
        };
        let audit = [NewAudit {
            actor: who.address.to_string(),
            action: action.into(),
            target: format!("unit_mailbox:{}", unit.address),
            before: None,
            after: Some(
                serde_json::json!({
                    "delegate": who.address.to_string(),
                    "mode": mode.as_str(),
                    "message_id": message_id,
                    "recipients": recipients,
                })
                .to_string(),
            ),
        }];
        let write = LifecycleWrite {
            at: now(),
            decision: None,
            effects: &[],
            warnings: &[],
            audit: &audit,
        };
        if let Err(e) = self.store.write_lifecycle(&write).await {
            tracing::error!(
                delegate = %who.address, unit = %unit.address, message_id, error = %e,
                "could not audit a message sent for a unit mailbox"
            );
        }
        // The unit mailbox's own folders, as its account.
        let mailbox = Principal {
            account: unit.account,
            address: unit.address.clone(),
            display_name: unit.name.clone(),
            must_change_password: false,
            credentials: 0,
        };
        let sent = self.special_folder(&mailbox, SpecialUse::Sent).await?;
        let mut flags = Flags::new();
        flags.insert(Flag::Seen);
        match self.append(&mailbox, sent, copy, &flags, None).await {
            Ok(outcome) => Some(outcome.uid),
            Err(e) => {
                tracing::warn!(unit = %unit.address, error = %e, "could not keep a copy in the unit's Sent");
                None
            }
        }
    }
}

fn header_addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address.as_deref().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Header fields RFC 5322 §3.6 allows at most once (`From:` exactly once; `Date:` is added
/// when missing).
const SINGLE_FIELDS: &[&str] = &[
    "from",
    "sender",
    "reply-to",
    "to",
    "cc",
    "bcc",
    "subject",
    "date",
    "message-id",
    "in-reply-to",
    "references",
];

/// The names (lowercase) of the fields of the header section, read strictly: lines end with
/// CRLF only (a bare CR or LF is refused: readers disagree on where such a line ends), a line
/// starting with SP or HTAB continues the field before it, and any other line is `name:`
/// (RFC 5322 §2.2, §3.6.8; spaces before the colon, the obsolete syntax of §4.5, are allowed).
pub fn header_fields(content: &[u8]) -> std::result::Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut rest = content;
    loop {
        let Some(lf) = rest.iter().position(|&b| b == b'\n') else {
            if rest.is_empty() {
                break;
            }
            // A last line without a line end (a message with no body).
            return match field_name(rest) {
                Some(_) if rest.contains(&b'\r') => Err(bare_line_end()),
                Some(name) => {
                    names.push(name);
                    Ok(names)
                }
                None if rest[0] == b' ' || rest[0] == b'\t' => Ok(names),
                None => Err(malformed(rest)),
            };
        };
        let line = &rest[..lf];
        let Some(line) = line.strip_suffix(b"\r") else {
            return Err(bare_line_end());
        };
        if line.contains(&b'\r') {
            return Err(bare_line_end());
        }
        rest = &rest[lf + 1..];
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            if names.is_empty() {
                return Err(malformed(line));
            }
            continue;
        }
        match field_name(line) {
            Some(name) => names.push(name),
            None => return Err(malformed(line)),
        }
    }
    Ok(names)
}

/// The name of a field line (`name *WSP ":"`), lowercase; `None` when it is not one.
fn field_name(line: &[u8]) -> Option<String> {
    let colon = line.iter().position(|&b| b == b':')?;
    let name = line[..colon].trim_ascii_end();
    let valid = !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b));
    valid.then(|| String::from_utf8_lossy(name).to_ascii_lowercase())
}

fn bare_line_end() -> String {
    "a header line ends with a bare CR or LF; lines must end with CRLF / \
     dòng tiêu đề kết thúc bằng CR hoặc LF đứng riêng, phải là CRLF"
        .into()
}

fn malformed(line: &[u8]) -> String {
    let shown: String = String::from_utf8_lossy(line)
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    format!("malformed header line {shown:?} / dòng tiêu đề sai cú pháp")
}

/// The first field of [`SINGLE_FIELDS`] that appears more than once (or `From:` missing), as a
/// refusal text.
pub fn repeated_field(names: &[String]) -> Option<String> {
    for field in SINGLE_FIELDS {
        let count = names.iter().filter(|n| n == field).count();
        if count > 1 {
            return Some(format!(
                "the message has {count} {field}: fields, RFC 5322 allows one / \
                 thư có {count} trường {field}:, chỉ được phép có một"
            ));
        }
    }
    if !names.iter().any(|n| n == "from") {
        return Some("the message has no From: field / thư không có trường From:".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{SendMode, Sending, UnitSender, decide_sender, header_fields, repeated_field};
    use hopthu_model::{AccountId, DelegateRights, EmailAddress};

    fn a(s: &str) -> EmailAddress {
        EmailAddress::parse(s).unwrap()
    }

    fn unit(address: &str, rights: &str) -> UnitSender {
        UnitSender {
            account: AccountId(7),
            address: a(address),
            name: "Sở Nội vụ".into(),
            rights: DelegateRights::parse(rights).unwrap(),
        }
    }

    /// Every From/Sender/envelope combination of issue Đ12 sending, allowed and refused.
    #[test]
    fn decides_who_a_message_is_from() {
        let me = a("hoa@cb.vn");
        let u = "snv@cb.vn";
        let decide = |from: &[&str], sender: &[&str], env: Option<&str>, units: &[UnitSender]| {
            let from: Vec<_> = from.iter().map(|s| a(s)).collect();
            let sender: Vec<_> = sender.iter().map(|s| a(s)).collect();
            let env = env.map(a);
            decide_sender(&me, &from, &sender, env.as_ref(), units)
        };
        let as_ = [unit(u, "read,send-as")];
        let behalf = [unit(u, "send-on-behalf")];
        let both = [unit(u, "send-as,send-on-behalf")];
        let read = [unit(u, "read,manage")];
        let unit_mode = |r: Result<Sending, String>| match r {
            Ok(Sending::Unit { unit, mode }) => {
                assert_eq!(unit.address.to_string(), u);
                Some(mode)
            }
            other => panic!("{other:?}"),
        };

        // One's own address, with or without Sender: oneself; envelope own or none.
        for units in [&[][..], &both] {
            assert_eq!(decide(&["hoa@cb.vn"], &[], None, units), Ok(Sending::Own));
            assert_eq!(
                decide(&["hoa@cb.vn"], &["hoa@cb.vn"], Some("hoa@cb.vn"), units),
                Ok(Sending::Own)
            );
        }
        // send-as: From: unit without Sender (or Sender: the unit), envelope own or unit.
        for env in [None, Some("hoa@cb.vn"), Some(u)] {
            assert_eq!(
                unit_mode(decide(&[u], &[], env, &as_)),
                Some(SendMode::SendAs)
            );
        }
        assert_eq!(
            unit_mode(decide(&[u], &[u], None, &both)),
            Some(SendMode::SendAs)
        );
        // send-on-behalf: From: unit, Sender: oneself.
        assert_eq!(
            unit_mode(decide(&[u], &["hoa@cb.vn"], Some(u), &behalf)),
            Some(SendMode::SendOnBehalf)
        );
        assert_eq!(
            unit_mode(decide(&[u], &["hoa@cb.vn"], None, &both)),
            Some(SendMode::SendOnBehalf)
        );

        let refused = |r: Result<Sending, String>, words: &[&str]| {
            let e = r.expect_err("refused");
            for w in words {
                assert!(e.contains(w), "{e:?} lacks {w:?}");
            }
            // Vietnamese first, then English.
            assert!(e.contains(" / "), "{e}");
        };
        // No right at all, read only, the wrong one of the two.
        refused(
            decide(&[u], &[], None, &[]),
            &["From: <snv@cb.vn>", "may send as"],
        );
        refused(
            decide(&[u], &[], None, &read),
            &["read,manage", "not send-as"],
        );
        refused(decide(&[u], &["hoa@cb.vn"], None, &read), &["read,manage"]);
        refused(
            decide(&[u], &[], None, &behalf),
            &["needs Sender: <hoa@cb.vn>"],
        );
        refused(
            decide(&[u], &["hoa@cb.vn"], None, &as_),
            &["send-on-behalf", "leave out"],
        );
        // Sender: someone else, with any rights; several Sender addresses.
        for units in [&as_[..], &behalf, &both] {
            refused(
                decide(&[u], &["minh@cb.vn"], None, units),
                &["must be your own"],
            );
        }
        refused(
            decide(&["hoa@cb.vn"], &["minh@cb.vn"], None, &both),
            &["Sender: <minh"],
        );
        refused(decide(&["hoa@cb.vn"], &[u], None, &both), &["Sender: <snv"]);
        refused(
            decide(&[u], &["hoa@cb.vn", "minh@cb.vn"], None, &both),
            &["one address"],
        );
        // Someone else's From:, alone or beside one's own or the unit.
        refused(decide(&["minh@cb.vn"], &[], None, &both), &["From: <minh"]);
        refused(
            decide(&["hoa@cb.vn", "minh@cb.vn"], &[], None, &both),
            &["From: <minh"],
        );
        refused(
            decide(&[u, "hoa@cb.vn"], &[], None, &both),
            &["alone in From:"],
        );
        // The envelope: the unit's only for the unit's message, never a third address.
        refused(decide(&["hoa@cb.vn"], &[], Some(u), &both), &["MAIL FROM"]);
        refused(decide(&[u], &[], Some("minh@cb.vn"), &both), &["MAIL FROM"]);
        refused(decide(&[], &[], None, &both), &["no From:"]);
    }

    #[test]
    fn reads_header_fields_strictly() {
        let names =
            header_fields(b"From: a@b.vn\r\nSubject: x\r\n y\r\nTO : c@d.vn\r\n\r\nFrom: body\r\n")
                .unwrap();
        assert_eq!(names, ["from", "subject", "to"]);
        assert_eq!(header_fields(b"From: a@b.vn").unwrap(), ["from"]);
        for bad in [
            &b"From: a@b.vn\nFrom: c@d.vn\r\n\r\n"[..],
            b"Subject: x\rFrom: c@d.vn\r\n\r\n",
            b"From: a@b.vn\r\nno colon here\r\n\r\n",
            b" From: a@b.vn\r\n\r\n",
            b"Fr om: a@b.vn\r\n\r\n",
            b"From: a@b.vn\r\nX: y\r",
        ] {
            assert!(
                header_fields(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn refuses_repeated_single_fields() {
        let names = |raw: &[u8]| header_fields(raw).unwrap();
        assert_eq!(repeated_field(&names(b"From: a\r\nTo: b\r\n\r\n")), None);
        for raw in [
            &b"From: a\r\nFrom: b\r\n\r\n"[..],
            b"from: a\r\nFROM : b\r\n\r\n",
            b"From: a\r\nSender: a\r\nSender: b\r\n\r\n",
            b"From: a\r\nSubject: a\r\nsubject: b\r\n\r\n",
            b"From: a\r\nReply-To: a\r\nReply-To: b\r\n\r\n",
            b"To: a\r\n\r\n",
        ] {
            assert!(
                repeated_field(&names(raw)).is_some(),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
    }
}
