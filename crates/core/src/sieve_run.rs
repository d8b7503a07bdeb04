//! Running an account's active Sieve script at local delivery (see `delivery.rs`).
//!
//! The script is compiled once per delivery and run by sieve-rs's interpreter with the limits
//! of `[sieve]` (an instruction budget, the number of redirects and messages sent). Its
//! actions become a [`Decision`]: the copies to store (folder and flags each), where to
//! redirect the message, and a vacation reply to send once the delivery is committed.
//! **A script that fails at run time keeps the message in INBOX** (RFC 5228 §2.10.6): mail
//! is never lost to a broken rule. So does a `fileinto` to a folder that does not exist
//! (without `:create`), and a redirect the policy refuses.
//!
//! Extensions the delivery does not carry out (reject/ereject, editheader and the other
//! message-changing ones, duplicate, enotify, extlists) are refused when a script is stored
//! (`sieve.rs` `UNSUPPORTED_EXTENSIONS`) and disabled in the runtime: a script that requires
//! them anyway fails at run time, and so keeps.

use std::collections::HashMap;
use std::sync::Arc;

use hopthu_model::{EmailAddress, Flag, Flags, MailboxId};
use hopthu_store::{AccountRecord, MailboxRecord, SpecialUse};
use sieve::compiler::grammar::Capability;
use sieve::{Event, Input, Recipient, Runtime};

use crate::delivery::Envelope;
use crate::{Core, Principal, Result};

/// What the rules of one local recipient decided.
#[derive(Debug, Default)]
pub(crate) struct Decision {
    /// The copies to store: (mailbox, flags of that copy).
    pub copies: Vec<(MailboxId, Flags)>,
    /// Local addresses the message is redirected to (delivered as new local deliveries).
    pub redirect_local: Vec<EmailAddress>,
    /// Outside addresses it is forwarded to (queued with an SRS MAIL FROM).
    pub redirect_remote: Vec<String>,
    /// A vacation reply to send after the commit.
    pub vacation: Option<VacationReply>,
}

/// A vacation reply the script asked for (RFC 5230), already past the RFC 3834 checks.
#[derive(Debug)]
pub(crate) struct VacationReply {
    /// The original sender (the envelope's MAIL FROM), lower-cased.
    pub to: String,
    /// The `:handle` (or the reason's text) the "once per period" is counted under.
    pub handle: String,
    /// Seconds within which no second reply goes to the same sender.
    pub period: i64,
    /// The subject and the text sieve-rs built.
    pub subject: String,
    pub body: String,
}

/// One action of a script, as sieve-rs reports it.
#[derive(Debug, Clone, PartialEq)]
enum Action {
    Keep {
        flags: Vec<String>,
    },
    FileInto {
        folder: String,
        flags: Vec<String>,
        create: bool,
        special_use: Option<String>,
    },
    Redirect(String),
    Vacation {
        to: String,
        handle: String,
        period: u64,
        message: Vec<u8>,
    },
}

/// The limits and settings one run needs.
struct RunSettings<'a> {
    max_instructions: u64,
    max_redirects: u32,
    default_vacation_secs: u64,
    hostname: &'a str,
    max_script_size: u64,
}

/// Whether the message carries the spam check's mark (`X-Spam-Flag: YES`, written by our MX,
/// which strips any copy that arrives with the message): the implicit keep then files it in
/// the account's Junk folder instead of INBOX. An explicit `keep` or `fileinto` wins.
pub(crate) fn implicit_keep_is_junk(raw: &[u8]) -> bool {
    crate::spam::flagged_as_spam(raw)
}

/// The top-level header fields of a message, unfolded (names as written, values trimmed).
pub(crate) fn top_headers(raw: &[u8]) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in raw.split(|b| *b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if line[0] == b' ' || line[0] == b'\t' {
            if let Some((_, v)) = out.last_mut() {
                v.push(' ');
                v.push_str(text.trim());
            }
            continue;
        }
        match text.split_once(':') {
            Some((name, value)) => out.push((name.trim().to_string(), value.trim().to_string())),
            None => break,
        }
    }
    out
}

