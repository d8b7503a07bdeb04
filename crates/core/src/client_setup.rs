//! Mail clients setting themselves up: the documents each asks for, built from `[public]`
//! (the host name and ports clients are told, which may differ from the listeners behind NAT).
//!
//! - Thunderbird's autoconfig (Mozilla ISPDB `clientConfig` 1.1, with the CardDAV address
//!   books): [`autoconfig_xml`].
//! - Outlook's Autodiscover (POX, `responseschema/2006a`): [`parse_autodiscover_request`],
//!   [`autodiscover_xml`], [`autodiscover_error_xml`].
//! - Apple's configuration profile (`.mobileconfig`, a `com.apple.mail.managed` payload and a
//!   `com.apple.carddav.account` one, no password): [`mobileconfig`].
//! - RFC 6186 SRV records and the autoconfig/Autodiscover names: [`dns_records`].
//!
//! Every answer is the same for any address of the domain: nothing tells whether an account
//! exists. Pure functions: no I/O.

use hopthu_config::{Config, Public};
use hopthu_model::EmailAddress;

/// The request schema Outlook sends and the response schema it accepts.
pub const AUTODISCOVER_REQUEST_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006";
pub const AUTODISCOVER_RESPONSE_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const AUTODISCOVER_SCHEMA: &str =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

/// The largest Autodiscover request read (Outlook's is a few hundred bytes).
pub const AUTODISCOVER_MAX_BODY: usize = 64 * 1024;

/// Escapes text for an XML element or attribute.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// The address if it belongs to the served domain.
pub fn served_address(config: &Config, address: &str) -> Option<EmailAddress> {
    let address = EmailAddress::parse(address.trim()).ok()?;
    address.is_in_domain(&config.domain).then_some(address)
}

/// Thunderbird's `clientConfig` (version 1.1) for the domain: IMAP and POP3 over TLS and with
/// STARTTLS, submission over TLS and with STARTTLS, each only when its port is not 0; the
/// user name is the full address (`%EMAILADDRESS%`); and the CardDAV address books at
/// `https://<host>/dav/`.
pub fn autoconfig_xml(domain: &str, public: &Public) -> String {
    let server = |tag: &str, kind: &str, port: u16, socket: &str| {
        if port == 0 {
            return String::new();
        }
        format!(
            "    <{tag} type=\"{kind}\">\n      <hostname>{}</hostname>\n      <port>{port}</port>\n      \
             <socketType>{socket}</socketType>\n      <authentication>password-cleartext</authentication>\n      \
             <username>%EMAILADDRESS%</username>\n    </{tag}>\n",
            esc(&public.host)
        )
    };
    let d = esc(domain);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<clientConfig version=\"1.1\">\n  \
         <emailProvider id=\"{d}\">\n    <domain>{d}</domain>\n    \
         <displayName>Thư điện tử {d}</displayName>\n    <displayShortName>{d}</displayShortName>\n"
    );
    xml.push_str(&server("incomingServer", "imap", public.imaps_port, "SSL"));
    xml.push_str(&server(
        "incomingServer",
        "imap",
        public.imap_port,
        "STARTTLS",
    ));
    xml.push_str(&server("incomingServer", "pop3", public.pop3s_port, "SSL"));
    xml.push_str(&server(
        "incomingServer",
        "pop3",
        public.pop3_port,
        "STARTTLS",
    ));
    xml.push_str(&server(
        "outgoingServer",
        "smtp",
        public.submissions_port,
        "SSL",
    ));
    xml.push_str(&server(
        "outgoingServer",
        "smtp",
        public.submission_port,
        "STARTTLS",
    ));
    xml.push_str("  </emailProvider>\n");
    // The address books over CardDAV (Thunderbird 102 and later read this).
    xml.push_str(&format!(
        "  <addressBook type=\"carddav\">\n    <username>%EMAILADDRESS%</username>\n    \
         <authentication>http-basic</authentication>\n    \
         <serverURL>https://{}/dav/</serverURL>\n  </addressBook>\n",
        esc(&public.host)
    ));
    xml.push_str("</clientConfig>\n");
    xml
}

