//! The commands, one file each, and the dispatcher that checks the state a command needs
//! (RFC 3501 §6: any state, not authenticated, authenticated, selected) before running it.
//! Shared conversions between imap-types and the model live here.

pub(crate) mod acl;
pub(crate) mod append;
pub(crate) mod authenticate;
pub(crate) mod capability;
pub(crate) mod check;
pub(crate) mod close;
pub(crate) mod copy;
pub(crate) mod create;
pub(crate) mod delete;
pub(crate) mod enable;
pub(crate) mod expunge;
pub(crate) mod fetch;
pub(crate) mod id;
pub(crate) mod idle;
pub(crate) mod list;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod r#move;
pub(crate) mod namespace;
pub(crate) mod noop;
pub(crate) mod quota;
pub(crate) mod rename;
pub(crate) mod search;
pub(crate) mod searchres;
pub(crate) mod select;
pub(crate) mod sort;
pub(crate) mod starttls;
pub(crate) mod status;
pub(crate) mod store;
pub(crate) mod subscribe;
pub(crate) mod thread;
pub(crate) mod unauthenticate;
pub(crate) mod unselect;

use std::num::NonZeroU32;

use hopthu_model::{Flag as ModelFlag, Flags, Uid};
use imap_codec::imap_types::command::CommandBody;
use imap_codec::imap_types::core::{Atom, Vec1};
use imap_codec::imap_types::extensions::uidplus::{UidElement, UidSet};
use imap_codec::imap_types::flag::{Flag, FlagFetch};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::sequence::SequenceSet;

use crate::errors::{CmdError, CmdResult};
use crate::session::Session;

/// The state a command needs.
enum Needs {
    Any,
    NotAuthenticated,
    Authenticated,
    Selected,
}

fn needs(body: &CommandBody<'_>) -> Needs {
    use CommandBody as C;
    match body {
        C::Capability | C::Noop | C::Logout | C::Id { .. } => Needs::Any,
        C::StartTLS | C::Authenticate { .. } | C::Login { .. } => Needs::NotAuthenticated,
        C::Check
        | C::Close
        | C::Unselect
        | C::Expunge
        | C::ExpungeUid { .. }
        | C::Search { .. }
        | C::Sort { .. }
        | C::Thread { .. }
        | C::Fetch { .. }
        | C::Store { .. }
        | C::Copy { .. }
        | C::Move { .. } => Needs::Selected,
        _ => Needs::Authenticated,
    }
}

/// The check [`dispatch`] makes for commands that need a selected mailbox, for commands
/// parsed by hand.
pub(crate) fn needs_selected(s: &Session) -> Result<(), CmdError> {
    s.principal()?;
    s.selected()?;
    Ok(())
}

