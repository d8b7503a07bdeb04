//! Rule R4: the base of a person's address (given name + initials of the other names), with the
//! warnings and refusals a person's name can earn.

use std::fmt;

use unicode_normalization::char::is_combining_mark;

use super::fold::{clean, fold, is_apostrophe, words};

/// Character sequences that betray a legacy (TCVN3/VNI or mis-decoded UTF-8) file: `Ð`/`ð` look
/// like `Đ`/`đ`, `«` is TCVN3's `ô`, `§` its `Đ`, `Ã`, `Æ°` and `áº` come from UTF-8 read as
/// Windows-1252, `Ñ` is not Vietnamese.
const LEGACY_LOOKALIKES: [&str; 8] = ["\u{00D0}", "\u{00F0}", "Ñ", "Ã", "Æ°", "áº", "«", "§"];

/// The Latin-1 letters Vietnamese uses; any other character of U+0080–U+00FF in a name is the
/// trace of a legacy file read as Windows-1252 (TCVN3's `«` `¨` `§` `¹`, VNI's `Ñ`, the Eth `Ð`
/// that Windows-1258 uses for `Đ`, `Ã´` of UTF-8 read twice…).
const VIETNAMESE_LATIN1: &str = "ÀÁÂÃÈÉÊÌÍÒÓÔÕÙÚÝàáâãèéêìíòóôõùúý";

/// Windows-1252 characters outside Latin-1 that only mis-conversion puts in a name.
const CP1252_EXTRAS: &str = "ŒœŠšŸŽžƒˆ˜†‡‰‹›™€‚„";

/// Whether `c` is the trace of a mis-converted legacy file: a character of U+0080–U+00FF that
/// Vietnamese does not use (no-break space and soft hyphen excepted: they come from copy and
/// paste and R1 cleans them), or a Windows-1252 extra (`Œ`, `€`…). Letters among them (`Ð`,
/// `ð`, `Ñ`, `Ø`…) earn a warning ([`legacy_lookalikes`]); the others (`«`, `§`…) are not
/// letters, so R4 refuses them.
pub fn is_legacy_trace(c: char) -> bool {
    let u = u32::from(c);
    let latin1_symbol = (0x80..=0xFF).contains(&u)
        && !VIETNAMESE_LATIN1.contains(c)
        && c != '\u{A0}'
        && c != '\u{AD}';
    latin1_symbol || CP1252_EXTRAS.contains(c)
}

/// R4's look-alikes found in a name (person's or unit's), in the order of R4's list, then any
/// other letter that [`is_legacy_trace`] (`Ø`, `Ä`…), each once. Empty for a clean name.
/// `legacy_lookalikes("Nông Văn Ðạt")` is `["Ð"]`.
pub fn legacy_lookalikes(name: &str) -> Vec<String> {
    let name = clean(name);
    let mut found: Vec<String> = LEGACY_LOOKALIKES
        .iter()
        .filter(|l| name.contains(*l))
        .map(|l| (*l).to_owned())
        .collect();
    for c in name.chars() {
        if c.is_alphabetic() && is_legacy_trace(c) && !found.iter().any(|f| f.contains(c)) {
            found.push(c.to_string());
        }
    }
    found
}

/// `U+00D0 Ð` for each character of `s`, separated by spaces: what an operator needs to tell
/// `Ð` from `Đ` on a screen where they look the same.
pub fn code_points(s: &str) -> String {
    s.chars()
        .map(|c| format!("U+{:04X} {c}", u32::from(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The base of a person's address and what the operator should be told about the name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonBase {
    /// The address letters before any disambiguation, e.g. `datnv`.
    pub base: String,
    /// Remarks on the name; the base is usable all the same.
    pub warnings: Vec<NameWarning>,
}

/// A remark on a person's name that does not stop its address from being made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameWarning {
    /// The name is a single word; the base is its fold alone.
    SingleWord,
    /// The name holds a look-alike character typical of a mis-converted legacy file.
    LegacyLookalike {
        /// The suspicious character or sequence, as found.
        found: String,
    },
}

impl fmt::Display for NameWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameWarning::SingleWord => f.write_str("the name is a single word"),
            NameWarning::LegacyLookalike { found } => {
                let found = code_points(found);
                write!(
                    f,
                    "tên có {found}, ký tự giống chữ Việt thường gặp ở tệp chuyển sai từ bảng mã \
                     cũ (TCVN3/VNI), hãy kiểm tra chính tả / the name holds {found}, a look-alike \
                     typical of a mis-converted legacy (TCVN3/VNI) file; check the spelling"
                )
            }
        }
    }
}

