//! Typed identifiers. A `MailboxId` can never be passed where an `AccountId` is expected.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $inner:ty) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A mail account (a personal or unit mailbox owner), the row id in the store.
    AccountId,
    i64
);
id_type!(
    /// A folder of an account (INBOX, Sent, ...).
    MailboxId,
    i64
);
id_type!(
    /// One message in one mailbox (a copy in another mailbox has another id).
    MessageId,
    i64
);
id_type!(
    /// An IMAP UID: strictly ascending within a mailbox and never reused while its
    /// UIDVALIDITY stands (RFC 3501 §2.3.1.1).
    Uid,
    u32
);
id_type!(
    /// A unit of the organisation tree (đơn vị): a department, a district, a commune…
    UnitId,
    i64
);
id_type!(
    /// A person of the directory (cán bộ, công chức, viên chức), with one personal address.
    PersonId,
    i64
);

/// Numbers (UIDs, sequence numbers) in the compact IMAP form `1:3,7`: ascending, each once,
/// zeros left out; empty for none.
pub fn compact_numbers(numbers: impl IntoIterator<Item = u32>) -> String {
    let mut numbers: Vec<u32> = numbers.into_iter().filter(|n| *n > 0).collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut text = String::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        if !text.is_empty() {
            text.push(',');
        }
        if numbers[i] == start {
            text.push_str(&start.to_string());
        } else {
            text.push_str(&format!("{start}:{}", numbers[i]));
        }
        i += 1;
    }
    text
}

#[cfg(test)]
mod compact_tests {
    use super::compact_numbers;

    #[test]
    fn numbers_are_written_as_ranges() {
        assert_eq!(compact_numbers([1, 2, 3, 7, 9, 10]), "1:3,7,9:10");
        assert_eq!(compact_numbers([5, 4, 4, 0]), "4:5");
        assert_eq!(compact_numbers([]), "");
    }
}