/// Runs a parsed command in the current state.
pub(crate) async fn dispatch(s: &mut Session, body: CommandBody<'_>) -> CmdResult {
    match needs(&body) {
        Needs::Any => {}
        Needs::NotAuthenticated if s.principal.is_some() => {
            return Err(CmdError::Bad("Already signed in".into()));
        }
        Needs::NotAuthenticated => {}
        Needs::Authenticated => {
            s.principal()?;
        }
        Needs::Selected => {
            s.principal()?;
            s.selected()?;
        }
    }
    use CommandBody as C;
    match body {
        C::Capability => capability::run(s),
        C::Noop => noop::run(s).await,
        C::Logout => logout::run(s),
        C::StartTLS => starttls::run(s),
        C::Authenticate {
            mechanism,
            initial_response,
        } => {
            let initial = initial_response.map(|r| r.declassify().to_vec());
            authenticate::run(s, &mechanism, initial).await
        }
        C::Login { username, password } => {
            login::run(s, username.as_ref(), password.declassify().as_ref()).await
        }
        C::Select {
            mailbox,
            parameters,
        } => select::run(s, &mailbox, false, &parameters).await,
        C::Examine {
            mailbox,
            parameters,
        } => select::run(s, &mailbox, true, &parameters).await,
        C::Unselect => unselect::run(s),
        C::Create { mailbox } => create::run(s, &mailbox).await,
        C::Delete { mailbox } => delete::run(s, &mailbox).await,
        C::Rename { from, to } => rename::run(s, &from, &to).await,
        C::Subscribe { mailbox } => subscribe::run(s, &mailbox, true).await,
        C::Unsubscribe { mailbox } => subscribe::run(s, &mailbox, false).await,
        C::List {
            reference,
            mailbox_wildcard,
        } => {
            let request = list::ListRequest::new(&reference, &mailbox_wildcard, s.utf8);
            list::run(s, request, false).await
        }
        C::Lsub {
            reference,
            mailbox_wildcard,
        } => {
            let request = list::ListRequest::new(&reference, &mailbox_wildcard, s.utf8);
            list::run(s, request, true).await
        }
        C::Status {
            mailbox,
            item_names,
        } => status::run(s, &mailbox, item_names.as_ref()).await,
        C::Append {
            mailbox,
            flags,
            date,
            message,
        } => append::run(s, &mailbox, &flags, date.as_ref(), message).await,
        C::Check => check::run(s).await,
        C::Close => close::run(s).await,
        C::Expunge => expunge::run(s, None).await,
        C::ExpungeUid { sequence_set } => expunge::run(s, Some(&sequence_set)).await,
        C::Search {
            charset,
            criteria,
            uid,
        } => search::run(s, charset.as_ref(), criteria.as_ref(), uid).await,
        C::Sort {
            sort_criteria,
            charset,
            search_criteria,
            uid,
        } => {
            sort::run(
                s,
                sort_criteria.as_ref(),
                &charset,
                search_criteria.as_ref(),
                uid,
            )
            .await
        }
        C::Thread {
            algorithm,
            charset,
            search_criteria,
            uid,
        } => thread::run(s, &algorithm, &charset, search_criteria.as_ref(), uid).await,
        C::Fetch {
            sequence_set,
            macro_or_item_names,
            uid,
            modifiers,
        } => fetch::run(s, &sequence_set, macro_or_item_names, uid, &modifiers).await,
        C::Store {
            sequence_set,
            kind,
            response,
            flags,
            uid,
            modifiers,
        } => {
            let flags = store::FlagChange {
                kind,
                response,
                flags: &flags,
            };
            store::run(s, &sequence_set, flags, uid, &modifiers).await
        }
        C::Copy {
            sequence_set,
            mailbox,
            uid,
        } => copy::run(s, &sequence_set, &mailbox, uid).await,
        C::Move {
            sequence_set,
            mailbox,
            uid,
        } => r#move::run(s, &sequence_set, &mailbox, uid).await,
        C::Idle => idle::run(s).await,
        C::Enable { capabilities } => enable::run(s, capabilities.as_ref()),
        C::Id { parameters } => id::run(s, parameters.as_deref()),
        C::Namespace => namespace::run(s),
        C::GetQuota { root } => quota::get_quota(s, root.as_ref()).await,
        C::GetQuotaRoot { mailbox } => quota::get_quota_root(s, &mailbox).await,
        C::SetQuota { .. } => Err(CmdError::No(
            Some(crate::errors::code("NOPERM")),
            "Quotas are set by the operator".into(),
        )),
        other => Err(CmdError::Bad(format!("{} is not supported", other.name()))),
    }
}

/// A mailbox name from the client, as stored (UTF-8). IMAP4rev1 clients send modified UTF-7
/// (RFC 3501 §5.1.3); once IMAP4rev2 is enabled names are UTF-8 as sent (RFC 9051 §5.1), so
/// `&` stands for itself.
pub(crate) fn mailbox_name(mailbox: &Mailbox<'_>, utf8: bool) -> String {
    match mailbox {
        Mailbox::Inbox => "INBOX".to_string(),
        Mailbox::Other(other) if utf8 => String::from_utf8_lossy(other.as_ref()).into_owned(),
        Mailbox::Other(other) => crate::mutf7::from_wire(other.as_ref()),
    }
}

