//! The mailbox quota for mail that arrives (SPEC §7; APPEND, COPY and MOVE check it in
//! `mail.rs`): a full mailbox refuses new mail at RCPT with a temporary `452 4.2.2`, so the
//! sending server keeps the message and retries while the owner makes room, and an account whose
//! use crosses `[limits] quota_warn_percent` of `account_quota` gets one warning in its INBOX.
//! The warning is not repeated until the use has fallen below the threshold and crossed it
//! again (`accounts.quota_warned_at`). Mail the system itself sends (notices, reports) is
//! always delivered.

use hopthu_model::{AccountId, EmailAddress};

use crate::{Core, Envelope, Result, now};

impl Core {
    /// Whether the account uses its whole quota.
    pub(crate) async fn is_full(&self, account: AccountId) -> Result<bool> {
        let (used, _) = self.store.account_usage(account).await?;
        Ok(used >= self.config.limits.account_quota)
    }

    /// The byte count from which an account is warned, or `None` when warnings are off.
    fn warn_threshold(&self) -> Option<u64> {
        let percent = u128::from(self.config.limits.quota_warn_percent);
        (percent > 0).then(|| {
            (u128::from(self.config.limits.account_quota) * percent / 100).min(u64::MAX as u128)
                as u64
        })
    }

    /// After a delivery: warns each account that has just crossed the threshold.
    pub(crate) async fn warn_nearly_full(&self, accounts: &[AccountId]) {
        let Some(threshold) = self.warn_threshold() else {
            return;
        };
        let states = match self.store.quota_warnings(accounts).await {
            Ok(states) => states,
            Err(e) => {
                tracing::warn!(error = %e, "quota warnings not checked");
                return;
            }
        };
        for (account, used, warned) in states {
            let result = match (used >= threshold, warned) {
                (true, None) => self.send_quota_warning(account, used).await,
                (false, Some(_)) => self
                    .store
                    .set_quota_warned(account, None)
                    .await
                    .map_err(Into::into),
                _ => Ok(()),
            };
            if let Err(e) = result {
                tracing::warn!(%account, error = %e, "quota warning not handled");
            }
        }
    }

    async fn send_quota_warning(&self, account: AccountId, used: u64) -> Result<()> {
        // Marked first: the warning's own delivery must not warn again.
        self.store.set_quota_warned(account, Some(now())).await?;
        let Some(record) = self.store.account(account).await? else {
            return Ok(());
        };
        let Ok(to) = EmailAddress::parse(&record.address) else {
            return Ok(());
        };
        let message = quota_warning(
            &self.config.domain,
            &self.config.hostname,
            &record.address,
            used,
            self.config.limits.account_quota,
        );
        let envelope = Envelope {
            mail_from: None,
            recipients: vec![to],
            dsn: None,
        };
        // Boxed: `deliver` calls this, and this calls `deliver` (once: the mark is set).
        Box::pin(self.deliver(&envelope, message)).await?;
        tracing::info!(to = %record.address, used, "quota warning sent");
        Ok(())
    }
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
}

/// The warning, Vietnamese first, then English.
fn quota_warning(domain: &str, hostname: &str, to: &str, used: u64, limit: u64) -> Vec<u8> {
    let percent = if limit == 0 {
        100
    } else {
        (u128::from(used) * 100 / u128::from(limit)) as u64
    };
    let body = format!(
        "Hộp thư {to} đã dùng {} trên {} được cấp ({percent}%).\r\n\
         Khi hộp thư đầy, thư mới gửi đến sẽ bị từ chối tạm thời cho đến khi có chỗ trống.\r\n\
         Hãy xoá những thư không cần giữ (nhất là thư có tệp đính kèm lớn) và dọn thư mục Thùng rác.\r\n\
         \r\n\
         The mailbox {to} uses {} of its {} ({percent}%).\r\n\
         Once it is full, new mail is refused for the time being until there is room again.\r\n\
         Please delete what you need not keep (large attachments first) and empty the Trash.\r\n",
        mib(used),
        mib(limit),
        mib(used),
        mib(limit),
    );
    crate::dsn::system_message(
        domain,
        hostname,
        &format!("<{to}>"),
        "Hộp thư sắp đầy / Your mailbox is almost full",
        "quota",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::quota_warning;

    #[test]
    fn the_warning_says_how_full_in_both_languages() {
        let text = String::from_utf8(quota_warning(
            "caobang.gov.vn",
            "mail.caobang.gov.vn",
            "datnv@caobang.gov.vn",
            95 * 1024 * 1024,
            100 * 1024 * 1024,
        ))
        .unwrap();
        assert!(
            text.contains("đã dùng 95.0 MB trên 100.0 MB được cấp (95%)"),
            "{text}"
        );
        assert!(
            text.contains("uses 95.0 MB of its 100.0 MB (95%)"),
            "{text}"
        );
        assert!(text.starts_with("From: =?UTF-8?B?"), "{text}");
        let mail = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(
            mail.subject(),
            Some("Hộp thư sắp đầy / Your mailbox is almost full")
        );
    }
}
