//! `hopthu directory …`: the import of units and people (CSV or .xlsx), aliases and reserved
//! names. Works while the server runs (SQLite WAL, busy timeout).
//!
//! ```text
//! hopthu directory import --units UNITS [--people PEOPLE] [--dry-run] [--format text|json]
//!                         [--person-duplicates number|unit] [--credentials-dir DIR] --config FILE
//! hopthu directory reorganise --units NEW_UNITS --map MAP [--dry-run] [--format text|json]
//!                         [--credentials-dir DIR] --config FILE
//! ```
//!
//! The reorganisation (2011 → 2025: merged units, no district level) takes the new units file
//! and a map `old_code,new_code`; the dry run lists every unit, merge, person move and address
//! that becomes an alias; the run applies it in one transaction, writes the credentials of the
//! new unit mailboxes and sends a notice to each unit concerned.
//!
//! The import writes a credentials sheet of the new mailboxes' one-time passwords: a folder
//! `data_dir/credentials/import-<date>-<time>/` (mode 0700) with `all.csv` and one
//! `<unit code>.csv` per unit to hand to that unit, each UTF-8 with a BOM so that Excel shows
//! Vietnamese names correctly.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use hopthu_core::Core;
use hopthu_core::admin::Actor;
use hopthu_core::directory::{
    Credential, ImportError, ImportPlan, ImportProgress, ImportRequest, ImportSource,
    ReorganiseError, ReorganisePlan, ReorganiseRequest, RowStatus, UnitFate, credentials_csv,
};
use hopthu_model::naming::{DuplicateStyle, Table};

