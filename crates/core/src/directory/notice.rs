//! Written notices to units (Đ8): "Thông báo về việc cấp/thu hồi hộp thư điện tử" in the
//! Vietnamese administrative layout (issuing body, national motto, number and date, subject, the
//! list of addresses with reasons, recipients), as plain text and HTML, and the MIME message
//! that carries both into the unit mailbox. Pure functions.

use base64::Engine as _;

/// Why a notice is issued: decides its subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    /// New mailboxes (new hire, transfer in) and re-issued ones.
    Grant,
    /// Revoked mailboxes.
    Revoke,
    /// Mailboxes that moved between units.
    Transfer,
    /// A unit mailbox handed over to a new head (Đ12.3).
    Handover,
    /// Units created, renamed, moved, merged or dissolved (Đ6 after go-live).
    Reorganise,
    /// A person's details corrected (name, position, phone), with a new address if any.
    Update,
}

impl NoticeKind {
    /// The subject line ("trích yếu").
    pub fn subject(self) -> &'static str {
        match self {
            NoticeKind::Grant => "Về việc cấp hộp thư điện tử",
            NoticeKind::Revoke => "Về việc thu hồi hộp thư điện tử",
            NoticeKind::Transfer => "Về việc điều chuyển hộp thư điện tử",
            NoticeKind::Handover => "Về việc bàn giao hộp thư điện tử của đơn vị",
            NoticeKind::Reorganise => "Về việc sắp xếp đơn vị và hộp thư điện tử",
            NoticeKind::Update => "Về việc cập nhật thông tin hộp thư điện tử",
        }
    }

    fn verb(self) -> &'static str {
        match self {
            NoticeKind::Grant => "cấp",
            NoticeKind::Revoke => "thu hồi",
            NoticeKind::Transfer => "điều chuyển",
            NoticeKind::Handover => "bàn giao",
            NoticeKind::Reorganise => "sắp xếp",
            NoticeKind::Update => "cập nhật thông tin",
        }
    }
}

/// One line of a notice's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticeLine {
    pub full_name: String,
    pub address: String,
    /// "Tuyển dụng mới", "Nghỉ hưu", "Không sử dụng quá 6 tháng (Đ8.3)"…
    pub reason: String,
}

/// What a notice says.
#[derive(Debug, Clone)]
pub struct NoticeContent<'a> {
    pub kind: NoticeKind,
    /// The issuing body, e.g. "Sở Khoa học và Công nghệ".
    pub issuer: &'a str,
    /// "12/TB-SKHCN".
    pub reference: &'a str,
    /// The place in the date line: "Cao Bằng".
    pub place: &'a str,
    /// Local date (day, month, year).
    pub date: (u32, u32, i32),
    /// The unit it is addressed to.
    pub unit_name: &'a str,
    pub lines: &'a [NoticeLine],
}

/// "TB-" followed by the initials of the issuer's words, without "và" (Sở Khoa học và Công nghệ
/// → TB-SKHCN).
pub fn default_symbol(issuer: &str) -> String {
    let initials: String = issuer
        .split_whitespace()
        .filter(|w| !w.eq_ignore_ascii_case("và"))
        .filter_map(|w| w.chars().next())
        .map(|c| ascii_letter(c).to_ascii_uppercase())
        .collect();
    format!("TB-{initials}")
}

/// A Vietnamese letter without its marks (Đ → D, Ở → O).
fn ascii_letter(c: char) -> char {
    let folded = hopthu_model::text::search_fold(&c.to_string());
    folded.chars().next().unwrap_or(c)
}

