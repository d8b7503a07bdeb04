//! A reorganisation as a whole (Đ6 after go-live; the 2025 reform merged units and abolished
//! the district level): a file of the new units and a map `old_code,new_code` saying where
//! each unit of the directory goes.
//!
//! - A new unit **continues** a unit of the directory when that unit keeps its code, or is
//!   mapped to it under the same name (folded): the same row, mailbox and address, under the
//!   new code, kind and parent. The same code under another name continues the row with the
//!   address the rules give the new name; the old address becomes an alias.
//! - Every other new unit is **created** with its mailbox, its address by the rules against
//!   everything given (R10: a commune named like a retired district is prefixed).
//! - Every other unit of the directory is **merged** into the unit its map row names: its
//!   people move there, its mailbox's folders move into that mailbox under `Lưu trữ/<old
//!   local part>/`, its address becomes an alias of that unit's address.
//!
//! The dry run is the plan alone; the run is one lifecycle write (one transaction), then a
//! notice to every unit that continued, was created or received others.

use std::collections::{HashMap, HashSet};

use hopthu_model::naming::{self, ExistingUnit, Table, UnitInput};
use hopthu_store::{LifecycleEffect, LifecycleWrite, NewUnit, UnitEffect, UnitRecord};
use serde::Serialize;

use super::files::unit_rows;
use super::import::{Snapshot, display_name, hash_all, local_of, namespace, read_file};
use super::notice::{NoticeKind, NoticeLine};
use super::{Credential, ImportSource, MailboxKind};
use crate::{Actor, Core, Error, ErrorKind, NewAudit, Result, generate_password, now};

/// Where the folders of a merged unit's mailbox go in the receiving mailbox.
pub const ARCHIVE_FOLDER: &str = "Lưu trữ";

/// The two files of a reorganisation.
#[derive(Debug, Clone)]
pub struct ReorganiseRequest {
    /// The new units: `kind,code,name,parent` (as an import).
    pub units: ImportSource,
    /// `old_code,new_code`.
    pub map: ImportSource,
}

/// Why a reorganisation did not happen.
#[derive(Debug)]
pub enum ReorganiseError {
    /// The files are refused: every problem as `file:line: reason`. Nothing was written.
    Refused(Vec<String>),
    Failed(Error),
}

impl From<Error> for ReorganiseError {
    fn from(e: Error) -> Self {
        ReorganiseError::Failed(e)
    }
}

impl std::fmt::Display for ReorganiseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReorganiseError::Refused(problems) => f.write_str(&problems.join("\n")),
            ReorganiseError::Failed(e) => e.fmt(f),
        }
    }
}

/// What becomes of a unit of the new structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitFate {
    /// An existing unit goes on: same mailbox and address.
    Continues,
    /// An existing unit goes on under a new name and address; the old one is an alias.
    Renamed,
    /// A new unit with a new mailbox.
    Created,
}

/// One unit of the new structure.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedUnit {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub parent: Option<String>,
    pub address: String,
    pub fate: UnitFate,
    /// The directory's unit it continues.
    pub from: Option<String>,
    /// Its address before, when it changes.
    pub old_address: Option<String>,
    /// The units merged into it.
    pub merged: Vec<String>,
    /// People in it afterwards.
    pub people: usize,
    /// Remarks of the address rules.
    pub warnings: Vec<String>,
}

/// A unit of the directory merged into a unit of the new structure.
#[derive(Debug, Clone, Serialize)]
pub struct MergedUnit {
    pub code: String,
    pub name: String,
    /// Its address, an alias of `into_address` afterwards.
    pub address: String,
    pub into: String,
    pub into_address: String,
    /// People who move with it.
    pub people: usize,
    /// Where its mailbox's folders go in the receiving mailbox.
    pub folder: String,
}

/// A person whose unit changes.
#[derive(Debug, Clone, Serialize)]
pub struct PersonMove {
    pub address: String,
    pub full_name: String,
    pub from: String,
    pub to: String,
}