/// Why no automatic reply may go for this message (RFC 3834 §2, RFC 5230 §4.5), or `None`
/// when one may: never to the null sender or a mailer daemon, never to one's own addresses,
/// never to mail marked `Auto-Submitted` (other than `no`), `Precedence: bulk|list|junk`, or
/// from a list (`List-Id` or any `List-*` field), and never to mail our spam check marked
/// (`X-Spam-Flag: YES`: its sender is most likely forged, and a reply would be backscatter).
pub(crate) fn auto_reply_refusal(
    headers: &[(String, String)],
    sender: Option<&str>,
    own: &[String],
) -> Option<&'static str> {
    let Some(sender) = sender.filter(|s| !s.is_empty()) else {
        return Some("null sender");
    };
    let sender = sender.to_ascii_lowercase();
    let local = sender.split('@').next().unwrap_or_default();
    if local == "mailer-daemon"
        || local == "postmaster"
        || local.starts_with("owner-")
        || local.ends_with("-request")
    {
        return Some("sender is a mail system or list address");
    }
    if own.iter().any(|a| a.eq_ignore_ascii_case(&sender)) {
        return Some("sender is one of the recipient's own addresses");
    }
    for (name, value) in headers {
        let value = value.trim();
        let name = name.to_ascii_lowercase();
        if name == "auto-submitted" {
            let kind = value.split(';').next().unwrap_or_default().trim();
            if !kind.eq_ignore_ascii_case("no") {
                return Some("Auto-Submitted");
            }
        } else if name == "precedence"
            && ["bulk", "list", "junk"]
                .iter()
                .any(|p| value.eq_ignore_ascii_case(p))
        {
            return Some("Precedence: bulk, list or junk");
        } else if name.starts_with("list-") {
            return Some("list mail");
        } else if name == "x-spam-flag" && value.eq_ignore_ascii_case("yes") {
            return Some("marked as spam");
        } else if name == "x-auto-response-suppress"
            && value
                .split(',')
                .any(|v| ["all", "oof"].contains(&v.trim().to_ascii_lowercase().as_str()))
        {
            return Some("X-Auto-Response-Suppress");
        }
    }
    None
}

