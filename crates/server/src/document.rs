//! `hopthu document …`: official documents (Đ15) from the console (`Actor::console`, recorded
//! as `cli:<user>`), through the same core services as the API and the webmail.
//!
//! ```text
//! hopthu document dispatch --from UNIT_CODE --number "12/STTTT" --date 2026-12-01 --kind KIND
//!     --summary TEXT --file signed.pdf --to CODE[,CODE…] [--subtree] [--format json]
//! hopthu document status ID [--format text|json]
//! ```

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use hopthu_core::admin::Actor;
use hopthu_core::documents::{DispatchRequest, DocumentStatus};

use crate::directory::Format;

#[derive(Subcommand)]
pub enum DocumentCommand {
    /// Ban hành văn bản / dispatch a document to its recipient units (nơi nhận); prints its id.
    Dispatch {
        /// The issuing unit's code.
        #[arg(long)]
        from: String,
        /// Số/ký hiệu, e.g. 12/STTTT (unique per unit and year).
        #[arg(long)]
        number: String,
        /// The document's date, YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// A kind id of the catalogue (Đ9).
        #[arg(long)]
        kind: String,
        /// Trích yếu.
        #[arg(long)]
        summary: String,
        /// The signed file.
        #[arg(long)]
        file: PathBuf,
        /// Recipient unit codes, comma separated.
        #[arg(long, value_delimiter = ',', required = true)]
        to: Vec<String>,
        /// Each recipient with its whole subtree.
        #[arg(long)]
        subtree: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Theo dõi văn bản / a document's recipients: delivered, opened (by whom), acknowledged.
    Status {
        id: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub async fn run(command: DocumentCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    match command {
        DocumentCommand::Dispatch {
            from,
            number,
            date,
            kind,
            summary,
            file,
            to,
            subtree,
            format,
            config,
        } => {
            let bytes = std::fs::read(&file).with_context(|| format!("read {}", file.display()))?;
            let file_name = file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let request = DispatchRequest {
                from,
                number,
                date,
                kind,
                summary,
                file_name,
                file: bytes,
                to,
                subtree,
            };
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.dispatch_document(&actor, &request).await;
            core.close().await;
            let done = result?;
            match format {
                Format::Json => println!("{}", serde_json::json!({ "id": done.id })),
                Format::Text => println!("{}", done.id),
            }
            eprintln!(
                "Đã ban hành / dispatched: {} → {} đơn vị / units",
                done.number, done.recipients
            );
        }
        DocumentCommand::Status { id, format, config } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.document_status(&actor, id).await;
            core.close().await;
            let status = result?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&status)?),
                Format::Text => print_status(&status),
            }
        }
    }
    Ok(())
}

fn time(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|| "-".into())
}

fn print_status(s: &DocumentStatus) {
    println!(
        "{} ngày/date {} — {} — {} ({})",
        s.number, s.date, s.unit, s.summary, s.kind
    );
    println!("{} SHA-256 {}", s.file_name, s.sha256);
    println!("unit\taddress\tdelivered\topened_at\topened_by\tacknowledged_at");
    for r in &s.recipients {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            r.unit,
            r.address,
            if r.delivered { "yes" } else { "no" },
            time(r.opened_at),
            r.opened_by.as_deref().unwrap_or("-"),
            time(r.acknowledged_at),
        );
    }
}
