//! The published directory (Đ6): every unit's address, and the people marked public, with a
//! diacritic-insensitive look-up (`dat` finds Đạt, `hoa an` finds Hòa An).
//!
//! What is public is decided here, not by the page that shows it: units always, people only
//! when active and either marked public or the head of their unit (`[directory]
//! publish_heads`, on by default). Everything is read at each request, so a revoked person
//! leaves the directory and a moved one appears under the new unit at once. Staff ids, phones
//! and states are never published. A department's portal asks for its own subtree
//! ([`Core::public_directory_of`]).

use std::collections::{HashMap, HashSet};

use hopthu_model::UnitId;
use hopthu_model::text::search_fold;
use hopthu_store::PersonState;

use crate::{Core, Error, Result};

/// A unit as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUnit {
    pub code: String,
    pub kind: String,
    pub name: String,
    pub address: String,
    pub parent_code: Option<String>,
    /// Depth in the organisation tree (0 for a top-level unit).
    pub depth: usize,
    /// The unit itself answers the look-up.
    pub matched: bool,
    /// The unit is shown: it matched, holds a person who matched, or is an ancestor of either.
    pub shown: bool,
}

/// A person as published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicPerson {
    pub name: String,
    pub position: Option<String>,
    pub address: String,
    pub unit_code: String,
    pub unit_name: String,
}

/// The published directory, or the part of it a look-up found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicDirectory {
    /// The look-up as given (cleaned); empty for the whole directory.
    pub query: String,
    /// The code of the unit whose subtree this is; `None` for the whole province.
    pub unit: Option<String>,
    /// Every unit in tree order (parents before their children, siblings in the order they
    /// were created), each with `matched` and `shown`.
    pub units: Vec<PublicUnit>,
    /// The public people who match, in the tree order of their units.
    pub people: Vec<PublicPerson>,
}

impl PublicDirectory {
    /// The units that answer the look-up.
    pub fn matched_units(&self) -> impl Iterator<Item = &PublicUnit> {
        self.units.iter().filter(|u| u.matched)
    }

    /// The people of one unit that answer the look-up.
    pub fn people_of<'a>(&'a self, unit_code: &'a str) -> impl Iterator<Item = &'a PublicPerson> {
        self.people.iter().filter(move |p| p.unit_code == unit_code)
    }
}

/// A look-up folded into words: each must begin a word of what it is matched against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup(Vec<String>);

impl Lookup {
    pub fn new(query: &str) -> Lookup {
        Lookup(fold_words(query))
    }

    /// True for an empty look-up, or when every word of the look-up begins a word of one of
    /// `texts` (`hoa an` matches "Huyện Hòa An", not "Sở Văn hóa…").
    pub fn matches(&self, texts: &[&str]) -> bool {
        if self.0.is_empty() {
            return true;
        }
        let words: Vec<String> = texts.iter().flat_map(|t| fold_words(t)).collect();
        self.0
            .iter()
            .all(|q| words.iter().any(|w| w.starts_with(q.as_str())))
    }
}

