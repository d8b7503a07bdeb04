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
