//! The vocabulary of hopthu: identifiers, e-mail addresses, message flags, and the pure rules of
//! the province's regulation (the address rules of Đ7.3 live in [`naming`]).
//!
//! This crate owns no I/O and no async: everything here is a value or a pure function, so it is
//! tested with table-driven unit tests and shared by every other crate.

pub mod address;
pub mod flags;
pub mod ids;
pub mod naming;
pub mod rights;
pub mod text;

pub use address::EmailAddress;
pub use flags::{Flag, FlagOp, Flags};
pub use ids::{AccountId, MailboxId, MessageId, PersonId, Uid, UnitId};
pub use rights::{DelegateRight, DelegateRights, RightsError};
