//! `/admin/report`: each unit's activity over a period (Đ17, the six-monthly report to the
//! provincial People's Committee), for the units of the administrator's scope, with totals and
//! a CSV export (UTF-8 with a BOM, for Excel). The period defaults to the current half-year.
//! The Đ13.1 column is the share of person-days on which a person opened their mailbox at least
//! twice on a working day (Monday to Friday less `[report] holidays`), from the ledger of
//! openings (IMAP SELECT/EXAMINE of INBOX, POP3 sessions, the webmail's INBOX): an SMTP sign-in
//! opens nothing, and a client that stays connected all day opens once.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Datelike;
use maud::{Markup, html};
use serde::Deserialize;

use super::{admin_or_return, day_start};
use crate::AppState;

#[derive(Deserialize, Default)]
pub(crate) struct ReportQuery {
    /// `YYYY-MM-DD`, the first day (Vietnam time).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, the last day included.
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

/// The current half-year in Vietnam: (first day, last day).
fn this_half_year() -> (String, String) {
    let today = (chrono::Utc::now() + chrono::Duration::hours(7)).date_naive();
    let year = today.year();
    if today.month() <= 6 {
        (format!("{year}-01-01"), format!("{year}-06-30"))
    } else {
        (format!("{year}-07-01"), format!("{year}-12-31"))
    }
}

/// A horizontal bar chart as inline SVG (no JavaScript): a row per label, one bar per value
/// (several values: stacked rows of thinner bars), scaled to `max`, each with its number.
fn bar_chart(id: &str, title: &str, rows: &[(&str, Vec<u64>)], max: u64) -> Markup {
    const LABEL: u32 = 260;
    const WIDTH: u32 = 360;
    const ROW: u32 = 22;
    let max = max.max(1);
    let height = ROW * rows.len() as u32 + 30;
    let colours = ["#2f6fb0", "#d08a2e"];
    html! {
        figure class="chart" {
            figcaption { (title) }
            svg id=(id) xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(title)
                width=(LABEL + WIDTH + 60) height=(height)
                viewBox={ "0 0 " (LABEL + WIDTH + 60) " " (height) } {
                @for (i, (label, values)) in rows.iter().enumerate() {
                    @let y = 20 + ROW * i as u32;
                    text x=(LABEL - 6) y=(y + 14) text-anchor="end" font-size="12" { (label) }
                    @let bar = (ROW - 4) / values.len().max(1) as u32;
                    @for (j, v) in values.iter().enumerate() {
                        @let w = (*v as f64 / max as f64 * f64::from(WIDTH)).round() as u32;
                        @let by = y + 2 + bar * j as u32;
                        rect class="bar" x=(LABEL) y=(by) width=(w) height=(bar.saturating_sub(1))
                            fill=(colours[j % colours.len()]) data-value=(v) {}
                        text x=(LABEL + w + 4) y=(by + bar - 2) font-size="10" { (v) }
                    }
                }
            }
        }
    }
}

pub(crate) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ReportQuery>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let (first, last) = this_half_year();
    let from_day = if query.from.trim().is_empty() {
        first
    } else {
        query.from.clone()
    };
    let to_day = if query.to.trim().is_empty() {
        last
    } else {
        query.to.clone()
    };
    let (Some(from), Some(to)) = (day_start(&from_day), day_start(&to_day).map(|d| d + 86_400))
    else {
        return c.error(&hopthu_core::Error::invalid(
            "dates are YYYY-MM-DD / ngày theo dạng YYYY-MM-DD",
        ));
    };
    let rows = match state.core.unit_report(&c.actor, from, to).await {
        Ok(rows) => rows,
        Err(e) => return c.error(&e),
    };
    let totals = rows.iter().fold([0u64; 7], |mut acc, r| {
        for (slot, v) in acc.iter_mut().zip([
            r.active,
            r.new,
            r.revoked,
            r.received,
            r.sent,
            r.signed_in,
            r.documents,
        ]) {
            *slot += v;
        }
        acc
    });
    if query.format == "csv" {
        let mut out = String::from(
            "\u{FEFF}unit_code,unit_name,active,new,revoked,received,sent,signed_in,compliance_percent,documents\r\n",
        );
        for r in &rows {
            let fields = [
                r.code.clone(),
                r.name.clone(),
                r.active.to_string(),
                r.new.to_string(),
                r.revoked.to_string(),
                r.received.to_string(),
                r.sent.to_string(),
                r.signed_in.to_string(),
                r.compliance_percent
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                r.documents.to_string(),
            ];
            crate::directory::push_csv_row(&mut out, &fields);
        }
        let file = format!("bao-cao-{from_day}-{to_day}.csv");
        return crate::directory::download(out, "text/csv; charset=utf-8", &file);
    }
    let cells = |values: [u64; 6]| -> Markup {
        html! {
            @for v in values {
                td { (v) }
            }
        }
    };
    let csv_link = format!(
        "/admin/report?from={}&to={}&format=csv",
        crate::html::url(&from_day),
        crate::html::url(&to_day)
    );
    let body = html! {
        h1 { (t.s("Báo cáo hoạt động thư điện tử", "E-mail activity report")) }
        p {
            (t.s(
                "Số liệu theo đơn vị trong kỳ báo cáo (Điều 17: báo cáo sáu tháng gửi UBND tỉnh).",
                "Figures per unit over the period (article 17: the six-monthly report to the provincial People's Committee)."
            ))
        }
        form method="get" action="/admin/report" class="filters" {
            label for="from" { (t.s("Từ ngày", "From")) }
            " "
            input id="from" name="from" type="date" value=(from_day);
            " "
            label for="to" { (t.s("Đến ngày", "To")) }
            " "
            input id="to" name="to" type="date" value=(to_day);
            " "
            button type="submit" { (t.s("Xem", "Show")) }
        }
        p { a href=(csv_link) id="report-csv" { (t.s("Xuất CSV (mở bằng Excel)", "Export CSV (opens in Excel)")) } }
        div class="scroll" {
            table class="grid" id="report" {
                thead {
                    tr {
                        th scope="col" { (t.s("Mã", "Code")) }
                        th scope="col" { (t.s("Đơn vị", "Unit")) }
                        th scope="col" { (t.s("Hộp thư hoạt động", "Active mailboxes")) }
                        th scope="col" { (t.s("Cấp mới", "New")) }
                        th scope="col" { (t.s("Thu hồi", "Revoked")) }
                        th scope="col" { (t.s("Thư nhận", "Received")) }
                        th scope="col" { (t.s("Thư gửi", "Sent")) }
                        th scope="col" { (t.s("Hộp thư có đăng nhập", "Mailboxes used")) }
                        th scope="col" {
                            (t.s(
                                "Mở hộp thư ≥ 2 lần/ngày làm việc (Điều 13.1)",
                                "Opened ≥ twice per working day (art. 13.1)"
                            ))
                        }
                        th scope="col" { (t.s("Văn bản điện tử đã gửi (Điều 15)", "Documents dispatched (art. 15)")) }
                        th scope="col" { (t.s("Sự cố (đã xử lý)", "Incidents (resolved)")) }
                    }
                }
                tbody {
                    @for r in &rows {
                        tr {
                            td { (r.code) }
                            td { (r.name) }
                            (cells([r.active, r.new, r.revoked, r.received, r.sent, r.signed_in]))
                            td {
                                @match r.compliance_percent {
                                    Some(p) => { (p) "%" }
                                    None => { "—" }
                                }
                            }
                            td { (r.documents) }
                            td { (r.incidents) " (" (r.incidents_resolved.0) ")" }
                        }
                    }
                }
                tfoot {
                    tr {
                        th scope="row" colspan="2" { (t.s("Tổng cộng", "Total")) }
                        (cells(totals[..6].try_into().unwrap_or([0; 6])))
                        td {}
                        td { (totals[6]) }
                        td { (rows.iter().map(|r| r.incidents).sum::<u64>()) }
                    }
                }
            }
        }
        @let charted: Vec<&hopthu_core::report::UnitReport> =
            rows.iter().filter(|r| r.active > 0).collect();
        h2 { (t.s("Biểu đồ", "Charts")) }
        (bar_chart(
            "chart-open",
            t.s("Tỷ lệ ngày mở hộp thư ≥ 2 lần (Điều 13.1), %", "Share of days opened at least twice (art. 13.1), %"),
            &charted.iter().map(|r| (r.name.as_str(), vec![u64::from(r.compliance_percent.unwrap_or(0))])).collect::<Vec<_>>(),
            100,
        ))
        (bar_chart(
            "chart-mail",
            t.s("Thư nhận (trên) và thư gửi (dưới)", "Mail received (upper) and sent (lower)"),
            &charted.iter().map(|r| (r.name.as_str(), vec![r.received, r.sent])).collect::<Vec<_>>(),
            charted.iter().flat_map(|r| [r.received, r.sent]).max().unwrap_or(0),
        ))
    };
    c.page("/admin/report", t.s("Báo cáo", "Report"), body)
}
