//! `[documents]`: the catalogue of Đ9 — the kinds of document the province's agencies send by
//! e-mail alone, and the secrecy levels (độ mật) that must never go by e-mail.
//!
//! The province's People's Committee changes the catalogue "from period to period" (Đ9), so it
//! is configuration: a new list in the file changes it without a new release. Left out, each
//! list is the built-in default below, which `example.toml` spells out.

use serde::Deserialize;

/// `[documents]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawDocuments {
    /// The document kinds that may be sent by e-mail without a paper copy (Đ9):
    /// `[[documents.kinds]]` tables of `id`, `name`, `name_en`. Default: the seven kinds of Đ9.
    pub kinds: Option<Vec<RawCatalogueEntry>>,
    /// The secrecy levels (Mật, Tối mật, Tuyệt mật): `[[documents.secrecy_levels]]` tables of
    /// `id`, `name`, `name_en`. A message marked with one of them is refused at submission.
    /// Default: the three levels of the law on state secrets.
    pub secrecy_levels: Option<Vec<RawCatalogueEntry>>,
}

/// One `[[documents.kinds]]` or `[[documents.secrecy_levels]]` table as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawCatalogueEntry {
    /// A stable identifier: lowercase ASCII letters, digits and `_` (`giay_moi`).
    pub id: Option<String>,
    /// The Vietnamese name (`Giấy mời`).
    pub name: Option<String>,
    /// The English name (`Invitation`).
    pub name_en: Option<String>,
}

/// A kind of document of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentKind {
    /// Stable ASCII id, e.g. `lich_cong_tac`.
    pub id: String,
    /// Vietnamese name, e.g. `Lịch công tác`.
    pub name: String,
    /// English name, e.g. `Work schedule`.
    pub name_en: String,
}

/// A secrecy level (độ mật) of a state-secret document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecrecyLevel {
    /// Stable ASCII id, e.g. `toi_mat`.
    pub id: String,
    /// Vietnamese name, e.g. `Tối mật`: what a marking names.
    pub name: String,
    /// English name, e.g. `Secret`.
    pub name_en: String,
}

/// The validated `[documents]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Documents {
    /// At least one; ids unique.
    pub kinds: Vec<DocumentKind>,
    /// At least one; ids unique, names unique once folded (case and diacritics).
    pub secrecy_levels: Vec<SecrecyLevel>,
}

const DEFAULT_KINDS: &[(&str, &str, &str)] = &[
    ("lich_cong_tac", "Lịch công tác", "Work schedule"),
    ("giay_moi", "Giấy mời", "Invitation"),
    ("tai_lieu_hop", "Tài liệu họp", "Meeting papers"),
    (
        "de_biet_de_bao_cao",
        "Văn bản để biết, để báo cáo",
        "Document for information or reporting",
    ),
    ("cong_van", "Công văn", "Official letter"),
    ("bao_cao", "Báo cáo", "Report"),
    ("chi_thi", "Chỉ thị", "Directive"),
];

const DEFAULT_LEVELS: &[(&str, &str, &str)] = &[
    ("mat", "Mật", "Confidential"),
    ("toi_mat", "Tối mật", "Secret"),
    ("tuyet_mat", "Tuyệt mật", "Top secret"),
];

impl Default for Documents {
    fn default() -> Self {
        Documents {
            kinds: DEFAULT_KINDS
                .iter()
                .map(|(id, name, name_en)| DocumentKind {
                    id: (*id).into(),
                    name: (*name).into(),
                    name_en: (*name_en).into(),
                })
                .collect(),
            secrecy_levels: DEFAULT_LEVELS
                .iter()
                .map(|(id, name, name_en)| SecrecyLevel {
                    id: (*id).into(),
                    name: (*name).into(),
                    name_en: (*name_en).into(),
                })
                .collect(),
        }
    }
}

impl Documents {
    /// The secrecy level with this id.
    pub fn secrecy_level(&self, id: &str) -> Option<&SecrecyLevel> {
        self.secrecy_levels.iter().find(|l| l.id == id)
    }

    /// The document kind with this id.
    pub fn kind(&self, id: &str) -> Option<&DocumentKind> {
        self.kinds.iter().find(|k| k.id == id)
    }
}

/// Checks one list; each entry's problems are named `documents.<list>[i].<key>`.
fn entries(
    list: &str,
    raw: Vec<RawCatalogueEntry>,
    problems: &mut Vec<String>,
) -> Vec<(String, String, String)> {
    if raw.is_empty() {
        problems.push(format!("documents.{list}: must name at least one entry"));
    }
    let mut out: Vec<(String, String, String)> = Vec::new();
    for (i, e) in raw.into_iter().enumerate() {
        let at = format!("documents.{list}[{i}]");
        let mut text = |key: &str, value: Option<String>| -> String {
            let value = hopthu_model::text::clean(value.as_deref().unwrap_or_default());
            if value.is_empty() {
                problems.push(format!("{at}.{key}: missing or empty"));
            }
            value
        };
        let id = text("id", e.id);
        let name = text("name", e.name);
        let name_en = text("name_en", e.name_en);
        if !id.is_empty()
            && !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            problems.push(format!(
                "{at}.id: {id:?} must be lowercase ASCII letters, digits and _ (such as \"giay_moi\")"
            ));
        }
        if !id.is_empty() && out.iter().any(|(other, _, _)| *other == id) {
            problems.push(format!("{at}.id: {id:?} appears twice"));
        }
        out.push((id, name, name_en));
    }
    out
}

