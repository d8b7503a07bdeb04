//! NAMESPACE (RFC 2342): the personal namespace (empty prefix, "/" as separator) and the
//! shared one, `Shared/`, where the unit mailboxes one owns or is a delegate of appear as
//! `Shared/<unit address>/<folder>` (`hopthu_core::shared`). No other users' namespace.
//!
//! ```text
//! C: a NAMESPACE
//! S: * NAMESPACE (("" "/")) NIL (("Shared/" "/"))
//! S: a OK NAMESPACE completed
//! ```

use imap_codec::imap_types::core::{IString, QuotedChar};
use imap_codec::imap_types::extensions::namespace::Namespace;
use imap_codec::imap_types::response::Data;

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session) -> CmdResult {
    let personal = Namespace::new(
        IString::try_from("").expect("empty string"),
        QuotedChar::try_from('/').ok(),
    );
    let shared = Namespace::new(
        IString::try_from(format!("{}/", hopthu_core::shared::SHARED_ROOT)).expect("ASCII"),
        QuotedChar::try_from('/').ok(),
    );
    s.push_data(Data::Namespace {
        personal: vec![personal],
        other: Vec::new(),
        shared: vec![shared],
    });
    Done::ok("NAMESPACE completed")
}
