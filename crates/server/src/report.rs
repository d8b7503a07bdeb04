//! `hopthu report --from DATE --to DATE --format csv|json|xlsx|pdf [--out FILE] [--number N]`: the six-monthly report
//! (Đ17) per unit and for the province, as the console shows it (`Core::unit_report`), for a
//! period of whole days in Vietnam time (`--to` included).
//!
//! JSON: `{"from", "to", "province": {…}, "units": [{"code", "name", "active", "new",
//! "revoked", "received", "sent", "open_share", "incidents", "documents"}]}`, `open_share`
//! between 0 and 1 (Đ13.1), `null` without people or working days; `incidents` the incidents
//! filed in the period, with `incidents_resolved` and `incident_hours` (their mean resolution
//! time, `null` when none is resolved).
//!
//! XLSX (`--out` required): one sheet "Báo cáo" with the same columns (a row per unit, the
//! province last) and two native Excel charts: the Đ13.1 share per unit, and mail received and
//! sent per unit.
//!
//! PDF (`--out` required): the written report in the Vietnamese administrative layout
//! (`report_pdf.rs`), issued by the focal unit (`Core::report_issuer`) under `[naming]`'s
//! province, dated today, numbered `--number` (left blank for the clerk without it).

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::ValueEnum;
use hopthu_core::admin::Actor;
use hopthu_core::report::UnitReport;
use serde_json::json;

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    Csv,
    Json,
    Xlsx,
    Pdf,
}

/// `YYYY-MM-DD` at midnight in Vietnam, as Unix seconds.
fn day_start(s: &str) -> anyhow::Result<i64> {
    let date = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("{s:?}: ngày YYYY-MM-DD / a date YYYY-MM-DD"))?;
    let midnight = date
        .and_hms_opt(0, 0, 0)
        .context("midnight")?
        .and_utc()
        .timestamp();
    Ok(midnight - hopthu_core::report::VIETNAM_UTC_OFFSET)
}

fn share((opened, possible): (u64, u64)) -> Option<f64> {
    (possible > 0).then(|| (opened as f64 / possible as f64).min(1.0))
}

fn unit_json(code: &str, name: &str, r: &Totals) -> serde_json::Value {
    json!({
        "code": code,
        "name": name,
        "active": r.active,
        "new": r.new,
        "revoked": r.revoked,
        "received": r.received,
        "sent": r.sent,
        "open_share": share(r.open_days),
        "incidents": r.incidents,
        "incidents_resolved": r.incidents_resolved.0,
        "incident_hours": (r.incidents_resolved.0 > 0)
            .then(|| r.incidents_resolved.1 as f64 / r.incidents_resolved.0 as f64 / 3600.0),
        "documents": r.documents,
    })
}

/// The figures of a unit or of the province (the sum of the units).
#[derive(Default)]
struct Totals {
    active: u64,
    new: u64,
    revoked: u64,
    received: u64,
    sent: u64,
    open_days: (u64, u64),
    documents: u64,
    incidents: u64,
    incidents_resolved: (u64, u64),
}

impl Totals {
    fn of(r: &UnitReport) -> Totals {
        Totals {
            active: r.active,
            new: r.new,
            revoked: r.revoked,
            received: r.received,
            sent: r.sent,
            open_days: r.open_days,
            documents: r.documents,
            incidents: r.incidents,
            incidents_resolved: r.incidents_resolved,
        }
    }

    fn add(&mut self, r: &UnitReport) {
        self.active += r.active;
        self.new += r.new;
        self.revoked += r.revoked;
        self.received += r.received;
        self.sent += r.sent;
        self.open_days.0 += r.open_days.0;
        self.open_days.1 += r.open_days.1;
        self.documents += r.documents;
        self.incidents += r.incidents;
        self.incidents_resolved.0 += r.incidents_resolved.0;
        self.incidents_resolved.1 += r.incidents_resolved.1;
    }
}

/// What `hopthu report` is asked for.
pub struct ReportArgs {
    pub from: String,
    pub to: String,
    pub format: ReportFormat,
    pub out: Option<PathBuf>,
    /// The PDF's number (`Số: N/BC-…`).
    pub number: Option<String>,
    pub config: Option<PathBuf>,
}

