//! Message flags: the IMAP system flags and keywords (RFC 3501 §2.3.2).

use std::fmt;

/// One flag on a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Flag {
    Seen,
    Answered,
    Flagged,
    Deleted,
    Draft,
    /// A keyword such as `$Forwarded` or `$Junk`; compared case-insensitively.
    Keyword(String),
}

impl Flag {
    /// Parses `\Seen`, `\Answered`, ... or a keyword atom. `\Recent` and unknown system flags
    /// are not storable and give `None`.
    pub fn parse(s: &str) -> Option<Flag> {
        if let Some(system) = s.strip_prefix('\\') {
            return match system.to_ascii_lowercase().as_str() {
                "seen" => Some(Flag::Seen),
                "answered" => Some(Flag::Answered),
                "flagged" => Some(Flag::Flagged),
                "deleted" => Some(Flag::Deleted),
                "draft" => Some(Flag::Draft),
                _ => None,
            };
        }
        let valid = !s.is_empty()
            && s.bytes().all(|b| {
                b.is_ascii_graphic() && !matches!(b, b'(' | b')' | b'{' | b'%' | b'*' | b'"' | b']')
            });
        valid.then(|| Flag::Keyword(s.to_string()))
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Seen => f.write_str("\\Seen"),
            Flag::Answered => f.write_str("\\Answered"),
            Flag::Flagged => f.write_str("\\Flagged"),
            Flag::Deleted => f.write_str("\\Deleted"),
            Flag::Draft => f.write_str("\\Draft"),
            Flag::Keyword(k) => f.write_str(k),
        }
    }
}

/// A set of flags, kept sorted and free of duplicates (keywords compared case-insensitively).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags(Vec<Flag>);

impl Flags {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the space-separated form written by [`Flags::to_storage`]; unknown tokens are
    /// skipped.
    pub fn from_storage(s: &str) -> Self {
        Self::from_iter(s.split_ascii_whitespace().filter_map(Flag::parse))
    }

    /// The space-separated form stored in the database.
    pub fn to_storage(&self) -> String {
        self.0
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn contains(&self, flag: &Flag) -> bool {
        self.0.iter().any(|f| same_flag(f, flag))
    }

    pub fn insert(&mut self, flag: Flag) -> bool {
        if self.contains(&flag) {
            return false;
        }
        self.0.push(flag);
        self.0.sort();
        true
    }

    pub fn remove(&mut self, flag: &Flag) -> bool {
        let before = self.0.len();
        self.0.retain(|f| !same_flag(f, flag));
        before != self.0.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Flag> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Applies a STORE-style operation and tells whether anything changed.
    pub fn apply(&mut self, op: FlagOp, flags: &Flags) -> bool {
        match op {
            FlagOp::Add => flags.iter().fold(false, |c, f| self.insert(f.clone()) | c),
            FlagOp::Remove => flags.iter().fold(false, |c, f| self.remove(f) | c),
            FlagOp::Replace => {
                let changed = *self != *flags;
                *self = flags.clone();
                changed
            }
        }
    }
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(iter: I) -> Self {
        let mut flags = Self::new();
        for flag in iter {
            flags.insert(flag);
        }
        flags
    }
}

fn same_flag(a: &Flag, b: &Flag) -> bool {
    match (a, b) {
        (Flag::Keyword(x), Flag::Keyword(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// How a STORE changes flags (RFC 3501 §6.4.6: `FLAGS`, `+FLAGS`, `-FLAGS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagOp {
    Add,
    Remove,
    Replace,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_round_trip_and_ops() {
        let mut f = Flags::from_storage("\\Seen $Forwarded \\seen \\Recent junk(");
        assert_eq!(f.to_storage(), "\\Seen $Forwarded");
        assert!(f.apply(FlagOp::Add, &Flags::from_storage("\\Deleted $forwarded")));
        assert_eq!(f.to_storage(), "\\Seen \\Deleted $Forwarded");
        assert!(!f.apply(FlagOp::Add, &Flags::from_storage("\\Deleted")));
        assert!(f.apply(FlagOp::Remove, &Flags::from_storage("\\Seen")));
        assert!(f.apply(FlagOp::Replace, &Flags::new()));
        assert!(f.is_empty());
    }
}
