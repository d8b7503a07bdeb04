//! `hopthu store copy --to-store URL [--to-blobs s3://BUCKET[/PREFIX] …]`: moves an embedded
//! installation (SQLite under `data_dir`) into an empty PostgreSQL database and, with
//! `--to-blobs`, its message bodies into an S3 bucket; then checks the copy (rows per table,
//! every body re-read and hashed) and prints the configuration to put in place. The work is
//! done by `hopthu_store::copy`; the source is only read.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use hopthu_store::copy::{self, Progress};
use hopthu_store::{BlobStore, S3Options};

#[derive(Subcommand)]
pub enum StoreCommand {
    /// Chuyển / move the embedded installation into an empty PostgreSQL database (and S3).
    ///
    /// Copies the embedded store (SQLite in data_dir) into an EMPTY PostgreSQL database, and
    /// the message bodies into an S3 bucket with --to-blobs (else they stay in
    /// data_dir/blobs). Stop the server first. The source is not changed; every table's rows
    /// are counted on both sides and every body is re-read from its new place and hashed.
    /// The S3 bucket is given by the --to-blobs-* flags, the same keys as a [blobs] table
    /// (the secret may come from HOPTHU_TO_BLOBS_SECRET_KEY instead of the command line).
    Copy {
        /// The target database, postgres://USER[:PASSWORD]@HOST:PORT/DB; it must hold no rows.
        #[arg(long, value_name = "URL")]
        to_store: String,
        /// Copy the bodies into this bucket: s3://BUCKET or s3://BUCKET/PREFIX.
        #[arg(long, value_name = "URL")]
        to_blobs: Option<String>,
        /// The S3 API's base URL, e.g. http://127.0.0.1:3900 (absent: AWS S3).
        #[arg(long, value_name = "URL", requires = "to_blobs")]
        to_blobs_endpoint: Option<String>,
        /// The region requests are signed for (default us-east-1; Garage: garage).
        #[arg(long, requires = "to_blobs")]
        to_blobs_region: Option<String>,
        /// The access key id.
        #[arg(long, requires = "to_blobs")]
        to_blobs_access_key: Option<String>,
        /// The secret key.
        #[arg(long, env = "HOPTHU_TO_BLOBS_SECRET_KEY", hide_env_values = true)]
        to_blobs_secret_key: Option<String>,
        /// The configuration of the installation to copy (its data_dir, its [blobs]).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// A progress bar on a terminal; otherwise a plain line at the start and every tenth.
struct Bar {
    terminal: bool,
    state: Mutex<BarState>,
}

#[derive(Default)]
struct BarState {
    bar: Option<indicatif::ProgressBar>,
    what: String,
    total: u64,
    done: u64,
    shown_tenth: u64,
}

impl Bar {
    fn new() -> Bar {
        Bar {
            terminal: std::io::stdout().is_terminal(),
            state: Mutex::default(),
        }
    }

    fn finish(&self) {
        if let Ok(mut state) = self.state.lock()
            && let Some(bar) = state.bar.take()
        {
            bar.finish();
        }
    }
}

impl Progress for Bar {
    fn start(&self, what: &str, total: u64) {
        self.finish();
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        *state = BarState {
            what: what.to_string(),
            total,
            ..BarState::default()
        };
        if self.terminal {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:40}] {human_pos}/{human_len} ({per_sec}, {elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(what.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            state.bar = Some(bar);
        } else {
            println!("{what}: 0/{total}");
        }
    }

    fn advance(&self, n: u64) {
        let Ok(mut state) = self.state.lock() else {
            return;
        };
        state.done += n;
        if let Some(bar) = &state.bar {
            bar.inc(n);
            return;
        }
        let tenth = (state.done * 10).checked_div(state.total).unwrap_or(10);
        if tenth > state.shown_tenth {
            state.shown_tenth = tenth;
            println!("{}: {}/{}", state.what, state.done, state.total);
        }
    }
}

/// The `[blobs]` keys of a validation message named as this command's flags.
fn flag_names(problems: &str) -> String {
    problems
        .replace("blobs.url", "--to-blobs")
        .replace("blobs.endpoint", "--to-blobs-endpoint")
        .replace("blobs.region", "--to-blobs-region")
        .replace("blobs.access_key", "--to-blobs-access-key")
        .replace(
            "blobs.secret_key",
            "--to-blobs-secret-key (or HOPTHU_TO_BLOBS_SECRET_KEY)",
        )
}

fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

/// The URL with its password hidden, for what is printed.
fn shown_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            match user_info.split_once(':') {
                Some((user, _)) => format!("{}{user}:…{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// A listener of a `hopthu serve` still running on this data directory: the addresses it
/// wrote to `listeners.json` (removed when it stops cleanly, left behind by a kill) that
/// still take a connection. Only loopback is tried (an unspecified address as loopback).
fn running_server(data_dir: &std::path::Path) -> Option<std::net::SocketAddr> {
    let text = std::fs::read_to_string(data_dir.join("listeners.json")).ok()?;
    let map: std::collections::BTreeMap<String, String> = serde_json::from_str(&text).ok()?;
    map.values()
        .filter_map(|a| a.parse::<std::net::SocketAddr>().ok())
        .filter_map(|mut addr| {
            if addr.ip().is_unspecified() {
                addr.set_ip(match addr {
                    std::net::SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                    std::net::SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
                });
            }
            addr.ip().is_loopback().then_some(addr)
        })
        .find(|addr| {
            std::net::TcpStream::connect_timeout(addr, std::time::Duration::from_secs(1)).is_ok()
        })
}

fn per_second(n: u64, seconds: f64) -> String {
    if seconds <= 0.0 {
        return "-".into();
    }
    format!("{:.0}/s", n as f64 / seconds)
}

pub async fn run(command: StoreCommand) -> anyhow::Result<()> {
    let StoreCommand::Copy {
        to_store,
        to_blobs,
        to_blobs_endpoint,
        to_blobs_region,
        to_blobs_access_key,
        to_blobs_secret_key,
        config,
    } = command;
    let config = crate::load_config(config.as_deref())?;
    anyhow::ensure!(
        config.store.url.is_none(),
        "cấu hình này đã dùng PostgreSQL ([store] url); chỉ sao chép được kho nhúng (SQLite trong \
         data_dir) / this configuration already uses PostgreSQL ([store] url): only the embedded \
         store (SQLite in data_dir) can be copied"
    );
    anyhow::ensure!(
        hopthu_store::is_postgres_url(&to_store),
        "--to-store phải là địa chỉ postgres://… / --to-store must be a postgres:// URL"
    );
    let target_s3 = match &to_blobs {
        None => None,
        Some(url) => {
            let raw = hopthu_config::RawBlobs {
                url: Some(url.clone()),
                endpoint: to_blobs_endpoint,
                region: to_blobs_region,
                access_key: to_blobs_access_key,
                secret_key: to_blobs_secret_key,
            };
            let blobs = hopthu_config::parse_blobs(raw).map_err(|problems| {
                anyhow::anyhow!(
                    "--to-blobs không hợp lệ / --to-blobs is not usable: {}",
                    flag_names(&problems.join("; "))
                )
            })?;
            blobs.s3
        }
    };
    if let Some(addr) = running_server(&config.data_dir) {
        anyhow::bail!(
            "máy chủ vẫn đang chạy trên thư mục dữ liệu này ({addr}): hãy dừng nó trước / the \
             server still runs on this data directory ({addr}): stop it first, so no mail \
             arrives during the copy"
        );
    }
    let source = copy::check_source(&config.data_dir)
        .await
        .context("đọc kho nguồn / read the source")?;
    let lease_dir = config.data_dir.join(hopthu_store::backup::BLOBS);
    let source_blobs = match hopthu_core::open_blob_store(&config).context("open the blob store")? {
        Some(blobs) => blobs,
        None => BlobStore::open_local(&lease_dir).context("open the blob folder")?,
    };
    let bucket = match &target_s3 {
        Some(s3) => Some(
            BlobStore::open_s3(
                &S3Options {
                    bucket: s3.bucket.clone(),
                    prefix: s3.prefix.clone(),
                    endpoint: s3.endpoint.clone(),
                    region: s3.region.clone(),
                    access_key: s3.access_key.clone(),
                    secret_key: s3.secret_key.clone(),
                },
                &lease_dir,
            )
            .context("open the target bucket")?,
        ),
        None => None,
    };
    let target_blobs = bucket.as_ref().unwrap_or(&source_blobs);

    println!(
        "Sao chép / copying {} ({}) → {} ({}). Hãy dừng máy chủ trước / stop the server first: \
         mail that arrives during the copy would not be copied.",
        config.data_dir.display(),
        source_blobs.describe(),
        shown_url(&to_store),
        target_blobs.describe()
    );
    copy::check_target(&to_store)
        .await
        .context("kiểm tra cơ sở dữ liệu đích / check the target database")?;

    let bar = Bar::new();
    let started = Instant::now();
    let mut body_seconds = 0.0;
    let mut body_bytes = 0;
    if target_s3.is_some() {
        let t = Instant::now();
        body_bytes = copy::copy_bodies(&source_blobs, target_blobs, &source.blobs, &bar)
            .await
            .context("chép nội dung thư / copy the message bodies")?;
        bar.finish();
        body_seconds = t.elapsed().as_secs_f64();
    }
    let t = Instant::now();
    let copied = copy::copy_tables(&config.data_dir, &to_store, &bar)
        .await
        .context("chép các bảng / copy the tables")?;
    bar.finish();
    let table_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let check = copy::verify(&to_store, target_blobs, &copied, &bar)
        .await
        .context("kiểm tra bản sao / check the copy")?;
    bar.finish();
    let verify_seconds = t.elapsed().as_secs_f64();
    let mut check = check;
    // Counted before the copy, read again by it: a difference means something wrote meanwhile.
    for (table, n) in &source.tables {
        let read = copied.get(table).copied().unwrap_or(0);
        if read != *n {
            check.problems.push(format!(
                "{table}: {n} rows before the copy, {read} read by it: the source changed \
                 meanwhile (is a server still running on it?)"
            ));
        }
    }

    println!("Bảng / tables (rows):");
    for (table, n) in &copied {
        println!("  {table:<22} {n:>10}");
    }
    let rows: u64 = copied.values().sum();
    println!(
        "Đã chép / copied {rows} rows in {table_seconds:.1} s ({}).",
        per_second(rows, table_seconds)
    );
    if target_s3.is_some() {
        println!(
            "Nội dung thư / message bodies: {} ({}) into {} in {body_seconds:.1} s ({}).",
            source.blobs.len(),
            mib(body_bytes),
            target_blobs.describe(),
            per_second(source.blobs.len() as u64, body_seconds)
        );
    } else {
        println!(
            "Nội dung thư / message bodies: {} ({}) stay in {}.",
            source.blobs.len(),
            mib(source.blob_bytes()),
            target_blobs.describe()
        );
    }
    println!(
        "Kiểm tra / checked: {} tables, {} bodies ({}) re-read and hashed in {verify_seconds:.1} s; \
         total {:.1} s.",
        check.tables.len(),
        check.blobs,
        mib(check.blob_bytes),
        started.elapsed().as_secs_f64()
    );
    for problem in check.problems.iter().take(20) {
        println!("  {problem}");
    }
    anyhow::ensure!(
        check.problems.is_empty(),
        "bản sao không khớp / the copy does not match: {} problems; do not switch to it",
        check.problems.len()
    );

    println!();
    println!(
        "Xong. Để dùng bản sao, sửa cấu hình rồi khởi động lại / done. To use the copy, put this \
         in the configuration (keep data_dir: keys, and the blob lease, stay there) and restart:"
    );
    println!();
    println!("[store]");
    println!("url = \"{}\"", shown_url(&to_store));
    if let Some(s3) = &target_s3 {
        println!();
        println!("[blobs]");
        let prefix = if s3.prefix.is_empty() {
            String::new()
        } else {
            format!("/{}", s3.prefix)
        };
        println!("url = \"s3://{}{prefix}\"", s3.bucket);
        if let Some(endpoint) = &s3.endpoint {
            println!("endpoint = \"{endpoint}\"");
        }
        println!("region = \"{}\"", s3.region);
        println!("access_key = \"{}\"", s3.access_key);
        println!("secret_key = \"…\"");
    }
    Ok(())
}