pub async fn run(args: ReportArgs) -> anyhow::Result<()> {
    let ReportArgs {
        from,
        to,
        format,
        out,
        number,
        config,
    } = args;
    let (from, to) = (from.as_str(), to.as_str());
    let (start, end) = (day_start(from)?, day_start(to)? + 86_400);
    anyhow::ensure!(
        end > start,
        "--to trước --from / the period ends before it starts"
    );
    anyhow::ensure!(
        format == ReportFormat::Pdf || number.is_none(),
        "--number chỉ dùng với --format pdf / --number is for --format pdf"
    );
    if let Some(n) = &number {
        anyhow::ensure!(
            !n.trim().is_empty() && n.trim().chars().all(|c| c.is_ascii_digit()),
            "{n:?}: --number là số / --number is a number"
        );
    }
    if matches!(format, ReportFormat::Xlsx | ReportFormat::Pdf) {
        anyhow::ensure!(
            out.is_some(),
            "--format xlsx|pdf cần --out TỆP / --format xlsx|pdf needs --out FILE"
        );
    }
    let core = crate::lifecycle::open(config.as_deref()).await?;
    let units = core.unit_report(&Actor::console(), start, end).await;
    let issuer = core.report_issuer().await;
    core.close().await;
    let units = units?;
    let mut province = Totals::default();
    for u in &units {
        province.add(u);
    }
    if format == ReportFormat::Pdf {
        let path = out.ok_or_else(|| anyhow::anyhow!("--out"))?;
        let bytes = pdf(from, to, number.as_deref(), &issuer, &units, &province)?;
        write_synced(&path, &bytes)?;
        eprintln!(
            "Đã ghi báo cáo / report written: {} ({} đơn vị / units)",
            path.display(),
            units.len()
        );
        return Ok(());
    }
    if format == ReportFormat::Xlsx {
        let path = out.ok_or_else(|| anyhow::anyhow!("--out"))?;
        write_xlsx(&path, &units, &province)?;
        eprintln!(
            "Đã ghi báo cáo / report written: {} ({} đơn vị / units)",
            path.display(),
            units.len()
        );
        return Ok(());
    }
    let text = match format {
        ReportFormat::Xlsx | ReportFormat::Pdf => unreachable!("written above"),
        ReportFormat::Json => {
            let mut province_json = unit_json("", "", &province);
            if let Some(o) = province_json.as_object_mut() {
                o.remove("code");
                o.remove("name");
            }
            let value = json!({
                "from": from.trim(),
                "to": to.trim(),
                "province": province_json,
                "units": units.iter().map(|u| unit_json(&u.code, &u.name, &Totals::of(u))).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&value)? + "\n"
        }
        ReportFormat::Csv => {
            let mut csv = String::from("\u{FEFF}");
            hopthu_core::directory::csv_row(
                &mut csv,
                &[
                    "code",
                    "name",
                    "active",
                    "new",
                    "revoked",
                    "received",
                    "sent",
                    "open_share",
                    "incidents",
                    "documents",
                ],
            );
            let row = |csv: &mut String, code: &str, name: &str, t: &Totals| {
                hopthu_core::directory::csv_row(
                    csv,
                    &[
                        code.to_string(),
                        name.to_string(),
                        t.active.to_string(),
                        t.new.to_string(),
                        t.revoked.to_string(),
                        t.received.to_string(),
                        t.sent.to_string(),
                        share(t.open_days)
                            .map(|s| format!("{s:.4}"))
                            .unwrap_or_default(),
                        t.incidents.to_string(),
                        t.documents.to_string(),
                    ],
                );
            };
            for u in &units {
                row(&mut csv, &u.code, &u.name, &Totals::of(u));
            }
            row(&mut csv, "", "Toàn tỉnh / province", &province);
            csv
        }
    };
    match out {
        Some(path) => {
            write_synced(&path, text.as_bytes())?;
            eprintln!(
                "Đã ghi báo cáo / report written: {} ({} đơn vị / units)",
                path.display(),
                units.len()
            );
        }
        None => std::io::stdout().write_all(text.as_bytes())?,
    }
    Ok(())
}

/// Writes the file and syncs it before the command says it is written.
fn write_synced(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut file =
        std::fs::File::create(path).with_context(|| format!("create {}", path.display()))?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// `YYYY-MM-DD` as (day, month, year).
fn dmy(s: &str) -> anyhow::Result<(u32, u32, i32)> {
    use chrono::Datelike;
    let d = chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .with_context(|| format!("{s:?}: ngày YYYY-MM-DD / a date YYYY-MM-DD"))?;
    Ok((d.day(), d.month(), d.year()))
}

/// The written report (`report_pdf.rs`), dated today in Vietnam.
fn pdf(
    from: &str,
    to: &str,
    number: Option<&str>,
    issuer: &hopthu_core::report::ReportIssuer,
    units: &[UnitReport],
    province: &Totals,
) -> anyhow::Result<Vec<u8>> {
    use crate::report_pdf::{Heading, Row, render};
    use chrono::Datelike;
    let today = (chrono::Utc::now()
        + chrono::Duration::seconds(hopthu_core::report::VIETNAM_UTC_OFFSET))
    .date_naive();
    let reference = format!(
        "{}/{}",
        number.map(str::trim).unwrap_or("      "),
        issuer.symbol
    );
    let heading = Heading {
        superior: &issuer.superior,
        issuer: &issuer.issuer,
        reference: &reference,
        place: &issuer.place,
        date: (today.day(), today.month(), today.year()),
        from: dmy(from)?,
        to: dmy(to)?,
    };
    fn row<'a>(code: &'a str, name: &'a str, t: &Totals) -> Row<'a> {
        Row {
            code,
            name,
            active: t.active,
            new: t.new,
            revoked: t.revoked,
            received: t.received,
            sent: t.sent,
            open_share: share(t.open_days),
            incidents: t.incidents,
            incidents_resolved: t.incidents_resolved.0,
            documents: t.documents,
        }
    }
    let rows: Vec<Row<'_>> = units
        .iter()
        .map(|u| row(&u.code, &u.name, &Totals::of(u)))
        .collect();
    render(&heading, &rows, &row("", "Toàn tỉnh", province))
}

/// The workbook: the table, then a bar chart of the Đ13.1 share and a column chart of mail
/// received and sent, both over the units' rows (native Excel charts, not pictures).
fn write_xlsx(
    path: &std::path::Path,
    units: &[UnitReport],
    province: &Totals,
) -> anyhow::Result<()> {
    use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
    const SHEET: &str = "Báo cáo";
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(SHEET)?;
    let bold = Format::new().set_bold();
    let headers = [
        "Mã / code",
        "Đơn vị / unit",
        "Hoạt động / active",
        "Cấp mới / new",
        "Thu hồi / revoked",
        "Thư nhận / received",
        "Thư gửi / sent",
        "Đ13.1 (tỷ lệ / share)",
        "Sự cố / incidents",
        "Văn bản / documents",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, col as u16, *h, &bold)?;
    }
    let mut put = |row: u32, code: &str, name: &str, t: &Totals| -> anyhow::Result<()> {
        sheet.write_string(row, 0, code)?;
        sheet.write_string(row, 1, name)?;
        for (col, v) in [t.active, t.new, t.revoked, t.received, t.sent]
            .into_iter()
            .enumerate()
        {
            sheet.write_number(row, 2 + col as u16, v as f64)?;
        }
        if let Some(s) = share(t.open_days) {
            sheet.write_number(row, 7, s)?;
        }
        sheet.write_number(row, 8, t.incidents as f64)?;
        sheet.write_number(row, 9, t.documents as f64)?;
        Ok(())
    };
    for (i, u) in units.iter().enumerate() {
        put(1 + i as u32, &u.code, &u.name, &Totals::of(u))?;
    }
    let last = units.len() as u32;
    put(last + 1, "", "Toàn tỉnh / province", province)?;
    sheet.set_column_width(1, 40)?;
    if !units.is_empty() {
        let mut open = Chart::new(ChartType::Bar);
        open.title()
            .set_name("Đ13.1: tỷ lệ ngày mở hộp thư ≥ 2 lần / share of days opened twice");
        open.add_series()
            .set_name("Đ13.1")
            .set_categories((SHEET, 1, 1, last, 1))
            .set_values((SHEET, 1, 7, last, 7));
        sheet.insert_chart(1, 11, &open)?;
        let mut mail = Chart::new(ChartType::Column);
        mail.title()
            .set_name("Thư nhận và gửi / mail received and sent");
        mail.add_series()
            .set_name("Thư nhận / received")
            .set_categories((SHEET, 1, 1, last, 1))
            .set_values((SHEET, 1, 5, last, 5));
        mail.add_series()
            .set_name("Thư gửi / sent")
            .set_categories((SHEET, 1, 1, last, 1))
            .set_values((SHEET, 1, 6, last, 6));
        sheet.insert_chart(18, 11, &mail)?;
    }
    book.save(path)?;
    // The file is kept as written: synced before the command says so.
    std::fs::File::open(path)?.sync_all()?;
    Ok(())
}
