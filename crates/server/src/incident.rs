//! `hopthu incident …`: incidents from the console (Đ10.3, Đ11.2), as the focal unit
//! (`Actor::console`), over core's `incidents.rs`.
//!
//! ```text
//! hopthu incident file --by ADDRESS --summary TEXT [--severity low|normal|high]
//!                      [--category C] [--details TEXT] [--message MESSAGE-ID]
//! hopthu incident list [--format json] | show ID | assign ID ADDRESS
//! hopthu incident status ID in_progress|waiting [--note TEXT] | escalate ID
//! hopthu incident resolve ID --note TEXT
//! ```

use std::path::PathBuf;

use clap::Subcommand;
use hopthu_core::admin::Actor;
use hopthu_core::incidents::{IncidentInput, IncidentView};

use crate::directory::Format;

#[derive(Subcommand)]
pub enum IncidentCommand {
    /// Ghi nhận sự cố / file an incident for a reporter.
    File {
        /// The reporter's address.
        #[arg(long)]
        by: String,
        #[arg(long)]
        summary: String,
        /// low, normal (default) or high: the deadline is 7 days, 3 days or 1 day.
        #[arg(long)]
        severity: Option<String>,
        /// other (default), mailbox, phishing, compromised, spam.
        #[arg(long)]
        category: Option<String>,
        #[arg(long, default_value = "")]
        details: String,
        /// The Message-ID of the message concerned.
        #[arg(long)]
        message: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách sự cố / list incidents, newest first.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Chi tiết / one incident (JSON).
    Show {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Phân công / assign to a handler (an address).
    Assign {
        id: i64,
        address: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Trạng thái / move to in_progress or waiting.
    Status {
        id: i64,
        status: String,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Chuyển lên đơn vị đầu mối / escalate to the focal unit.
    Escalate {
        id: i64,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Đã xử lý / resolve, saying how.
    Resolve {
        id: i64,
        #[arg(long)]
        note: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

fn print(i: &IncidentView) {
    println!(
        "#{}\t{}\t{}\t{}\t{}\t{}\t{}",
        i.id,
        i.status,
        i.severity,
        i.category,
        i.reporter,
        i.assignee.as_deref().unwrap_or("-"),
        i.summary
    );
}

pub async fn run(command: IncidentCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    let config = match &command {
        IncidentCommand::File { config, .. }
        | IncidentCommand::List { config, .. }
        | IncidentCommand::Show { config, .. }
        | IncidentCommand::Assign { config, .. }
        | IncidentCommand::Status { config, .. }
        | IncidentCommand::Escalate { config, .. }
        | IncidentCommand::Resolve { config, .. } => config.clone(),
    };
    let core = crate::lifecycle::open(config.as_deref()).await?;
    let result = async {
        match command {
            IncidentCommand::File {
                by,
                summary,
                severity,
                category,
                details,
                message,
                ..
            } => {
                let i = core
                    .file_incident(
                        &actor.name,
                        &IncidentInput {
                            reporter: by,
                            summary,
                            details,
                            happened_at: None,
                            message_ref: message,
                            category,
                            severity,
                        },
                    )
                    .await?;
                print(&i);
            }
            IncidentCommand::List { format, .. } => {
                let all = core.incidents(&actor).await?;
                match format {
                    Format::Json => println!("{}", serde_json::to_string_pretty(&all)?),
                    Format::Text => all.iter().for_each(print),
                }
            }
            IncidentCommand::Show { id, .. } => {
                let i = core.incident(&actor, id).await?;
                println!("{}", serde_json::to_string_pretty(&i)?);
            }
            IncidentCommand::Assign { id, address, .. } => {
                print(&core.assign_incident(&actor, id, &address).await?);
            }
            IncidentCommand::Status {
                id, status, note, ..
            } => print(&core.set_incident_status(&actor, id, &status, &note).await?),
            IncidentCommand::Escalate { id, .. } => {
                print(&core.escalate_incident(&actor, id).await?);
            }
            IncidentCommand::Resolve { id, note, .. } => {
                print(&core.resolve_incident(&actor, id, &note).await?);
            }
        }
        Ok::<_, anyhow::Error>(())
    }
    .await;
    core.close().await;
    result
}