/// An address that becomes an alias.
#[derive(Debug, Clone, Serialize)]
pub struct AliasChange {
    pub address: String,
    pub target: String,
}

/// The whole reorganisation, before it is applied.
#[derive(Debug, Clone, Serialize)]
pub struct ReorganisePlan {
    pub units: Vec<PlannedUnit>,
    pub merged: Vec<MergedUnit>,
    pub people: Vec<PersonMove>,
    pub aliases: Vec<AliasChange>,
    /// Units of the directory before, and of the new structure.
    pub units_before: usize,
    pub units_after: usize,
}

/// What [`Core::apply_reorganisation`] did.
#[derive(Debug, Clone)]
pub struct ReorganiseApplied {
    pub plan: ReorganisePlan,
    /// The new unit mailboxes' one-time passwords.
    pub credentials: Vec<Credential>,
    /// Notices issued.
    pub notices: usize,
}

/// One row of the map.
struct MapRow {
    line: usize,
    old: String,
    new: String,
}

fn read_map(source: &ImportSource, problems: &mut Vec<String>) -> Vec<MapRow> {
    let sheet = match super::parse::read_sheet(&source.bytes) {
        Ok(sheet) => sheet,
        Err(p) => {
            problems.push(format!("{}:{}: {}", source.name, p.line, p.error));
            return Vec::new();
        }
    };
    let mut rows = Vec::new();
    let mut header: Option<(usize, usize)> = None;
    for row in &sheet {
        let fields: Vec<String> = row.fields.iter().map(|f| f.trim().to_string()).collect();
        let Some((old, new)) = header else {
            let find = |name: &str| fields.iter().position(|f| f.eq_ignore_ascii_case(name));
            match (find("old_code"), find("new_code")) {
                (Some(o), Some(n)) => header = Some((o, n)),
                _ => {
                    problems.push(format!(
                        "{}:{}: cần cột old_code,new_code / the header must name old_code,new_code (found {})",
                        source.name,
                        row.line,
                        fields.join(",")
                    ));
                    return Vec::new();
                }
            }
            continue;
        };
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        let get = |i: usize| fields.get(i).cloned().unwrap_or_default();
        let (o, n) = (get(old), get(new));
        if o.is_empty() || n.is_empty() {
            problems.push(format!(
                "{}:{}: thiếu mã / old_code and new_code are both required",
                source.name, row.line
            ));
            continue;
        }
        rows.push(MapRow {
            line: row.line,
            old: o,
            new: n,
        });
    }
    rows
}

impl Core {
    /// Reads the files and plans the reorganisation against the directory. Writes nothing: a
    /// dry run is this call alone.
    pub async fn plan_reorganisation(
        &self,
        request: &ReorganiseRequest,
    ) -> std::result::Result<ReorganisePlan, ReorganiseError> {
        let domain = self.config.domain.as_str();
        let mut problems = Vec::new();
        let mut import_problems = Vec::new();
        let new_units = read_file(
            &request.units,
            Table::Units,
            domain,
            unit_rows,
            &mut import_problems,
        );
        problems.extend(import_problems.iter().map(|p| p.to_string()));
        let map = read_map(&request.map, &mut problems);
        if !problems.is_empty() {
            return Err(ReorganiseError::Refused(problems));
        }
        let snapshot = self.snapshot().await?;
        let (plan, _) = plan_reorganisation(
            &self.config.naming,
            domain,
            &snapshot,
            &new_units,
            &map,
            (&request.units.name, &request.map.name),
        )
        .map_err(ReorganiseError::Refused)?;
        Ok(plan)
    }

