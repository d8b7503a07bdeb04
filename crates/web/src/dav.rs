//! CardDAV (RFC 6352, on WebDAV RFC 4918, with RFC 6578's `sync-collection` and RFC 6764's
//! discovery): each user's personal address book, read-write, and the published directory,
//! read-only, for phones and mail clients (Thunderbird, Apple Contacts, DAVx⁵, vdirsyncer).
//!
//! | path | what |
//! |---|---|
//! | `/.well-known/carddav` | redirects to `/dav/` |
//! | `/dav/` | the context: `current-user-principal` |
//! | `/dav/principals/<address>/` | the principal: `addressbook-home-set` |
//! | `/dav/addressbooks/<address>/` | the home: two address books |
//! | `/dav/addressbooks/<address>/personal/` | one's own contacts (`GET`/`PUT`/`DELETE` `<name>.vcf`) |
//! | `/dav/addressbooks/<address>/directory/` | the published directory, read-only (403 on writes) |
//!
//! Methods: `OPTIONS` (`DAV: 1, 3, addressbook`), `PROPFIND` (Depth 0 and 1), `REPORT`
//! (`addressbook-multiget`, `addressbook-query` with `prop-filter`/`text-match`,
//! `sync-collection`), `GET`/`HEAD`, and on personal cards `PUT` and `DELETE` with ETags and
//! `If-Match`/`If-None-Match: *` (412 when they fail).
//!
//! Every request but `OPTIONS` signs in with HTTP Basic through `Core::authenticate_from`
//! (`SignInVia::Dav`: throttled like every sign-in; a one-time password is refused until it is
//! changed in the webmail); no cookie is read or set, so the webmail's session and CSRF rules
//! are not involved, and one may only reach one's own books. Bodies are bounded and read with
//! quick-xml (no DOCTYPE, so no entities); responses are written with its escaping. The books'
//! rules — what a valid card is, preconditions, the versions behind `getctag` and
//! `sync-token`, the directory's cards — are in `hopthu_core::contacts`.

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use base64::Engine as _;
use hopthu_core::contacts::{
    CardFilter, ContactOutcome, DirectoryCard, MAX_VCARD, MatchType, Precondition, PropFilter,
    TextMatch,
};
use hopthu_core::{AuthError, Core, ErrorKind, Principal, SignInError};
use quick_xml::escape::escape;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::name::ResolveResult;

use crate::AppState;

/// The largest XML request body (a multiget naming every card of a full book fits).
const MAX_XML: usize = 2 << 20;

const NS_DAV: &str = "DAV:";
const NS_CARD: &str = "urn:ietf:params:xml:ns:carddav";
const NS_CS: &str = "http://calendarserver.org/ns/";

const SYNC_PREFIX: &str = "urn:hopthu:sync:";

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/carddav", any(well_known))
        .route("/dav", any(dav))
        .route("/dav/", any(dav))
        .route("/dav/{*rest}", any(dav))
}

/// RFC 6764 §5: the context path. A client may send its PROPFIND body here: it is read
/// (a bounded amount) before the answer, else the connection closes under a client still
/// writing it, which then reports a failure instead of following the redirect.
async fn well_known(request: Request) -> Response {
    let _ = axum::body::to_bytes(request.into_body(), 64 * 1024).await;
    (
        StatusCode::MOVED_PERMANENTLY,
        [(header::LOCATION, "/dav/")],
        "",
    )
        .into_response()
}

/// Any other method than GET/HEAD on `/`: CardDAV clients given the server's address ask
/// there first (vdirsyncer sends PROPFIND), so `PROPFIND` is sent on to the context path like
/// `/.well-known/carddav`, the rest gets 405. The body is read first either way: an answer
/// before it would close the connection under a client that keeps it for its next request.
pub(crate) async fn root_other_method(request: Request) -> Response {
    let propfind = request.method().as_str() == "PROPFIND";
    let _ = axum::body::to_bytes(request.into_body(), 64 * 1024).await;
    if propfind {
        return (
            StatusCode::MOVED_PERMANENTLY,
            [(header::LOCATION, "/dav/")],
            "",
        )
            .into_response();
    }
    (
        StatusCode::METHOD_NOT_ALLOWED,
        [(header::ALLOW, "GET, HEAD")],
        "",
    )
        .into_response()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Book {
    Personal,
    Directory,
}

impl Book {
    fn segment(self) -> &'static str {
        match self {
            Book::Personal => "personal",
            Book::Directory => "directory",
        }
    }
}

/// What a path names.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Root,
    Principal,
    Home,
    Book(Book),
    Card(Book, String),
}

/// Percent-decoding of a path (invalid UTF-8 replaced).
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

/// The target of `path` (decoded, absolute) for the principal `me`, or `None` for a path that
/// is not ours to serve (another user's, or nothing).
fn target_of(path: &str, me: &str) -> Option<Target> {
    let path = percent_decode(path);
    let rest = path.strip_prefix("/dav")?;
    let parts: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    let mine = |a: &str| a.eq_ignore_ascii_case(me);
    Some(match parts.as_slice() {
        [] => Target::Root,
        ["principals", a] if mine(a) => Target::Principal,
        ["addressbooks", a] if mine(a) => Target::Home,
        ["addressbooks", a, book, rest @ ..] if mine(a) => {
            let book = match *book {
                "personal" => Book::Personal,
                "directory" => Book::Directory,
                _ => return None,
            };
            match rest {
                [] => Target::Book(book),
                [card] => Target::Card(book, (*card).to_string()),
                _ => return None,
            }
        }
        _ => return None,
    })
}

