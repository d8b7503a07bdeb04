//! The configurable part of the address rules: unit kinds and their words (R6), how each kind's
//! local part is formed (R9), duplicate style (R5), reserved names (R11), the province's name and
//! qualifiers (R7), and the data R10 needs where the district level is gone.
//!
//! [`NamingConfig::default`] holds Cao Bằng's values. Every type here is `serde`-deserialisable so
//! the configuration can live in the TOML file under `[naming]`; missing keys take the default.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::fold::fold;

/// The ids of the unit kinds in the default configuration, as written in import files.
pub mod kind_ids {
    /// The province itself (Tỉnh …).
    pub const PROVINCE: &str = "province";
    /// A department (Sở …), or a department-level agency that is not a sở.
    pub const DEPARTMENT: &str = "department";
    /// A board (Ban …).
    pub const BOARD: &str = "board";
    /// A political or social organisation (Hội …, Liên đoàn …, Ủy ban …).
    pub const ORGANISATION: &str = "organisation";
    /// A district, town or city (Huyện, Thị xã, Thành phố, Quận).
    pub const DISTRICT: &str = "district";
    /// An office of a district (Phòng …).
    pub const DISTRICT_OFFICE: &str = "district_office";
    /// A commune (Xã).
    pub const COMMUNE: &str = "commune";
    /// A ward (Phường).
    pub const WARD: &str = "ward";
    /// A township (Thị trấn).
    pub const TOWNSHIP: &str = "township";
}

/// How a person who is not the first with a base is told apart (R5).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DuplicateStyle {
    /// Base + the smallest free number from 2, unpadded: `datnv2`, `datnv10`.
    #[default]
    Number,
    /// Base + `.` + the unit's local part (`datnv.soyte`); number style if that is taken too.
    Unit,
}

/// How the local part of a unit of one kind is formed from its name part (R9, R10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "form", rename_all = "snake_case", deny_unknown_fields)]
pub enum LocalForm {
    /// `prefix` + abbr(name part): departments (`so` → `soyte`), boards (`ban` → `bandantoc`).
    /// A unit of this kind whose name starts with one of [`NamingConfig::non_so_heads`] instead of
    /// a kind word gets abbr(name) with no prefix and is flagged for review.
    Prefixed {
        /// Letters put before the abbreviation.
        prefix: String,
    },
    /// fold(kind word) + abbr(name part without a final `qualifier`) + fold(`qualifier`) if it
    /// had one: organisations (`Hội Liên hiệp Phụ nữ tỉnh` → `hoilhpntinh`).
    KindWordAbbr {
        /// The final word kept apart from the abbreviation, normally "tỉnh".
        qualifier: String,
    },
    /// fold(name part), never abbreviated; the unit is a district for R9 and R10 (`baolac`).
    District,
    /// fold(name part), never abbreviated, for units that are not districts (the province).
    Folded,
    /// abbr(name part) + `.` + the local part of the parent district (`noivu.baolac`).
    DistrictOffice,
    /// R10: fold(name part); `prefix` when it equals a district's local part (`ttbaolac`);
    /// `.` + the district's local part on every member of a set sharing the same letters.
    Commune {
        /// Letters put before a name that equals a district's local part: `xa`, `p`, `tt`.
        prefix: String,
    },
}

/// One unit kind (R6): its id, its kind words and how its local part is formed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindRule {
    /// The id used in import files, e.g. `department`.
    pub id: String,
    /// Words that may open a unit's name, tried in order after folding both sides, whole words
    /// only; the first match wins and the rest of the name is its name part. A name given
    /// without a kind word is the same unit ("Y tế" of kind department is Sở Y tế).
    pub words: Vec<String>,
    /// How the local part is formed.
    pub local: LocalForm,
    /// Trailing qualifiers dropped from the name part (R7), e.g. "tỉnh" for departments and
    /// boards, "huyện" and "thị xã" for district offices. Not dropped when the name part ends with
    /// one of [`NamingConfig::kept_qualifiers`].
    #[serde(default)]
    pub drop_trailing: Vec<String>,
    /// Every unit of this kind is flagged for the operator's review (organisations).
    #[serde(default)]
    pub review: bool,
}

/// A published or legacy form of an address kept reachable as an alias.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KnownAlias {
    /// The alias local part, e.g. `soittt`.
    pub alias: String,
    /// The local part the rules give, e.g. `sotttt`.
    pub target: String,
}

