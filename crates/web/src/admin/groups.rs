//! `/admin/groups`: the group addresses the administrator may see (a unit officer: the groups of
//! units in their subtree; the focal unit and an inspector: every group), with the form that
//! creates one and a button that deletes one. Every rule (a free address, the unit in scope, a
//! province-wide or hand-made group for the focal unit only, members and senders) is core's
//! `groups.rs`; a refusal comes back as the console's error page and nothing is changed.

use axum::Form;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::{get, post};
use hopthu_core::GroupRequest;
use hopthu_core::groups::{GroupSenders, GroupView, senders_text};
use maud::{Markup, html};
use serde::Deserialize;

use super::{Console, admin_form_or_return, admin_or_return};
use crate::AppState;
use crate::html::{T, date_time, see_other};

pub(super) fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/groups", get(list).post(create))
        .route("/admin/groups/delete", post(delete))
}

fn senders_label(t: T, g: &GroupView) -> String {
    match g.group.senders {
        GroupSenders::Anyone => t.s("Mọi người", "Anyone").to_string(),
        GroupSenders::Members => t.s("Thành viên nhóm", "Members").to_string(),
        GroupSenders::Province => t
            .s(
                "Cán bộ trong tỉnh (đã đăng nhập)",
                "The province (signed in)",
            )
            .to_string(),
        GroupSenders::Named => senders_text(&g.group),
    }
}

fn rule_label(t: T, g: &GroupView) -> Markup {
    html! {
        @match (&g.unit, g.group.heads) {
            (Some(u), true) => { (t.s("Lãnh đạo của", "Heads of")) " " (u.name) " (" (u.code) ")" }
            (Some(u), false) => { (t.s("Cán bộ của", "People of")) " " (u.name) " (" (u.code) ")" }
            (None, true) => { (t.s("Mọi lãnh đạo đơn vị trong tỉnh", "Every head of unit in the province")) }
            (None, false) => {}
        }
        @if g.group.subtree { " " (t.s("và các đơn vị trực thuộc", "and its subtree")) }
        @if !g.group.members.is_empty() {
            @if g.unit.is_some() || g.group.heads { br; }
            (t.s("Thêm", "Plus")) ": " (g.group.members.join(", "))
        }
    }
}

async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let c = admin_or_return!(state, headers);
    let groups = match state.core.groups(&c.actor).await {
        Ok(g) => g,
        Err(e) => return c.error(&e),
    };
    let units = match state.core.units_in_scope(&c.actor).await {
        Ok(u) => u,
        Err(e) => return c.error(&e),
    };
    page(&c, &groups, &units)
}

