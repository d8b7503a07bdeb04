//! `hopthu admin …` and `hopthu lifecycle …`: administrators, change requests (one or many from
//! a CSV file), notices and the inactivity sweep, from the console. The console acts with the
//! focal unit's scope (`Actor::console`, recorded as `cli:<user>` in the audit log) and goes
//! through the same core services and scope check as the JSON API.
//!
//! ```text
//! hopthu admin grant ADDRESS (--focal | --unit CODE | --inspector) | admin list | admin revoke ADDRESS
//! hopthu lifecycle file KIND [--person ADDRESS] [--unit CODE] [--name NAME] [--reason TEXT]
//! hopthu lifecycle file unit_create --code C --kind K --name N [--parent P] [--approve]
//! hopthu lifecycle file unit_rename --unit C --name N | unit_move --unit C --parent P
//! hopthu lifecycle file unit_merge --unit C --into D | unit_dissolve --unit C
//! hopthu lifecycle file update --person ADDRESS [--full-name N] [--position P] [--phone T]
//!                              [--public yes|no] [--new-address]
//! hopthu lifecycle bulk FILE [--approve]     (CSV: kind,person,unit,full_name,position,…,reason)
//! hopthu lifecycle list | approve ID | reject ID [--note TEXT] | notice ID [--html]
//! hopthu lifecycle sweep [--as-of DATE] [--dry-run] [--format text|json]
//! hopthu lifecycle remind [--as-of DATE] [--dry-run] | checkpoint | audit [--verify]
//! ```

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Subcommand;
use hopthu_core::Core;
use hopthu_core::admin::Actor;
use hopthu_core::directory::{Approved, ChangeInput, ChangeView};

use crate::directory::Format;