/// Folded words: `search_fold`, split on anything that is not a letter or digit.
fn fold_words(text: &str) -> Vec<String> {
    search_fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Core {
    /// The published directory, filtered by a diacritic-insensitive look-up (empty: all).
    pub async fn public_directory(&self, query: &str) -> Result<PublicDirectory> {
        self.public_directory_of(query, None).await
    }

    /// The published directory of one unit's subtree (the unit, its units below, their
    /// people), or of the whole province for `None`, filtered by a look-up like
    /// [`Core::public_directory`]. An unknown unit code is `NotFound`.
    pub async fn public_directory_of(
        &self,
        query: &str,
        unit: Option<&str>,
    ) -> Result<PublicDirectory> {
        let units = self.store.units().await?;
        let root = match unit {
            None => None,
            Some(code) => Some(units.iter().find(|u| u.code == code).ok_or_else(|| {
                Error::not_found(format!(
                    "Không có đơn vị mã {code:?} trong danh bạ / no unit with code {code:?} in \
                     the directory"
                ))
            })?),
        };
        // Heads of units (each in the unit they lead) are published unless configured not to.
        let heads: HashSet<_> = if self.config.directory.publish_heads {
            units
                .iter()
                .filter_map(|u| u.head.map(|h| (h, u.id)))
                .collect()
        } else {
            HashSet::new()
        };
        let people = if heads.is_empty() {
            self.store.public_people().await?
        } else {
            self.store
                .people()
                .await?
                .into_iter()
                .filter(|p| {
                    p.state == PersonState::Active && (p.public || heads.contains(&(p.id, p.unit)))
                })
                .collect()
        };
        let lookup = Lookup::new(query);

        // Tree order: depth-first from the roots, siblings by id.
        let mut children: HashMap<Option<UnitId>, Vec<usize>> = HashMap::new();
        let ids: HashSet<UnitId> = units.iter().map(|u| u.id).collect();
        for (i, u) in units.iter().enumerate() {
            // A parent that is gone makes a root rather than losing the unit.
            let parent = u.parent.filter(|p| ids.contains(p));
            children.entry(parent).or_default().push(i);
        }
        let mut order: Vec<(usize, usize)> = Vec::with_capacity(units.len());
        let mut stack: Vec<(usize, usize)> = match root {
            Some(root) => units
                .iter()
                .position(|u| u.id == root.id)
                .map(|i| vec![(i, 0)])
                .unwrap_or_default(),
            None => children
                .get(&None)
                .map(|roots| roots.iter().rev().map(|&i| (i, 0)).collect())
                .unwrap_or_default(),
        };
        while let Some((i, depth)) = stack.pop() {
            order.push((i, depth));
            if let Some(kids) = children.get(&Some(units[i].id)) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
        let position: HashMap<UnitId, usize> = order
            .iter()
            .enumerate()
            .map(|(pos, &(i, _))| (units[i].id, pos))
            .collect();
        let by_id: HashMap<UnitId, usize> =
            units.iter().enumerate().map(|(i, u)| (u.id, i)).collect();
        let code_of = |id: UnitId| by_id.get(&id).map(|&i| units[i].code.clone());

        let mut public_units: Vec<PublicUnit> = order
            .iter()
            .map(|&(i, depth)| {
                let u = &units[i];
                let matched = lookup.matches(&[&u.name, local_part(&u.address), &u.code]);
                PublicUnit {
                    code: u.code.clone(),
                    kind: u.kind.clone(),
                    name: u.name.clone(),
                    address: u.address.clone(),
                    parent_code: u.parent.and_then(code_of),
                    depth,
                    matched,
                    shown: false,
                }
            })
            .collect();

        let mut matched_people: Vec<(usize, PublicPerson)> = people
            .iter()
            .filter(|p| {
                lookup.matches(&[
                    &p.full_name,
                    p.position.as_deref().unwrap_or(""),
                    local_part(&p.address),
                ])
            })
            .filter_map(|p| {
                let &pos = position.get(&p.unit)?;
                let unit = &public_units[pos];
                Some((
                    pos,
                    PublicPerson {
                        name: p.full_name.clone(),
                        position: p.position.clone(),
                        address: p.address.clone(),
                        unit_code: unit.code.clone(),
                        unit_name: unit.name.clone(),
                    },
                ))
            })
            .collect();
        matched_people.sort_by_key(|(pos, _)| *pos);

        // Shown: matched units, units of matched people, and their ancestors.
        let index_of_code: HashMap<String, usize> = public_units
            .iter()
            .enumerate()
            .map(|(i, u)| (u.code.clone(), i))
            .collect();
        let mut seeds: Vec<usize> = public_units
            .iter()
            .enumerate()
            .filter(|(_, u)| u.matched)
            .map(|(i, _)| i)
            .collect();
        seeds.extend(matched_people.iter().map(|(pos, _)| *pos));
        for seed in seeds {
            let mut at = Some(seed);
            while let Some(i) = at {
                if public_units[i].shown {
                    break;
                }
                public_units[i].shown = true;
                at = public_units[i]
                    .parent_code
                    .as_ref()
                    .and_then(|c| index_of_code.get(c).copied());
            }
        }

        Ok(PublicDirectory {
            query: hopthu_model::text::clean(query),
            unit: root.map(|u| u.code.clone()),
            units: public_units,
            people: matched_people.into_iter().map(|(_, p)| p).collect(),
        })
    }
}

fn local_part(address: &str) -> &str {
    address.rsplit_once('@').map_or(address, |(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::Lookup;

    #[test]
    fn lookups_ignore_diacritics_and_match_word_starts() {
        for (query, text, want) in [
            ("hoa an", "Huyện Hòa An", true),
            ("HÒA AN", "Huyện Hoà An", true),
            ("hoa an", "Sở Văn hóa, Thể thao và Du lịch", false),
            ("dat", "Nông Văn Đạt", true),
            ("Đạt", "Nông Văn Dat", true),
            ("nong dat", "Nông Văn Đạt", true),
            ("van dat", "Ninh Văn Đạt", true),
            ("at", "Nông Văn Đạt", false),
            ("", "anything", true),
            ("  ", "anything", true),
            ("soyte", "soyte", true),
        ] {
            assert_eq!(
                Lookup::new(query).matches(&[text]),
                want,
                "{query} in {text}"
            );
        }
    }
}
