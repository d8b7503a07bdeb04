//! `hopthu account add|exceptions|password|sign-ins`: works while the server runs (SQLite WAL,
//! busy timeout). Every account is a person of the directory or a recorded exception.

use std::io::BufRead;

use anyhow::Context;
use hopthu_config::Config;
use hopthu_core::admin::Actor;
use hopthu_core::{Core, NewAccountRequest, NewPersonRequest};

use crate::directory::Format;

/// `hopthu account password ADDRESS [--confirmation FILE]`: a new password from standard
/// input. A mailbox locked as compromised (Đ13.4) needs the agency's written confirmation, a
/// PDF or an image, which is kept with its incident.
pub async fn password(
    config: Config,
    address: &str,
    force_change: bool,
    confirmation: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    let confirmation = match confirmation {
        Some(path) => {
            let size = std::fs::metadata(path)
                .with_context(|| format!("{}: không đọc được / cannot read", path.display()))?
                .len();
            anyhow::ensure!(
                size <= hopthu_core::compromised::CONFIRMATION_MAX_BYTES as u64,
                "{}: văn bản xác nhận quá lớn (tối đa {} MB) / larger than {} MB",
                path.display(),
                hopthu_core::compromised::CONFIRMATION_MAX_BYTES >> 20,
                hopthu_core::compromised::CONFIRMATION_MAX_BYTES >> 20
            );
            let bytes = std::fs::read(path)
                .with_context(|| format!("{}: không đọc được / cannot read", path.display()))?;
            Some(hopthu_core::compromised::ConfirmationFile {
                file_name: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                bytes,
            })
        }
        None => None,
    };
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    let core = Core::open(config).await.context("open the store")?;
    let result = core
        .set_password_of(
            &Actor::console(),
            address,
            password,
            force_change,
            confirmation,
        )
        .await;
    core.close().await;
    result?;
    println!("Đã đặt mật khẩu mới / password set: {address}");
    Ok(())
}

/// What `hopthu account add` creates.
pub enum ToAdd {
    /// A person of a unit, through the directory.
    Person(NewPersonRequest),
    /// An account that is not a person, recorded as an exception.
    Exception(NewAccountRequest),
}

/// The refusal of `account add` without `--unit` or `--exception`.
const ONE_ADDRESS_PER_PERSON: &str = "Mỗi người một địa chỉ: tạo hộp thư của một người bằng `hopthu account add --unit MÃ_ĐƠN_VỊ --full-name \"Họ và tên\"` (địa chỉ theo quy tắc đặt tên), hoặc ghi hộp thư không phải của một người (postmaster, hộp thư hệ thống, thử nghiệm) là ngoại lệ bằng `hopthu account add ĐỊA_CHỈ --name TÊN --exception \"LÝ DO\"`; không tạo gì / one address per person: add a person's mailbox with `hopthu account add --unit UNIT_CODE --full-name \"Full Name\"` (the address by the naming rules), or record a mailbox that is not a person's (postmaster, a system or test mailbox) as an exception with `hopthu account add ADDRESS --name NAME --exception \"REASON\"`; nothing was created";

/// The person's fields of `account add --unit`.
pub struct PersonFields {
    pub full_name: Option<String>,
    pub position: Option<String>,
    pub staff_id: Option<String>,
}

/// Checks the arguments of `account add` (before anything is opened): `--unit` with
/// `--full-name`, or ADDRESS with `--name` and `--exception`.
pub fn what_to_add(
    address: Option<String>,
    name: Option<String>,
    exception: Option<String>,
    unit: Option<String>,
    person: PersonFields,
) -> anyhow::Result<ToAdd> {
    let PersonFields {
        full_name,
        position,
        staff_id,
    } = person;
    match (unit, address) {
        (Some(unit), None) => {
            anyhow::ensure!(
                exception.is_none(),
                "--exception là cho hộp thư không phải của một người, không đi với --unit / --exception is for a mailbox that is not a person's, not with --unit"
            );
            let full_name = full_name.or(name).ok_or_else(|| {
                anyhow::anyhow!("thiếu --full-name / --full-name is missing (with --unit)")
            })?;
            Ok(ToAdd::Person(NewPersonRequest {
                unit,
                full_name,
                position,
                staff_id,
                password: None,
                must_change_password: true,
            }))
        }
        (Some(_), Some(address)) => anyhow::bail!(
            "{address}: với --unit, địa chỉ do quy tắc đặt tên cho, đừng ghi địa chỉ / with --unit the naming rules give the address: leave ADDRESS out"
        ),
        (None, Some(address)) => {
            let Some(exception) = exception else {
                anyhow::bail!("{address}: {ONE_ADDRESS_PER_PERSON}");
            };
            anyhow::ensure!(
                position.is_none() && full_name.is_none() && staff_id.is_none(),
                "--full-name, --position và --staff-id là cho một người (với --unit) / --full-name, --position and --staff-id are for a person (with --unit)"
            );
            let name = name.ok_or_else(|| anyhow::anyhow!("thiếu --name / --name is missing"))?;
            Ok(ToAdd::Exception(NewAccountRequest {
                address,
                display_name: name,
                password: None,
                must_change_password: true,
                exception,
            }))
        }
        (None, None) => anyhow::bail!("{ONE_ADDRESS_PER_PERSON}"),
    }
}