#[derive(Subcommand)]
pub enum AdminCommand {
    /// Cấp quyền quản trị / make ADDRESS an administrator of the focal unit or of a unit
    /// subtree, or an inspector.
    Grant {
        address: String,
        /// Operator of the focal unit: sees and decides everything.
        #[arg(long, conflicts_with_all = ["unit", "inspector"], required_unless_present_any = ["unit", "inspector"])]
        focal: bool,
        /// Inspector (Đ16): reads the audit log, the reports, the directory and every unit's
        /// lifecycle history; changes nothing.
        #[arg(long, conflicts_with = "unit")]
        inspector: bool,
        /// IT officer of this unit (code) and the units below it.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách quản trị / list administrators.
    List {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Thu hồi quyền quản trị / remove an administrator.
    Revoke {
        address: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
pub enum LifecycleCommand {
    /// Lập yêu cầu / file a change request: new_hire, transfer_in, transfer, resignation, death,
    /// retirement, transfer_out, reissue, head_change, update; and the units' unit_create,
    /// unit_rename, unit_move, unit_merge, unit_dissolve.
    File {
        kind: String,
        /// The person's address (all kinds but new_hire and transfer_in).
        #[arg(long)]
        person: Option<String>,
        /// Unit code: the hiring unit, the destination of a transfer, the unit a unit_* change
        /// concerns.
        #[arg(long)]
        unit: Option<String>,
        /// Full name of a new hire, or the corrected name (update); a unit's (new) name for
        /// unit_create and unit_rename.
        #[arg(long, visible_alias = "full-name")]
        name: Option<String>,
        /// unit_create: the new unit's code.
        #[arg(long)]
        code: Option<String>,
        /// unit_create: the new unit's kind (a kind id of [naming]: department, commune…).
        #[arg(long = "kind")]
        unit_kind: Option<String>,
        /// unit_create, unit_move: the parent unit's code.
        #[arg(long)]
        parent: Option<String>,
        /// unit_merge: the code of the unit that takes over.
        #[arg(long)]
        into: Option<String>,
        #[arg(long)]
        position: Option<String>,
        #[arg(long)]
        staff_id: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Publish in the public directory: a new hire (`--public`), or an update's change
        /// (`--public yes|no`; absent = unchanged).
        #[arg(long, num_args = 0..=1, default_missing_value = "yes", value_parser = yes_no)]
        public: Option<bool>,
        #[arg(long, default_value = "")]
        reason: String,
        /// head_change: the unit mailbox's delegates the new head confirms (addresses, comma
        /// separated); every other delegation ends on approval.
        #[arg(long, value_delimiter = ',')]
        keep_delegates: Vec<String>,
        /// Approve it at once (focal unit).
        #[arg(long)]
        approve: bool,
        /// update: a new address by the rules for the corrected name; the old one stays an
        /// alias (focal unit only).
        #[arg(long)]
        new_address: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Nhiều yêu cầu từ tệp CSV / file many requests from a CSV file (UTF-8, header row with
    /// kind and any of person,unit,full_name,position,staff_id,phone,public,reason,
    /// keep_delegates,new_address). Every row's
    /// form is checked before any is filed; a request the directory refuses stops the run at its
    /// line (the rows before it stay filed, and are listed).
    Bulk {
        file: PathBuf,
        /// Approve each at once (focal unit).
        #[arg(long)]
        approve: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Danh sách yêu cầu / list change requests.
    List {
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Phê duyệt / approve a filed request and apply it.
    Approve {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Từ chối / reject a filed request.
    Reject {
        id: i64,
        #[arg(long, default_value = "")]
        note: String,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// In thông báo / print a notice (text, or HTML with --html).
    Notice {
        id: i64,
        #[arg(long)]
        html: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Rà soát hộp thư không sử dụng / the inactivity sweep (Đ8.3), once.
    Sweep {
        /// Run as of this date (YYYY-MM-DD, midnight UTC+7) or RFC 3339 time; default now.
        #[arg(long)]
        as_of: Option<String>,
        /// Report only; change and send nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Nhắc mở hộp thư / the Đ13.1 reminder for the week before --as-of (default today): a note
    /// to each person who opened their mailbox on fewer than half of its working days, one to
    /// their unit; once per week. `serve` sends it on Mondays with `[lifecycle] open_reminder`.
    Remind {
        /// YYYY-MM-DD (midnight UTC+7) or RFC 3339; default now.
        #[arg(long)]
        as_of: Option<String>,
        /// List who would be reminded; send nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Điểm neo nhật ký / record today's checkpoint of the audit log (its head) and mail it to
    /// the inspectors and the focal unit; `serve` does it once a day by itself.
    Checkpoint {
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Nhật ký / print the audit log; --verify checks its hash chain and the checkpoints.
    Audit {
        #[arg(long)]
        verify: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

pub(crate) async fn open(config: Option<&std::path::Path>) -> anyhow::Result<Arc<Core>> {
    Core::open(crate::load_config(config)?)
        .await
        .context("open the store")
}

pub async fn admin(command: AdminCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    match command {
        AdminCommand::Grant {
            address,
            focal: _,
            inspector,
            unit,
            config,
        } => {
            let core = open(config.as_deref()).await?;
            let result = if inspector {
                core.grant_inspector(&actor, &address).await
            } else {
                core.grant_admin(&actor, &address, unit.as_deref()).await
            };
            core.close().await;
            let admin = result?;
            println!(
                "Đã cấp quyền / granted: {} — {}",
                admin.address,
                scope_text(&admin.scope)
            );
        }
        AdminCommand::List { config } => {
            let core = open(config.as_deref()).await?;
            let result = core.admins(&actor).await;
            let units = core.units().await;
            core.close().await;
            let units = units?;
            for admin in result? {
                let scope = match admin.scope {
                    hopthu_core::AdminScope::Focal => "focal".to_string(),
                    hopthu_core::AdminScope::Inspector => "inspector".to_string(),
                    hopthu_core::AdminScope::Unit(id) => units
                        .iter()
                        .find(|u| u.id == id)
                        .map(|u| format!("unit {} ({})", u.code, u.name))
                        .unwrap_or_else(|| format!("unit #{}", id.0)),
                };
                println!("{}\t{scope}\t{}", admin.address, admin.granted_by);
            }
        }
        AdminCommand::Revoke { address, config } => {
            let core = open(config.as_deref()).await?;
            let result = core.revoke_admin(&actor, &address).await;
            core.close().await;
            result?;
            println!("Đã thu hồi quyền / removed: {address}");
        }
    }
    Ok(())
}

fn scope_text(scope: &hopthu_core::AdminScope) -> String {
    match scope {
        hopthu_core::AdminScope::Focal => "đơn vị đầu mối / focal unit".into(),
        hopthu_core::AdminScope::Inspector => "thanh tra, chỉ xem / inspector, read only".into(),
        hopthu_core::AdminScope::Unit(id) => format!("đơn vị / unit #{}", id.0),
    }
}

pub async fn run(command: LifecycleCommand) -> anyhow::Result<()> {
    let actor = Actor::console();
    match command {
        LifecycleCommand::File {
            kind,
            person,
            unit,
            name,
            code,
            unit_kind,
            parent,
            into,
            position,
            staff_id,
            phone,
            public,
            reason,
            keep_delegates,
            approve,
            new_address,
            config,
        } => {
            // --name is a unit's name for the unit_* kinds, a person's full name otherwise.
            let unit_change = hopthu_core::directory::ChangeKind::parse(&kind)
                .is_some_and(|k| k.is_unit_change());
            let (full_name, name) = if unit_change {
                (None, name)
            } else {
                (name, None)
            };
            let input = ChangeInput {
                kind,
                person,
                unit,
                full_name,
                position,
                staff_id,
                phone,
                public,
                reason,
                keep_delegates,
                code,
                unit_kind,
                name,
                parent,
                into,
                new_address,
            };
            let core = open(config.as_deref()).await?;
            let result = file_one(&core, &actor, &input, approve).await;
            core.close().await;
            result
        }
        LifecycleCommand::Bulk {
            file,
            approve,
            config,
        } => {
            let inputs = read_bulk(&file)?;
            let core = open(config.as_deref()).await?;
            let mut result = Ok(());
            for (line, input) in &inputs {
                if let Err(e) = file_one(&core, &actor, input, approve).await {
                    result = Err(e.context(format!("{}:{line}", file.display())));
                    break;
                }
            }
            core.close().await;
            result
        }
        LifecycleCommand::List { format, config } => {
            let core = open(config.as_deref()).await?;
            let result = core.changes(&actor).await;
            core.close().await;
            let changes = result?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&changes)?),
                Format::Text => {
                    for c in &changes {
                        print_change(c);
                    }
                }
            }
            Ok(())
        }
        LifecycleCommand::Approve { id, note, config } => {
            let core = open(config.as_deref()).await?;
            let result = core.approve_change(&actor, id, &note).await;
            core.close().await;
            print_approved(&result?);
            Ok(())
        }
        LifecycleCommand::Reject { id, note, config } => {
            let core = open(config.as_deref()).await?;
            let result = core.reject_change(&actor, id, &note).await;
            core.close().await;
            print_change(&result?);
            Ok(())
        }
        LifecycleCommand::Notice { id, html, config } => {
            let core = open(config.as_deref()).await?;
            let result = core.notice(&actor, id).await;
            core.close().await;
            let notice = result?;
            print!(
                "{}",
                if html {
                    notice.body_html
                } else {
                    notice.body_text
                }
            );
            Ok(())
        }
        LifecycleCommand::Sweep {
            as_of,
            dry_run,
            format,
            config,
        } => {
            let as_of = match as_of {
                Some(s) => parse_as_of(&s)?,
                None => chrono::Utc::now().timestamp(),
            };
            let core = open(config.as_deref()).await?;
            let result = core.sweep_inactive(&actor, as_of, dry_run).await;
            // What the sweep deleted leaves the disk (bodies older than the grace period).
            let collected = match (&result, dry_run) {
                (Ok(_), false) => crate::blobs::collect_after_sweep(&core).await,
                _ => None,
            };
            core.close().await;
            let report = result?;
            if let Some(collected) = &collected {
                // Beside the report, not inside it: `--format json` prints the report alone.
                let line = crate::blobs::summary(collected, false);
                match format {
                    Format::Json => eprintln!("{line}"),
                    Format::Text => println!("{line}"),
                }
            }
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => {
                    let verb = if dry_run {
                        "sẽ / would"
                    } else {
                        "đã / did"
                    };
                    for i in &report.warned {
                        println!(
                            "warn\t{}\t{}\t{} ngày / days left",
                            i.address, i.unit_code, i.days_left
                        );
                    }
                    for i in &report.revoked {
                        println!("revoke\t{}\t{}", i.address, i.unit_code);
                    }
                    for i in &report.purged {
                        println!("purge\t{}\t{}", i.address, i.unit_code);
                    }
                    println!(
                        "{verb}: {} cảnh báo / warnings, {} thu hồi / revocations, {} xoá dữ liệu / purged, {} thư xoá khỏi Thùng rác và Thư rác / emptied from Trash and Junk",
                        report.warned.len(),
                        report.revoked.len(),
                        report.purged.len(),
                        report.emptied
                    );
                }
            }
            Ok(())
        }
        LifecycleCommand::Remind {
            as_of,
            dry_run,
            format,
            config,
        } => {
            let as_of = match as_of {
                Some(s) => parse_as_of(&s)?,
                None => chrono::Utc::now().timestamp(),
            };
            let core = open(config.as_deref()).await?;
            let result = core.open_reminders(&actor, as_of, dry_run).await;
            core.close().await;
            let report = result?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&report)?),
                Format::Text => {
                    for r in &report.reminded {
                        println!(
                            "{}\t{}\t{}/{}",
                            r.address, r.unit_code, r.days_opened, r.working_days
                        );
                    }
                    println!(
                        "Tuần / week {} – {}: {} người / people, {} đơn vị / units{}",
                        report.from,
                        report.to,
                        report.reminded.len(),
                        report.units.len(),
                        if report.already_sent {
                            " — đã nhắc tuần này / already reminded this week"
                        } else if dry_run {
                            " — chạy thử / dry run"
                        } else {
                            ""
                        }
                    );
                }
            }
            Ok(())
        }
        LifecycleCommand::Checkpoint { config } => {
            let core = open(config.as_deref()).await?;
            let result = core.audit_checkpoint().await;
            core.close().await;
            match result? {
                Some(c) => println!(
                    "Điểm neo / checkpoint: dòng / row {} {} (đã gửi thanh tra và đơn vị đầu mối / mailed to the inspectors and the focal unit)",
                    c.row_id, c.hash
                ),
                None => println!(
                    "Hôm nay đã có điểm neo, hoặc nhật ký trống / today has a checkpoint already, or the log is empty"
                ),
            }
            Ok(())
        }
        LifecycleCommand::Audit { verify, config } => {
            let core = open(config.as_deref()).await?;
            let result = async {
                Ok::<_, hopthu_core::Error>((
                    core.audit_log(&actor).await?,
                    core.audit_checkpoints(&actor).await?,
                ))
            }
            .await;
            core.close().await;
            let (rows, checkpoints) = result?;
            for r in &rows {
                println!(
                    "{}\t{}\t{}\t{}\t{}\t{}\t{}",
                    r.id,
                    r.at,
                    r.actor,
                    r.action,
                    r.target,
                    r.before.as_deref().unwrap_or("-"),
                    r.after.as_deref().unwrap_or("-")
                );
            }
            if verify {
                if let Some(id) = hopthu_core::audit::verify_chain(&rows) {
                    bail!("chuỗi băm hỏng tại dòng / hash chain broken at row {id}");
                }
                let problems = hopthu_core::audit::verify_checkpoints(&rows, &checkpoints);
                for p in &problems {
                    eprintln!("{p}");
                }
                if !problems.is_empty() {
                    bail!(
                        "nhật ký không khớp {} điểm neo / the log does not match {} checkpoint(s): it was rewritten",
                        problems.len(),
                        problems.len()
                    );
                }
                println!(
                    "chuỗi băm hợp lệ / hash chain intact ({} rows, {} checkpoints)",
                    rows.len(),
                    checkpoints.len()
                );
            }
            Ok(())
        }
    }
}

/// `serve`'s inactivity sweep: once shortly after start, then every `interval`.
pub async fn sweep_loop(
    core: Arc<Core>,
    interval: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
) {
    let actor = Actor {
        name: "sweep".into(),
        scope: hopthu_core::AdminScope::Focal,
    };
    let mut delay = std::time::Duration::from_secs(60).min(interval);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
        delay = interval;
        // One node at a time runs the sweep (several nodes may share a database).
        let _job = match core.try_job(hopthu_core::Job::InactivitySweep).await {
            Ok(Some(guard)) => guard,
            Ok(None) => {
                tracing::debug!("another node runs the inactivity sweep");
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot take the sweep's lock");
                continue;
            }
        };
        match core
            .sweep_inactive(&actor, chrono::Utc::now().timestamp(), false)
            .await
        {
            Ok(r) if r.warned.is_empty() && r.revoked.is_empty() && r.emptied == 0 => {}
            Ok(r) => tracing::info!(
                warned = r.warned.len(),
                revoked = r.revoked.len(),
                emptied = r.emptied,
                "inactivity sweep"
            ),
            Err(e) => tracing::warn!(error = %e, "inactivity sweep failed"),
        }
        // On Mondays (Vietnam time), the Đ13.1 reminders, once per week.
        if core.config().lifecycle.open_reminder {
            let now = chrono::Utc::now().timestamp();
            let day = hopthu_core::ledger::local_day(now);
            // 1970-01-01 was a Thursday: (day + 3) % 7 == 0 on Mondays.
            if (day + 3).rem_euclid(7) == 0
                && let Err(e) = core.open_reminders(&actor, now, false).await
            {
                tracing::warn!(error = %e, "open reminders failed");
            }
        }
        // Once a day, the audit log's checkpoint, mailed to the inspectors (Đ16).
        if let Err(e) = core.audit_checkpoint().await {
            tracing::warn!(error = %e, "audit checkpoint failed");
        }
        // Bodies of what the sweep purged and emptied, and of anything expunged since.
        crate::blobs::collect_after_sweep(&core).await;
    }
}

async fn file_one(
    core: &Core,
    actor: &Actor,
    input: &ChangeInput,
    approve: bool,
) -> anyhow::Result<()> {
    let change = core.file_change(actor, input).await?;
    print_change(&change);
    if approve {
        print_approved(&core.approve_change(actor, change.id, "").await?);
    }
    Ok(())
}

/// Reads a bulk file: every row is checked for shape before anything is filed.
fn read_bulk(path: &std::path::Path) -> anyhow::Result<Vec<(usize, ChangeInput)>> {
    let bytes = std::fs::read(path).with_context(|| format!("read {}", path.display()))?;
    let text = std::str::from_utf8(&bytes)
        .with_context(|| format!("{}: không phải UTF-8 / not UTF-8", path.display()))?;
    let text = text.trim_start_matches('\u{FEFF}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers()?.clone();
    let mut out = Vec::new();
    let mut problems = Vec::new();
    for (i, row) in reader.records().enumerate() {
        let line = i + 2;
        let row = row.with_context(|| format!("{}:{line}", path.display()))?;
        let get = |name: &str| {
            headers
                .iter()
                .position(|h| h.trim() == name)
                .and_then(|i| row.get(i))
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        };
        let Some(kind) = get("kind") else {
            problems.push(format!(
                "{}:{line}: thiếu kind / kind is empty",
                path.display()
            ));
            continue;
        };
        if hopthu_core::directory::ChangeKind::parse(&kind).is_none() {
            problems.push(format!(
                "{}:{line}: kind {kind:?} không hợp lệ / unknown",
                path.display()
            ));
            continue;
        }
        out.push((
            line,
            ChangeInput {
                kind,
                person: get("person"),
                unit: get("unit"),
                full_name: get("full_name"),
                position: get("position"),
                staff_id: get("staff_id"),
                phone: get("phone"),
                public: get("public").map(|v| yes_no(&v).unwrap_or(false)),
                reason: get("reason").unwrap_or_default(),
                keep_delegates: get("keep_delegates")
                    .map(|v| v.split(',').map(|a| a.trim().to_string()).collect())
                    .unwrap_or_default(),
                code: get("code"),
                unit_kind: get("unit_kind"),
                name: get("name"),
                parent: get("parent"),
                into: get("into"),
                new_address: get("new_address").is_some_and(|v| yes_no(&v).unwrap_or(false)),
            },
        ));
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(out)
}

/// `--public yes|no` (and a bulk file's `public` cell): yes, có, 1, x, true / no, không, 0,
/// false.
fn yes_no(s: &str) -> Result<bool, String> {
    match s.trim().to_lowercase().as_str() {
        "yes" | "y" | "có" | "co" | "1" | "x" | "true" => Ok(true),
        "no" | "n" | "không" | "khong" | "0" | "false" => Ok(false),
        other => Err(format!("{other:?}: yes hoặc no / yes or no")),
    }
}

/// `YYYY-MM-DD` (midnight in Vietnam) or an RFC 3339 time.
fn parse_as_of(s: &str) -> anyhow::Result<i64> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s.trim()) {
        return Ok(t.timestamp());
    }
    let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("--as-of {s:?}: expected YYYY-MM-DD or an RFC 3339 time"))?;
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .context("midnight")?
        .and_utc()
        .timestamp();
    Ok(midnight - 7 * 3600)
}

fn print_change(c: &ChangeView) {
    println!(
        "#{}\t{}\t{}\t{}\t{}\t{}",
        c.id,
        c.state,
        c.kind,
        c.unit_code,
        c.person
            .as_deref()
            .or(c.full_name.as_deref())
            .unwrap_or("-"),
        c.target_unit.as_deref().unwrap_or("")
    );
}

fn print_approved(a: &Approved) {
    print_change(&a.change);
    if let Some(c) = &a.credential {
        println!(
            "  hộp thư / mailbox: {}  mật khẩu một lần / one-time password: {}",
            c.address, c.password
        );
    }
    for n in &a.notices {
        println!(
            "  thông báo / notice #{}: {} {}",
            n.id, n.reference, n.subject
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn as_of_is_midnight_in_vietnam() {
        // 2026-06-01 00:00 +07:00 = 2026-05-31 17:00 UTC.
        assert_eq!(parse_as_of("2026-06-01").unwrap(), 1_780_246_800);
        assert_eq!(
            parse_as_of("2026-06-01T00:00:00+07:00").unwrap(),
            1_780_246_800
        );
        assert!(parse_as_of("01/06/2026").is_err());
    }
}
