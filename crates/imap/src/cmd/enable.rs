//! ENABLE (RFC 5161) for CONDSTORE and QRESYNC (RFC 7162 §3.1, §3.2.3; QRESYNC implies
//! CONDSTORE). Unknown extensions are ignored; the answer lists what this command enabled.
//!
//! ```text
//! C: a ENABLE QRESYNC CONDSTORE
//! S: * ENABLED QRESYNC CONDSTORE
//! S: a OK ENABLE completed
//! ```

use imap_codec::imap_types::extensions::enable::CapabilityEnable;
use imap_codec::imap_types::response::Data;

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session, requested: &[CapabilityEnable<'_>]) -> CmdResult {
    let mut enabled: Vec<CapabilityEnable<'static>> = Vec::new();
    for capability in requested {
        let name = capability.to_string().to_ascii_uppercase();
        match name.as_str() {
            "CONDSTORE" if !s.condstore => {
                s.condstore = true;
                enabled.push(CapabilityEnable::CondStore);
            }
            "QRESYNC" if !s.qresync => {
                s.qresync = true;
                s.condstore = true;
                if let Ok(c) = CapabilityEnable::try_from("QRESYNC") {
                    enabled.push(c);
                }
            }
            _ => {}
        }
    }
    s.push_data(Data::Enabled {
        capabilities: enabled,
    });
    Done::ok("ENABLE completed")
}
