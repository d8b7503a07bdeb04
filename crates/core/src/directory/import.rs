//! Import of a units file and a people file: every row gets its address from the rules of Đ7.3
//! against everything already in the directory, then — unless it is a dry run — every new unit
//! and person is created with a mailbox and a one-time password in ONE transaction.
//!
//! Re-importing is safe: a unit is keyed by its code and keeps its address; a person is the same
//! person when the staff id matches, or, without staff id, the same cleaned name in the same
//! unit (matched as many times as the directory holds such people). Those rows are reported as
//! existing and nothing is created for them.
//!
//! A bad row refuses the whole import: every problem is reported with its file and line, and
//! nothing is written.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use hopthu_model::naming::{
    self, DuplicateStyle, ExistingUnit, Holder, NamingConfig, Origin, PersonInput, Table, Taken,
    UnitInput, Warning,
};
use hopthu_model::text::clean;
use hopthu_model::{PersonId, UnitId};
use hopthu_store::{
    AliasRecord, NewDirectory, NewPerson, NewUnit, PersonRecord, ReservedName, UnitRecord,
};

use super::files::{ImportProblem, PersonRow, RowFault, UnitRow, person_rows, unit_rows};
use super::parse::read_sheet;
use crate::admin::{Actor, NewAudit};
use crate::{Core, Error, ErrorKind, Secret, generate_password, hash_password_blocking, now};

/// One input file: the name shown in messages and its bytes (CSV or .xlsx).
#[derive(Debug, Clone)]
pub struct ImportSource {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// What to import.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    /// `kind,code,name,parent`.
    pub units: ImportSource,
    /// `full_name,unit` + optional `position,staff_id,phone,email,public,head`.
    pub people: Option<ImportSource>,
    /// Overrides `naming.person_duplicates` of the configuration for this import.
    pub person_duplicates: Option<DuplicateStyle>,
}

/// Why an import did not happen.
#[derive(Debug, Clone)]
pub enum ImportError {
    /// The files are refused: every problem with its file and line. Nothing was written.
    Refused(Vec<ImportProblem>),
    /// Storage or another failure; nothing was written.
    Failed(Error),
}

impl From<Error> for ImportError {
    fn from(e: Error) -> Self {
        ImportError::Failed(e)
    }
}

impl From<hopthu_store::StoreError> for ImportError {
    fn from(e: hopthu_store::StoreError) -> Self {
        ImportError::Failed(e.into())
    }
}

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImportError::Refused(problems) => {
                for (i, p) in problems.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    p.fmt(f)?;
                }
                Ok(())
            }
            ImportError::Failed(e) => e.fmt(f),
        }
    }
}

/// Whether a row creates something.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowStatus {
    /// A new unit or person.
    New,
    /// Already in the directory: kept as it is.
    Existing,
}

impl RowStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RowStatus::New => "new",
            RowStatus::Existing => "existing",
        }
    }
}

/// The outcome for one input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    /// Units or people.
    pub file: Table,
    /// The row's line in its file (the header is line 1).
    pub line: usize,
    /// The display name: a unit's name with its kind word, a person's cleaned full name.
    pub name: String,
    /// `local@domain`.
    pub address: String,
    pub status: RowStatus,
    /// A unit's code, or a person's unit code.
    pub unit_code: String,
    /// A unit's kind.
    pub kind: Option<String>,
    /// The operator should review this address before it is handed out.
    pub review: bool,
    /// Remarks for the operator (English, from the address rules).
    pub warnings: Vec<String>,
    /// Aliases created for this address (`soittt@…` for `sotttt@…`).
    pub aliases: Vec<String>,
}

/// A unit the import will create.
#[derive(Debug, Clone)]
struct PlannedUnit {
    line: usize,
    /// The address was given in the file (an override of the rules).
    overridden: bool,
    code: String,
    kind: String,
    name: String,
    parent_code: Option<String>,
    address: String,
}

