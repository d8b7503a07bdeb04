//! `/admin/audit`: the audit log for inspectors (SPEC §9, Đ16), focal unit only. Words (case
//! and diacritics ignored) and a date range narrow it down; the page shows the newest 500
//! matches and whether the hash chain of the whole log is intact; `format=csv` exports every
//! match (UTF-8 with a BOM, for Excel). Below, the accounts recorded as exceptions to the
//! directory (no person's mailbox) with their reasons.

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use hopthu_core::audit::AuditFilter;
use maud::html;
use serde::Deserialize;

use super::{admin_or_return, day_start};
use crate::AppState;
use crate::html::date_time;

/// Rows shown on the page (the export has all).
const SHOWN: usize = 500;

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    q: String,
    /// `YYYY-MM-DD`, the first day (Vietnam time).
    #[serde(default)]
    from: String,
    /// `YYYY-MM-DD`, the last day included.
    #[serde(default)]
    to: String,
    #[serde(default)]
    format: String,
}

pub(crate) async fn audit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<AuditQuery>,
) -> Response {
    let c = admin_or_return!(state, headers);
    let t = c.t();
    let filter = AuditFilter {
        words: query.q.clone(),
        from: day_start(&query.from),
        to: day_start(&query.to).map(|d| d + 86_400),
    };
    let found = match state.core.audit_search(&c.actor, &filter).await {
        Ok(found) => found,
        Err(e) => return c.error(&e),
    };
    if query.format == "csv" {
        let mut out = String::from("\u{FEFF}id,time,actor,action,target,before,after,hash\r\n");
        for r in &found.rows {
            let fields = [
                r.id.to_string(),
                date_time(r.at),
                r.actor.clone(),
                r.action.clone(),
                r.target.clone(),
                r.before.clone().unwrap_or_default(),
                r.after.clone().unwrap_or_default(),
                r.hash.clone(),
            ];
            crate::directory::push_csv_row(&mut out, &fields);
        }
        return crate::directory::download(out, "text/csv; charset=utf-8", "nhat-ky-kiem-tra.csv");
    }
    // The focal unit's (checked by the search above): the accounts that are no person.
    let exceptions = match state.core.account_exceptions().await {
        Ok(rows) => rows,
        Err(e) => return c.error(&e),
    };
    let csv_link = format!(
        "/admin/audit?q={}&from={}&to={}&format=csv",
        crate::html::url(&query.q),
        crate::html::url(&query.from),
        crate::html::url(&query.to)
    );
    let body = html! {
        h1 { (t.s("Nhật ký kiểm tra", "Audit log")) }
        @match found.broken_at {
            None => {
                p class="ok" id="chain" {
                    (t.s("Chuỗi băm của nhật ký nguyên vẹn", "The log's hash chain is intact"))
                    " (" (found.total) " " (t.s("mục", "entries")) ")"
                }
            }
            Some(id) => {
                p class="error" role="alert" id="chain" {
                    (t.s(
                        "Nhật ký đã bị sửa: chuỗi băm đứt tại mục",
                        "The log was altered: the hash chain breaks at entry"
                    ))
                    " #" (id)
                }
            }
        }
        form method="get" action="/admin/audit" class="filters" {
            label for="q" { (t.s("Tìm", "Search")) }
            " "
            input id="q" name="q" value=(query.q);
            " "
            label for="from" { (t.s("Từ ngày", "From")) }
            " "
            input id="from" name="from" type="date" value=(query.from);
            " "
            label for="to" { (t.s("Đến ngày", "To")) }
            " "
            input id="to" name="to" type="date" value=(query.to);
            " "
            button type="submit" { (t.s("Lọc", "Filter")) }
        }
        p {
            (found.rows.len()) " " (t.s("mục khớp", "matching")) ", "
            (found.rows.len().min(SHOWN)) " " (t.s("mục mới nhất được hiện", "newest shown"))
            " — "
            a href=(csv_link) id="audit-csv" { (t.s("Xuất CSV (mọi mục khớp)", "Export CSV (every match)")) }
        }
        div class="scroll" {
            table class="grid" id="audit" {
                thead {
                    tr {
                        th scope="col" { "#" }
                        th scope="col" { (t.s("Thời gian", "Time")) }
                        th scope="col" { (t.s("Người thực hiện", "Actor")) }
                        th scope="col" { (t.s("Hành động", "Action")) }
                        th scope="col" { (t.s("Đối tượng", "Target")) }
                        th scope="col" { (t.s("Chi tiết", "Details")) }
                    }
                }
                tbody {
                    @for r in found.rows.iter().rev().take(SHOWN) {
                        tr {
                            td { (r.id) }
                            td { (date_time(r.at)) }
                            td { (r.actor) }
                            td { (r.action) }
                            td { (r.target) }
                            td { code { (r.after.as_deref().unwrap_or("").chars().take(160).collect::<String>()) } }
                        }
                    }
                }
            }
        }
        h2 { (t.s("Tài khoản ngoại lệ", "Exception accounts")) }
        p {
            (t.s(
                "Hộp thư không phải của một người trong danh bạ (hopthu account add … --exception), với lý do",
                "Mailboxes that are no person of the directory (hopthu account add … --exception), with their reason"
            ))
        }
        div class="scroll" {
            table class="grid" id="exceptions" {
                thead {
                    tr {
                        th scope="col" { (t.s("Địa chỉ", "Address")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Lý do", "Reason")) }
                        th scope="col" { (t.s("Người tạo", "Created by")) }
                        th scope="col" { (t.s("Thời gian", "Time")) }
                    }
                }
                tbody {
                    @for e in &exceptions {
                        tr {
                            td { (e.address) }
                            td { (e.display_name) }
                            td { (e.reason) }
                            td { (e.created_by) }
                            td { (date_time(e.created_at)) }
                        }
                    }
                }
            }
        }
    };
    c.page("/admin/audit", t.s("Nhật ký kiểm tra", "Audit log"), body)
}
