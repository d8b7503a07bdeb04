//! ID (RFC 2971): the client says who it is (logged for support), the server answers in kind.
//!
//! ```text
//! C: a ID ("name" "Thunderbird" "version" "128.0")
//! S: * ID ("name" "hopthu" "version" "0.1.0")
//! S: a OK ID completed
//! ```

use imap_codec::imap_types::core::{IString, NString};
use imap_codec::imap_types::response::Data;

use crate::errors::{CmdResult, Done};
use crate::session::Session;

pub(crate) fn run(s: &mut Session, parameters: Option<&[(IString<'_>, NString<'_>)]>) -> CmdResult {
    let client: Vec<String> = parameters
        .unwrap_or_default()
        .iter()
        .take(10)
        .filter_map(|(k, v)| {
            let v = v.0.as_ref()?;
            Some(format!(
                "{}={}",
                String::from_utf8_lossy(k.as_ref())
                    .chars()
                    .take(30)
                    .collect::<String>(),
                String::from_utf8_lossy(v.as_ref())
                    .chars()
                    .take(60)
                    .collect::<String>()
            ))
        })
        .collect();
    tracing::debug!(client = ?client.join(" "), "client id");
    let pair = |k: &'static str, v: &'static str| {
        (
            IString::try_from(k).expect("valid"),
            NString(Some(IString::try_from(v).expect("valid"))),
        )
    };
    s.push_data(Data::Id {
        parameters: Some(vec![
            pair("name", "hopthu"),
            pair("version", env!("CARGO_PKG_VERSION")),
        ]),
    });
    Done::ok("ID completed")
}