/// A person the import will create.
#[derive(Debug, Clone)]
struct PlannedPerson {
    line: usize,
    /// The address was given in the file (an override of the rules).
    overridden: bool,
    full_name: String,
    unit_code: String,
    position: Option<String>,
    staff_id: Option<String>,
    phone: Option<String>,
    address: String,
    public: bool,
    head: bool,
}

/// Every row's address, and what applying the plan would create.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    /// One per input row: units in file order, then people in file order.
    pub rows: Vec<ImportRow>,
    units: Vec<PlannedUnit>,
    people: Vec<PlannedPerson>,
    aliases: Vec<AliasRecord>,
    /// The files' names, for the audit log.
    sources: Vec<String>,
    /// `naming.person_duplicates` overridden for this import.
    person_duplicates: Option<DuplicateStyle>,
}

impl ImportPlan {
    /// Units that applying the plan creates.
    pub fn new_units(&self) -> usize {
        self.units.len()
    }

    /// People that applying the plan creates.
    pub fn new_people(&self) -> usize {
        self.people.len()
    }

    /// Aliases that applying the plan creates.
    pub fn new_aliases(&self) -> usize {
        self.aliases.len()
    }
}

/// Progress of [`Core::apply_import`], for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportProgress {
    /// One-time passwords hashed so far.
    Hashing { done: usize, total: usize },
    /// Every hash is ready; the transaction runs.
    Writing,
}

/// Whether a credential is for a unit mailbox or a personal one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailboxKind {
    Unit,
    Person,
}

impl MailboxKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailboxKind::Unit => "unit",
            MailboxKind::Person => "person",
        }
    }
}

/// A new mailbox and its one-time password, for the credentials sheet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    /// The code of the unit the mailbox belongs to (the unit itself for a unit mailbox).
    pub unit_code: String,
    pub unit_name: String,
    pub kind: MailboxKind,
    pub name: String,
    pub position: Option<String>,
    pub address: String,
    /// Valid until the first change (Đ13.4).
    pub password: String,
}

/// What [`Core::apply_import`] created.
#[derive(Debug, Clone)]
pub struct ImportApplied {
    pub units: Vec<UnitId>,
    pub people: Vec<PersonId>,
    pub aliases: usize,
    /// One per new mailbox: units first, then people, in file order.
    pub credentials: Vec<Credential>,
}

/// What the directory holds already, as the planner needs it.
pub(super) struct Snapshot {
    pub(super) units: Vec<UnitRecord>,
    pub(super) people: Vec<PersonRecord>,
    pub(super) aliases: Vec<AliasRecord>,
    pub(super) reserved: Vec<ReservedName>,
    pub(super) addresses: Vec<String>,
}

impl Core {
    /// The directory as the planners read it.
    pub(super) async fn snapshot(&self) -> Result<Snapshot, Error> {
        Ok(Snapshot {
            units: self.store.units().await?,
            people: self.store.people().await?,
            aliases: self.store.aliases().await?,
            reserved: self.store.reserved_names().await?,
            // A group's address is given too (no person or unit may take it).
            addresses: {
                let mut addresses = self.store.account_addresses().await?;
                addresses.extend(self.store.groups().await?.into_iter().map(|g| g.address));
                addresses
            },
        })
    }
}

