//! Who is on the other end of a request: the client address and whether the site was
//! reached over HTTPS.
//!
//! Deployments put a reverse proxy (TLS) in front of the server, so the TCP peer is the
//! proxy, not the student. Only when the peer is a configured trusted proxy
//! (`LIXIAO_TRUSTED_PROXIES`) are its `X-Forwarded-For` and `X-Forwarded-Proto` headers
//! believed; from anyone else they are ignored, since a client can send whatever it likes.

use std::net::IpAddr;

/// The addresses whose forwarding headers are believed: single addresses or CIDR blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma- or space-separated list such as `127.0.0.1, 10.0.0.0/8, ::1`.
    pub fn parse(list: &str) -> Result<Self, String> {
        list.split([',', ' '])
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(|item| {
                let (addr, prefix) = match item.split_once('/') {
                    Some((addr, prefix)) => (addr, Some(prefix)),
                    None => (item, None),
                };
                let addr: IpAddr = addr
                    .parse()
                    .map_err(|_| format!("{item:?} is not an IP address or CIDR block"))?;
                let max = if addr.is_ipv4() { 32 } else { 128 };
                let prefix = match prefix {
                    None => max,
                    Some(prefix) => prefix
                        .parse::<u8>()
                        .ok()
                        .filter(|prefix| *prefix <= max)
                        .ok_or_else(|| format!("{item:?} has an invalid prefix length"))?,
                };
                Ok((addr, prefix))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, addr: IpAddr) -> bool {
        let addr = canonical(addr);
        self.0
            .iter()
            .any(|(network, prefix)| same_prefix(*network, addr, *prefix))
    }
}

/// What the server believes about the client of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address: the TCP peer, or the forwarded address when the peer is a
    /// trusted proxy. `None` when the server was not told (tests calling the router).
    pub addr: Option<IpAddr>,
    /// Whether the client reached the site over HTTPS.
    pub https: bool,
}

impl ClientInfo {
    /// Works out the client from the TCP `peer` and the request's forwarding headers.
    /// `https_by_default` is the configured transport, used unless a trusted proxy says.
    pub fn resolve(
        peer: Option<IpAddr>,
        headers: &http::HeaderMap,
        proxies: &TrustedProxies,
        https_by_default: bool,
    ) -> Self {
        let untrusted = ClientInfo {
            addr: peer.map(canonical),
            https: https_by_default,
        };
        let Some(peer) = peer.filter(|peer| proxies.contains(*peer)) else {
            return untrusted;
        };
        // X-Forwarded-For lists the client first and each proxy after it appends the address
        // it received from. Walking from the right, the first address that is not one of our
        // proxies is the one the outermost trusted proxy saw: anything left of it could have
        // been written by the client itself.
        // An entry that is not an address (`unknown`, a host name, garbage) ends the walk:
        // whatever stands left of it cannot be vouched for, so the proxy itself is then
        // taken as the client. Proxies that append `ip:port` or `[v6]:port` are understood.
        let entries: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(','))
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .collect();
        let mut addr = peer;
        for entry in entries.iter().rev() {
            let Some(hop) = parse_forwarded(entry) else {
                break;
            };
            addr = hop;
            if !proxies.contains(hop) {
                break;
            }
        }
        let https = match headers
            .get("x-forwarded-proto")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split(',').next())
            .map(|value| value.trim().to_ascii_lowercase())
        {
            Some(proto) => proto == "https",
            None => https_by_default,
        };
        ClientInfo {
            addr: Some(canonical(addr)),
            https,
        }
    }

    /// The key sign-in limits count under: the IPv4 address, or the /64 network of an
    /// IPv6 address (one subscriber usually holds a whole /64, so counting single IPv6
    /// addresses would give a guesser 2⁶⁴ fresh starts). `unknown` when there is none.
    pub fn limit_key(&self) -> String {
        match self.addr {
            None => "unknown".to_owned(),
            Some(IpAddr::V4(v4)) => v4.to_string(),
            Some(IpAddr::V6(v6)) => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        }
    }
}

/// One `X-Forwarded-For` entry: an address, with or without a port.
fn parse_forwarded(entry: &str) -> Option<IpAddr> {
    entry.parse::<IpAddr>().ok().or_else(|| {
        entry
            .parse::<std::net::SocketAddr>()
            .ok()
            .map(|addr| addr.ip())
    })
}

