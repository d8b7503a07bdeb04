//! `hopthu group …`: group addresses (lists that follow the directory, or made by hand) from the
//! console (`Actor::console`, recorded as `cli:<user>` in the audit log), through core's
//! `groups.rs` like the admin console's `/admin/groups`.
//!
//! ```text
//! hopthu group create ADDRESS --name N [--unit CODE [--subtree]] [--heads] [--member ADDRESS]…
//!                     [--senders anyone|members|province|ADDRESS,…]
//! hopthu group list [--format text|json]
//! hopthu group show ADDRESS [--format text|json]
//! hopthu group delete ADDRESS
//! ```

use std::path::PathBuf;

use clap::Subcommand;
use hopthu_core::admin::Actor;
use hopthu_core::groups::senders_text;
use hopthu_core::{GroupRequest, GroupView};

use crate::directory::Format;

#[derive(Subcommand)]
pub enum GroupCommand {
    /// Tạo nhóm thư / create a group address. Its members are read from the directory when
    /// mail arrives: the active people of --unit (with --subtree, of its whole subtree), or with
    /// --heads only the heads of units (of --unit, or of the whole province), plus each
    /// --member.
    Create {
        address: String,
        /// The group's name.
        #[arg(long)]
        name: String,
        /// A unit code: its people are members.
        #[arg(long)]
        unit: Option<String>,
        /// With --unit: the units below it too.
        #[arg(long, requires = "unit")]
        subtree: bool,
        /// Only the heads of the units (of every unit without --unit).
        #[arg(long)]
        heads: bool,
        /// A mailbox of ours added by hand (repeatable).
        #[arg(long = "member")]
        members: Vec<String>,
        /// Who may send: anyone, members, province (signed in), or a comma list of addresses.
        #[arg(long, default_value = "anyone")]
        senders: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách nhóm thư / every group.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Xem nhóm thư / one group with its members as the directory makes them now.
    Show {
        address: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Xóa nhóm thư / delete a group (mail already delivered stays).
    Delete {
        address: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub async fn run(command: GroupCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    match command {
        GroupCommand::Create {
            address,
            name,
            unit,
            subtree,
            heads,
            members,
            senders,
            config,
        } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let request = GroupRequest {
                address,
                name,
                unit,
                subtree,
                heads,
                members,
                senders,
            };
            let result = core.create_group(&actor, &request).await;
            core.close().await;
            let view = result?;
            println!(
                "Đã tạo nhóm thư / group created: {} ({} thành viên / members)",
                view.group.address,
                view.resolved.len()
            );
        }
        GroupCommand::List { format, config } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.groups(&actor).await;
            core.close().await;
            let groups = result?;
            match format {
                Format::Json => {
                    let rows: Vec<serde_json::Value> = groups.iter().map(json).collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                Format::Text => {
                    if groups.is_empty() {
                        println!("Chưa có nhóm thư / no groups");
                    }
                    for g in &groups {
                        println!(
                            "{}\t{}\t{}\t{}",
                            g.group.address,
                            g.group.name,
                            rule(g),
                            senders_text(&g.group)
                        );
                    }
                }
            }
        }
        GroupCommand::Show {
            address,
            format,
            config,
        } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.group_view(&actor, &address).await;
            core.close().await;
            let g = result?;
            match format {
                Format::Json => {
                    let mut row = json(&g);
                    row["resolved"] = serde_json::json!(g.resolved);
                    println!("{}", serde_json::to_string_pretty(&row)?);
                }
                Format::Text => {
                    println!("Nhóm thư / group: {}", g.group.address);
                    println!("Tên / name: {}", g.group.name);
                    println!("Quy tắc / rule: {}", rule(&g));
                    println!("Người được gửi / senders: {}", senders_text(&g.group));
                    println!(
                        "Thành viên ({}) / members ({}):",
                        g.resolved.len(),
                        g.resolved.len()
                    );
                    for member in &g.resolved {
                        println!("  {member}");
                    }
                }
            }
        }
        GroupCommand::Delete { address, config } => {
            let core = crate::lifecycle::open(config.as_deref()).await?;
            let result = core.delete_group(&actor, &address).await;
            core.close().await;
            result?;
            println!("Đã xóa nhóm thư / group deleted: {address}");
        }
    }
    Ok(())
}

/// The directory rule and the hand-made members, in a few words.
fn rule(g: &GroupView) -> String {
    let mut parts = Vec::new();
    match (&g.unit, g.group.heads) {
        (Some(u), heads) => parts.push(format!(
            "{}{}{}",
            if heads { "heads of " } else { "unit " },
            u.code,
            if g.group.subtree { " +subtree" } else { "" }
        )),
        (None, true) => parts.push("every head of unit".to_string()),
        (None, false) => {}
    }
    if !g.group.members.is_empty() {
        parts.push(format!("members {}", g.group.members.join(",")));
    }
    parts.join("; ")
}

fn json(g: &GroupView) -> serde_json::Value {
    serde_json::json!({
        "address": g.group.address,
        "name": g.group.name,
        "unit": g.unit.as_ref().map(|u| u.code.clone()),
        "subtree": g.group.subtree,
        "heads": g.group.heads,
        "members": g.group.members,
        "senders": senders_text(&g.group),
        "created_by": g.group.created_by,
        "created_at": g.group.created_at,
    })
}
