//! ENABLE (RFC 5161) for CONDSTORE and QRESYNC (RFC 7162 §3.1, §3.2.3; QRESYNC implies
//! CONDSTORE), and IMAP4rev2 (RFC 9051 §6.3.1: no `\Recent` and no RECENT responses from then
//! on, and UTF-8 mailbox names), and UTF8=ACCEPT (RFC 9755: UTF-8 mailbox names). Unknown
//! extensions are ignored; the answer lists what this command enabled.
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
            // RFC 9051 §6.3.1: IMAP4rev2 behaviour where it differs from IMAP4rev1.
            "IMAP4REV2" if !s.rev2 => {
                s.rev2 = true;
                s.utf8 = true;
                if let Ok(c) = CapabilityEnable::try_from("IMAP4rev2") {
                    enabled.push(c);
                }
            }
            // RFC 9755 §3: mailbox names (and quoted strings) in UTF-8 from now on.
            "UTF8=ACCEPT" if !s.utf8 => {
                s.utf8 = true;
                if let Ok(c) = CapabilityEnable::try_from("UTF8=ACCEPT") {
                    enabled.push(c);
                }
            }
            // IMAP4rev2 already implies it: named again, nothing new is enabled.
            "UTF8=ACCEPT" => {}
            _ => {}
        }
    }
    s.push_data(Data::Enabled {
        capabilities: enabled,
    });
    Done::ok("ENABLE completed")
}