impl Core {
    /// Reads the files and proposes an address for every row, against everything in the
    /// directory. Writes nothing: a dry run is this call alone.
    pub async fn plan_import(&self, request: &ImportRequest) -> Result<ImportPlan, ImportError> {
        let domain = self.config.domain.as_str();
        let mut problems = Vec::new();
        let units = read_file(
            &request.units,
            Table::Units,
            domain,
            unit_rows,
            &mut problems,
        );
        let people = match &request.people {
            Some(source) => read_file(source, Table::People, domain, person_rows, &mut problems),
            None => Vec::new(),
        };
        if !problems.is_empty() {
            return Err(ImportError::Refused(problems));
        }
        let snapshot = self.snapshot().await?;
        let mut naming = self.config.naming.clone();
        if let Some(style) = request.person_duplicates {
            naming.person_duplicates = style;
        }
        let sources = Sources {
            units: &request.units.name,
            people: request.people.as_ref().map_or("", |p| p.name.as_str()),
        };
        let mut plan = plan_rows(&naming, domain, &units, &people, &snapshot, sources)
            .map_err(ImportError::Refused)?;
        plan.sources = std::iter::once(request.units.name.clone())
            .chain(request.people.as_ref().map(|p| p.name.clone()))
            .collect();
        plan.person_duplicates = request.person_duplicates;
        Ok(plan)
    }

