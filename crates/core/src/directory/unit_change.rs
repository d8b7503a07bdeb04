//! Changes to the organisation tree as change requests (Đ6 after go-live), filed and approved
//! like a person's: `unit_create`, `unit_rename`, `unit_move`, `unit_merge`, `unit_dissolve`.
//!
//! - A created unit gets its mailbox and address by the rules (the import services).
//! - A renamed unit gets the address the rules give its new name, unless the name folds to the
//!   same letters; the old address becomes an alias, so mail to it still arrives.
//! - A moved unit keeps its address (R12: an address once given is not changed).
//! - A merged unit's people and child units move to the receiving unit, its mailbox's folders
//!   go into that mailbox under `Lưu trữ/<old local part>/`, its address becomes an alias.
//! - A dissolved unit must be empty of people and units; its mailbox is revoked (data kept).
//!
//! Each approval is one lifecycle write (decision, effects, audit rows), then notices to the
//! units concerned.

use std::sync::Arc;

use hopthu_store::{
    ChangeState, Decision, LifecycleEffect, LifecycleWrite, NewChange, UnitEffect, UnitRecord,
};
use serde::{Deserialize, Serialize};

use super::lifecycle::{Approved, ChangeInput, ChangeKind};
use super::notice::{NoticeKind, NoticeLine};
use super::reorganise::{ARCHIVE_FOLDER, renamed_address};
use super::{ImportRequest, ImportSource, RowStatus, csv_field};
use crate::admin::in_scope;
use crate::{Actor, Core, Error, ErrorKind, NewAudit, Result, now};

/// What a unit change request keeps besides its columns.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct UnitPayload {
    /// The unit concerned (created: its new code).
    pub(super) unit_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) unit_kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) unit_name: Option<String>,
    /// The parent (create, move) or the receiving unit (merge), as shown in the change view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) target_unit: Option<String>,
}

fn text(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(hopthu_model::text::clean)
        .filter(|s| !s.is_empty())
}

