//! The small hand-written HTML layer: escaping (every value goes through [`esc`]), the page
//! frame shared by every screen, the two languages, and dates as dd/mm/yyyy in Vietnam's time.

use std::fmt::Write as _;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use hopthu_core::web_session::{Language, WebSession};

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

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
pub(crate) fn page(t: T, title: &str, session: Option<&WebSession>, body: &str) -> Html<String> {
    let mut out = String::with_capacity(body.len() + 2048);
    let _ = write!(
        out,
        r##"<!doctype html>
<html lang="{lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Hộp thư</title>
<link rel="stylesheet" href="/static/app.css?v={ASSET_VERSION}">
<script src="/static/app.js?v={ASSET_VERSION}" defer></script>
</head>
<body>
<a class="skip" href="#main">{skip}</a>
"##,
        lang = t.code(),
        title = esc(title),
        skip = t.s("Bỏ qua đến nội dung chính", "Skip to main content"),
    );
    if let Some(s) = session {
        let _ = write!(
            out,
            r#"<header class="top"><a class="brand" href="/mail">{app}</a>
<form class="search" role="search" method="get" action="/mail"><label for="q" class="sr">{search}</label><input id="q" name="q" type="search" placeholder="{search}"><button>{search}</button></form>
<nav class="user"><span class="who">{name}</span> <a href="/settings">{settings}</a>
<form method="post" action="/logout" class="inline"><input type="hidden" name="csrf" value="{csrf}"><button class="link">{logout}</button></form></nav>
</header>
"#,
            app = t.s("Hộp thư", "Mail"),
            search = t.s("Tìm thư", "Search mail"),
            name = esc(&s.principal.display_name),
            settings = t.s("Cài đặt", "Settings"),
            csrf = esc(&s.csrf_token),
            logout = t.s("Đăng xuất", "Sign out"),
        );
    }
    out.push_str(body);
    out.push_str("\n</body>\n</html>\n");
    Html(out)
}

/// An error page with the status.
pub(crate) fn error_page(t: T, status: StatusCode, message: &str) -> Response {
    let body = format!(
        r#"<main id="main" class="narrow"><h1>{title}</h1><p class="error" role="alert">{msg}</p><p><a href="/mail">{back}</a></p></main>"#,
        title = t.s("Không thực hiện được", "That did not work"),
        msg = esc(message),
        back = t.s("Về hộp thư", "Back to the mailbox"),
    );
    (status, page(t, t.s("Lỗi", "Error"), None, &body)).into_response()
}

/// A 303 to `to` (after a form).
pub(crate) fn see_other(to: &str) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc(r#"<script>"x" & 'y'</script>"#),
            "&lt;script&gt;&quot;x&quot; &amp; &#39;y&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn dates_are_vietnamese() {
        // 2026-03-01 20:00 UTC is 2 March 03:00 in Vietnam.
        assert_eq!(date(1_772_395_200), "02/03/2026");
        assert_eq!(date_time(1_772_395_200), "02/03/2026 03:00");
    }
}
