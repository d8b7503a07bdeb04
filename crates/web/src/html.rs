//! The page layer: every page is written with maud's `html!`, which escapes every value it
//! splices in (text and attribute values alike); raw HTML goes in only through
//! `maud::PreEscaped`, named at the spot, for markup that a sanitiser produced. Also: the page
//! frame shared by every screen, the CSRF field, the two languages, and dates as dd/mm/yyyy in
//! Vietnam's time.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hopthu_core::web_session::{Language, WebSession};
use maud::{DOCTYPE, Markup, html};

/// Percent-encodes a URL query value.
pub(crate) fn url(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The chosen language: `t.s("Tiếng Việt", "English")`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct T(pub Language);

impl T {
    pub(crate) fn s(self, vi: &'static str, en: &'static str) -> &'static str {
        match self.0 {
            Language::Vi => vi,
            Language::En => en,
        }
    }

    pub(crate) fn code(self) -> &'static str {
        self.0.code()
    }
}

/// Vietnam's time (UTC+7, no daylight saving).
fn vietnam() -> chrono::FixedOffset {
    chrono::FixedOffset::east_opt(7 * 3600).expect("valid offset")
}

/// `dd/mm/yyyy`.
pub(crate) fn date(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| d.with_timezone(&vietnam()).format("%d/%m/%Y").to_string())
        .unwrap_or_default()
}

/// `dd/mm/yyyy HH:MM`.
pub(crate) fn date_time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|d| {
            d.with_timezone(&vietnam())
                .format("%d/%m/%Y %H:%M")
                .to_string()
        })
        .unwrap_or_default()
}

/// A message list shows the time for today's mail and the date otherwise.
pub(crate) fn list_date(ts: i64, now: i64) -> String {
    let (a, b) = (date(ts), date(now));
    if a == b {
        chrono::DateTime::from_timestamp(ts, 0)
            .map(|d| d.with_timezone(&vietnam()).format("%H:%M").to_string())
            .unwrap_or_default()
    } else {
        a
    }
}

/// Sizes as people read them (KB, MB).
pub(crate) fn size(bytes: u64) -> String {
    if bytes < 1024 {
        format!("{bytes} B")
    } else if bytes < 1024 * 1024 {
        format!("{:.0} KB", bytes as f64 / 1024.0)
    } else if bytes < 1024 * 1024 * 1024 {
        format!("{:.1} MB", bytes as f64 / (1024.0 * 1024.0))
    } else {
        format!("{:.1} GB", bytes as f64 / (1024.0 * 1024.0 * 1024.0))
    }
}

/// The version of the static files, in their URLs so they can be cached for a year.
pub(crate) const ASSET_VERSION: &str = env!("CARGO_PKG_VERSION");

/// A whole page: `<head>`, the top bar (when signed in), and `body`.
pub(crate) fn page(t: T, title: &str, session: Option<&WebSession>, body: Markup) -> Markup {
    let search = t.s("Tìm thư", "Search mail");
    html! {
        (DOCTYPE)
        html lang=(t.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Hộp thư" }
                link rel="stylesheet" href={ "/static/app.css?v=" (ASSET_VERSION) };
                script src={ "/static/app.js?v=" (ASSET_VERSION) } defer {}
            }
            body {
                a class="skip" href="#main" { (t.s("Bỏ qua đến nội dung chính", "Skip to main content")) }
                @if let Some(s) = session {
                    header class="top" {
                        a class="brand" href="/mail" { (t.s("Hộp thư", "Mail")) }
                        form class="search" role="search" method="get" action="/mail" {
                            label for="q" class="sr" { (search) }
                            input id="q" name="q" type="search" placeholder=(search);
                            button { (search) }
                        }
                        nav class="user" {
                            span class="who" { (s.principal.display_name) }
                            " "
                            a href="/settings" { (t.s("Cài đặt", "Settings")) }
                            form method="post" action="/logout" class="inline" {
                                (csrf_input(&s.csrf_token))
                                button class="link" { (t.s("Đăng xuất", "Sign out")) }
                            }
                        }
                    }
                }
                (body)
            }
        }
    }
}

