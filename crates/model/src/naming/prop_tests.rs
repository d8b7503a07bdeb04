//! Property tests of the address rules: thousands of generated names and strings, from a fixed
//! seed so a failure is reproducible, checked against what R2 and R4–R12 promise for every
//! input — folding is idempotent, yields only `[a-z0-9]`, and does not depend on NFC/NFD or case;
//! every planned local part is `[a-z0-9]+(\.[a-z0-9]+)*`, unique, and starts with the person's
//! base.
//!
//! The generator is a small xorshift so the model crate keeps no test-only dependency.

use std::collections::BTreeSet;

use unicode_normalization::UnicodeNormalization;

use super::*;

/// xorshift64*: deterministic, good enough to spread choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const VIETNAMESE_LETTERS: &str = "aàáảãạăắằẳẵặâấầẩẫậbcdđeèéẻẽẹêếềểễệghiìíỉĩịklmnoòóỏõọôốồổỗộơớờởỡợ\
pqrstuùúủũụưứừửữựvxyỳýỷỹỵ";

/// Characters that real files carry besides letters: decomposed marks, odd spaces, zero-width
/// characters, punctuation, look-alikes of Đ, full-width forms, other scripts, emoji.
const NOISE: &[char] = &[
    '\u{0300}', '\u{0301}', '\u{0303}', '\u{0309}', '\u{0323}', '\u{0302}', '\u{0306}', '\u{031B}',
    ' ', '\u{00A0}', '\t', '\n', '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}',
    '\u{00AD}', '\'', '\u{2019}', '-', '\u{2013}', '.', ',', '&', '(', ')', '/', 'Ð', 'ð', 'ɖ',
    'Ɖ', 'Ａ', '１', '中', 'ß', 'Ñ', '😀', '0', '7', 'Z', '@', '_',
];

fn letters() -> Vec<char> {
    VIETNAMESE_LETTERS.chars().collect()
}

/// Any string: letters of both cases mixed with noise.
fn any_string(rng: &mut Rng, letters: &[char]) -> String {
    let len = rng.below(24);
    (0..len)
        .map(|_| match rng.below(4) {
            0 => *rng.pick(NOISE),
            1 => rng.pick(letters).to_uppercase().next().unwrap_or('A'),
            _ => *rng.pick(letters),
        })
        .collect()
}

/// A Vietnamese-looking full name of two to five words, in NFC or NFD, sometimes upper-case,
/// sometimes with stray spaces.
fn person_name(rng: &mut Rng, letters: &[char]) -> String {
    let words = 2 + rng.below(4);
    let mut name = String::new();
    for w in 0..words {
        if w > 0 {
            const GAPS: [&str; 4] = [" ", "  ", "\u{00A0}", " \u{200B}"];
            let gap: &&str = rng.pick(&GAPS);
            name.push_str(gap);
        }
        let len = 1 + rng.below(6);
        let word: String = (0..len).map(|_| *rng.pick(letters)).collect();
        let mut chars = word.chars();
        let first = chars.next().unwrap_or('a');
        name.extend(first.to_uppercase());
        name.push_str(chars.as_str());
    }
    match rng.below(4) {
        0 => name.nfd().collect(),
        1 => name.to_uppercase(),
        _ => name,
    }
}

#[test]
fn folding_is_idempotent_ascii_and_form_independent() {
    let letters = letters();
    let mut rng = Rng(0x5EED_0001);
    for _ in 0..20_000 {
        let s = any_string(&mut rng, &letters);
        let folded = fold(&s);
        assert!(
            folded
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{s:?} folded to {folded:?}"
        );
        assert_eq!(fold(&folded), folded, "not idempotent on {s:?}");
        let nfc: String = s.nfc().collect();
        let nfd: String = s.nfd().collect();
        assert_eq!(fold(&nfc), fold(&nfd), "NFC and NFD differ on {s:?}");
        // R1: cleaning is idempotent too, and folding sees through it.
        assert_eq!(
            clean(&clean(&s)),
            clean(&s),
            "clean not idempotent on {s:?}"
        );
        assert_eq!(fold(&clean(&s)), folded, "{s:?}");
    }
}

#[test]
fn folding_ignores_vietnamese_case_and_marks() {
    let letters = letters();
    let mut rng = Rng(0x5EED_0002);
    for _ in 0..5_000 {
        let name = person_name(&mut rng, &letters);
        assert_eq!(fold(&name.to_uppercase()), fold(&name), "{name:?}");
        assert_eq!(fold(&name.to_lowercase()), fold(&name), "{name:?}");
        // Dropping every mark (and đ → d) by hand gives the same letters.
        let bare: String = name
            .nfd()
            .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
            .map(|c| if matches!(c, 'đ' | 'Đ') { 'd' } else { c })
            .collect();
        assert_eq!(fold(&bare), fold(&name), "{name:?}");
    }
}

#[test]
fn every_planned_address_is_valid_unique_and_built_from_the_name() {
    let letters = letters();
    let mut rng = Rng(0x5EED_0003);
    let units = vec![
        UnitInput::new("department", "P-01", "Sở Y tế", None),
        UnitInput::new("department", "P-02", "Sở Tài nguyên và Môi trường", None),
        UnitInput::new("district", "P-03", "Huyện Bảo Lạc", None),
        UnitInput::new("township", "P-04", "Thị trấn Bảo Lạc", Some("P-03")),
    ];
    for style in [DuplicateStyle::Number, DuplicateStyle::Unit] {
        let config = NamingConfig {
            person_duplicates: style,
            ..NamingConfig::default()
        };
        for round in 0..10 {
            // Few distinct words, so namesakes are common.
            let pool: Vec<String> = (0..30).map(|_| person_name(&mut rng, &letters)).collect();
            let people: Vec<PersonInput> = (0..300)
                .map(|_| {
                    const CODES: [&str; 4] = ["P-01", "P-02", "P-03", "P-04"];
                    let unit = rng.pick(&CODES);
                    PersonInput::new(rng.pick(&pool).as_str(), unit)
                })
                .collect();
            let plan = plan(&config, &units, &people, &Taken::new())
                .unwrap_or_else(|e| panic!("round {round}: {e:#?}"));
            let mut seen = BTreeSet::new();
            for local in plan.locals() {
                assert!(is_valid_local(local), "{local:?} is not a valid local part");
                assert!(seen.insert(local.to_owned()), "{local} given twice");
                assert!(
                    !config.reserved.iter().any(|r| r == local),
                    "{local} is reserved"
                );
            }
            for proposal in &plan.people {
                let base = person_base(&people[proposal.row].full_name)
                    .expect("generated names are valid")
                    .base;
                assert!(
                    proposal.local.starts_with(&base),
                    "{} got {} (base {base})",
                    proposal.full_name,
                    proposal.local
                );
            }
        }
    }
}
