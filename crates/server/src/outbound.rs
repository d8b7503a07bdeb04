//! `hopthu queue …` and `hopthu dkim record`: the operator's view of outbound mail. Both work
//! while the server runs (the queue lives in the store; a retry is picked up at the runner's
//! next poll).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use hopthu_core::{Core, QueuedMessage, RecipientState};

#[derive(Subcommand)]
pub enum QueueCommand {
    /// List queued messages: id, age, sender, recipients still pending.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Show one queued message with every recipient's state and last error.
    Show {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Try a queued message again now.
    Retry {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Remove a queued message without sending it (no bounce).
    Delete {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum DkimCommand {
    /// Print the DNS TXT records to publish for the DKIM keys (generated on first use).
    Record {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
pub enum DnsCommand {
    /// Print the DNS records mail clients find the servers by: RFC 6186 SRV records from
    /// `[public]` (a service not offered as target `.` port 0) and the autoconfig/Autodiscover
    /// names. The DKIM records: `hopthu dkim record`.
    Records {
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// `hopthu dns records`: zone-file lines, like `hopthu dkim record`.
pub fn dns(command: DnsCommand) -> anyhow::Result<()> {
    let DnsCommand::Records { config } = command;
    let config = crate::load_config(config.as_deref())?;
    println!(
        "; Bản ghi DNS để chương trình thư tự cài đặt / DNS records for client set-up ({})",
        config.domain
    );
    for line in hopthu_core::client_setup::dns_records(&config.domain, &config.public) {
        println!("{line}");
    }
    Ok(())
}

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

fn sender(m: &QueuedMessage) -> &str {
    if m.mail_from.is_empty() {
        "<>"
    } else {
        &m.mail_from
    }
}

pub async fn queue(command: QueueCommand) -> anyhow::Result<()> {
    let config = match &command {
        QueueCommand::List { config }
        | QueueCommand::Show { config, .. }
        | QueueCommand::Retry { config, .. }
        | QueueCommand::Delete { config, .. } => crate::load_config(config.as_deref())?,
    };
    let core = Core::open(config).await.context("open the store")?;
    let result = queue_with(&core, command).await;
    core.close().await;
    result
}

async fn queue_with(core: &Core, command: QueueCommand) -> anyhow::Result<()> {
    match command {
        QueueCommand::List { .. } => {
            let messages = core.queued_messages().await?;
            if messages.is_empty() {
                println!("Hàng đợi trống / the queue is empty");
            }
            for m in &messages {
                let pending: Vec<&str> = m
                    .recipients
                    .iter()
                    .filter(|r| !r.state.is_final())
                    .map(|r| r.address.as_str())
                    .collect();
                println!(
                    "{}\t{}\t{} bytes\t{}\t{}",
                    m.id,
                    when(m.created_at),
                    m.size,
                    sender(m),
                    pending.join(",")
                );
            }
        }
        QueueCommand::Show { id, .. } => {
            let m = core.queued_message(id).await?;
            println!("id: {}", m.id);
            println!("from: {}", sender(&m));
            println!("queued: {}", when(m.created_at));
            println!("size: {} bytes", m.size);
            if let Some(envid) = &m.envid {
                println!("envid: {envid}");
            }
            if let Some(ret) = &m.ret {
                println!("ret: {ret}");
            }
            println!("delay notice sent: {}", m.delay_notified);
            for r in &m.recipients {
                let next = if r.state == RecipientState::Pending {
                    format!(" next attempt {}", when(r.next_attempt_at))
                } else {
                    String::new()
                };
                // RFC 3461 parameters given at RCPT, if any.
                let dsn = [("notify", &r.notify), ("orcpt", &r.orcpt)]
                    .iter()
                    .filter_map(|(k, v)| v.as_ref().map(|v| format!(" {k}={v}")))
                    .collect::<String>();
                println!(
                    "  {} [{}] attempts {}{}{}{}",
                    r.address,
                    r.state.as_str(),
                    r.attempts,
                    dsn,
                    next,
                    r.last_error
                        .as_deref()
                        .map(|e| format!("\n      {e}"))
                        .unwrap_or_default()
                );
            }
        }
        QueueCommand::Retry { id, .. } => {
            core.retry_queued(id).await?;
            println!("Sẽ gửi lại ngay / message {id} will be retried now");
        }
        QueueCommand::Delete { id, .. } => {
            core.delete_queued(id).await?;
            println!("Đã xoá / message {id} deleted from the queue");
        }
    }
    Ok(())
}

pub fn dkim(command: DkimCommand) -> anyhow::Result<()> {
    let DkimCommand::Record { config } = command;
    let config = crate::load_config(config.as_deref())?;
    let keys =
        hopthu_core::dkim::DkimKeys::load_or_generate(&config).map_err(anyhow::Error::msg)?;
    // A TXT character-string holds at most 255 octets (RFC 1035 §3.3.14): longer records are
    // split into several strings, which DKIM verifiers concatenate (RFC 6376 §3.6.2.2).
    for (name, text) in keys.records() {
        let strings: Vec<String> = text
            .as_bytes()
            .chunks(255)
            .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
            .collect();
        println!("{name}. IN TXT {}", strings.join(" "));
    }
    Ok(())
}
