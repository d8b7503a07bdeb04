//! Delivery status notifications (RFC 3464): the bounce sent when delivery failed for good, the
//! notice sent once when it is delayed, and the success notice for a local delivery whose
//! recipient asked for it with `NOTIFY=SUCCESS` (RFC 3461 §5.2.2). A `multipart/report; report-type=delivery-status`
//! with three parts: a human explanation in Vietnamese and English, the machine-readable
//! `message/delivery-status`, and the original message (`message/rfc822`) or only its header
//! (`text/rfc822-headers`) as RET asks (RFC 3461 §4.3).
//!
//! Notifications are sent from the null reverse-path `<>` (RFC 5321 §4.5.5) so they can never
//! cause a notification loop, and carry `Auto-Submitted: auto-replied` (RFC 3834).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Largest original returned whole when RET was not given; bigger ones return headers only.
const FULL_RETURN_LIMIT: usize = 256 * 1024;

/// Failed (bounce), delayed (warning) or delivered (success notice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Failed,
    Delayed,
    Delivered,
}

/// One recipient line of the report.
#[derive(Debug, Clone)]
pub struct RecipientReport {
    pub address: String,
    pub orcpt: Option<String>,
    /// Enhanced status code, e.g. `5.1.1`.
    pub status: String,
    /// What the remote server said (or our own reason).
    pub diagnostic: String,
    /// The remote reply came over SMTP (Diagnostic-Code type `smtp`).
    pub from_smtp: bool,
    pub remote_mta: Option<String>,
}

pub struct Report<'a> {
    pub action: Action,
    /// Our host name (Reporting-MTA).
    pub reporting_mta: &'a str,
    /// Our domain (postmaster address of the From field).
    pub domain: &'a str,
    /// The original sender, who receives the report.
    pub to: &'a str,
    pub envid: Option<&'a str>,
    /// RET=FULL or RET=HDRS when the sender asked.
    pub ret: Option<&'a str>,
    /// Unix seconds when the message was queued.
    pub arrival: i64,
    /// Unix seconds until which delivery goes on (delay notices).
    pub retry_until: Option<i64>,
    pub recipients: &'a [RecipientReport],
    pub original: &'a [u8],
}

pub(crate) fn rfc2822_date(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S +0000")
        .to_string()
}

/// A plain-text message the system itself sends (quota warnings, compromise reports): from the
/// postmaster, `Auto-Submitted`, UTF-8 body. `to` is the header's value as written.
pub(crate) fn system_message(
    domain: &str,
    hostname: &str,
    to: &str,
    subject: &str,
    kind: &str,
    body: &str,
) -> Vec<u8> {
    let at = crate::now();
    let mut out = String::with_capacity(body.len() + 512);
    out.push_str(&format!(
        "From: {} <postmaster@{domain}>\r\n",
        encoded_word("Hệ thống thư điện tử")
    ));
    out.push_str(&format!("To: {to}\r\n"));
    out.push_str(&format!("Subject: {}\r\n", encoded_word(subject)));
    out.push_str(&format!("Date: {}\r\n", rfc2822_date(at)));
    out.push_str(&format!(
        "Message-ID: <{kind}.{:x}.{at}@{hostname}>\r\n",
        rand::random::<u64>()
    ));
    out.push_str("Auto-Submitted: auto-generated\r\nMIME-Version: 1.0\r\n");
    out.push_str(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    out.push_str(body);
    out.into_bytes()
}

pub(crate) fn encoded_word(text: &str) -> String {
    format!("=?UTF-8?B?{}?=", BASE64.encode(text.as_bytes()))
}

/// Removes line breaks so foreign text cannot inject header lines.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

fn base64_lines(bytes: &[u8]) -> String {
    let b64 = BASE64.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 76 * 2 + 2);
    for chunk in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push_str("\r\n");
    }
    out
}

/// The header section of a message (up to the first empty line).
fn header_section(original: &[u8]) -> &[u8] {
    for (i, window) in original.windows(4).enumerate() {
        if window == b"\r\n\r\n" {
            return &original[..i + 2];
        }
    }
    for (i, window) in original.windows(2).enumerate() {
        if window == b"\n\n" {
            return &original[..i + 1];
        }
    }
    original
}