    /// The address the rules of Đ7.3 give `full_name` in the unit `unit_code` as if a new
    /// person, against everything given but `own` (the person's current address: their own
    /// name does not count as someone else's). A corrected name's new address (change request
    /// `update`); the caller compares the result with `own`.
    pub(crate) async fn plan_person_address(
        &self,
        full_name: &str,
        unit_code: &str,
        own: &str,
    ) -> Result<String, Error> {
        let domain = self.config.domain.as_str();
        let mut snapshot = Snapshot {
            units: self.store.units().await?,
            people: self.store.people().await?,
            aliases: self.store.aliases().await?,
            reserved: self.store.reserved_names().await?,
            addresses: self.store.account_addresses().await?,
        };
        snapshot.people.retain(|p| p.address != own);
        snapshot.addresses.retain(|a| a != own);
        let taken = taken_of(&snapshot, domain);
        let person = PersonInput::new(full_name, unit_code);
        let plan = naming::plan(&self.config.naming, &[], &[person], &taken).map_err(|errors| {
            Error::invalid(
                errors
                    .iter()
                    .map(|e| e.reason.to_string())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?;
        let local = plan
            .people
            .first()
            .map(|p| p.local.clone())
            .ok_or_else(|| Error::new(ErrorKind::Internal, "no address planned"))?;
        Ok(format!("{local}@{domain}"))
    }

    /// Creates what a plan proposes: one-time passwords hashed on two threads first, then every
    /// unit, person, mailbox and alias in one transaction, with the audit rows of the import by
    /// `actor` ([`import_audit`]). `progress` is called from the hashing threads.
    pub async fn apply_import(
        &self,
        actor: &Actor,
        plan: ImportPlan,
        progress: Arc<dyn Fn(ImportProgress) + Send + Sync>,
    ) -> Result<ImportApplied, Error> {
        let audit = import_audit(actor, &plan);
        self.apply_plan(plan, &audit, progress, None).await
    }

    /// [`Core::apply_import`] with the audit rows given, and `person_password` — (hash, must
    /// change) — for every person instead of a one-time password (one person: an account
    /// added by hand); their credentials then carry the unused generated password.
    pub(crate) async fn apply_plan(
        &self,
        plan: ImportPlan,
        audit: &[NewAudit],
        progress: Arc<dyn Fn(ImportProgress) + Send + Sync>,
        person_password: Option<(String, bool)>,
    ) -> Result<ImportApplied, Error> {
        let total = plan.units.len() + plan.people.len();
        let passwords: Vec<String> = (0..total).map(|_| generate_password()).collect();
        let hashes = {
            let passwords = passwords.clone();
            let progress = progress.clone();
            tokio::task::spawn_blocking(move || hash_all(&passwords, progress.as_ref()))
                .await
                .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))??
        };
        progress(ImportProgress::Writing);

        let (unit_hashes, person_hashes) = hashes.split_at(plan.units.len());
        let units: Vec<NewUnit> = plan
            .units
            .iter()
            .zip(unit_hashes)
            .map(|(u, hash)| NewUnit {
                code: u.code.clone(),
                kind: u.kind.clone(),
                name: u.name.clone(),
                parent_code: u.parent_code.clone(),
                address: u.address.clone(),
                password_hash: hash.clone(),
                must_change_password: true,
            })
            .collect();
        let people: Vec<NewPerson> = plan
            .people
            .iter()
            .zip(person_hashes)
            .map(|(p, hash)| NewPerson {
                full_name: p.full_name.clone(),
                unit_code: p.unit_code.clone(),
                position: p.position.clone(),
                staff_id: p.staff_id.clone(),
                phone: p.phone.clone(),
                address: p.address.clone(),
                public: p.public,
                head: p.head,
                password_hash: person_password
                    .as_ref()
                    .map_or_else(|| hash.clone(), |(h, _)| h.clone()),
                must_change_password: person_password.as_ref().is_none_or(|(_, m)| *m),
            })
            .collect();
        let created = self
            .store
            .create_directory(&NewDirectory {
                units: &units,
                people: &people,
                aliases: &plan.aliases,
                folders: crate::mail::STANDARD_FOLDERS,
                created_at: now(),
                audit,
            })
            .await?;

        // Unit names for the sheet: this import's, then the directory's.
        let mut unit_names: HashMap<String, String> = self
            .store
            .units()
            .await?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
        for u in &plan.units {
            unit_names.insert(u.code.clone(), u.name.clone());
        }
        let (unit_passwords, person_passwords) = passwords.split_at(plan.units.len());
        let mut credentials = Vec::with_capacity(total);
        for (u, password) in plan.units.iter().zip(unit_passwords) {
            credentials.push(Credential {
                unit_code: u.code.clone(),
                unit_name: u.name.clone(),
                kind: MailboxKind::Unit,
                name: u.name.clone(),
                position: None,
                address: u.address.clone(),
                password: password.clone(),
            });
        }
        for (p, password) in plan.people.iter().zip(person_passwords) {
            credentials.push(Credential {
                unit_code: p.unit_code.clone(),
                unit_name: unit_names.get(&p.unit_code).cloned().unwrap_or_default(),
                kind: MailboxKind::Person,
                name: p.full_name.clone(),
                position: p.position.clone(),
                address: p.address.clone(),
                password: password.clone(),
            });
        }
        Ok(ImportApplied {
            units: created.units.iter().map(|(u, _)| *u).collect(),
            people: created.people.iter().map(|(p, _)| *p).collect(),
            aliases: plan.aliases.len(),
            credentials,
        })
    }
}

/// The audit rows of an import by `actor`: one `directory.import` (target `directory`: the files,
/// what it creates, `person_duplicates` when overridden), and one `directory.override` per new
/// unit or person whose address the file gave instead of the rules (target `account:ADDRESS`).
pub(crate) fn import_audit(actor: &Actor, plan: &ImportPlan) -> Vec<NewAudit> {
    let mut summary = serde_json::json!({
        "files": plan.sources,
        "units": plan.units.len(),
        "people": plan.people.len(),
        "aliases": plan.aliases.len(),
    });
    if let Some(style) = plan.person_duplicates {
        summary["person_duplicates"] = serde_json::to_value(style).unwrap_or_default();
    }
    let mut rows = vec![NewAudit {
        actor: actor.name.clone(),
        action: "directory.import".into(),
        target: "directory".into(),
        before: None,
        after: Some(summary.to_string()),
    }];
    let overrides = plan
        .units
        .iter()
        .filter(|u| u.overridden)
        .map(|u| ("units", u.line, &u.address, &u.name, &u.code))
        .chain(
            plan.people
                .iter()
                .filter(|p| p.overridden)
                .map(|p| ("people", p.line, &p.address, &p.full_name, &p.unit_code)),
        );
    for (file, line, address, name, unit) in overrides {
        rows.push(NewAudit {
            actor: actor.name.clone(),
            action: "directory.override".into(),
            target: format!("account:{address}"),
            before: None,
            after: Some(
                serde_json::json!({
                    "file": file,
                    "line": line,
                    "name": name,
                    "unit": unit,
                    "address": address,
                })
                .to_string(),
            ),
        });
    }
    rows
}

/// Hashes every password with the light argon2id of generated secrets, on two threads (the
/// machine's cores), reporting progress every few hashes.
pub(super) fn hash_all(
    passwords: &[String],
    progress: &(dyn Fn(ImportProgress) + Send + Sync),
) -> Result<Vec<String>, Error> {
    const THREADS: usize = 2;
    let total = passwords.len();
    let done = AtomicUsize::new(0);
    let chunk = total.div_ceil(THREADS).max(1);
    let results: Vec<Result<Vec<String>, Error>> = std::thread::scope(|scope| {
        let handles: Vec<_> = passwords
            .chunks(chunk)
            .map(|part| {
                let done = &done;
                scope.spawn(move || {
                    let mut hashes = Vec::with_capacity(part.len());
                    for password in part {
                        hashes.push(hash_password_blocking(password, Secret::Generated)?);
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        if n.is_multiple_of(64) || n == total {
                            progress(ImportProgress::Hashing { done: n, total });
                        }
                    }
                    Ok(hashes)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::new(ErrorKind::Internal, "hashing panicked")))
            })
            .collect()
    });
    let mut hashes = Vec::with_capacity(total);
    for part in results {
        hashes.extend(part?);
    }
    Ok(hashes)
}

/// Turns a sheet into the rows of one kind of file, or every fault with its line.
pub(super) type RowsOf<R> =
    fn(&[super::parse::SheetRow], &str) -> Result<Vec<R>, Vec<(usize, RowFault)>>;

/// Reads one file into rows, recording its problems.
pub(super) fn read_file<R>(
    source: &ImportSource,
    file: Table,
    domain: &str,
    rows_of: RowsOf<R>,
    problems: &mut Vec<ImportProblem>,
) -> Vec<R> {
    let problem = |line: usize, fault: RowFault| ImportProblem {
        file,
        source: source.name.clone(),
        line,
        fault,
    };
    let sheet = match read_sheet(&source.bytes) {
        Ok(sheet) => sheet,
        Err(p) => {
            problems.push(problem(p.line, RowFault::Read(p.error)));
            return Vec::new();
        }
    };
    match rows_of(&sheet, domain) {
        Ok(rows) => rows,
        Err(faults) => {
            problems.extend(faults.into_iter().map(|(line, f)| problem(line, f)));
            Vec::new()
        }
    }
}

/// The file names shown in problems.
#[derive(Clone, Copy)]
struct Sources<'a> {
    units: &'a str,
    people: &'a str,
}

