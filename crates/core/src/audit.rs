//! The audit log (Đ8, SPEC §5): every change by an administrator or the sweep — who, what,
//! when, before/after — appended in the same transaction as the change, as a hash chain.

pub use hopthu_store::{AUDIT_GENESIS, AuditRecord, CheckpointRecord, audit_hash};

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

/// The checkpoints the log no longer matches: a checkpoint's row missing or holding another
/// hash means the log was rewritten after the checkpoint was mailed (Đ16). One line each.
pub fn verify_checkpoints(rows: &[AuditRecord], checkpoints: &[CheckpointRecord]) -> Vec<String> {
    let mut problems = Vec::new();
    for c in checkpoints {
        let date = day_text(c.day);
        match rows.iter().find(|r| r.id == c.row_id) {
            None => problems.push(format!(
                "điểm neo ngày {date}: không còn dòng {} / checkpoint of {date}: row {} is gone",
                c.row_id, c.row_id
            )),
            Some(r) if r.hash != c.hash => problems.push(format!(
                "điểm neo ngày {date}: dòng {} đã bị sửa / checkpoint of {date}: row {} no longer has the hash {}",
                c.row_id, c.row_id, c.hash
            )),
            Some(_) => {}
        }
    }
    problems
}

/// A ledger day (days since 1970-01-01) as `YYYY-MM-DD`.
fn day_text(day: i64) -> String {
    chrono::DateTime::from_timestamp(day * 86_400, 0)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| day.to_string())
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
    /// Today's checkpoint of the audit log (Đ16), once a day: the chain's head is recorded and
    /// mailed to every inspector and to the focal unit. `None` when today has one already or
    /// the log is empty.
    pub async fn audit_checkpoint(&self) -> Result<Option<CheckpointRecord>> {
        let at = crate::now();
        let Some(checkpoint) = self
            .store
            .add_checkpoint(crate::ledger::local_day(at), at)
            .await?
        else {
            return Ok(None);
        };
        let mut to: Vec<hopthu_model::EmailAddress> = Vec::new();
        let (_, focal_address) = self.notice_issuer().await;
        let inspectors = self.store.admins().await?;
        for address in inspectors
            .iter()
            .filter(|a| a.scope == crate::AdminScope::Inspector)
            .map(|a| a.address.as_str())
            .chain([focal_address.as_str()])
        {
            if let Ok(a) = hopthu_model::EmailAddress::parse(address)
                && !to.contains(&a)
            {
                to.push(a);
            }
        }
        let date = day_text(checkpoint.day);
        let body = format!(
            "Điểm neo nhật ký kiểm tra ngày {date} (Đ16): dòng cuối {row}, mã băm\r\n\
             {hash}\r\n\
             Hãy lưu giữ thư này. Nếu sau này nhật ký bị viết lại, dòng {row} sẽ không còn mã băm\r\n\
             này và `hopthu lifecycle audit --verify` báo lỗi.\r\n\
             \r\n\
             Audit log checkpoint of {date}: last row {row}, hash\r\n\
             {hash}\r\n\
             Keep this message: a log rewritten later no longer has this hash at row {row}.\r\n",
            row = checkpoint.row_id,
            hash = checkpoint.hash,
        );
        let header_to: Vec<String> = to.iter().map(|a| format!("<{a}>")).collect();
        let message = crate::dsn::system_message(
            &self.config.domain,
            &self.config.hostname,
            &header_to.join(", "),
            &format!("Điểm neo nhật ký kiểm tra {date} / Audit log checkpoint {date}"),
            "checkpoint",
            &body,
        );
        if !to.is_empty() {
            let envelope = crate::Envelope {
                mail_from: None,
                recipients: to,
                dsn: None,
            };
            if let Err(e) = self.deliver(&envelope, message).await {
                tracing::warn!(error = %e, "audit checkpoint not delivered");
            }
        }
        tracing::info!(day = %date, row = checkpoint.row_id, "audit log checkpoint");
        Ok(Some(checkpoint))
    }

    /// Every checkpoint of the audit log. The focal unit or an inspector.
    pub async fn audit_checkpoints(&self, actor: &Actor) -> Result<Vec<CheckpointRecord>> {
        self.authorize_oversight(actor)?;
        Ok(self.store.checkpoints().await?)
    }

    /// The whole audit log in order. Focal only.
    pub async fn audit_log(&self, actor: &Actor) -> Result<Vec<AuditRecord>> {
        self.authorize_oversight(actor)?;
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