/// The path of a target for `me`.
fn href(target: &Target, me: &str) -> String {
    match target {
        Target::Root => "/dav/".to_string(),
        Target::Principal => format!("/dav/principals/{me}/"),
        Target::Home => format!("/dav/addressbooks/{me}/"),
        Target::Book(b) => format!("/dav/addressbooks/{me}/{}/", b.segment()),
        Target::Card(b, name) => format!("/dav/addressbooks/{me}/{}/{name}", b.segment()),
    }
}

/// A plain-text response.
fn text(status: StatusCode, body: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{body}\n"),
    )
        .into_response()
}

fn unauthorized() -> Response {
    let mut r = text(
        StatusCode::UNAUTHORIZED,
        "cần đăng nhập / authentication required (HTTP Basic)",
    );
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"hopthu\", charset=\"UTF-8\""),
    );
    r
}

/// Signs the request in with HTTP Basic, or the response to send instead.
async fn sign_in(
    state: &AppState,
    ip: std::net::IpAddr,
    headers: &HeaderMap,
) -> Result<Principal, Response> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(unauthorized)?;
    let encoded = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))
        .ok_or_else(unauthorized)?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(unauthorized)?;
    let (login, password) = decoded.split_once(':').ok_or_else(unauthorized)?;
    let principal = match state
        .core
        .authenticate_from(ip, hopthu_core::SignInVia::Dav, login, password)
        .await
    {
        Ok(p) => p,
        Err(SignInError::Throttled { retry_after }) => {
            let mut r = text(
                StatusCode::TOO_MANY_REQUESTS,
                "quá nhiều lần đăng nhập sai / too many failed sign-ins",
            );
            if let Ok(v) = HeaderValue::from_str(&retry_after.as_secs().to_string()) {
                r.headers_mut().insert(header::RETRY_AFTER, v);
            }
            return Err(r);
        }
        Err(SignInError::Auth(AuthError::Disabled | AuthError::Expired)) => {
            return Err(text(
                StatusCode::FORBIDDEN,
                "hộp thư đã bị thu hồi hoặc mật khẩu hết hạn / account revoked or password expired",
            ));
        }
        Err(SignInError::Auth(AuthError::Delegated)) => {
            return Err(text(
                StatusCode::FORBIDDEN,
                "hộp thư đơn vị đã giao quyền, hãy đăng nhập bằng hộp thư của chính mình / the unit mailbox is delegated: sign in with your own mailbox",
            ));
        }
        Err(SignInError::Auth(AuthError::Temporary)) => {
            return Err(text(
                StatusCode::SERVICE_UNAVAILABLE,
                "tạm thời không đăng nhập được / temporary failure",
            ));
        }
        Err(_) => return Err(unauthorized()),
    };
    if let Err(notice) = state.core.check_mail_client_access(&principal) {
        return Err(text(StatusCode::FORBIDDEN, &notice));
    }
    Ok(principal)
}

const ALLOW: &str = "OPTIONS, GET, HEAD, PUT, DELETE, PROPFIND, REPORT";

async fn dav(State(state): State<AppState>, ip: crate::ClientIp, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    if parts.method == Method::OPTIONS {
        return (
            StatusCode::OK,
            [("dav", "1, 3, addressbook"), ("allow", ALLOW)],
        )
            .into_response();
    }
    let who = match sign_in(&state, ip.0, &parts.headers).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let me = who.address.to_string();
    let Some(target) = target_of(parts.uri.path(), &me) else {
        return text(StatusCode::NOT_FOUND, "không tìm thấy / not found");
    };
    let ctx = Ctx {
        core: &state.core,
        who: &who,
        me: &me,
    };
    let limit = if parts.method == Method::PUT {
        MAX_VCARD + 1
    } else {
        MAX_XML
    };
    let body = match axum::body::to_bytes(Body::new(body), limit).await {
        Ok(b) => b,
        Err(_) => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "nội dung quá lớn / body too large",
            );
        }
    };
    let result = match parts.method.as_str() {
        "PROPFIND" => propfind(&ctx, &target, &parts.headers, &body).await,
        "REPORT" => report(&ctx, &target, &body).await,
        "GET" => get(&ctx, &target, false).await,
        "HEAD" => get(&ctx, &target, true).await,
        "PUT" => put(&ctx, &target, &parts.headers, &body).await,
        "DELETE" => delete(&ctx, &target, &parts.headers).await,
        "PROPPATCH" | "MKCOL" | "MOVE" | "COPY" | "POST" => Ok(read_only(&target)),
        _ => Ok((StatusCode::METHOD_NOT_ALLOWED, [(header::ALLOW, ALLOW)], "").into_response()),
    };
    result.unwrap_or_else(|e| core_error(&e))
}

fn core_error(e: &hopthu_core::Error) -> Response {
    let status = match e.kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Invalid => StatusCode::BAD_REQUEST,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::QuotaExceeded => StatusCode::INSUFFICIENT_STORAGE,
        ErrorKind::AlreadyExists | ErrorKind::HasChildren => StatusCode::CONFLICT,
        ErrorKind::Temporary => StatusCode::SERVICE_UNAVAILABLE,
        ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    };
    text(status, &e.message)
}

fn read_only(target: &Target) -> Response {
    let why = match target {
        Target::Book(Book::Directory) | Target::Card(Book::Directory, _) => {
            "danh bạ công khai chỉ để đọc / the published directory is read-only"
        }
        _ => "không được phép / not allowed here",
    };
    error_document(StatusCode::FORBIDDEN, "d:need-privileges", Some(why))
}