/// The human part: Vietnamese first (the users' language), English below.
fn human_text(r: &Report<'_>) -> String {
    let mut lines = Vec::new();
    let list = r
        .recipients
        .iter()
        .map(|rc| format!("  <{}>\n      {}", rc.address, one_line(&rc.diagnostic)))
        .collect::<Vec<_>>()
        .join("\n");
    match r.action {
        Action::Failed => {
            lines.push(format!(
                "Đây là thông báo tự động của máy chủ thư {}.\n\n\
                 Thư của bạn KHÔNG gửi được tới người nhận sau đây. Hệ thống đã dừng gửi lại:\n\n{list}\n\n\
                 Vui lòng kiểm tra địa chỉ người nhận. Nội dung thư gốc được đính kèm bên dưới.\n\
                 Nếu cần hỗ trợ, xin liên hệ cán bộ chuyên trách công nghệ thông tin của đơn vị.",
                r.reporting_mta
            ));
            lines.push(format!(
                "This is an automatic message from the mail server {}.\n\n\
                 Your message could NOT be delivered to the following recipients. \
                 Delivery has been abandoned:\n\n{list}\n\n\
                 Please check the recipient addresses. The original message is attached below.",
                r.reporting_mta
            ));
        }
        Action::Delayed => {
            lines.push(format!(
                "Đây là thông báo tự động của máy chủ thư {}.\n\n\
                 Thư của bạn CHƯA gửi được tới người nhận sau đây. Hệ thống vẫn đang tiếp tục \
                 gửi lại; bạn KHÔNG cần gửi lại thư:\n\n{list}\n\n\
                 Bạn sẽ nhận được thông báo nếu thư không thể gửi được.",
                r.reporting_mta
            ));
            lines.push(format!(
                "This is an automatic message from the mail server {}.\n\n\
                 Your message has NOT yet been delivered to the following recipients. \
                 The server keeps trying; you do NOT need to send it again:\n\n{list}\n\n\
                 You will be told if delivery finally fails.",
                r.reporting_mta
            ));
        }
        Action::Delivered => {
            lines.push(format!(
                "Đây là thông báo tự động của máy chủ thư {}.\n\n\
                 Thư của bạn ĐÃ được chuyển vào hộp thư của người nhận sau đây, \
                 theo yêu cầu báo nhận của bạn:\n\n{list}",
                r.reporting_mta
            ));
            lines.push(format!(
                "This is an automatic message from the mail server {}.\n\n\
                 Your message has been delivered to the mailbox of the following recipients, \
                 as you asked to be told:\n\n{list}",
                r.reporting_mta
            ));
        }
    }
    lines.join("\n\n------------------------------------------------------------\n\n")
}

