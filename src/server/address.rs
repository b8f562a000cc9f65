//! Who a client is, by address: the client's own address when the server
//! sits behind proxies it trusts (`X-Forwarded-For`, read only from those),
//! and the group of addresses the throttles count under (an IPv4 address,
//! or an IPv6 /64: one subscriber usually holds a whole /64).

use std::net::{IpAddr, Ipv6Addr};

/// A network: an address and a prefix length, like `10.0.0.0/8` or a
/// single address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// `a.b.c.d`, `a.b.c.d/n`, an IPv6 address, or one with `/n`.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let bad = || format!("expected an address or a network like 10.0.0.0/8, not {text:?}");
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let net: IpAddr = address.trim().parse().map_err(|_| bad())?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(bad)?,
            None => max,
        };
        Ok(Cidr { net, prefix })
    }

    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.net, canonical(ip)) {
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

/// An IPv4 address written as IPv6 (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The client's address: `peer` itself unless `peer` is a trusted proxy;
/// then the nearest address in `X-Forwarded-For` (read from the right, the
/// order proxies append in) that is not a trusted proxy. Anything a client
/// wrote further left is ignored, and a malformed entry ends the walk at
/// the proxy that passed it on.
pub fn client_ip<'a>(
    peer: IpAddr,
    forwarded_for: impl Iterator<Item = &'a str>,
    trusted: &[Cidr],
) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for.flat_map(|v| v.split(',')).collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.trim().parse::<IpAddr>() else {
            break;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// The group a throttle counts `ip` under: the IPv4 address itself, or the
/// IPv6 /64 it is in.
pub fn group(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let net = Ipv6Addr::from(u128::from(v6) & (u128::MAX << 64));
            format!("{net}/64")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|n| Cidr::parse(n).unwrap()).collect()
    }

    #[test]
    fn networks_parse_and_contain() {
        let private = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(private.contains(ip("10.200.1.2")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(
            private.contains(ip("::ffff:10.1.1.1")),
            "IPv4 written as IPv6"
        );
        let one = Cidr::parse("192.0.2.7").unwrap();
        assert!(one.contains(ip("192.0.2.7")) && !one.contains(ip("192.0.2.8")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("8.8.8.8")));
        for bad in ["10.0.0.0/33", "proxy", "10.0.0/8", "::1/129", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        let trusted = nets(&["127.0.0.1", "10.0.0.0/8"]);
        let client =
            |peer: &str, header: &[&str]| client_ip(ip(peer), header.iter().copied(), &trusted);
        // A client that is not a proxy cannot claim another address.
        assert_eq!(client("203.0.113.9", &["198.51.100.1"]), ip("203.0.113.9"));
        // Through our proxy: the address it saw.
        assert_eq!(client("127.0.0.1", &["198.51.100.1"]), ip("198.51.100.1"));
        // A client's own X-Forwarded-For, appended to: its forgery is ignored.
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6, 198.51.100.1"]),
            ip("198.51.100.1")
        );
        // Through two of our proxies, headers split over two lines.
        assert_eq!(
            client("127.0.0.1", &["6.6.6.6, 198.51.100.1", "10.1.2.3"]),
            ip("198.51.100.1")
        );
        // Nothing forwarded, or garbage: the proxy itself.
        assert_eq!(client("127.0.0.1", &[]), ip("127.0.0.1"));
        assert_eq!(client("127.0.0.1", &["not-an-ip"]), ip("127.0.0.1"));
        // No trusted proxies at all: the header is never read.
        assert_eq!(
            client_ip(ip("127.0.0.1"), ["198.51.100.1"].into_iter(), &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_is_grouped_by_64_and_ipv4_is_itself() {
        assert_eq!(group(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            group(ip("2001:db8:1:2:bbbb::9")),
            group(ip("2001:db8:1:2::5"))
        );
        assert_ne!(group(ip("2001:db8:1:3::1")), group(ip("2001:db8:1:2::1")));
        assert_eq!(group(ip("198.51.100.7")), "198.51.100.7");
        assert_eq!(group(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }
}
