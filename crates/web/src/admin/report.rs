//! `/admin/report`: each unit's activity over a period (Đ17, the six-monthly report to the
//! provincial People's Committee), for the units of the administrator's scope, with totals and
//! a CSV export (UTF-8 with a BOM, for Excel). The period defaults to the current half-year.
//! The Đ13.1 column is the share of person-days on which a person signed in at least twice on
//! a working day (from the sign-in history: a mail client that stays connected all day counts
//! once).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::Datelike;
use serde::Deserialize;

use super::{admin_or_return, day_start};
use crate::AppState;
use crate::html::esc;

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
    let totals = rows.iter().fold([0u64; 6], |mut acc, r| {
        for (slot, v) in
            acc.iter_mut()
                .zip([r.active, r.new, r.revoked, r.received, r.sent, r.signed_in])
        {
            *slot += v;
        }
        acc
    });
    if query.format == "csv" {
        let mut out = String::from(
            "\u{FEFF}unit_code,unit_name,active,new,revoked,received,sent,signed_in,compliance_percent\r\n",
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
            ];
            crate::directory::push_csv_row(&mut out, &fields);
        }
        let file = format!("bao-cao-{from_day}-{to_day}.csv");
        return crate::directory::download(out, "text/csv; charset=utf-8", &file);
    }
    let cells =
        |values: [u64; 6]| -> String { values.iter().map(|v| format!("<td>{v}</td>")).collect() };
    let body_rows: String = rows
        .iter()
        .map(|r| {
            format!(
                "<tr><td>{}</td><td>{}</td>{}<td>{}</td></tr>",
                esc(&r.code),
                esc(&r.name),
                cells([r.active, r.new, r.revoked, r.received, r.sent, r.signed_in]),
                r.compliance_percent
                    .map(|p| format!("{p}%"))
                    .unwrap_or_else(|| "—".into())
            )
        })
        .collect();
    let csv_link = format!(
        "/admin/report?from={}&to={}&format=csv",
        crate::html::url(&from_day),
        crate::html::url(&to_day)
    );
    let body = format!(
        r#"<h1>{title}</h1><p>{intro}</p>
<form method="get" action="/admin/report" class="filters">
<label for="from">{from_l}</label> <input id="from" name="from" type="date" value="{from_v}">
<label for="to">{to_l}</label> <input id="to" name="to" type="date" value="{to_v}">
<button type="submit">{show}</button>
</form>
<p><a href="{csv_link}" id="report-csv">{export}</a></p>
<div class="scroll"><table class="grid" id="report"><thead><tr><th scope="col">{code}</th><th scope="col">{unit}</th><th scope="col">{active}</th><th scope="col">{new}</th><th scope="col">{revoked}</th><th scope="col">{received}</th><th scope="col">{sent}</th><th scope="col">{used}</th><th scope="col">{compliance}</th></tr></thead>
<tbody>{body_rows}</tbody>
<tfoot><tr><th scope="row" colspan="2">{total}</th>{totals}<td></td></tr></tfoot></table></div>"#,
        title = t.s("Báo cáo hoạt động thư điện tử", "E-mail activity report"),
        intro = t.s(
            "Số liệu theo đơn vị trong kỳ báo cáo (Điều 17: báo cáo sáu tháng gửi UBND tỉnh).",
            "Figures per unit over the period (article 17: the six-monthly report to the provincial People's Committee)."
        ),
        from_l = t.s("Từ ngày", "From"),
        from_v = esc(&from_day),
        to_l = t.s("Đến ngày", "To"),
        to_v = esc(&to_day),
        show = t.s("Xem", "Show"),
        export = t.s("Xuất CSV (mở bằng Excel)", "Export CSV (opens in Excel)"),
        code = t.s("Mã", "Code"),
        unit = t.s("Đơn vị", "Unit"),
        active = t.s("Hộp thư hoạt động", "Active mailboxes"),
        new = t.s("Cấp mới", "New"),
        revoked = t.s("Thu hồi", "Revoked"),
        received = t.s("Thư nhận", "Received"),
        sent = t.s("Thư gửi", "Sent"),
        used = t.s("Hộp thư có đăng nhập", "Mailboxes used"),
        total = t.s("Tổng cộng", "Total"),
        compliance = t.s(
            "Mở hộp thư ≥ 2 lần/ngày làm việc (Điều 13.1)",
            "Opened ≥ twice per working day (art. 13.1)"
        ),
        totals = cells(totals),
    );
    c.page("/admin/report", t.s("Báo cáo", "Report"), &body)
}
