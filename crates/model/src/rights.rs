//! The rights a unit mailbox's delegate holds (Đ12): what a person may do in a unit mailbox
//! they sign in to as themselves.
//!
//! Written as a comma list in a canonical order, `read,manage,send-as,send-on-behalf`
//! ([`DelegateRights::parse`], [`std::fmt::Display`]); stored as that text.

use std::fmt;

/// One delegate right.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DelegateRight {
    /// Read the unit mailbox's messages and set their flags (seen, flagged…).
    Read,
    /// Move, delete and expunge messages.
    Manage,
    /// Send with `From:` the unit's address.
    SendAs,
    /// Send with `From:` the unit's address and `Sender:` one's own.
    SendOnBehalf,
}

impl DelegateRight {
    /// Every right, in the canonical order.
    pub const ALL: [DelegateRight; 4] = [
        DelegateRight::Read,
        DelegateRight::Manage,
        DelegateRight::SendAs,
        DelegateRight::SendOnBehalf,
    ];

    /// The word that names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DelegateRight::Read => "read",
            DelegateRight::Manage => "manage",
            DelegateRight::SendAs => "send-as",
            DelegateRight::SendOnBehalf => "send-on-behalf",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of [`DelegateRight`]s.
///
/// `manage` implies `read`: a set built by [`DelegateRights::parse`] or
/// [`DelegateRights::with`] that has `manage` also has `read`, so what is stored (and shown)
/// always says `read,manage`, never `manage` alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct DelegateRights(u8);

/// Why a rights list was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RightsError {
    #[error("danh sách quyền trống / no rights given (use read, manage, send-as, send-on-behalf)")]
    Empty,
    #[error(
        "quyền không hợp lệ {0:?} / unknown right {0:?} (use read, manage, send-as, send-on-behalf)"
    )]
    Unknown(String),
}

impl DelegateRights {
    /// No right at all.
    pub const NONE: DelegateRights = DelegateRights(0);

    /// This set with `right` added (and `read` with `manage`).
    pub fn with(self, right: DelegateRight) -> DelegateRights {
        let mut bits = self.0 | right.bit();
        if right == DelegateRight::Manage {
            bits |= DelegateRight::Read.bit();
        }
        DelegateRights(bits)
    }

    pub fn has(self, right: DelegateRight) -> bool {
        self.0 & right.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The rights held, in the canonical order.
    pub fn iter(self) -> impl Iterator<Item = DelegateRight> {
        DelegateRight::ALL.into_iter().filter(move |r| self.has(*r))
    }

    /// Parses a comma list such as `read,send-as`: case-insensitive, spaces around words and
    /// repeated words allowed; an empty list or an unknown word is an error naming it.
    pub fn parse(text: &str) -> Result<DelegateRights, RightsError> {
        let mut rights = DelegateRights::NONE;
        for word in text.split(',') {
            let word = word.trim();
            if word.is_empty() {
                // `read,,manage` or a trailing comma: tolerated; nothing at all is not.
                continue;
            }
            let right = DelegateRight::ALL
                .into_iter()
                .find(|r| r.as_str().eq_ignore_ascii_case(word))
                .ok_or_else(|| RightsError::Unknown(word.to_string()))?;
            rights = rights.with(right);
        }
        if rights.is_empty() {
            return Err(RightsError::Empty);
        }
        Ok(rights)
    }
}

impl fmt::Display for DelegateRights {
    /// The canonical form: the rights held, in the order `read,manage,send-as,send-on-behalf`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, right) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(right.as_str())?;
        }
        Ok(())
    }
}

impl std::str::FromStr for DelegateRights {
    type Err = RightsError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DelegateRights::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_in_the_canonical_order() {
        let cases = [
            ("read", "read"),
            ("READ", "read"),
            ("send-on-behalf,read", "read,send-on-behalf"),
            ("Send-As, read ,read", "read,send-as"),
            ("manage", "read,manage"),
            (
                "send-on-behalf,send-as,manage,read",
                "read,manage,send-as,send-on-behalf",
            ),
            ("send-as", "send-as"),
            ("read,,send-as,", "read,send-as"),
        ];
        for (input, shown) in cases {
            let rights = DelegateRights::parse(input).unwrap();
            assert_eq!(rights.to_string(), shown, "{input}");
            // The canonical form reads back as the same set.
            assert_eq!(DelegateRights::parse(shown).unwrap(), rights, "{input}");
        }
    }

    #[test]
    fn manage_implies_read() {
        let rights = DelegateRights::parse("manage").unwrap();
        assert!(rights.has(DelegateRight::Read));
        assert!(rights.has(DelegateRight::Manage));
        assert!(!rights.has(DelegateRight::SendAs));
        assert!(
            DelegateRights::NONE
                .with(DelegateRight::Manage)
                .has(DelegateRight::Read)
        );
        assert!(
            !DelegateRights::NONE
                .with(DelegateRight::Read)
                .has(DelegateRight::Manage)
        );
    }

    #[test]
    fn empty_and_unknown_words_are_refused_by_name() {
        assert_eq!(DelegateRights::parse(""), Err(RightsError::Empty));
        assert_eq!(DelegateRights::parse(" , ,"), Err(RightsError::Empty));
        assert_eq!(
            DelegateRights::parse("read,write"),
            Err(RightsError::Unknown("write".into()))
        );
        assert_eq!(
            DelegateRights::parse("sendas"),
            Err(RightsError::Unknown("sendas".into()))
        );
        let message = DelegateRights::parse("read, admin")
            .unwrap_err()
            .to_string();
        assert!(message.contains("\"admin\""), "{message}");
    }
}