/// The notice as plain text.
pub fn render_text(n: &NoticeContent<'_>) -> String {
    let (d, m, y) = n.date;
    let mut out = String::new();
    out.push_str(&format!(
        "{}\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n\n",
        n.issuer.to_uppercase()
    ));
    out.push_str(&format!("Số: {}\n", n.reference));
    out.push_str(&format!(
        "{}, ngày {d:02} tháng {m:02} năm {y}\n\n",
        n.place
    ));
    out.push_str("THÔNG BÁO\n");
    out.push_str(n.kind.subject());
    out.push_str("\n\n");
    out.push_str(&format!("Kính gửi: {}\n\n", n.unit_name));
    out.push_str(&format!(
        "Căn cứ Quy chế sử dụng thư điện tử trong hoạt động của cơ quan nhà nước tỉnh {} \
         (Quyết định số 75/QĐ-UBND), {} thông báo việc {} hộp thư điện tử như sau:\n\n",
        n.place,
        n.issuer,
        n.kind.verb()
    ));
    for (i, line) in n.lines.iter().enumerate() {
        out.push_str(&format!(
            "{}. {} — {} — Lý do: {}\n",
            i + 1,
            line.full_name,
            line.address,
            line.reason
        ));
    }
    out.push_str(&format!(
        "\n{} đề nghị đơn vị thông báo tới cán bộ liên quan và phối hợp thực hiện.\n\n",
        n.issuer
    ));
    out.push_str("Nơi nhận:\n- Như trên;\n- Lưu: VT.\n");
    out
}

/// The notice as an HTML document: a maud template, so every value is escaped.
pub fn render_html(n: &NoticeContent<'_>) -> String {
    use maud::{DOCTYPE, html};
    let (d, m, y) = n.date;
    let subject = n.kind.subject();
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                title { (n.reference) " " (subject) }
            }
            body {
                table style="width:100%" {
                    tr {
                        td style="text-align:center" {
                            strong { (n.issuer.to_uppercase()) } br; "Số: " (n.reference)
                        }
                        td style="text-align:center" {
                            strong { "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" } br;
                            strong { "Độc lập - Tự do - Hạnh phúc" } br;
                            em { (n.place) ", ngày " (format!("{d:02}")) " tháng " (format!("{m:02}")) " năm " (y) }
                        }
                    }
                }
                h1 style="text-align:center" { "THÔNG BÁO" }
                p style="text-align:center" { strong { (subject) } }
                p { "Kính gửi: " (n.unit_name) }
                p {
                    "Căn cứ Quy chế sử dụng thư điện tử trong hoạt động của cơ quan nhà nước tỉnh "
                    (n.place) " (Quyết định số 75/QĐ-UBND), " (n.issuer) " thông báo việc "
                    (n.kind.verb()) " hộp thư điện tử như sau:"
                }
                table border="1" cellpadding="4" style="border-collapse:collapse" {
                    tr { th { "STT" } th { "Họ và tên" } th { "Địa chỉ thư điện tử" } th { "Lý do" } }
                    @for (i, line) in n.lines.iter().enumerate() {
                        tr {
                            td { (i + 1) }
                            td { (line.full_name) }
                            td { (line.address) }
                            td { (line.reason) }
                        }
                    }
                }
                p { (n.issuer) " đề nghị đơn vị thông báo tới cán bộ liên quan và phối hợp thực hiện." }
                p { strong { "Nơi nhận:" } br; "- Như trên;" br; "- Lưu: VT." }
            }
        }
    }
    .into_string()
}

/// A message carrying a notice or a warning.
#[derive(Debug, Clone, Copy)]
pub struct NoticeMail<'a> {
    pub from: &'a str,
    pub from_name: &'a str,
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: Option<&'a str>,
}