    /// Plans again and applies the reorganisation in one transaction, then issues the notices.
    /// Focal unit only.
    pub async fn apply_reorganisation(
        &self,
        actor: &Actor,
        request: &ReorganiseRequest,
    ) -> std::result::Result<ReorganiseApplied, ReorganiseError> {
        self.authorize_focal(actor)?;
        let domain = self.config.domain.as_str();
        let mut problems = Vec::new();
        let new_units = read_file(
            &request.units,
            Table::Units,
            domain,
            unit_rows,
            &mut problems,
        );
        let mut refused: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let map = read_map(&request.map, &mut refused);
        if !refused.is_empty() {
            return Err(ReorganiseError::Refused(refused));
        }
        let snapshot = self.snapshot().await?;
        let (plan, steps) = plan_reorganisation(
            &self.config.naming,
            domain,
            &snapshot,
            &new_units,
            &map,
            (&request.units.name, &request.map.name),
        )
        .map_err(ReorganiseError::Refused)?;

        // One-time passwords of the new unit mailboxes, hashed before the transaction.
        let created: Vec<&PlannedUnit> = plan
            .units
            .iter()
            .filter(|u| u.fate == UnitFate::Created)
            .collect();
        let passwords: Vec<String> = created.iter().map(|_| generate_password()).collect();
        let hashes = {
            let passwords = passwords.clone();
            tokio::task::spawn_blocking(move || hash_all(&passwords, &|_| {}))
                .await
                .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))??
        };
        let new_rows: Vec<NewUnit> = created
            .iter()
            .zip(&hashes)
            .map(|(u, hash)| NewUnit {
                code: u.code.clone(),
                kind: u.kind.clone(),
                name: u.name.clone(),
                parent_code: u.parent.clone(),
                address: u.address.clone(),
                password_hash: hash.clone(),
                must_change_password: true,
            })
            .collect();
        let effects = steps.effects(new_rows, crate::mail::STANDARD_FOLDERS);
        let audit = reorganisation_audit(actor, &plan, &snapshot);
        self.store
            .write_lifecycle(&LifecycleWrite {
                at: now(),
                effects: &effects,
                audit: &audit,
                ..LifecycleWrite::default()
            })
            .await
            .map_err(|e| ReorganiseError::Failed(e.into()))?;
        tracing::info!(
            units = plan.units.len(),
            merged = plan.merged.len(),
            people = plan.people.len(),
            "directory reorganised"
        );

        let credentials = created
            .iter()
            .zip(passwords)
            .map(|(u, password)| Credential {
                unit_code: u.code.clone(),
                unit_name: u.name.clone(),
                kind: MailboxKind::Unit,
                name: u.name.clone(),
                position: None,
                address: u.address.clone(),
                password,
            })
            .collect();
        let notices = self.reorganisation_notices(actor, &plan).await?;
        Ok(ReorganiseApplied {
            plan,
            credentials,
            notices,
        })
    }

    /// A notice to every unit of the new structure that changed: what came to it.
    async fn reorganisation_notices(&self, actor: &Actor, plan: &ReorganisePlan) -> Result<usize> {
        let units = self.store.units().await?;
        let mut issued = 0;
        for planned in &plan.units {
            let mut lines = Vec::new();
            match planned.fate {
                UnitFate::Created => lines.push(NoticeLine {
                    full_name: planned.name.clone(),
                    address: planned.address.clone(),
                    reason: "Đơn vị mới; hộp thư đơn vị được cấp".into(),
                }),
                UnitFate::Renamed => lines.push(NoticeLine {
                    full_name: planned.name.clone(),
                    address: planned.address.clone(),
                    reason: format!(
                        "Đổi tên đơn vị; địa chỉ cũ {} chuyển thành bí danh",
                        planned.old_address.as_deref().unwrap_or_default()
                    ),
                }),
                UnitFate::Continues => {}
            }
            for m in plan.merged.iter().filter(|m| m.into == planned.code) {
                lines.push(NoticeLine {
                    full_name: m.name.clone(),
                    address: m.address.clone(),
                    reason: format!(
                        "Hợp nhất vào đơn vị; thư đến địa chỉ này chuyển về {}; thư cũ ở thư mục {}",
                        m.into_address, m.folder
                    ),
                });
            }
            for p in plan.people.iter().filter(|p| p.to == planned.code) {
                lines.push(NoticeLine {
                    full_name: p.full_name.clone(),
                    address: p.address.clone(),
                    reason: format!("Chuyển về đơn vị (từ {}); địa chỉ không đổi", p.from),
                });
            }
            if lines.is_empty() {
                continue;
            }
            let Some(unit) = units.iter().find(|u| u.code == planned.code) else {
                continue;
            };
            self.issue_notice(actor, NoticeKind::Reorganise, unit, &lines)
                .await?;
            issued += 1;
        }
        Ok(issued)
    }
}