impl Core {
    /// Files a unit change after checking it; the scope is the unit concerned (created: its
    /// parent), so a unit IT officer files within their subtree.
    pub(super) async fn file_unit_change(
        &self,
        actor: &Actor,
        kind: ChangeKind,
        input: &ChangeInput,
    ) -> Result<super::ChangeView> {
        if input.person.is_some() || input.full_name.is_some() || !input.keep_delegates.is_empty() {
            return Err(Error::invalid(format!(
                "{}: không nhận person/full_name/keep_delegates / takes no person, full_name or keep_delegates",
                kind.as_str()
            )));
        }
        let units = self.store.units().await?;
        let find = |code: &str| -> Result<UnitRecord> {
            units
                .iter()
                .find(|u| u.code == code)
                .cloned()
                .ok_or_else(|| {
                    Error::not_found(format!(
                        "{code}: không có đơn vị này / no such unit in the directory"
                    ))
                })
        };
        let required = |value: &Option<String>, what: &str| -> Result<String> {
            text(value).ok_or_else(|| {
                Error::invalid(format!(
                    "{}: thiếu {what} / {what} is required",
                    kind.as_str()
                ))
            })
        };
        let mut payload = UnitPayload::default();
        let scope_unit: UnitRecord = match kind {
            ChangeKind::UnitCreate => {
                let code = required(&input.code, "code")?;
                let unit_kind = required(&input.unit_kind, "unit_kind (--kind)")?;
                let name = required(&input.name, "name")?;
                if units.iter().any(|u| u.code == code) {
                    return Err(Error::new(
                        ErrorKind::AlreadyExists,
                        format!("{code}: mã đã có / the code is taken"),
                    ));
                }
                if self.config.naming.kind(&unit_kind).is_none() {
                    return Err(Error::invalid(format!(
                        "{unit_kind}: loại đơn vị không có trong cấu hình / not a unit kind of [naming] ({})",
                        self.config
                            .naming
                            .kinds
                            .iter()
                            .map(|k| k.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                payload.unit_code = code;
                payload.unit_kind = Some(unit_kind);
                payload.unit_name = Some(name);
                match text(&input.parent) {
                    Some(parent) => {
                        let parent = find(&parent)?;
                        payload.target_unit = Some(parent.code.clone());
                        parent
                    }
                    None => {
                        self.authorize_focal(actor)?;
                        self.focal_unit_record().await?
                    }
                }
            }
            ChangeKind::UnitRename => {
                let unit = find(&required(&input.unit, "unit")?)?;
                let name = required(&input.name, "name")?;
                if super::import::display_name(&self.config.naming, &unit.kind, &name) == unit.name
                {
                    return Err(Error::invalid(format!(
                        "{}: tên không đổi / the name is the same",
                        unit.code
                    )));
                }
                payload.unit_code = unit.code.clone();
                payload.unit_name = Some(name);
                unit
            }
            ChangeKind::UnitMove => {
                let unit = find(&required(&input.unit, "unit")?)?;
                let parent = find(&required(&input.parent, "parent")?)?;
                if unit.parent == Some(parent.id) {
                    return Err(Error::invalid(format!(
                        "{}: đã thuộc {} / is already under {}",
                        unit.code, parent.code, parent.code
                    )));
                }
                if in_scope(hopthu_store::AdminScope::Unit(unit.id), parent.id, &units) {
                    return Err(Error::invalid(format!(
                        "{}: không thể chuyển vào chính nó hay đơn vị cấp dưới / cannot move under itself or its own subtree",
                        unit.code
                    )));
                }
                // The officer must hold both ends.
                self.authorize(actor, parent.id).await?;
                payload.unit_code = unit.code.clone();
                payload.target_unit = Some(parent.code.clone());
                unit
            }
            ChangeKind::UnitMerge => {
                let unit = find(&required(&input.unit, "unit")?)?;
                let into = find(&required(&input.into, "into")?)?;
                if into.id == unit.id {
                    return Err(Error::invalid(format!(
                        "{}: không thể hợp nhất vào chính nó / cannot merge into itself",
                        unit.code
                    )));
                }
                if in_scope(hopthu_store::AdminScope::Unit(unit.id), into.id, &units) {
                    return Err(Error::invalid(format!(
                        "{}: không thể hợp nhất vào đơn vị cấp dưới của nó / cannot merge into its own subtree",
                        unit.code
                    )));
                }
                if into.account.is_none() {
                    return Err(Error::invalid(format!(
                        "{}: đơn vị nhận không có hộp thư / the receiving unit has no mailbox",
                        into.code
                    )));
                }
                self.authorize(actor, into.id).await?;
                payload.unit_code = unit.code.clone();
                payload.target_unit = Some(into.code.clone());
                unit
            }
            ChangeKind::UnitDissolve => {
                let unit = find(&required(&input.unit, "unit")?)?;
                self.check_empty(&unit, &units).await?;
                payload.unit_code = unit.code.clone();
                unit
            }
            _ => return Err(Error::new(ErrorKind::Internal, "not a unit change")),
        };
        self.authorize(actor, scope_unit.id).await?;
        if self.store.changes().await?.iter().any(|c| {
            c.state == ChangeState::Filed
                && c.kind.starts_with("unit_")
                && serde_json::from_str::<UnitPayload>(&c.payload)
                    .is_ok_and(|p| p.unit_code == payload.unit_code)
        }) {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!(
                    "{}: đã có yêu cầu đang chờ / a request for this unit is already waiting",
                    payload.unit_code
                ),
            ));
        }
        let payload_json = serde_json::to_string(&payload)
            .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
        let at = now();
        let id = self
            .store
            .file_change(
                &NewChange {
                    kind: kind.as_str().into(),
                    unit: scope_unit.id,
                    person: None,
                    payload: payload_json.clone(),
                    reason: hopthu_model::text::clean(&input.reason),
                    filed_by: actor.name.clone(),
                    filed_at: at,
                },
                &[NewAudit {
                    actor: actor.name.clone(),
                    action: format!("change.file.{}", kind.as_str()),
                    target: "change:{id}".into(),
                    before: Some(unit_json(&scope_unit)),
                    after: Some(payload_json),
                }],
            )
            .await?;
        self.change(actor, id).await
    }

    /// People or units still in `unit`: a dissolution waits until they are moved.
    async fn check_empty(&self, unit: &UnitRecord, units: &[UnitRecord]) -> Result<()> {
        let people = self
            .store
            .people()
            .await?
            .iter()
            .filter(|p| p.unit == unit.id)
            .count();
        let children = units.iter().filter(|u| u.parent == Some(unit.id)).count();
        if people > 0 || children > 0 {
            return Err(Error::invalid(format!(
                "{}: còn {people} người và {children} đơn vị trực thuộc, hãy chuyển đi trước / still has {people} person(s) and {children} unit(s): move them first",
                unit.code
            )));
        }
        Ok(())
    }

    /// The configured focal unit's record (where a top-level unit's request is kept).
    async fn focal_unit_record(&self) -> Result<UnitRecord> {
        let code = self.config.lifecycle.focal_unit.clone().ok_or_else(|| {
            Error::invalid(
                "đơn vị cấp cao nhất cần [lifecycle] focal_unit / a unit without a parent needs [lifecycle] focal_unit configured",
            )
        })?;
        self.unit_by_code(&code).await
    }

    /// Approves and applies a filed unit change, then issues its notices.
    pub(super) async fn approve_unit_change(
        &self,
        actor: &Actor,
        record: &hopthu_store::ChangeRecord,
        kind: ChangeKind,
        note: &str,
    ) -> Result<Approved> {
        let payload: UnitPayload = serde_json::from_str(&record.payload)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("change payload: {e}")))?;
        let units = self.store.units().await?;
        let find = |code: &str| -> Result<UnitRecord> {
            units
                .iter()
                .find(|u| u.code == code)
                .cloned()
                .ok_or_else(|| {
                    Error::invalid(format!(
                        "{code}: đơn vị không còn trong danh bạ / the unit is no longer in the directory"
                    ))
                })
        };
        let mut effects = Vec::new();
        let mut credential = None;
        let mut before = None;
        let after;
        // (unit to notify, lines)
        let mut notices: Vec<(String, Vec<NoticeLine>)> = Vec::new();
        match kind {
            ChangeKind::UnitCreate => {
                let (unit, cred) = self.create_unit(actor, &payload).await?;
                credential = cred;
                after = unit_json(&unit);
                let line = NoticeLine {
                    full_name: unit.name.clone(),
                    address: unit.address.clone(),
                    reason: "Thành lập đơn vị; cấp hộp thư đơn vị".into(),
                };
                notices.push((unit.code.clone(), vec![line.clone()]));
                if let Some(parent) = &payload.target_unit {
                    notices.push((parent.clone(), vec![line]));
                }
            }
            ChangeKind::UnitRename => {
                let unit = find(&payload.unit_code)?;
                let name = payload.unit_name.clone().unwrap_or_default();
                let display = super::import::display_name(&self.config.naming, &unit.kind, &name);
                let snapshot = self.snapshot().await?;
                let (address, _) = renamed_address(
                    &self.config.naming,
                    &self.config.domain,
                    &snapshot,
                    &unit,
                    &name,
                )
                .map_err(Error::invalid)?;
                before = Some(unit_json(&unit));
                effects.push(UnitEffect::Rename {
                    unit: unit.id,
                    code: unit.code.clone(),
                    kind: unit.kind.clone(),
                    name: display.clone(),
                });
                let reason = if address != unit.address {
                    effects.push(UnitEffect::Readdress {
                        unit: unit.id,
                        address: address.clone(),
                    });
                    format!(
                        "Đổi tên từ \"{}\"; địa chỉ mới, địa chỉ cũ {} vẫn nhận thư (bí danh)",
                        unit.name, unit.address
                    )
                } else {
                    format!("Đổi tên từ \"{}\"; địa chỉ không đổi", unit.name)
                };
                after = serde_json::json!({
                    "code": unit.code, "name": display, "address": address, "kind": unit.kind,
                })
                .to_string();
                notices.push((
                    unit.code.clone(),
                    vec![NoticeLine {
                        full_name: display,
                        address,
                        reason,
                    }],
                ));
            }
            ChangeKind::UnitMove => {
                let unit = find(&payload.unit_code)?;
                let parent = find(payload.target_unit.as_deref().unwrap_or_default())?;
                before = Some(unit_json(&unit));
                effects.push(UnitEffect::Reparent {
                    unit: unit.id,
                    parent_code: Some(parent.code.clone()),
                });
                after = serde_json::json!({ "code": unit.code, "parent": parent.code }).to_string();
                let line = NoticeLine {
                    full_name: unit.name.clone(),
                    address: unit.address.clone(),
                    reason: format!("Chuyển về trực thuộc {}; địa chỉ không đổi", parent.name),
                };
                notices.push((unit.code.clone(), vec![line.clone()]));
                notices.push((parent.code.clone(), vec![line.clone()]));
                if let Some(old) = unit.parent.and_then(|p| units.iter().find(|u| u.id == p)) {
                    notices.push((old.code.clone(), vec![line]));
                }
            }
            ChangeKind::UnitMerge => {
                let unit = find(&payload.unit_code)?;
                let into = find(payload.target_unit.as_deref().unwrap_or_default())?;
                before = Some(unit_json(&unit));
                let folder = format!(
                    "{ARCHIVE_FOLDER}/{}",
                    unit.address.split('@').next().unwrap_or_default()
                );
                effects.push(UnitEffect::MovePeople {
                    from: unit.id,
                    into: into.code.clone(),
                });
                for child in units.iter().filter(|u| u.parent == Some(unit.id)) {
                    effects.push(UnitEffect::Reparent {
                        unit: child.id,
                        parent_code: Some(into.code.clone()),
                    });
                }
                effects.push(UnitEffect::Merge {
                    from: unit.id,
                    into: into.code.clone(),
                    folder_prefix: folder.clone(),
                });
                after = serde_json::json!({
                    "into": into.code, "alias_of": into.address, "folder": folder,
                })
                .to_string();
                let mut lines = vec![NoticeLine {
                    full_name: unit.name.clone(),
                    address: unit.address.clone(),
                    reason: format!(
                        "Hợp nhất vào {}; thư đến địa chỉ này chuyển về {}; thư cũ ở thư mục {}",
                        into.name, into.address, folder
                    ),
                }];
                for p in self
                    .store
                    .people()
                    .await?
                    .iter()
                    .filter(|p| p.unit == unit.id)
                {
                    lines.push(NoticeLine {
                        full_name: p.full_name.clone(),
                        address: p.address.clone(),
                        reason: format!(
                            "Chuyển về {} (từ {}); địa chỉ không đổi",
                            into.name, unit.name
                        ),
                    });
                }
                notices.push((into.code.clone(), lines));
            }
            ChangeKind::UnitDissolve => {
                let unit = find(&payload.unit_code)?;
                self.check_empty(&unit, &units).await?;
                before = Some(unit_json(&unit));
                effects.push(UnitEffect::Dissolve { unit: unit.id });
                after = serde_json::json!({ "code": unit.code, "dissolved": true }).to_string();
                let line = NoticeLine {
                    full_name: unit.name.clone(),
                    address: unit.address.clone(),
                    reason: "Giải thể đơn vị; hộp thư đơn vị thu hồi, dữ liệu được lưu giữ".into(),
                };
                let told = unit
                    .parent
                    .and_then(|p| units.iter().find(|u| u.id == p))
                    .map(|u| u.code.clone())
                    .or_else(|| self.config.lifecycle.focal_unit.clone());
                if let Some(code) = told {
                    notices.push((code, vec![line]));
                }
            }
            _ => return Err(Error::new(ErrorKind::Internal, "not a unit change")),
        }
        let effects: Vec<LifecycleEffect> =
            effects.into_iter().map(LifecycleEffect::Unit).collect();
        let audit = [NewAudit {
            actor: actor.name.clone(),
            action: format!("change.approve.{}", kind.as_str()),
            target: format!("change:{}", record.id),
            before,
            after: Some(after),
        }];
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: now(),
                decision: Some(Decision {
                    change: record.id,
                    state: ChangeState::Approved,
                    by: actor.name.clone(),
                    note: Some(note.trim().to_string()).filter(|n| !n.is_empty()),
                    person: None,
                }),
                effects: &effects,
                warnings: &[],
                audit: &audit,
            })
            .await
            .map_err(|e| match e {
                hopthu_store::StoreError::Conflict(what) => Error::invalid(what),
                e => e.into(),
            })?;
        tracing::info!(change = record.id, kind = kind.as_str(), unit = %payload.unit_code, "unit change approved");
        let mut issued = Vec::new();
        let units = self.store.units().await?;
        for (code, lines) in notices {
            if let Some(unit) = units.iter().find(|u| u.code == code) {
                issued.push(
                    self.issue_notice(actor, NoticeKind::Reorganise, unit, &lines)
                        .await?,
                );
            }
        }
        Ok(Approved {
            change: self.change(actor, record.id).await?,
            credential,
            notices: issued,
        })
    }

    /// Creates a unit with its mailbox by the rules (the import services), or finds it when an
    /// earlier approval created it already.
    async fn create_unit(
        &self,
        actor: &Actor,
        p: &UnitPayload,
    ) -> Result<(UnitRecord, Option<super::Credential>)> {
        let units = format!(
            "kind,code,name,parent\n{},{},{},{}\n",
            csv_field(p.unit_kind.as_deref().unwrap_or_default()),
            csv_field(&p.unit_code),
            csv_field(p.unit_name.as_deref().unwrap_or_default()),
            csv_field(p.target_unit.as_deref().unwrap_or_default()),
        );
        let request = ImportRequest {
            units: ImportSource {
                name: "unit_create".into(),
                bytes: units.into_bytes(),
            },
            people: None,
            person_duplicates: None,
        };
        let plan = self
            .plan_import(&request)
            .await
            .map_err(|e| Error::invalid(e.to_string()))?;
        let existing = plan
            .rows
            .first()
            .is_some_and(|r| r.status == RowStatus::Existing);
        let credential = if existing {
            None
        } else {
            self.apply_import(actor, plan, Arc::new(|_| {}))
                .await?
                .credentials
                .into_iter()
                .next()
        };
        Ok((self.unit_by_code(&p.unit_code).await?, credential))
    }
}

fn unit_json(u: &UnitRecord) -> String {
    serde_json::json!({
        "code": u.code,
        "name": u.name,
        "kind": u.kind,
        "address": u.address,
    })
    .to_string()
}
