//! A unit's mailbox on its console page (Đ12): its owner (the unit's head), its delegates with
//! their rights, a form to grant rights and a button to revoke them (both through core's
//! `grant_unit_delegate` / `revoke_unit_delegate` with the administrator's actor, so a unit
//! IT officer acts only within their subtree), and the newest rows of its audit trail: grants,
//! revocations, handovers and what each person did in it.

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Form, Router, routing::post};
use hopthu_core::UnitMailboxOverview;
use hopthu_core::directory::UnitRecord;
use hopthu_model::{DelegateRight, DelegateRights};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, admin_form_or_return, seg};
use crate::AppState;
use crate::html::{T, date_time, see_other, url};

/// Audit rows shown on the unit page, newest first.
pub(crate) const AUDIT_SHOWN: usize = 100;

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/units/{code}/delegates", post(grant))
        .route("/admin/units/{code}/delegates/revoke", post(revoke))
}

/// The label of a right, Vietnamese first.
fn right_label(t: T, right: DelegateRight) -> &'static str {
    match right {
        DelegateRight::Read => t.s("Đọc", "Read"),
        DelegateRight::Manage => t.s("Quản lý (chuyển, xóa thư)", "Manage (move, delete)"),
        DelegateRight::SendAs => t.s("Gửi với danh nghĩa đơn vị", "Send as the unit"),
        DelegateRight::SendOnBehalf => t.s("Gửi thay mặt đơn vị", "Send on behalf of the unit"),
    }
}

/// The form field of a right's checkbox.
fn field(right: DelegateRight) -> &'static str {
    match right {
        DelegateRight::Read => "read",
        DelegateRight::Manage => "manage",
        DelegateRight::SendAs => "send_as",
        DelegateRight::SendOnBehalf => "send_on_behalf",
    }
}

/// What an audit row of a unit mailbox records, Vietnamese first; the action itself when it is
/// not one of these.
fn action_label(t: T, action: &str) -> &str {
    match action.strip_prefix("unit_mailbox.").unwrap_or(action) {
        "grant" => t.s("Giao quyền", "Rights granted"),
        "revoke" => t.s("Thu hồi quyền", "Rights revoked"),
        "handover" => t.s("Bàn giao cho lãnh đạo mới", "Handed over to a new head"),
        "read" => t.s("Đọc thư", "Read"),
        "delete" => t.s("Xóa thư", "Deleted"),
        "expunge" => t.s("Dọn thư đã xóa", "Expunged"),
        "move" => t.s("Chuyển thư", "Moved"),
        "copy" => t.s("Sao chép thư", "Copied"),
        "append" => t.s("Thêm thư", "Added"),
        "send_as" => t.s("Gửi với danh nghĩa đơn vị", "Sent as the unit"),
        "send_on_behalf" => t.s("Gửi thay mặt đơn vị", "Sent on behalf of the unit"),
        _ => action,
    }
}

fn rights_text(t: T, rights: DelegateRights) -> String {
    rights
        .iter()
        .map(|r| right_label(t, r))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The unit mailbox section of the unit page (`notice`: what the last form did).
pub(super) fn section(
    c: &Console,
    unit: &UnitRecord,
    overview: &UnitMailboxOverview,
    notice: Option<Markup>,
) -> Markup {
    let t = c.t();
    let code = seg(&unit.code);
    html! {
        section aria-labelledby="delegation" id="unit-mailbox" {
            h2 id="delegation" { (t.s("Người dùng hộp thư đơn vị", "Who uses the unit mailbox")) }
            @if let Some(notice) = notice { (notice) }
            p {
                (t.s("Chủ hộp thư (lãnh đạo đơn vị)", "Owner (the unit's head)")) ": "
                @match &overview.owner {
                    Some(owner) => { strong id="owner" { (owner) } }
                    None => { span id="owner" class="muted" { (t.s("chưa có", "none yet")) } }
                }
            }
            div class="scroll" {
                table class="grid" id="delegates" {
                    caption class="sr" { (t.s("Người được giao quyền", "Delegates")) }
                    thead {
                        tr {
                            th scope="col" { (t.s("Người được giao quyền", "Delegate")) }
                            th scope="col" { (t.s("Quyền", "Rights")) }
                            th scope="col" { (t.s("Người giao", "Granted by")) }
                            th scope="col" { (t.s("Thời gian", "When")) }
                            th scope="col" { (t.s("Thao tác", "Actions")) }
                        }
                    }
                    tbody {
                        @for d in &overview.delegates {
                            tr data-delegate=(d.delegate_address) {
                                td { (d.delegate_address) }
                                td class="rights" data-rights=(d.rights.to_string()) { (rights_text(t, d.rights)) }
                                td { (d.granted_by) }
                                td { (date_time(d.granted_at)) }
                                td {
                                    form method="post" action={ "/admin/units/" (code) "/delegates/revoke" } class="row" {
                                        (c.csrf_input())
                                        input type="hidden" name="person" value=(d.delegate_address);
                                        button type="submit" class="danger" aria-label={ (t.s("Thu hồi quyền của", "Revoke the rights of")) " " (d.delegate_address) } {
                                            (t.s("Thu hồi quyền", "Revoke"))
                                        }
                                    }
                                }
                            }
                        }
                        @if overview.delegates.is_empty() {
                            tr { td colspan="5" { (t.s("Chưa giao quyền cho ai.", "No delegates yet.")) } }
                        }
                    }
                }
            }
            h3 { (t.s("Giao quyền", "Grant rights")) }
            form method="post" action={ "/admin/units/" (code) "/delegates" } class="stack" id="grant-form" {
                (c.csrf_input())
                label for="delegate-person" { (t.s("Địa chỉ thư của cán bộ", "The person's address")) }
                input id="delegate-person" name="person" type="email" required;
                fieldset {
                    legend { (t.s("Quyền (giao lại thì thay quyền cũ)", "Rights (a new grant replaces the old ones)")) }
                    @for right in DelegateRight::ALL {
                        label {
                            input type="checkbox" name=(field(right)) value="1" id={ "right-" (field(right)) };
                            " " (right_label(t, right))
                        }
                    }
                }
                button type="submit" class="primary" id="grant" { (t.s("Giao quyền", "Grant")) }
            }
            (audit_table(t, overview))
        }
    }
}

/// The unit mailbox's log, newest first: for the console's unit page and the owner's page in
/// the webmail (`/unit-mailbox/log`).
pub(crate) fn audit_table(t: T, overview: &UnitMailboxOverview) -> Markup {
    html! {
            h3 id="unit-audit-title" { (t.s("Nhật ký hộp thư đơn vị", "Unit mailbox log")) }
            p class="muted" {
                (t.s("Mới nhất trước, tối đa", "Newest first, at most")) " " (AUDIT_SHOWN) " "
                (t.s("mục", "entries"))
            }
            div class="scroll" {
                table class="grid" id="unit-audit" aria-labelledby="unit-audit-title" {
                    thead {
                        tr {
                            th scope="col" { (t.s("Thời gian", "Time")) }
                            th scope="col" { (t.s("Người thực hiện", "Actor")) }
                            th scope="col" { (t.s("Hành động", "Action")) }
                            th scope="col" { (t.s("Chi tiết", "Details")) }
                        }
                    }
                    tbody {
                        @for r in &overview.audit {
                            tr data-action=(r.action) {
                                td { (date_time(r.at)) }
                                td { (r.actor) }
                                td { (action_label(t, &r.action)) }
                                td {
                                    code {
                                        (r.after.as_deref().or(r.before.as_deref()).unwrap_or("").chars().take(200).collect::<String>())
                                    }
                                }
                            }
                        }
                        @if overview.audit.is_empty() {
                            tr { td colspan="4" { (t.s("Chưa có mục nào.", "Nothing yet.")) } }
                        }
                    }
                }
            }
    }
}

#[derive(Deserialize, Default)]
struct GrantForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    read: Option<String>,
    #[serde(default)]
    manage: Option<String>,
    #[serde(default)]
    send_as: Option<String>,
    #[serde(default)]
    send_on_behalf: Option<String>,
}