/// What an Autodiscover request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutodiscoverRequest {
    pub email: String,
    /// `AcceptableResponseSchema`, when given.
    pub schema: Option<String>,
}

/// Why an Autodiscover request is refused before its address is looked at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BadAutodiscover {
    TooLarge,
    /// Not well-formed XML, or not an `Autodiscover/Request` with one `EMailAddress`.
    Malformed(String),
}

/// Reads Outlook's POX request with a real XML parser: the root `Autodiscover`, its `Request`,
/// and in it one `EMailAddress` and at most one `AcceptableResponseSchema`. A DOCTYPE
/// (entities) is refused; so is anything left unclosed.
pub fn parse_autodiscover_request(body: &[u8]) -> Result<AutodiscoverRequest, BadAutodiscover> {
    use quick_xml::events::Event;
    if body.len() > AUTODISCOVER_MAX_BODY {
        return Err(BadAutodiscover::TooLarge);
    }
    let bad = |m: &str| BadAutodiscover::Malformed(m.to_string());
    let text = std::str::from_utf8(body).map_err(|_| bad("not UTF-8"))?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut email: Option<String> = None;
    let mut schema: Option<String> = None;
    let mut current = String::new();
    let mut seen_root = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| BadAutodiscover::Malformed(e.to_string()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().into_inner().to_string();
                match path.len() {
                    0 if seen_root => return Err(bad("a second root element")),
                    0 if name != "Autodiscover" => return Err(bad("the root is not Autodiscover")),
                    _ => {}
                }
                seen_root = true;
                if path.len() > 16 {
                    return Err(bad("nested too deep"));
                }
                path.push(name);
                current.clear();
            }
            Event::Empty(_) => {
                if path.is_empty() {
                    return Err(bad("no Autodiscover element"));
                }
            }
            Event::End(_) => {
                let Some(name) = path.pop() else {
                    return Err(bad("an end tag with no start"));
                };
                if path.len() == 2 && path[1] == "Request" {
                    let value = current.trim().to_string();
                    let slot = match name.as_str() {
                        "EMailAddress" => Some(&mut email),
                        "AcceptableResponseSchema" => Some(&mut schema),
                        _ => None,
                    };
                    if let Some(slot) = slot {
                        if slot.is_some() {
                            return Err(bad("a repeated element"));
                        }
                        *slot = Some(value);
                    }
                }
                current.clear();
            }
            Event::Text(t) => {
                if path.is_empty() && !t.trim().is_empty() {
                    return Err(bad("text outside the root"));
                }
                current.push_str(&t.xml10_content());
            }
            Event::CData(t) => current.push_str(&t.xml10_content()),
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref() {
                    Ok(Some(c)) => c,
                    Ok(None) => match &*r {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        _ => return Err(bad("an unknown entity")),
                    },
                    Err(e) => return Err(BadAutodiscover::Malformed(e.to_string())),
                };
                current.push(c);
            }
            Event::DocType(_) => return Err(bad("a DOCTYPE")),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !path.is_empty() || !seen_root {
        return Err(bad("the document is not complete"));
    }
    let email = email.ok_or_else(|| bad("no EMailAddress"))?;
    Ok(AutodiscoverRequest { email, schema })
}

