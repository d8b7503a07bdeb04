//! E-mail addresses: parsing of the `local@domain` form used in envelopes and logins.
//!
//! Local parts are compared case-insensitively (hopthu never issues two addresses that differ
//! only in case), domains always case-insensitively. Internationalised local parts (SMTPUTF8)
//! are accepted and kept in NFC.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// Why a string is not an e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("address has no '@'")]
    MissingAt,
    #[error("address has an empty local part")]
    EmptyLocal,
    #[error("address has an empty or invalid domain")]
    BadDomain,
    #[error("local part is longer than 64 octets")]
    LocalTooLong,
    #[error("address contains a forbidden character")]
    BadCharacter,
}

/// A normalised `local@domain` address: local part NFC and lower-cased, domain lower-cased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailAddress {
    local: String,
    domain: String,
}

impl EmailAddress {
    /// Parses `local@domain`, tolerating surrounding angle brackets and white space.
    pub fn parse(input: &str) -> Result<Self, AddressError> {
        let s = input.trim();
        let s = s
            .strip_prefix('<')
            .and_then(|s| s.strip_suffix('>'))
            .unwrap_or(s);
        let (local, domain) = s.rsplit_once('@').ok_or(AddressError::MissingAt)?;
        if local.is_empty() {
            return Err(AddressError::EmptyLocal);
        }
        // RFC 5321 §4.5.3.1.1: local part at most 64 octets.
        if local.len() > 64 {
            return Err(AddressError::LocalTooLong);
        }
        if local
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || matches!(c, '<' | '>' | ',' | '@'))
        {
            return Err(AddressError::BadCharacter);
        }
        let domain = domain.trim_end_matches('.');
        if domain.is_empty()
            || domain.len() > 255
            || domain.split('.').any(|label| {
                label.is_empty()
                    || label.len() > 63
                    || label.starts_with('-')
                    || label.ends_with('-')
                    || !label
                        .chars()
                        .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
            })
        {
            return Err(AddressError::BadDomain);
        }
        Ok(Self {
            local: local.nfc().collect::<String>().to_lowercase(),
            domain: domain.to_ascii_lowercase(),
        })
    }

    /// The part before `@`.
    pub fn local(&self) -> &str {
        &self.local
    }

    /// The part after `@`, lower-cased.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// True when the domain equals `domain` (case-insensitive).
    pub fn is_in_domain(&self, domain: &str) -> bool {
        self.domain
            .eq_ignore_ascii_case(domain.trim_end_matches('.'))
    }
}

impl fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}@{}", self.local, self.domain)
    }
}

impl std::str::FromStr for EmailAddress {
    type Err = AddressError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let cases: &[(&str, Result<&str, AddressError>)] = &[
            ("datnv@caobang.gov.vn", Ok("datnv@caobang.gov.vn")),
            ("<DatNV@CaoBang.Gov.VN>", Ok("datnv@caobang.gov.vn")),
            (" a@b.c. ", Ok("a@b.c")),
            ("đạt@caobang.gov.vn", Ok("đạt@caobang.gov.vn")),
            ("nobody", Err(AddressError::MissingAt)),
            ("@x.vn", Err(AddressError::EmptyLocal)),
            ("a@", Err(AddressError::BadDomain)),
            ("a@x..vn", Err(AddressError::BadDomain)),
            ("a b@x.vn", Err(AddressError::BadCharacter)),
        ];
        for (input, want) in cases {
            let got = EmailAddress::parse(input).map(|a| a.to_string());
            assert_eq!(
                got.as_deref().map_err(Clone::clone),
                want.clone(),
                "{input}"
            );
        }
        let long = format!("{}@x.vn", "a".repeat(65));
        assert_eq!(EmailAddress::parse(&long), Err(AddressError::LocalTooLong));
    }
}