/// The effects of a plan, in the order they must apply.
struct Steps {
    /// Continuing rows: (unit, code, kind, name).
    renames: Vec<(hopthu_model::UnitId, String, String, String)>,
    /// Continuing rows: (unit, parent code).
    parents: Vec<(hopthu_model::UnitId, Option<String>)>,
    /// Continuing rows whose address changes.
    readdress: Vec<(hopthu_model::UnitId, String)>,
    /// Merged units, deepest first: (unit, into code, folder prefix).
    merges: Vec<(hopthu_model::UnitId, String, String)>,
}

impl Steps {
    fn effects(
        self,
        created: Vec<NewUnit>,
        folders: &'static [(&'static str, Option<hopthu_store::SpecialUse>)],
    ) -> Vec<LifecycleEffect> {
        let mut out = Vec::new();
        // Codes first: a continuing unit under its new code may be the parent of a new one.
        // A code another continuing unit gives up is freed first by a temporary code.
        for (unit, code, _, _) in &self.renames {
            out.push(UnitEffect::Rename {
                unit: *unit,
                code: format!("~{}:{code}", unit.0),
                kind: String::new(),
                name: String::new(),
            });
        }
        for (unit, code, kind, name) in self.renames {
            out.push(UnitEffect::Rename {
                unit,
                code,
                kind,
                name,
            });
        }
        if !created.is_empty() {
            out.push(UnitEffect::Create {
                units: created,
                folders,
            });
        }
        for (unit, parent_code) in self.parents {
            out.push(UnitEffect::Reparent { unit, parent_code });
        }
        for (unit, address) in self.readdress {
            out.push(UnitEffect::Readdress { unit, address });
        }
        for (from, into, _) in &self.merges {
            out.push(UnitEffect::MovePeople {
                from: *from,
                into: into.clone(),
            });
        }
        for (from, into, folder_prefix) in self.merges {
            out.push(UnitEffect::Merge {
                from,
                into,
                folder_prefix,
            });
        }
        out.into_iter().map(LifecycleEffect::Unit).collect()
    }
}

/// The audit rows of a reorganisation: one for the whole, one per unit that changed.
fn reorganisation_audit(
    actor: &Actor,
    plan: &ReorganisePlan,
    snapshot: &Snapshot,
) -> Vec<NewAudit> {
    let mut rows = vec![NewAudit {
        actor: actor.name.clone(),
        action: "directory.reorganise".into(),
        target: "directory".into(),
        before: Some(serde_json::json!({ "units": plan.units_before }).to_string()),
        after: Some(
            serde_json::json!({
                "units": plan.units_after,
                "created": plan.units.iter().filter(|u| u.fate == UnitFate::Created).count(),
                "merged": plan.merged.len(),
                "people_moved": plan.people.len(),
                "aliases": plan.aliases.len(),
            })
            .to_string(),
        ),
    }];
    let before_of = |code: &str| {
        snapshot.units.iter().find(|u| u.code == code).map(|u| {
            serde_json::json!({ "code": u.code, "name": u.name, "address": u.address, "kind": u.kind })
                .to_string()
        })
    };
    for u in &plan.units {
        rows.push(NewAudit {
            actor: actor.name.clone(),
            action: format!(
                "unit.reorganise.{}",
                match u.fate {
                    UnitFate::Continues => "continue",
                    UnitFate::Renamed => "rename",
                    UnitFate::Created => "create",
                }
            ),
            target: format!("unit:{}", u.code),
            before: u.from.as_deref().and_then(before_of),
            after: Some(
                serde_json::json!({
                    "code": u.code, "name": u.name, "address": u.address, "kind": u.kind,
                    "parent": u.parent, "merged": u.merged,
                })
                .to_string(),
            ),
        });
    }
    for m in &plan.merged {
        rows.push(NewAudit {
            actor: actor.name.clone(),
            action: "unit.reorganise.merge".into(),
            target: format!("unit:{}", m.code),
            before: before_of(&m.code),
            after: Some(
                serde_json::json!({ "into": m.into, "alias_of": m.into_address, "folder": m.folder })
                    .to_string(),
            ),
        });
    }
    rows
}

