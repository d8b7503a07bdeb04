//! The published directory (Đ6): `/directory` (a simple, accessible Vietnamese page grouped by
//! the organisation tree), `/directory.json`, `/directory.csv` and `/directory.vcf`. Each takes
//! `q=` for a diacritic-insensitive look-up (`hoa an` finds Hòa An, `dat` finds Đạt).
//!
//! What is public and what matches is decided by `Core::public_directory`; this file only
//! renders. The vCard export is version 3.0 (RFC 2426), which phones, Outlook and Apple
//! Contacts all import; 4.0 is not read everywhere yet.

use std::collections::HashMap;
use std::fmt::Write as _;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use hopthu_core::ErrorKind;
use hopthu_core::directory::{PublicDirectory, PublicPerson, PublicUnit};
use maud::{DOCTYPE, Markup, html};
use serde::{Deserialize, Serialize};

use crate::AppState;

/// The longest look-up accepted, in characters (longer ones are cut).
const MAX_QUERY: usize = 200;

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/directory", get(page))
        .route("/directory.json", get(json))
        .route("/directory.csv", get(csv))
        .route("/directory.vcf", get(vcard))
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct Lookup {
    #[serde(default)]
    q: String,
    /// A unit's code: only its subtree. Empty: the whole province.
    #[serde(default)]
    unit: String,
}

impl Lookup {
    fn query(&self) -> String {
        self.q.chars().take(MAX_QUERY).collect()
    }

    fn unit(&self) -> Option<&str> {
        Some(self.unit.trim()).filter(|u| !u.is_empty())
    }
}

async fn load(state: &AppState, lookup: &Lookup) -> Result<PublicDirectory, Response> {
    state
        .core
        .public_directory_of(&lookup.query(), lookup.unit())
        .await
        .map_err(|e| {
            if e.kind == ErrorKind::NotFound {
                return (StatusCode::NOT_FOUND, e.message).into_response();
            }
            tracing::warn!(error = %e, "public directory");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "Danh bạ tạm thời không truy cập được / the directory is temporarily unavailable",
            )
                .into_response()
        })
}

// ---- JSON -------------------------------------------------------------------------------------

#[derive(Serialize)]
struct JsonDirectory<'a> {
    query: &'a str,
    units: Vec<JsonUnit<'a>>,
    people: Vec<JsonPerson<'a>>,
}

#[derive(Serialize)]
struct JsonUnit<'a> {
    code: &'a str,
    kind: &'a str,
    name: &'a str,
    address: &'a str,
    parent: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonPerson<'a> {
    name: &'a str,
    position: Option<&'a str>,
    address: &'a str,
    unit: &'a str,
    unit_code: &'a str,
}

async fn json(State(state): State<AppState>, Query(lookup): Query<Lookup>) -> Response {
    let directory = match load(&state, &lookup).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    Json(JsonDirectory {
        query: &directory.query,
        units: directory
            .matched_units()
            .map(|u| JsonUnit {
                code: &u.code,
                kind: &u.kind,
                name: &u.name,
                address: &u.address,
                parent: u.parent_code.as_deref(),
            })
            .collect(),
        people: directory
            .people
            .iter()
            .map(|p| JsonPerson {
                name: &p.name,
                position: p.position.as_deref(),
                address: &p.address,
                unit: &p.unit_name,
                unit_code: &p.unit_code,
            })
            .collect(),
    })
    .into_response()
}

// ---- CSV --------------------------------------------------------------------------------------

async fn csv(State(state): State<AppState>, Query(lookup): Query<Lookup>) -> Response {
    let directory = match load(&state, &lookup).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    // A BOM so that Excel reads UTF-8; CRLF line ends (RFC 4180).
    let mut out = String::from("\u{FEFF}type,code,name,address,position,unit\r\n");
    let names: HashMap<&str, &str> = directory
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.name.as_str()))
        .collect();
    let mut row = |fields: [&str; 6]| push_csv_row(&mut out, &fields);
    for u in directory.matched_units() {
        let parent = u
            .parent_code
            .as_deref()
            .and_then(|c| names.get(c).copied())
            .unwrap_or("");
        row(["unit", &u.code, &u.name, &u.address, "", parent]);
    }
    for p in &directory.people {
        row([
            "person",
            &p.unit_code,
            &p.name,
            &p.address,
            p.position.as_deref().unwrap_or(""),
            &p.unit_name,
        ]);
    }
    download(out, "text/csv; charset=utf-8", "danh-ba.csv")
}

