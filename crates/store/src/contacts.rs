//! Personal contacts in storage terms: each account's address book of vCards (CardDAV, RFC
//! 6352, and the webmail's contacts page), with a version that every change raises (the
//! book's CTag and RFC 6578 sync token) and tombstones of deleted cards for sync.
//!
//! The store keeps the vCard as text, with the name (the last segment of its URL), UID and
//! ETag core gives it; what a valid card is, is decided in core. Preconditions (`If-Match`,
//! `If-None-Match: *`) are checked inside the write's transaction, after the book's row is
//! locked, so two clients writing at once cannot both pass them ([`crate::contract`] §27).

use hopthu_model::AccountId;

use crate::Result;

/// One live card of an address book.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRecord {
    /// The last segment of the card's URL (`abc.vcf`), unique in the book.
    pub name: String,
    /// The vCard's UID, unique among the book's live cards.
    pub uid: String,
    pub vcard: String,
    pub etag: String,
    /// The book's version when the card was last written.
    pub version: i64,
    /// Unix seconds.
    pub updated_at: i64,
}

/// A card to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewContact {
    pub name: String,
    pub uid: String,
    pub vcard: String,
    pub etag: String,
}

/// What must hold for a write to happen (HTTP conditional requests, RFC 9110 §13.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// Unconditional.
    Any,
    /// `If-None-Match: *`: no live card has this name.
    Absent,
    /// `If-Match: *`: a live card has this name.
    Present,
    /// `If-Match: "etag"`: the live card of this name has this ETag.
    Etag(String),
}

/// The outcome of a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactWrite {
    /// Written at the book's new `version`; `created` when no live card had the name before.
    Written { created: bool, version: i64 },
    /// The precondition did not hold: nothing was written.
    PreconditionFailed,
}

/// A card changed since a version: written (with its ETag) or deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactChange {
    pub name: String,
    /// `None`: deleted.
    pub etag: Option<String>,
    pub version: i64,
}

/// Personal address books (part of the storage contract, [`crate::contract`] §27).
#[async_trait::async_trait]
pub trait ContactStore: Send + Sync {
    /// The version of `account`'s address book: 0 before its first change, then raised by
    /// every write and deletion.
    async fn contacts_version(&self, account: AccountId) -> Result<i64>;

    /// The live cards of `account`'s address book, by name.
    async fn contacts(&self, account: AccountId) -> Result<Vec<ContactRecord>>;

    /// The live card named `name` in `account`'s address book.
    async fn contact(&self, account: AccountId, name: &str) -> Result<Option<ContactRecord>>;

    /// Writes `card` (creating it or replacing the card of the same name) when `expect`
    /// holds, raising the book's version, in one transaction. A live card of another name
    /// with the same UID is a [`crate::StoreError::Conflict`] and nothing is written.
    async fn put_contact(
        &self,
        account: AccountId,
        card: &NewContact,
        expect: &Precondition,
        at: i64,
    ) -> Result<ContactWrite>;

    /// Deletes the live card `name` when `expect` holds (leaving a tombstone at the book's new
    /// version). No such card: [`crate::StoreError::NotFound`], or `PreconditionFailed` when
    /// `expect` asked for one.
    async fn delete_contact(
        &self,
        account: AccountId,
        name: &str,
        expect: &Precondition,
        at: i64,
    ) -> Result<ContactWrite>;

    /// The cards written or deleted after `since` (a version), by version: what a client
    /// holding the sync token `since` must learn.
    async fn contact_changes(&self, account: AccountId, since: i64) -> Result<Vec<ContactChange>>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StoreError;
    use crate::testing::{Kind, on_each_backend};

    fn card(name: &str, uid: &str, etag: &str) -> NewContact {
        NewContact {
            name: name.into(),
            uid: uid.into(),
            vcard: format!("BEGIN:VCARD\r\nVERSION:3.0\r\nUID:{uid}\r\nFN:{etag}\r\nEND:VCARD\r\n"),
            etag: etag.into(),
        }
    }

