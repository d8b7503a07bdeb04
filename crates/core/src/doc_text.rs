//! The text of the documents the province exchanges as attachments — PDF and DOCX — for the
//! search index.
//!
//! Two halves:
//! - [`extract`] is pure: bytes in, text out, bounded. PDF through lopdf with our own reading of
//!   each font's `ToUnicode` map (lopdf's `extract_text` has none, and the PDFs Word and
//!   printpdf write set Vietnamese in Identity-H fonts whose codes mean nothing without it);
//!   DOCX is a zip whose `word/document.xml` holds the text in `<w:t>` elements.
//! - [`extract_sandboxed`] runs [`extract`] in a child process (`hopthu extract-text`, set up
//!   once by the binary with [`use_sandbox`]) under memory and CPU limits and a wall-clock
//!   timeout: a PDF from the Internet is hostile input, and a parser library's stack overflow,
//!   endless loop or decompression bomb must cost at most that child, never the server. Without
//!   a sandbox (unit tests, tools) attachments are not read at all.
//!
//! **Invariants**: nothing here panics on input; every output is bounded by
//! [`MAX_TEXT`]; inflated PDF streams are bounded before lopdf sees the file.

use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

/// Attachments larger than this (decoded) are not read.
pub const MAX_DOCUMENT: usize = 20 * 1024 * 1024;
/// At most this much text comes out of one document.
pub const MAX_TEXT: usize = 256 * 1024;
/// The inflated size of one PDF stream, and of all of them together, that a document may reach.
const MAX_STREAM: u64 = 32 * 1024 * 1024;
const MAX_INFLATED: u64 = 96 * 1024 * 1024;
/// Deeper nesting of PDF arrays and dictionaries than this is refused before parsing.
const MAX_NESTING: usize = 64;
/// Pages read from one PDF.
const MAX_PAGES: usize = 500;
/// The child's wall-clock limit.
const SANDBOX_TIMEOUT: Duration = Duration::from_secs(20);
/// Documents read at the same time (each a process).
const SANDBOX_CONCURRENCY: usize = 2;

/// The kinds of document read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pdf,
    Docx,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "pdf" => Some(Kind::Pdf),
            "docx" => Some(Kind::Docx),
            _ => None,
        }
    }

    /// The kind of an attachment by its MIME type, or by its file name when the type says
    /// nothing (`application/octet-stream`, as many clients send).
    pub fn of_attachment(content_type: &str, file_name: Option<&str>) -> Option<Kind> {
        let ct = content_type.to_ascii_lowercase();
        match ct.as_str() {
            "application/pdf" | "application/x-pdf" => return Some(Kind::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                return Some(Kind::Docx);
            }
            "application/octet-stream" | "application/binary" | "" => {}
            _ => return None,
        }
        let name = file_name?.to_ascii_lowercase();
        if name.ends_with(".pdf") {
            Some(Kind::Pdf)
        } else if name.ends_with(".docx") {
            Some(Kind::Docx)
        } else {
            None
        }
    }
}

/// The text of a document; empty when it cannot be read (damaged, encrypted, too large).
pub fn extract(kind: Kind, bytes: &[u8]) -> String {
    if bytes.len() > MAX_DOCUMENT {
        return String::new();
    }
    let text = match kind {
        Kind::Pdf => pdf_text(bytes),
        Kind::Docx => docx_text(bytes),
    }
    .unwrap_or_default();
    truncate(text, MAX_TEXT)
}

fn truncate(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
    }
    text
}

// ---------------------------------------------------------------------------------------------
// DOCX

fn docx_text(bytes: &[u8]) -> Option<String> {
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).ok()?;
    let entry = archive.by_name("word/document.xml").ok()?;
    let mut xml = Vec::new();
    // The entry's own size field is the archive's word: read at most the bound, whatever it says.
    entry
        .take(MAX_DOCUMENT as u64 * 4)
        .read_to_end(&mut xml)
        .ok()?;
    Some(docx_xml_text(&xml))
}

