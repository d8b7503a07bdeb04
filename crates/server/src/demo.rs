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

/// Decides every demo mailbox's address with the rules of Đ7.3, reading the shipped CSV files
/// (columns `kind,code,name,parent` and `full_name,unit,position`).
fn plan() -> anyhow::Result<Vec<Seed>> {
    use hopthu_model::naming::{self, NamingConfig, PersonInput, Taken, UnitInput};
    let mut units = Vec::new();
    for row in csv::Reader::from_reader(UNITS.as_bytes()).records() {
        let row = row.context("demo units")?;
        let parent = Some(&row[3]).filter(|p| !p.is_empty());
        units.push(UnitInput::new(&row[0], &row[1], &row[2], parent));
    }
    let mut people = Vec::new();
    for row in csv::Reader::from_reader(PEOPLE.as_bytes()).records() {
        let row = row.context("demo people")?;
        people.push(PersonInput::new(&row[0], &row[1]));
    }
    let plan = naming::plan(&NamingConfig::default(), &units, &people, &Taken::new()).map_err(
        |errors| {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "the demo data breaks the address rules:\n{}",
                lines.join("\n")
            )
        },
    )?;
    let unit_name = |code: &str| plan.unit(code).map(|u| u.name.clone()).unwrap_or_default();
    let mut seeds: Vec<Seed> = plan
        .units
        .iter()
        .map(|u| Seed {
            local: u.local.clone(),
            display_name: u.name.clone(),
            unit: u.name.clone(),
        })
        .collect();
    seeds.extend(plan.people.iter().map(|p| Seed {
        local: p.local.clone(),
        display_name: p.full_name.clone(),
        unit: unit_name(&p.unit_code),
    }));
    Ok(seeds)
}