/// The hidden form field carrying the session's (or the sign-in form's) CSRF token.
pub(crate) fn csrf_input(token: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(token); }
}

/// An error page with the status.
pub(crate) fn error_page(t: T, status: StatusCode, message: &str) -> Response {
    let body = html! {
        main id="main" class="narrow" {
            h1 { (t.s("Không thực hiện được", "That did not work")) }
            p class="error" role="alert" { (message) }
            p { a href="/mail" { (t.s("Về hộp thư", "Back to the mailbox")) } }
        }
    };
    (status, page(t, t.s("Lỗi", "Error"), None, body)).into_response()
}

/// A 303 to `to` (after a form).
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

/// A signed-in session for the rendering tests.
#[cfg(test)]
pub(crate) fn test_session() -> WebSession {
    WebSession {
        principal: hopthu_core::Principal {
            account: hopthu_model::AccountId(1),
            address: hopthu_model::EmailAddress::parse("an@example.gov.vn").expect("address"),
            display_name: "Nguyễn Văn An".into(),
            must_change_password: false,
            credentials: 0,
        },
        csrf_token: "token".into(),
        settings: hopthu_core::web_session::WebSettings {
            language: Language::Vi,
            signature: String::new(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_frame_escapes_what_it_is_given() {
        let mut session = test_session();
        session.principal.display_name = r#"<script>alert(1)</script>"#.into();
        session.csrf_token = r#"x"><script>alert(2)</script>"#.into();
        let out = page(
            T(Language::En),
            "</title><script>alert(3)</script>",
            Some(&session),
            html! { p { "body" } },
        )
        .into_string();
        assert!(!out.contains("<script>alert"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(1)"), "{out}");
        assert!(
            out.contains(r#"value="x&quot;&gt;&lt;script&gt;alert(2)"#),
            "{out}"
        );
        assert!(
            out.contains("&lt;/title&gt;&lt;script&gt;alert(3)"),
            "{out}"
        );
        let r = error_page(
            T(Language::Vi),
            StatusCode::BAD_REQUEST,
            "<img src=x onerror=y>",
        );
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    }

    /// The rule of this crate, checked over its sources (test modules left out): no HTML is
    /// written into strings by hand, and `PreEscaped` appears only where a reviewed comment
    /// says why. A new use must be added here, next to its reason.
    #[test]
    fn html_is_written_only_through_templates() {
        // (file, the line's text): the sanitiser's output in the mail body frame.
        let allowed = [("mail.rs", "body { (PreEscaped(safe)) }")];
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = vec![root.clone()];
        let mut raw = Vec::new();
        let mut by_hand = Vec::new();
        let mut seen = 0;
        while let Some(path) = files.pop() {
            if path.is_dir() {
                for entry in std::fs::read_dir(&path).expect("src") {
                    files.push(entry.expect("entry").path());
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("source");
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            for line in code.lines().map(str::trim) {
                if line.starts_with("//") {
                    continue;
                }
                if line.contains("PreEscaped(") {
                    if allowed.iter().any(|(f, l)| *f == name && *l == line) {
                        seen += 1;
                    } else {
                        raw.push(format!("{name}: {line}"));
                    }
                }
                let builds_text = ["format!(", "write!(", "writeln!(", "push_str("]
                    .iter()
                    .any(|m| line.contains(m));
                if builds_text && (line.contains("\"<") || line.contains("r#\"<")) {
                    by_hand.push(format!("{name}: {line}"));
                }
            }
        }
        assert!(raw.is_empty(), "unreviewed PreEscaped: {raw:#?}");
        assert!(by_hand.is_empty(), "HTML written by hand: {by_hand:#?}");
        assert_eq!(seen, allowed.len(), "every allowed use is still there");
    }

    #[test]
    fn dates_are_vietnamese() {
        // 2026-03-01 20:00 UTC is 2 March 03:00 in Vietnam.
        assert_eq!(date(1_772_395_200), "02/03/2026");
        assert_eq!(date_time(1_772_395_200), "02/03/2026 03:00");
    }
}
