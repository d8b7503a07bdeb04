//! Rules R1–R3: how a name is cleaned for storing, folded into the letters of an address, and
//! split into words ("chữ").

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// R1: the form in which names are stored and shown.
///
/// Removes zero-width characters and soft hyphens (U+200B, U+200C, U+200D, U+2060, U+FEFF,
/// U+00AD), normalises to NFC, replaces each run of white space (U+00A0 and TAB included) by one
/// space, and trims. This is the same function as [`crate::text::clean`]; the tests of this
/// module pin it to rule R1.
pub fn clean(s: &str) -> String {
    crate::text::clean(s)
}

/// R2: the letters of an address.
///
/// [`clean`]; map `đ Đ ð Ð ɖ Ɖ` to `d`; NFKD; drop combining marks; lower-case; delete everything
/// not in `[a-z0-9]`. Idempotent; the output is only `[a-z0-9]*`; NFC and NFD input fold equal.
/// `fold("Nông Văn Đạt")` is `"nongvandat"`.
pub fn fold(s: &str) -> String {
    clean(s)
        .chars()
        .map(|c| match c {
            'đ' | 'Đ' | 'ð' | 'Ð' | 'ɖ' | 'Ɖ' => 'd',
            other => other,
        })
        .collect::<String>()
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        .collect()
}

/// R3: the words ("chữ") of a name.
///
/// [`clean`]; delete apostrophes (`'`, U+2019, U+02BC, U+2018 and the backtick); split on white
/// space and on `- ‐ – — , ; / & ( ) . :`; drop empty pieces. The words keep their letters,
/// case and diacritics: `words("Sở TN&MT")` is `["Sở", "TN", "MT"]`.
pub fn words(s: &str) -> Vec<String> {
    let kept: String = clean(s).chars().filter(|c| !is_apostrophe(*c)).collect();
    kept.split(|c: char| c.is_whitespace() || is_word_separator(c))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The apostrophes R3 deletes inside words (`H'Mai` is one word).
pub(crate) fn is_apostrophe(c: char) -> bool {
    matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`')
}

/// The punctuation R3 splits words on (besides white space).
fn is_word_separator(c: char) -> bool {
    matches!(
        c,
        '-' | '\u{2010}' | '\u{2013}' | '\u{2014}' | ',' | ';' | '/' | '&' | '(' | ')' | '.' | ':'
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_follows_r1() {
        for (input, want) in [
            ("Nông Văn Đạt", "Nông Văn Đạt"),
            ("  Nông\u{00A0}Văn\t\tĐạt  ", "Nông Văn Đạt"),
            (
                "Nông\u{200B} Văn\u{200C}\u{200D} Đạt\u{2060}\u{FEFF}",
                "Nông Văn Đạt",
            ),
            ("Bảo\u{00AD}Lạc", "BảoLạc"),
            (
                "No\u{0302}ng Va\u{0306}n \u{0110}a\u{0323}t",
                "Nông Văn Đạt",
            ),
            ("a \u{200B} b", "a b"),
            ("\u{200B}\u{00A0}\t", ""),
            ("Xã\nHưng\r\nĐạo", "Xã Hưng Đạo"),
        ] {
            assert_eq!(clean(input), want, "{input:?}");
        }
    }

    #[test]
    fn fold_follows_r2() {
        for (input, want) in [
            ("Nông Văn Đạt", "nongvandat"),
            // NFD input (decomposed marks) folds like NFC.
            ("No\u{0302}ng Va\u{0306}n \u{0110}a\u{0323}t", "nongvandat"),
            // U+00D0 (Icelandic eth) and its kin look like Đ and fold to d.
            ("\u{00D0}ạt", "dat"),
            ("\u{00F0}ạt \u{0256}\u{0189}", "datdd"),
            ("đĐ", "dd"),
            ("Sở TN&MT", "sotnmt"),
            ("Hội Liên hiệp Phụ nữ tỉnh", "hoilienhiepphunutinh"),
            ("Hòa An", "hoaan"),
            ("Hoà An", "hoaan"),
            ("HÒA AN", "hoaan"),
            ("Bình Lãng", "binhlang"),
            ("Bình Lăng", "binhlang"),
            ("H'Mông", "hmong"),
            ("  Bế\u{200B} Văn\u{00A0}Đàn ", "bevandan"),
            ("Khu 12", "khu12"),
            ("ＡＢＣ１２", "abc12"),
            ("Ñ ß 中", "n"),
            ("", ""),
        ] {
            assert_eq!(fold(input), want, "{input:?}");
            // Idempotent, and only [a-z0-9].
            assert_eq!(fold(&fold(input)), fold(input), "{input:?}");
            assert!(
                fold(input)
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn words_follow_r3() {
        for (input, want) in [
            ("Nông Văn Đạt", &["Nông", "Văn", "Đạt"][..]),
            ("H'Mai Niê", &["HMai", "Niê"]),
            ("H\u{2019}Mai  Niê", &["HMai", "Niê"]),
            ("H\u{02BC}Mai H\u{2018}Hen H`Ly", &["HMai", "HHen", "HLy"]),
            ("Sở TN&MT", &["Sở", "TN", "MT"]),
            (
                "Sở Lao động - Thương binh và Xã hội",
                &["Sở", "Lao", "động", "Thương", "binh", "và", "Xã", "hội"],
            ),
            (
                "a‐b–c—d,e;f/g&h(i)j.k:l",
                &["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"],
            ),
            ("Nguyễn V. Đạt", &["Nguyễn", "V", "Đạt"]),
            (
                "\u{200B} Xã\u{00A0}\u{00A0}Hưng\tĐạo ",
                &["Xã", "Hưng", "Đạo"],
            ),
            (" - , ", &[]),
        ] {
            assert_eq!(words(input), want, "{input:?}");
        }
    }
}