#[derive(Subcommand)]
pub enum DirectoryCommand {
    /// Nhập đơn vị và cán bộ / import units and people (CSV UTF-8 or Excel .xlsx).
    Import {
        /// Units file, columns kind,code,name,parent [email|local].
        #[arg(long)]
        units: PathBuf,
        /// People file, columns full_name,unit [position,staff_id,phone,email|local,public,head].
        #[arg(long)]
        people: Option<PathBuf>,
        /// Show every proposed address; create nothing.
        #[arg(long)]
        dry_run: bool,
        /// Output: text (a table for people) or json (one JSON array, an object per input row).
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// How namesakes are told apart (default: naming.person_duplicates of the configuration).
        #[arg(long, value_enum)]
        person_duplicates: Option<Duplicates>,
        /// Where to write the credentials sheets (default: data_dir/credentials/import-<time>).
        #[arg(long)]
        credentials_dir: Option<PathBuf>,
        /// Configuration file (TOML); without it the built-in defaults with `./data`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Sắp xếp lại đơn vị / reorganise the units: a new units file and a map of where each unit
    /// of the directory goes (people, mailbox contents and addresses follow), in one
    /// transaction.
    Reorganise {
        /// The new units, columns kind,code,name,parent (as an import).
        #[arg(long)]
        units: PathBuf,
        /// CSV old_code,new_code: where each unit of the directory goes (a unit whose code
        /// stays in the new file needs no row).
        #[arg(long)]
        map: PathBuf,
        /// Show every change; change nothing.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
        /// Where to write the new unit mailboxes' credentials (default:
        /// data_dir/credentials/reorganise-<time>).
        #[arg(long)]
        credentials_dir: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Thêm bí danh / add an alias: mail to ALIAS goes to TARGET (e.g. soittt → sotttt).
    Alias {
        alias: String,
        target: String,
        /// Configuration file (TOML); without it the built-in defaults with `./data`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Giữ chỗ một tên / reserve a local part so the rules never hand it out.
    Reserve {
        local: String,
        /// Why it is reserved.
        #[arg(long, default_value = "")]
        note: String,
        /// Configuration file (TOML); without it the built-in defaults with `./data`.
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Duplicates {
    /// datnv, datnv2, datnv3…
    Number,
    /// datnv, datnv.soyte…
    Unit,
}

pub async fn run(command: DirectoryCommand) -> anyhow::Result<()> {
    match command {
        DirectoryCommand::Import {
            units,
            people,
            dry_run,
            format,
            person_duplicates,
            credentials_dir,
            config,
        } => {
            let config = crate::load_config(config.as_deref())?;
            let request = ImportRequest {
                units: source(&units)?,
                people: people.as_deref().map(source).transpose()?,
                person_duplicates: person_duplicates.map(|d| match d {
                    Duplicates::Number => DuplicateStyle::Number,
                    Duplicates::Unit => DuplicateStyle::Unit,
                }),
            };
            let core = Core::open(config).await.context("open the store")?;
            let result = import(&core, request, dry_run, format, credentials_dir).await;
            core.close().await;
            result
        }
        DirectoryCommand::Reorganise {
            units,
            map,
            dry_run,
            format,
            credentials_dir,
            config,
        } => {
            let config = crate::load_config(config.as_deref())?;
            let request = ReorganiseRequest {
                units: source(&units)?,
                map: source(&map)?,
            };
            let core = Core::open(config).await.context("open the store")?;
            let result = reorganise(&core, &request, dry_run, format, credentials_dir).await;
            core.close().await;
            result
        }
        DirectoryCommand::Alias {
            alias,
            target,
            config,
        } => {
            let core = Core::open(crate::load_config(config.as_deref())?)
                .await
                .context("open the store")?;
            let result = core.add_alias(&Actor::console(), &alias, &target).await;
            core.close().await;
            let record = result?;
            println!(
                "Đã thêm bí danh / alias added: {} → {}",
                record.address, record.target
            );
            Ok(())
        }
        DirectoryCommand::Reserve {
            local,
            note,
            config,
        } => {
            let core = Core::open(crate::load_config(config.as_deref())?)
                .await
                .context("open the store")?;
            let result = core.reserve_name(&Actor::console(), &local, &note).await;
            core.close().await;
            result?;
            println!("Đã giữ chỗ / reserved: {local}");
            Ok(())
        }
    }
}

/// Reads an import file, at most one byte past the largest file the import takes (which it
/// then refuses with its reason), so a huge file is never held whole in memory.
fn source(path: &Path) -> anyhow::Result<ImportSource> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| {
            f.take(hopthu_core::directory::MAX_FILE_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        })
        .with_context(|| format!("read {}", path.display()))?;
    Ok(ImportSource {
        name: path.display().to_string(),
        bytes,
    })
}

async fn import(
    core: &Core,
    request: ImportRequest,
    dry_run: bool,
    format: Format,
    credentials_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let plan = match core.plan_import(&request).await {
        Ok(plan) => plan,
        Err(ImportError::Refused(problems)) => {
            for p in &problems {
                eprintln!("{p}");
            }
            anyhow::bail!(
                "nhập bị từ chối, không tạo gì / import refused, nothing created: {} lỗi / \
                 problems",
                problems.len()
            );
        }
        Err(ImportError::Failed(e)) => return Err(e.into()),
    };
    match format {
        Format::Json => println!("{}", rows_json(&plan)),
        Format::Text if dry_run => print_rows(&plan, &request),
        Format::Text => {}
    }
    let (new_units, new_people, new_aliases) =
        (plan.new_units(), plan.new_people(), plan.new_aliases());
    if dry_run {
        if format == Format::Text {
            print_summary(&plan, new_units, new_people);
            println!("Chạy thử: chưa tạo gì / dry run: nothing created");
        }
        return Ok(());
    }
    if new_units + new_people == 0 && new_aliases == 0 {
        if format == Format::Text {
            print_summary(&plan, 0, 0);
            println!("Không có gì mới / nothing new: everything is in the directory already");
        }
        return Ok(());
    }

    let bar = progress_bar(new_units + new_people);
    let callback: Arc<dyn Fn(ImportProgress) + Send + Sync> = {
        let bar = bar.clone();
        Arc::new(move |p| {
            if let Some(bar) = &bar {
                match p {
                    ImportProgress::Hashing { done, .. } => bar.set_position(done as u64),
                    ImportProgress::Writing => {
                        bar.set_message("Ghi vào cơ sở dữ liệu / writing the database");
                    }
                }
            }
        })
    };
    let existing = plan
        .rows
        .iter()
        .filter(|r| r.status == RowStatus::Existing)
        .count();
    let applied = core.apply_import(&Actor::console(), plan, callback).await;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let applied = applied?;

    let data_dir = &core.config().data_dir;
    let folder = write_credentials(&applied.credentials, credentials_dir, data_dir)?;
    // The machine-readable output (JSON) stays alone on stdout; the rest goes to stderr.
    let mut out: Box<dyn Write> = if format == Format::Json {
        Box::new(std::io::stderr())
    } else {
        Box::new(std::io::stdout())
    };
    writeln!(
        out,
        "Đã tạo / created: {} đơn vị / units, {} người / people, {} bí danh / aliases \
         ({} mục đã có / rows already in the directory) trong / in {:.1} s",
        applied.units.len(),
        applied.people.len(),
        applied.aliases,
        existing,
        started.elapsed().as_secs_f64()
    )?;
    if !applied.credentials.is_empty() {
        writeln!(
            out,
            "Mật khẩu dùng một lần / one-time passwords: {}",
            folder.join("all.csv").display()
        )?;
        writeln!(
            out,
            "  (mỗi đơn vị một tệp / one file per unit in {}; đổi khi đăng nhập lần đầu / to be \
             changed at first sign-in)",
            folder.display()
        )?;
    }
    Ok(())
}

async fn reorganise(
    core: &Core,
    request: &ReorganiseRequest,
    dry_run: bool,
    format: Format,
    credentials_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let refused = |problems: Vec<String>| {
        for p in &problems {
            eprintln!("{p}");
        }
        anyhow::anyhow!(
            "sắp xếp bị từ chối, không thay đổi gì / reorganisation refused, nothing changed: {} lỗi / problems",
            problems.len()
        )
    };
    if dry_run {
        let plan = match core.plan_reorganisation(request).await {
            Ok(plan) => plan,
            Err(ReorganiseError::Refused(problems)) => return Err(refused(problems)),
            Err(ReorganiseError::Failed(e)) => return Err(e.into()),
        };
        match format {
            Format::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
            Format::Text => {
                print_reorganisation(&plan);
                println!("Chạy thử: chưa thay đổi gì / dry run: nothing changed");
            }
        }
        return Ok(());
    }
    let applied = match core
        .apply_reorganisation(&hopthu_core::admin::Actor::console(), request)
        .await
    {
        Ok(applied) => applied,
        Err(ReorganiseError::Refused(problems)) => return Err(refused(problems)),
        Err(ReorganiseError::Failed(e)) => return Err(e.into()),
    };
    let folder = write_credentials_named(
        &applied.credentials,
        credentials_dir,
        &core.config().data_dir,
        "reorganise",
    )?;
    let mut out: Box<dyn Write> = if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&applied.plan)?);
        Box::new(std::io::stderr())
    } else {
        print_summary_of_reorganisation(&applied.plan);
        Box::new(std::io::stdout())
    };
    writeln!(
        out,
        "Đã sắp xếp / reorganised: {} thông báo đã gửi / notices sent",
        applied.notices
    )?;
    if !applied.credentials.is_empty() {
        writeln!(
            out,
            "Mật khẩu dùng một lần của hộp thư đơn vị mới / new unit mailboxes' one-time passwords: {}",
            folder.join("all.csv").display()
        )?;
    }
    Ok(())
}

fn print_reorganisation(plan: &ReorganisePlan) {
    println!("Đơn vị sau sắp xếp / units after the reorganisation:");
    for u in &plan.units {
        let fate = match u.fate {
            UnitFate::Continues => "giữ nguyên / continues",
            UnitFate::Renamed => "đổi tên / renamed",
            UnitFate::Created => "mới / new",
        };
        println!(
            "  {}  {}  {}  [{}]{}  người / people: {}",
            u.code,
            u.name,
            u.address,
            fate,
            u.from
                .as_deref()
                .map(|f| format!(" ← {f}"))
                .unwrap_or_default(),
            u.people
        );
        for w in &u.warnings {
            println!("      ! {w}");
        }
    }
    println!("Hợp nhất / merged:");
    for m in &plan.merged {
        println!(
            "  {} {} ({}) → {} ({}), {} người / people, thư cũ / old mail: {}",
            m.code, m.name, m.address, m.into, m.into_address, m.people, m.folder
        );
    }
    println!("Chuyển người / people moved:");
    for p in &plan.people {
        println!("  {} {}: {} → {}", p.address, p.full_name, p.from, p.to);
    }
    println!("Địa chỉ thành bí danh / addresses that become aliases:");
    for a in &plan.aliases {
        println!("  {} → {}", a.address, a.target);
    }
    print_summary_of_reorganisation(plan);
}

fn print_summary_of_reorganisation(plan: &ReorganisePlan) {
    let count = |fate| plan.units.iter().filter(|u| u.fate == fate).count();
    println!(
        "Tổng / total: {} đơn vị trước / units before → {} sau / after: {} giữ nguyên / continue, \
         {} đổi tên / renamed, {} mới / new, {} hợp nhất / merged; {} người chuyển / people \
         moved; {} bí danh / aliases",
        plan.units_before,
        plan.units_after,
        count(UnitFate::Continues),
        count(UnitFate::Renamed),
        count(UnitFate::Created),
        plan.merged.len(),
        plan.people.len(),
        plan.aliases.len()
    );
}

fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stdout().is_terminal() || total == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({elapsed})")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message("Tạo mật khẩu / one-time passwords");
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}