struct Ctx<'a> {
    core: &'a Core,
    who: &'a Principal,
    me: &'a str,
}

/// A card as served: name, ETag and, when asked, its text.
struct CardView {
    name: String,
    etag: String,
    vcard: String,
}

impl Ctx<'_> {
    async fn cards(&self, book: Book) -> hopthu_core::Result<Vec<CardView>> {
        Ok(match book {
            Book::Personal => self
                .core
                .contacts(self.who)
                .await?
                .into_iter()
                .map(|c| CardView {
                    name: c.name,
                    etag: c.etag,
                    vcard: c.vcard,
                })
                .collect(),
            Book::Directory => self
                .core
                .directory_cards()
                .await?
                .into_iter()
                .map(|c: DirectoryCard| CardView {
                    name: c.name,
                    etag: c.etag,
                    vcard: c.vcard,
                })
                .collect(),
        })
    }

    async fn card(&self, book: Book, name: &str) -> hopthu_core::Result<Option<CardView>> {
        Ok(match book {
            Book::Personal => self.core.contact(self.who, name).await?.map(|c| CardView {
                name: c.name,
                etag: c.etag,
                vcard: c.vcard,
            }),
            Book::Directory => self.cards(book).await?.into_iter().find(|c| c.name == name),
        })
    }

    /// The book's CTag and sync token.
    async fn version(&self, book: Book) -> hopthu_core::Result<String> {
        Ok(match book {
            Book::Personal => self.core.contacts_version(self.who).await?.to_string(),
            Book::Directory => Core::directory_version(&self.core.directory_cards().await?),
        })
    }
}

fn sync_token(book: Book, version: &str) -> String {
    format!("{SYNC_PREFIX}{}:{version}", book.segment())
}

// ---- reading requests --------------------------------------------------------------------

/// A property name: namespace and local name.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prop {
    ns: String,
    local: String,
}