/// Whether the script holds a `keep` command (outside comments and strings): then a keep at
/// its end may be the script's own, which files into INBOX even a message marked as spam.
fn has_explicit_keep(script: &str) -> bool {
    let bytes = script.as_bytes();
    let mut i = 0;
    let mut word = String::new();
    let mut found = false;
    let mut check = |w: &mut String| {
        if w.eq_ignore_ascii_case("keep") {
            found = true;
        }
        w.clear();
    };
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            check(&mut word);
        } else if b == b'/' && bytes.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < bytes.len() && !(bytes[i] == b'*' && bytes[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
            check(&mut word);
            continue;
        } else if b == b'"' {
            i += 1;
            while i < bytes.len() && bytes[i] != b'"' {
                if bytes[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            check(&mut word);
        } else if word.eq_ignore_ascii_case("text") && b == b':' {
            // A multi-line string: up to a line holding a single dot.
            word.clear();
            while i < bytes.len() {
                let line_end = bytes[i..]
                    .iter()
                    .position(|c| *c == b'\n')
                    .map_or(bytes.len(), |p| i + p);
                let line = &bytes[i..line_end];
                i = line_end + 1;
                if line.strip_suffix(b"\r").unwrap_or(line) == b"." {
                    break;
                }
            }
            continue;
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            word.push(b as char);
        } else {
            check(&mut word);
        }
        i += 1;
    }
    check(&mut word);
    found
}

/// The storable flags among a script's flag names.
fn to_flags(names: &[String]) -> Flags {
    names
        .iter()
        .flat_map(|n| n.split_whitespace())
        .filter_map(Flag::parse)
        .collect()
}

/// Runs `script` (compiled) on the message and returns its actions, or the run-time error.
#[allow(clippy::too_many_arguments)]
fn run_script(
    settings: &RunSettings<'_>,
    script: Arc<sieve::Sieve>,
    scripts: &HashMap<String, String>,
    raw: &[u8],
    mail_from: Option<&str>,
    rcpt: &str,
    user: &str,
    mailboxes: &[MailboxRecord],
) -> std::result::Result<Vec<Action>, String> {
    let runtime = Runtime::new()
        .with_cpu_limit(usize::try_from(settings.max_instructions).unwrap_or(usize::MAX))
        .with_max_redirects(settings.max_redirects as usize)
        .with_max_out_messages(settings.max_redirects as usize + 1)
        .with_max_nested_includes(3)
        .with_default_vacation_expiry(settings.default_vacation_secs)
        .with_vacation_default_subject("Auto: (no subject)")
        .with_vacation_subject_prefix("Auto: ")
        .with_local_hostname(settings.hostname.to_string())
        .without_capabilities([
            Capability::Reject,
            Capability::Ereject,
            Capability::EditHeader,
            Capability::Duplicate,
            Capability::Enotify,
            Capability::Replace,
            Capability::Enclose,
            Capability::Convert,
            Capability::ExtLists,
        ]);
    let mut ctx = runtime
        .filter(raw)
        .with_envelope(sieve::Envelope::From, mail_from.unwrap_or(""))
        .with_envelope(sieve::Envelope::To, rcpt)
        .with_user_address(user);
    let compiler = crate::sieve::compiler(settings.max_script_size);
    let mut actions = Vec::new();
    let mut created: HashMap<usize, Vec<u8>> = HashMap::new();
    let mut vacation_check: Option<(String, u64)> = None;
    let mut input = Input::script("main", script);
    while let Some(result) = ctx.run(input) {
        input = Input::True;
        match result.map_err(|e| e.to_string())? {
            Event::IncludeScript { name, optional } => match scripts.get(name.as_str()) {
                Some(text) => {
                    let compiled = compiler
                        .compile(text.as_bytes())
                        .map_err(|e| format!("include {:?}: {e}", name.as_str()))?;
                    input = Input::script(name, Arc::new(compiled));
                }
                None if optional => input = Input::False,
                None => return Err(format!("include: no script {:?}", name.as_str())),
            },
            Event::MailboxExists {
                mailboxes: wanted,
                special_use,
            } => {
                let exists = wanted.iter().all(|m| match m {
                    sieve::Mailbox::Name(n) => find_folder(mailboxes, n).is_some(),
                    sieve::Mailbox::Id(id) => mailboxes.iter().any(|b| b.id.0.to_string() == *id),
                }) && special_use
                    .iter()
                    .all(|s| find_special(mailboxes, s).is_some());
                input = exists.into();
            }
            Event::ListContains { .. } | Event::Function { .. } => input = Input::False,
            // Only the vacation test asks (the duplicate extension is disabled): whether a
            // reply already went is decided when it is sent (`claim_vacation_reply`).
            Event::DuplicateId { id, expiry, .. } => {
                vacation_check = Some((id, expiry));
                input = Input::False;
            }
            Event::SetEnvelope { .. } | Event::Notify { .. } => {}
            Event::Keep { flags, .. } => actions.push(Action::Keep { flags }),
            Event::Discard => {}
            Event::Reject { .. } => return Err("reject is not supported".into()),
            Event::FileInto {
                folder,
                flags,
                special_use,
                create,
                message_id,
                ..
            } => {
                // `:fcc` of a vacation reply (message_id > 0) is not kept.
                if message_id == 0 {
                    actions.push(Action::FileInto {
                        folder,
                        flags,
                        create,
                        special_use,
                    });
                }
            }
            Event::CreatedMessage {
                message_id,
                message,
            } => {
                created.insert(message_id, message);
            }
            Event::SendMessage {
                recipient,
                message_id,
                ..
            } => {
                let Recipient::Address(to) = recipient else {
                    continue;
                };
                if message_id == 0 {
                    actions.push(Action::Redirect(to));
                } else if let (Some(message), Some((handle, period))) =
                    (created.remove(&message_id), vacation_check.take())
                {
                    actions.push(Action::Vacation {
                        to,
                        handle,
                        period,
                        message,
                    });
                }
            }
        }
    }
    Ok(actions)
}

/// A folder of the account by the name a script gave (`INBOX` in any case).
fn find_folder<'a>(mailboxes: &'a [MailboxRecord], name: &str) -> Option<&'a MailboxRecord> {
    let name = name.trim_end_matches(crate::mail::SEPARATOR);
    if name.eq_ignore_ascii_case("INBOX") {
        return mailboxes.iter().find(|m| m.name == "INBOX");
    }
    mailboxes.iter().find(|m| m.name == name)
}

