//! Rules R6–R9 for one unit on its own: kind words, qualifiers, abbreviation and the local part
//! before the namespace is consulted. R10 (communes decided together) and uniqueness live in the
//! planner.

use super::config::{KindRule, LocalForm, NamingConfig};
use super::fold::{clean, fold, words};
use super::plan::{RowErrorReason, Warning};

/// R8: the abbreviation of a name part.
///
/// Words that fold to `va` are dropped, and so are words whose fold is empty. When
/// `in_mixed_case_name` (the unit's whole name has both upper- and lower-case letters), a word
/// in capitals of 2+ letters is an acronym: it counts as its number of letters and contributes
/// its whole fold. If the count is 3 or more the result is the first folded letter of each word
/// (acronyms whole), otherwise the folds of the words run together:
/// `Tài nguyên và Môi trường` → `tnmt`, `TN&MT` → `tnmt`, `Y tế` → `yte`.
pub fn abbr(name_words: &[String], in_mixed_case_name: bool) -> String {
    let kept: Vec<(String, Option<usize>)> = name_words
        .iter()
        .filter_map(|w| {
            let f = fold(w);
            if f.is_empty() || f == "va" {
                return None;
            }
            let acronym = (in_mixed_case_name && is_capitals(w))
                .then(|| w.chars().filter(|c| c.is_alphabetic()).count());
            Some((f, acronym))
        })
        .collect();
    let count: usize = kept.iter().map(|(_, acronym)| acronym.unwrap_or(1)).sum();
    if count >= 3 {
        kept.iter()
            .map(|(f, acronym)| match acronym {
                Some(_) => f.as_str(),
                None => &f[..1],
            })
            .collect()
    } else {
        kept.into_iter().map(|(f, _)| f).collect()
    }
}

/// A word in capitals of 2+ letters (`TN`, `ĐT`, `UBND`).
fn is_capitals(word: &str) -> bool {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    letters.len() >= 2 && letters.iter().all(|c| c.is_uppercase())
}

/// Whether a name has both upper- and lower-case letters.
fn is_mixed_case(name: &str) -> bool {
    name.chars().any(char::is_uppercase) && name.chars().any(char::is_lowercase)
}

/// What R6–R9 make of one unit's name on its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitStem {
    /// The name as stored and shown ([`clean`]).
    pub name: String,
    /// The name part after the kind word and qualifiers, as shown (for warnings).
    pub name_part: String,
    /// The letters of the local part: the whole local part for most kinds, abbr(name part)
    /// without the district for district offices, b of R10.1 for communes.
    pub stem: String,
    /// Remarks for the operator.
    pub warnings: Vec<Warning>,
    /// Flagged for the operator's review.
    pub review: bool,
}

/// Applies R6–R9 to one unit's name.
pub(crate) fn unit_stem(
    config: &NamingConfig,
    kind: &KindRule,
    name: &str,
) -> Result<UnitStem, RowErrorReason> {
    let name = clean(name);
    if name.is_empty() {
        return Err(RowErrorReason::EmptyName);
    }
    if let Some(ch) = name.chars().find(|c| c.is_control()) {
        return Err(RowErrorReason::BadCharacter { ch });
    }
    let mixed = is_mixed_case(&name);
    let mut ws = words(&name);
    replace_province_qualifier(config, &mut ws);

    // R6: the kind word, matched at the start after folding both sides.
    let kind_word = kind
        .words
        .iter()
        .find_map(|kw| starts_with_phrase(&ws, kw).map(|n| (kw, n)));
    let mut part: Vec<String> = match kind_word {
        Some((_, n)) => ws[n..].to_vec(),
        None => ws,
    };
    if part.is_empty() {
        return Err(match kind_word {
            Some((kw, _)) => RowErrorReason::OnlyKindWord { word: kw.clone() },
            None => RowErrorReason::NoLetters,
        });
    }
    // R9: a department-level agency that is not a sở.
    let head = match (&kind.local, kind_word) {
        (LocalForm::Prefixed { .. }, None) => config
            .non_so_heads
            .iter()
            .find(|h| starts_with_phrase(&part, h).is_some()),
        _ => None,
    };
    // R7: drop a trailing qualifier unless it closes a qualifier that stays.
    if !config
        .kept_qualifiers
        .iter()
        .any(|q| ends_with_phrase(&part, q).is_some())
        && let Some(n) = kind
            .drop_trailing
            .iter()
            .find_map(|q| ends_with_phrase(&part, q))
        && n < part.len()
    {
        part.truncate(part.len() - n);
    }

    let mut warnings = Vec::new();
    let mut review = kind.review;
    let stem = match &kind.local {
        LocalForm::Prefixed { prefix } => match head {
            Some(head) => {
                warnings.push(Warning::WithoutPrefix { head: head.clone() });
                review = true;
                abbr(&part, mixed)
            }
            None => format!("{}{}", fold(prefix), abbr(&part, mixed)),
        },
        LocalForm::KindWordAbbr { qualifier } => {
            let kind_letters = kind_word.map(|(kw, _)| fold(kw)).unwrap_or_default();
            let had = match ends_with_phrase(&part, qualifier) {
                Some(n) if n < part.len() => {
                    part.truncate(part.len() - n);
                    true
                }
                _ => false,
            };
            let tail = if had { fold(qualifier) } else { String::new() };
            format!("{kind_letters}{}{tail}", abbr(&part, mixed))
        }
        LocalForm::District | LocalForm::Folded | LocalForm::Commune { .. } => {
            fold(&part.join(" "))
        }
        LocalForm::DistrictOffice => abbr(&part, mixed),
    };
    if kind.review {
        warnings.push(Warning::KindNeedsReview {
            kind: kind.id.clone(),
        });
    }
    if stem.is_empty() {
        return Err(RowErrorReason::NoLetters);
    }
    Ok(UnitStem {
        name,
        name_part: part.join(" "),
        stem,
        warnings,
        review,
    })
}