impl Prop {
    fn new(ns: &str, local: &str) -> Prop {
        Prop {
            ns: ns.into(),
            local: local.into(),
        }
    }
    fn is(&self, ns: &str, local: &str) -> bool {
        self.ns == ns && self.local == local
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Wanted {
    All,
    Names,
    Props(Vec<Prop>),
}

/// What a PROPFIND or REPORT body asks.
#[derive(Debug, Default)]
struct Parsed {
    root: Option<Prop>,
    wanted: Option<Wanted>,
    hrefs: Vec<String>,
    sync_token: Option<String>,
    filter: Option<CardFilter>,
    limit: Option<usize>,
}

/// An element being read: its name, attributes of interest, and text.
struct Open {
    name: Prop,
    attrs: Vec<(String, String)>,
    text: String,
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Reads a PROPFIND or REPORT body with quick-xml's namespace-aware reader.
fn parse_body(body: &[u8]) -> Result<Parsed, String> {
    let text = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_string())?;
    let mut reader = quick_xml::NsReader::from_str(text);
    let mut stack: Vec<Open> = Vec::new();
    let mut parsed = Parsed::default();
    let mut props: Vec<Prop> = Vec::new();
    let mut filter: Option<CardFilter> = None;
    loop {
        let (ns, event) = reader.read_resolved_event().map_err(|e| e.to_string())?;
        let ns = match ns {
            ResolveResult::Bound(n) => n.as_ref().to_string(),
            _ => String::new(),
        };
        let (start, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(e) = start {
            if stack.len() > 16 {
                return Err("nested too deep".into());
            }
            let local = e.local_name().as_ref().to_string();
            let mut attrs = Vec::new();
            for a in e.attributes().flatten() {
                let key = a.key.local_name().as_ref().to_string();
                let value = a
                    .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                    .map(|v| v.into_owned())
                    .unwrap_or_default();
                attrs.push((key, value));
            }
            let name = Prop { ns, local };
            if stack.is_empty() {
                if parsed.root.is_some() {
                    return Err("a second root element".into());
                }
                parsed.root = Some(name.clone());
            }
            // Children of the top-level `prop` are the properties asked for.
            if stack.len() == 2 && stack[1].name.is(NS_DAV, "prop") {
                props.push(name.clone());
            }
            if stack.len() == 1 {
                if name.is(NS_DAV, "allprop") {
                    parsed.wanted = Some(Wanted::All);
                } else if name.is(NS_DAV, "propname") {
                    parsed.wanted = Some(Wanted::Names);
                } else if name.is(NS_CARD, "filter") {
                    filter = Some(CardFilter {
                        all_of: attr(&attrs, "test") == Some("allof"),
                        props: Vec::new(),
                    });
                }
            }
            if name.is(NS_CARD, "prop-filter")
                && let Some(f) = filter.as_mut()
            {
                f.props.push(PropFilter {
                    name: attr(&attrs, "name").unwrap_or_default().to_string(),
                    all_of: attr(&attrs, "test") == Some("allof"),
                    is_not_defined: false,
                    matches: Vec::new(),
                });
            }
            if name.is(NS_CARD, "is-not-defined")
                && let Some(p) = filter.as_mut().and_then(|f| f.props.last_mut())
            {
                p.is_not_defined = true;
            }
            let open = Open {
                name,
                attrs,
                text: String::new(),
            };
            if empty {
                close(open, &stack, &mut parsed, &mut filter)?;
            } else {
                stack.push(open);
            }
            continue;
        }
        match event {
            Event::End(_) => {
                let open = stack.pop().ok_or("an end tag with no start")?;
                close(open, &stack, &mut parsed, &mut filter)?;
            }
            Event::Text(t) => {
                if let Some(o) = stack.last_mut() {
                    o.text.push_str(&t.xml10_content());
                }
            }
            Event::CData(t) => {
                if let Some(o) = stack.last_mut() {
                    o.text.push_str(&t.xml10_content());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err("an unknown entity".into()),
                    },
                    Err(e) => return Err(e.to_string()),
                };
                if let Some(o) = stack.last_mut() {
                    o.text.push(c);
                }
            }
            Event::DocType(_) => return Err("a DOCTYPE".into()),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("the document is not complete".into());
    }
    if parsed.wanted.is_none() && !props.is_empty() {
        parsed.wanted = Some(Wanted::Props(props));
    }
    parsed.filter = filter;
    Ok(parsed)
}

/// An element ends: keep what it said.
fn close(
    open: Open,
    stack: &[Open],
    parsed: &mut Parsed,
    filter: &mut Option<CardFilter>,
) -> Result<(), String> {
    let n = &open.name;
    if n.is(NS_DAV, "href") && stack.len() == 1 {
        parsed.hrefs.push(open.text.trim().to_string());
    } else if n.is(NS_DAV, "sync-token") && stack.len() == 1 {
        parsed.sync_token = Some(open.text.trim().to_string());
    } else if n.is(NS_CARD, "nresults") || n.is(NS_DAV, "nresults") {
        parsed.limit = open.text.trim().parse().ok();
    } else if n.is(NS_CARD, "text-match") {
        let match_type = match attr(&open.attrs, "match-type").unwrap_or("contains") {
            "equals" => MatchType::Equals,
            "contains" => MatchType::Contains,
            "starts-with" => MatchType::StartsWith,
            "ends-with" => MatchType::EndsWith,
            other => return Err(format!("unsupported match-type {other:?}")),
        };
        if let Some(p) = filter.as_mut().and_then(|f| f.props.last_mut()) {
            p.matches.push(TextMatch {
                text: open.text.clone(),
                match_type,
                negate: attr(&open.attrs, "negate-condition") == Some("yes"),
            });
        }
    }
    Ok(())
}

fn bad_request(why: &str) -> Response {
    text(
        StatusCode::BAD_REQUEST,
        &format!("yêu cầu không hợp lệ / bad request: {why}"),
    )
}

// ---- writing responses -------------------------------------------------------------------

/// An XML document written with quick-xml's writer (every text and attribute escaped by it).
struct Xml(quick_xml::Writer<Vec<u8>>);

impl Xml {
    /// A `d:multistatus` document, its prefixes declared: `d:` DAV, `card:` CardDAV, `cs:`
    /// CalendarServer (`getctag`).
    fn multistatus() -> Xml {
        Xml::document(BytesStart::new("d:multistatus").with_attributes([
            ("xmlns:d", NS_DAV),
            ("xmlns:card", NS_CARD),
            ("xmlns:cs", NS_CS),
        ]))
    }

    fn document(root: BytesStart<'static>) -> Xml {
        let mut w = quick_xml::Writer::new(Vec::new());
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
        let _ = w.write_event(Event::Start(root));
        Xml(w)
    }

    fn event(&mut self, e: Event<'_>) {
        // Writing into a Vec cannot fail.
        let _ = self.0.write_event(e);
    }

    fn start(&mut self, name: &str) {
        self.event(Event::Start(BytesStart::new(name)));
    }

    fn end(&mut self, name: &str) {
        self.event(Event::End(BytesEnd::new(name)));
    }

    fn empty(&mut self, name: &str) {
        self.event(Event::Empty(BytesStart::new(name)));
    }

    fn text(&mut self, name: &str, text: &str) {
        self.start(name);
        self.event(Event::Text(BytesText::new(text)));
        self.end(name);
    }

    /// A response carrying only a status (a card not found, deleted since a sync token).
    fn status_response(&mut self, href: &str, status: &str) {
        self.start("d:response");
        self.text("d:href", href);
        self.text("d:status", status);
        self.end("d:response");
    }

    /// Ends the root element `root` and sends the document with `status`.
    fn finish(mut self, root: &str, status: StatusCode) -> Response {
        self.end(root);
        let mut body = self.0.into_inner();
        body.push(b'\n');
        (
            status,
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            body,
        )
            .into_response()
    }

    fn done(self) -> Response {
        self.finish("d:multistatus", StatusCode::MULTI_STATUS)
    }
}

/// A `d:error` document with one precondition element and an optional description.
fn error_document(status: StatusCode, condition: &str, why: Option<&str>) -> Response {
    let mut x = Xml::document(BytesStart::new("d:error").with_attributes([("xmlns:d", NS_DAV)]));
    x.empty(condition);
    if let Some(why) = why {
        x.text("d:responsedescription", why);
    }
    x.finish("d:error", status)
}

/// The element name of a property: a known prefix, or its own default namespace.
fn prop_element(p: &Prop) -> BytesStart<'static> {
    let prefix = match p.ns.as_str() {
        NS_DAV => "d:",
        NS_CARD => "card:",
        NS_CS => "cs:",
        _ => "",
    };
    let start = BytesStart::new(format!("{prefix}{}", p.local));
    if prefix.is_empty() {
        start.with_attributes([("xmlns", p.ns.as_str())])
    } else {
        start
    }
}

/// A property's value.
enum Value {
    /// Present with no content (a card's `resourcetype`, or a `propname` answer).
    Empty,
    Text(String),
    /// Text whose line ends are kept: each CR written as a character reference (an XML parser
    /// turns a literal CRLF into LF).
    Exact(String),
    Href(String),
    /// Empty child elements (`resourcetype`).
    Elements(Vec<&'static str>),
    /// `d:privilege` elements, each around one empty element.
    Privileges(Vec<&'static str>),
    /// `d:supported-report` elements.
    Reports(Vec<&'static str>),
    /// CardDAV's `address-data-type` elements.
    AddressDataTypes,
}

fn write_value(x: &mut Xml, v: &Value) {
    match v {
        Value::Empty => {}
        Value::Text(t) => x.event(Event::Text(BytesText::new(t))),
        Value::Exact(t) => {
            let escaped = escape(t).replace('\r', "&#13;");
            x.event(Event::Text(BytesText::from_escaped(escaped)));
        }
        Value::Href(h) => x.text("d:href", h),
        Value::Elements(names) => names.iter().for_each(|n| x.empty(n)),
        Value::Privileges(names) => {
            for n in names {
                x.start("d:privilege");
                x.empty(n);
                x.end("d:privilege");
            }
        }
        Value::Reports(names) => {
            for n in names {
                x.start("d:supported-report");
                x.start("d:report");
                x.empty(n);
                x.end("d:report");
                x.end("d:supported-report");
            }
        }
        Value::AddressDataTypes => {
            for version in ["3.0", "4.0"] {
                x.event(Event::Empty(
                    BytesStart::new("card:address-data-type")
                        .with_attributes([("content-type", "text/vcard"), ("version", version)]),
                ));
            }
        }
    }
}

/// One `d:response`: the href, then the properties found (200) and not found (404).
fn response_xml(x: &mut Xml, href: &str, found: &[(Prop, Value)], missing: &[Prop]) {
    x.start("d:response");
    x.text("d:href", href);
    if !found.is_empty() {
        x.start("d:propstat");
        x.start("d:prop");
        for (p, v) in found {
            let start = prop_element(p);
            let end = start.to_end().into_owned();
            if matches!(v, Value::Empty) {
                x.event(Event::Empty(start));
            } else {
                x.event(Event::Start(start));
                write_value(x, v);
                x.event(Event::End(end));
            }
        }
        x.end("d:prop");
        x.text("d:status", "HTTP/1.1 200 OK");
        x.end("d:propstat");
    }
    if !missing.is_empty() {
        x.start("d:propstat");
        x.start("d:prop");
        for p in missing {
            x.event(Event::Empty(prop_element(p)));
        }
        x.end("d:prop");
        x.text("d:status", "HTTP/1.1 404 Not Found");
        x.end("d:propstat");
    }
    x.end("d:response");
}

/// What is known about a resource when its properties are rendered.
struct Facts<'a> {
    target: &'a Target,
    /// A book's version (CTag).
    version: Option<String>,
    card: Option<&'a CardView>,
}

/// The properties `allprop` returns (RFC 4918 §9.1: the live ones worth sending).
fn all_props() -> Vec<Prop> {
    [
        (NS_DAV, "resourcetype"),
        (NS_DAV, "displayname"),
        (NS_DAV, "getetag"),
        (NS_DAV, "getcontenttype"),
        (NS_DAV, "getcontentlength"),
        (NS_CS, "getctag"),
        (NS_DAV, "sync-token"),
    ]
    .iter()
    .map(|(ns, l)| Prop::new(ns, l))
    .collect()
}

/// The value of one property of a resource, `None` when it has none.
fn value(ctx: &Ctx, facts: &Facts, p: &Prop) -> Option<Value> {
    let me = ctx.me;
    let book = match facts.target {
        Target::Book(b) | Target::Card(b, _) => Some(*b),
        _ => None,
    };
    let is_book = matches!(facts.target, Target::Book(_));
    let h = |t: &Target| Value::Href(href(t, me));
    let text = |t: &str| Some(Value::Text(t.to_string()));
    let ns = p.ns.as_str();
    let local = p.local.as_str();
    match (ns, local) {
        (NS_DAV, "resourcetype") => Some(match facts.target {
            Target::Root | Target::Home => Value::Elements(vec!["d:collection"]),
            Target::Principal => Value::Elements(vec!["d:collection", "d:principal"]),
            Target::Book(_) => Value::Elements(vec!["d:collection", "card:addressbook"]),
            Target::Card(..) => Value::Empty,
        }),
        (NS_DAV, "displayname") => match facts.target {
            Target::Root | Target::Home => text("Danh bạ / Contacts"),
            Target::Principal => text(&ctx.who.display_name),
            Target::Book(Book::Personal) => text("Danh bạ cá nhân / Personal contacts"),
            Target::Book(Book::Directory) => text("Danh bạ công khai / Published directory"),
            Target::Card(..) => None,
        },
        (NS_DAV, "current-user-principal") => Some(h(&Target::Principal)),
        (NS_DAV, "principal-URL") if matches!(facts.target, Target::Principal | Target::Root) => {
            Some(h(&Target::Principal))
        }
        (NS_DAV, "owner") if is_book => Some(h(&Target::Principal)),
        (NS_CARD, "addressbook-home-set")
            if matches!(facts.target, Target::Principal | Target::Root) =>
        {
            Some(h(&Target::Home))
        }
        (NS_DAV, "principal-collection-set") => Some(Value::Href("/dav/principals/".into())),
        (NS_DAV, "current-user-privilege-set") => {
            let mut privileges = vec!["d:read", "d:read-current-user-privilege-set"];
            if book == Some(Book::Personal) {
                privileges.extend(["d:write", "d:write-content"]);
                if is_book {
                    privileges.extend(["d:bind", "d:unbind"]);
                }
            }
            Some(Value::Privileges(privileges))
        }
        (NS_DAV, "supported-report-set") if is_book => Some(Value::Reports(vec![
            "card:addressbook-multiget",
            "card:addressbook-query",
            "d:sync-collection",
        ])),
        (NS_CS, "getctag") if is_book => facts.version.clone().map(Value::Text),
        (NS_DAV, "sync-token") if is_book => text(&sync_token(book?, facts.version.as_deref()?)),
        (NS_CARD, "supported-address-data") if is_book => Some(Value::AddressDataTypes),
        (NS_CARD, "addressbook-description") if is_book => match book? {
            Book::Personal => text("Danh bạ cá nhân / Personal contacts"),
            Book::Directory => {
                text("Danh bạ công khai, chỉ đọc / The published directory, read-only")
            }
        },
        (NS_CARD, "max-resource-size") if book == Some(Book::Personal) && is_book => {
            text(&MAX_VCARD.to_string())
        }
        (NS_DAV, "getetag") => facts.card.map(|c| Value::Text(format!("\"{}\"", c.etag))),
        (NS_DAV, "getcontenttype") => facts
            .card
            .map(|_| Value::Text("text/vcard; charset=utf-8".into())),
        (NS_DAV, "getcontentlength") => facts.card.map(|c| Value::Text(c.vcard.len().to_string())),
        (NS_CARD, "address-data") => facts.card.map(|c| Value::Exact(c.vcard.clone())),
        _ => None,
    }
}

/// One resource's `<d:response>` for what was asked.
fn render(ctx: &Ctx, out: &mut Xml, facts: &Facts, wanted: &Wanted) {
    let names = match wanted {
        Wanted::Props(p) => p.clone(),
        Wanted::All | Wanted::Names => all_props(),
    };
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for p in names {
        match value(ctx, facts, &p) {
            Some(_) if *wanted == Wanted::Names => found.push((p, Value::Empty)),
            Some(v) => found.push((p, v)),
            None if matches!(wanted, Wanted::Props(_)) => missing.push(p),
            None => {}
        }
    }
    response_xml(out, &href(facts.target, ctx.me), &found, &missing);
}

// ---- methods -----------------------------------------------------------------------------

async fn propfind(
    ctx: &Ctx<'_>,
    target: &Target,
    headers: &HeaderMap,
    body: &[u8],
) -> hopthu_core::Result<Response> {
    let wanted = if body.iter().all(u8::is_ascii_whitespace) {
        Wanted::All
    } else {
        match parse_body(body) {
            Ok(p) => {
                if p.root.as_ref().is_none_or(|r| !r.is(NS_DAV, "propfind")) {
                    return Ok(bad_request("not a propfind"));
                }
                p.wanted.unwrap_or(Wanted::All)
            }
            Err(why) => return Ok(bad_request(&why)),
        }
    };
    let depth1 = headers
        .get("depth")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|d| d.trim() != "0");
    let mut out = Xml::multistatus();
    match target {
        Target::Root | Target::Principal => {
            let facts = Facts {
                target,
                version: None,
                card: None,
            };
            render(ctx, &mut out, &facts, &wanted);
        }
        Target::Home => {
            let facts = Facts {
                target,
                version: None,
                card: None,
            };
            render(ctx, &mut out, &facts, &wanted);
            if depth1 {
                for book in [Book::Personal, Book::Directory] {
                    let t = Target::Book(book);
                    let facts = Facts {
                        target: &t,
                        version: Some(ctx.version(book).await?),
                        card: None,
                    };
                    render(ctx, &mut out, &facts, &wanted);
                }
            }
        }
        Target::Book(book) => {
            let cards = ctx.cards(*book).await?;
            let version = match book {
                Book::Personal => ctx.version(*book).await?,
                Book::Directory => directory_version_of(&cards),
            };
            let facts = Facts {
                target,
                version: Some(version),
                card: None,
            };
            render(ctx, &mut out, &facts, &wanted);
            if depth1 {
                for c in &cards {
                    let t = Target::Card(*book, c.name.clone());
                    let facts = Facts {
                        target: &t,
                        version: None,
                        card: Some(c),
                    };
                    render(ctx, &mut out, &facts, &wanted);
                }
            }
        }
        Target::Card(book, name) => {
            let Some(card) = ctx.card(*book, name).await? else {
                return Ok(text(
                    StatusCode::NOT_FOUND,
                    "không có danh thiếp này / no such card",
                ));
            };
            let facts = Facts {
                target,
                version: None,
                card: Some(&card),
            };
            render(ctx, &mut out, &facts, &wanted);
        }
    }
    Ok(out.done())
}

fn directory_version_of(cards: &[CardView]) -> String {
    let as_directory: Vec<DirectoryCard> = cards
        .iter()
        .map(|c| DirectoryCard {
            name: c.name.clone(),
            uid: String::new(),
            vcard: String::new(),
            etag: c.etag.clone(),
        })
        .collect();
    Core::directory_version(&as_directory)
}

/// The card name an href names in `book`, if it is one of its cards.
fn card_of_href(raw: &str, book: Book, me: &str) -> Option<String> {
    let path = match raw.find("://") {
        Some(i) => {
            let after = &raw[i + 3..];
            &after[after.find('/')?..]
        }
        None => raw,
    };
    match target_of(path, me)? {
        Target::Card(b, name) if b == book => Some(name),
        _ => None,
    }
}

async fn report(ctx: &Ctx<'_>, target: &Target, body: &[u8]) -> hopthu_core::Result<Response> {
    let Target::Book(book) = target else {
        return Ok(text(
            StatusCode::FORBIDDEN,
            "REPORT chỉ trên một danh bạ / REPORT only on an address book",
        ));
    };
    let book = *book;
    let parsed = match parse_body(body) {
        Ok(p) => p,
        Err(why) => return Ok(bad_request(&why)),
    };
    let wanted = parsed.wanted.clone().unwrap_or(Wanted::Props(vec![
        Prop::new(NS_DAV, "getetag"),
        Prop::new(NS_CARD, "address-data"),
    ]));
    let Some(root) = parsed.root.clone() else {
        return Ok(bad_request("empty body"));
    };
    let mut out = Xml::multistatus();
    let render_card = |out: &mut Xml, c: &CardView| {
        let t = Target::Card(book, c.name.clone());
        let facts = Facts {
            target: &t,
            version: None,
            card: Some(c),
        };
        render(ctx, out, &facts, &wanted);
    };
    if root.is(NS_CARD, "addressbook-multiget") {
        let cards = ctx.cards(book).await?;
        for raw in &parsed.hrefs {
            let found = card_of_href(raw, book, ctx.me)
                .and_then(|name| cards.iter().find(|c| c.name == name));
            match found {
                Some(c) => render_card(&mut out, c),
                None => out.status_response(raw, "HTTP/1.1 404 Not Found"),
            }
        }
        return Ok(out.done());
    }
    if root.is(NS_CARD, "addressbook-query") {
        let filter = parsed.filter.clone().unwrap_or_default();
        let limit = parsed.limit.unwrap_or(usize::MAX);
        for c in ctx
            .cards(book)
            .await?
            .iter()
            .filter(|c| filter.matches(&c.vcard))
            .take(limit)
        {
            render_card(&mut out, c);
        }
        return Ok(out.done());
    }
    if root.is(NS_DAV, "sync-collection") {
        return sync_collection(ctx, book, &parsed, &wanted).await;
    }
    Ok(text(
        StatusCode::FORBIDDEN,
        "REPORT không được hỗ trợ / unsupported REPORT",
    ))
}

/// RFC 6578: what changed since the client's token (everything for an empty one); an
/// unknown token is `403 valid-sync-token`, after which the client starts again.
async fn sync_collection(
    ctx: &Ctx<'_>,
    book: Book,
    parsed: &Parsed,
    wanted: &Wanted,
) -> hopthu_core::Result<Response> {
    let token = parsed.sync_token.clone().unwrap_or_default();
    let invalid = || error_document(StatusCode::FORBIDDEN, "d:valid-sync-token", None);
    let since = if token.is_empty() {
        None
    } else {
        let prefix = format!("{SYNC_PREFIX}{}:", book.segment());
        match token.strip_prefix(&prefix) {
            Some(v) => Some(v.to_string()),
            None => return Ok(invalid()),
        }
    };
    let mut out = Xml::multistatus();
    let render_card = |out: &mut Xml, c: &CardView| {
        let t = Target::Card(book, c.name.clone());
        let facts = Facts {
            target: &t,
            version: None,
            card: Some(c),
        };
        render(ctx, out, &facts, wanted);
    };
    let new_version = match book {
        Book::Personal => {
            let now = ctx.core.contacts_version(ctx.who).await?;
            let since: i64 = match since.as_deref().map(str::parse) {
                None => 0,
                Some(Ok(v)) => v,
                Some(Err(_)) => return Ok(invalid()),
            };
            let Some(changes) = ctx.core.contact_changes(ctx.who, since).await? else {
                return Ok(invalid());
            };
            let mut top = now;
            for change in &changes {
                top = top.max(change.version);
                match &change.etag {
                    Some(_) => {
                        if let Some(c) = ctx.card(book, &change.name).await? {
                            render_card(&mut out, &c);
                        }
                    }
                    None if since > 0 => {
                        let t = Target::Card(book, change.name.clone());
                        out.status_response(&href(&t, ctx.me), "HTTP/1.1 404 Not Found");
                    }
                    None => {}
                }
            }
            top.to_string()
        }
        Book::Directory => {
            let cards = ctx.cards(book).await?;
            let now = directory_version_of(&cards);
            match since {
                None => {
                    for c in &cards {
                        render_card(&mut out, c);
                    }
                }
                Some(v) if v == now => {}
                Some(_) => return Ok(invalid()),
            }
            now
        }
    };
    out.text("d:sync-token", &sync_token(book, &new_version));
    Ok(out.done())
}

async fn get(ctx: &Ctx<'_>, target: &Target, head: bool) -> hopthu_core::Result<Response> {
    let (body, etag) = match target {
        Target::Card(book, name) => match ctx.card(*book, name).await? {
            Some(c) => (c.vcard, Some(c.etag)),
            None => {
                return Ok(text(
                    StatusCode::NOT_FOUND,
                    "không có danh thiếp này / no such card",
                ));
            }
        },
        Target::Book(book) => {
            let cards = ctx.cards(*book).await?;
            (cards.into_iter().map(|c| c.vcard).collect::<String>(), None)
        }
        _ => {
            return Ok(text(
                StatusCode::OK,
                "CardDAV: hãy dùng một chương trình danh bạ / use a contacts application",
            ));
        }
    };
    let mut r = if head {
        (
            StatusCode::OK,
            [(header::CONTENT_LENGTH, body.len().to_string())],
        )
            .into_response()
    } else {
        (StatusCode::OK, body).into_response()
    };
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/vcard; charset=utf-8"),
    );
    if let Some(etag) = etag
        && let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\""))
    {
        r.headers_mut().insert(header::ETAG, v);
    }
    Ok(r)
}

