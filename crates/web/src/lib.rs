//! The HTTP(S) face of hopthu: the webmail (`auth.rs`: sign-in, sessions, forced password
//! change, settings; `mail.rs`: folders, list, reading, compose, live updates), the published
//! directory (`directory.rs`: `/directory` and its JSON, CSV and vCard exports), contacts
//! (`dav.rs`: CardDAV under `/dav/`; `contacts.rs`: the webmail's `/contacts`), a landing page
//! that tells how to connect, the public check of a document (`verify.rs`: `/verify`,
//! `/verify.json`), and `/healthz` for probes. Pages are server-rendered HTML
//! (maud templates, which escape every value: `html.rs`) with one CSS and one small script under `/static/`;
//! HTML mail is cleaned by `sanitize.rs` and shown in a sandboxed frame.
//!
//! **Boundary**: handlers call `hopthu_core::Core` and render; no business rule and no SQL
//! lives in a handler.
//!
//! Plain HTTP serves the application only when it listens on a loopback address (local use,
//! a reverse proxy in front); on any other address it redirects to HTTPS.

mod admin;
mod api;
mod auth;
mod client_setup;
mod contacts;
mod dav;
mod directory;
mod documents;
mod export;
mod filters;
mod html;
mod incidents;
mod mail;
mod sanitize;
mod verify;

use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hopthu_core::Core;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

/// The peer address of a connection (`ConnectInfo<Peer>`), put on every request by
/// [`serve_connections`]: the address the TCP connection comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

/// How long a client has to complete the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client has to send a request's headers, counted from when the server waits for
/// them (so an idle keep-alive connection is closed after it too): a client that trickles its
/// headers (slowloris) cannot hold a connection.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(20);

/// The client a request is from, for the sign-in throttle and history: the TCP peer, or — when
/// the peer is one of `[web] trusted_proxies` — the right-most `X-Forwarded-For` address that
/// is not a trusted proxy ([`client_ip`]).
#[derive(Clone, Copy, Debug)]
pub(crate) struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Infallible> {
        Ok(ClientIp(client_ip(
            &state.core.config().web,
            peer_ip(parts),
            &parts.headers,
        )))
    }
}

/// The TCP peer of a request (unspecified when no listener put it there).
pub(crate) fn peer_ip(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<Peer>>()
        .map(|c| c.0.0.ip())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The client behind `peer`: `peer` itself unless it is a trusted proxy; then the
/// `X-Forwarded-For` list is walked from the right (the hop the trusted proxy added) past every
/// trusted proxy, and the first other address is the client. Entries left of it were written
/// by the client and are never believed.
pub(crate) fn client_ip(
    web: &hopthu_core::config::Web,
    peer: IpAddr,
    headers: &HeaderMap,
) -> IpAddr {
    if !web.is_trusted_proxy(peer) {
        return peer;
    }
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let parsed = hop
            .parse::<IpAddr>()
            .ok()
            .or_else(|| hop.parse::<SocketAddr>().ok().map(|a| a.ip()));
        let Some(ip) = parsed else {
            break;
        };
        client = ip;
        if !web.is_trusted_proxy(ip) {
            break;
        }
    }
    client
}

#[derive(Clone)]
struct AppState {
    core: Arc<Core>,
    /// Cancelled at shutdown: long-lived responses (the event stream) end with it.
    shutdown: CancellationToken,
}

fn app(core: Arc<Core>, shutdown: CancellationToken) -> Router {
    let max_message = usize::try_from(core.config().limits.max_message_size).unwrap_or(usize::MAX);
    Router::new()
        .route("/", get(home).fallback(dav::root_other_method))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(directory::routes())
        .merge(dav::routes())
        .merge(contacts::routes())
        .merge(api::routes())
        .merge(admin::routes())
        .merge(auth::routes())
        .merge(client_setup::routes())
        .merge(mail::routes(max_message))
        .merge(export::routes())
        .merge(documents::routes(max_message))
        .merge(incidents::routes())
        .merge(filters::routes())
        .merge(verify::routes(max_message))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(AppState { core, shutdown })
}

/// Headers every response gets unless its handler set its own (the mail body frame does):
/// a CSP allowing only our own files, no framing by others, no referrer, no MIME sniffing.
async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         frame-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    ));
    h.entry("x-frame-options")
        .or_insert(HeaderValue::from_static("DENY"));
    h.entry(header::REFERRER_POLICY)
        .or_insert(HeaderValue::from_static("no-referrer"));
    h.entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    let is_html = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_html {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("private, no-cache"));
    }
    response
}

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