/// A folder of the account by its special use (`\Junk`…).
fn find_special<'a>(mailboxes: &'a [MailboxRecord], special: &str) -> Option<&'a MailboxRecord> {
    mailboxes.iter().find(|m| {
        m.special_use
            .is_some_and(|u| u.as_str().eq_ignore_ascii_case(special.trim()))
    })
}

/// Adds a copy, merging the flags when the same folder is named twice.
fn add_copy(copies: &mut Vec<(MailboxId, Flags)>, mailbox: MailboxId, flags: Flags) {
    match copies.iter_mut().find(|(m, _)| *m == mailbox) {
        Some((_, existing)) => {
            for f in flags.iter() {
                existing.insert(f.clone());
            }
        }
        None => copies.push((mailbox, flags)),
    }
}

impl Core {
    /// Runs the account's active script (if any) on a message for it and says what to do.
    /// Errors are only the store's: a script that fails keeps the message in INBOX.
    pub(crate) async fn sieve_decide(
        &self,
        account: &AccountRecord,
        rcpt: &EmailAddress,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<Decision> {
        let spam = implicit_keep_is_junk(raw);
        let active = self.store.active_sieve_script(account.id).await?;
        let mut decision = Decision::default();
        if active.is_none() && !spam {
            // The common case, with as few reads as before scripts existed.
            let inbox = self
                .store
                .mailbox_by_name(account.id, "INBOX")
                .await?
                .ok_or_else(|| crate::Error::not_found(format!("{rcpt}: no INBOX")))?;
            decision.copies.push((inbox.id, Flags::new()));
            return Ok(decision);
        }
        let mailboxes = self.store.mailboxes(account.id).await?;
        let inbox = find_folder(&mailboxes, "INBOX")
            .map(|m| m.id)
            .ok_or_else(|| crate::Error::not_found(format!("{rcpt}: no INBOX")))?;
        // The implicit keep's folder: INBOX, or Junk for a message marked as spam.
        let implicit_target = if spam {
            find_special(&mailboxes, SpecialUse::Junk.as_str()).map_or(inbox, |m| m.id)
        } else {
            inbox
        };
        let implicit = |decision: &mut Decision| {
            add_copy(&mut decision.copies, implicit_target, Flags::new());
        };
        let Some(active) = active else {
            implicit(&mut decision);
            return Ok(decision);
        };
        let config = &self.config.sieve;
        let compiled = match crate::sieve::compiler(config.max_script_size)
            .compile(active.content.as_bytes())
        {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::warn!(account = %account.address, script = %active.name, error = %e,
                    "sieve script does not compile: message kept in INBOX");
                implicit(&mut decision);
                return Ok(decision);
            }
        };
        let scripts: HashMap<String, String> = self
            .store
            .sieve_scripts(account.id)
            .await?
            .into_iter()
            .map(|s| (s.name, s.content))
            .collect();
        let settings = RunSettings {
            max_instructions: config.max_instructions,
            max_redirects: config.max_redirects,
            default_vacation_secs: config.vacation_default_days * 86_400,
            hostname: &self.config.hostname,
            max_script_size: config.max_script_size,
        };
        let mail_from = envelope.mail_from.as_ref().map(ToString::to_string);
        let actions = match run_script(
            &settings,
            compiled,
            &scripts,
            raw,
            mail_from.as_deref(),
            &rcpt.to_string(),
            &account.address,
            &mailboxes,
        ) {
            Ok(actions) => actions,
            Err(e) => {
                tracing::warn!(account = %account.address, script = %active.name, error = %e,
                    "sieve script failed: message kept (implicit keep)");
                implicit(&mut decision);
                return Ok(decision);
            }
        };
        let explicit_keep = has_explicit_keep(&active.content);
        let principal = Principal {
            account: account.id,
            address: EmailAddress::parse(&account.address)
                .map_err(|e| crate::Error::new(crate::ErrorKind::Internal, e.to_string()))?,
            display_name: account.display_name.clone(),
            must_change_password: false,
            credentials: 0,
        };
        for action in actions {
            match action {
                Action::Keep { flags } => {
                    let target = if explicit_keep {
                        inbox
                    } else {
                        implicit_target
                    };
                    add_copy(&mut decision.copies, target, to_flags(&flags));
                }
                Action::FileInto {
                    folder,
                    flags,
                    create,
                    special_use,
                } => {
                    let flags = to_flags(&flags);
                    let by_use = special_use
                        .as_deref()
                        .and_then(|s| find_special(&mailboxes, s));
                    let target = match by_use.or_else(|| find_folder(&mailboxes, &folder)) {
                        Some(m) => m.id,
                        None if create => {
                            match self.create_mailbox(&principal, &folder, None).await {
                                Ok(id) => {
                                    tracing::info!(account = %account.address, folder = %folder,
                                        "sieve fileinto :create made the folder");
                                    id
                                }
                                Err(e) => {
                                    tracing::warn!(account = %account.address, folder = %folder,
                                        error = %e, "sieve fileinto: cannot create the folder, kept in INBOX");
                                    inbox
                                }
                            }
                        }
                        None => {
                            tracing::warn!(account = %account.address, folder = %folder,
                                "sieve fileinto: no such folder, kept in INBOX");
                            inbox
                        }
                    };
                    add_copy(&mut decision.copies, target, flags);
                }
                Action::Redirect(to) => self.decide_redirect(account, &to, &mut decision).await,
                Action::Vacation {
                    to,
                    handle,
                    period,
                    message,
                } => {
                    let own = [account.address.clone(), rcpt.to_string()];
                    let headers = top_headers(raw);
                    if let Some(why) = auto_reply_refusal(&headers, mail_from.as_deref(), &own) {
                        tracing::info!(account = %account.address, reason = why, "no vacation reply");
                        continue;
                    }
                    let (min, max) = (
                        (config.vacation_min_days * 86_400) as i64,
                        (config.vacation_max_days * 86_400) as i64,
                    );
                    let parsed = mail_parser::MessageParser::default().parse(&message);
                    let subject = parsed
                        .as_ref()
                        .and_then(|m| m.subject())
                        .unwrap_or("Auto: (no subject)")
                        .to_string();
                    let body = parsed
                        .as_ref()
                        .and_then(|m| m.body_text(0))
                        .map(|b| b.into_owned())
                        .unwrap_or_default();
                    decision.vacation = Some(VacationReply {
                        to: to.to_ascii_lowercase(),
                        handle: hex::encode(
                            &<sha2::Sha256 as sha2::Digest>::digest(handle.as_bytes())[..16],
                        ),
                        period: (period as i64).clamp(min, max),
                        subject,
                        body,
                    });
                }
            }
        }
        Ok(decision)
    }