    async fn an_address_book_is_versioned_with_preconditions(kind: Kind) {
        let (store, _dir) = crate::testing::open(kind).await;
        let new = |address: &str| crate::NewAccount {
            address: address.into(),
            display_name: "X".into(),
            password_hash: "h".into(),
            must_change_password: false,
            created_at: 0,
        };
        let hoa = store
            .create_account(&new("hoa@x.vn"), &[("INBOX", None)])
            .await
            .unwrap();
        let lan = store
            .create_account(&new("lan@x.vn"), &[("INBOX", None)])
            .await
            .unwrap();
        assert_eq!(store.contacts_version(hoa).await.unwrap(), 0);

        let a = card("a.vcf", "uid-a", "e1");
        let w = store
            .put_contact(hoa, &a, &Precondition::Absent, 10)
            .await
            .unwrap();
        assert_eq!(
            w,
            ContactWrite::Written {
                created: true,
                version: 1
            }
        );
        // If-None-Match: * on a card that exists fails and writes nothing.
        let w = store
            .put_contact(hoa, &a, &Precondition::Absent, 11)
            .await
            .unwrap();
        assert_eq!(w, ContactWrite::PreconditionFailed);
        assert_eq!(store.contacts_version(hoa).await.unwrap(), 1);
        // If-Match with a stale ETag fails; with the right one it replaces.
        let a2 = card("a.vcf", "uid-a", "e2");
        let w = store
            .put_contact(hoa, &a2, &Precondition::Etag("old".into()), 12)
            .await
            .unwrap();
        assert_eq!(w, ContactWrite::PreconditionFailed);
        let w = store
            .put_contact(hoa, &a2, &Precondition::Etag("e1".into()), 12)
            .await
            .unwrap();
        assert_eq!(
            w,
            ContactWrite::Written {
                created: false,
                version: 2
            }
        );
        // Another name with the same UID is a conflict.
        let err = store
            .put_contact(hoa, &card("b.vcf", "uid-a", "x"), &Precondition::Any, 13)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err}");
        store
            .put_contact(hoa, &card("b.vcf", "uid-b", "e3"), &Precondition::Any, 14)
            .await
            .unwrap();
        // The other account's book is its own.
        store
            .put_contact(
                lan,
                &card("a.vcf", "uid-a", "l1"),
                &Precondition::Absent,
                14,
            )
            .await
            .unwrap();
        assert_eq!(store.contacts_version(lan).await.unwrap(), 1);
        assert!(store.contact(lan, "b.vcf").await.unwrap().is_none());

        let all = store.contacts(hoa).await.unwrap();
        assert_eq!(
            all.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["a.vcf", "b.vcf"]
        );
        let a_now = store.contact(hoa, "a.vcf").await.unwrap().unwrap();
        assert_eq!((a_now.etag.as_str(), a_now.version), ("e2", 2));
        assert!(a_now.vcard.contains("FN:e2"));

        // Deletion: preconditions, then a tombstone the changes report.
        let w = store
            .delete_contact(hoa, "a.vcf", &Precondition::Etag("e1".into()), 20)
            .await
            .unwrap();
        assert_eq!(w, ContactWrite::PreconditionFailed);
        let w = store
            .delete_contact(hoa, "a.vcf", &Precondition::Etag("e2".into()), 20)
            .await
            .unwrap();
        assert_eq!(
            w,
            ContactWrite::Written {
                created: false,
                version: 4
            }
        );
        let err = store
            .delete_contact(hoa, "a.vcf", &Precondition::Any, 21)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{err}");
        assert_eq!(
            store
                .delete_contact(hoa, "a.vcf", &Precondition::Present, 21)
                .await
                .unwrap(),
            ContactWrite::PreconditionFailed
        );
        assert!(store.contact(hoa, "a.vcf").await.unwrap().is_none());
        let changes = store.contact_changes(hoa, 1).await.unwrap();
        assert_eq!(
            changes,
            vec![
                ContactChange {
                    name: "b.vcf".into(),
                    etag: Some("e3".into()),
                    version: 3
                },
                ContactChange {
                    name: "a.vcf".into(),
                    etag: None,
                    version: 4
                },
            ]
        );
        assert!(store.contact_changes(hoa, 4).await.unwrap().is_empty());
        // The UID of a deleted card may be used again, and the name too.
        let w = store
            .put_contact(
                hoa,
                &card("c.vcf", "uid-a", "e4"),
                &Precondition::Absent,
                22,
            )
            .await
            .unwrap();
        assert!(matches!(w, ContactWrite::Written { created: true, .. }));
        let w = store
            .put_contact(
                hoa,
                &card("a.vcf", "uid-z", "e5"),
                &Precondition::Absent,
                23,
            )
            .await
            .unwrap();
        assert!(matches!(w, ContactWrite::Written { created: true, .. }));
        assert_eq!(store.contacts(hoa).await.unwrap().len(), 3);
    }

    on_each_backend!(an_address_book_is_versioned_with_preconditions);
}