/// One CSV row appended to `out`: the core's one CSV writer (`csv_row`: RFC 4180, CRLF, cells
/// that a spreadsheet would evaluate defused).
pub(crate) fn push_csv_row<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    hopthu_core::directory::csv_row(out, fields);
}

pub(crate) fn download(body: String, content_type: &'static str, file_name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file_name}\""),
            ),
        ],
        body,
    )
        .into_response()
}

// ---- vCard ------------------------------------------------------------------------------------

async fn vcard(State(state): State<AppState>, Query(lookup): Query<Lookup>) -> Response {
    let directory = match load(&state, &lookup).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    let mut out = String::new();
    for u in directory.matched_units() {
        vcard_unit(&mut out, u);
    }
    for p in &directory.people {
        vcard_person(&mut out, p);
    }
    download(out, "text/vcard; charset=utf-8", "danh-ba.vcf")
}

fn vcard_unit(out: &mut String, u: &PublicUnit) {
    out.push_str(&hopthu_core::contacts::unit_vcard(u));
}

/// A person's card, as the CardDAV directory book serves it (`hopthu_core::contacts`).
fn vcard_person(out: &mut String, p: &PublicPerson) {
    out.push_str(&hopthu_core::contacts::person_vcard(p));
}

// ---- HTML -------------------------------------------------------------------------------------

async fn page(State(state): State<AppState>, Query(lookup): Query<Lookup>) -> Response {
    let directory = match load(&state, &lookup).await {
        Ok(d) => d,
        Err(r) => return r,
    };
    (
        StatusCode::OK,
        render_page(&state.core.config().domain, &directory),
    )
        .into_response()
}

/// The whole `/directory` page.
fn render_page(domain: &str, directory: &PublicDirectory) -> Markup {
    let mut params = Vec::new();
    if !directory.query.is_empty() {
        params.push(format!("q={}", url_encode(&directory.query)));
    }
    if let Some(unit) = &directory.unit {
        params.push(format!("unit={}", url_encode(unit)));
    }
    let query_string = if params.is_empty() {
        String::new()
    } else {
        format!("?{}", params.join("&"))
    };
    let units = directory.matched_units().count();
    let people = directory.people.len();
    let version = crate::html::ASSET_VERSION;
    html! {
        (DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Danh bạ thư điện tử — " (domain) }
                link rel="stylesheet" href={ "/static/app.css?v=" (version) };
            }
            body class="directory" {
                header {
                    h1 { "Danh bạ thư điện tử" }
                    p { "Địa chỉ thư điện tử công khai của các cơ quan, đơn vị và cán bộ (" (domain) ")." }
                }
                main id="main" {
                    p { a href="/login" { "Đăng nhập hộp thư" } }
                    form method="get" action="/directory" role="search" {
                        label for="q" { "Tìm đơn vị hoặc cán bộ (không cần gõ dấu)" }
                        input type="search" id="q" name="q" value=(directory.query) placeholder="ví dụ: hoa an, dat";
                        @if let Some(unit) = &directory.unit {
                            input type="hidden" name="unit" value=(unit);
                        }
                        button type="submit" { "Tìm" }
                    }
                    p {
                        "Tải về: "
                        a href={ "/directory.csv" (query_string) } { "CSV" }
                        " · "
                        a href={ "/directory.vcf" (query_string) } { "vCard" }
                        " · "
                        a href={ "/directory.json" (query_string) } { "JSON" }
                    }
                    p role="status" { (units) " đơn vị, " (people) " cán bộ." }
                    @if units + people == 0 {
                        p { "Không tìm thấy kết quả nào." }
                    } @else {
                        (render_tree(directory))
                    }
                }
                footer {
                    p lang="en" {
                        "Public e-mail directory of the province's agencies and officials; \
                         search ignores diacritics."
                    }
                }
            }
        }
    }
}