/// A stored mailbox name on the wire: modified UTF-7, or a UTF-8 quoted string once IMAP4rev2
/// is enabled.
pub(crate) fn wire_mailbox(name: &str, utf8: bool) -> Mailbox<'static> {
    use imap_codec::imap_types::core::{AString, IString};
    use imap_codec::imap_types::extensions::utf8::QuotedUtf8;
    if name.eq_ignore_ascii_case("INBOX") {
        return Mailbox::Inbox;
    }
    if !utf8 {
        return Mailbox::try_from(crate::mutf7::encode(name)).unwrap_or(Mailbox::Inbox);
    }
    if name.is_ascii() {
        return Mailbox::try_from(name.to_string()).unwrap_or(Mailbox::Inbox);
    }
    QuotedUtf8::try_from(name.to_string())
        .map(|quoted| Mailbox::from(AString::String(IString::QuotedUtf8(quoted))))
        .unwrap_or(Mailbox::Inbox)
}

/// A flag from the client; `\Recent` and unknown system flags are not storable.
pub(crate) fn model_flag(flag: &Flag<'_>) -> Option<ModelFlag> {
    Some(match flag {
        Flag::Seen => ModelFlag::Seen,
        Flag::Answered => ModelFlag::Answered,
        Flag::Flagged => ModelFlag::Flagged,
        Flag::Deleted => ModelFlag::Deleted,
        Flag::Draft => ModelFlag::Draft,
        Flag::Keyword(atom) => ModelFlag::parse(atom.inner())?,
        Flag::Extension(_) => return None,
    })
}

/// Refuses a flag written `NIL`: `STORE 1 FLAGS NIL` reads as the keyword `NIL` in the
/// unparenthesised form imap-codec accepts, but a flag list is `"(" [flag *(SP flag)] ")"`
/// (RFC 3501 §9) and NIL is not one; no keyword by that name is made.
pub(crate) fn check_flags(flags: &[Flag<'_>]) -> Result<(), CmdError> {
    if flags
        .iter()
        .any(|f| matches!(f, Flag::Keyword(k) if k.as_ref().eq_ignore_ascii_case("NIL")))
    {
        return Err(CmdError::Bad("NIL is not a flag list".into()));
    }
    Ok(())
}

pub(crate) fn model_flags(flags: &[Flag<'_>]) -> Flags {
    Flags::from_iter(flags.iter().filter_map(model_flag))
}

pub(crate) fn imap_flag(flag: &ModelFlag) -> Option<Flag<'static>> {
    Some(match flag {
        ModelFlag::Seen => Flag::Seen,
        ModelFlag::Answered => Flag::Answered,
        ModelFlag::Flagged => Flag::Flagged,
        ModelFlag::Deleted => Flag::Deleted,
        ModelFlag::Draft => Flag::Draft,
        ModelFlag::Keyword(k) => Flag::Keyword(Atom::try_from(k.clone()).ok()?),
    })
}

/// Flags as a FETCH response lists them, with `\Recent` when the message is recent in
/// this session.
pub(crate) fn flag_fetch(flags: &Flags, recent: bool) -> Vec<FlagFetch<'static>> {
    let mut out: Vec<FlagFetch<'static>> = flags
        .iter()
        .filter_map(imap_flag)
        .map(FlagFetch::Flag)
        .collect();
    if recent {
        out.push(FlagFetch::Recent);
    }
    out
}

/// UIDs as a compact UIDPLUS set (`1:3,7`), in the given order (RFC 4315 §3 pairs source and
/// destination sets by position, so they are not re-sorted).
pub(crate) fn uid_set(uids: &[Uid]) -> Option<UidSet> {
    let mut elements: Vec<UidElement> = Vec::new();
    let mut run: Option<(u32, u32)> = None;
    let close = |run: (u32, u32), elements: &mut Vec<UidElement>| {
        let (Some(a), Some(b)) = (NonZeroU32::new(run.0), NonZeroU32::new(run.1)) else {
            return;
        };
        elements.push(if a == b {
            UidElement::Single(a)
        } else {
            UidElement::Range(a, b)
        });
    };
    for uid in uids {
        run = match run {
            Some((a, b)) if b.checked_add(1) == Some(uid.0) => Some((a, uid.0)),
            Some(r) => {
                close(r, &mut elements);
                Some((uid.0, uid.0))
            }
            None => Some((uid.0, uid.0)),
        };
    }
    if let Some(r) = run {
        close(r, &mut elements);
    }
    Vec1::try_from(elements).ok().map(UidSet)
}