/// The local part of an address (the part before the last `@`).
pub(super) fn local_of(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(l, _)| l)
}

/// Whether an address is in `domain`.
pub(super) fn in_domain(address: &str, domain: &str) -> bool {
    address
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
}

/// Everything given already, but the units (which the caller adds as it needs): account
/// addresses, reserved names, aliases and people share the namespace (R11, R12). Later
/// insertions name the holder better, so plain addresses go first.
pub(super) fn namespace(snapshot: &Snapshot, domain: &str) -> Taken {
    let mut taken = Taken::new();
    for address in &snapshot.addresses {
        if in_domain(address, domain) {
            taken.add_address(local_of(address));
        }
    }
    for reserved in &snapshot.reserved {
        taken.add_reserved(&reserved.local);
    }
    for alias in &snapshot.aliases {
        if in_domain(&alias.address, domain) {
            taken.add_alias(local_of(&alias.address), Some(local_of(&alias.target)));
        }
    }
    for person in &snapshot.people {
        taken.add_person(local_of(&person.address), &person.full_name);
    }
    taken
}

/// Everything given already, units included, as the planner's namespace.
fn taken_of(snapshot: &Snapshot, domain: &str) -> Taken {
    let mut taken = namespace(snapshot, domain);
    for unit in &snapshot.units {
        taken.add_unit(ExistingUnit {
            code: unit.code.clone(),
            kind: unit.kind.clone(),
            name: unit.name.clone(),
            local: local_of(&unit.address).to_owned(),
        });
    }
    taken
}

