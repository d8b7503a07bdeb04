//! The HTTP(S) face of hopthu. For now: a Vietnamese landing page that tells how to connect,
//! `/healthz` for probes, and the published directory (`directory.rs`: `/directory` and its
//! JSON, CSV and vCard exports). The webmail and the admin consoles come here and only here.
//!
//! **Boundary**: handlers call `hopthu_core::Core` and render; no business rule and no SQL
//! lives in a handler.
//!
//! Plain HTTP serves the application only when it listens on a loopback address (local use,
//! a reverse proxy in front); on any other address it redirects to HTTPS.

mod api;
mod directory;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use hopthu_core::Core;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct AppState {
    core: Arc<Core>,
}

fn app(core: Arc<Core>) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/healthz", get(healthz))
        .merge(directory::routes())
        .merge(api::routes())
        .with_state(AppState { core })
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
        app(core)
    } else {
        let hostname = core.config().hostname.clone();
        Router::new().fallback(move |req: Request| {
            let hostname = hostname.clone();
            async move { redirect_to_https(&hostname, https_port, &req) }
        })
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
    let result = axum::serve(listener, app(core))
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

async fn healthz() -> &'static str {
    "ok"
}

async fn home(State(state): State<AppState>) -> impl IntoResponse {
    let config = state.core.config();
    let page = format!(
        r#"<!doctype html>
<html lang="vi">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hộp thư điện tử — {domain}</title></head>
<body>
<main>
<h1>Hệ thống thư điện tử {domain}</h1>
<p>Máy chủ thư đang hoạt động. Hãy dùng chương trình thư (Thunderbird, Outlook, Apple Mail,
điện thoại) với các thông số sau:</p>
<ul>
<li>Máy chủ: <strong>{host}</strong></li>
<li>Nhận thư (IMAP): cổng 993 (SSL/TLS) hoặc 143 (STARTTLS)</li>
<li>Gửi thư (SMTP): cổng 465 (SSL/TLS) hoặc 587 (STARTTLS), có xác thực</li>
<li>Tên đăng nhập: địa chỉ thư đầy đủ của bạn</li>
</ul>
<p><a href="/directory">Danh bạ thư điện tử</a> — địa chỉ công khai của các cơ quan, đơn vị.</p>
<p lang="en">Mail server for {domain}: IMAP 993/143, SMTP submission 465/587, sign in with your full address.</p>
</main>
</body>
</html>"#,
        domain = html_escape(&config.domain),
        host = html_escape(&config.hostname),
    );
    (StatusCode::OK, Html(page))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