/// The unit of the page by its code, within the actor's scope, with its mailbox's address.
async fn unit_with_mailbox(
    state: &AppState,
    c: &Console,
    code: &str,
) -> Result<UnitRecord, Response> {
    let unit = state
        .core
        .unit_in_scope(&c.actor, code)
        .await
        .map_err(|e| c.error(&e))?;
    if unit.account.is_none() {
        return Err(c.error(&hopthu_core::Error::invalid(
            c.t()
                .s("Đơn vị chưa có hộp thư.", "The unit has no mailbox."),
        )));
    }
    Ok(unit)
}

async fn grant(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<GrantForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let t = c.t();
    let unit = match unit_with_mailbox(&state, &c, &code).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let rights: Vec<&str> = [
        (&form.read, DelegateRight::Read),
        (&form.manage, DelegateRight::Manage),
        (&form.send_as, DelegateRight::SendAs),
        (&form.send_on_behalf, DelegateRight::SendOnBehalf),
    ]
    .into_iter()
    .filter(|(checked, _)| checked.is_some())
    .map(|(_, right)| right.as_str())
    .collect();
    if rights.is_empty() {
        return c.error(&hopthu_core::Error::invalid(t.s(
            "Hãy chọn ít nhất một quyền (muốn bỏ mọi quyền thì dùng nút Thu hồi quyền).",
            "Choose at least one right (to take every right away, use Revoke).",
        )));
    }
    let person = form.person.trim();
    match state
        .core
        .grant_unit_delegate(&c.actor, &unit.address, person, &rights.join(","))
        .await
    {
        Ok(d) => see_other(&format!(
            "/admin/units/{}?granted={}#unit-mailbox",
            seg(&unit.code),
            url(&d.delegate_address)
        )),
        Err(e) => c.error(&e),
    }
}

#[derive(Deserialize, Default)]
struct RevokeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    person: String,
}

async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(code): Path<String>,
    Form(form): Form<RevokeForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let unit = match unit_with_mailbox(&state, &c, &code).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let person = form.person.trim();
    match state
        .core
        .revoke_unit_delegate(&c.actor, &unit.address, person)
        .await
    {
        Ok(()) => see_other(&format!(
            "/admin/units/{}?revoked={}#unit-mailbox",
            seg(&unit.code),
            url(person)
        )),
        Err(e) => c.error(&e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hopthu_core::web_session::Language;

    #[test]
    fn every_right_and_action_has_a_vietnamese_label() {
        let vi = T(Language::Vi);
        for right in DelegateRight::ALL {
            assert_ne!(right_label(vi, right), right.as_str());
            assert!(
                field(right)
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
        }
        for action in [
            "grant",
            "revoke",
            "handover",
            "read",
            "delete",
            "expunge",
            "move",
            "copy",
            "append",
            "send_as",
            "send_on_behalf",
        ] {
            let full = format!("unit_mailbox.{action}");
            assert_ne!(action_label(vi, &full), full.as_str(), "{action}");
        }
        assert_eq!(action_label(vi, "unit_mailbox.other"), "unit_mailbox.other");
        assert_eq!(
            rights_text(vi, DelegateRights::parse("read,send-as").unwrap()),
            "Đọc, Gửi với danh nghĩa đơn vị"
        );
    }
}