    /// Where a `redirect` goes: another local mailbox (a new local delivery), outside when
    /// `[policy] external_forwarding` allows it, or nowhere (kept in INBOX, logged).
    async fn decide_redirect(&self, account: &AccountRecord, to: &str, decision: &mut Decision) {
        let Ok(address) = EmailAddress::parse(to) else {
            tracing::warn!(account = %account.address, to, "sieve redirect: not an address, kept in INBOX");
            self.keep_in_inbox(decision, account).await;
            return;
        };
        if self.is_local_domain(&address) {
            // Forwarded by a script, not sent by anyone: a group that restricts its senders
            // refuses it.
            let sender = crate::SenderContext {
                mail_from: None,
                principal: None,
            };
            match self.check_recipient(&address, sender).await {
                Ok(crate::RecipientVerdict::Local) => decision.redirect_local.push(address),
                _ => {
                    tracing::warn!(account = %account.address, to, "sieve redirect: no such local mailbox (or not accepting), kept in INBOX");
                    self.keep_in_inbox(decision, account).await;
                }
            }
        } else if self.config.policy.external_forwarding {
            decision.redirect_remote.push(address.to_string());
        } else {
            tracing::warn!(account = %account.address, to,
                "sieve redirect outside the domain refused by [policy] external_forwarding: kept in INBOX");
            self.keep_in_inbox(decision, account).await;
        }
    }

