//! The Bayesian classifier (pure): a message's tokens and the probability that it is spam
//! from the counts its domain learnt.
//!
//! **Tokens**: the subject and the text (HTML as text), folded (`search_fold`: no accents,
//! lower case), split at every character that is not a letter or digit; words of 2 to 24
//! characters that are not all digits, each also prefixed `s:` when in the subject, and the
//! pairs of neighbouring words (`trung_thuong`: Vietnamese says most things in two
//! syllables); a few header tokens (`from:<domain>`, `html-only`, `attachment`). Distinct,
//! at most [`MAX_TOKENS`].
//!
//! **Arithmetic** (Gary Robinson's, as SpamBayes uses it): for a token seen in `s` of `S` spam
//! and `h` of `H` ham messages, `p = (s/S) / (s/S + h/H)`, pulled towards 0.5 by how little it
//! was seen: `f = (STRENGTH·0.5 + n·p) / (STRENGTH + n)` with `n = s + h`. The tokens whose
//! `f` is at least `MIN_STRENGTH` away from 0.5, the `MAX_CLUES` strongest, are combined by
//! Fisher's method: spamminess `S = 1 − Q(−2 Σ ln (1−f), 2k)`, hamminess
//! `H = 1 − Q(−2 Σ ln f, 2k)` (`Q` the chi-square survival function, `k` clues), and the
//! probability is `(1 + S − H) / 2`: near 1 spam, near 0 ham, 0.5 undecided (also when no
//! token is a clue).

use std::collections::HashSet;

use hopthu_model::text::search_fold;
use mail_parser::{Message, MimeHeaders};

/// Most tokens taken from one message (training and scoring alike).
pub const MAX_TOKENS: usize = 1000;
/// Text read from one message, in bytes.
pub(crate) const MAX_TEXT: usize = 64 * 1024;
/// How strongly an unseen token's 0.5 holds against the counts (SpamBayes's 0.45).
const STRENGTH: f64 = 0.45;
/// A token closer to 0.5 than this says nothing.
const MIN_STRENGTH: f64 = 0.1;
/// The strongest tokens combined.
const MAX_CLUES: usize = 150;

/// The tokens of a message (see the module's description).
pub fn tokens(message: &Message<'_>) -> Vec<String> {
    let mut out = Tokens::default();
    let subject = message.subject().unwrap_or_default();
    let subject_words = words(subject);
    for w in &subject_words {
        out.add(format!("s:{w}"));
    }
    out.words(&subject_words);
    if let Some(domain) = message
        .from()
        .and_then(|f| f.first())
        .and_then(|a| a.address())
        .and_then(|a| a.rsplit_once('@'))
        .map(|(_, d)| d.to_ascii_lowercase())
    {
        out.add(format!("from:{domain}"));
    }
    let (plain, html, text) = super::rules::text_of(message);
    if html && !plain {
        out.add("html-only".to_string());
    }
    if message.parts.iter().any(|p| p.attachment_name().is_some()) {
        out.add("attachment".to_string());
    }
    let mut end = text.len().min(MAX_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    out.words(&words(&text[..end]));
    out.list
}

#[derive(Default)]
struct Tokens {
    seen: HashSet<String>,
    list: Vec<String>,
}

impl Tokens {
    fn add(&mut self, token: String) {
        if self.list.len() < MAX_TOKENS && self.seen.insert(token.clone()) {
            self.list.push(token);
        }
    }

    /// The words and their neighbouring pairs.
    fn words(&mut self, words: &[String]) {
        for (i, w) in words.iter().enumerate() {
            self.add(w.clone());
            if let Some(next) = words.get(i + 1) {
                self.add(format!("{w}_{next}"));
            }
        }
    }
}

/// Folded words of 2 to 24 characters, not all digits, in order.
fn words(text: &str) -> Vec<String> {
    search_fold(text)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            let n = w.chars().count();
            (2..=24).contains(&n) && !w.chars().all(|c| c.is_ascii_digit())
        })
        .map(str::to_string)
        .collect()
}

/// The probability that a message with these token counts is spam, from the domain's totals
/// (see the module's description); 0.5 when nothing is known.
pub fn spam_probability(
    spam_messages: u64,
    ham_messages: u64,
    tokens: &[(String, u64, u64)],
) -> f64 {
    if spam_messages == 0 || ham_messages == 0 {
        return 0.5;
    }
    let (total_spam, total_ham) = (spam_messages as f64, ham_messages as f64);
    let mut clues: Vec<f64> = tokens
        .iter()
        .filter(|(_, s, h)| s + h > 0)
        .map(|(_, s, h)| {
            let b = (*s as f64 / total_spam).min(1.0);
            let g = (*h as f64 / total_ham).min(1.0);
            let p = b / (b + g);
            let n = (*s + *h) as f64;
            (STRENGTH * 0.5 + n * p) / (STRENGTH + n)
        })
        .filter(|f| (f - 0.5).abs() >= MIN_STRENGTH)
        .collect();
    if clues.is_empty() {
        return 0.5;
    }
    clues.sort_by(|a, b| (b - 0.5).abs().total_cmp(&(a - 0.5).abs()));
    clues.truncate(MAX_CLUES);
    let k = clues.len();
    let ln_spam: f64 = clues.iter().map(|f| f.max(1e-200).ln()).sum();
    let ln_ham: f64 = clues.iter().map(|f| (1.0 - f).max(1e-200).ln()).sum();
    // Many tokens near 1 make Σ ln(1−f) very negative: its survival is tiny, spamminess 1.
    let spam = 1.0 - chi2_survival(-2.0 * ln_ham, 2 * k);
    let ham = 1.0 - chi2_survival(-2.0 * ln_spam, 2 * k);
    ((1.0 + spam - ham) / 2.0).clamp(0.0, 1.0)
}

