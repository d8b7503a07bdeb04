//! GETQUOTA and GETQUOTAROOT (RFC 9208): one quota root per account, named "", governing
//! every folder; the STORAGE resource in units of 1024 octets. SETQUOTA is refused: quotas are
//! set by the operator (`[limits] account_quota`).
//!
//! ```text
//! C: a GETQUOTAROOT INBOX
//! S: * QUOTAROOT INBOX ""
//! S: * QUOTA "" (STORAGE 10 2097152)
//! S: a OK GETQUOTAROOT completed
//! ```

use imap_codec::imap_types::core::{AString, Vec1};
use imap_codec::imap_types::extensions::quota::{QuotaGet, Resource};
use imap_codec::imap_types::mailbox::Mailbox;
use imap_codec::imap_types::response::Data;

use super::{mailbox_name, wire_mailbox};
use crate::errors::{CmdError, CmdResult, Done};
use crate::session::Session;

/// The one quota root of an account.
fn root() -> AString<'static> {
    AString::try_from("").expect("empty string is a valid astring")
}

async fn push_quota(s: &mut Session) -> Result<(), CmdError> {
    let principal = s.principal()?;
    let quota = s.core.quota(&principal).await?;
    let storage = QuotaGet::new(
        Resource::Storage,
        quota.used.div_ceil(1024),
        quota.limit / 1024,
    );
    s.push_data(Data::Quota {
        root: root(),
        quotas: Vec1::from(storage),
    });
    Ok(())
}

pub(crate) async fn get_quota(s: &mut Session, root: &[u8]) -> CmdResult {
    if !root.is_empty() {
        return Err(CmdError::No(None, "No such quota root".into()));
    }
    push_quota(s).await?;
    Done::ok("GETQUOTA completed")
}

pub(crate) async fn get_quota_root(s: &mut Session, mailbox: &Mailbox<'_>) -> CmdResult {
    let principal = s.principal()?;
    let record = s
        .core
        .mailbox(&principal, &mailbox_name(mailbox, s.utf8))
        .await?;
    s.push_data(Data::QuotaRoot {
        mailbox: wire_mailbox(&record.name, s.utf8),
        roots: vec![root()],
    });
    push_quota(s).await?;
    Done::ok("GETQUOTAROOT completed")
}