/// Why a person's name cannot be given an address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Nothing but white space, invisible characters or punctuation.
    Empty,
    /// A character other than a letter, combining mark, space, apostrophe, `-` or `.`.
    ForbiddenCharacter {
        /// The offending character.
        ch: char,
        /// Its position in the cleaned name, counting characters from 1.
        position: usize,
        /// The name also holds a legacy look-alike, so the file was probably mis-converted.
        legacy: bool,
    },
    /// Letters only from scripts that fold to nothing (no Latin letter or digit).
    NoLatinLetters,
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty"),
            NameError::ForbiddenCharacter {
                ch,
                position,
                legacy,
            } => {
                write!(
                    f,
                    "forbidden character {ch:?} (U+{:04X}) at position {position} of the name",
                    u32::from(*ch)
                )?;
                if *legacy {
                    f.write_str("; the name looks mis-converted from a legacy (TCVN3/VNI) file")?;
                }
                Ok(())
            }
            NameError::NoLatinLetters => {
                f.write_str("the name has no letter that can be written in an address")
            }
        }
    }
}

impl std::error::Error for NameError {}

/// R4: the base of a person's address.
///
/// The words of the name ([`words`]) are taken; the given name is the last one. The base is
/// fold(given name) followed by the first letter of fold(w) for every earlier word w, skipping
/// words whose fold is empty: `Nông Văn Đạt` → `datnv`, `H'Mai Niê` → `nieh`. A name of one word
/// gives its fold with [`NameWarning::SingleWord`].
///
/// A name holding anything but letters, combining marks, spaces, apostrophes (the five R3
/// deletes), `-` (or U+2010) and `.` is refused with the offending character. Look-alikes of
/// mis-converted legacy files (`Ð`, `ð`, `Ñ`, `Ã`, `Æ°`, `áº`, `«`, `§`, and any other letter that
/// [`is_legacy_trace`]: [`legacy_lookalikes`]) earn a warning, or a hint in the refusal when they
/// are themselves forbidden. `Ð` and `ð` fold to `d` like `Đ` (R2).
pub fn person_base(full_name: &str) -> Result<PersonBase, NameError> {
    let name = clean(full_name);
    let lookalikes = legacy_lookalikes(&name);
    if let Some((index, ch)) = name.chars().enumerate().find(|(_, c)| !is_name_char(*c)) {
        return Err(NameError::ForbiddenCharacter {
            ch,
            position: index + 1,
            legacy: !lookalikes.is_empty(),
        });
    }
    let all_words = words(&name);
    if all_words.is_empty() {
        return Err(NameError::Empty);
    }
    let folded: Vec<String> = all_words
        .iter()
        .map(|w| fold(w))
        .filter(|f| !f.is_empty())
        .collect();
    let Some((given, others)) = folded.split_last() else {
        return Err(NameError::NoLatinLetters);
    };
    let mut base = given.clone();
    base.extend(others.iter().filter_map(|f| f.chars().next()));
    let mut warnings = Vec::new();
    if others.is_empty() {
        warnings.push(NameWarning::SingleWord);
    }
    warnings.extend(
        lookalikes
            .into_iter()
            .map(|found| NameWarning::LegacyLookalike { found }),
    );
    Ok(PersonBase { base, warnings })
}