/// P(χ² ≥ x) with `v` (even) degrees of freedom: `e^(−m) Σ_{i<v/2} m^i / i!`, `m = x/2`.
fn chi2_survival(x: f64, v: usize) -> f64 {
    let m = x / 2.0;
    let mut term = (-m).exp();
    let mut sum = term;
    for i in 1..v / 2 {
        term *= m / i as f64;
        sum += term;
    }
    sum.min(1.0)
}

/// What a probability adds to the score: `(p − 0.5)·2·spam_weight` above 0.5, `−(0.5 −
/// p)·2·ham_weight` below, so in `[−ham_weight, +spam_weight]`.
pub fn contribution(probability: f64, spam_weight: f64, ham_weight: f64) -> f64 {
    if probability >= 0.5 {
        (probability - 0.5) * 2.0 * spam_weight
    } else {
        -(0.5 - probability) * 2.0 * ham_weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MessageParser;

    #[test]
    fn tokens_are_folded_words_pairs_and_a_few_header_tokens() {
        let raw = "From: Ban Tin <tin@Quang-Cao.example>\r\nSubject: Trúng thưởng lớn\r\n\
                   Content-Type: text/html\r\n\r\n<p>Nhận quà 2024 ngay, a b!</p>";
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        let t = tokens(&message);
        for want in [
            "s:trung",
            "s:thuong",
            "trung",
            "trung_thuong",
            "thuong_lon",
            "from:quang-cao.example",
            "html-only",
            "nhan_qua",
            "ngay",
        ] {
            assert!(t.iter().any(|x| x == want), "{want}: {t:?}");
        }
        // Digits alone and one-letter words are no tokens; each token once.
        assert!(!t.iter().any(|x| x == "2024" || x == "a"), "{t:?}");
        let distinct: HashSet<&String> = t.iter().collect();
        assert_eq!(distinct.len(), t.len());
        // Bounded.
        let body: String = (0..5000).map(|i| format!("tu{i} ")).collect();
        let raw = format!("Subject: x\r\n\r\n{body}");
        let message = MessageParser::default().parse(raw.as_bytes()).unwrap();
        assert_eq!(tokens(&message).len(), MAX_TOKENS);
    }

    #[test]
    fn chi_square_survival_matches_known_values() {
        // P(χ²₂ ≥ x) = e^(−x/2); P(χ²₄ ≥ 4) = 3e^(−2).
        assert!((chi2_survival(2.0, 2) - (-1.0f64).exp()).abs() < 1e-12);
        assert!((chi2_survival(4.0, 4) - 3.0 * (-2.0f64).exp()).abs() < 1e-12);
        assert_eq!(chi2_survival(0.0, 10), 1.0);
    }

    #[test]
    fn probability_follows_the_counts() {
        let t = |s, h| ("t".to_string(), s, h);
        // Nothing learnt, or a class empty: undecided.
        assert_eq!(spam_probability(0, 10, &[t(3, 0)]), 0.5);
        assert_eq!(spam_probability(10, 10, &[]), 0.5);
        // A token seen as much in both classes is no clue.
        assert_eq!(spam_probability(10, 10, &[t(5, 5), t(1, 1)]), 0.5);
        // Tokens only ever seen in spam: near 1; only in ham: near 0.
        let spammy: Vec<_> = (0..20).map(|_| t(4, 0)).collect();
        let hammy: Vec<_> = (0..20).map(|_| t(0, 4)).collect();
        let p = spam_probability(4, 4, &spammy);
        assert!(p > 0.99, "{p}");
        let q = spam_probability(4, 4, &hammy);
        assert!(q < 0.01, "{q}");
        // A single token seen once says little.
        let weak = spam_probability(4, 4, &[t(1, 0)]);
        assert!(weak > 0.5 && weak < 0.9, "{weak}");
        // Mixed evidence stays near the middle.
        let mut mixed = spammy.clone();
        mixed.extend(hammy);
        let m = spam_probability(4, 4, &mixed);
        assert!((m - 0.5).abs() < 0.1, "{m}");
    }

    #[test]
    fn contribution_is_bounded_by_the_weights() {
        assert_eq!(contribution(0.5, 6.0, 3.0), 0.0);
        assert_eq!(contribution(1.0, 6.0, 3.0), 6.0);
        assert_eq!(contribution(0.0, 6.0, 3.0), -3.0);
        assert_eq!(contribution(0.75, 6.0, 3.0), 3.0);
    }
}