/// Outlook's answer (`responseschema/2006a`): an `email` account with `settings`, an IMAP
/// and an SMTP protocol on `[public]`, signing in with the full address, no SPA. The implicit
/// TLS port when offered, else the STARTTLS one (`Encryption` TLS).
pub fn autodiscover_xml(address: &EmailAddress, public: &Public) -> String {
    let protocol = |kind: &str, tls_port: u16, starttls_port: u16, auth: bool| {
        let (port, encryption) = match (tls_port, starttls_port) {
            (0, 0) => return String::new(),
            (0, p) => (p, "TLS"),
            (p, _) => (p, "SSL"),
        };
        let auth = if auth {
            "\n        <AuthRequired>on</AuthRequired>\n        <UsePOPAuth>off</UsePOPAuth>"
        } else {
            ""
        };
        format!(
            "      <Protocol>\n        <Type>{kind}</Type>\n        <Server>{}</Server>\n        \
             <Port>{port}</Port>\n        <DomainRequired>off</DomainRequired>\n        \
             <LoginName>{}</LoginName>\n        <SPA>off</SPA>\n        <SSL>on</SSL>\n        \
             <Encryption>{encryption}</Encryption>{auth}\n      </Protocol>\n",
            esc(&public.host),
            esc(&address.to_string())
        )
    };
    let mut protocols = protocol("IMAP", public.imaps_port, public.imap_port, false);
    if protocols.is_empty() {
        protocols = protocol("POP3", public.pop3s_port, public.pop3_port, false);
    }
    protocols.push_str(&protocol(
        "SMTP",
        public.submissions_port,
        public.submission_port,
        true,
    ));
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{AUTODISCOVER_SCHEMA}\">\n  \
         <Response xmlns=\"{AUTODISCOVER_RESPONSE_SCHEMA}\">\n    <Account>\n      \
         <AccountType>email</AccountType>\n      <Action>settings</Action>\n{protocols}    \
         </Account>\n  </Response>\n</Autodiscover>\n"
    )
}

/// An Autodiscover error: `code` 500 (no such address here), 600 (invalid request), 601
/// (the requested response schema is not available).
pub fn autodiscover_error_xml(code: u16, message: &str, now_unix: i64) -> String {
    let time = chrono::DateTime::from_timestamp(now_unix, 0)
        .map(|t| t.format("%H:%M:%S").to_string())
        .unwrap_or_default();
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"{AUTODISCOVER_SCHEMA}\">\n  \
         <Response>\n    <Error Time=\"{time}\" Id=\"0\">\n      <ErrorCode>{code}</ErrorCode>\n      \
         <Message>{}</Message>\n      <DebugData />\n    </Error>\n  </Response>\n</Autodiscover>\n",
        esc(message)
    )
}

