//! Text helpers shared by every crate: Vietnamese-aware folding for search and look-up.

use unicode_normalization::UnicodeNormalization;

/// Folds text for diacritic- and case-insensitive matching: NFD, combining marks dropped,
/// `đ`/`Đ` (and the look-alike `Ð`) mapped to `d`, lower-cased. White space and punctuation are
/// kept, so `search_fold("Nông Văn Đạt")` is `"nong van dat"`.
pub fn search_fold(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            'đ' | 'Đ' | 'Ð' | 'ð' | 'ɖ' | 'Ɖ' => 'd',
            other => other,
        })
        .collect::<String>()
        .nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_vietnamese() {
        for (input, want) in [
            ("Nông Văn Đạt", "nong van dat"),
            ("Hòa", "hoa"),
            ("Hoà", "hoa"),
            ("HÒA AN", "hoa an"),
            ("Ðạt", "dat"),
        ] {
            assert_eq!(search_fold(input), want, "{input}");
        }
    }
}

/// Cleans a name for storing and showing (address rule R1): removes zero-width characters and
/// soft hyphens, normalises to NFC, collapses every run of white space (NBSP and TAB included)
/// to one space, and trims.
pub fn clean(s: &str) -> String {
    let kept: String = s
        .chars()
        .filter(|c| {
            !matches!(
                c,
                '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}'
            )
        })
        .nfc()
        .collect();
    kept.split(|c: char| c.is_whitespace() || c == '\u{00A0}')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod clean_tests {
    use super::clean;

    #[test]
    fn cleans_names() {
        assert_eq!(clean("  Nông\u{00A0}Văn\t\tĐạt \u{200B}"), "Nông Văn Đạt");
        assert_eq!(clean("No\u{0302}ng"), "Nông");
    }
}
