//! The planner: proposes a local part for every unit and person of an import (R5, R9–R12),
//! against the addresses already given, the aliases and the reserved names, which all share one
//! namespace.
//!
//! Order of decisions. Fixed local parts come first: units already in the directory (same code)
//! keep theirs, and operator overrides are claimed in input order, so the rules never take an
//! address the operator chose. Then the rules run on units whose local part stands alone
//! (province, departments, boards, organisations, districts) in input order, then district
//! offices (they need their district's local part), then all communes, wards and townships
//! together (R10), then persons in input order (R5; unit style needs the unit's local part).
//! Within each step the later arrival is the one disambiguated.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::config::{DuplicateStyle, KindRule, KnownAlias, LocalForm, NamingConfig};
use super::fold::{clean, fold};
use super::person::{NameError, NameWarning, legacy_lookalikes, person_base};
use super::unit::{UnitStem, unit_stem};

/// The longest local part, in octets (RFC 5321 §4.5.3.1.1).
pub const MAX_LOCAL_LEN: usize = 64;

/// One unit of an import file (`kind,code,name,parent`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitInput {
    /// The kind id, e.g. `department` (see [`super::kind_ids`]).
    pub kind: String,
    /// The unit's code, unique across the directory.
    pub code: String,
    /// The unit's full name as written, e.g. `Sở Y tế`.
    pub name: String,
    /// The parent unit's code: the district of a district office, commune, ward or township.
    pub parent: Option<String>,
    /// A local part set by the operator; used as is (after lower-casing) and never recomputed.
    pub override_local: Option<String>,
}

impl UnitInput {
    /// A unit without override; an empty `parent` means none.
    pub fn new(kind: &str, code: &str, name: &str, parent: Option<&str>) -> Self {
        UnitInput {
            kind: kind.trim().to_owned(),
            code: code.trim().to_owned(),
            name: name.to_owned(),
            parent: parent
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_owned),
            override_local: None,
        }
    }
}

/// One person of an import file (`full_name,unit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonInput {
    /// The person's full name as written, e.g. `Nông Văn Đạt`.
    pub full_name: String,
    /// The code of the person's unit.
    pub unit: String,
    /// A local part set by the operator; used as is (after lower-casing) and never recomputed.
    pub override_local: Option<String>,
}

impl PersonInput {
    /// A person without override.
    pub fn new(full_name: &str, unit: &str) -> Self {
        PersonInput {
            full_name: full_name.to_owned(),
            unit: unit.trim().to_owned(),
            override_local: None,
        }
    }
}

/// A unit already in the directory, with the local part it was given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExistingUnit {
    /// Its code. A unit of the import with this code keeps `local` (R12).
    pub code: String,
    /// Its kind id; a unit of a [`LocalForm::District`] kind counts as a district for R10.
    pub kind: String,
    /// Its name, shown in warnings.
    pub name: String,
    /// Its local part.
    pub local: String,
}

/// Who holds a local part of the namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// A reserved name (postmaster, abuse, …).
    Reserved,
    /// An alias, with the local part it points to when known.
    Alias {
        /// The local part the alias points to.
        target: Option<String>,
    },
    /// An address already given whose owner is not known here.
    Address,
    /// A unit, of this import or already in the directory.
    Unit {
        /// The unit's code.
        code: String,
        /// The unit's name.
        name: String,
    },
    /// A person, of this import (with the row) or already in the directory.
    Person {
        /// The person's name as stored ([`clean`]).
        name: String,
        /// The person's row in this import, if the person is part of it.
        row: Option<usize>,
    },
}

impl fmt::Display for Holder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Holder::Reserved => f.write_str("a reserved name"),
            Holder::Alias { target: Some(t) } => write!(f, "an alias of {t}"),
            Holder::Alias { target: None } => f.write_str("an alias"),
            Holder::Address => f.write_str("an address already given"),
            Holder::Unit { code, name } => write!(f, "the unit {name} ({code})"),
            Holder::Person { name, row: Some(r) } => write!(f, "{name} (people row {r})"),
            Holder::Person { name, row: None } => write!(f, "{name}"),
        }
    }
}

/// The local parts already in use: addresses given, aliases, existing units (R11, R12).
/// Reserved names and the configured known aliases are added by the planner itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taken {
    locals: BTreeMap<String, Holder>,
    units: BTreeMap<String, ExistingUnit>,
}

impl Taken {
    /// Nothing taken yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// An address already given, owner unknown.
    pub fn add_address(&mut self, local: &str) {
        self.insert(local, Holder::Address);
    }

    /// A person's address already given; the name appears in duplicate warnings.
    pub fn add_person(&mut self, local: &str, full_name: &str) {
        let name = clean(full_name);
        self.insert(local, Holder::Person { name, row: None });
    }

    /// A name reserved in the directory (R11), besides the configured ones.
    pub fn add_reserved(&mut self, local: &str) {
        self.insert(local, Holder::Reserved);
    }

    /// An alias already defined.
    pub fn add_alias(&mut self, alias: &str, target: Option<&str>) {
        let target = target.map(|t| t.trim().to_ascii_lowercase());
        self.insert(alias, Holder::Alias { target });
    }

    /// A unit already in the directory: its local part is taken, it may be a parent, and a
    /// unit of the import with the same code keeps its local part.
    pub fn add_unit(&mut self, unit: ExistingUnit) {
        let holder = Holder::Unit {
            code: unit.code.clone(),
            name: clean(&unit.name),
        };
        self.insert(&unit.local, holder);
        self.units.insert(unit.code.clone(), unit);
    }

    /// Whether a local part is taken (compared in lower case).
    pub fn contains(&self, local: &str) -> bool {
        self.locals.contains_key(&normalise_local(local))
    }

    /// Who holds a local part.
    pub fn holder(&self, local: &str) -> Option<&Holder> {
        self.locals.get(&normalise_local(local))
    }

    /// The existing unit with this code.
    pub fn unit(&self, code: &str) -> Option<&ExistingUnit> {
        self.units.get(code)
    }

    fn insert(&mut self, local: &str, holder: Holder) {
        self.locals.insert(normalise_local(local), holder);
    }
}

impl<S: AsRef<str>> FromIterator<S> for Taken {
    /// Addresses already given, owners unknown.
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        let mut taken = Taken::new();
        for local in iter {
            taken.add_address(local.as_ref());
        }
        taken
    }
}

/// Where a proposed local part comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// The address rules.
    Rules,
    /// The operator's override (R12).
    Override,
    /// The unit is already in the directory and keeps its address (R12).
    Existing,
}