/// Plans every row (pure: the directory comes in `snapshot`).
fn plan_rows(
    config: &NamingConfig,
    domain: &str,
    units: &[UnitRow],
    people: &[PersonRow],
    snapshot: &Snapshot,
    sources: Sources<'_>,
) -> Result<ImportPlan, Vec<ImportProblem>> {
    let mut problems = Vec::new();
    let unit_problem = |line: usize, fault: RowFault| ImportProblem {
        file: Table::Units,
        source: sources.units.to_owned(),
        line,
        fault,
    };
    let person_problem = |line: usize, fault: RowFault| ImportProblem {
        file: Table::People,
        source: sources.people.to_owned(),
        line,
        fault,
    };

    let taken = taken_of(snapshot, domain);
    let stored_units: HashMap<&str, &UnitRecord> = snapshot
        .units
        .iter()
        .map(|u| (u.code.as_str(), u))
        .collect();
    let unit_code_by_id: HashMap<UnitId, &str> = snapshot
        .units
        .iter()
        .map(|u| (u.id, u.code.as_str()))
        .collect();

    // People already in the directory: by staff id, else by name and unit.
    let by_staff: HashMap<&str, &PersonRecord> = snapshot
        .people
        .iter()
        .filter_map(|p| p.staff_id.as_deref().map(|s| (s, p)))
        .collect();
    let mut by_name: HashMap<(String, &str), VecDeque<&PersonRecord>> = HashMap::new();
    for p in &snapshot.people {
        let unit = unit_code_by_id.get(&p.unit).copied().unwrap_or("");
        by_name
            .entry((clean(&p.full_name), unit))
            .or_default()
            .push_back(p);
    }
    let mut consumed: HashSet<PersonId> = HashSet::new();
    let mut existing_people: Vec<Option<&PersonRecord>> = Vec::with_capacity(people.len());
    for row in people {
        let found = match &row.staff_id {
            Some(id) => by_staff.get(id.as_str()).copied(),
            None => by_name
                .get_mut(&(clean(&row.full_name), row.unit.as_str()))
                .and_then(|queue| {
                    while let Some(p) = queue.pop_front() {
                        if !consumed.contains(&p.id) {
                            return Some(p);
                        }
                    }
                    None
                }),
        };
        if let Some(p) = found {
            consumed.insert(p.id);
            if let Some(wanted) = &row.local
                && !wanted.eq_ignore_ascii_case(local_of(&p.address))
            {
                problems.push(person_problem(
                    row.line,
                    RowFault::PersonAddressed {
                        address: p.address.clone(),
                    },
                ));
            }
        }
        existing_people.push(found);
    }
    // A head only for a unit without one.
    for row in people.iter().filter(|r| r.head) {
        if let Some(unit) = stored_units.get(row.unit.as_str())
            && unit.head.is_some()
        {
            problems.push(person_problem(
                row.line,
                RowFault::HasHead {
                    unit: row.unit.clone(),
                },
            ));
        }
    }

    let unit_inputs: Vec<UnitInput> = units
        .iter()
        .map(|u| {
            let mut input = UnitInput::new(&u.kind, &u.code, &u.name, u.parent.as_deref());
            input.override_local = u.local.clone();
            input
        })
        .collect();
    // Only new people go to the rules; `new_rows[i]` is the people row of input i.
    let mut person_inputs = Vec::new();
    let mut new_rows = Vec::new();
    for (i, row) in people.iter().enumerate() {
        if existing_people[i].is_none() {
            let mut input = PersonInput::new(&row.full_name, &row.unit);
            input.override_local = row.local.clone();
            person_inputs.push(input);
            new_rows.push(i);
        }
    }
    let plan = match naming::plan(config, &unit_inputs, &person_inputs, &taken) {
        Ok(plan) => Some(plan),
        Err(errors) => {
            for e in errors {
                let fault = RowFault::Rule(e.reason);
                problems.push(match e.table {
                    Table::Units => unit_problem(units[e.row].line, fault),
                    Table::People => person_problem(people[new_rows[e.row]].line, fault),
                });
            }
            None
        }
    };
    let Some(plan) = plan.filter(|_| problems.is_empty()) else {
        problems.sort_by_key(|p| (p.file, p.line));
        return Err(problems);
    };

    let address = |local: &str| format!("{local}@{domain}");
    let existing_aliases: HashSet<&str> = snapshot
        .aliases
        .iter()
        .map(|a| a.address.as_str())
        .collect();
    let aliases: Vec<AliasRecord> = plan
        .aliases
        .iter()
        .map(|a| AliasRecord {
            address: address(&a.alias),
            target: address(&a.target),
        })
        .collect();

    let mut rows = Vec::with_capacity(units.len() + people.len());
    let mut new_units = Vec::new();
    for (row, proposal) in units.iter().zip(&plan.units) {
        let name = display_name(config, &proposal.kind, &proposal.name);
        let mut warnings: Vec<String> = proposal
            .warnings
            .iter()
            .map(|w| warning_text(w, people, &new_rows))
            .collect();
        let status = if proposal.origin == Origin::Existing {
            // Its address was decided when it was created; the rules' remarks are moot now.
            warnings.clear();
            if let Some(stored) = stored_units.get(proposal.code.as_str())
                && (stored.name != name || stored.kind != proposal.kind)
            {
                warnings.push(format!(
                    "the directory has this unit as {:?} ({}); it is not changed by an import",
                    stored.name, stored.kind
                ));
            }
            RowStatus::Existing
        } else {
            RowStatus::New
        };
        let unit_address = address(&proposal.local);
        let unit_aliases: Vec<String> = aliases
            .iter()
            .filter(|a| a.target == unit_address)
            .map(|a| a.address.clone())
            .collect();
        if status == RowStatus::New {
            new_units.push(PlannedUnit {
                line: row.line,
                overridden: row.local.is_some(),
                code: proposal.code.clone(),
                kind: proposal.kind.clone(),
                name: name.clone(),
                parent_code: row.parent.clone(),
                address: unit_address.clone(),
            });
        }
        rows.push(ImportRow {
            file: Table::Units,
            line: row.line,
            name,
            address: unit_address,
            status,
            unit_code: proposal.code.clone(),
            kind: Some(proposal.kind.clone()),
            review: proposal.review && status == RowStatus::New,
            warnings,
            aliases: unit_aliases,
        });
    }

    let mut new_people = Vec::new();
    let mut proposals = plan.people.iter();
    for (row, existing) in people.iter().zip(&existing_people) {
        match existing {
            Some(p) => {
                let mut warnings = Vec::new();
                let stored_unit = unit_code_by_id.get(&p.unit).copied().unwrap_or("");
                if stored_unit != row.unit {
                    warnings.push(format!(
                        "the directory has this person in unit {stored_unit}; a transfer is a \
                         change request, not an import"
                    ));
                }
                if row.head {
                    warnings.push("already in the directory: not made head by an import".into());
                }
                rows.push(ImportRow {
                    file: Table::People,
                    line: row.line,
                    name: p.full_name.clone(),
                    address: p.address.clone(),
                    status: RowStatus::Existing,
                    unit_code: row.unit.clone(),
                    kind: None,
                    review: false,
                    warnings,
                    aliases: Vec::new(),
                });
            }
            None => {
                let Some(proposal) = proposals.next() else {
                    unreachable!("the rules gave every new person a proposal");
                };
                let person_address = address(&proposal.local);
                new_people.push(PlannedPerson {
                    line: row.line,
                    overridden: row.local.is_some(),
                    full_name: proposal.full_name.clone(),
                    unit_code: proposal.unit_code.clone(),
                    position: row.position.clone(),
                    staff_id: row.staff_id.clone(),
                    phone: row.phone.clone(),
                    address: person_address.clone(),
                    public: row.public,
                    head: row.head,
                });
                rows.push(ImportRow {
                    file: Table::People,
                    line: row.line,
                    name: proposal.full_name.clone(),
                    address: person_address,
                    status: RowStatus::New,
                    unit_code: proposal.unit_code.clone(),
                    kind: None,
                    review: proposal.review,
                    warnings: proposal
                        .warnings
                        .iter()
                        .map(|w| warning_text(w, people, &new_rows))
                        .collect(),
                    aliases: Vec::new(),
                });
            }
        }
    }
    Ok(ImportPlan {
        rows,
        units: new_units,
        people: new_people,
        aliases: aliases
            .into_iter()
            .filter(|a| !existing_aliases.contains(a.address.as_str()))
            .collect(),
        sources: Vec::new(),
        person_duplicates: None,
    })
}