/// Builds the notification, ready for `Core::deliver` from `<>` to `r.to`.
pub fn build(r: &Report<'_>, now: i64) -> Vec<u8> {
    let boundary = format!("hopthu-dsn-{:016x}", rand::random::<u64>());
    let subject = match r.action {
        Action::Failed => "Thư không gửi được / Undelivered Mail Returned to Sender",
        Action::Delayed => "Thư chậm gửi / Delayed Mail (still being retried)",
        Action::Delivered => "Thư đã được chuyển / Delivery Status Notification (Success)",
    };
    let mut out = String::new();
    out.push_str(&format!(
        "From: {} <postmaster@{}>\r\n",
        encoded_word("Hệ thống thư điện tử"),
        r.domain
    ));
    out.push_str(&format!("To: <{}>\r\n", r.to));
    out.push_str(&format!("Subject: {}\r\n", encoded_word(subject)));
    out.push_str(&format!("Date: {}\r\n", rfc2822_date(now)));
    out.push_str(&format!(
        "Message-ID: <dsn.{:x}.{now}@{}>\r\n",
        rand::random::<u64>(),
        r.reporting_mta
    ));
    out.push_str("Auto-Submitted: auto-replied\r\n");
    out.push_str("MIME-Version: 1.0\r\n");
    out.push_str(&format!(
        "Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary=\"{boundary}\"\r\n\r\n"
    ));
    out.push_str("This is a MIME-encapsulated delivery status notification.\r\n\r\n");

    // 1. Human part.
    out.push_str(&format!("--{boundary}\r\n"));
    out.push_str("Content-Type: text/plain; charset=utf-8\r\n");
    out.push_str("Content-Transfer-Encoding: base64\r\n\r\n");
    out.push_str(&base64_lines(
        human_text(r).replace('\n', "\r\n").as_bytes(),
    ));

    // 2. message/delivery-status (RFC 3464 §2.2, §2.3).
    out.push_str(&format!("--{boundary}\r\n"));
    out.push_str("Content-Type: message/delivery-status\r\n\r\n");
    out.push_str(&format!("Reporting-MTA: dns; {}\r\n", r.reporting_mta));
    if let Some(envid) = r.envid {
        out.push_str(&format!("Original-Envelope-Id: {}\r\n", one_line(envid)));
    }
    out.push_str(&format!("Arrival-Date: {}\r\n", rfc2822_date(r.arrival)));
    for rc in r.recipients {
        out.push_str("\r\n");
        if let Some(orcpt) = &rc.orcpt {
            out.push_str(&format!("Original-Recipient: {}\r\n", one_line(orcpt)));
        }
        out.push_str(&format!("Final-Recipient: rfc822; {}\r\n", rc.address));
        let action = match r.action {
            Action::Failed => "failed",
            Action::Delayed => "delayed",
            Action::Delivered => "delivered",
        };
        out.push_str(&format!("Action: {action}\r\n"));
        out.push_str(&format!("Status: {}\r\n", rc.status));
        if let Some(mta) = &rc.remote_mta {
            out.push_str(&format!("Remote-MTA: dns; {}\r\n", one_line(mta)));
        }
        let kind = if rc.from_smtp { "smtp" } else { "x-hopthu" };
        out.push_str(&format!(
            "Diagnostic-Code: {kind}; {}\r\n",
            one_line(&rc.diagnostic)
        ));
        out.push_str(&format!("Last-Attempt-Date: {}\r\n", rfc2822_date(now)));
        if let Some(until) = r.retry_until {
            out.push_str(&format!("Will-Retry-Until: {}\r\n", rfc2822_date(until)));
        }
    }
    out.push_str("\r\n");

    // 3. The original, whole or its header.
    // RET asks for the content of failure reports; a success notice carries the header only.
    let full = match r.ret.map(str::to_ascii_uppercase).as_deref() {
        _ if r.action == Action::Delivered => false,
        Some("FULL") => true,
        Some("HDRS") => false,
        _ => r.original.len() <= FULL_RETURN_LIMIT && r.action == Action::Failed,
    };
    out.push_str(&format!("--{boundary}\r\n"));
    let mut bytes = out.into_bytes();
    if full {
        bytes.extend_from_slice(b"Content-Type: message/rfc822\r\n\r\n");
        bytes.extend_from_slice(r.original);
        if !r.original.ends_with(b"\n") {
            bytes.extend_from_slice(b"\r\n");
        }
    } else {
        bytes.extend_from_slice(b"Content-Type: text/rfc822-headers\r\n\r\n");
        bytes.extend_from_slice(header_section(r.original));
    }
    bytes.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    bytes
}