/// A remark on a proposal for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// A remark on a person's name (R4).
    Name(NameWarning),
    /// The wanted local part is held by someone else; this later arrival got a disambiguated
    /// form (R5, R11).
    Taken {
        /// The local part the rules gave first.
        wanted: String,
        /// Who holds it.
        holder: Holder,
    },
    /// Two different names fold to the same letters (Hùng/Hưng, Bình Lãng/Bình Lăng).
    FoldsEqual {
        /// This row's name.
        name: String,
        /// The other name.
        other: String,
    },
    /// Every unit of this kind is reviewed by the operator (organisations, R9).
    KindNeedsReview {
        /// The kind id.
        kind: String,
    },
    /// A department-level agency that is not a sở: no prefix (R9).
    WithoutPrefix {
        /// The configured head its name starts with.
        head: String,
    },
    /// The name equals a district's local part, so the kind's prefix was added (R10.2).
    NamedLikeDistrict {
        /// The district's local part.
        district: String,
    },
    /// Several communes, wards or townships share these letters; each carries its district
    /// (R10.3).
    SharedLetters {
        /// The shared letters.
        letters: String,
        /// How many share them in this import.
        count: usize,
    },
    /// The rules gave more than 64 octets; the local part was cut (R11).
    Truncated {
        /// What the rules gave.
        full: String,
    },
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::Name(w) => w.fmt(f),
            Warning::Taken { wanted, holder } => {
                write!(f, "{wanted} is already held by {holder}")
            }
            Warning::FoldsEqual { name, other } => write!(
                f,
                "{name:?} and {other:?} are different names with the same address letters"
            ),
            Warning::KindNeedsReview { kind } => {
                write!(f, "addresses of kind {kind} are always reviewed")
            }
            Warning::WithoutPrefix { head } => write!(
                f,
                "a department-level agency that is not a sở ({head}): no prefix; review it"
            ),
            Warning::NamedLikeDistrict { district } => {
                write!(f, "named like the district {district}: prefixed")
            }
            Warning::SharedLetters { letters, count } => write!(
                f,
                "{count} communes, wards or townships fold to {letters}: each carries its district"
            ),
            Warning::Truncated { full } => {
                write!(f, "{full} is longer than 64 octets and was cut")
            }
        }
    }
}

/// The proposed local part of one unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitProposal {
    /// The unit's index in the input slice (0-based; the CSV line is row + 2).
    pub row: usize,
    /// The unit's code.
    pub code: String,
    /// The unit's kind id.
    pub kind: String,
    /// The unit's name as stored ([`clean`]).
    pub name: String,
    /// The proposed local part.
    pub local: String,
    /// Where `local` comes from.
    pub origin: Origin,
    /// The operator should review this proposal before it is applied.
    pub review: bool,
    /// Remarks for the operator.
    pub warnings: Vec<Warning>,
}

/// The proposed local part of one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonProposal {
    /// The person's index in the input slice (0-based; the CSV line is row + 2).
    pub row: usize,
    /// The person's name as stored ([`clean`]).
    pub full_name: String,
    /// The code of the person's unit.
    pub unit_code: String,
    /// The proposed local part.
    pub local: String,
    /// Where `local` comes from.
    pub origin: Origin,
    /// The operator should review this proposal before it is applied.
    pub review: bool,
    /// Remarks for the operator.
    pub warnings: Vec<Warning>,
}

/// The proposals for a whole import, in input order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One proposal per unit row.
    pub units: Vec<UnitProposal>,
    /// One proposal per person row.
    pub people: Vec<PersonProposal>,
    /// The configured known aliases whose target this plan gives (e.g. `soittt` → `sotttt`).
    pub aliases: Vec<KnownAlias>,
}

impl Plan {
    /// Every local part the plan gives: units then people.
    pub fn locals(&self) -> impl Iterator<Item = &str> {
        self.units
            .iter()
            .map(|u| u.local.as_str())
            .chain(self.people.iter().map(|p| p.local.as_str()))
    }

    /// The proposal for the unit with this code.
    pub fn unit(&self, code: &str) -> Option<&UnitProposal> {
        self.units.iter().find(|u| u.code == code)
    }
}

/// Which input a [`RowError`] concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Table {
    /// The units.
    Units,
    /// The people.
    People,
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Table::Units => "units",
            Table::People => "people",
        })
    }
}

/// A row the rules cannot give an address to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{table} row {row}: {reason}")]
pub struct RowError {
    /// Units or people.
    pub table: Table,
    /// The index in the input slice (0-based; the CSV line is row + 2).
    pub row: usize,
    /// What is wrong.
    pub reason: RowErrorReason,
}

/// Why a row cannot be given an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RowErrorReason {
    /// The kind id is not configured.
    #[error("unknown unit kind {kind:?}")]
    UnknownKind {
        /// The kind id as given.
        kind: String,
    },
    /// The unit has no code.
    #[error("the unit code is empty")]
    EmptyCode,
    /// Two units of the import have the same code.
    #[error("the unit code {code} appears more than once")]
    DuplicateCode {
        /// The code.
        code: String,
    },
    /// The name is empty after cleaning.
    #[error("the name is empty")]
    EmptyName,
    /// The name is only a kind word ("Sở").
    #[error("the name is only the kind word {word:?}")]
    OnlyKindWord {
        /// The kind word.
        word: String,
    },
    /// Nothing of the name folds to a letter or digit.
    #[error("the name has no letter that can be written in an address")]
    NoLetters,
    /// A unit's name holds a control character.
    #[error("forbidden character {ch:?} ({}) in the name", .ch.escape_unicode())]
    BadCharacter {
        /// The offending character.
        ch: char,
    },
    /// A person's name is refused (R4).
    #[error(transparent)]
    Name(#[from] NameError),
    /// The parent code matches no unit.
    #[error("unknown parent code {code}")]
    UnknownParent {
        /// The parent code as given.
        code: String,
    },
    /// A district office's parent is not a district.
    #[error("the parent {code} of a district office is not a district")]
    ParentNotDistrict {
        /// The parent code.
        code: String,
    },
    /// A district office without parent.
    #[error("a district office needs its district as parent")]
    MissingParent,
    /// A person's unit code matches no unit.
    #[error("unknown unit code {code:?}")]
    UnknownUnit {
        /// The unit code as given.
        code: String,
    },
    /// An override is not a valid local part.
    #[error(
        "the override {local:?} is not a valid local part ([a-z0-9] labels joined by single dots, \
         at most 64 octets)"
    )]
    BadOverride {
        /// The override as given.
        local: String,
    },
    /// An override is held by someone else.
    #[error("the override {local} is already held by {holder}")]
    OverrideTaken {
        /// The override.
        local: String,
        /// Who holds it.
        holder: Holder,
    },
    /// A unit already in the directory was given a different override.
    #[error("the unit already has the address {existing}; an address once given is not changed")]
    AlreadyAddressed {
        /// Its address.
        existing: String,
    },
    /// R10.3 needs a disambiguator this commune does not have.
    #[error(
        "several communes fold to {letters}, and this one has neither a district nor a \
         disambiguator in naming.commune_disambiguators"
    )]
    MissingDisambiguator {
        /// The shared letters.
        letters: String,
    },
}

/// Whether `local` is a local part the rules may hand out: `[a-z0-9]+(\.[a-z0-9]+)*`, at most
/// 64 octets (so no leading, trailing or doubled dots).
pub fn is_valid_local(local: &str) -> bool {
    !local.is_empty()
        && local.len() <= MAX_LOCAL_LEN
        && local.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

fn normalise_local(local: &str) -> String {
    local.trim().to_ascii_lowercase()
}

/// Proposes a local part for every unit and person (R5–R12).
///
/// `units` and `people` are taken in input order; `taken` holds what is already in use
/// (addresses, aliases, existing units). The configured reserved names and known aliases are
/// added to the namespace. A person's or unit's own existing address must not be in `taken`
/// unless it is an [`ExistingUnit`] with the same code (which then keeps it). Every row that
/// cannot be given an address is reported, with its index, and no plan is returned.
pub fn plan(
    config: &NamingConfig,
    units: &[UnitInput],
    people: &[PersonInput],
    taken: &Taken,
) -> Result<Plan, Vec<RowError>> {
    Planner::new(config, taken).run(units, people)
}

/// A unit's parent, of the import or already in the directory.
#[derive(Debug, Clone, Copy)]
enum Parent<'a> {
    Row(usize),
    Existing(&'a ExistingUnit),
}

/// What the planner knows of one unit row.
struct UnitState<'a> {
    kind: &'a KindRule,
    stem: UnitStem,
    /// The parent when it is a district.
    district: Option<Parent<'a>>,
    local: Option<String>,
    origin: Origin,
    review: bool,
    warnings: Vec<Warning>,
}

