//! `[web]`: the HTTP(S) listeners' settings that are not addresses: the reverse proxies whose
//! `X-Forwarded-For` is believed.

use std::net::IpAddr;

use serde::Deserialize;

/// `[web]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RawWeb {
    /// Reverse proxies in front of the web listeners, as addresses or CIDR blocks
    /// (`"127.0.0.1"`, `"10.0.0.0/8"`, `"2001:db8::/32"`). Only when the direct peer is one of
    /// them is `X-Forwarded-For` read: the client is its right-most address that is not a trusted
    /// proxy. Default: none (the header is ignored).
    pub trusted_proxies: Option<Vec<String>>,
}

/// An address block: an address and how many leading bits of it count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl IpNet {
    /// `192.0.2.0/24`, `2001:db8::/32`, or a bare address (all its bits).
    pub fn parse(s: &str) -> Option<IpNet> {
        let s = s.trim();
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = addr.parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => p.parse().ok()?,
            Some(_) => return None,
            None => max,
        };
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// Whether `ip` is inside the block (an IPv4-mapped IPv6 address counts as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The validated `[web]`.
#[derive(Debug, Clone, Default)]
pub struct Web {
    pub trusted_proxies: Vec<IpNet>,
}

impl Web {
    /// Whether `ip` is one of the trusted reverse proxies.
    pub fn is_trusted_proxy(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|n| n.contains(ip))
    }
}

pub(crate) fn validate(raw: RawWeb, problems: &mut Vec<String>) -> Web {
    let mut trusted_proxies = Vec::new();
    for entry in raw.trusted_proxies.unwrap_or_default() {
        match IpNet::parse(&entry) {
            Some(net) => trusted_proxies.push(net),
            None => problems.push(format!(
                "web.trusted_proxies: {entry:?} is not an address or a block such as \"10.0.0.0/8\""
            )),
        }
    }
    Web { trusted_proxies }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_contain_their_addresses() {
        let net = IpNet::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let one = IpNet::parse("127.0.0.1").unwrap();
        assert!(one.contains("127.0.0.1".parse().unwrap()));
        assert!(!one.contains("127.0.0.2".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("2001:db9::5".parse().unwrap()));
        assert!(!v6.contains("10.1.0.1".parse().unwrap()));
        assert!(
            IpNet::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "proxy", "::/129"] {
            assert!(IpNet::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_bad_entry_is_reported() {
        let mut problems = Vec::new();
        let web = validate(
            RawWeb {
                trusted_proxies: Some(vec!["127.0.0.1".into(), "nonsense".into()]),
            },
            &mut problems,
        );
        assert_eq!(web.trusted_proxies.len(), 1);
        assert!(problems[0].contains("web.trusted_proxies"), "{problems:?}");
    }
}
