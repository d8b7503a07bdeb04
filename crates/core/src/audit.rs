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

/// What an inspector looks for in the audit log (SPEC §9): words found in the actor, the action
/// or the target (case and Vietnamese diacritics ignored), and a time range (Unix seconds,
/// `from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub words: String,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

impl AuditFilter {
    pub fn matches(&self, row: &AuditRecord) -> bool {
        if self.from.is_some_and(|from| row.at < from) || self.to.is_some_and(|to| row.at >= to) {
            return false;
        }
        let haystack = hopthu_model::text::search_fold(&format!(
            "{} {} {} {} {}",
            row.actor,
            row.action,
            row.target,
            row.before.as_deref().unwrap_or(""),
            row.after.as_deref().unwrap_or("")
        ));
        hopthu_model::text::search_fold(&self.words)
            .split_whitespace()
            .all(|word| haystack.contains(word))
    }
}

/// A search of the audit log: the matching rows in order, and where the hash chain of the
/// whole log breaks (`None`: intact).
#[derive(Debug, Clone)]
pub struct AuditSearch {
    pub rows: Vec<AuditRecord>,
    pub total: usize,
    pub broken_at: Option<i64>,
}

impl Core {
    /// The whole audit log in order. Focal only.
    pub async fn audit_log(&self, actor: &Actor) -> Result<Vec<AuditRecord>> {
        self.authorize_focal(actor)?;
        Ok(self.store.audit_log().await?)
    }

    /// The rows matching `filter`, with the chain of the whole log checked. Focal only.
    pub async fn audit_search(&self, actor: &Actor, filter: &AuditFilter) -> Result<AuditSearch> {
        let all = self.audit_log(actor).await?;
        let broken_at = verify_chain(&all);
        let total = all.len();
        let rows = all.into_iter().filter(|r| filter.matches(r)).collect();
        Ok(AuditSearch {
            rows,
            total,
            broken_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_filter_ignores_case_and_diacritics_and_bounds_the_time() {
        let mut rows = chain(3);
        rows[1].actor = "qtv@caobang.gov.vn".into();
        rows[1].action = "account.reset_password".into();
        rows[1].after = Some(r#"{"lý do":"Quên mật khẩu"}"#.into());
        let f = |words: &str, from: Option<i64>, to: Option<i64>| -> Vec<i64> {
            let filter = AuditFilter {
                words: words.into(),
                from,
                to,
            };
            rows.iter()
                .filter(|r| filter.matches(r))
                .map(|r| r.id)
                .collect()
        };
        assert_eq!(f("", None, None), vec![1, 2, 3]);
        assert_eq!(f("QTV reset", None, None), vec![2]);
        assert_eq!(f("quen mat khau", None, None), vec![2]);
        assert_eq!(f("qtv khac", None, None), Vec::<i64>::new());
        assert_eq!(f("", Some(1), Some(2)), vec![2]);
        assert_eq!(f("", Some(2), None), vec![3]);
    }

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