fn page(
    c: &Console,
    groups: &[GroupView],
    units: &[hopthu_core::directory::UnitRecord],
) -> Response {
    let t = c.t();
    let body = html! {
        h1 { (t.s("Nhóm thư", "Group addresses")) }
        p class="muted" {
            (t.s(
                "Thư gửi tới một nhóm được lưu một lần và chuyển tới hộp thư của từng thành viên; thành viên lấy theo danh bạ lúc thư đến.",
                "Mail to a group is stored once and delivered to each member's mailbox; members are read from the directory when mail arrives."
            ))
        }
        div class="scroll" {
            table class="grid" id="groups" {
                thead {
                    tr {
                        th scope="col" { (t.s("Địa chỉ", "Address")) }
                        th scope="col" { (t.s("Tên", "Name")) }
                        th scope="col" { (t.s("Thành viên", "Members")) }
                        th scope="col" { (t.s("Ai được gửi", "Who may send")) }
                        th scope="col" { (t.s("Tạo lúc", "Created")) }
                        th scope="col" { (t.s("Thao tác", "Actions")) }
                    }
                }
                tbody {
                    @for g in groups {
                        tr data-group=(g.group.address) {
                            td { (g.group.address) }
                            td { (g.group.name) }
                            td { (rule_label(t, g)) }
                            td data-senders=(g.group.senders.as_str()) { (senders_label(t, g)) }
                            td { (date_time(g.group.created_at)) br; (g.group.created_by) }
                            td {
                                @if !c.actor.is_inspector() {
                                    form method="post" action="/admin/groups/delete" class="row" {
                                        (c.csrf_input())
                                        input type="hidden" name="address" value=(g.group.address);
                                        button type="submit" class="danger" aria-label={ (t.s("Xóa nhóm", "Delete the group")) " " (g.group.address) } {
                                            (t.s("Xóa", "Delete"))
                                        }
                                    }
                                }
                            }
                        }
                    }
                    @if groups.is_empty() {
                        tr { td colspan="6" { (t.s("Chưa có nhóm thư nào.", "No group yet.")) } }
                    }
                }
            }
        }
        @if !c.actor.is_inspector() {
            h2 id="new-group" { (t.s("Tạo nhóm thư", "New group")) }
            form method="post" action="/admin/groups" class="stack" id="group-form" aria-labelledby="new-group" {
                (c.csrf_input())
                label for="group-address" { (t.s("Địa chỉ nhóm", "Group address")) }
                input id="group-address" name="address" type="email" required;
                label for="group-name" { (t.s("Tên nhóm", "Name")) }
                input id="group-name" name="name" required maxlength="200";
                label for="group-unit" { (t.s("Đơn vị", "Unit")) }
                select id="group-unit" name="unit" {
                    @if c.actor.is_focal() {
                        option value="" { (t.s("— Không theo đơn vị —", "— No unit —")) }
                    }
                    @for u in units {
                        option value=(u.code) { (u.code) " — " (u.name) }
                    }
                }
                label {
                    input type="checkbox" name="subtree" value="1" id="group-subtree";
                    " " (t.s("Gồm cả các đơn vị trực thuộc", "Include the units below it"))
                }
                label {
                    input type="checkbox" name="heads" value="1" id="group-heads";
                    " " (t.s("Chỉ lãnh đạo đơn vị", "Only heads of units"))
                }
                label for="group-members" { (t.s("Thêm thành viên (địa chỉ, mỗi dòng một địa chỉ)", "Extra members (addresses, one per line)")) }
                textarea id="group-members" name="members" rows="3" {}
                label for="group-senders" { (t.s("Ai được gửi tới nhóm", "Who may send to the group")) }
                select id="group-senders" name="senders" {
                    option value="anyone" { (t.s("Mọi người", "Anyone")) }
                    option value="members" { (t.s("Thành viên nhóm", "Members")) }
                    option value="province" { (t.s("Cán bộ trong tỉnh (đã đăng nhập)", "The province (signed in)")) }
                    option value="named" { (t.s("Các địa chỉ dưới đây", "The addresses below")) }
                }
                label for="group-named" { (t.s("Địa chỉ được gửi (cách nhau bằng dấu phẩy)", "Allowed senders (comma separated)")) }
                input id="group-named" name="named";
                button type="submit" class="primary" id="create-group" { (t.s("Tạo nhóm", "Create")) }
            }
        }
    };
    c.page("/admin/groups", t.s("Nhóm thư", "Group addresses"), body)
}

#[derive(Deserialize, Default)]
struct CreateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    subtree: Option<String>,
    #[serde(default)]
    heads: Option<String>,
    #[serde(default)]
    members: String,
    #[serde(default)]
    senders: String,
    #[serde(default)]
    named: String,
}

async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CreateForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    let senders = if form.senders == "named" {
        form.named.clone()
    } else {
        form.senders.clone()
    };
    let request = GroupRequest {
        address: form.address.trim().to_string(),
        name: form.name,
        unit: Some(form.unit).filter(|u| !u.trim().is_empty()),
        subtree: form.subtree.is_some(),
        heads: form.heads.is_some(),
        members: form
            .members
            .split(['\n', ',', ';'])
            .map(str::trim)
            .filter(|m| !m.is_empty())
            .map(str::to_string)
            .collect(),
        senders,
    };
    match state.core.create_group(&c.actor, &request).await {
        Ok(_) => see_other("/admin/groups"),
        Err(e) => c.error(&e),
    }
}

#[derive(Deserialize, Default)]
struct DeleteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    address: String,
}

async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Response {
    let c = admin_form_or_return!(state, headers, &form.csrf);
    match state.core.delete_group(&c.actor, form.address.trim()).await {
        Ok(()) => see_other("/admin/groups"),
        Err(e) => c.error(&e),
    }
}
