//! `hopthu serve --demo`: seeds the sample province (the 2025 units of Cao Bằng and their
//! staff, shipped in `crates/server/demo/`) on first start, and prints how to sign in.
//!
//! Every unit gets its unit mailbox and every person a personal mailbox, with addresses decided
//! by the rules of Đ7.3 (`hopthu_model::naming`). All demo accounts share one generated
//! password, written with the addresses to `data_dir/demo-credentials.csv`.

use std::fmt::Write as _;

use anyhow::Context;
use hopthu_core::{Core, NewAccountRequest};

const UNITS: &str = include_str!("../demo/units-2025.csv");
const PEOPLE: &str = include_str!("../demo/people-2025.csv");

/// One mailbox to create.
struct Seed {
    local: String,
    display_name: String,
    unit: String,
}

pub async fn seed(core: &Core) -> anyhow::Result<()> {
    let config = core.config();
    let credentials_path = config.data_dir.join("demo-credentials.csv");
    if core.account_count().await? > 0 {
        println!(
            "Dữ liệu mẫu đã có sẵn / demo data already present: see {}",
            credentials_path.display()
        );
        return Ok(());
    }
    let seeds = plan()?;
    let password = hopthu_core::generate_password();
    let mut sheet = String::from("address,name,unit,password\n");
    for seed in &seeds {
        let address = format!("{}@{}", seed.local, config.domain);
        core.create_account(NewAccountRequest {
            address: address.clone(),
            display_name: seed.display_name.clone(),
            password: Some(password.clone()),
            must_change_password: false,
        })
        .await
        .with_context(|| format!("create {address}"))?;
        writeln!(
            sheet,
            "{address},{},{},{password}",
            csv_field(&seed.display_name),
            csv_field(&seed.unit)
        )?;
    }
    std::fs::write(&credentials_path, sheet)
        .with_context(|| format!("write {}", credentials_path.display()))?;

    let person = seeds
        .iter()
        .find(|s| s.local == "datnv")
        .unwrap_or(&seeds[0]);
    let unit = seeds
        .iter()
        .find(|s| s.local == "sonoivu")
        .unwrap_or(&seeds[0]);
    println!();
    println!(
        "Đã tạo tỉnh mẫu / demo province seeded: {} hộp thư / mailboxes",
        seeds.len()
    );
    println!("  Đăng nhập / sign in (IMAP, SMTP submission):");
    println!(
        "    {}@{}  ({})",
        person.local, config.domain, person.display_name
    );
    println!(
        "    {}@{}  ({})",
        unit.local, config.domain, unit.display_name
    );
    println!("  Mật khẩu / password: {password}");
    println!(
        "  Danh sách đầy đủ / every account: {}",
        credentials_path.display()
    );
    println!();
    Ok(())
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Decides every demo mailbox's address. (Provisional: replaced by `naming::plan`.)
fn plan() -> anyhow::Result<Vec<Seed>> {
    let mut taken = std::collections::HashSet::new();
    let mut seeds = Vec::new();
    let mut units = std::collections::HashMap::new();
    let mut reader = csv::Reader::from_reader(UNITS.as_bytes());
    for row in reader.records() {
        let row = row?;
        let local: String = hopthu_model::text::search_fold(&row[2])
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        units.insert(row[1].to_string(), row[2].to_string());
        if taken.insert(local.clone()) {
            seeds.push(Seed {
                local,
                display_name: row[2].to_string(),
                unit: row[2].to_string(),
            });
        }
    }
    let mut reader = csv::Reader::from_reader(PEOPLE.as_bytes());
    for row in reader.records() {
        let row = row?;
        let words: Vec<String> = row[0]
            .split_whitespace()
            .map(hopthu_model::text::search_fold)
            .collect();
        let Some((given, rest)) = words.split_last() else {
            continue;
        };
        let base: String = given.clone()
            + &rest
                .iter()
                .filter_map(|w| w.chars().next())
                .collect::<String>();
        let mut local = base.clone();
        let mut n = 2;
        while !taken.insert(local.clone()) {
            local = format!("{base}{n}");
            n += 1;
        }
        seeds.push(Seed {
            local,
            display_name: row[0].to_string(),
            unit: units.get(&row[1]).cloned().unwrap_or_default(),
        });
    }
    Ok(seeds)
}
