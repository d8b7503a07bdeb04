//! The audit log (Đ8, SPEC §5): every change by an administrator or the sweep — who, what,
//! when, before/after — appended in the same transaction as the change, as a hash chain.

pub use hopthu_store::{AUDIT_GENESIS, AuditRecord, audit_hash};

use crate::{Actor, Core, NewAudit, Result};

/// Where the chain breaks, if it does: the id of the first row whose stored hashes do not
/// follow from the rows before it.
pub fn verify_chain(rows: &[AuditRecord]) -> Option<i64> {
    let mut prev = AUDIT_GENESIS.to_string();
    for row in rows {
        let expected = audit_hash(
            &prev,
            row.at,
            &NewAudit {
                actor: row.actor.clone(),
                action: row.action.clone(),
                target: row.target.clone(),
                before: row.before.clone(),
                after: row.after.clone(),
            },
        );
        if row.prev_hash != prev || row.hash != expected {
            return Some(row.id);
        }
        prev = row.hash.clone();
    }
    None
}

impl Core {
    /// The whole audit log in order. Focal only.
    pub async fn audit_log(&self, actor: &Actor) -> Result<Vec<AuditRecord>> {
        self.authorize_focal(actor)?;
        Ok(self.store.audit_log().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<AuditRecord> {
        let mut prev = AUDIT_GENESIS.to_string();
        (0..n)
            .map(|i| {
                let row = NewAudit {
                    actor: "a".into(),
                    action: "x".into(),
                    target: format!("t{i}"),
                    before: None,
                    after: Some("{}".into()),
                };
                let hash = audit_hash(&prev, i as i64, &row);
                let rec = AuditRecord {
                    id: i as i64 + 1,
                    at: i as i64,
                    actor: row.actor,
                    action: row.action,
                    target: row.target,
                    before: row.before,
                    after: row.after,
                    prev_hash: prev.clone(),
                    hash: hash.clone(),
                };
                prev = hash;
                rec
            })
            .collect()
    }

    #[test]
    fn an_altered_row_breaks_the_chain() {
        let mut rows = chain(3);
        assert_eq!(verify_chain(&rows), None);
        rows[1].target = "other".into();
        assert_eq!(verify_chain(&rows), Some(2));
        let mut rows = chain(3);
        rows.remove(1);
        assert_eq!(verify_chain(&rows), Some(3));
    }
}