pub(crate) fn validate(raw: RawDocuments, problems: &mut Vec<String>) -> Documents {
    let d = Documents::default();
    let kinds = match raw.kinds {
        None => d.kinds,
        Some(raw) => entries("kinds", raw, problems)
            .into_iter()
            .map(|(id, name, name_en)| DocumentKind { id, name, name_en })
            .collect(),
    };
    let secrecy_levels: Vec<SecrecyLevel> = match raw.secrecy_levels {
        None => d.secrecy_levels,
        Some(raw) => entries("secrecy_levels", raw, problems)
            .into_iter()
            .map(|(id, name, name_en)| SecrecyLevel { id, name, name_en })
            .collect(),
    };
    // A marking is recognised by the folded name, so two levels must not fold alike.
    for (i, level) in secrecy_levels.iter().enumerate() {
        let folded = hopthu_model::text::search_fold(&level.name);
        if !level.name.is_empty()
            && secrecy_levels[..i]
                .iter()
                .any(|l| hopthu_model::text::search_fold(&l.name) == folded)
        {
            problems.push(format!(
                "documents.secrecy_levels[{i}].name: {:?} is another level's name (compared \
                 without case and diacritics)",
                level.name
            ));
        }
    }
    Documents {
        kinds,
        secrecy_levels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Config, EXAMPLE};
    use std::path::Path;

    #[test]
    fn defaults_are_the_catalogue_of_article_9() {
        let c = Config::from_toml("", "t", Path::new("/")).unwrap();
        let ids: Vec<_> = c.documents.kinds.iter().map(|k| k.id.as_str()).collect();
        assert_eq!(
            ids,
            [
                "lich_cong_tac",
                "giay_moi",
                "tai_lieu_hop",
                "de_biet_de_bao_cao",
                "cong_van",
                "bao_cao",
                "chi_thi"
            ]
        );
        let levels: Vec<_> = c
            .documents
            .secrecy_levels
            .iter()
            .map(|l| (l.id.as_str(), l.name.as_str()))
            .collect();
        assert_eq!(
            levels,
            [
                ("mat", "Mật"),
                ("toi_mat", "Tối mật"),
                ("tuyet_mat", "Tuyệt mật")
            ]
        );
        assert_eq!(c.documents.kind("giay_moi").unwrap().name_en, "Invitation");
        assert_eq!(
            c.documents.secrecy_level("tuyet_mat").unwrap().name,
            "Tuyệt mật"
        );
    }

    /// `example.toml` is the documented reference: it spells out exactly the built-in default.
    #[test]
    fn the_example_spells_out_the_default() {
        let c = Config::from_toml(EXAMPLE, "example", Path::new("/x")).unwrap();
        assert_eq!(c.documents, Documents::default());
    }

    #[test]
    fn a_new_catalogue_replaces_the_default() {
        let text = "[[documents.kinds]]\nid = \"thong_bao\"\nname = \"Thông báo\"\nname_en = \"Notice\"\n\
                    [[documents.secrecy_levels]]\nid = \"mat\"\nname = \"Mật\"\nname_en = \"Confidential\"\n";
        let c = Config::from_toml(text, "t", Path::new("/")).unwrap();
        assert_eq!(c.documents.kinds.len(), 1);
        assert_eq!(c.documents.kinds[0].name, "Thông báo");
        assert_eq!(c.documents.secrecy_levels.len(), 1);
        // One list written, the other left at its default.
        let c = Config::from_toml(
            "[[documents.kinds]]\nid = \"x\"\nname = \"X\"\nname_en = \"X\"\n",
            "t",
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(c.documents.secrecy_levels.len(), 3);
    }

    #[test]
    fn reports_every_problem_with_its_key() {
        let text = "[documents]\nsecrecy_levels = []\n\
                    [[documents.kinds]]\nid = \"Giấy mời\"\nname = \"Giấy mời\"\nname_en = \"Invitation\"\n\
                    [[documents.kinds]]\nid = \"cong_van\"\nname = \" \"\n\
                    [[documents.kinds]]\nid = \"cong_van\"\nname = \"Công văn\"\nname_en = \"Letter\"\n";
        let err = Config::from_toml(text, "t", Path::new("/"))
            .unwrap_err()
            .to_string();
        for key in [
            "documents.secrecy_levels: must name at least one",
            "documents.kinds[0].id",
            "documents.kinds[1].name:",
            "documents.kinds[1].name_en:",
            "documents.kinds[2].id: \"cong_van\" appears twice",
        ] {
            assert!(err.contains(key), "{key} missing in {err}");
        }
        let text = "[[documents.secrecy_levels]]\nid = \"a\"\nname = \"Mật\"\nname_en = \"A\"\n\
                    [[documents.secrecy_levels]]\nid = \"b\"\nname = \"MAT\"\nname_en = \"B\"\n";
        let err = Config::from_toml(text, "t", Path::new("/"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("documents.secrecy_levels[1].name"), "{err}");
        let err = Config::from_toml(
            "[[documents.kinds]]\nid = \"x\"\nname = \"X\"\nname_en = \"X\"\ncode = 1\n",
            "t",
            Path::new("/"),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("code"), "{err}");
    }
}