/// IPv4 addresses that arrive as IPv4-mapped IPv6 (`::ffff:1.2.3.4`) are IPv4.
fn canonical(addr: IpAddr) -> IpAddr {
    match addr {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

fn same_prefix(network: IpAddr, addr: IpAddr, prefix: u8) -> bool {
    let mask = |bits: u32, width: u32| -> u128 {
        if bits == 0 {
            0
        } else {
            (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
        }
    };
    match (canonical(network), addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = mask(u32::from(prefix), 32);
            u128::from(u32::from(n)) & m == u128::from(u32::from(a)) & m
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = mask(u32::from(prefix), 128);
            u128::from(n) & m == u128::from(a) & m
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("address")
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> http::HeaderMap {
        let mut map = http::HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn trusted_proxies_are_addresses_and_cidr_blocks() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8 fd00::/8").expect("valid");
        assert!(proxies.contains(ip("127.0.0.1")));
        assert!(proxies.contains(ip("::ffff:127.0.0.1")), "IPv4-mapped");
        assert!(!proxies.contains(ip("127.0.0.2")));
        assert!(proxies.contains(ip("10.200.3.4")));
        assert!(!proxies.contains(ip("11.0.0.1")));
        assert!(proxies.contains(ip("fd12::1")));
        assert!(!proxies.contains(ip("fe80::1")));
        assert!(TrustedProxies::parse("").expect("empty").is_empty());
        assert!(
            TrustedProxies::parse("0.0.0.0/0")
                .expect("all")
                .contains(ip("8.8.8.8"))
        );
        for bad in ["10.0.0.0/33", "proxy.example", "::1/129", "1.2.3.4/x"] {
            assert!(TrustedProxies::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let proxies = TrustedProxies::parse("10.0.0.1").expect("valid");
        let spoofed = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientInfo::resolve(Some(ip("198.51.100.7")), &spoofed, &proxies, false);
        assert_eq!(client.addr, Some(ip("198.51.100.7")));
        assert!(!client.https);
    }

    #[test]
    fn a_trusted_proxy_names_the_client_right_most_untrusted_first() {
        let proxies = TrustedProxies::parse("10.0.0.0/24").expect("valid");
        // The client wrote "6.6.6.6" itself; the proxy appended what it saw (203.0.113.9),
        // then an inner proxy appended the outer one.
        let forwarded = headers(&[
            ("x-forwarded-for", "6.6.6.6, 203.0.113.9"),
            ("x-forwarded-for", "10.0.0.2"),
            ("x-forwarded-proto", "https"),
        ]);
        let client = ClientInfo::resolve(Some(ip("10.0.0.1")), &forwarded, &proxies, false);
        assert_eq!(client.addr, Some(ip("203.0.113.9")));
        assert!(client.https);
        // Entries a client could have written are never believed past one the server
        // cannot read: the walk stops there and the proxy is the client.
        for garbage in [
            "6.6.6.6, unknown",
            "6.6.6.6, proxy.example",
            "6.6.6.6, 1.2.3",
        ] {
            let spoofed = headers(&[("x-forwarded-for", garbage)]);
            let client = ClientInfo::resolve(Some(ip("10.0.0.1")), &spoofed, &proxies, false);
            assert_eq!(client.addr, Some(ip("10.0.0.1")), "{garbage}");
        }
        // Proxies that append the port are understood.
        for with_port in ["6.6.6.6, 203.0.113.9:1234", "6.6.6.6, [2001:db8::9]:443"] {
            let forwarded = headers(&[("x-forwarded-for", with_port)]);
            let client = ClientInfo::resolve(Some(ip("10.0.0.1")), &forwarded, &proxies, false);
            assert_ne!(client.addr, Some(ip("6.6.6.6")), "{with_port}");
        }
        // Without a forwarded address, the proxy itself is the client.
        let bare = ClientInfo::resolve(Some(ip("10.0.0.1")), &headers(&[]), &proxies, true);
        assert_eq!(bare.addr, Some(ip("10.0.0.1")));
        assert!(
            bare.https,
            "the configured default when the proxy says nothing"
        );
    }

    #[test]
    fn ipv6_clients_are_counted_per_64_network() {
        let key = |addr: &str| {
            ClientInfo {
                addr: Some(ip(addr)),
                https: true,
            }
            .limit_key()
        };
        assert_eq!(key("2001:db8:1:2::1"), key("2001:db8:1:2:ffff::9"));
        assert_ne!(key("2001:db8:1:2::1"), key("2001:db8:1:3::1"));
        assert_eq!(key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_eq!(key("192.0.2.1"), "192.0.2.1");
        assert_eq!(
            ClientInfo {
                addr: None,
                https: true
            }
            .limit_key(),
            "unknown"
        );
    }
}