/// Numbers (UIDs or sequence numbers) as a compact sequence set (`1:3,7`), ascending.
pub(crate) fn number_set(numbers: impl IntoIterator<Item = u32>) -> Option<SequenceSet> {
    compact_numbers(numbers).parse().ok()
}

pub(crate) use hopthu_model::ids::compact_numbers;

/// UIDs as a sequence set (VANISHED, MODIFIED).
pub(crate) fn sequence_set(uids: &[Uid]) -> Option<SequenceSet> {
    number_set(uids.iter().map(|u| u.0))
}

/// The UIDs of the positions a sequence set resolved to.
pub(crate) fn uids_at(s: &Session, positions: &[usize]) -> Vec<Uid> {
    s.selected
        .as_ref()
        .map(|sel| positions.iter().map(|&i| sel.uid(i)).collect())
        .unwrap_or_default()
}

/// The full records (blob, size, date) of the messages at `positions` (ascending), read from
/// the store in one query; `None` for a message expunged since the view was taken.
pub(crate) async fn records_at(
    s: &Session,
    positions: &[usize],
) -> Result<Vec<Option<hopthu_core::MessageRecord>>, CmdError> {
    let principal = s.principal()?;
    let id = s.selected()?.id;
    let uids = uids_at(s, positions);
    let mut records = s
        .core
        .messages_by_uid(&principal, id, &uids)
        .await?
        .into_iter()
        .peekable();
    Ok(uids
        .iter()
        .map(|uid| {
            while records.peek().is_some_and(|r| r.uid < *uid) {
                records.next();
            }
            records.next_if(|r| r.uid == *uid)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_compact_and_ordered() {
        let set = |u: &[u32]| {
            uid_set(&u.iter().map(|x| Uid(*x)).collect::<Vec<_>>()).map(|s| {
                s.0.as_ref()
                    .iter()
                    .map(|e| match e {
                        UidElement::Single(a) => a.to_string(),
                        UidElement::Range(a, b) => format!("{a}:{b}"),
                    })
                    .collect::<Vec<_>>()
                    .join(",")
            })
        };
        assert_eq!(set(&[1, 2, 3, 7, 9, 10]).as_deref(), Some("1:3,7,9:10"));
        assert_eq!(set(&[5]).as_deref(), Some("5"));
        assert_eq!(set(&[]), None);
    }

    #[test]
    fn mailbox_names_round_trip() {
        for utf8 in [false, true] {
            for name in ["INBOX", "Sent", "Công văn/Đến", "A&B"] {
                assert_eq!(mailbox_name(&wire_mailbox(name, utf8), utf8), name);
            }
            assert_eq!(
                mailbox_name(&Mailbox::try_from("inbox").unwrap(), utf8),
                "INBOX"
            );
        }
        let encode = |m: &Mailbox<'_>| {
            use imap_codec::encode::Encoder;
            use imap_codec::imap_types::response::{Data, Response};
            let list = Response::Data(Data::List {
                items: vec![],
                delimiter: None,
                mailbox: m.clone(),
            });
            String::from_utf8(imap_codec::ResponseCodec::default().encode(&list).dump()).unwrap()
        };
        assert_eq!(
            encode(&wire_mailbox("Công văn", false)),
            "* LIST () NIL \"C&APQ-ng v&AQM-n\"\r\n"
        );
        assert_eq!(
            encode(&wire_mailbox("Công văn", true)),
            "* LIST () NIL \"Công văn\"\r\n"
        );
        // IMAP4rev2: "&" is itself, not the start of a modified UTF-7 run.
        assert_eq!(
            mailbox_name(&Mailbox::try_from("&ARA-").unwrap(), true),
            "&ARA-"
        );
        assert_eq!(
            mailbox_name(&Mailbox::try_from("&ARA-").unwrap(), false),
            "Đ"
        );
    }
}