/// The static files, cached for a year: their URLs carry the version.
fn asset(content_type: &'static str, body: &'static str, headers: &HeaderMap) -> Response {
    let etag = concat!("\"", env!("CARGO_PKG_VERSION"), "\"");
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::ETAG, etag),
        ],
        body,
    )
        .into_response()
}

async fn css(headers: HeaderMap) -> Response {
    asset("text/css; charset=utf-8", CSS, &headers)
}

async fn js(headers: HeaderMap) -> Response {
    asset("text/javascript; charset=utf-8", JS, &headers)
}

/// Serves plain HTTP until `shutdown`. On a non-loopback address every request is redirected
/// to the HTTPS listener (`https_port`), so no password ever crosses the network in clear.
pub async fn serve_http(
    core: Arc<Core>,
    listener: TcpListener,
    https_port: Option<u16>,
    shutdown: CancellationToken,
) {
    let local = listener.local_addr().ok();
    let router = if local.is_some_and(|a| a.ip().is_loopback()) {
        app(core.clone(), shutdown.clone())
    } else {
        let hostname = core.config().hostname.clone();
        Router::new().fallback(move |req: Request| {
            let hostname = hostname.clone();
            async move { redirect_to_https(&hostname, https_port, &req) }
        })
    };
    serve_connections(core, listener, None, router, shutdown).await;
}

/// Serves HTTPS until `shutdown`. Every response tells browsers to use HTTPS only (HSTS).
pub async fn serve_https(
    core: Arc<Core>,
    listener: TcpListener,
    tls: TlsAcceptor,
    shutdown: CancellationToken,
) {
    let router = app(core.clone(), shutdown.clone()).layer(axum::middleware::map_response(hsts));
    serve_connections(core, listener, Some(tls), router, shutdown).await;
}

/// `Strict-Transport-Security` (RFC 6797) on HTTPS responses: a year, this host only (the
/// mail domain's other hosts are not ours to decide).
async fn hsts(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::STRICT_TRANSPORT_SECURITY)
        .or_insert(HeaderValue::from_static("max-age=31536000"));
    response
}

/// The accept loop of a web listener. Each connection is handled in its own task: the per-IP
/// permit (`Core::open_connection`, `[limits] connections_per_ip`, counted together with the
/// mail protocols) is taken first, then the TLS handshake (bounded by
/// [`TLS_HANDSHAKE_TIMEOUT`]) runs inside that task, so a client that never finishes one holds
/// up nobody else; HTTP/1.1 is served by hyper with [`HEADER_READ_TIMEOUT`], the peer on each
/// request (`ConnectInfo<Peer>`), and a graceful end at `shutdown` (the request in flight is
/// answered, keep-alive stops). Returns once every connection has ended.
async fn serve_connections(
    core: Arc<Core>,
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    router: Router,
    shutdown: CancellationToken,
) {
    let tasks = tokio_util::task::TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "web accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        let Some(permit) = core.open_connection(peer.ip()) else {
            tracing::debug!(%peer, "too many web connections from this address");
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let tls = tls.clone();
        let shutdown = shutdown.clone();
        tasks.spawn(async move {
            let _permit = permit;
            match tls {
                None => serve_connection(stream, peer, router, shutdown).await,
                Some(tls) => {
                    let handshake = tokio::select! {
                        r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, tls.accept(stream)) => r,
                        () = shutdown.cancelled() => return,
                    };
                    match handshake {
                        Ok(Ok(stream)) => serve_connection(stream, peer, router, shutdown).await,
                        Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                        Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
                    }
                }
            }
        });
    }
    drop(listener);
    tasks.close();
    tasks.wait().await;
}

/// Serves the HTTP/1.1 requests of one connection until the client closes it or `shutdown`.
async fn serve_connection<S>(
    stream: S,
    peer: SocketAddr,
    router: Router,
    shutdown: CancellationToken,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |mut request: Request<hyper::body::Incoming>| {
        request.extensions_mut().insert(ConnectInfo(Peer(peer)));
        router.clone().oneshot(request.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "http connection ended");
    }
}

fn redirect_to_https(hostname: &str, https_port: Option<u16>, req: &Request) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| h.rsplit_once(':').map_or(h, |(name, _)| name))
        .unwrap_or(hostname);
    let port = match https_port {
        Some(443) | None => String::new(),
        Some(p) => format!(":{p}"),
    };
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    Redirect::permanent(&format!("https://{host}{port}{path}")).into_response()
}

/// `ok` when the database answers and the disk takes a write (`Core::health`), else 503 with
/// what failed: load balancers and monitors take a failing node out.
async fn healthz(State(state): State<AppState>) -> Response {
    match state.core.health().await {
        Ok(()) => "ok".into_response(),
        Err(problem) => {
            tracing::warn!(%problem, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                format!("unavailable: {problem}\n"),
            )
                .into_response()
        }
    }
}

