//! This process as one node of an installation. Several `hopthu serve` processes may share
//! one PostgreSQL database and one blob store; each has its own data directory (certificate,
//! DKIM keys, listeners) and a name, `data_dir/node-id`, made once and kept, so that a node
//! started again after a crash recognises the outbound work it had claimed and gives it back
//! (`Core::release_claimed_queue`) instead of leaving it to the lease's end.

use std::path::Path;
use std::sync::{Arc, Weak};

use hopthu_model::{AccountId, MailboxId};
use hopthu_store::{Job, JobGuard};
use tokio::sync::mpsc;

use crate::{Core, Error, MailEvent, Result};

/// The node's name: `data_dir/node-id`, created on first start.
pub(crate) fn node_id(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("node-id");
    match std::fs::read_to_string(&path) {
        Ok(id) if !id.trim().is_empty() => return Ok(id.trim().to_string()),
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Error::new(
                crate::ErrorKind::Temporary,
                format!("read {}: {e}", path.display()),
            ));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Error::new(
            crate::ErrorKind::Temporary,
            format!("create {}: {e}", data_dir.display()),
        )
    })?;
    let host = hostname();
    let id = format!("{host}-{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff);
    std::fs::write(&path, format!("{id}\n")).map_err(|e| {
        Error::new(
            crate::ErrorKind::Temporary,
            format!("write {}: {e}", path.display()),
        )
    })?;
    Ok(id)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| {
            h.trim()
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect::<String>()
        })
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

impl Core {
    /// Whether this node may run a periodic job now: `None` while another node sharing the
    /// database runs it ([`hopthu_store::NodeStore::try_job`]). Hold the guard while running.
    pub async fn try_job(&self, job: Job) -> Result<Option<JobGuard>> {
        Ok(self.store.try_job(job).await?)
    }

    /// This node's name among the nodes sharing the database.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }
}

/// A mailbox change on the wire between nodes: `node account mailbox`.
fn payload(node: &str, event: MailEvent) -> String {
    format!("{node} {} {}", event.account.0, event.mailbox.0)
}

/// The change in a payload, unless this node sent it (it told its own sessions already).
fn parse(own: &str, payload: &str) -> Option<MailEvent> {
    let mut parts = payload.split(' ');
    let (node, account, mailbox) = (parts.next()?, parts.next()?, parts.next()?);
    if node == own || parts.next().is_some() {
        return None;
    }
    Some(MailEvent {
        account: AccountId(account.parse().ok()?),
        mailbox: MailboxId(mailbox.parse().ok()?),
    })
}

/// With a shared database (PostgreSQL), mailbox changes cross nodes: what this node
/// announces ([`Core::notify`]) is sent on to the others, in batches, by one task; what the
/// others announce is handed to this node's sessions (IMAP IDLE, the webmail's live
/// updates) as if it happened here. On the embedded store there are no other nodes.
pub(crate) async fn start_exchange(
    core: &Arc<Core>,
    mut outgoing: mpsc::UnboundedReceiver<MailEvent>,
) -> Result<()> {
    let Some(mut incoming) = core.store.listen_changes().await? else {
        return Ok(());
    };
    let weak: Weak<Core> = Arc::downgrade(core);
    tokio::spawn(async move {
        let mut batch = Vec::new();
        while outgoing.recv_many(&mut batch, 256).await > 0 {
            let Some(core) = weak.upgrade() else { break };
            let payloads: Vec<String> =
                batch.drain(..).map(|e| payload(&core.node_id, e)).collect();
            if let Err(e) = core.store.announce_changes(&payloads).await {
                tracing::warn!(error = %e, "cannot tell the other nodes of changes");
            }
        }
    });
    let weak: Weak<Core> = Arc::downgrade(core);
    tokio::spawn(async move {
        while let Some(payload) = incoming.recv().await {
            let Some(core) = weak.upgrade() else { break };
            if let Some(event) = parse(&core.node_id, &payload) {
                let _ = core.events.send(event);
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_round_trip_and_own_ones_are_ignored() {
        let e = MailEvent {
            account: AccountId(7),
            mailbox: MailboxId(42),
        };
        let p = payload("a-1", e);
        assert_eq!(p, "a-1 7 42");
        assert_eq!(parse("b-2", &p), Some(e));
        assert_eq!(parse("a-1", &p), None);
        assert_eq!(parse("b-2", "a-1 7"), None);
        assert_eq!(parse("b-2", "a-1 x 42"), None);
        assert_eq!(parse("b-2", "a-1 7 42 9"), None);
    }
}