/// The characters R4 allows in a person's name (after [`clean`]).
fn is_name_char(c: char) -> bool {
    c.is_alphabetic()
        || is_combining_mark(c)
        || c == ' '
        || is_apostrophe(c)
        || matches!(c, '-' | '\u{2010}' | '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookalike(found: &str) -> NameWarning {
        NameWarning::LegacyLookalike {
            found: found.to_owned(),
        }
    }

    #[test]
    fn bases() {
        use NameWarning::SingleWord;
        for (name, base, warnings) in [
            ("Nông Văn Đạt", "datnv", vec![]),
            ("Ninh Văn Đạt", "datnv", vec![]),
            // NFD input gives the same base as NFC.
            (
                "No\u{0302}ng Va\u{0306}n \u{0110}a\u{0323}t",
                "datnv",
                vec![],
            ),
            // Stray spaces and zero-width characters.
            (
                "  Nông\u{00A0}\u{00A0}Văn\u{200B}\t Đạt\u{FEFF} ",
                "datnv",
                vec![],
            ),
            ("Nông Văn Đ\u{00AD}ạt", "datnv", vec![]),
            ("Nguyễn Văn Hùng", "hungnv", vec![]),
            ("Nguyễn Văn Hưng", "hungnv", vec![]),
            ("Tôn Nữ Thị Hồng Nhung", "nhungtnth", vec![]),
            ("Nguyễn Hoàng Bảo Khánh Linh", "linhnhbk", vec![]),
            ("H'Mai Niê", "nieh", vec![]),
            ("H\u{2019}Mai Niê", "nieh", vec![]),
            ("Lý A Sần", "sanla", vec![]),
            ("Vàng Seo Phử", "phuvs", vec![]),
            ("Nguyễn V. Đạt", "datnv", vec![]),
            ("Lê-Nguyễn Minh", "minhln", vec![]),
            ("Hoàng Anh", "anhh", vec![]),
            ("Lý Thị Mỹ", "mylt", vec![]),
            ("Lý Thị Mĩ", "milt", vec![]),
            ("Hoàng", "hoang", vec![SingleWord]),
            ("ĐẠT", "dat", vec![SingleWord]),
            // U+00D0 looks like Đ: folded to d, but the operator is warned.
            ("Nông Văn \u{00D0}ạt", "datnv", vec![lookalike("\u{00D0}")]),
            ("Nông Văn \u{00F0}ạt", "datnv", vec![lookalike("\u{00F0}")]),
            ("NÃNG VĂN ĐẠT", "datnv", vec![lookalike("Ã")]),
            ("Ñông Văn Đạt", "datnv", vec![lookalike("Ñ")]),
            ("Náºng Văn Đạt", "datnv", vec![lookalike("áº")]),
            // Other Latin-1 letters Vietnamese does not use warn too.
            // Ø has no decomposition, so it folds to nothing: all the more reason to look.
            ("Nông Văn Ølaf", "lafnv", vec![lookalike("Ø")]),
        ] {
            let got = person_base(name).unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(got.base, base, "{name:?}");
            assert_eq!(got.warnings, warnings, "{name:?}");
        }
    }

    #[test]
    fn lookalikes_are_found_once_with_their_code_points() {
        for (name, want) in [
            ("Nông Văn Đạt", &[][..]),
            ("Nguyễn Thị Hoà", &[]),
            ("MÃ VĂN AN", &["Ã"]),
            ("Nông Văn \u{00D0}ạt", &["\u{00D0}"]),
            (
                "\u{00D0}inh \u{00F0}ạt \u{00D0}ức",
                &["\u{00D0}", "\u{00F0}"],
            ),
            ("Noâng Vaên Ñaït", &["Ñ", "ï"]),
            ("HÆ°ng", &["Æ°"]),
            ("Ølaf Åse", &["Ø", "Å"]),
        ] {
            assert_eq!(legacy_lookalikes(name), want, "{name:?}");
        }
        assert_eq!(code_points("\u{00D0}"), "U+00D0 Ð");
        assert_eq!(code_points("Æ°"), "U+00C6 Æ U+00B0 °");
        assert!(is_legacy_trace('Ð') && is_legacy_trace('«') && is_legacy_trace('Œ'));
        assert!(!is_legacy_trace('Đ') && !is_legacy_trace('ô') && !is_legacy_trace('\u{A0}'));
    }

    #[test]
    fn a_lookalike_warning_names_the_code_point() {
        let base = person_base("Nông Văn \u{00D0}ạt").unwrap();
        assert_eq!(base.base, "datnv");
        let text = base.warnings[0].to_string();
        assert!(
            text.contains("U+00D0 Ð") && text.contains("legacy"),
            "{text}"
        );
        assert!(text.starts_with("tên có"), "Vietnamese first: {text}");
    }

    #[test]
    fn refusals() {
        let forbidden = |ch, position, legacy| NameError::ForbiddenCharacter {
            ch,
            position,
            legacy,
        };
        for (name, error) in [
            ("", NameError::Empty),
            ("  \u{200B} ", NameError::Empty),
            (" . - ", NameError::Empty),
            ("中文", NameError::NoLatinLetters),
            ("Nông Văn Đạt 2", forbidden('2', 14, false)),
            ("Nông Văn Đạt (Sở Y tế)", forbidden('(', 14, false)),
            ("datnv@caobang.gov.vn", forbidden('@', 6, false)),
            ("Nông, Văn Đạt", forbidden(',', 5, false)),
            ("Nguyễn–Văn Đạt", forbidden('–', 7, false)),
            // TCVN3 read as Latin-1: « is ô, § is Đ.
            ("N«ng V¨n §¹t", forbidden('«', 2, true)),
            ("§inh Văn Tòn", forbidden('§', 1, true)),
            // UTF-8 read as Windows-1252: Æ° is ư.
            ("HÆ°ng", forbidden('°', 3, true)),
        ] {
            assert_eq!(person_base(name), Err(error), "{name:?}");
        }
    }

    #[test]
    fn refusal_names_the_character() {
        let message = person_base("Nông Văn Đạt 2").unwrap_err().to_string();
        assert!(
            message.contains("'2'") && message.contains("U+0032"),
            "{message}"
        );
        let message = person_base("N«ng").unwrap_err().to_string();
        assert!(
            message.contains("U+00AB") && message.contains("legacy"),
            "{message}"
        );
    }
}