/// The precondition of a write from `If-Match` / `If-None-Match`.
fn precondition(headers: &HeaderMap) -> Precondition {
    let get = |h| {
        headers
            .get(h)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::trim)
    };
    if get(header::IF_NONE_MATCH) == Some("*") {
        return Precondition::Absent;
    }
    match get(header::IF_MATCH) {
        Some("*") => Precondition::Present,
        Some(tag) => {
            // One ETag (a list is matched by its first); weak tags never match a write.
            let first = tag.split(',').next().unwrap_or_default().trim();
            Precondition::Etag(first.trim_matches('"').to_string())
        }
        None => Precondition::Any,
    }
}

async fn put(
    ctx: &Ctx<'_>,
    target: &Target,
    headers: &HeaderMap,
    body: &[u8],
) -> hopthu_core::Result<Response> {
    let name = match target {
        Target::Card(Book::Personal, name) => name,
        _ => return Ok(read_only(target)),
    };
    if body.len() > MAX_VCARD {
        return Ok(text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "danh thiếp quá lớn / the vCard is too large",
        ));
    }
    let Ok(vcard) = std::str::from_utf8(body) else {
        return Ok(text(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "vCard phải là UTF-8 / the vCard must be UTF-8",
        ));
    };
    match ctx
        .core
        .put_contact(ctx.who, name, vcard, precondition(headers))
        .await?
    {
        ContactOutcome::Done { etag, created } => {
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::NO_CONTENT
            };
            let mut r = status.into_response();
            if let Some(etag) = etag
                && let Ok(v) = HeaderValue::from_str(&format!("\"{etag}\""))
            {
                r.headers_mut().insert(header::ETAG, v);
            }
            Ok(r)
        }
        ContactOutcome::PreconditionFailed => Ok(text(
            StatusCode::PRECONDITION_FAILED,
            "danh thiếp đã thay đổi / the card has changed (precondition failed)",
        )),
    }
}