/// One JSON object per input row: `file`, `line`, `name`, `address`, then `status`, the unit
/// `code` or the person's `unit`, and `kind`, `review`, `warnings`, `aliases` when they say
/// something.
fn rows_json(plan: &ImportPlan) -> String {
    let rows: Vec<serde_json::Value> = plan
        .rows
        .iter()
        .map(|r| {
            let mut o = serde_json::Map::new();
            o.insert("file".into(), r.file.to_string().into());
            o.insert("line".into(), r.line.into());
            o.insert("name".into(), r.name.clone().into());
            o.insert("address".into(), r.address.clone().into());
            o.insert("status".into(), r.status.as_str().into());
            match r.file {
                Table::Units => o.insert("code".into(), r.unit_code.clone().into()),
                Table::People => o.insert("unit".into(), r.unit_code.clone().into()),
            };
            if let Some(kind) = &r.kind {
                o.insert("kind".into(), kind.clone().into());
            }
            if r.review {
                o.insert("review".into(), true.into());
            }
            if !r.warnings.is_empty() {
                o.insert("warnings".into(), r.warnings.clone().into());
            }
            if !r.aliases.is_empty() {
                o.insert("aliases".into(), r.aliases.clone().into());
            }
            serde_json::Value::Object(o)
        })
        .collect();
    serde_json::Value::Array(rows).to_string()
}

