//! `hopthu`: the one binary. `serve` runs every listener in one process; the other commands
//! act on the same data directory and may run while the server does.
//!
//! This is the only crate that knows the whole graph: it opens the store through `Core`,
//! builds TLS, binds listeners, and hands each to its protocol crate.

mod account;
mod backup;
mod blobs;
mod demo;
mod directory;
mod document;
mod incident;
mod lifecycle;
mod outbound;
mod private;
mod report;
mod report_pdf;
mod serve;
mod sieve;
mod store_copy;
mod tls;
mod unit_mailbox;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hopthu_config::Config;

use crate::account::PersonFields;

#[derive(Parser)]
#[command(
    name = "hopthu",
    version,
    about = "Hệ thống thư điện tử cho cơ quan nhà nước — e-mail system for provincial agencies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run SMTP, submission, IMAP, POP3 and HTTP(S) in one process.
    Serve {
        /// Configuration file (TOML). Without it, the built-in defaults with `./data`.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Seed the sample province (units and people) on first start and print how to sign in.
        #[arg(long)]
        demo: bool,
    },
    /// Manage mail accounts.
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
    /// Danh bạ / the directory: import units and people, aliases, reserved names.
    Directory {
        #[command(subcommand)]
        command: directory::DirectoryCommand,
    },
    /// Quản trị viên / administrators: grant, list, revoke.
    Admin {
        #[command(subcommand)]
        command: lifecycle::AdminCommand,
    },
    /// Vòng đời hộp thư / mailbox lifecycle: change requests, approvals, notices, the sweep.
    Lifecycle {
        #[command(subcommand)]
        command: lifecycle::LifecycleCommand,
    },
    /// Hộp thư đơn vị / unit mailboxes: grant, revoke and list delegates with their rights.
    UnitMailbox {
        #[command(subcommand)]
        command: unit_mailbox::UnitMailboxCommand,
    },
    /// Bộ lọc thư (Sieve) / an account's Sieve scripts: put, list, show, activate, delete.
    Sieve {
        #[command(subcommand)]
        command: sieve::SieveCommand,
    },
    /// Văn bản / official documents: dispatch to recipient units, tracking.
    Document {
        #[command(subcommand)]
        command: document::DocumentCommand,
    },
    /// Hàng đợi thư đi / the outbound queue: list, show, retry, delete.
    Queue {
        #[command(subcommand)]
        command: outbound::QueueCommand,
    },
    /// DKIM keys: print the DNS records to publish.
    Dkim {
        #[command(subcommand)]
        command: outbound::DkimCommand,
    },
    /// DNS: print the SRV and CNAME records mail clients set themselves up from.
    Dns {
        #[command(subcommand)]
        command: outbound::DnsCommand,
    },
    /// Sao lưu / backup: create (online), verify, restore into an empty data directory.
    Backup {
        #[command(subcommand)]
        command: backup::BackupCommand,
    },
    /// Kho dữ liệu / the store: copy an embedded installation into PostgreSQL (and S3).
    Store {
        #[command(subcommand)]
        command: store_copy::StoreCommand,
    },
    /// Nội dung thư / message bodies: delete those nothing refers to any more.
    Blobs {
        #[command(subcommand)]
        command: blobs::BlobsCommand,
    },
    /// Sự cố / incidents: file, list, show, assign, status, escalate, resolve.
    Incident {
        #[command(subcommand)]
        command: incident::IncidentCommand,
    },
    /// Báo cáo sáu tháng / the six-monthly report (Đ17) per unit and for the province.
    Report {
        /// First day, YYYY-MM-DD (Vietnam time).
        #[arg(long)]
        from: String,
        /// Last day included, YYYY-MM-DD.
        #[arg(long)]
        to: String,
        #[arg(long, value_enum, default_value_t = report::ReportFormat::Json)]
        format: report::ReportFormat,
        /// Write to this file instead of standard output (required for xlsx and pdf).
        #[arg(long)]
        out: Option<PathBuf>,
        /// The PDF's number, `Số: N/BC-…` (left blank for the clerk without it).
        #[arg(long)]
        number: Option<String>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the example configuration with every key documented.
    ExampleConfig,
}