/// Removes `SUCCESS` from every recipient's `NOTIFY` (RFC 3461 §4.1), for mail whose
/// reverse-path nobody vouched for (not signed in, SPF did not pass): a success notice to a
/// forged `MAIL FROM` is backscatter. A list left empty becomes `NEVER`.
pub fn drop_success_requests(dsn: &mut crate::QueueDsn) {
    for recipient in &mut dsn.recipients {
        let Some(list) = &recipient.notify else {
            continue;
        };
        if !list
            .split(',')
            .any(|item| item.trim().eq_ignore_ascii_case("SUCCESS"))
        {
            continue;
        }
        let kept: Vec<&str> = list
            .split(',')
            .map(str::trim)
            .filter(|item| !item.eq_ignore_ascii_case("SUCCESS"))
            .collect();
        recipient.notify = Some(if kept.is_empty() {
            "NEVER".to_string()
        } else {
            kept.join(",")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounce_has_the_three_parts() {
        let original = b"From: a@caobang.gov.vn\r\nSubject: x\r\n\r\nbody\r\n";
        let recipients = [RecipientReport {
            address: "bad@example.net".into(),
            orcpt: Some("rfc822;bad@example.net".into()),
            status: "5.1.1".into(),
            diagnostic: "mx.example.net said: 550 5.1.1 no such user\r\nX-Injected: 1".into(),
            from_smtp: true,
            remote_mta: Some("mx.example.net".into()),
        }];
        let report = Report {
            action: Action::Failed,
            reporting_mta: "mail.caobang.gov.vn",
            domain: "caobang.gov.vn",
            to: "a@caobang.gov.vn",
            envid: Some("abc123"),
            ret: None,
            arrival: 1_700_000_000,
            retry_until: None,
            recipients: &recipients,
            original,
        };
        let text = String::from_utf8(build(&report, 1_700_000_100)).unwrap();
        let message = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        assert_eq!(message.parts.len(), 4, "{text}");
        assert!(text.contains("report-type=delivery-status"));
        assert!(text.contains("Final-Recipient: rfc822; bad@example.net\r\n"));
        assert!(text.contains("Action: failed\r\nStatus: 5.1.1\r\n"));
        assert!(text.contains("Original-Envelope-Id: abc123\r\n"));
        assert!(!text.contains("\r\nX-Injected"), "{text}");
        assert!(text.contains("Content-Type: message/rfc822\r\n\r\nFrom: a@caobang.gov.vn"));
        let human = message.body_text(0).unwrap();
        assert!(human.contains("KHÔNG gửi được"), "{human}");
        assert!(human.contains("could NOT be delivered"), "{human}");
    }

    #[test]
    fn success_requests_are_dropped() {
        let mut dsn = crate::QueueDsn {
            envid: None,
            ret: None,
            recipients: vec![
                crate::RecipientDsn {
                    notify: Some("SUCCESS".into()),
                    orcpt: None,
                },
                crate::RecipientDsn {
                    notify: Some("FAILURE,success,DELAY".into()),
                    orcpt: None,
                },
                crate::RecipientDsn {
                    notify: Some("FAILURE".into()),
                    orcpt: None,
                },
                crate::RecipientDsn::default(),
            ],
        };
        super::drop_success_requests(&mut dsn);
        let notify: Vec<Option<&str>> =
            dsn.recipients.iter().map(|r| r.notify.as_deref()).collect();
        assert_eq!(
            notify,
            [Some("NEVER"), Some("FAILURE,DELAY"), Some("FAILURE"), None]
        );
    }

    #[test]
    fn success_notice_reports_delivered_with_the_header_only() {
        let original = b"From: a@caobang.gov.vn\r\nSubject: x\r\n\r\nsecret body\r\n";
        let recipients = [RecipientReport {
            address: "b@caobang.gov.vn".into(),
            orcpt: Some("rfc822;b@caobang.gov.vn".into()),
            status: "2.0.0".into(),
            diagnostic: "delivered to the mailbox".into(),
            from_smtp: false,
            remote_mta: None,
        }];
        let report = Report {
            action: Action::Delivered,
            reporting_mta: "mail.caobang.gov.vn",
            domain: "caobang.gov.vn",
            to: "a@caobang.gov.vn",
            envid: None,
            ret: Some("FULL"),
            arrival: 1_700_000_000,
            retry_until: None,
            recipients: &recipients,
            original,
        };
        let text = String::from_utf8(build(&report, 1_700_000_001)).unwrap();
        assert!(
            text.contains("Action: delivered\r\nStatus: 2.0.0\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Type: text/rfc822-headers\r\n\r\nFrom: a@"));
        assert!(!text.contains("secret body"), "{text}");
        let message = mail_parser::MessageParser::default()
            .parse(text.as_bytes())
            .unwrap();
        let human = message.body_text(0).unwrap();
        assert!(human.contains("ĐÃ được chuyển"), "{human}");
        assert!(human.contains("has been delivered"), "{human}");
    }
}