/// R7: a trailing "tỉnh <Province>" becomes "tỉnh" (when something precedes it).
fn replace_province_qualifier(config: &NamingConfig, ws: &mut Vec<String>) {
    let phrase = format!("{} {}", config.province_word, config.province_name);
    if let Some(n) = ends_with_phrase(ws, &phrase)
        && n < ws.len()
    {
        let at = ws.len() - n;
        let word = ws[at].clone();
        ws.truncate(at);
        ws.push(word);
    }
}

/// The number of words of `phrase` when `ws` starts with it (word by word, folded).
pub(crate) fn starts_with_phrase(ws: &[String], phrase: &str) -> Option<usize> {
    let pw = folded_words(phrase);
    (!pw.is_empty() && pw.len() <= ws.len() && ws.iter().zip(&pw).all(|(w, p)| fold(w) == *p))
        .then_some(pw.len())
}

/// The number of words of `phrase` when `ws` ends with it (word by word, folded).
fn ends_with_phrase(ws: &[String], phrase: &str) -> Option<usize> {
    let pw = folded_words(phrase);
    (!pw.is_empty()
        && pw.len() <= ws.len()
        && ws[ws.len() - pw.len()..]
            .iter()
            .zip(&pw)
            .all(|(w, p)| fold(w) == *p))
    .then_some(pw.len())
}