#[derive(Subcommand)]
enum AccountCommand {
    /// Tạo hộp thư / create a mailbox with the standard folders: a person of a unit (`--unit
    /// CODE --full-name N`, the address by the rules of Đ7.3), or an account that is not a
    /// person (`ADDRESS --name N --exception REASON`: postmaster, a system or test mailbox),
    /// recorded with its reason. One address per person: nothing else is accepted.
    Add {
        /// The address of an exception, e.g. postmaster@caobang.gov.vn (with --exception).
        address: Option<String>,
        /// The exception's display name, e.g. "Postmaster".
        #[arg(long)]
        name: Option<String>,
        /// Why this account is not a person of the directory (recorded and audited).
        #[arg(long)]
        exception: Option<String>,
        /// The code of the person's unit, e.g. CB25-002.
        #[arg(long)]
        unit: Option<String>,
        /// The person's full name, e.g. "Nông Văn Đạt".
        #[arg(long)]
        full_name: Option<String>,
        /// The person's position, e.g. "Chuyên viên".
        #[arg(long)]
        position: Option<String>,
        /// The person's staff id (tells a namesake in the same unit apart).
        #[arg(long)]
        staff_id: Option<String>,
        /// Read the password from standard input instead of generating a one-time password.
        #[arg(long)]
        password_stdin: bool,
        /// Do not require a password change before first use.
        #[arg(long)]
        no_force_change: bool,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Ngoại lệ / the accounts that are not a person of the directory, with their reasons.
    Exceptions {
        #[arg(long, value_enum, default_value = "text")]
        format: directory::Format,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Lịch sử đăng nhập / the sign-in history of an account (IMAP, POP3, SMTP, webmail), newest
    /// first.
    SignIns {
        address: String,
        /// How many to show.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Set a new password (read from standard input), e.g. after a lost one-time password.
    Password {
        address: String,
        /// Do not require a password change before first use.
        #[arg(long)]
        no_force_change: bool,
        /// The agency's written confirmation (PDF or image), required for a mailbox locked
        /// as compromised (Đ13.4); kept with its incident, which it resolves.
        #[arg(long)]
        confirmation: Option<PathBuf>,
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

/// Loads the configuration file, or the defaults (data in `./data`) when none is given.
/// Loads the configuration, and makes its data directory private when it exists (see
/// [`private::tighten`]; a failure, such as a folder owned by another user, is only reported).
fn load_config(path: Option<&Path>) -> anyhow::Result<Config> {
    let config = match path {
        Some(path) => Config::load(path).map_err(anyhow::Error::from),
        None => Config::from_toml(hopthu_config::EXAMPLE, "built-in defaults", Path::new("."))
            .map_err(anyhow::Error::from),
    }?;
    if config.data_dir.is_dir()
        && let Err(e) = private::tighten(&config.data_dir)
    {
        eprintln!(
            "cảnh báo / warning: cannot make {} private: {e}",
            config.data_dir.display()
        );
    }
    Ok(config)
}

fn main() -> ExitCode {
    // Before any file is created, by any command: private to the service account.
    private::restrict_umask();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::ExampleConfig => {
            print!("{}", hopthu_config::EXAMPLE);
            Ok(())
        }
        command => run_async(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lỗi / error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run_async(command: Command) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("start the async runtime")?;
    runtime.block_on(async move {
        match command {
            Command::Serve { config, demo } => {
                let config = load_config(config.as_deref())?;
                serve::run(config, demo).await
            }
            Command::Account {
                command:
                    AccountCommand::Add {
                        address,
                        name,
                        exception,
                        unit,
                        full_name,
                        position,
                        staff_id,
                        password_stdin,
                        no_force_change,
                        config,
                    },
            } => {
                let what = account::what_to_add(
                    address,
                    name,
                    exception,
                    unit,
                    PersonFields {
                        full_name,
                        position,
                        staff_id,
                    },
                )?;
                let config = load_config(config.as_deref())?;
                account::add(config, what, password_stdin, !no_force_change).await
            }
            Command::Account {
                command: AccountCommand::Exceptions { format, config },
            } => {
                let config = load_config(config.as_deref())?;
                account::exceptions(config, format).await
            }
            Command::Account {
                command:
                    AccountCommand::Password {
                        address,
                        no_force_change,
                        confirmation,
                        config,
                    },
            } => {
                let config = load_config(config.as_deref())?;
                account::password(config, &address, !no_force_change, confirmation.as_deref()).await
            }
            Command::Account {
                command:
                    AccountCommand::SignIns {
                        address,
                        limit,
                        config,
                    },
            } => {
                let config = load_config(config.as_deref())?;
                account::sign_ins(config, &address, limit).await
            }
            Command::Directory { command } => directory::run(command).await,
            Command::Admin { command } => lifecycle::admin(command).await,
            Command::Lifecycle { command } => lifecycle::run(command).await,
            Command::UnitMailbox { command } => unit_mailbox::run(command).await,
            Command::Sieve { command } => sieve::run(command).await,
            Command::Document { command } => document::run(command).await,
            Command::Queue { command } => outbound::queue(command).await,
            Command::Dkim { command } => outbound::dkim(command),
            Command::Dns { command } => outbound::dns(command),
            Command::Backup { command } => backup::run(command).await,
            Command::Blobs { command } => blobs::run(command).await,
            Command::Store { command } => store_copy::run(command).await,
            Command::Incident { command } => incident::run(command).await,
            Command::Report {
                from,
                to,
                format,
                out,
                number,
                config,
            } => {
                report::run(report::ReportArgs {
                    from,
                    to,
                    format,
                    out,
                    number,
                    config,
                })
                .await
            }
            Command::ExampleConfig => unreachable!("handled without a runtime"),
        }
    })
}
