//! The HTTP(S) face of hopthu: the webmail (`auth.rs`: sign-in, sessions, forced password
//! change, settings; `mail.rs`: folders, list, reading, compose, live updates), the published
//! directory (`directory.rs`: `/directory` and its JSON, CSV and vCard exports), a landing page
//! that tells how to connect, and `/healthz` for probes. Pages are server-rendered HTML
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
mod directory;
mod html;
mod mail;
mod sanitize;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use hopthu_core::Core;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// The peer address of a connection, for handlers (`ConnectInfo<Peer>`): the sign-in throttle
/// counts failures per IP.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Peer(pub SocketAddr);

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TcpListener>) -> Self {
        Peer(*stream.remote_addr())
    }
}

impl axum::extract::connect_info::Connected<axum::serve::IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: axum::serve::IncomingStream<'_, TlsListener>) -> Self {
        Peer(*stream.remote_addr())
    }
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
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/static/app.css", get(css))
        .route("/static/app.js", get(js))
        .merge(directory::routes())
        .merge(api::routes())
        .merge(admin::routes())
        .merge(auth::routes())
        .merge(mail::routes(max_message))
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
        app(core, shutdown.clone()).into_make_service_with_connect_info::<Peer>()
    } else {
        let hostname = core.config().hostname.clone();
        Router::new()
            .fallback(move |req: Request| {
                let hostname = hostname.clone();
                async move { redirect_to_https(&hostname, https_port, &req) }
            })
            .into_make_service_with_connect_info::<Peer>()
    };
    let result = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "http server failed");
    }
}

/// Serves HTTPS until `shutdown`.
pub async fn serve_https(
    core: Arc<Core>,
    listener: TcpListener,
    tls: TlsAcceptor,
    shutdown: CancellationToken,
) {
    let listener = TlsListener { listener, tls };
    let result = axum::serve(
        listener,
        app(core, shutdown.clone()).into_make_service_with_connect_info::<Peer>(),
    )
    .with_graceful_shutdown(shutdown.cancelled_owned())
    .await;
    if let Err(e) = result {
        tracing::error!(error = %e, "https server failed");
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

/// A TCP listener that completes the TLS handshake before handing the stream to axum.
struct TlsListener {
    listener: TcpListener,
    tls: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (stream, peer) = match self.listener.accept().await {
                Ok(accepted) => accepted,
                Err(e) => {
                    tracing::warn!(error = %e, "https accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            };
            // A slow or failed handshake must not stall the accept loop for long.
            match tokio::time::timeout(std::time::Duration::from_secs(10), self.tls.accept(stream))
                .await
            {
                Ok(Ok(tls)) => return (tls, peer),
                Ok(Err(e)) => tracing::debug!(%peer, error = %e, "tls handshake failed"),
                Err(_) => tracing::debug!(%peer, "tls handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.listener.local_addr()
    }
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
    axum::extract::ConnectInfo(Peer(peer)): axum::extract::ConnectInfo<Peer>,
) -> Response {
    if !peer.ip().is_loopback() {
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
                        li { "Máy chủ: " strong { (config.hostname) } }
                        li { "Nhận thư (IMAP): cổng 993 (SSL/TLS) hoặc 143 (STARTTLS)" }
                        li { "Gửi thư (SMTP): cổng 465 (SSL/TLS) hoặc 587 (STARTTLS), có xác thực" }
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
                        ": IMAP 993/143, SMTP submission 465/587, sign in with your full address."
                    }
                }
            }
        }
    };
    (StatusCode::OK, page)
}