/// The text of WordprocessingML: `<w:t>` runs, a tab for `<w:tab/>`, a line per paragraph
/// (`</w:p>`) and per `<w:br/>`.
fn docx_xml_text(xml: &[u8]) -> String {
    use quick_xml::events::Event;
    let xml = String::from_utf8_lossy(xml);
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        if out.len() > MAX_TEXT {
            break;
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => in_text = e.local_name().into_inner() == "t",
            Ok(Event::Empty(e)) => match e.local_name().into_inner() {
                "tab" => out.push('\t'),
                "br" | "cr" => out.push('\n'),
                _ => {}
            },
            Ok(Event::End(e)) => match e.local_name().into_inner() {
                "t" => in_text = false,
                "p" => out.push('\n'),
                _ => {}
            },
            Ok(Event::Text(t)) if in_text => out.push_str(&t.xml10_content()),
            Ok(Event::CData(t)) if in_text => out.push_str(&t.xml10_content()),
            Ok(Event::GeneralRef(r)) if in_text => {
                // &amp; &lt; &#7899; … inside a run.
                match r.resolve_char_ref() {
                    Ok(Some(c)) => out.push(c),
                    _ => match &*r {
                        "amp" => out.push('&'),
                        "lt" => out.push('<'),
                        "gt" => out.push('>'),
                        "quot" => out.push('"'),
                        "apos" => out.push('\''),
                        _ => {}
                    },
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            _ => {}
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// PDF

fn pdf_text(bytes: &[u8]) -> Option<String> {
    if !pdf_is_bounded(bytes) {
        return None;
    }
    let doc = lopdf::Document::load_mem(bytes).ok()?;
    if doc.trailer.get(b"Encrypt").is_ok() {
        return None;
    }
    let mut out = String::new();
    let mut fonts_seen: HashMap<lopdf::ObjectId, Font> = HashMap::new();
    for page in doc.page_iter().take(MAX_PAGES) {
        if out.len() > MAX_TEXT {
            break;
        }
        let fonts = page_fonts(&doc, page, &mut fonts_seen);
        let content = doc.get_page_content(page).ok()?;
        let Ok(content) = lopdf::content::Content::decode(&content) else {
            continue;
        };
        show_text(&content.operations, &fonts, &mut out);
        out.push('\n');
    }
    Some(out)
}

/// A font as far as text goes: how many bytes a code takes and what each code means.
#[derive(Debug, Clone, Default)]
struct Font {
    /// Bytes per character code (Type0/CID fonts: 2; simple fonts: 1).
    code_len: usize,
    to_unicode: HashMap<u32, String>,
    /// For a simple font without a map: lopdf's name of its encoding.
    encoding: Option<String>,
}

impl Font {
    fn decode(&self, bytes: &[u8], out: &mut String) {
        if self.to_unicode.is_empty() {
            if self.code_len == 2 {
                return; // CID codes without a map are glyph numbers, not text.
            }
            out.push_str(&lopdf::Document::decode_text(
                self.encoding.as_deref(),
                bytes,
            ));
            return;
        }
        for code in bytes.chunks(self.code_len.max(1)) {
            let code = code.iter().fold(0u32, |acc, b| (acc << 8) | u32::from(*b));
            if let Some(s) = self.to_unicode.get(&code) {
                out.push_str(s);
            } else if self.code_len == 1
                && let Some(c) = char::from_u32(code).filter(|c| !c.is_control())
            {
                out.push(c);
            }
        }
    }
}

/// The fonts of a page by resource name, with resources inherited from the page tree (walked a
/// bounded number of levels: a cycle of `Parent`s is possible in a hostile file).
fn page_fonts(
    doc: &lopdf::Document,
    page: lopdf::ObjectId,
    cache: &mut HashMap<lopdf::ObjectId, Font>,
) -> HashMap<Vec<u8>, Font> {
    let mut fonts = HashMap::new();
    let mut node = doc.get_dictionary(page).ok();
    for _ in 0..32 {
        let Some(dict) = node else { break };
        if let Some(resources) = dict
            .get(b"Resources")
            .ok()
            .and_then(|r| doc.dereference(r).ok())
            .and_then(|(_, r)| r.as_dict().ok())
            && let Some(font_dict) = resources
                .get(b"Font")
                .ok()
                .and_then(|f| doc.dereference(f).ok())
                .and_then(|(_, f)| f.as_dict().ok())
        {
            for (name, value) in font_dict.iter() {
                if fonts.contains_key(name) {
                    continue;
                }
                let font = match value.as_reference() {
                    Ok(id) => {
                        if let Some(f) = cache.get(&id) {
                            f.clone()
                        } else {
                            let f = doc
                                .get_dictionary(id)
                                .map(|d| read_font(doc, d))
                                .unwrap_or_default();
                            cache.insert(id, f.clone());
                            f
                        }
                    }
                    Err(_) => value
                        .as_dict()
                        .map(|d| read_font(doc, d))
                        .unwrap_or_default(),
                };
                fonts.insert(name.clone(), font);
            }
        }
        node = dict
            .get(b"Parent")
            .ok()
            .and_then(|p| p.as_reference().ok())
            .and_then(|id| doc.get_dictionary(id).ok());
    }
    fonts
}

fn read_font(doc: &lopdf::Document, font: &lopdf::Dictionary) -> Font {
    let type0 = font.get(b"Subtype").ok().and_then(|s| s.as_name_str().ok()) == Some("Type0");
    let mut result = Font {
        code_len: if type0 { 2 } else { 1 },
        encoding: (!type0).then(|| font.get_font_encoding().to_string()),
        ..Font::default()
    };
    if let Some(stream) = font
        .get(b"ToUnicode")
        .ok()
        .and_then(|t| doc.dereference(t).ok())
        .and_then(|(_, t)| t.as_stream().ok())
    {
        let data = stream
            .decompressed_content()
            .unwrap_or_else(|_| stream.content.clone());
        let (map, code_len) = parse_cmap(&data);
        result.to_unicode = map;
        if let Some(n) = code_len {
            result.code_len = n;
        }
    }
    result
}

/// Reads a ToUnicode CMap: `bfchar` and `bfrange` entries (destinations in UTF-16BE) and the
/// code length of its `codespacerange`.
fn parse_cmap(data: &[u8]) -> (HashMap<u32, String>, Option<usize>) {
    let tokens = cmap_tokens(data);
    let mut map = HashMap::new();
    let mut code_len = None;
    let mut i = 0;
    let utf16 = |hex: &[u8]| -> String {
        let units: Vec<u16> = hex
            .chunks(2)
            .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16_lossy(&units)
    };
    let num = |hex: &[u8]| -> u32 {
        hex.iter()
            .take(4)
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
    };
    while i < tokens.len() && map.len() < 65_536 {
        match &tokens[i] {
            Tok::Word(w) if w == b"begincodespacerange" => {
                if let Some(Tok::Hex(lo)) = tokens.get(i + 1) {
                    code_len = Some(lo.len().clamp(1, 4));
                }
                i += 1;
            }
            Tok::Word(w) if w == b"beginbfchar" => {
                i += 1;
                while let (Some(Tok::Hex(src)), Some(Tok::Hex(dst))) =
                    (tokens.get(i), tokens.get(i + 1))
                {
                    map.insert(num(src), utf16(dst));
                    i += 2;
                }
            }
            Tok::Word(w) if w == b"beginbfrange" => {
                i += 1;
                loop {
                    match (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2)) {
                        (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::Hex(dst))) => {
                            let (lo, hi) = (num(lo), num(hi));
                            let mut units: Vec<u16> = dst
                                .chunks(2)
                                .map(|c| u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))
                                .collect();
                            for code in lo..=hi.min(lo.saturating_add(65_535)) {
                                map.insert(code, String::from_utf16_lossy(&units));
                                if let Some(last) = units.last_mut() {
                                    *last = last.wrapping_add(1);
                                }
                            }
                            i += 3;
                        }
                        (Some(Tok::Hex(lo)), Some(Tok::Hex(hi)), Some(Tok::ArrayStart)) => {
                            let (lo, hi) = (num(lo), num(hi));
                            i += 3;
                            let mut code = lo;
                            while let Some(Tok::Hex(dst)) = tokens.get(i) {
                                if code <= hi {
                                    map.insert(code, utf16(dst));
                                }
                                code = code.saturating_add(1);
                                i += 1;
                            }
                            if matches!(tokens.get(i), Some(Tok::ArrayEnd)) {
                                i += 1;
                            }
                        }
                        _ => break,
                    }
                }
            }
            _ => i += 1,
        }
    }
    (map, code_len)
}

#[derive(Debug)]
enum Tok {
    Hex(Vec<u8>),
    Word(Vec<u8>),
    ArrayStart,
    ArrayEnd,
}

fn cmap_tokens(data: &[u8]) -> Vec<Tok> {
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        if c == b'%' {
            while i < data.len() && data[i] != b'\n' && data[i] != b'\r' {
                i += 1;
            }
        } else if c == b'<' && data.get(i + 1) != Some(&b'<') {
            let start = i + 1;
            let end = data[start..]
                .iter()
                .position(|&b| b == b'>')
                .map_or(data.len(), |p| start + p);
            let digits: Vec<u8> = data[start..end]
                .iter()
                .filter(|b| b.is_ascii_hexdigit())
                .copied()
                .collect();
            let bytes = digits
                .chunks(2)
                .map(|p| {
                    let hi = (p[0] as char).to_digit(16).unwrap_or(0);
                    let lo = p
                        .get(1)
                        .and_then(|c| (*c as char).to_digit(16))
                        .unwrap_or(0);
                    (hi * 16 + lo) as u8
                })
                .collect();
            tokens.push(Tok::Hex(bytes));
            i = end + 1;
        } else if c == b'[' {
            tokens.push(Tok::ArrayStart);
            i += 1;
        } else if c == b']' {
            tokens.push(Tok::ArrayEnd);
            i += 1;
        } else if c.is_ascii_alphabetic() {
            let start = i;
            while i < data.len() && data[i].is_ascii_alphanumeric() {
                i += 1;
            }
            tokens.push(Tok::Word(data[start..i].to_vec()));
        } else {
            i += 1;
        }
    }
    tokens
}

