//! `hopthu account add`: works while the server runs (SQLite WAL, busy timeout).

use std::io::BufRead;

use anyhow::Context;
use hopthu_config::Config;
use hopthu_core::{Core, NewAccountRequest};

/// `hopthu account password ADDRESS`: a new password from standard input.
pub async fn password(config: Config, address: &str, force_change: bool) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    let core = Core::open(config).await.context("open the store")?;
    let result = core.set_password_of(address, password, force_change).await;
    core.close().await;
    result?;
    println!("Đã đặt mật khẩu mới / password set: {address}");
    Ok(())
}

pub async fn add(
    config: Config,
    address: &str,
    name: &str,
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
    let created = core
        .create_account(NewAccountRequest {
            address: address.to_string(),
            display_name: name.to_string(),
            password,
            must_change_password: force_change,
        })
        .await;
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
