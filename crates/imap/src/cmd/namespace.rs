//! NAMESPACE (RFC 2342): one personal namespace, empty prefix, "/" as separator; no shared or
//! other users' namespaces.
//!
//! ```text
//! C: a NAMESPACE
//! S: * NAMESPACE (("" "/")) NIL NIL
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
    s.push_data(Data::Namespace {
        personal: vec![personal],
        other: Vec::new(),
        shared: Vec::new(),
    });
    Done::ok("NAMESPACE completed")
}