/// The text the page's operators show, in content order: a line break for a new line (`T*`,
/// `'`, `"`, a `Td`/`TD` that moves down, a new text object) and a space for a wide gap in a
/// `TJ` array or a horizontal move.
fn show_text(ops: &[lopdf::content::Operation], fonts: &HashMap<Vec<u8>, Font>, out: &mut String) {
    use lopdf::Object;
    let fallback = Font {
        code_len: 1,
        ..Font::default()
    };
    let mut font = &fallback;
    let newline = |out: &mut String| {
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
    };
    let number = |o: &Object| match o {
        Object::Integer(i) => *i as f64,
        Object::Real(r) => f64::from(*r),
        _ => 0.0,
    };
    for op in ops {
        if out.len() > MAX_TEXT {
            return;
        }
        match op.operator.as_str() {
            "Tf" => {
                font = op
                    .operands
                    .first()
                    .and_then(|n| n.as_name().ok())
                    .and_then(|n| fonts.get(n))
                    .unwrap_or(&fallback);
            }
            "BT" | "T*" => newline(out),
            "Td" | "TD" => {
                let ty = op.operands.get(1).map_or(0.0, number);
                if ty.abs() > 0.01 {
                    newline(out);
                } else if !out.ends_with([' ', '\n']) && !out.is_empty() {
                    out.push(' ');
                }
            }
            "Tm" => newline(out),
            "Tj" | "'" | "\"" => {
                if op.operator != "Tj" {
                    newline(out);
                }
                if let Some(Object::String(bytes, _)) = op.operands.last() {
                    font.decode(bytes, out);
                }
            }
            "TJ" => {
                if let Some(Object::Array(items)) = op.operands.first() {
                    for item in items {
                        match item {
                            Object::String(bytes, _) => font.decode(bytes, out),
                            other => {
                                if number(other) < -200.0 && !out.ends_with(' ') {
                                    out.push(' ');
                                }
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
}

/// True when the file's nesting and every compressed stream's inflated size stay within
/// bounds. Each stream is inflated (to a counter) from where its data begins to the end of the
/// deflate data, wherever the file says it ends: lopdf will inflate what it finds there.
fn pdf_is_bounded(bytes: &[u8]) -> bool {
    // Nesting of arrays and dictionaries outside strings and streams.
    let mut depth = 0usize;
    let mut i = 0;
    let mut total = 0u64;
    while i < bytes.len() {
        match bytes[i] {
            b'(' => {
                // A literal string: balanced parentheses, backslash escapes.
                let mut level = 1;
                i += 1;
                while i < bytes.len() && level > 0 {
                    match bytes[i] {
                        b'\\' => i += 1,
                        b'(' => level += 1,
                        b')' => level -= 1,
                        _ => {}
                    }
                    i += 1;
                }
                continue;
            }
            b'%' => {
                while i < bytes.len() && bytes[i] != b'\n' && bytes[i] != b'\r' {
                    i += 1;
                }
            }
            b'[' => depth += 1,
            b'<' if bytes.get(i + 1) == Some(&b'<') => {
                depth += 1;
                i += 1;
            }
            b']' => depth = depth.saturating_sub(1),
            b'>' if bytes.get(i + 1) == Some(&b'>') => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b's' if bytes[i..].starts_with(b"stream")
                && !bytes[..i].ends_with(b"end")
                && matches!(bytes.get(i + 6), Some(b'\r' | b'\n')) =>
            {
                let mut start = i + 6;
                if bytes.get(start) == Some(&b'\r') {
                    start += 1;
                }
                if bytes.get(start) == Some(&b'\n') {
                    start += 1;
                }
                let inflated = inflated_size(&bytes[start..]);
                if inflated > MAX_STREAM {
                    return false;
                }
                total += inflated;
                if total > MAX_INFLATED {
                    return false;
                }
                // The stream's data is not PDF syntax: skip to its end.
                match find(&bytes[start..], b"endstream") {
                    Some(p) => i = start + p + 9,
                    None => return true,
                }
                continue;
            }
            _ => {}
        }
        if depth > MAX_NESTING {
            return false;
        }
        i += 1;
    }
    true
}

/// How many bytes the zlib data at the start of `data` inflates to, counted up to
/// `MAX_STREAM + 1`; 0 when it is not zlib data.
fn inflated_size(data: &[u8]) -> u64 {
    let decoder = flate2::read::ZlibDecoder::new(data);
    std::io::copy(&mut decoder.take(MAX_STREAM + 1), &mut std::io::sink()).unwrap_or(0)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

// ---------------------------------------------------------------------------------------------
// The sandbox

static SANDBOX: OnceLock<PathBuf> = OnceLock::new();
static SANDBOX_SLOTS: tokio::sync::Semaphore =
    tokio::sync::Semaphore::const_new(SANDBOX_CONCURRENCY);

/// Attachments are read by running `program extract-text KIND` (the `hopthu` binary itself),
/// which reads the document on its standard input and writes the text on its standard output.
/// Set once at start-up by the binary; before that, and in processes that never set it,
/// attachments are not read.
pub fn use_sandbox(program: PathBuf) {
    let _ = SANDBOX.set(program);
}

/// The text of a document read by the sandbox; empty when there is none, the document cannot
/// be read, or the child fails, is killed or takes too long (each logged).
pub async fn extract_sandboxed(kind: Kind, bytes: Vec<u8>) -> String {
    let Some(program) = SANDBOX.get() else {
        return String::new();
    };
    if bytes.len() > MAX_DOCUMENT {
        return String::new();
    }
    let Ok(_slot) = SANDBOX_SLOTS.acquire().await else {
        return String::new();
    };
    match tokio::time::timeout(SANDBOX_TIMEOUT, run_child(program, kind, bytes)).await {
        Ok(Ok(text)) => text,
        Ok(Err(e)) => {
            tracing::warn!(kind = kind.as_str(), error = %e, "attachment text not read");
            String::new()
        }
        Err(_) => {
            tracing::warn!(
                kind = kind.as_str(),
                "attachment text not read: took too long"
            );
            String::new()
        }
    }
}

async fn run_child(program: &PathBuf, kind: Kind, bytes: Vec<u8>) -> std::io::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut child = tokio::process::Command::new(program)
        .arg("extract-text")
        .arg(kind.as_str())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .env_clear()
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = child.stdin.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
    let mut stdout = child.stdout.take().ok_or(std::io::ErrorKind::BrokenPipe)?;
    let write = async move {
        // A child that dies early closes the pipe: not an error of ours.
        let _ = stdin.write_all(&bytes).await;
        drop(stdin);
    };
    let read = async move {
        let mut out = Vec::new();
        (&mut stdout)
            .take(MAX_TEXT as u64 + 4)
            .read_to_end(&mut out)
            .await
            .map(|_| out)
    };
    let ((), out) = tokio::join!(write, read);
    let out = out?;
    let status = child.wait().await?;
    if !status.success() {
        return Err(std::io::Error::other(format!(
            "extract-text ended with {status}"
        )));
    }
    Ok(truncate(
        String::from_utf8_lossy(&out).into_owned(),
        MAX_TEXT,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_type_and_name() {
        assert_eq!(
            Kind::of_attachment("application/pdf", None),
            Some(Kind::Pdf)
        );
        assert_eq!(
            Kind::of_attachment("application/octet-stream", Some("Công văn 12.PDF")),
            Some(Kind::Pdf)
        );
        assert_eq!(
            Kind::of_attachment(
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                Some("x.bin")
            ),
            Some(Kind::Docx)
        );
        assert_eq!(Kind::of_attachment("image/png", Some("a.pdf")), None);
        assert_eq!(Kind::of_attachment("application/octet-stream", None), None);
    }

    #[test]
    fn docx_runs_paragraphs_and_entities() {
        let xml = br#"<?xml version="1.0"?><w:document xmlns:w="x"><w:body>
<w:p><w:r><w:t>K&#237;nh g&#7917;i</w:t></w:r><w:r><w:t xml:space="preserve"> S&#7903; N&#7897;i v&#7909;</w:t></w:r></w:p>
<w:p><w:r><w:t>A &amp; B</w:t><w:tab/><w:t>C</w:t></w:r></w:p><w:p><w:r><w:instrText>IGNORED</w:instrText></w:r></w:p>
</w:body></w:document>"#;
        let text = docx_xml_text(xml);
        assert!(text.contains("Kính gửi Sở Nội vụ\n"), "{text:?}");
        assert!(text.contains("A & B\tC\n"), "{text:?}");
        assert!(!text.contains("IGNORED"), "{text:?}");
    }

    #[test]
    fn docx_from_a_zip() {
        use std::io::Write;
        let mut buf = std::io::Cursor::new(Vec::new());
        {
            let mut zip = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default();
            zip.start_file("word/document.xml", opts).unwrap();
            zip.write_all(
                "<w:document xmlns:w=\"x\"><w:body><w:p><w:r><w:t>Quyết định số 15</w:t></w:r></w:p></w:body></w:document>"
                    .as_bytes(),
            )
            .unwrap();
            zip.finish().unwrap();
        }
        assert_eq!(extract(Kind::Docx, buf.get_ref()), "Quyết định số 15\n");
        assert_eq!(extract(Kind::Docx, b"PK\x03\x04 not a zip"), "");
        assert_eq!(extract(Kind::Docx, b""), "");
    }

    #[test]
    fn cmap_ranges_and_chars() {
        let cmap = b"/CIDInit /ProcSet findresource begin\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n\
2 beginbfchar\n<0003> <0020>\n<0010> <1EA1>\nendbfchar\n\
2 beginbfrange\n<0020> <0022> <0041>\n<0030> <0031> [<0110> <00E1>]\nendbfrange\nend";
        let (map, len) = parse_cmap(cmap);
        assert_eq!(len, Some(2));
        assert_eq!(map[&3], " ");
        assert_eq!(map[&0x10], "ạ");
        assert_eq!(map[&0x21], "B");
        assert_eq!(map[&0x30], "Đ");
        assert_eq!(map[&0x31], "á");
        let font = Font {
            code_len: 2,
            to_unicode: map,
            encoding: None,
        };
        let mut out = String::new();
        font.decode(&[0, 0x30, 0, 0x10, 0, 3, 0, 0x22], &mut out);
        assert_eq!(out, "Đạ C");
    }

    /// A small PDF written by hand: a Type0 font with a ToUnicode map, text in a deflated
    /// content stream.
    fn sample_pdf() -> Vec<u8> {
        use std::io::Write;
        let content = b"BT /F1 12 Tf 72 700 Td <00300010> Tj 0 -14 Td [<0020> -300 <0021>] TJ ET";
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(content).unwrap();
        let content = z.finish().unwrap();
        let cmap = b"1 begincodespacerange <0000> <FFFF> endcodespacerange\n2 beginbfchar <0010> <1EA1> <0030> <0110> endbfchar\n1 beginbfrange <0020> <0021> <0041> endbfrange";
        let mut objects: Vec<Vec<u8>> = Vec::new();
        objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
        objects.push(b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec());
        objects.push(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>".to_vec());
        let mut o4 = format!(
            "<< /Length {} /Filter /FlateDecode >>\nstream\n",
            content.len()
        )
        .into_bytes();
        o4.extend_from_slice(&content);
        o4.extend_from_slice(b"\nendstream");
        objects.push(o4);
        objects.push(b"<< /Type /Font /Subtype /Type0 /BaseFont /X /Encoding /Identity-H /ToUnicode 6 0 R >>".to_vec());
        let mut o6 = format!("<< /Length {} >>\nstream\n", cmap.len()).into_bytes();
        o6.extend_from_slice(cmap);
        o6.extend_from_slice(b"\nendstream");
        objects.push(o6);
        let mut pdf = b"%PDF-1.4\n".to_vec();
        let mut offsets = Vec::new();
        for (n, body) in objects.iter().enumerate() {
            offsets.push(pdf.len());
            pdf.extend_from_slice(format!("{} 0 obj\n", n + 1).as_bytes());
            pdf.extend_from_slice(body);
            pdf.extend_from_slice(b"\nendobj\n");
        }
        let xref = pdf.len();
        pdf.extend_from_slice(
            format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
        );
        for o in offsets {
            pdf.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
        }
        pdf.extend_from_slice(
            format!(
                "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
                objects.len() + 1
            )
            .as_bytes(),
        );
        pdf
    }

    #[test]
    fn pdf_text_through_to_unicode() {
        let text = extract(Kind::Pdf, &sample_pdf());
        assert!(text.contains("Đạ\nA B"), "{text:?}");
    }

    #[test]
    fn hostile_pdfs_give_no_text_and_no_panic() {
        // Deep nesting is refused before parsing.
        let mut deep = b"%PDF-1.4\n1 0 obj\n".to_vec();
        deep.extend(std::iter::repeat_n(b'[', 100_000));
        assert!(!pdf_is_bounded(&deep));
        assert_eq!(extract(Kind::Pdf, &deep), "");
        // A decompression bomb: a small stream inflating past the bound.
        use std::io::Write;
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..40 {
            z.write_all(&zeros).unwrap();
        }
        let bomb = z.finish().unwrap();
        let mut pdf = b"%PDF-1.4\n1 0 obj\n<< /Length 9 /Filter /FlateDecode >>\nstream\n".to_vec();
        pdf.extend_from_slice(&bomb);
        pdf.extend_from_slice(b"\nendstream\nendobj\n");
        assert!(!pdf_is_bounded(&pdf));
        assert_eq!(extract(Kind::Pdf, &pdf), "");
        // Truncations and garbage of every length of a real file.
        let good = sample_pdf();
        for cut in (0..good.len()).step_by(7) {
            let _ = extract(Kind::Pdf, &good[..cut]);
        }
        let _ = extract(
            Kind::Pdf,
            b"%PDF-1.4\ntrailer << /Prev 0 >>\nstartxref\n9\n%%EOF",
        );
    }
}
