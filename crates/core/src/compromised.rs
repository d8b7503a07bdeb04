//! "My account is compromised" (Đ13.4, SPEC §7): one action by the owner locks the mailbox,
//! ends every session, and starts the reset.
//!
//! [`Core::report_compromised`] replaces the password by a random one nobody is told (so no
//! sign-in works and every IMAP/POP3 session ends at its next check, `Core::still_valid`),
//! deletes the web sessions, writes `account.compromised` to the audit log in the same
//! transaction, and tells the focal unit (and the person's unit mailbox, when the directory
//! knows it) what to do: have the agency confirm in writing, then reset the password in the
//! console (`/admin`), which issues a one-time password the owner must change at once. Mail
//! keeps arriving meanwhile.

use std::net::IpAddr;

use hopthu_model::EmailAddress;
use hopthu_store::{LifecycleEffect, NewAudit};

use crate::accounts::{Secret, generate_password};
use crate::{Core, Envelope, Principal, Result, now};

impl Core {
    /// Locks the principal's mailbox after its owner reported it compromised.
    pub async fn report_compromised(&self, who: &Principal, ip: IpAddr) -> Result<()> {
        let secret = format!("{}{}", generate_password(), generate_password());
        let hash = self.hash_in_turn(secret, Secret::Generated).await?;
        let address = who.address.to_string();
        let effects = [LifecycleEffect::SetPassword {
            account: who.account,
            hash,
            must_change: true,
        }];
        let audit = [NewAudit {
            actor: address.clone(),
            action: "account.compromised".into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(serde_json::json!({ "ip": ip.to_string(), "locked": true }).to_string()),
        }];
        self.replace_password(who.account, &effects, &audit).await?;
        tracing::warn!(%address, %ip, "mailbox reported compromised and locked");

        let (_, focal) = self.notice_issuer().await;
        let mut recipients = vec![focal];
        if let Some(person) = self
            .store
            .people()
            .await?
            .into_iter()
            .find(|p| p.address == address)
            && let Some(unit) = self
                .store
                .units()
                .await?
                .into_iter()
                .find(|u| u.id == person.unit)
            && !recipients.contains(&unit.address)
        {
            recipients.push(unit.address);
        }
        let recipients: Vec<EmailAddress> = recipients
            .iter()
            .filter_map(|r| EmailAddress::parse(r).ok())
            .collect();
        let message = report(
            &self.config.domain,
            &self.config.hostname,
            &who.display_name,
            &address,
            &ip.to_string(),
            &recipients,
        );
        let envelope = Envelope {
            mail_from: None,
            recipients,
            dsn: None,
        };
        if let Err(e) = self.deliver(&envelope, message).await {
            tracing::warn!(%address, error = %e, "compromise report not delivered");
        }
        Ok(())
    }
}

/// The report to the focal unit, Vietnamese first, then English.
fn report(
    domain: &str,
    hostname: &str,
    name: &str,
    address: &str,
    ip: &str,
    to: &[EmailAddress],
) -> Vec<u8> {
    let at = now();
    let to: Vec<String> = to.iter().map(|a| format!("<{a}>")).collect();
    let name = name.replace(['\r', '\n'], " ");
    let body = format!(
        "{name} <{address}> báo hộp thư bị mất kiểm soát hoặc lộ mật khẩu (Điều 13.4), từ địa chỉ IP {ip}, lúc {}.\r\n\
         Hộp thư đã bị khoá: mọi phiên đăng nhập đã kết thúc và mật khẩu cũ không còn dùng được; thư đến vẫn được nhận.\r\n\
         Việc cần làm: cơ quan của người dùng xác nhận bằng văn bản; sau đó cấp lại mật khẩu tại trang quản trị (/admin), \
         người dùng phải đổi mật khẩu ngay khi đăng nhập.\r\n\
         \r\n\
         {name} <{address}> reported the mailbox compromised (article 13.4), from IP address {ip}, at {}.\r\n\
         The mailbox is locked: every session has ended and the old password no longer works; incoming mail is still kept.\r\n\
         Next: the user's agency confirms in writing; then reset the password in the console (/admin), and the user \
         must change it at the first sign-in.\r\n",
        crate::dsn::rfc2822_date(at),
        crate::dsn::rfc2822_date(at),
    );
    crate::dsn::system_message(
        domain,
        hostname,
        &to.join(", "),
        &format!("Báo mất kiểm soát hộp thư {address} / Mailbox reported compromised"),
        "compromised",
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::report;
    use hopthu_model::EmailAddress;

    #[test]
    fn the_report_names_the_mailbox_and_the_next_steps() {
        let to = [EmailAddress::parse("sokhcn@caobang.gov.vn").unwrap()];
        let raw = report(
            "caobang.gov.vn",
            "mail.caobang.gov.vn",
            "Nông Văn Đạt\r\nBcc: x@example.org",
            "datnv@caobang.gov.vn",
            "192.0.2.7",
            &to,
        );
        let mail = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            mail.subject(),
            Some("Báo mất kiểm soát hộp thư datnv@caobang.gov.vn / Mailbox reported compromised")
        );
        let body = mail.body_text(0).unwrap();
        assert!(body.contains("từ địa chỉ IP 192.0.2.7"), "{body}");
        assert!(body.contains("cấp lại mật khẩu"), "{body}");
        assert!(
            mail.bcc().is_none(),
            "a display name cannot add header lines"
        );
    }
}