/// The MIME message (multipart/alternative when there is HTML; UTF-8, base64) of a notice.
pub fn mime_message(mail: &NoticeMail<'_>, date: &str, message_id: &str) -> Vec<u8> {
    let NoticeMail {
        from,
        from_name,
        to,
        subject,
        text,
        html,
    } = *mail;
    let b64 = base64::engine::general_purpose::STANDARD;
    let encoded_subject = format!("=?UTF-8?B?{}?=", b64.encode(subject));
    let encoded_name = format!("=?UTF-8?B?{}?=", b64.encode(from_name));
    let wrap = |s: &str| -> String {
        let e = b64.encode(s);
        e.as_bytes()
            .chunks(76)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\r\n")
    };
    let mut out = format!(
        "From: {encoded_name} <{from}>\r\nTo: <{to}>\r\nSubject: {encoded_subject}\r\n\
         Date: {date}\r\nMessage-ID: <{message_id}>\r\nMIME-Version: 1.0\r\n"
    );
    match html {
        None => {
            out.push_str(
                "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n",
            );
            out.push_str(&wrap(text));
            out.push_str("\r\n");
        }
        Some(html) => {
            let boundary = format!("=_notice_{}", message_id.replace(['@', '.'], "_"));
            out.push_str(&format!(
                "Content-Type: multipart/alternative; boundary=\"{boundary}\"\r\n\r\n"
            ));
            for (ctype, body) in [("text/plain", text), ("text/html", html)] {
                out.push_str(&format!(
                    "--{boundary}\r\nContent-Type: {ctype}; charset=utf-8\r\n\
                     Content-Transfer-Encoding: base64\r\n\r\n{}\r\n",
                    wrap(body)
                ));
            }
            out.push_str(&format!("--{boundary}--\r\n"));
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content<'a>(lines: &'a [NoticeLine]) -> NoticeContent<'a> {
        NoticeContent {
            kind: NoticeKind::Revoke,
            issuer: "Sở Khoa học và Công nghệ",
            reference: "12/TB-SKHCN",
            place: "Cao Bằng",
            date: (1, 12, 2026),
            unit_name: "Sở Nội vụ",
            lines,
        }
    }

    #[test]
    fn symbol_from_the_issuer_initials() {
        assert_eq!(default_symbol("Sở Khoa học và Công nghệ"), "TB-SKHCN");
        assert_eq!(default_symbol("Sở Thông tin và Truyền thông"), "TB-STTTT");
        assert_eq!(default_symbol("Đài Phát thanh"), "TB-DPT");
    }

    #[test]
    fn text_has_the_administrative_parts() {
        let lines = [NoticeLine {
            full_name: "Nông Văn Đạt".into(),
            address: "datnv@caobang.gov.vn".into(),
            reason: "Nghỉ hưu".into(),
        }];
        let text = render_text(&content(&lines));
        assert!(text.starts_with("SỞ KHOA HỌC VÀ CÔNG NGHỆ\nCỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"));
        assert!(text.contains("Số: 12/TB-SKHCN\nCao Bằng, ngày 01 tháng 12 năm 2026"));
        assert!(text.contains("THÔNG BÁO\nVề việc thu hồi hộp thư điện tử"));
        assert!(text.contains("Kính gửi: Sở Nội vụ"));
        assert!(text.contains("1. Nông Văn Đạt — datnv@caobang.gov.vn — Lý do: Nghỉ hưu"));
        assert!(text.contains("Nơi nhận:"));
    }

    #[test]
    fn html_escapes_values() {
        let lines = [NoticeLine {
            full_name: "<script>".into(),
            address: "a@b".into(),
            reason: "x & y".into(),
        }];
        let html = render_html(&content(&lines));
        assert!(html.contains("&lt;script&gt;"));
        assert!(!html.contains("<script>"));
        assert!(html.contains("x &amp; y"));
    }

    #[test]
    fn mime_is_parsed_back() {
        let raw = mime_message(
            &NoticeMail {
                from: "sokhcn@caobang.gov.vn",
                from_name: "Sở Khoa học và Công nghệ",
                to: "sonoivu@caobang.gov.vn",
                subject: "Về việc cấp hộp thư điện tử",
                text: "Nội dung",
                html: Some("<p>Nội dung</p>"),
            },
            "Tue, 01 Dec 2026 07:00:00 +0700",
            "n1@mail.caobang.gov.vn",
        );
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some("Về việc cấp hộp thư điện tử"));
        assert_eq!(parsed.body_text(0).as_deref(), Some("Nội dung"));
        assert!(parsed.body_html(0).unwrap().contains("<p>Nội dung</p>"));
    }
}