/// The address rules' configuration (`[naming]`). [`Default`] gives Cao Bằng's values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NamingConfig {
    /// The province's name without its kind word, e.g. "Cao Bằng": a trailing "tỉnh Cao Bằng"
    /// becomes "tỉnh" (R7).
    pub province_name: String,
    /// The word naming the province level, "tỉnh" (a centrally-governed city would use
    /// "thành phố").
    pub province_word: String,
    /// Unit kinds, their words and local forms (R6, R9).
    pub kinds: Vec<KindRule>,
    /// How later namesakes are told apart (R5): `number` (default) or `unit`.
    pub person_duplicates: DuplicateStyle,
    /// Local parts never given to anyone (R11).
    pub reserved: Vec<String>,
    /// Heads of department-level agencies that are not a sở (R9): a unit of a
    /// [`LocalForm::Prefixed`] kind whose name starts with one of these, and not with a kind
    /// word, gets abbr(name) without prefix and is flagged for review.
    pub non_so_heads: Vec<String>,
    /// Qualifiers that stay whole even though they end with a word of a kind's `drop_trailing`
    /// (R7: "Other qualifiers stay"), e.g. "Hội đồng nhân dân tỉnh".
    pub kept_qualifiers: Vec<String>,
    /// Names (or local parts) of districts that no longer exist; a commune named like one of
    /// them takes its kind's prefix (R10.2). Each entry is folded.
    pub retired_districts: Vec<String>,
    /// Per-district label used instead of the district's local part when it disambiguates a
    /// commune (R10.3), keyed by district code, e.g. to reproduce a printed `hungdao.hoan`.
    /// A name or a local part: each dot-separated piece is folded.
    pub district_labels: BTreeMap<String, String>,
    /// Per-commune disambiguator (R10.3) keyed by commune code, for communes without a district
    /// (the two-tier structure of 2025), e.g. the former district; it also takes precedence over
    /// the district's label. A name or a local part: each dot-separated piece is folded.
    pub commune_disambiguators: BTreeMap<String, String>,
    /// Aliases that keep misprinted or legacy forms reachable ("Known misprints").
    pub known_aliases: Vec<KnownAlias>,
}

impl Default for NamingConfig {
    fn default() -> Self {
        NamingConfig {
            province_name: "Cao Bằng".into(),
            province_word: "tỉnh".into(),
            kinds: default_kinds(),
            person_duplicates: DuplicateStyle::Number,
            reserved: strings(&[
                "postmaster",
                "abuse",
                "hostmaster",
                "webmaster",
                "noreply",
                "no-reply",
                "admin",
                "administrator",
                "root",
                "mailer-daemon",
                "nobody",
                "security",
                "support",
                "info",
                "noc",
                "www",
            ]),
            non_so_heads: strings(&["Văn phòng", "Thanh tra"]),
            kept_qualifiers: strings(&["Hội đồng nhân dân tỉnh"]),
            // The 13 districts of 2011 and Quảng Hòa (2020–2025).
            retired_districts: strings(&[
                "Cao Bằng",
                "Bảo Lâm",
                "Bảo Lạc",
                "Thông Nông",
                "Hà Quảng",
                "Trà Lĩnh",
                "Trùng Khánh",
                "Hạ Lang",
                "Quảng Uyên",
                "Phục Hòa",
                "Hòa An",
                "Nguyên Bình",
                "Thạch An",
                "Quảng Hòa",
            ]),
            district_labels: BTreeMap::new(),
            commune_disambiguators: BTreeMap::new(),
            known_aliases: known_misprints(),
        }
    }
}