    async fn keep_in_inbox(&self, decision: &mut Decision, account: &AccountRecord) {
        if let Ok(Some(inbox)) = self.store.mailbox_by_name(account.id, "INBOX").await {
            add_copy(&mut decision.copies, inbox.id, Flags::new());
        }
    }

    /// Sends a vacation reply once the delivery that asked for it is committed: at most one
    /// per sender and handle within the period (claimed in the store, so across restarts and
    /// nodes), from the recipient, `Auto-Submitted: auto-replied`, with `In-Reply-To` and
    /// `References`, through [`Core::deliver`] (local senders get it locally, others through
    /// the queue), with the null MAIL FROM (RFC 3834 §3.3). Failures are logged only.
    pub(crate) async fn send_vacation(
        &self,
        account: &AccountRecord,
        reply: VacationReply,
        original: &[u8],
    ) {
        let at = crate::now();
        let forget = at - (self.config.sieve.vacation_max_days * 86_400) as i64;
        match self
            .store
            .claim_vacation_reply(
                account.id,
                &reply.to,
                &reply.handle,
                at - reply.period,
                at,
                forget,
            )
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::info!(account = %account.address, to = %reply.to, "vacation reply already sent in the period");
                return;
            }
            Err(e) => {
                tracing::warn!(account = %account.address, error = %e, "vacation reply not sent");
                return;
            }
        }
        let Ok(to) = EmailAddress::parse(&reply.to) else {
            return;
        };
        let headers = top_headers(original);
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let message_id = header("Message-ID").map(|m| m.trim_matches(['<', '>', ' ']).to_string());
        let mut references: Vec<String> = header("References")
            .unwrap_or_default()
            .split_whitespace()
            .map(|r| r.trim_matches(['<', '>']).to_string())
            .filter(|r| !r.is_empty())
            .collect();
        let mut builder = mail_builder::MessageBuilder::new()
            .from((account.display_name.clone(), account.address.clone()))
            .to(reply.to.clone())
            .subject(reply.subject.replace(['\r', '\n'], " "))
            .date(at)
            .message_id(format!(
                "{:016x}.{at}@{}",
                rand::random::<u64>(),
                self.config.hostname
            ))
            .header(
                "Auto-Submitted",
                mail_builder::headers::raw::Raw::new("auto-replied"),
            )
            .text_body(reply.body.replace("\r\n", "\n").replace('\n', "\r\n"));
        if let Some(id) = message_id.filter(|m| !m.is_empty()) {
            builder = builder.in_reply_to(id.clone());
            references.push(id);
            builder = builder.references(references);
        }
        let message = match builder.write_to_vec() {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(error = %e, "vacation reply not built");
                return;
            }
        };
        let message = match self.dkim_sign(message.clone()) {
            Ok(signed) => signed,
            Err(_) => message,
        };
        let envelope = Envelope {
            mail_from: None,
            recipients: vec![to],
            dsn: None,
        };
        match Box::pin(self.deliver(&envelope, message)).await {
            Ok(_) => {
                tracing::info!(account = %account.address, to = %reply.to, "vacation reply sent")
            }
            Err(e) => {
                tracing::warn!(account = %account.address, error = %e, "vacation reply not sent")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn automatic_replies_follow_rfc_3834() {
        let own = ["a@x.vn".to_string(), "alias@x.vn".to_string()];
        let plain = h(&[("From", "s@y.vn"), ("Subject", "hi")]);
        assert_eq!(auto_reply_refusal(&plain, Some("s@y.vn"), &own), None);
        assert!(auto_reply_refusal(&plain, None, &own).is_some());
        assert!(auto_reply_refusal(&plain, Some(""), &own).is_some());
        assert!(auto_reply_refusal(&plain, Some("MAILER-DAEMON@y.vn"), &own).is_some());
        assert!(auto_reply_refusal(&plain, Some("owner-list@y.vn"), &own).is_some());
        assert!(auto_reply_refusal(&plain, Some("list-request@y.vn"), &own).is_some());
        assert!(auto_reply_refusal(&plain, Some("Alias@X.vn"), &own).is_some());
        for (name, value) in [
            ("Auto-Submitted", "auto-generated"),
            ("Auto-Submitted", "auto-replied; x=y"),
            ("Precedence", "bulk"),
            ("Precedence", "List"),
            ("Precedence", "junk"),
            ("List-Id", "<l.y.vn>"),
            ("List-Unsubscribe", "<mailto:u@y.vn>"),
            ("X-Auto-Response-Suppress", "OOF, DR"),
            ("X-Spam-Flag", "YES"),
        ] {
            let hs = h(&[("From", "s@y.vn"), (name, value)]);
            assert!(
                auto_reply_refusal(&hs, Some("s@y.vn"), &own).is_some(),
                "{name}: {value}"
            );
        }
        let no = h(&[("Auto-Submitted", "no"), ("Precedence", "normal")]);
        assert_eq!(auto_reply_refusal(&no, Some("s@y.vn"), &own), None);
    }

    #[test]
    fn headers_are_read_unfolded_up_to_the_body() {
        let raw = b"Subject: a\r\n b\r\nX-Spam-Flag:  YES \r\n\r\nX-Spam-Flag: NO\r\n";
        let hs = top_headers(raw);
        assert_eq!(hs[0], ("Subject".to_string(), "a b".to_string()));
        assert!(implicit_keep_is_junk(raw));
        assert!(!implicit_keep_is_junk(
            b"Subject: a\r\n\r\nX-Spam-Flag: YES\r\n"
        ));
        assert!(!implicit_keep_is_junk(b"X-Spam-Flag: NO\r\n\r\n"));
    }

    #[test]
    fn an_explicit_keep_is_told_from_comments_and_strings() {
        assert!(has_explicit_keep("if true { keep; }"));
        assert!(has_explicit_keep("KEEP;"));
        assert!(!has_explicit_keep("# keep\nfileinto \"keep\"; /* keep */"));
        assert!(!has_explicit_keep(
            "require \"vacation\";\nvacation text:\nkeep\n.\n;"
        ));
        assert!(!has_explicit_keep("fileinto \"keeper\";"));
        assert!(has_explicit_keep("/* x */ keep;"));
    }
}
