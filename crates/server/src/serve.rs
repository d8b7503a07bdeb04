//! `hopthu serve`: open the store, bind every configured listener, run the protocols, and shut
//! down gracefully on SIGTERM or Ctrl-C.
//!
//! After binding, the actual addresses are written to `data_dir/listeners.json` (useful when a
//! configuration asks for port 0, as the tests do).

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use hopthu_config::Config;
use hopthu_core::Core;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How long in-flight sessions get to finish after SIGTERM before the process exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

pub async fn run(config: Config, demo: bool) -> anyhow::Result<()> {
    init_logging(&config);
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("create data_dir {}", config.data_dir.display()))?;
    // An installation from before the umask: mail, keys and the database become private.
    crate::private::tighten(&config.data_dir)
        .with_context(|| format!("make data_dir {} private", config.data_dir.display()))?;
    let acceptors = crate::tls::acceptors(&config)?;
    let tls = acceptors.mail;
    let core = Core::open(config.clone()).await.context("open the store")?;
    // DKIM keys are loaded (made) before anything listens, so a key problem stops the start;
    // core keeps them for every signer and checker of the process.
    core.dkim()
        .map_err(anyhow::Error::msg)
        .context("DKIM keys")?;
    if demo {
        crate::demo::seed(&core)
            .await
            .context("seed the demo province")?;
    }

    let shutdown = CancellationToken::new();
    let mut tasks = JoinSet::new();
    let mut bound = BTreeMap::new();
    let listen = &config.listen;

    macro_rules! bind {
        ($name:literal, $addr:expr, |$listener:ident| $start:expr) => {
            if let Some(addr) = $addr {
                let $listener = bind($name, addr).await?;
                bound.insert($name, $listener.local_addr()?);
                tasks.spawn($start);
            }
        };
    }

    use hopthu_smtp::Mode;
    bind!("smtp", listen.smtp, |l| hopthu_smtp::serve(
        core.clone(),
        tls.clone(),
        Mode::Mx,
        l,
        shutdown.clone()
    ));
    bind!("submission", listen.submission, |l| hopthu_smtp::serve(
        core.clone(),
        tls.clone(),
        Mode::Submission,
        l,
        shutdown.clone()
    ));
    bind!("submissions", listen.submissions, |l| hopthu_smtp::serve(
        core.clone(),
        tls.clone(),
        Mode::Submissions,
        l,
        shutdown.clone()
    ));
    bind!("imap", listen.imap, |l| hopthu_imap::serve(
        core.clone(),
        tls.clone(),
        false,
        l,
        shutdown.clone()
    ));
    bind!("imaps", listen.imaps, |l| hopthu_imap::serve(
        core.clone(),
        tls.clone(),
        true,
        l,
        shutdown.clone()
    ));
    let https_port = listen.https.map(|a| a.port());
    bind!("https", listen.https, |l| hopthu_web::serve_https(
        core.clone(),
        l,
        acceptors.web.clone(),
        shutdown.clone()
    ));
    let https_port = bound.get("https").map(SocketAddr::port).or(https_port);
    bind!("http", listen.http, |l| hopthu_web::serve_http(
        core.clone(),
        l,
        https_port,
        shutdown.clone()
    ));
    bind!("pop3", listen.pop3, |l| hopthu_pop3::serve(
        core.clone(),
        tls.clone(),
        false,
        l,
        shutdown.clone()
    ));
    bind!("pop3s", listen.pop3s, |l| hopthu_pop3::serve(
        core.clone(),
        tls.clone(),
        true,
        l,
        shutdown.clone()
    ));
    bind!("managesieve", listen.managesieve, |l| {
        hopthu_managesieve::serve(core.clone(), tls.clone(), l, shutdown.clone())
    });
    // The outbound queue runner (not a listener): delivers mail for other domains.
    tasks.spawn(hopthu_mta::run(core.clone(), shutdown.clone()));
    // The inactivity sweep (Đ8.3), every `[lifecycle] sweep_interval`.
    if let Some(interval) = config.lifecycle.sweep_interval {
        tasks.spawn(crate::lifecycle::sweep_loop(
            core.clone(),
            interval,
            shutdown.clone(),
        ));
    }
    if bound.is_empty() {
        tracing::warn!("no listener configured: add a [listen] table to the configuration");
    }
    write_listeners(&config, &bound)?;
    for (name, addr) in &bound {
        tracing::info!(listener = name, %addr, "listening");
    }
    println!(
        "hopthu đang chạy / running — {} ({})",
        config.hostname, config.domain
    );
    for (name, addr) in &bound {
        println!("  {name:<12} {addr}");
    }
    // The web address a person opens first (webmail, forced password change, console).
    // HTTPS first: the session cookies are Secure, which not every client honours on plain HTTP.
    let web = bound
        .get("https")
        .map(|addr| format!("https://{addr}/"))
        .or_else(|| bound.get("http").map(|addr| format!("http://{addr}/")));
    if let Some(url) = web {
        println!(
            "  Webmail: {url}  ·  quản trị / console: {url}admin  ·  danh bạ / directory: {url}directory"
        );
    }

    wait_for_signal().await;
    tracing::info!("shutting down: closing listeners, finishing in-flight commands");
    shutdown.cancel();
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while let Some(result) = tasks.join_next().await {
            if let Err(e) = result {
                tracing::error!(error = %e, "a listener task failed");
            }
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!("sessions still open after the grace period; closing anyway");
        tasks.abort_all();
    }
    core.close().await;
    let _ = std::fs::remove_file(config.data_dir.join("listeners.json"));
    tracing::info!("stopped");
    Ok(())
}

async fn bind(name: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("listen.{name}: cannot listen on {addr}"))
}

fn write_listeners(config: &Config, bound: &BTreeMap<&str, SocketAddr>) -> anyhow::Result<()> {
    let map: BTreeMap<&str, String> = bound.iter().map(|(k, v)| (*k, v.to_string())).collect();
    let path = config.data_dir.join("listeners.json");
    let tmp = config.data_dir.join("listeners.json.tmp");
    std::fs::write(&tmp, serde_json::to_vec_pretty(&map)?)?;
    std::fs::rename(&tmp, &path)?;
    Ok(())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("install SIGTERM handler");
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log.level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let _ = if config.log.json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