/// Plans a reorganisation (pure: the directory comes in `snapshot`). Every problem is
/// returned as `file:line: reason`.
fn plan_reorganisation(
    config: &naming::NamingConfig,
    domain: &str,
    snapshot: &Snapshot,
    new_units: &[super::files::UnitRow],
    map: &[MapRow],
    (units_file, map_file): (&str, &str),
) -> std::result::Result<(ReorganisePlan, Steps), Vec<String>> {
    let mut problems = Vec::new();
    let by_code: HashMap<&str, &UnitRecord> = snapshot
        .units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect();
    let new_by_code: HashMap<&str, &super::files::UnitRow> =
        new_units.iter().map(|u| (u.code.as_str(), u)).collect();

    // Where each unit of the directory goes.
    let mut dest: HashMap<&str, &str> = HashMap::new();
    let mut map_order: HashMap<&str, usize> = HashMap::new();
    for row in map {
        if !by_code.contains_key(row.old.as_str()) {
            problems.push(format!(
                "{map_file}:{}: {}: không có trong danh bạ / not a unit of the directory",
                row.line, row.old
            ));
            continue;
        }
        if !new_by_code.contains_key(row.new.as_str()) {
            problems.push(format!(
                "{map_file}:{}: {}: không có trong tệp đơn vị mới / not a unit of {units_file}",
                row.line, row.new
            ));
            continue;
        }
        if dest.insert(row.old.as_str(), row.new.as_str()).is_some() {
            problems.push(format!(
                "{map_file}:{}: {}: đã có ở dòng trước / mapped twice",
                row.line, row.old
            ));
        }
        map_order.insert(row.old.as_str(), row.line);
    }
    for u in &snapshot.units {
        if new_by_code.contains_key(u.code.as_str()) {
            match dest.get(u.code.as_str()) {
                Some(to) if *to != u.code => problems.push(format!(
                    "{map_file}: {}: mã vẫn có trong tệp đơn vị mới, không thể chuyển sang {to} / the code stays in {units_file}, so it cannot go to {to}",
                    u.code
                )),
                _ => {
                    dest.insert(u.code.as_str(), u.code.as_str());
                }
            }
        } else if !dest.contains_key(u.code.as_str()) {
            problems.push(format!(
                "{map_file}: {} ({}): chưa có nơi đến / has no place in the new structure: add a row {},NEW_CODE",
                u.code, u.name, u.code
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }

    // Which directory unit each new unit continues.
    let fold_name = |kind: &str, name: &str| naming::fold(&display_name(config, kind, name));
    let mut continues: HashMap<&str, &UnitRecord> = HashMap::new(); // new code → old unit
    let mut keeps_address: HashSet<&str> = HashSet::new(); // new codes
    for n in new_units {
        let wanted = fold_name(&n.kind, &n.name);
        let mut sources: Vec<&UnitRecord> = snapshot
            .units
            .iter()
            .filter(|u| dest.get(u.code.as_str()) == Some(&n.code.as_str()))
            .collect();
        sources.sort_by_key(|u| (u.code != n.code, map_order.get(u.code.as_str()).copied()));
        let identity = sources.iter().find(|u| u.code == n.code).copied();
        let same_name = sources
            .iter()
            .find(|u| naming::fold(&u.name) == wanted)
            .copied();
        if let Some(u) = identity.or(same_name) {
            continues.insert(n.code.as_str(), u);
            if naming::fold(&u.name) == wanted {
                keeps_address.insert(n.code.as_str());
            }
        }
    }
    let continued: HashSet<&str> = continues.values().map(|u| u.code.as_str()).collect();

    // Addresses: continuing units keep theirs (known to the rules under the new code); every
    // other unit of the directory holds its address as before.
    let mut taken = namespace(snapshot, domain);
    for u in &snapshot.units {
        let new_code = continues
            .iter()
            .find(|(code, old)| old.id == u.id && keeps_address.contains(**code))
            .map(|(code, _)| *code);
        let (code, kind, name) = match new_code {
            Some(code) => {
                let n = new_by_code[code];
                (code.to_string(), n.kind.clone(), n.name.clone())
            }
            // Held, but not matched by code: a renamed unit gets the rules' new address.
            None => (format!("~{}", u.code), u.kind.clone(), u.name.clone()),
        };
        taken.add_unit(ExistingUnit {
            code,
            kind,
            name,
            local: local_of(&u.address).to_owned(),
        });
    }
    let inputs: Vec<UnitInput> = new_units
        .iter()
        .map(|u| {
            let mut input = UnitInput::new(&u.kind, &u.code, &u.name, u.parent.as_deref());
            input.override_local = u.local.clone();
            input
        })
        .collect();
    let proposals = match naming::plan(config, &inputs, &[], &taken) {
        Ok(plan) => plan,
        Err(errors) => {
            return Err(errors
                .into_iter()
                .map(|e| {
                    let line = new_units.get(e.row).map_or(0, |u| u.line);
                    format!(
                        "{units_file}:{line}: {}",
                        super::files::RowFault::Rule(e.reason)
                    )
                })
                .collect());
        }
    };
    let address = |local: &str| format!("{local}@{domain}");

    let mut people_count: HashMap<&str, usize> = HashMap::new(); // new code → people
    let unit_code_by_id: HashMap<hopthu_model::UnitId, &str> = snapshot
        .units
        .iter()
        .map(|u| (u.id, u.code.as_str()))
        .collect();
    let mut people = Vec::new();
    for p in &snapshot.people {
        let Some(old_code) = unit_code_by_id.get(&p.unit) else {
            continue;
        };
        let to = dest[old_code];
        *people_count.entry(to).or_default() += 1;
        if !continued.contains(old_code) {
            people.push(PersonMove {
                address: p.address.clone(),
                full_name: p.full_name.clone(),
                from: old_code.to_string(),
                to: to.to_string(),
            });
        }
    }

    let mut units = Vec::with_capacity(new_units.len());
    let mut aliases = Vec::new();
    let mut steps = Steps {
        renames: Vec::new(),
        parents: Vec::new(),
        readdress: Vec::new(),
        merges: Vec::new(),
    };
    for (n, proposal) in new_units.iter().zip(&proposals.units) {
        let name = display_name(config, &proposal.kind, &proposal.name);
        let from = continues.get(n.code.as_str()).copied();
        let new_address = match from {
            Some(u) if keeps_address.contains(n.code.as_str()) => u.address.clone(),
            _ => address(&proposal.local),
        };
        let fate = match from {
            Some(u) if u.address == new_address => UnitFate::Continues,
            Some(_) => UnitFate::Renamed,
            None => UnitFate::Created,
        };
        if let Some(u) = from {
            steps
                .renames
                .push((u.id, n.code.clone(), proposal.kind.clone(), name.clone()));
            steps.parents.push((u.id, n.parent.clone()));
            if fate == UnitFate::Renamed {
                steps.readdress.push((u.id, new_address.clone()));
                aliases.push(AliasChange {
                    address: u.address.clone(),
                    target: new_address.clone(),
                });
            }
        }
        let merged: Vec<String> = snapshot
            .units
            .iter()
            .filter(|u| dest[u.code.as_str()] == n.code && !continued.contains(u.code.as_str()))
            .map(|u| u.code.clone())
            .collect();
        units.push(PlannedUnit {
            code: n.code.clone(),
            kind: proposal.kind.clone(),
            name,
            parent: n.parent.clone(),
            address: new_address,
            fate,
            from: from.map(|u| u.code.clone()),
            old_address: from
                .filter(|_| fate == UnitFate::Renamed)
                .map(|u| u.address.clone()),
            merged,
            people: people_count.get(n.code.as_str()).copied().unwrap_or(0),
            warnings: if fate == UnitFate::Continues {
                Vec::new()
            } else {
                proposal.warnings.iter().map(|w| w.to_string()).collect()
            },
        });
    }
    let address_of: HashMap<&str, &str> = units
        .iter()
        .map(|u| (u.code.as_str(), u.address.as_str()))
        .collect();

    // Merged units, deepest first, so that a unit is empty of units when it goes.
    let depth = |u: &UnitRecord| {
        let mut d = 0;
        let mut up = u.parent;
        while let Some(id) = up {
            d += 1;
            up = snapshot
                .units
                .iter()
                .find(|x| x.id == id)
                .and_then(|x| x.parent);
            if d > snapshot.units.len() {
                break;
            }
        }
        d
    };
    let mut merging: Vec<&UnitRecord> = snapshot
        .units
        .iter()
        .filter(|u| !continued.contains(u.code.as_str()))
        .collect();
    merging.sort_by_key(|u| std::cmp::Reverse(depth(u)));
    let mut merged = Vec::new();
    for u in merging {
        let into = dest[u.code.as_str()];
        let into_address = address_of[into].to_string();
        let folder = format!("{ARCHIVE_FOLDER}/{}", local_of(&u.address));
        steps.merges.push((u.id, into.to_string(), folder.clone()));
        aliases.push(AliasChange {
            address: u.address.clone(),
            target: into_address.clone(),
        });
        merged.push(MergedUnit {
            code: u.code.clone(),
            name: u.name.clone(),
            address: u.address.clone(),
            into: into.to_string(),
            into_address,
            people: snapshot.people.iter().filter(|p| p.unit == u.id).count(),
            folder,
        });
    }
    // Aliases to an address that becomes an alias follow it (one hop).
    for a in &snapshot.aliases {
        if let Some(change) = aliases.iter().find(|c| c.address == a.target) {
            let target = change.target.clone();
            aliases.push(AliasChange {
                address: a.address.clone(),
                target,
            });
        }
    }
    Ok((
        ReorganisePlan {
            units,
            merged,
            people,
            aliases,
            units_before: snapshot.units.len(),
            units_after: new_units.len(),
        },
        steps,
    ))
}

/// The address of a unit renamed to `name`: its own when the name folds to the same letters,
/// else what the rules give the new name against everything given (its old address included,
/// which becomes an alias). With the rules' remarks.
pub(super) fn renamed_address(
    config: &naming::NamingConfig,
    domain: &str,
    snapshot: &Snapshot,
    unit: &UnitRecord,
    name: &str,
) -> std::result::Result<(String, Vec<String>), String> {
    if naming::fold(&display_name(config, &unit.kind, name)) == naming::fold(&unit.name) {
        return Ok((unit.address.clone(), Vec::new()));
    }
    let mut taken = namespace(snapshot, domain);
    for u in &snapshot.units {
        taken.add_unit(ExistingUnit {
            code: if u.id == unit.id {
                format!("~{}", u.code)
            } else {
                u.code.clone()
            },
            kind: u.kind.clone(),
            name: u.name.clone(),
            local: local_of(&u.address).to_owned(),
        });
    }
    let parent = unit
        .parent
        .and_then(|p| snapshot.units.iter().find(|u| u.id == p))
        .map(|u| u.code.as_str());
    let input = UnitInput::new(&unit.kind, &unit.code, name, parent);
    let plan = naming::plan(config, &[input], &[], &taken).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| super::files::RowFault::Rule(e.reason).to_string())
            .collect::<Vec<_>>()
            .join("; ")
    })?;
    let proposal = plan
        .units
        .first()
        .ok_or_else(|| "the rules gave no address".to_string())?;
    Ok((
        format!("{}@{domain}", proposal.local),
        proposal.warnings.iter().map(|w| w.to_string()).collect(),
    ))
}
