//! Rules for mail a signed-in user submits (SMTP submission now, the webmail later): who may
//! appear as the sender, and the header fields a message must carry (RFC 6409 §8).
//!
//! **Invariant**: the envelope sender and every `From:`/`Sender:` address of a submitted
//! message pass [`Core::may_send_as`]; the delegation of unit mailboxes (Đ12) extends that one
//! function, so SMTP and the webmail cannot disagree.

use hopthu_model::EmailAddress;

use crate::{Core, Error, Principal, Result};

impl Core {
    /// May `who` send as `address` (envelope sender, `From:`, `Sender:`)? Today: only their
    /// own address.
    pub fn may_send_as(&self, who: &Principal, address: &EmailAddress) -> bool {
        *address == who.address
    }

    /// Checks the sender fields of a submitted message and adds `Date:` and `Message-ID:` when
    /// missing (RFC 6409 §8.2, §8.3). Refusals are [`crate::ErrorKind::Forbidden`].
    pub fn prepare_submission(&self, who: &Principal, content: Vec<u8>) -> Result<Vec<u8>> {
        let message = mail_parser::MessageParser::default()
            .parse_headers(&content)
            .ok_or_else(|| Error::invalid("the message has no header"))?;
        let from = header_addresses(message.from());
        if from.is_empty() {
            return Err(Error::invalid("the message has no From: address"));
        }
        for (field, addresses) in [
            ("From", from),
            ("Sender", header_addresses(message.sender())),
        ] {
            for address in addresses {
                let allowed = EmailAddress::parse(&address)
                    .map(|a| self.may_send_as(who, &a))
                    .unwrap_or(false);
                if !allowed {
                    return Err(Error::forbidden(format!(
                        "{field}: <{address}> is not an address you may send as"
                    )));
                }
            }
        }
        let mut added = String::new();
        if message.date().is_none() {
            added.push_str(&format!(
                "Date: {}\r\n",
                chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S +0000")
            ));
        }
        if message.message_id().is_none() {
            added.push_str(&format!(
                "Message-ID: <{:016x}.{}@{}>\r\n",
                rand::random::<u64>(),
                crate::now(),
                self.config.hostname
            ));
        }
        if added.is_empty() {
            return Ok(content);
        }
        let mut out = added.into_bytes();
        out.extend_from_slice(&content);
        Ok(out)
    }
}

fn header_addresses(address: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    address
        .map(|a| {
            a.iter()
                .filter_map(|addr| addr.address.as_deref().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}