fn print_rows(plan: &ImportPlan, request: &ImportRequest) {
    for (table, title, source) in [
        (Table::Units, "Đơn vị / units", Some(&request.units)),
        (Table::People, "Cán bộ / people", request.people.as_ref()),
    ] {
        let Some(source) = source else { continue };
        println!("{title} ({}):", source.name);
        for r in plan.rows.iter().filter(|r| r.file == table) {
            let status = match r.status {
                RowStatus::New => "mới/new",
                RowStatus::Existing => "đã có/existing",
            };
            let review = if r.review {
                "  [cần xem lại / review]"
            } else {
                ""
            };
            println!(
                "  {:>5}  {:<40} {}  ({status}){review}",
                r.line, r.address, r.name
            );
            for alias in &r.aliases {
                println!("         bí danh / alias: {alias}");
            }
            for w in &r.warnings {
                println!("         ! {w}");
            }
        }
    }
}

fn print_summary(plan: &ImportPlan, new_units: usize, new_people: usize) {
    let units = plan.rows.iter().filter(|r| r.file == Table::Units).count();
    let people = plan.rows.len() - units;
    let review = plan.rows.iter().filter(|r| r.review).count();
    println!(
        "Tổng / total: {units} đơn vị / units ({new_units} mới / new), {people} người / people \
         ({new_people} mới / new), {review} cần xem lại / to review"
    );
}

/// Writes `all.csv` and one sheet per unit; returns the folder.
fn write_credentials(
    credentials: &[Credential],
    folder: Option<PathBuf>,
    data_dir: &Path,
) -> anyhow::Result<PathBuf> {
    write_credentials_named(credentials, folder, data_dir, "import")
}

/// The credentials sheets in `folder`, or in `data_dir/credentials/<what>-<time>/`.
fn write_credentials_named(
    credentials: &[Credential],
    folder: Option<PathBuf>,
    data_dir: &Path,
    what: &str,
) -> anyhow::Result<PathBuf> {
    let folder = match folder {
        Some(folder) => folder,
        None => {
            let stamp = chrono::Local::now().format("%Y%m%d-%H%M%S").to_string();
            let base = data_dir.join("credentials");
            let mut folder = base.join(format!("{what}-{stamp}"));
            let mut n = 2;
            while folder.exists() {
                folder = base.join(format!("{what}-{stamp}-{n}"));
                n += 1;
            }
            folder
        }
    };
    if credentials.is_empty() {
        return Ok(folder);
    }
    create_private_dir(&folder)?;
    // all.csv holds every password and is fsynced; the per-unit sheets are copies of its rows
    // (one fsync each would cost seconds for a province of 400 units).
    write_private(&folder.join("all.csv"), &credentials_csv(credentials), true)?;
    let mut by_unit: BTreeMap<&str, Vec<&Credential>> = BTreeMap::new();
    for c in credentials {
        by_unit.entry(&c.unit_code).or_default().push(c);
    }
    for (code, sheet) in by_unit {
        let name: String = code
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        write_private(
            &folder.join(format!("{name}.csv")),
            &credentials_csv(sheet),
            false,
        )?;
    }
    if let Ok(dir) = std::fs::File::open(&folder) {
        let _ = dir.sync_all();
    }
    Ok(folder)
}

fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .with_context(|| format!("create {}", path.display()))
}

/// Passwords: readable by the operator only.
fn write_private(path: &Path, text: &str, sync: bool) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("create {}", path.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| if sync { file.sync_all() } else { Ok(()) })
        .with_context(|| format!("write {}", path.display()))
}