/// What the planner knows of one person row.
struct PersonState {
    name: String,
    base: String,
    unit_row: Option<usize>,
    local: Option<String>,
    origin: Origin,
    review: bool,
    warnings: Vec<Warning>,
}

struct Planner<'a> {
    config: &'a NamingConfig,
    taken: &'a Taken,
    namespace: BTreeMap<String, Holder>,
    errors: Vec<RowError>,
}

impl<'a> Planner<'a> {
    fn new(config: &'a NamingConfig, taken: &'a Taken) -> Self {
        let mut namespace = taken.locals.clone();
        for reserved in &config.reserved {
            namespace
                .entry(normalise_local(reserved))
                .or_insert(Holder::Reserved);
        }
        for alias in &config.known_aliases {
            namespace
                .entry(normalise_local(&alias.alias))
                .or_insert(Holder::Alias {
                    target: Some(normalise_local(&alias.target)),
                });
        }
        Planner {
            config,
            taken,
            namespace,
            errors: Vec::new(),
        }
    }

    fn error(&mut self, table: Table, row: usize, reason: RowErrorReason) {
        self.errors.push(RowError { table, row, reason });
    }

    fn run(
        mut self,
        units: &'a [UnitInput],
        people: &'a [PersonInput],
    ) -> Result<Plan, Vec<RowError>> {
        let (mut unit_states, codes) = self.analyse_units(units);
        let mut person_states = self.analyse_people(people, &codes);
        self.claim_fixed_units(units, &mut unit_states);
        self.claim_fixed_people(people, &mut person_states);
        self.assign_units(units, &mut unit_states, |f| {
            !matches!(f, LocalForm::DistrictOffice | LocalForm::Commune { .. })
        });
        self.assign_units(units, &mut unit_states, |f| {
            matches!(f, LocalForm::DistrictOffice)
        });
        self.assign_communes(units, &mut unit_states);
        self.assign_people(people, &unit_states, &mut person_states);

        if !self.errors.is_empty() {
            let mut errors = self.errors;
            errors.sort_by_key(|e| (e.table, e.row));
            return Err(errors);
        }
        let unit_proposals: Vec<UnitProposal> = units
            .iter()
            .zip(unit_states)
            .enumerate()
            .filter_map(|(row, (input, state))| {
                let state = state?;
                Some(UnitProposal {
                    row,
                    code: input.code.trim().to_owned(),
                    kind: state.kind.id.clone(),
                    name: state.stem.name,
                    local: state.local?,
                    origin: state.origin,
                    review: state.review,
                    warnings: state.warnings,
                })
            })
            .collect();
        let person_proposals: Vec<PersonProposal> = people
            .iter()
            .zip(person_states)
            .enumerate()
            .filter_map(|(row, (input, state))| {
                let state = state?;
                Some(PersonProposal {
                    row,
                    full_name: state.name,
                    unit_code: input.unit.trim().to_owned(),
                    local: state.local?,
                    origin: state.origin,
                    review: state.review,
                    warnings: state.warnings,
                })
            })
            .collect();
        // Without errors every row was given a local part.
        debug_assert_eq!(unit_proposals.len(), units.len());
        debug_assert_eq!(person_proposals.len(), people.len());
        let given: BTreeSet<&str> = unit_proposals
            .iter()
            .map(|u| u.local.as_str())
            .chain(person_proposals.iter().map(|p| p.local.as_str()))
            .collect();
        let aliases = self
            .config
            .known_aliases
            .iter()
            .filter(|a| {
                given.contains(normalise_local(&a.target).as_str())
                    && matches!(
                        self.namespace.get(&normalise_local(&a.alias)),
                        Some(Holder::Alias { .. })
                    )
            })
            .cloned()
            .collect();
        Ok(Plan {
            units: unit_proposals,
            people: person_proposals,
            aliases,
        })
    }