fn folded_words(phrase: &str) -> Vec<String> {
    words(phrase)
        .iter()
        .map(|w| fold(w))
        .filter(|f| !f.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::config::kind_ids::*;
    use super::*;

    fn ws(s: &str) -> Vec<String> {
        words(s)
    }

    #[test]
    fn abbreviations() {
        for (name, mixed, want) in [
            ("Y tế", true, "yte"),
            ("Tài nguyên và Môi trường", true, "tnmt"),
            ("TN&MT", true, "tnmt"),
            ("TN&MT", false, "tnmt"),
            ("Kế hoạch và Đầu tư", true, "khdt"),
            ("KH&ĐT", true, "khdt"),
            ("Lao động - Thương binh và Xã hội", true, "ldtbxh"),
            ("Thông tin và Truyền thông", true, "tttt"),
            ("Dân tộc", true, "dantoc"),
            ("Quản lý Khu kinh tế", true, "qlkkt"),
            ("Tài chính - Kế hoạch", true, "tckh"),
            ("Nội vụ", true, "noivu"),
            ("Văn phòng UBND", true, "vpubnd"),
            // In a name all in capitals no word is an acronym.
            ("VĂN PHÒNG UBND", false, "vpu"),
            // A 2-letter acronym alone counts 2: run together.
            ("QL", true, "ql"),
            ("Đài PT-TH", true, "dptth"),
            ("Và", true, ""),
            ("Công Thương", true, "congthuong"),
            ("Văn hóa, Thể thao và Du lịch", true, "vhttdl"),
        ] {
            assert_eq!(abbr(&ws(name), mixed), want, "{name:?}");
        }
    }

    #[test]
    fn unit_stems() {
        let config = NamingConfig::default();
        for (kind, name, stem, review) in [
            (DEPARTMENT, "Sở Y tế", "soyte", false),
            (DEPARTMENT, "Y tế", "soyte", false),
            (DEPARTMENT, "SỞ Y TẾ", "soyte", false),
            (DEPARTMENT, "Sở Y tế tỉnh", "soyte", false),
            (DEPARTMENT, "Sở Y tế tỉnh Cao Bằng", "soyte", false),
            (DEPARTMENT, "Sở Thông tin và Truyền thông", "sotttt", false),
            (DEPARTMENT, "Sở TT&TT", "sotttt", false),
            (DEPARTMENT, "Sở Tài nguyên và Môi trường", "sotnmt", false),
            (DEPARTMENT, "Sở TN&MT", "sotnmt", false),
            (DEPARTMENT, "Sở Kế hoạch và Đầu tư", "sokhdt", false),
            (
                DEPARTMENT,
                "Sở Lao động - Thương binh và Xã hội",
                "soldtbxh",
                false,
            ),
            (DEPARTMENT, "Sở Công Thương", "socongthuong", false),
            (
                DEPARTMENT,
                "Sở Văn hóa, Thể thao và Du lịch",
                "sovhttdl",
                false,
            ),
            (DEPARTMENT, "Thanh tra tỉnh", "thanhtra", true),
            (DEPARTMENT, "Văn phòng Ủy ban nhân dân tỉnh", "vpubnd", true),
            (DEPARTMENT, "Văn phòng UBND tỉnh", "vpubnd", true),
            (BOARD, "Ban Dân tộc", "bandantoc", false),
            (BOARD, "Ban Quản lý Khu kinh tế tỉnh", "banqlkkt", false),
            (BOARD, "Ban Thi đua - Khen thưởng", "bantdkt", false),
            (BOARD, "Ban Tổ chức Tỉnh ủy", "bantctu", false),
            // "Hội đồng nhân dân tỉnh" is a qualifier that stays whole.
            (
                BOARD,
                "Ban Pháp chế Hội đồng nhân dân tỉnh",
                "banpchdndt",
                false,
            ),
            (
                BOARD,
                "Ban Dân tộc Hội đồng nhân dân tỉnh",
                "bandthdndt",
                false,
            ),
            (
                ORGANISATION,
                "Hội Liên hiệp Phụ nữ tỉnh",
                "hoilhpntinh",
                true,
            ),
            (
                ORGANISATION,
                "Hội Liên hiệp Phụ nữ tỉnh Cao Bằng",
                "hoilhpntinh",
                true,
            ),
            (ORGANISATION, "Hội Nông dân tỉnh", "hoinongdantinh", true),
            (
                ORGANISATION,
                "Liên đoàn Lao động tỉnh",
                "liendoanlaodongtinh",
                true,
            ),
            (
                ORGANISATION,
                "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh",
                "uybanmttqvntinh",
                true,
            ),
            (ORGANISATION, "Tỉnh đoàn", "tinhdoan", true),
            (ORGANISATION, "Báo Cao Bằng", "bcb", true),
            (DISTRICT, "Huyện Bảo Lạc", "baolac", false),
            (DISTRICT, "Bảo Lạc", "baolac", false),
            (DISTRICT, "Thị xã Cao Bằng", "caobang", false),
            (DISTRICT, "Thành phố Cao Bằng", "caobang", false),
            (DISTRICT, "Huyện Nguyên Bình", "nguyenbinh", false),
            (DISTRICT_OFFICE, "Phòng Nội vụ", "noivu", false),
            (DISTRICT_OFFICE, "Phòng Tài chính - Kế hoạch", "tckh", false),
            (DISTRICT_OFFICE, "Thanh tra huyện", "thanhtra", false),
            (DISTRICT_OFFICE, "Thanh tra thị xã", "thanhtra", false),
            (DISTRICT_OFFICE, "Phòng Nội vụ huyện", "noivu", false),
            (
                DISTRICT_OFFICE,
                "Văn phòng Hội đồng nhân dân và Ủy ban nhân dân",
                "vphdndubnd",
                false,
            ),
            (COMMUNE, "Xã Bế Văn Đàn", "bevandan", false),
            (COMMUNE, "Xã Hưng Đạo", "hungdao", false),
            (TOWNSHIP, "Thị trấn Bảo Lạc", "baolac", false),
            (WARD, "Phường Sông Hiến", "songhien", false),
            (PROVINCE, "Tỉnh Cao Bằng", "caobang", true),
        ] {
            let rule = config.kind(kind).unwrap();
            let got = unit_stem(&config, rule, name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got.stem, stem, "{kind} {name:?}");
            assert_eq!(got.review, review, "{kind} {name:?}");
        }
    }

    #[test]
    fn unit_name_errors() {
        let config = NamingConfig::default();
        for (kind, name, error) in [
            (DEPARTMENT, "  \u{200B} ", RowErrorReason::EmptyName),
            (
                DEPARTMENT,
                "Sở",
                RowErrorReason::OnlyKindWord {
                    word: "Sở".into()
                },
            ),
            (DEPARTMENT, "- , -", RowErrorReason::NoLetters),
            (COMMUNE, "中文", RowErrorReason::NoLetters),
            (
                COMMUNE,
                "Xã Hưng\u{0007}Đạo",
                RowErrorReason::BadCharacter { ch: '\u{0007}' },
            ),
        ] {
            let rule = config.kind(kind).unwrap();
            assert_eq!(unit_stem(&config, rule, name), Err(error), "{name:?}");
        }
    }
}