/// Prometheus metrics (`Core::metrics_text`), for a scraper on the same machine only: the
/// counts say how many accounts and messages there are, which is not for the network.
async fn metrics(
    State(state): State<AppState>,
    ConnectInfo(Peer(peer)): ConnectInfo<Peer>,
    headers: HeaderMap,
) -> Response {
    // The TCP peer, never a forwarded address; and a request a proxy forwarded is a remote
    // client's even when the proxy runs on this machine.
    let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    if !peer.ip().is_loopback() || forwarded {
        return (
            StatusCode::FORBIDDEN,
            "metrics are served to loopback clients only\n",
        )
            .into_response();
    }
    match state.core.metrics_text().await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics unavailable");
            (StatusCode::SERVICE_UNAVAILABLE, "metrics unavailable\n").into_response()
        }
    }
}

async fn home(State(state): State<AppState>) -> impl IntoResponse {
    let config = state.core.config();
    let domain = &config.domain;
    // What clients are told ([public]), not the listeners, which may be behind NAT.
    let p = &config.public;
    let ports = |tls: u16, starttls: u16, starttls_name: &str| match (tls, starttls) {
        (0, 0) => "—".to_string(),
        (0, s) => format!("{s} ({starttls_name})"),
        (t, 0) => format!("{t} (SSL/TLS)"),
        (t, s) => format!("{t} (SSL/TLS) / {s} ({starttls_name})"),
    };
    let page = maud::html! {
        (maud::DOCTYPE)
        html lang="vi" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "Hộp thư điện tử — " (domain) }
                link rel="stylesheet" href={ "/static/app.css?v=" (html::ASSET_VERSION) };
            }
            body {
                main {
                    h1 { "Hệ thống thư điện tử " (domain) }
                    p {
                        "Máy chủ thư đang hoạt động. Hãy dùng chương trình thư (Thunderbird, Outlook, Apple Mail, \
                         điện thoại) với các thông số sau:"
                    }
                    ul {
                        li { "Máy chủ: " strong { (p.host) } }
                        li { "Nhận thư (IMAP): " (ports(p.imaps_port, p.imap_port, "STARTTLS")) }
                        li { "Gửi thư (SMTP): " (ports(p.submissions_port, p.submission_port, "STARTTLS")) ", có xác thực" }
                        li { "Tên đăng nhập: địa chỉ thư đầy đủ của bạn" }
                    }
                    p {
                        a href="/login" { "Đăng nhập hộp thư trên web" }
                        " · "
                        a href="/directory" { "Danh bạ thư điện tử" }
                        " — địa chỉ công khai của các cơ quan, đơn vị."
                    }
                    p lang="en" {
                        "Mail server for " (domain)
                        ": " (p.host) ", IMAP " (ports(p.imaps_port, p.imap_port, "STARTTLS"))
                        ", SMTP submission " (ports(p.submissions_port, p.submission_port, "STARTTLS"))
                        ", sign in with your full address."
                    }
                }
            }
        }
    };
    (StatusCode::OK, page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::config::{IpNet, Web};

    fn headers(xff: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in xff {
            h.append("x-forwarded-for", HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_is_believed_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let none = Web::default();
        let web = Web {
            trusted_proxies: vec![IpNet::parse("10.0.0.0/8").unwrap()],
        };
        let h = headers(&["198.51.100.1, 203.0.113.9"]);
        // No trusted proxy, or a peer that is not one: the header is ignored.
        assert_eq!(client_ip(&none, ip("10.0.0.1"), &h), ip("10.0.0.1"));
        assert_eq!(client_ip(&web, ip("192.0.2.1"), &h), ip("192.0.2.1"));
        // From a trusted proxy: the right-most untrusted address, past other proxies.
        assert_eq!(client_ip(&web, ip("10.0.0.1"), &h), ip("203.0.113.9"));
        let h = headers(&["198.51.100.1", "203.0.113.9, 10.2.3.4"]);
        assert_eq!(client_ip(&web, ip("10.0.0.1"), &h), ip("203.0.113.9"));
        // Garbage stops the walk at the last trusted hop.
        let h = headers(&["203.0.113.9, nonsense"]);
        assert_eq!(client_ip(&web, ip("10.0.0.1"), &h), ip("10.0.0.1"));
        // No header: the proxy itself.
        assert_eq!(
            client_ip(&web, ip("10.0.0.1"), &HeaderMap::new()),
            ip("10.0.0.1")
        );
    }
}