    /// Kinds, codes, names (R6–R9) and parents of every unit row.
    fn analyse_units(
        &mut self,
        units: &'a [UnitInput],
    ) -> (Vec<Option<UnitState<'a>>>, BTreeMap<&'a str, usize>) {
        let mut codes: BTreeMap<&str, usize> = BTreeMap::new();
        let mut states = Vec::with_capacity(units.len());
        for (row, input) in units.iter().enumerate() {
            let code = input.code.trim();
            if code.is_empty() {
                self.error(Table::Units, row, RowErrorReason::EmptyCode);
            } else if codes.contains_key(code) {
                self.error(
                    Table::Units,
                    row,
                    RowErrorReason::DuplicateCode { code: code.into() },
                );
            } else {
                codes.insert(code, row);
            }
            let Some(kind) = self.config.kind(input.kind.trim()) else {
                let kind = input.kind.clone();
                self.error(Table::Units, row, RowErrorReason::UnknownKind { kind });
                states.push(None);
                continue;
            };
            match unit_stem(self.config, kind, &input.name) {
                Ok(stem) => states.push(Some({
                    // Look-alikes of a mis-converted legacy file (R4) are pointed out in a
                    // unit's name too; `Ð` folds to `d` all the same (R2).
                    let lookalikes: Vec<Warning> = legacy_lookalikes(&input.name)
                        .into_iter()
                        .map(|found| Warning::Name(NameWarning::LegacyLookalike { found }))
                        .collect();
                    UnitState {
                        kind,
                        review: stem.review || !lookalikes.is_empty(),
                        warnings: stem.warnings.iter().cloned().chain(lookalikes).collect(),
                        stem,
                        district: None,
                        local: None,
                        origin: Origin::Rules,
                    }
                })),
                Err(reason) => {
                    self.error(Table::Units, row, reason);
                    states.push(None);
                }
            }
        }
        // Parents, now that every code is known.
        for (row, input) in units.iter().enumerate() {
            let parent_code = input
                .parent
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty());
            let parent = match parent_code {
                None => None,
                Some(code) => match codes.get(code) {
                    Some(&r) => Some(Parent::Row(r)),
                    None => match self.taken.unit(code) {
                        Some(existing) => Some(Parent::Existing(existing)),
                        None => {
                            let code = code.to_owned();
                            self.error(Table::Units, row, RowErrorReason::UnknownParent { code });
                            continue;
                        }
                    },
                },
            };
            let district = parent.filter(|p| match *p {
                Parent::Row(r) => units
                    .get(r)
                    .and_then(|u| self.config.kind(u.kind.trim()))
                    .is_some_and(|k| k.local == LocalForm::District),
                Parent::Existing(e) => self
                    .config
                    .kind(&e.kind)
                    .is_some_and(|k| k.local == LocalForm::District),
            });
            let Some(state) = states[row].as_mut() else {
                continue;
            };
            if state.kind.local == LocalForm::DistrictOffice && district.is_none() {
                let reason = match parent_code {
                    Some(code) => RowErrorReason::ParentNotDistrict { code: code.into() },
                    None => RowErrorReason::MissingParent,
                };
                self.error(Table::Units, row, reason);
                states[row] = None;
                continue;
            }
            state.district = district;
        }
        (states, codes)
    }

    /// Names (R4) and units of every person row.
    fn analyse_people(
        &mut self,
        people: &[PersonInput],
        codes: &BTreeMap<&str, usize>,
    ) -> Vec<Option<PersonState>> {
        let mut states = Vec::with_capacity(people.len());
        for (row, input) in people.iter().enumerate() {
            let code = input.unit.trim();
            let unit_row = codes.get(code).copied();
            if unit_row.is_none() && self.taken.unit(code).is_none() {
                let code = code.to_owned();
                self.error(Table::People, row, RowErrorReason::UnknownUnit { code });
            }
            match person_base(&input.full_name) {
                Ok(base) => {
                    let review = base
                        .warnings
                        .iter()
                        .any(|w| matches!(w, NameWarning::LegacyLookalike { .. }));
                    states.push(Some(PersonState {
                        name: clean(&input.full_name),
                        base: base.base,
                        unit_row,
                        local: None,
                        origin: Origin::Rules,
                        review,
                        warnings: base.warnings.into_iter().map(Warning::Name).collect(),
                    }));
                }
                Err(e) => {
                    self.error(Table::People, row, e.into());
                    states.push(None);
                }
            }
        }
        states
    }

    /// Units already in the directory keep their address; overrides are claimed (R12).
    fn claim_fixed_units(&mut self, units: &[UnitInput], states: &mut [Option<UnitState<'a>>]) {
        for (row, input) in units.iter().enumerate() {
            let Some(state) = states[row].as_mut() else {
                continue;
            };
            let holder = Holder::Unit {
                code: input.code.trim().to_owned(),
                name: state.stem.name.clone(),
            };
            if let Some(existing) = self.taken.unit(input.code.trim()) {
                let existing_local = normalise_local(&existing.local);
                if let Some(wanted) = &input.override_local
                    && normalise_local(wanted) != existing_local
                {
                    let reason = RowErrorReason::AlreadyAddressed {
                        existing: existing_local,
                    };
                    self.error(Table::Units, row, reason);
                    continue;
                }
                state.local = Some(existing_local);
                state.origin = Origin::Existing;
            } else if let Some(wanted) = &input.override_local {
                match self.claim_override(wanted, holder) {
                    Ok(local) => {
                        state.local = Some(local);
                        state.origin = Origin::Override;
                    }
                    Err(reason) => self.error(Table::Units, row, reason),
                }
            }
        }
    }

    /// Operator overrides of persons are claimed (R12).
    fn claim_fixed_people(&mut self, people: &[PersonInput], states: &mut [Option<PersonState>]) {
        for (row, input) in people.iter().enumerate() {
            let (Some(state), Some(wanted)) = (states[row].as_mut(), &input.override_local) else {
                continue;
            };
            let holder = Holder::Person {
                name: state.name.clone(),
                row: Some(row),
            };
            match self.claim_override(wanted, holder) {
                Ok(local) => {
                    state.local = Some(local);
                    state.origin = Origin::Override;
                }
                Err(reason) => self.error(Table::People, row, reason),
            }
        }
    }

    fn claim_override(&mut self, wanted: &str, holder: Holder) -> Result<String, RowErrorReason> {
        let local = normalise_local(wanted);
        if !is_valid_local(&local) {
            return Err(RowErrorReason::BadOverride {
                local: wanted.to_owned(),
            });
        }
        if let Some(other) = self.namespace.get(&local) {
            return Err(RowErrorReason::OverrideTaken {
                local,
                holder: other.clone(),
            });
        }
        self.namespace.insert(local.clone(), holder);
        Ok(local)
    }

    /// R9 + R11 for the units whose form passes `select`, in input order.
    fn assign_units(
        &mut self,
        units: &[UnitInput],
        states: &mut [Option<UnitState<'a>>],
        select: impl Fn(&LocalForm) -> bool,
    ) {
        for row in 0..units.len() {
            let Some(state) = states[row].as_ref() else {
                continue;
            };
            if state.local.is_some() || !select(&state.kind.local) {
                continue;
            }
            let candidate = if state.kind.local == LocalForm::DistrictOffice {
                // The district is known to exist: checked in analyse_units.
                let Some(district) = state.district.and_then(|d| district_local(states, d)) else {
                    continue; // the district itself failed and was reported
                };
                format!("{}.{district}", state.stem.stem)
            } else {
                state.stem.stem.clone()
            };
            let holder = Holder::Unit {
                code: units[row].code.trim().to_owned(),
                name: state.stem.name.clone(),
            };
            let Some(state) = states[row].as_mut() else {
                continue;
            };
            let local = self.claim_rule_local(&candidate, None, holder, state);
            state.local = Some(local);
        }
    }

    /// R10: communes, wards and townships, decided together.
    fn assign_communes(&mut self, units: &[UnitInput], states: &mut [Option<UnitState<'a>>]) {
        // R10.2: the local parts of every district, present or retired.
        let mut districts: BTreeSet<String> = self
            .config
            .retired_districts
            .iter()
            .map(|d| fold(d))
            .filter(|d| !d.is_empty())
            .collect();
        districts.extend(self.taken.units.values().filter_map(|u| {
            let kind = self.config.kind(&u.kind)?;
            (kind.local == LocalForm::District).then(|| normalise_local(&u.local))
        }));
        districts.extend(states.iter().flatten().filter_map(|s| {
            (s.kind.local == LocalForm::District)
                .then(|| s.local.clone())
                .flatten()
        }));

        // b for every commune, prefixed when named like a district.
        let mut letters: Vec<Option<String>> = vec![None; units.len()];
        let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (row, state) in states.iter_mut().enumerate() {
            let Some(state) = state.as_mut() else {
                continue;
            };
            let LocalForm::Commune { prefix } = &state.kind.local else {
                continue;
            };
            let mut b = state.stem.stem.clone();
            if districts.contains(&b) {
                if state.origin == Origin::Rules {
                    state.warnings.push(Warning::NamedLikeDistrict {
                        district: b.clone(),
                    });
                }
                b = format!("{}{b}", fold(prefix));
            }
            groups.entry(b.clone()).or_default().push(row);
            letters[row] = Some(b);
        }

        for row in 0..units.len() {
            let Some(b) = letters[row].clone() else {
                continue;
            };
            let Some(state) = states[row].as_ref() else {
                continue;
            };
            if state.local.is_some() {
                continue;
            }
            let code = units[row].code.trim().to_owned();
            let label = match self.config.commune_disambiguators.get(&code) {
                Some(label) => as_label(label),
                None => state.district.and_then(|d| {
                    let configured = match d {
                        Parent::Row(r) => self.config.district_labels.get(units[r].code.trim()),
                        Parent::Existing(e) => self.config.district_labels.get(&e.code),
                    };
                    match configured {
                        Some(label) => as_label(label),
                        None => district_local(states, d),
                    }
                }),
            };
            let members = &groups[&b];
            let mut warnings = Vec::new();
            let (candidate, alternative) = if members.len() > 1 {
                warnings.push(Warning::SharedLetters {
                    letters: b.clone(),
                    count: members.len(),
                });
                let name_part = &state.stem.name_part;
                let mut others: Vec<&str> = Vec::new();
                for &m in members {
                    if let Some(other) = states[m].as_ref().map(|s| s.stem.name_part.as_str())
                        && other != name_part
                        && !others.contains(&other)
                    {
                        others.push(other);
                    }
                }
                for other in others {
                    warnings.push(Warning::FoldsEqual {
                        name: name_part.clone(),
                        other: other.to_owned(),
                    });
                }
                let Some(label) = label else {
                    self.error(
                        Table::Units,
                        row,
                        RowErrorReason::MissingDisambiguator { letters: b },
                    );
                    continue;
                };
                (format!("{b}.{label}"), None)
            } else {
                (b.clone(), label.map(|label| format!("{b}.{label}")))
            };
            let holder = Holder::Unit {
                code,
                name: state.stem.name.clone(),
            };
            let Some(state) = states[row].as_mut() else {
                continue;
            };
            state.warnings.extend(warnings);
            let local = self.claim_rule_local(&candidate, alternative.as_deref(), holder, state);
            state.local = Some(local);
        }
    }

    /// R11 for a unit: the candidate if free, else the alternative (a commune's district), else
    /// the first free number; the operator is warned.
    fn claim_rule_local(
        &mut self,
        candidate: &str,
        alternative: Option<&str>,
        holder: Holder,
        state: &mut UnitState<'_>,
    ) -> String {
        let (local, truncated) = fit(candidate, "");
        if truncated {
            state.warnings.push(Warning::Truncated {
                full: candidate.to_owned(),
            });
            state.review = true;
        }
        if let Some(other) = self.namespace.get(&local) {
            state.warnings.push(Warning::Taken {
                wanted: local.clone(),
                holder: other.clone(),
            });
            state.review = true;
        } else {
            self.namespace.insert(local.clone(), holder);
            return local;
        }
        let mut base = local;
        if let Some(alternative) = alternative {
            let (alt, truncated) = fit(alternative, "");
            if !truncated && !self.namespace.contains_key(&alt) {
                self.namespace.insert(alt.clone(), holder);
                return alt;
            }
            base = alt;
        }
        let local = self.numbered(&base);
        self.namespace.insert(local.clone(), holder);
        local
    }

    /// R5 for every person without override, in input order.
    fn assign_people(
        &mut self,
        people: &[PersonInput],
        units: &[Option<UnitState<'a>>],
        states: &mut [Option<PersonState>],
    ) {
        for (row, input) in people.iter().enumerate() {
            let Some(state) = states[row].as_mut() else {
                continue;
            };
            if state.local.is_some() {
                continue;
            }
            let holder = Holder::Person {
                name: state.name.clone(),
                row: Some(row),
            };
            let (base, truncated) = fit(&state.base, "");
            if truncated {
                state.warnings.push(Warning::Truncated {
                    full: state.base.clone(),
                });
                state.review = true;
            }
            let Some(other) = self.namespace.get(&base).cloned() else {
                self.namespace.insert(base.clone(), holder);
                state.local = Some(base);
                continue;
            };
            if let Holder::Person { name, .. } = &other
                && *name != state.name
                && fold(name) == fold(&state.name)
            {
                state.warnings.push(Warning::FoldsEqual {
                    name: state.name.clone(),
                    other: name.clone(),
                });
            }
            if !matches!(other, Holder::Person { .. } | Holder::Address) {
                state.review = true;
            }
            state.warnings.push(Warning::Taken {
                wanted: base.clone(),
                holder: other,
            });
            if self.config.person_duplicates == DuplicateStyle::Unit {
                let unit_local = match state.unit_row {
                    Some(r) => units[r].as_ref().and_then(|u| u.local.clone()),
                    None => self
                        .taken
                        .unit(input.unit.trim())
                        .map(|u| normalise_local(&u.local)),
                };
                if let Some(unit_local) = unit_local {
                    let candidate = format!("{base}.{unit_local}");
                    if candidate.len() <= MAX_LOCAL_LEN && !self.namespace.contains_key(&candidate)
                    {
                        self.namespace.insert(candidate.clone(), holder);
                        state.local = Some(candidate);
                        continue;
                    }
                }
            }
            let local = self.numbered(&base);
            self.namespace.insert(local.clone(), holder);
            state.local = Some(local);
        }
    }

    /// Number style: `base` + the smallest free n ≥ 2, the base cut to keep 64 octets.
    fn numbered(&self, base: &str) -> String {
        (2u64..)
            .map(|n| fit(base, &n.to_string()).0)
            .find(|c| !self.namespace.contains_key(c))
            .expect("the namespace is finite")
    }
}

/// The local part of a district parent, once given.
fn district_local(states: &[Option<UnitState<'_>>], district: Parent<'_>) -> Option<String> {
    match district {
        Parent::Row(r) => states[r].as_ref().and_then(|s| s.local.clone()),
        Parent::Existing(e) => Some(normalise_local(&e.local)),
    }
}

/// A configured disambiguator as dot-separated folded labels (`Hòa An` → `hoaan`), or `None`
/// when nothing is left.
pub(crate) fn as_label(configured: &str) -> Option<String> {
    let labels: Vec<String> = configured
        .split('.')
        .map(fold)
        .filter(|l| !l.is_empty())
        .collect();
    (!labels.is_empty()).then(|| labels.join("."))
}

/// `base` + `suffix` within 64 octets: `base` is cut if needed (and a dot left at the cut
/// dropped). Returns whether it was cut.
fn fit(base: &str, suffix: &str) -> (String, bool) {
    if base.len() + suffix.len() <= MAX_LOCAL_LEN {
        return (format!("{base}{suffix}"), false);
    }
    let keep = MAX_LOCAL_LEN.saturating_sub(suffix.len());
    // Local parts are ASCII: any index is a character boundary.
    let cut = base[..keep.min(base.len())].trim_end_matches('.');
    (format!("{cut}{suffix}"), true)
}

#[cfg(test)]
mod tests {
    use super::super::config::kind_ids::*;
    use super::super::config::known_misprints;
    use super::*;

    type UnitRow<'a> = (&'a str, &'a str, &'a str, &'a str);

    fn units(rows: &[UnitRow<'_>]) -> Vec<UnitInput> {
        rows.iter()
            .map(|(kind, code, name, parent)| UnitInput::new(kind, code, name, Some(parent)))
            .collect()
    }

    fn people(rows: &[(&str, &str)]) -> Vec<PersonInput> {
        rows.iter()
            .map(|(name, unit)| PersonInput::new(name, unit))
            .collect()
    }

    fn config(style: DuplicateStyle) -> NamingConfig {
        NamingConfig {
            person_duplicates: style,
            ..NamingConfig::default()
        }
    }

    fn run(config: &NamingConfig, u: &[UnitRow<'_>], p: &[(&str, &str)]) -> Plan {
        plan(config, &units(u), &people(p), &Taken::new()).unwrap_or_else(|e| panic!("{e:#?}"))
    }

    fn unit_locals(plan: &Plan) -> Vec<&str> {
        plan.units.iter().map(|u| u.local.as_str()).collect()
    }

    fn person_locals(plan: &Plan) -> Vec<&str> {
        plan.people.iter().map(|p| p.local.as_str()).collect()
    }

    const SO_NOI_VU: UnitRow<'static> = (DEPARTMENT, "D1", "Sở Nội vụ", "");
    const SO_Y_TE: UnitRow<'static> = (DEPARTMENT, "D2", "Sở Y tế", "");
    const BAO_LAC: UnitRow<'static> = (DISTRICT, "H1", "Huyện Bảo Lạc", "");
    const NGUYEN_BINH: UnitRow<'static> = (DISTRICT, "H2", "Huyện Nguyên Bình", "");
    const HOA_AN: UnitRow<'static> = (DISTRICT, "H3", "Huyện Hòa An", "");

    /// Scenarios: duplicate style, units, people, expected unit locals, expected person locals.
    type Scenario<'a> = (
        &'a str,
        DuplicateStyle,
        &'a [UnitRow<'a>],
        &'a [(&'a str, &'a str)],
        &'a [&'a str],
        &'a [&'a str],
    );

    fn check(scenarios: &[Scenario<'_>]) {
        for (title, style, u, p, want_units, want_people) in scenarios {
            let plan = run(&config(*style), u, p);
            assert_eq!(unit_locals(&plan), *want_units, "{title}");
            assert_eq!(person_locals(&plan), *want_people, "{title}");
        }
    }

    /// ADDRESS-RULES.md, "The regulation's own examples (must hold)", one row per example.
    #[test]
    fn the_regulations_own_examples() {
        use DuplicateStyle::{Number, Unit};
        let dat = [("Nông Văn Đạt", "D1"), ("Nông Văn Đạt", "D2")];
        check(&[
            (
                "Nông Văn Đạt",
                Number,
                &[SO_NOI_VU],
                &dat[..1],
                &["sonoivu"],
                &["datnv"],
            ),
            (
                "the second one datnv2",
                Number,
                &[SO_NOI_VU, SO_Y_TE],
                &dat,
                &["sonoivu", "soyte"],
                &["datnv", "datnv2"],
            ),
            (
                "datnv.soyte in unit style from Sở Y tế",
                Unit,
                &[SO_NOI_VU, SO_Y_TE],
                &dat,
                &["sonoivu", "soyte"],
                &["datnv", "datnv.soyte"],
            ),
            (
                "Sở Thông tin và Truyền thông",
                Number,
                &[(DEPARTMENT, "D", "Sở Thông tin và Truyền thông", "")],
                &[],
                &["sotttt"],
                &[],
            ),
            (
                "Ban Dân tộc",
                Number,
                &[(BOARD, "B", "Ban Dân tộc", "")],
                &[],
                &["bandantoc"],
                &[],
            ),
            (
                "Hội Liên hiệp Phụ nữ tỉnh",
                Number,
                &[(ORGANISATION, "O", "Hội Liên hiệp Phụ nữ tỉnh", "")],
                &[],
                &["hoilhpntinh"],
                &[],
            ),
            (
                "Huyện Bảo Lạc / Thị trấn Bảo Lạc",
                Number,
                &[BAO_LAC, (TOWNSHIP, "T", "Thị trấn Bảo Lạc", "H1")],
                &[],
                &["baolac", "ttbaolac"],
                &[],
            ),
            (
                "Xã Hưng Đạo in Nguyên Bình and in Hòa An, imported together",
                Number,
                &[
                    NGUYEN_BINH,
                    HOA_AN,
                    (COMMUNE, "C1", "Xã Hưng Đạo", "H2"),
                    (COMMUNE, "C2", "Xã Hưng Đạo", "H3"),
                ],
                &[],
                &["nguyenbinh", "hoaan", "hungdao.nguyenbinh", "hungdao.hoaan"],
                &[],
            ),
        ]);
    }

    #[test]
    fn more_cases() {
        use DuplicateStyle::{Number, Unit};
        let ten_dats = [("Nông Văn Đạt", "D1"); 10];
        check(&[
            (
                "datnv10: numbers are unpadded",
                Number,
                &[SO_NOI_VU],
                &ten_dats,
                &["sonoivu"],
                &[
                    "datnv", "datnv2", "datnv3", "datnv4", "datnv5", "datnv6", "datnv7", "datnv8",
                    "datnv9", "datnv10",
                ],
            ),
            (
                "departments and boards",
                Number,
                &[
                    (DEPARTMENT, "D1", "Sở Tài nguyên và Môi trường", ""),
                    (DEPARTMENT, "D2", "Sở Kế hoạch và Đầu tư", ""),
                    (DEPARTMENT, "D3", "Sở Lao động - Thương binh và Xã hội", ""),
                    (DEPARTMENT, "D4", "Y tế", ""),
                    (BOARD, "B1", "Ban Quản lý Khu kinh tế tỉnh", ""),
                ],
                &[],
                &["sotnmt", "sokhdt", "soldtbxh", "soyte", "banqlkkt"],
                &[],
            ),
            (
                "district offices and a person of one in unit style",
                Unit,
                &[
                    SO_NOI_VU,
                    BAO_LAC,
                    (DISTRICT_OFFICE, "P1", "Phòng Nội vụ", "H1"),
                    (DISTRICT_OFFICE, "P2", "Phòng Tài chính - Kế hoạch", "H1"),
                    (DISTRICT_OFFICE, "P3", "Thanh tra huyện", "H1"),
                ],
                &[("Nông Văn Đạt", "D1"), ("Nông Văn Đạt", "P1")],
                &[
                    "sonoivu",
                    "baolac",
                    "noivu.baolac",
                    "tckh.baolac",
                    "thanhtra.baolac",
                ],
                &["datnv", "datnv.noivu.baolac"],
            ),
            (
                "unit style falls back to numbers when taken too",
                Unit,
                &[SO_Y_TE],
                &[("Nông Văn Đạt", "D2"); 3],
                &["soyte"],
                &["datnv", "datnv.soyte", "datnv2"],
            ),
            (
                "a commune is never abbreviated",
                Number,
                &[(COMMUNE, "C", "Xã Bế Văn Đàn", "")],
                &[],
                &["bevandan"],
                &[],
            ),
            (
                "communes are decided together whatever the order",
                Number,
                &[
                    (COMMUNE, "C1", "Xã Hưng Đạo", "H2"),
                    NGUYEN_BINH,
                    (COMMUNE, "C2", "Xã Hưng Đạo", "H3"),
                    HOA_AN,
                    (WARD, "W", "Phường Hòa An", "H3"),
                ],
                &[],
                &[
                    "hungdao.nguyenbinh",
                    "nguyenbinh",
                    "hungdao.hoaan",
                    "hoaan",
                    "phoaan",
                ],
                &[],
            ),
            (
                "NFC and NFD spellings are the same person",
                Number,
                &[SO_NOI_VU],
                &[
                    ("Nông Văn Đạt", "D1"),
                    ("No\u{0302}ng Va\u{0306}n \u{0110}a\u{0323}t", "D1"),
                    (" Nông\u{200B}  Văn\u{00A0}Đạt ", "D1"),
                ],
                &["sonoivu"],
                &["datnv", "datnv2", "datnv3"],
            ),
            (
                "persons and units share one namespace; the later arrival is disambiguated",
                Number,
                &[
                    (COMMUNE, "C", "Xã Đạt", ""),
                    (DEPARTMENT, "D", "Sở Y tế", ""),
                ],
                &[("Đạt", "C"), ("Đạt", "D")],
                &["dat", "soyte"],
                &["dat2", "dat3"],
            ),
        ]);
    }

    #[test]
    fn fold_equal_names_are_duplicates_with_both_originals() {
        let plan = run(
            &NamingConfig::default(),
            &[SO_NOI_VU],
            &[
                ("Nguyễn Văn Hùng", "D1"),
                ("Nguyễn Văn Hưng", "D1"),
                ("Nông Thị Thúy", "D1"),
                ("Nông Thị Thuý", "D1"),
            ],
        );
        assert_eq!(
            person_locals(&plan),
            ["hungnv", "hungnv2", "thuynt", "thuynt2"]
        );
        let hung = &plan.people[1].warnings;
        assert!(hung.contains(&Warning::FoldsEqual {
            name: "Nguyễn Văn Hưng".into(),
            other: "Nguyễn Văn Hùng".into(),
        }));
        assert!(hung.contains(&Warning::Taken {
            wanted: "hungnv".into(),
            holder: Holder::Person {
                name: "Nguyễn Văn Hùng".into(),
                row: Some(0),
            },
        }));
        assert!(!plan.people[1].review, "a namesake is routine");
        assert!(
            plan.people[3]
                .warnings
                .iter()
                .any(|w| matches!(w, Warning::FoldsEqual { .. }))
        );

        let communes = run(
            &NamingConfig::default(),
            &[
                (DISTRICT, "H1", "Huyện Thông Nông", ""),
                (DISTRICT, "H2", "Huyện Quảng Uyên", ""),
                (COMMUNE, "C1", "Xã Bình Lãng", "H1"),
                (COMMUNE, "C2", "Xã Bình Lăng", "H2"),
            ],
            &[],
        );
        assert_eq!(
            unit_locals(&communes),
            [
                "thongnong",
                "quanguyen",
                "binhlang.thongnong",
                "binhlang.quanguyen"
            ]
        );
        assert!(communes.units[2].warnings.contains(&Warning::FoldsEqual {
            name: "Bình Lãng".into(),
            other: "Bình Lăng".into(),
        }));
        assert!(
            communes.units[3]
                .warnings
                .contains(&Warning::SharedLetters {
                    letters: "binhlang".into(),
                    count: 2,
                })
        );
    }

    #[test]
    fn review_flags() {
        let plan = run(
            &NamingConfig::default(),
            &[
                (DEPARTMENT, "D1", "Sở Y tế", ""),
                (DEPARTMENT, "D2", "Thanh tra tỉnh", ""),
                (DEPARTMENT, "D3", "Văn phòng Ủy ban nhân dân tỉnh", ""),
                (ORGANISATION, "O1", "Hội Nông dân tỉnh", ""),
                (DEPARTMENT, "D4", "Sở Y tế", ""),
            ],
            &[("Nông Văn \u{00D0}ạt", "D1"), ("Hoàng", "D1")],
        );
        assert_eq!(
            unit_locals(&plan),
            ["soyte", "thanhtra", "vpubnd", "hoinongdantinh", "soyte2"]
        );
        let review: Vec<bool> = plan.units.iter().map(|u| u.review).collect();
        assert_eq!(review, [false, true, true, true, true]);
        assert_eq!(
            plan.units[1].warnings,
            [Warning::WithoutPrefix {
                head: "Thanh tra".into()
            }]
        );
        assert_eq!(
            plan.units[3].warnings,
            [Warning::KindNeedsReview {
                kind: "organisation".into()
            }]
        );
        assert_eq!(
            plan.units[4].warnings,
            [Warning::Taken {
                wanted: "soyte".into(),
                holder: Holder::Unit {
                    code: "D1".into(),
                    name: "Sở Y tế".into()
                },
            }]
        );
        assert!(plan.people[0].review, "legacy look-alike");
        assert_eq!(
            plan.people[0].warnings,
            [Warning::Name(NameWarning::LegacyLookalike {
                found: "\u{00D0}".into()
            })]
        );
        assert_eq!(plan.people[1].local, "hoang");
        assert_eq!(
            plan.people[1].warnings,
            [Warning::Name(NameWarning::SingleWord)]
        );
    }

    #[test]
    fn a_unit_name_with_a_lookalike_is_folded_and_flagged() {
        let plan = run(
            &NamingConfig::default(),
            &[
                (DEPARTMENT, "D1", "Sở Nội vụ", ""),
                (COMMUNE, "C1", "Xã Hưng \u{00D0}ạo", ""),
            ],
            &[],
        );
        assert_eq!(unit_locals(&plan), ["sonoivu", "hungdao"]);
        assert!(plan.units[1].review);
        assert_eq!(
            plan.units[1].warnings,
            [Warning::Name(NameWarning::LegacyLookalike {
                found: "\u{00D0}".into()
            })]
        );
        assert!(!plan.units[0].review && plan.units[0].warnings.is_empty());
    }

    #[test]
    fn reserved_names_and_aliases_are_never_given() {
        let mut config = NamingConfig::default();
        config.reserved.push("hoang".into());
        let plan = run(
            &config,
            &[(DEPARTMENT, "D", "Sở Thông tin và Truyền thông", "")],
            &[
                ("Admin", "D"),
                ("Hoàng", "D"),
                ("Soittt", "D"),
                ("Post Master", "D"),
            ],
        );
        assert_eq!(unit_locals(&plan), ["sotttt"]);
        assert_eq!(
            person_locals(&plan),
            ["admin2", "hoang2", "soittt2", "masterp"]
        );
        assert!(plan.people[0].review && plan.people[2].review);
        assert_eq!(
            plan.people[2].warnings[1],
            Warning::Taken {
                wanted: "soittt".into(),
                holder: Holder::Alias {
                    target: Some("sotttt".into())
                },
            }
        );
        assert_eq!(plan.aliases, known_misprints());

        let no_target = run(&config, &[SO_Y_TE], &[]);
        assert!(no_target.aliases.is_empty());
    }

    #[test]
    fn the_64_octet_limit() {
        let long = "a".repeat(70);
        let plan = run(
            &config(DuplicateStyle::Unit),
            &[
                (COMMUNE, "C", &format!("Xã {long}"), ""),
                (DEPARTMENT, "D", &format!("Sở {}", "b".repeat(60)), ""),
            ],
            &[
                (&long, "D"),
                (&long, "D"),
                ("Nông Văn Đạt", "D"),
                ("Nông Văn Đạt", "D"),
            ],
        );
        let a64 = "a".repeat(64);
        let a63 = "a".repeat(63);
        assert_eq!(plan.units[0].local, a64);
        assert!(plan.units[0].review);
        assert_eq!(
            plan.units[0].warnings,
            [Warning::Truncated { full: long.clone() }]
        );
        // The person folds to the same 64 letters as the commune, then numbers within 64 octets.
        assert_eq!(plan.people[0].local, format!("{a63}2"));
        assert_eq!(plan.people[1].local, format!("{a63}3"));
        // datnv.so<60 letters> would be 68 octets: unit style falls back to numbers.
        assert_eq!(plan.people[3].local, "datnv2");
        for local in plan.locals() {
            assert!(
                local.len() <= MAX_LOCAL_LEN && is_valid_local(local),
                "{local}"
            );
        }
        assert_eq!(
            fit(&format!("{}.x", "b".repeat(63)), ""),
            ("b".repeat(63), true)
        );
        assert_eq!(fit("abc", "2"), ("abc2".into(), false));
    }

    #[test]
    fn valid_locals() {
        for (local, valid) in [
            ("datnv", true),
            ("datnv.soyte", true),
            ("datnv.noivu.baolac", true),
            ("datnv10", true),
            ("", false),
            (".datnv", false),
            ("datnv.", false),
            ("datnv..soyte", false),
            ("Datnv", false),
            ("dat-nv", false),
            ("đạt", false),
            (&"a".repeat(64), true),
            (&"a".repeat(65), false),
        ] {
            assert_eq!(is_valid_local(local), valid, "{local:?}");
        }
    }

    #[test]
    fn errors_carry_their_row() {
        let u = units(&[
            (DEPARTMENT, "D1", "Sở Y tế", ""),
            (COMMUNE, "C1", "Xã Hưng Đạo", "H9"),
            (DEPARTMENT, "D2", "  ", ""),
            (DISTRICT_OFFICE, "P1", "Phòng Nội vụ", "D1"),
            (DISTRICT_OFFICE, "P2", "Phòng Tư pháp", ""),
            ("ministry", "M1", "Bộ Y tế", ""),
            (DEPARTMENT, "D1", "Sở Nội vụ", ""),
            (DEPARTMENT, "", "Sở Tư pháp", ""),
        ]);
        let p = people(&[
            ("Nông Văn Đạt", "D1"),
            ("Nông Văn Đạt 2", "D1"),
            ("Hoàng Văn Minh", "X9"),
            ("", "D1"),
        ]);
        let errors = plan(&NamingConfig::default(), &u, &p, &Taken::new()).unwrap_err();
        let got: Vec<(Table, usize, RowErrorReason)> = errors
            .iter()
            .map(|e| (e.table, e.row, e.reason.clone()))
            .collect();
        use RowErrorReason as R;
        assert_eq!(
            got,
            [
                (Table::Units, 1, R::UnknownParent { code: "H9".into() }),
                (Table::Units, 2, R::EmptyName),
                (Table::Units, 3, R::ParentNotDistrict { code: "D1".into() }),
                (Table::Units, 4, R::MissingParent),
                (
                    Table::Units,
                    5,
                    R::UnknownKind {
                        kind: "ministry".into()
                    }
                ),
                (Table::Units, 6, R::DuplicateCode { code: "D1".into() }),
                (Table::Units, 7, R::EmptyCode),
                (
                    Table::People,
                    1,
                    R::Name(NameError::ForbiddenCharacter {
                        ch: '2',
                        position: 14,
                        legacy: false
                    })
                ),
                (Table::People, 2, R::UnknownUnit { code: "X9".into() }),
                (Table::People, 3, R::Name(NameError::Empty)),
            ]
        );
        assert_eq!(errors[0].to_string(), "units row 1: unknown parent code H9");
        assert_eq!(
            errors[7].to_string(),
            "people row 1: forbidden character '2' (U+0032) at position 14 of the name"
        );
    }

    #[test]
    fn communes_without_districts_need_configured_disambiguators() {
        let u = units(&[
            (COMMUNE, "C1", "Xã Hưng Đạo", ""),
            (COMMUNE, "C2", "Xã Hưng Đạo", ""),
            (COMMUNE, "C3", "Xã Bảo Lạc", ""),
            (WARD, "W1", "Phường Thục Phán", ""),
        ]);
        let errors = plan(&NamingConfig::default(), &u, &[], &Taken::new()).unwrap_err();
        let rows: Vec<usize> = errors.iter().map(|e| e.row).collect();
        assert_eq!(rows, [0, 1]);
        assert!(matches!(
            &errors[0].reason,
            RowErrorReason::MissingDisambiguator { letters } if letters == "hungdao"
        ));

        let mut config = NamingConfig::default();
        config
            .commune_disambiguators
            .insert("C1".into(), "Bảo Lạc".into());
        config
            .commune_disambiguators
            .insert("C2".into(), "nguyenbinh".into());
        let plan = plan(&config, &u, &[], &Taken::new()).unwrap();
        // Bảo Lạc is a retired district: the commune takes the prefix xa (R10.2).
        assert_eq!(
            unit_locals(&plan),
            [
                "hungdao.baolac",
                "hungdao.nguyenbinh",
                "xabaolac",
                "thucphan"
            ]
        );
        assert_eq!(
            plan.units[2].warnings,
            [Warning::NamedLikeDistrict {
                district: "baolac".into()
            }]
        );
    }

    #[test]
    fn a_district_label_reproduces_the_printed_form() {
        let mut config = NamingConfig::default();
        config.district_labels.insert("H3".into(), "hoan".into());
        let plan = run(
            &config,
            &[
                NGUYEN_BINH,
                HOA_AN,
                (COMMUNE, "C1", "Xã Hưng Đạo", "H2"),
                (COMMUNE, "C2", "Xã Hưng Đạo", "H3"),
            ],
            &[],
        );
        assert_eq!(
            unit_locals(&plan),
            ["nguyenbinh", "hoaan", "hungdao.nguyenbinh", "hungdao.hoan"]
        );
    }

    #[test]
    fn overrides_are_kept_and_never_taken_by_the_rules() {
        let mut u = units(&[
            NGUYEN_BINH,
            HOA_AN,
            (COMMUNE, "C1", "Xã Hưng Đạo", "H2"),
            (COMMUNE, "C2", "Xã Hưng Đạo", "H3"),
            SO_NOI_VU,
        ]);
        u[3].override_local = Some("HungDao.HoAn".into());
        let mut p = people(&[("Nông Văn Đạt", "D1"), ("Hoàng Văn Minh", "D1")]);
        p[1].override_local = Some("datnv".into());
        let plan = plan(&NamingConfig::default(), &u, &p, &Taken::new()).unwrap();
        // The overridden commune still counts in its set: the other keeps its district.
        assert_eq!(
            unit_locals(&plan),
            [
                "nguyenbinh",
                "hoaan",
                "hungdao.nguyenbinh",
                "hungdao.hoan",
                "sonoivu"
            ]
        );
        assert_eq!(plan.units[3].origin, Origin::Override);
        assert_eq!(person_locals(&plan), ["datnv2", "datnv"]);
        assert_eq!(plan.people[1].origin, Origin::Override);

        let mut bad = people(&[("Nông Văn Đạt", "D1"), ("Hoàng Văn Minh", "D1")]);
        bad[0].override_local = Some("datnv..x".into());
        bad[1].override_local = Some("postmaster".into());
        let errors = super::plan(&NamingConfig::default(), &u, &bad, &Taken::new()).unwrap_err();
        assert_eq!(
            errors.iter().map(|e| e.reason.clone()).collect::<Vec<_>>(),
            [
                RowErrorReason::BadOverride {
                    local: "datnv..x".into()
                },
                RowErrorReason::OverrideTaken {
                    local: "postmaster".into(),
                    holder: Holder::Reserved
                },
            ]
        );
    }

    #[test]
    fn addresses_once_given_stay() {
        let mut taken = Taken::new();
        taken.add_unit(ExistingUnit {
            code: "H1".into(),
            kind: DISTRICT.into(),
            name: "Huyện Bảo Lâm".into(),
            local: "baolam".into(),
        });
        taken.add_unit(ExistingUnit {
            code: "C0".into(),
            kind: COMMUNE.into(),
            name: "Xã Quảng Lâm".into(),
            local: "quanglam".into(),
        });
        taken.add_unit(ExistingUnit {
            code: "D1".into(),
            kind: DEPARTMENT.into(),
            name: "Sở Y tế".into(),
            local: "soyte".into(),
        });
        taken.add_person("datnv", "Nông Văn Đạt");
        taken.add_address("hoangvm");
        let u = units(&[
            // Already in the directory: keeps its address (even though the name changed).
            (DEPARTMENT, "D1", "Sở Y tế và Dân số", ""),
            // A new commune whose letters are taken: the later arrival gets its district.
            (COMMUNE, "C9", "Xã Quảng Lâm", "H1"),
            (TOWNSHIP, "T1", "Thị trấn Bảo Lâm", "H1"),
        ]);
        let p = people(&[("Nông Văn Ðạt", "D1"), ("Hoàng Văn Minh", "C9")]);
        let plan = plan(&NamingConfig::default(), &u, &p, &taken).unwrap();
        assert_eq!(unit_locals(&plan), ["soyte", "quanglam.baolam", "ttbaolam"]);
        assert_eq!(plan.units[0].origin, Origin::Existing);
        assert!(plan.units[1].review);
        assert_eq!(person_locals(&plan), ["datnv2", "minhhv"]);
        assert!(plan.people[0].warnings.contains(&Warning::FoldsEqual {
            name: "Nông Văn Ðạt".into(),
            other: "Nông Văn Đạt".into(),
        }));

        // A different override for an addressed unit is refused.
        let mut moved = u.clone();
        moved[0].override_local = Some("soytedanso".into());
        let errors = super::plan(&NamingConfig::default(), &moved, &[], &taken).unwrap_err();
        assert_eq!(
            errors[0].reason,
            RowErrorReason::AlreadyAddressed {
                existing: "soyte".into()
            }
        );
    }

    #[test]
    fn taken_from_iterator() {
        let taken: Taken = ["DatNV", "soyte"].into_iter().collect();
        assert!(taken.contains("datnv") && taken.contains("SOYTE") && !taken.contains("x"));
        assert_eq!(taken.holder("datnv"), Some(&Holder::Address));
    }
}
