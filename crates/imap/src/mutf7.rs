//! Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3).
//!
//! Names are stored as UTF-8 ("Công văn đến"); IMAP4rev1 clients send and expect them in
//! modified UTF-7 ("C&APQ-ng v&AIM-n &ARE-&Hr8-n"). Printable ASCII stands for itself except
//! `&`, written `&-`; anything else is UTF-16BE in modified BASE64 (`,` for `/`, no padding)
//! between `&` and `-`.

use base64::Engine;
use base64::alphabet::Alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

fn engine() -> GeneralPurpose {
    // Infallible: the alphabet is 64 distinct printable characters.
    let alphabet =
        Alphabet::new("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,")
            .unwrap_or(base64::alphabet::STANDARD);
    GeneralPurpose::new(
        &alphabet,
        GeneralPurposeConfig::new()
            .with_encode_padding(false)
            .with_decode_padding_mode(DecodePaddingMode::RequireNone)
            .with_decode_allow_trailing_bits(true),
    )
}

/// UTF-8 → modified UTF-7.
pub(crate) fn encode(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut pending: Vec<u16> = Vec::new();
    let flush = |pending: &mut Vec<u16>, out: &mut String| {
        if pending.is_empty() {
            return;
        }
        let bytes: Vec<u8> = pending.iter().flat_map(|u| u.to_be_bytes()).collect();
        out.push('&');
        out.push_str(&engine().encode(bytes));
        out.push('-');
        pending.clear();
    };
    for c in name.chars() {
        if (' '..='~').contains(&c) {
            flush(&mut pending, &mut out);
            if c == '&' {
                out.push_str("&-");
            } else {
                out.push(c);
            }
        } else {
            let mut buf = [0u16; 2];
            pending.extend_from_slice(c.encode_utf16(&mut buf));
        }
    }
    flush(&mut pending, &mut out);
    out
}

/// Modified UTF-7 → UTF-8; `None` when the input is not valid modified UTF-7.
pub(crate) fn decode(name: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < name.len() {
        let b = name[i];
        if b == b'&' {
            let end = i + 1 + name[i + 1..].iter().position(|&c| c == b'-')?;
            let encoded = &name[i + 1..end];
            if encoded.is_empty() {
                out.push('&');
            } else {
                let bytes = engine().decode(encoded).ok()?;
                if bytes.len() % 2 != 0 {
                    return None;
                }
                let units: Vec<u16> = bytes
                    .chunks(2)
                    .map(|p| u16::from_be_bytes([p[0], p[1]]))
                    .collect();
                out.push_str(&String::from_utf16(&units).ok()?);
            }
            i = end + 1;
        } else if (0x20..0x7f).contains(&b) {
            out.push(b as char);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// A mailbox name from a client: modified UTF-7, or (tolerated) raw UTF-8.
pub(crate) fn from_wire(name: &[u8]) -> String {
    decode(name).unwrap_or_else(|| String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for (utf8, wire) in [
            ("INBOX", "INBOX"),
            ("Sent", "Sent"),
            ("A&B", "A&-B"),
            ("Công văn", "C&APQ-ng v&AQM-n"),
            ("Đạt", "&ARAeoQ-t"),
            ("日本語", "&ZeVnLIqe-"),
            ("~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"),
            ("😀", "&2D3eAA-"),
        ] {
            assert_eq!(encode(utf8), wire, "{utf8}");
            assert_eq!(decode(wire.as_bytes()).as_deref(), Some(utf8), "{wire}");
        }
        assert_eq!(decode(b"&Jjo!"), None);
        assert_eq!(decode(b"&U,BTFw"), None);
        assert_eq!(from_wire("Thư mục".as_bytes()), "Thư mục");
    }
}