async fn delete(
    ctx: &Ctx<'_>,
    target: &Target,
    headers: &HeaderMap,
) -> hopthu_core::Result<Response> {
    let name = match target {
        Target::Card(Book::Personal, name) => name,
        _ => return Ok(read_only(target)),
    };
    match ctx
        .core
        .delete_contact(ctx.who, name, precondition(headers))
        .await?
    {
        ContactOutcome::Done { .. } => Ok(StatusCode::NO_CONTENT.into_response()),
        ContactOutcome::PreconditionFailed => Ok(text(
            StatusCode::PRECONDITION_FAILED,
            "danh thiếp đã thay đổi / the card has changed (precondition failed)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_only_ones_own_books() {
        let me = "hoa@x.vn";
        assert_eq!(target_of("/dav/", me), Some(Target::Root));
        assert_eq!(
            target_of("/dav/principals/hoa@x.vn/", me),
            Some(Target::Principal)
        );
        assert_eq!(
            target_of("/dav/principals/hoa%40x.vn", me),
            Some(Target::Principal)
        );
        assert_eq!(
            target_of("/dav/addressbooks/hoa@x.vn/personal/a.vcf", me),
            Some(Target::Card(Book::Personal, "a.vcf".into()))
        );
        assert_eq!(target_of("/dav/addressbooks/lan@x.vn/personal/", me), None);
        assert_eq!(target_of("/dav/addressbooks/hoa@x.vn/other/", me), None);
        assert_eq!(
            card_of_href(
                "https://h:1/dav/addressbooks/hoa@x.vn/directory/p.vcf",
                Book::Directory,
                me
            ),
            Some("p.vcf".into())
        );
        assert_eq!(
            card_of_href(
                "/dav/addressbooks/hoa@x.vn/directory/p.vcf",
                Book::Personal,
                me
            ),
            None
        );
    }

    #[test]
    fn bodies_are_read_with_namespaces() {
        let p = parse_body(
            br#"<?xml version="1.0"?><x:propfind xmlns:x="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"><x:prop><x:getetag/><c:address-data/><y xmlns="urn:other"/></x:prop></x:propfind>"#,
        )
        .unwrap();
        assert!(p.root.unwrap().is(NS_DAV, "propfind"));
        assert_eq!(
            p.wanted,
            Some(Wanted::Props(vec![
                Prop::new(NS_DAV, "getetag"),
                Prop::new(NS_CARD, "address-data"),
                Prop::new("urn:other", "y"),
            ]))
        );
        let q = parse_body(
            br#"<C:addressbook-query xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:carddav"><D:prop><D:getetag/></D:prop><C:filter test="anyof"><C:prop-filter name="EMAIL"><C:text-match match-type="starts-with" negate-condition="no">a&amp;b</C:text-match></C:prop-filter></C:filter></C:addressbook-query>"#,
        )
        .unwrap();
        let f = q.filter.unwrap();
        assert_eq!(f.props[0].name, "EMAIL");
        assert_eq!(f.props[0].matches[0].text, "a&b");
        assert_eq!(f.props[0].matches[0].match_type, MatchType::StartsWith);
        assert!(parse_body(b"<!DOCTYPE x [<!ENTITY a 'b'>]><x/>").is_err());
        assert!(parse_body(b"<a><b></a>").is_err());
    }
}