/// A warning as the operator reads it: a person of this import named by the line of the
/// people file rather than by the planner's row.
fn warning_text(warning: &Warning, people: &[PersonRow], new_rows: &[usize]) -> String {
    match warning {
        Warning::Taken {
            wanted,
            holder: Holder::Person { name, row: Some(r) },
        } => {
            let line = new_rows
                .get(*r)
                .and_then(|&i| people.get(i))
                .map_or(0, |p| p.line);
            format!("{wanted} is already held by {name} (people line {line})")
        }
        other => other.to_string(),
    }
}

/// A unit's name as shown: the name given, with its kind word in front when the kind has a
/// single word and the name carries no kind word ("Y tế" of kind department is "Sở Y tế").
/// Names opening with a configured head of a non-sở agency ("Văn phòng…", "Thanh tra…") or with
/// another kind's word stay as given.
pub(crate) fn display_name(config: &NamingConfig, kind: &str, name: &str) -> String {
    let name = clean(name);
    let Some(rule) = config.kind(kind) else {
        return name;
    };
    let [word] = rule.words.as_slice() else {
        return name;
    };
    let name_words: Vec<String> = naming::words(&name)
        .iter()
        .map(|w| naming::fold(w))
        .collect();
    let opens_with = |phrase: &str| {
        let phrase: Vec<String> = naming::words(phrase)
            .iter()
            .map(|w| naming::fold(w))
            .collect();
        !phrase.is_empty() && name_words.starts_with(&phrase)
    };
    let carries_a_kind_word = config
        .kinds
        .iter()
        .flat_map(|k| k.words.iter())
        .chain(&config.non_so_heads)
        .any(|w| opens_with(w));
    if carries_a_kind_word {
        name
    } else {
        format!("{} {name}", clean(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_carry_their_kind_word() {
        let config = NamingConfig::default();
        for (kind, name, want) in [
            ("department", "Y tế", "Sở Y tế"),
            ("department", "Sở Y tế", "Sở Y tế"),
            ("department", "sở  y tế", "sở y tế"),
            ("department", "Thanh tra tỉnh", "Thanh tra tỉnh"),
            (
                "district_office",
                "Văn phòng HĐND và UBND",
                "Văn phòng HĐND và UBND",
            ),
            ("district_office", "Nội vụ", "Phòng Nội vụ"),
            ("commune", "Hưng Đạo", "Xã Hưng Đạo"),
            ("township", "Bảo Lạc", "Thị trấn Bảo Lạc"),
            ("organisation", "Tỉnh đoàn", "Tỉnh đoàn"),
            ("district", "Bảo Lạc", "Bảo Lạc"),
            ("unknown", "Bảo Lạc", "Bảo Lạc"),
        ] {
            assert_eq!(display_name(&config, kind, name), want, "{kind} {name}");
        }
    }
}