/// A random (version 4) UUID, upper-case as Apple writes them.
pub fn new_uuid() -> String {
    use rand::Rng as _;
    let mut b: [u8; 16] = rand::rng().random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode_upper(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// The stable identifier of an address's profile: the host name reversed, then the address
/// (installing a newer profile for the same address replaces the older one).
pub fn mobileconfig_identifier(public: &Public, address: &EmailAddress) -> String {
    let reversed: Vec<&str> = public.host.split('.').rev().collect();
    format!("{}.hopthu.mail.{}", reversed.join("."), address)
}

/// Apple's configuration profile (an unsigned XML property list) with a
/// `com.apple.mail.managed` payload for `address`: IMAP and SMTP on `[public]`, TLS, the
/// full address as user name, no password (the device asks); and a `com.apple.carddav.account`
/// payload for the address books (`https://<host>/dav/`). `uuids` are the profile's and the
/// payloads' `PayloadUUID`s (fresh each download: [`new_uuid`]).
pub fn mobileconfig(
    domain: &str,
    public: &Public,
    address: &EmailAddress,
    display_name: &str,
    uuids: [&str; 3],
) -> String {
    let (incoming_type, incoming_port) = if public.imaps_port != 0 || public.imap_port != 0 {
        let p = if public.imaps_port != 0 {
            public.imaps_port
        } else {
            public.imap_port
        };
        ("EmailTypeIMAP", p)
    } else {
        let p = if public.pop3s_port != 0 {
            public.pop3s_port
        } else {
            public.pop3_port
        };
        ("EmailTypePOP", p)
    };
    let outgoing_port = if public.submissions_port != 0 {
        public.submissions_port
    } else {
        public.submission_port
    };
    let a = esc(&address.to_string());
    let host = esc(&public.host);
    let name = esc(display_name);
    let d = esc(domain);
    let id = esc(&mobileconfig_identifier(public, address));
    let [profile_uuid, payload_uuid, carddav_uuid] = uuids;
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>PayloadContent</key>
  <array>
    <dict>
      <key>EmailAccountDescription</key>
      <string>{a}</string>
      <key>EmailAccountName</key>
      <string>{name}</string>
      <key>EmailAccountType</key>
      <string>{incoming_type}</string>
      <key>EmailAddress</key>
      <string>{a}</string>
      <key>IncomingMailServerAuthentication</key>
      <string>EmailAuthPassword</string>
      <key>IncomingMailServerHostName</key>
      <string>{host}</string>
      <key>IncomingMailServerPortNumber</key>
      <integer>{incoming_port}</integer>
      <key>IncomingMailServerUseSSL</key>
      <true/>
      <key>IncomingMailServerUsername</key>
      <string>{a}</string>
      <key>OutgoingMailServerAuthentication</key>
      <string>EmailAuthPassword</string>
      <key>OutgoingMailServerHostName</key>
      <string>{host}</string>
      <key>OutgoingMailServerPortNumber</key>
      <integer>{outgoing_port}</integer>
      <key>OutgoingMailServerUseSSL</key>
      <true/>
      <key>OutgoingMailServerUsername</key>
      <string>{a}</string>
      <key>OutgoingPasswordSameAsIncomingPassword</key>
      <true/>
      <key>PayloadDescription</key>
      <string>Hộp thư {a} / mailbox {a}</string>
      <key>PayloadDisplayName</key>
      <string>{a}</string>
      <key>PayloadIdentifier</key>
      <string>{id}.account</string>
      <key>PayloadType</key>
      <string>com.apple.mail.managed</string>
      <key>PayloadUUID</key>
      <string>{payload_uuid}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
    </dict>
    <dict>
      <key>CardDAVAccountDescription</key>
      <string>Danh bạ {a} / contacts</string>
      <key>CardDAVHostName</key>
      <string>{host}</string>
      <key>CardDAVPrincipalURL</key>
      <string>/dav/principals/{a}/</string>
      <key>CardDAVUseSSL</key>
      <true/>
      <key>CardDAVUsername</key>
      <string>{a}</string>
      <key>PayloadDescription</key>
      <string>Danh bạ cá nhân và danh bạ công khai / personal contacts and the published directory</string>
      <key>PayloadDisplayName</key>
      <string>Danh bạ {a}</string>
      <key>PayloadIdentifier</key>
      <string>{id}.carddav</string>
      <key>PayloadType</key>
      <string>com.apple.carddav.account</string>
      <key>PayloadUUID</key>
      <string>{carddav_uuid}</string>
      <key>PayloadVersion</key>
      <integer>1</integer>
    </dict>
  </array>
  <key>PayloadDescription</key>
  <string>Cài đặt hộp thư {a} trên iPhone, iPad, Mac / sets up the mailbox {a}</string>
  <key>PayloadDisplayName</key>
  <string>Thư điện tử {d}</string>
  <key>PayloadIdentifier</key>
  <string>{id}</string>
  <key>PayloadOrganization</key>
  <string>{d}</string>
  <key>PayloadRemovalDisallowed</key>
  <false/>
  <key>PayloadType</key>
  <string>Configuration</string>
  <key>PayloadUUID</key>
  <string>{profile_uuid}</string>
  <key>PayloadVersion</key>
  <integer>1</integer>
</dict>
</plist>
"#
    )
}

/// The DNS records an operator publishes so clients find the servers: RFC 6186 SRV records
/// (with RFC 8314's `_submissions`; a service not offered is target `.` port 0), then the
/// names Thunderbird and Outlook try, in zone-file form.
pub fn dns_records(domain: &str, public: &Public) -> Vec<String> {
    let target = format!("{}.", public.host);
    let mut lines = Vec::new();
    for (service, priority, port) in [
        ("_imaps", 0, public.imaps_port),
        ("_imap", 10, public.imap_port),
        ("_pop3s", 20, public.pop3s_port),
        ("_pop3", 30, public.pop3_port),
        ("_submissions", 0, public.submissions_port),
        ("_submission", 10, public.submission_port),
        // RFC 5804 §1.8: ManageSieve, for clients that edit filters.
        ("_sieve", 0, public.managesieve_port),
    ] {
        lines.push(if port == 0 {
            format!("{service}._tcp.{domain}. IN SRV 0 0 0 .")
        } else {
            format!("{service}._tcp.{domain}. IN SRV {priority} 1 {port} {target}")
        });
    }
    lines.push(format!("autoconfig.{domain}. IN CNAME {target}"));
    lines.push(format!("autodiscover.{domain}. IN CNAME {target}"));
    lines.push(format!(
        "_autodiscover._tcp.{domain}. IN SRV 0 1 443 {target}"
    ));
    // RFC 6764 §3, §4: CardDAV over TLS and its context path.
    lines.push(format!("_carddavs._tcp.{domain}. IN SRV 0 1 443 {target}"));
    lines.push(format!("_carddavs._tcp.{domain}. IN TXT \"path=/dav/\""));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> Public {
        Public {
            host: "mx.example.vn".into(),
            imaps_port: 10993,
            imap_port: 0,
            pop3s_port: 10995,
            pop3_port: 10110,
            submissions_port: 10465,
            submission_port: 10587,
            managesieve_port: 14190,
        }
    }

    fn addr() -> EmailAddress {
        EmailAddress::parse("nvan@example.vn").unwrap()
    }

    const OUTLOOK: &str = r#"<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>nvan@example.vn</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>"#;

    #[test]
    fn autoconfig_names_the_public_ports_offered() {
        let xml = autoconfig_xml("example.vn", &public());
        assert!(xml.contains("<clientConfig version=\"1.1\">"));
        assert!(xml.contains("<port>10993</port>\n      <socketType>SSL</socketType>"));
        assert!(
            !xml.contains("<port>0</port>"),
            "imap with STARTTLS is not offered"
        );
        assert!(xml.contains("<port>10110</port>\n      <socketType>STARTTLS</socketType>"));
        assert!(xml.contains("<port>10587</port>\n      <socketType>STARTTLS</socketType>"));
        assert_eq!(xml.matches("<hostname>mx.example.vn</hostname>").count(), 5);
        // Five servers and the address books.
        assert_eq!(xml.matches("%EMAILADDRESS%").count(), 6);
        assert!(xml.contains(
            "<addressBook type=\"carddav\">\n    <username>%EMAILADDRESS%</username>\n    \
             <authentication>http-basic</authentication>\n    \
             <serverURL>https://mx.example.vn/dav/</serverURL>"
        ));
    }

    #[test]
    fn outlooks_request_is_read() {
        let r = parse_autodiscover_request(OUTLOOK.as_bytes()).unwrap();
        assert_eq!(r.email, "nvan@example.vn");
        assert_eq!(r.schema.as_deref(), Some(AUTODISCOVER_RESPONSE_SCHEMA));
        let escaped = OUTLOOK.replace("nvan@", "nv&#97;n&amp;x@");
        assert_eq!(
            parse_autodiscover_request(escaped.as_bytes())
                .unwrap()
                .email,
            "nvan&x@example.vn"
        );
    }

    #[test]
    fn malformed_requests_are_refused() {
        for bad in [
            "",
            "not xml",
            "<Autodiscover><Request><EMailAddress>a@b</Request></Autodiscover>",
            "<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request>",
            "<Other><Request><EMailAddress>a@b</EMailAddress></Request></Other>",
            "<Autodiscover><Request></Request></Autodiscover>",
            "<Autodiscover><Request><EMailAddress>a@b</EMailAddress><EMailAddress>c@d</EMailAddress></Request></Autodiscover>",
            "<!DOCTYPE x [<!ENTITY e \"a@b\">]><Autodiscover><Request><EMailAddress>&e;</EMailAddress></Request></Autodiscover>",
            "<Autodiscover><Request><EMailAddress>a@b</EMailAddress></Request></Autodiscover><Autodiscover/>",
        ] {
            assert!(
                matches!(
                    parse_autodiscover_request(bad.as_bytes()),
                    Err(BadAutodiscover::Malformed(_))
                ),
                "{bad}"
            );
        }
        let big = format!("{OUTLOOK}{}", " ".repeat(AUTODISCOVER_MAX_BODY));
        assert_eq!(
            parse_autodiscover_request(big.as_bytes()),
            Err(BadAutodiscover::TooLarge)
        );
    }

    #[test]
    fn autodiscover_answer_names_imap_and_smtp() {
        let xml = autodiscover_xml(&addr(), &public());
        assert!(xml.contains("<AccountType>email</AccountType>"));
        assert!(xml.contains(
            "<Type>IMAP</Type>\n        <Server>mx.example.vn</Server>\n        <Port>10993</Port>"
        ));
        assert!(xml.contains(
            "<Type>SMTP</Type>\n        <Server>mx.example.vn</Server>\n        <Port>10465</Port>"
        ));
        assert_eq!(
            xml.matches("<LoginName>nvan@example.vn</LoginName>")
                .count(),
            2
        );
        assert_eq!(xml.matches("<AuthRequired>on</AuthRequired>").count(), 1);
        let e = autodiscover_error_xml(600, "Invalid Request", 0);
        assert!(e.contains("<ErrorCode>600</ErrorCode>") && e.contains("Time=\"00:00:00\""));
    }

    #[test]
    fn profile_is_stable_per_address_and_has_no_password() {
        let (u1, u2, u3) = (new_uuid(), new_uuid(), new_uuid());
        assert_ne!(u1, u2);
        assert_eq!(u1.len(), 36);
        assert_eq!(&u1[14..15], "4");
        let p = mobileconfig(
            "example.vn",
            &public(),
            &addr(),
            "Nông Văn An",
            [&u1, &u2, &u3],
        );
        assert!(p.contains("<string>com.apple.mail.managed</string>"));
        assert!(p.contains("<string>vn.example.mx.hopthu.mail.nvan@example.vn</string>"));
        assert!(p.contains("<integer>10993</integer>") && p.contains("<integer>10465</integer>"));
        assert!(
            !p.to_ascii_lowercase()
                .contains("password</key>\n      <string")
        );
        assert!(p.contains(&u1) && p.contains(&u2) && p.contains(&u3));
        assert!(p.contains("<string>com.apple.carddav.account</string>"));
        assert!(p.contains("<string>/dav/principals/nvan@example.vn/</string>"));
    }

    #[test]
    fn srv_records_follow_rfc_6186() {
        let lines = dns_records("example.vn", &public());
        assert!(lines.contains(&"_imaps._tcp.example.vn. IN SRV 0 1 10993 mx.example.vn.".into()));
        assert!(lines.contains(&"_imap._tcp.example.vn. IN SRV 0 0 0 .".into()));
        assert!(lines.contains(&"_sieve._tcp.example.vn. IN SRV 0 1 14190 mx.example.vn.".into()));
        assert!(lines.contains(&"_carddavs._tcp.example.vn. IN TXT \"path=/dav/\"".into()));
        assert!(
            lines.contains(&"_submission._tcp.example.vn. IN SRV 10 1 10587 mx.example.vn.".into())
        );
        assert!(lines.contains(&"autoconfig.example.vn. IN CNAME mx.example.vn.".into()));
    }
}
