//! `hopthu unit-mailbox …`: the delegates of a unit mailbox (Đ12), who act on it as
//! themselves with the rights granted, from the console (`Actor::console`, recorded as
//! `cli:<user>` in the audit log), through the same core services as the consoles.
//!
//! ```text
//! hopthu unit-mailbox grant UNIT_ADDRESS PERSON_ADDRESS --rights read,manage,send-as,send-on-behalf
//! hopthu unit-mailbox revoke UNIT_ADDRESS PERSON_ADDRESS
//! hopthu unit-mailbox list UNIT_ADDRESS [--format text|json]
//! ```

use std::path::PathBuf;

use clap::Subcommand;
use hopthu_core::DelegateRecord;
use hopthu_core::admin::Actor;

use crate::directory::Format;

#[derive(Subcommand)]
pub enum UnitMailboxCommand {
    /// Giao quyền / let PERSON_ADDRESS act on the unit mailbox UNIT_ADDRESS with the rights given
    /// (replacing any they had). Once a unit mailbox has a delegate, its own password no longer
    /// signs in.
    Grant {
        unit: String,
        person: String,
        /// A comma list of read (read and flag), manage (move, delete, expunge; includes
        /// read), send-as, send-on-behalf.
        #[arg(long)]
        rights: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Thu hồi quyền / end PERSON_ADDRESS's rights on the unit mailbox UNIT_ADDRESS.
    Revoke {
        unit: String,
        person: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách người được giao quyền / the delegates of the unit mailbox UNIT_ADDRESS.
    List {
        unit: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub async fn run(command: UnitMailboxCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    match command {
        UnitMailboxCommand::Grant {
            unit,
            person,
            rights,
            config,
        } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core
                .grant_unit_delegate(&actor, &unit, &person, &rights)
                .await;
            core.close().await;
            let d = result?;
            println!(
                "Đã giao quyền / granted: {} → {}: {}",
                d.unit_address, d.delegate_address, d.rights
            );
        }
        UnitMailboxCommand::Revoke {
            unit,
            person,
            config,
        } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.revoke_unit_delegate(&actor, &unit, &person).await;
            core.close().await;
            result?;
            println!("Đã thu hồi quyền / revoked: {unit} → {person}");
        }
        UnitMailboxCommand::List {
            unit,
            format,
            config,
        } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.unit_delegates(&actor, &unit).await;
            core.close().await;
            let delegates = result?;
            match format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = delegates.iter().map(json).collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                Format::Text => {
                    if delegates.is_empty() {
                        println!("Chưa giao quyền cho ai / no delegates");
                    }
                    for d in &delegates {
                        println!(
                            "{}\t{}\t{}\t{}",
                            d.delegate_address,
                            d.rights,
                            d.granted_by,
                            when(d.granted_at)
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

fn json(d: &DelegateRecord) -> serde_json::Value {
    serde_json::json!({
        "unit": d.unit_address,
        "delegate": d.delegate_address,
        "rights": d.rights.to_string(),
        "granted_by": d.granted_by,
        "granted_at": d.granted_at,
    })
}

fn when(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}
