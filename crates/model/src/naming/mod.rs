//! The address rules of the regulation (Đ7.3): how the local part of every person's and unit's
//! address is made. The testable statement is `ADDRESS-RULES.md` (rules R1–R12); each item here
//! names the rule it implements.
//!
//! - [`clean`] (R1), [`fold`] (R2), [`words`] (R3): names as stored, the letters of an address,
//!   the words of a name.
//! - [`person_base`] (R4): given name + initials (`Nông Văn Đạt` → `datnv`).
//! - [`NamingConfig`]: unit kinds and their words (R6), how each kind's local part is formed
//!   (R9), duplicate style (R5), reserved names (R11), the province's qualifiers (R7). Its
//!   [`Default`] holds Cao Bằng's values; it deserialises from the `[naming]` table.
//! - [`abbr`] (R8).
//! - [`plan`]: proposals for a whole import, units and persons in one namespace (R5, R9–R12),
//!   with warnings and review flags for the operator, or every faulty row with its index.
//!
//! Everything is pure: no I/O, no clock, no randomness. The same input gives the same plan.
//!
//! ```
//! use hopthu_model::naming::{NamingConfig, PersonInput, Taken, UnitInput, plan};
//!
//! let units = [
//!     UnitInput::new("department", "D1", "Sở Y tế", None),
//!     UnitInput::new("district", "H1", "Huyện Bảo Lạc", None),
//!     UnitInput::new("township", "T1", "Thị trấn Bảo Lạc", Some("H1")),
//! ];
//! let people = [
//!     PersonInput::new("Nông Văn Đạt", "D1"),
//!     PersonInput::new("Nông Văn Đạt", "T1"),
//! ];
//! let plan = plan(&NamingConfig::default(), &units, &people, &Taken::new()).unwrap();
//! let locals: Vec<&str> = plan.locals().collect();
//! assert_eq!(locals, ["soyte", "baolac", "ttbaolac", "datnv", "datnv2"]);
//! ```

mod config;
mod fold;
mod person;
mod plan;
mod unit;

#[cfg(test)]
mod data_tests;
#[cfg(test)]
mod prop_tests;

pub use config::{
    DuplicateStyle, KindRule, KnownAlias, LocalForm, NamingConfig, kind_ids, known_misprints,
};
pub use fold::{clean, fold, words};
pub use person::{
    NameError, NameWarning, PersonBase, code_points, is_legacy_trace, legacy_lookalikes,
    person_base,
};
pub use plan::{
    ExistingUnit, Holder, MAX_LOCAL_LEN, Origin, PersonInput, PersonProposal, Plan, RowError,
    RowErrorReason, Table, Taken, UnitInput, UnitProposal, Warning, is_valid_local, plan,
};
pub use unit::abbr;