/// The shown units as nested lists, each with its matching people.
fn render_tree(directory: &PublicDirectory) -> Markup {
    let mut children: HashMap<Option<&str>, Vec<&PublicUnit>> = HashMap::new();
    let shown: Vec<&PublicUnit> = directory.units.iter().filter(|u| u.shown).collect();
    let shown_codes: std::collections::HashSet<&str> =
        shown.iter().map(|u| u.code.as_str()).collect();
    for u in &shown {
        let parent = u.parent_code.as_deref().filter(|p| shown_codes.contains(p));
        children.entry(parent).or_default().push(u);
    }
    html! {
        ul class="tree" { (render_children(directory, &children, None)) }
    }
}

fn render_children(
    directory: &PublicDirectory,
    children: &HashMap<Option<&str>, Vec<&PublicUnit>>,
    parent: Option<&str>,
) -> Markup {
    let Some(units) = children.get(&parent) else {
        return Markup::default();
    };
    html! {
        @for u in units {
            li class=(if u.matched { "match" } else { "context" }) {
                span class="unit" { (u.name) }
                " — "
                a href={ "mailto:" (u.address) } { (u.address) }
                @let mut people = directory.people_of(&u.code).peekable();
                @if people.peek().is_some() {
                    ul class="people" {
                        @for p in people {
                            li {
                                (p.name)
                                @if let Some(position) = &p.position {
                                    ", " (position)
                                }
                                " — "
                                a href={ "mailto:" (p.address) } { (p.address) }
                            }
                        }
                    }
                }
                @if children.contains_key(&Some(u.code.as_str())) {
                    ul { (render_children(directory, children, Some(&u.code))) }
                }
            }
        }
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn url_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcard_lines_are_escaped_and_folded() {
        let mut out = String::new();
        vcard_person(
            &mut out,
            &PublicPerson {
                name: "Nông Văn Đạt".into(),
                position: Some("Giám đốc".into()),
                address: "datnv@caobang.gov.vn".into(),
                unit_code: "D1".into(),
                unit_name:
                    "Sở Văn hóa, Thể thao và Du lịch; và một tên rất dài cho đủ bảy mươi lăm octet"
                        .into(),
            },
        );
        assert!(out.starts_with("BEGIN:VCARD\r\nVERSION:3.0\r\n"), "{out}");
        assert!(out.contains("N:Nông;Đạt;Văn;;\r\n"), "{out}");
        assert!(
            out.contains("ORG:Sở Văn hóa\\, Thể thao và Du lịch\\; "),
            "{out}"
        );
        assert!(out.contains("\r\n "), "long lines are folded: {out}");
        for line in out.split("\r\n") {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
    }

    #[test]
    fn the_page_escapes_the_look_up_and_the_directory() {
        let hostile = r#""><script>alert(1)</script>"#;
        let directory = PublicDirectory {
            query: hostile.into(),
            unit: Some(hostile.into()),
            units: vec![PublicUnit {
                code: "U1".into(),
                kind: "department".into(),
                name: hostile.into(),
                address: r#"a"b@x.vn"#.into(),
                parent_code: None,
                depth: 0,
                matched: true,
                shown: true,
            }],
            people: vec![PublicPerson {
                name: hostile.into(),
                position: Some("<b>".into()),
                address: "p@x.vn".into(),
                unit_code: "U1".into(),
                unit_name: hostile.into(),
            }],
        };
        let out = render_page("<x>.vn", &directory).into_string();
        assert!(!out.contains("<script"), "{out}");
        assert!(!out.contains("<b>"), "{out}");
        assert!(out.contains(r#"value="&quot;&gt;&lt;script&gt;"#), "{out}");
        assert!(out.contains(r#"href="mailto:a&quot;b@x.vn""#), "{out}");
        assert!(out.contains("&lt;x&gt;.vn"), "{out}");
        assert!(out.contains(", &lt;b&gt; — "), "{out}");
        assert!(out.contains(r#"<html lang="vi">"#), "{out}");
        // The unit's subtree is kept, encoded, in the downloads and the search form.
        assert!(out.contains("&amp;unit=%22%3E%3Cscript%3E"), "{out}");
        assert!(out.contains(r#"type="hidden" name="unit""#), "{out}");
    }

    #[test]
    fn query_strings_are_encoded() {
        assert_eq!(url_encode("hòa an"), "h%C3%B2a%20an");
    }
}