pub async fn add(
    config: Config,
    what: ToAdd,
    password_stdin: bool,
    force_change: bool,
) -> anyhow::Result<()> {
    let password = if password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("read the password from standard input")?;
        let password = line.trim_end_matches(['\r', '\n']).to_string();
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        Some(password)
    } else {
        None
    };
    let core = Core::open(config).await.context("open the store")?;
    let actor = Actor::console();
    let created = match what {
        ToAdd::Person(mut req) => {
            req.password = password;
            req.must_change_password = force_change;
            core.add_person_account(&actor, req).await
        }
        ToAdd::Exception(mut req) => {
            req.password = password;
            req.must_change_password = force_change;
            core.create_account(&actor, req).await
        }
    };
    core.close().await;
    let created = created?;
    println!("Đã tạo hộp thư / created: {}", created.address);
    if let Some(otp) = created.one_time_password {
        println!("Mật khẩu dùng một lần / one-time password: {otp}");
    }
    if force_change {
        println!(
            "Người dùng phải đổi mật khẩu khi đăng nhập lần đầu / the password must be changed at first sign-in"
        );
    }
    Ok(())
}

/// `hopthu account exceptions [--format json]`: the accounts that are not a person of the
/// directory, with their reasons.
pub async fn exceptions(config: Config, format: Format) -> anyhow::Result<()> {
    let core = Core::open(config).await.context("open the store")?;
    let result = core.account_exceptions().await;
    core.close().await;
    let rows = result?;
    let at = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default()
    };
    match format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = rows
                .iter()
                .map(|e| {
                    serde_json::json!({
                        "address": e.address,
                        "name": e.display_name,
                        "reason": e.reason,
                        "created_by": e.created_by,
                        "created_at": e.created_at,
                    })
                })
                .collect();
            println!("{}", serde_json::Value::Array(rows));
        }
        Format::Text => {
            println!(
                "{:<36} {:<20} {:<16} reason",
                "address", "created (UTC)", "by"
            );
            for e in rows {
                println!(
                    "{:<36} {:<20} {:<16} {}",
                    e.address,
                    at(e.created_at),
                    e.created_by,
                    e.reason
                );
            }
        }
    }
    Ok(())
}

/// `hopthu account sign-ins ADDRESS`: the account's sign-in history, newest first.
pub async fn sign_ins(config: Config, address: &str, limit: u32) -> anyhow::Result<()> {
    let core = Core::open(config).await.context("open the store")?;
    let result = async {
        let account = core.account_id_of(address).await?;
        core.sign_ins(account, limit).await
    }
    .await;
    core.close().await;
    let rows = result?;
    println!("{:<20} {:<8} {:<40} result", "time (UTC)", "via", "ip");
    for row in rows {
        let at = chrono::DateTime::from_timestamp(row.at, 0)
            .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
            .unwrap_or_default();
        println!("{at:<20} {:<8} {:<40} {}", row.via, row.ip, row.result);
    }
    Ok(())
}

/// `hopthu account export ADDRESS --out FILE.zip`: the focal unit's export of a revoked mailbox
/// (`Core::export_revoked_mailbox`), written to a new file that is fsynced; nothing is left
/// behind when it is refused.
pub async fn export(config: Config, address: &str, out: &std::path::Path) -> anyhow::Result<()> {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out)
        .with_context(|| format!("create {}", out.display()))?;
    let core = Core::open(config).await.context("open the store")?;
    let result = core
        .export_revoked_mailbox(&Actor::console(), address, &file)
        .await;
    core.close().await;
    match result {
        Ok(export) => {
            file.sync_all()
                .with_context(|| format!("write {}", out.display()))?;
            println!(
                "{}: {} thư mục, {} thư ({} byte) → {} / {} folders, {} messages",
                export.address,
                export.folders,
                export.messages,
                export.bytes,
                out.display(),
                export.folders,
                export.messages
            );
            Ok(())
        }
        Err(e) => {
            drop(file);
            let _ = std::fs::remove_file(out);
            Err(e.into())
        }
    }
}
