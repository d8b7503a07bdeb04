//! ENABLE (RFC 5161). No extension that needs enabling is offered yet, so the answer is an
//! empty ENABLED response.
//!
//! ```text
//! C: a ENABLE CONDSTORE
//! S: * ENABLED
//! S: a OK ENABLE completed
//! ```

use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::response::Data;

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session, _requested: &[CapabilityEnable<'_>]) -> CmdResult {
    s.push_data(Data::Enabled {
        capabilities: Vec::new(),
    });
    Done::ok("ENABLE completed")
}
