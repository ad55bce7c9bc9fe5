//! Address helpers: parsing the forms addresses take in logs, and the network an address
//! belongs to for per-subnet aggregation (/24 for IPv4, /64 for IPv6).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parse an address as logs write it: plain IPv4/IPv6, IPv4-mapped IPv6 (`::ffff:1.2.3.4`,
/// unwrapped to IPv4), optionally in brackets. Returns `None` for hostnames and garbage.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    if let Some(v4) = parse_v4(s.as_bytes()) {
        return Some(IpAddr::V4(v4));
    }
    // `[addr]` and `[addr]:port`
    let s = match s.strip_prefix('[') {
        Some(x) => match x.split_once(']') {
            Some((a, "")) => a,
            Some((a, port))
                if port.len() > 1
                    && port[1..].bytes().all(|b| b.is_ascii_digit())
                    && port.starts_with(':') =>
            {
                a
            }
            _ => return None,
        },
        None => s,
    };
    // an IPv6 scope (`fe80::1%eth0`): the address is what it names across scopes
    let s = match s.split_once('%') {
        Some((a, zone))
            if a.contains(':')
                && !zone.is_empty()
                && zone.len() <= 32
                && zone
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_')) =>
        {
            a
        }
        Some(_) => return None,
        None => s,
    };
    if s.is_empty() || s.len() > 45 {
        return None;
    }
    let ip: IpAddr = s.parse().ok()?;
    Some(canonical(ip))
}

/// Dotted-quad IPv4 as std parses it (four decimal octets, no leading zeros, nothing else),
/// without the general parser: most addresses in logs are IPv4.
fn parse_v4(b: &[u8]) -> Option<Ipv4Addr> {
    if b.len() < 7 || b.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, o) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v = 0u32;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            v = v * 10 + (d - b'0') as u32;
            i += 1;
            if i - start > 3 {
                return None;
            }
        }
        if i == start || v > 255 || (i - start > 1 && b[start] == b'0') {
            return None;
        }
        *o = v as u8;
    }
    (i == b.len()).then(|| Ipv4Addr::from(octets))
}

/// Unwrap IPv4-mapped IPv6 addresses so one attacker has one key.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// An address as text in a stack buffer: what `Display` prints, without the formatting
/// machinery for IPv4 (std's takes ~1,000 instructions per address; alerts print many).
pub struct IpText {
    buf: [u8; 48],
    len: usize,
}

impl IpText {
    pub fn new(ip: IpAddr) -> IpText {
        let mut t = IpText {
            buf: [0; 48],
            len: 0,
        };
        match ip {
            IpAddr::V4(v4) => {
                for (i, o) in v4.octets().into_iter().enumerate() {
                    if i > 0 {
                        t.buf[t.len] = b'.';
                        t.len += 1;
                    }
                    if o >= 100 {
                        t.buf[t.len] = b'0' + o / 100;
                        t.len += 1;
                    }
                    if o >= 10 {
                        t.buf[t.len] = b'0' + o / 10 % 10;
                        t.len += 1;
                    }
                    t.buf[t.len] = b'0' + o % 10;
                    t.len += 1;
                }
            }
            IpAddr::V6(v6) => {
                use std::io::Write;
                let mut w = &mut t.buf[..];
                // 45 bytes at most: always fits
                let _ = write!(w, "{v6}");
                t.len = 48 - w.len();
            }
        }
        t
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::ops::Deref for IpText {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for IpText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The /24 (IPv4) or /64 (IPv6) network containing `ip`, in CIDR notation.
pub fn subnet_of(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}/24", Ipv4Addr::new(o[0], o[1], o[2], 0))
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{}/64", Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
    }
}

/// A compact numeric key for the network of `ip` (cheaper than the string on the hot path).
pub fn subnet_key(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => (u32::from(v4) >> 8) as u128,
        IpAddr::V6(v6) => (u128::from(v6) >> 64) | (1u128 << 100),
    }
}