/// The regulation's known misprints kept as aliases: `soittt` → `sotttt` (the Department of
/// Information and Communications, printed `soittt`, is `sotttt` by the rule).
pub fn known_misprints() -> Vec<KnownAlias> {
    vec![KnownAlias {
        alias: "soittt".into(),
        target: "sotttt".into(),
    }]
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// The kinds of R6 with their local forms of R9/R10.
fn default_kinds() -> Vec<KindRule> {
    use kind_ids::*;
    let kind = |id: &str, words: &[&str], local: LocalForm, drop: &[&str], review: bool| KindRule {
        id: id.into(),
        words: strings(words),
        local,
        drop_trailing: strings(drop),
        review,
    };
    let prefixed = |p: &str| LocalForm::Prefixed { prefix: p.into() };
    let commune = |p: &str| LocalForm::Commune { prefix: p.into() };
    vec![
        // The rules give no form for the province: its folded name, always reviewed.
        kind(PROVINCE, &["Tỉnh"], LocalForm::Folded, &[], true),
        kind(DEPARTMENT, &["Sở"], prefixed("so"), &["tỉnh"], false),
        kind(BOARD, &["Ban"], prefixed("ban"), &["tỉnh"], false),
        kind(
            ORGANISATION,
            &["Hội", "Liên đoàn", "Liên hiệp", "Liên minh", "Ủy ban"],
            LocalForm::KindWordAbbr {
                qualifier: "tỉnh".into(),
            },
            &[],
            true,
        ),
        kind(
            DISTRICT,
            &["Huyện", "Thị xã", "Thành phố", "Quận"],
            LocalForm::District,
            &[],
            false,
        ),
        kind(
            DISTRICT_OFFICE,
            &["Phòng"],
            LocalForm::DistrictOffice,
            &["huyện", "thị xã"],
            false,
        ),
        kind(COMMUNE, &["Xã"], commune("xa"), &[], false),
        kind(WARD, &["Phường"], commune("p"), &[], false),
        kind(TOWNSHIP, &["Thị trấn"], commune("tt"), &[], false),
    ]
}

impl NamingConfig {
    /// The kind with this id.
    pub fn kind(&self, id: &str) -> Option<&KindRule> {
        self.kinds.iter().find(|k| k.id == id)
    }

    /// Checks the configuration and reports every problem with its key path under `naming`.
    pub fn validate(&self) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if fold(&self.province_word).is_empty() {
            problems.push("naming.province_word: must hold a letter".to_owned());
        }
        let mut ids = BTreeSet::new();
        for (i, kind) in self.kinds.iter().enumerate() {
            let at = format!("naming.kinds[{i}]");
            if kind.id.trim().is_empty() {
                problems.push(format!("{at}.id: must not be empty"));
            } else if !ids.insert(kind.id.as_str()) {
                problems.push(format!("{at}.id: '{}' is defined twice", kind.id));
            }
            if let Some((j, _)) = kind
                .words
                .iter()
                .enumerate()
                .find(|(_, w)| fold(w).is_empty())
            {
                problems.push(format!("{at}.words[{j}]: must hold a letter"));
            }
            match &kind.local {
                LocalForm::Prefixed { prefix } | LocalForm::Commune { prefix } => {
                    if prefix.is_empty() || fold(prefix) != *prefix {
                        problems.push(format!(
                            "{at}.local.prefix: '{prefix}' must be non-empty and only [a-z0-9]"
                        ));
                    }
                }
                LocalForm::KindWordAbbr { qualifier } => {
                    if fold(qualifier).is_empty() {
                        problems.push(format!("{at}.local.qualifier: must hold a letter"));
                    }
                }
                LocalForm::District | LocalForm::Folded | LocalForm::DistrictOffice => {}
            }
        }
        let local_checks = self
            .reserved
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("naming.reserved[{i}]"), r, true))
            .chain(self.known_aliases.iter().enumerate().flat_map(|(i, a)| {
                [
                    (format!("naming.known_aliases[{i}].alias"), &a.alias, false),
                    (
                        format!("naming.known_aliases[{i}].target"),
                        &a.target,
                        false,
                    ),
                ]
            }));
        for (at, local, reserved) in local_checks {
            // Reserved names may hold '-' (mailer-daemon); the rules never produce one anyway.
            let ok = if reserved {
                !local.is_empty()
                    && local
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            } else {
                super::plan::is_valid_local(local)
            };
            if !ok {
                problems.push(format!("{at}: '{local}' is not a valid local part"));
            }
        }
        let labels = self
            .district_labels
            .iter()
            .map(|(code, l)| (format!("naming.district_labels.{code}"), l))
            .chain(
                self.commune_disambiguators
                    .iter()
                    .map(|(code, l)| (format!("naming.commune_disambiguators.{code}"), l)),
            );
        for (at, label) in labels {
            if super::plan::as_label(label).is_none() {
                problems.push(format!("{at}: '{label}' must hold a letter or digit"));
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::de::IntoDeserializer;
    use serde::de::value::{Error as ValueError, StrDeserializer};

    use super::*;

    #[test]
    fn default_is_valid() {
        assert_eq!(NamingConfig::default().validate(), Ok(()));
        let config = NamingConfig::default();
        let ids: Vec<&str> = config.kinds.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "province",
                "department",
                "board",
                "organisation",
                "district",
                "district_office",
                "commune",
                "ward",
                "township"
            ]
        );
    }

    #[test]
    fn validation_reports_every_problem() {
        let mut config = NamingConfig::default();
        config.kinds.push(config.kinds[1].clone());
        config.kinds[2].local = LocalForm::Prefixed {
            prefix: "Ban".into(),
        };
        config.reserved.push("Bad Name".into());
        config
            .district_labels
            .insert("CB11-058".into(), " . ".into());
        let problems = config.validate().unwrap_err();
        assert_eq!(problems.len(), 4, "{problems:#?}");
        assert!(problems[0].starts_with("naming.kinds[2].local.prefix"));
        assert!(problems[1].starts_with("naming.kinds[9].id"));
        assert!(problems[2].starts_with("naming.reserved[16]"));
        assert!(problems[3].starts_with("naming.district_labels.CB11-058"));
    }

    #[test]
    fn duplicate_style_deserialises_from_lowercase() {
        for (text, want) in [
            ("number", DuplicateStyle::Number),
            ("unit", DuplicateStyle::Unit),
        ] {
            let de: StrDeserializer<'_, ValueError> = text.into_deserializer();
            assert_eq!(DuplicateStyle::deserialize(de), Ok(want));
        }
        let de: StrDeserializer<'_, ValueError> = "Unit".into_deserializer();
        assert!(DuplicateStyle::deserialize(de).is_err());
    }
}