/// A CIDR block for allowlists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    /// Parse `a.b.c.d/n`, `x::/n` or a bare address (a host route).
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a
            .trim()
            .parse()
            .map_err(|_| format!("not an IP address: {a:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("prefix length must be 0..={max}: {p:?}"))?,
            None => max,
        };
        Ok(Cidr {
            addr: canonical(addr),
            prefix,
        })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fast_ipv4_agrees_with_std() {
        let cases = [
            "1.2.3.4",
            "0.0.0.0",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "1.2.3.4 ",
            " 1.2.3.4",
            "1.2.3.-4",
            "1.2.3.04",
            "10.0.0.1:22",
            "1.2.3.4a",
            "1234.1.1.1",
            "1.2.3.",
            ".1.2.3",
            "::ffff:1.2.3.4",
            "a.b.c.d",
        ];
        for c in cases {
            assert_eq!(parse_v4(c.as_bytes()), c.parse::<Ipv4Addr>().ok(), "{c:?}");
        }
        let mut seed = 1u64;
        for _ in 0..20_000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let s: String = (0..(seed >> 60) as usize + 6)
                .map(|k| b"0123456789.19."[((seed >> ((k * 4) % 64)) & 0xf) as usize % 14] as char)
                .collect();
            assert_eq!(parse_v4(s.as_bytes()), s.parse::<Ipv4Addr>().ok(), "{s:?}");
        }
    }

    #[test]
    fn ip_text_matches_display() {
        for s in [
            "0.0.0.0",
            "1.2.3.4",
            "10.0.100.9",
            "255.255.255.255",
            "192.0.2.10",
            "2001:db8::1",
            "::1",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ] {
            let ip: IpAddr = s.parse().unwrap();
            assert_eq!(IpText::new(ip).as_str(), ip.to_string());
        }
        for o in 0..=255u8 {
            let ip = IpAddr::V4(Ipv4Addr::new(o, 255 - o, o / 2, 7));
            assert_eq!(&*IpText::new(ip), ip.to_string());
        }
    }

    use super::*;

    #[test]
    fn parses_log_address_forms() {
        assert_eq!(parse_ip("1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(parse_ip("::ffff:1.2.3.4"), Some("1.2.3.4".parse().unwrap()));
        assert_eq!(
            parse_ip("[2001:db8::1]"),
            Some("2001:db8::1".parse().unwrap())
        );
        assert_eq!(parse_ip("example.com"), None);
        assert_eq!(
            parse_ip("192.030.0.6"),
            None,
            "leading zeros are ambiguous; not an IP"
        );
        assert_eq!(parse_ip(""), None);
        // a scope is no part of the address; `[addr]:port`; what is neither is no address
        let v6 = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(parse_ip("fe80::1%eth0"), v6("fe80::1"));
        assert_eq!(parse_ip("fe80::1%enp0s3.100"), v6("fe80::1"));
        assert_eq!(parse_ip("[2001:db8::5]:2222"), v6("2001:db8::5"));
        assert_eq!(parse_ip("[192.0.2.1]:22"), v6("192.0.2.1"));
        for bad in [
            "fe80::1%",
            "fe80::1%a b",
            "1.2.3.4%eth0",
            "[2001:db8::5]:",
            "[2001:db8::5]x",
            "[2001:db8::5",
        ] {
            assert_eq!(parse_ip(bad), None, "{bad}");
        }
    }

    #[test]
    fn subnets() {
        assert_eq!(subnet_of("192.0.2.77".parse().unwrap()), "192.0.2.0/24");
        assert_eq!(
            subnet_of("2001:db8:1:2:3::9".parse().unwrap()),
            "2001:db8:1:2::/64"
        );
        assert_eq!(
            subnet_key("192.0.2.1".parse().unwrap()),
            subnet_key("192.0.2.254".parse().unwrap())
        );
        assert_ne!(
            subnet_key("192.0.2.1".parse().unwrap()),
            subnet_key("192.0.3.1".parse().unwrap())
        );
    }

    #[test]
    fn cidr_contains() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(Cidr::parse("::1").unwrap().contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("bogus").is_err());
    }
}
