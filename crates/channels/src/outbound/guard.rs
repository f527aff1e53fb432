//! Where Tidings may send an HTTP request. Every URL an admin or a partner saves (webhooks,
//! Teams, Slack, an SMS provider, a browser's push endpoint) is checked when it is saved,
//! and the addresses its host resolves to are checked again when a connection is made: a
//! name that resolves to an internal address at send time (DNS rebinding) is refused then.
//! Refused: loopback, private, link-local, CGNAT (100.64/10), the cloud metadata
//! addresses, documentation, benchmark, multicast and reserved ranges, and the IPv6 forms
//! that carry an IPv4 address inside (mapped, compatible, NAT64, 6to4) when that address
//! is refused. Peer products missed CGNAT (SECURITY.md); the table test walks every range.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// Whether tests may reach a server on this machine. Production never turns it on: it is
/// the `outbound.allow_loopback` setting, off by default, and it lets only loopback
/// addresses (and plain `http`) through, nothing else on the refused list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboundPolicy {
    pub allow_loopback: bool,
}

/// Why a URL or an address is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("is not a URL: {0}")]
    Malformed(String),
    #[error("must start with https://")]
    NotHttps,
    #[error("must not carry a user name or password")]
    Credentials,
    #[error("has no host")]
    NoHost,
    #[error("points at {address}, a {range} address, which Tidings does not send to")]
    Blocked { address: IpAddr, range: &'static str },
    #[error("resolves only to addresses Tidings does not send to ({0})")]
    ResolvesInside(String),
    #[error("'{0}' does not resolve")]
    Unresolved(String),
}

impl OutboundPolicy {
    /// The URL, parsed, if Tidings may send to it; its name (if not an address) is checked
    /// again at connect time.
    pub fn check_url(&self, text: &str) -> Result<Url, Refusal> {
        let url = Url::parse(text.trim()).map_err(|e| Refusal::Malformed(e.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" if self.allow_loopback => {}
            _ => return Err(Refusal::NotHttps),
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refusal::Credentials);
        }
        match url.host() {
            None => return Err(Refusal::NoHost),
            Some(Host::Ipv4(ip)) => self.check_ip(IpAddr::V4(ip))?,
            Some(Host::Ipv6(ip)) => self.check_ip(IpAddr::V6(ip))?,
            Some(Host::Domain(name)) => self.check_name(name)?,
        }
        Ok(url)
    }

    /// Refuses an address on the refused list (loopback only when tests allow it).
    pub fn check_ip(&self, ip: IpAddr) -> Result<(), Refusal> {
        match refused_range(ip) {
            Some("loopback") if self.allow_loopback => Ok(()),
            Some(range) => Err(Refusal::Blocked { address: ip, range }),
            None => Ok(()),
        }
    }

    /// Names that are internal whatever DNS says.
    fn check_name(&self, name: &str) -> Result<(), Refusal> {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        let internal = name == "localhost"
            || name.ends_with(".localhost")
            || name.ends_with(".internal")
            || name.ends_with(".local")
            || name == "metadata"
            || !name.contains('.');
        if internal && !(self.allow_loopback && (name == "localhost" || name.ends_with(".localhost"))) {
            return Err(Refusal::Blocked { address: IpAddr::V4(Ipv4Addr::UNSPECIFIED), range: "internal name" });
        }
        Ok(())
    }
}

/// The refused range `ip` is in, if any.
pub fn refused_range(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    let range = match (a, b, c) {
        (0, _, _) => "this-network",
        (127, _, _) => "loopback",
        (10, _, _) | (192, 168, _) => "private",
        (172, 16..=31, _) => "private",
        (169, 254, _) => "link-local (cloud metadata)",
        (100, 64..=127, _) => "carrier-grade NAT",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (192, 88, 99) => "6to4 relay",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved",
        _ => return None,
    };
    Some(range)
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address: the address inside decides.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return refused_v4(v4);
    }
    let embedded = |hi: u16, lo: u16| Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8);
    if s[0..6] == [0, 0, 0, 0, 0, 0] {
        // IPv4-compatible (deprecated): ::a.b.c.d
        return refused_v4(embedded(s[6], s[7])).or(Some("IPv4-compatible"));
    }
    if s[0..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return refused_v4(embedded(s[6], s[7]));
    }
    if s[0..3] == [0x64, 0xff9b, 1] {
        return Some("local-use NAT64");
    }
    if s[0] == 0x2002 {
        return refused_v4(embedded(s[1], s[2])).or(Some("6to4"));
    }
    let range = match s[0] {
        0xfe80..=0xfebf => "link-local",
        0xfec0..=0xfeff => "site-local",
        0xfc00..=0xfdff => "unique local (private)",
        0xff00..=0xffff => "multicast",
        0x2001 if s[1] == 0 => "Teredo",
        0x2001 if s[1] == 0x0db8 => "documentation",
        0x2001 if s[1] < 0x0200 => "IETF protocol assignment",
        0x0100 if s[1..4] == [0, 0, 0] => "discard",
        0x3fff if s[1] < 0x1000 => "documentation",
        _ => return None,
    };
    Some(range)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every form below must be refused in production; `localhost` and loopback forms only
    /// get through the test setting.
    const REFUSED: &[&str] = &[
        "http://127.0.0.1/",
        "https://127.0.0.1/",
        "https://127.1/",
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "https://0.0.0.0/",
        "https://0/",
        "https://localhost/",
        "https://LOCALHOST./",
        "https://api.localhost/",
        "https://10.0.0.1/",
        "https://172.16.5.4/",
        "https://172.31.255.255/",
        "https://192.168.1.1/",
        "https://169.254.169.254/latest/meta-data/",
        "https://100.64.0.1/",
        "https://100.100.100.200/",
        "https://100.127.255.254/",
        "https://192.0.0.170/",
        "https://192.0.2.1/",
        "https://198.18.0.1/",
        "https://203.0.113.9/",
        "https://224.0.0.1/",
        "https://239.255.255.250/",
        "https://255.255.255.255/",
        "https://[::1]/",
        "https://[::]/",
        "https://[0:0:0:0:0:0:0:1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::ffff:7f00:1]/",
        "https://[::ffff:169.254.169.254]/",
        "https://[::ffff:10.0.0.1]/",
        "https://[::127.0.0.1]/",
        "https://[64:ff9b::169.254.169.254]/",
        "https://[64:ff9b::a9fe:a9fe]/",
        "https://[2002:7f00:1::]/",
        "https://[2002:a9fe:a9fe::1]/",
        "https://[2001::1]/",
        "https://[2001:db8::1]/",
        "https://[fe80::1]/",
        "https://[fd00:ec2::254]/",
        "https://[fc00::1]/",
        "https://[ff02::1]/",
        "https://[fec0::1]/",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://metadata/",
        "https://printer.local/",
        "https://intranet/",
        "https://user:secret@hooks.example.com/",
        "https://token@hooks.example.com/",
        "http://hooks.example.com/",
        "ftp://hooks.example.com/",
        "file:///etc/passwd",
        "gopher://hooks.example.com/",
        "javascript:alert(1)",
        "not a url",
        "https://",
    ];

    #[test]
    fn every_internal_address_and_url_form_is_refused() {
        let production = OutboundPolicy::default();
        let through: Vec<&&str> = REFUSED.iter().filter(|u| production.check_url(u).is_ok()).collect();
        assert!(through.is_empty(), "got through: {through:?}");
        assert!(REFUSED.len() >= 30);
    }

    #[test]
    fn public_addresses_and_names_are_allowed() {
        let production = OutboundPolicy::default();
        for url in [
            "https://hooks.slack.com/services/T0/B0/x",
            "https://prod-00.westus.logic.azure.com:443/workflows/abc",
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "https://8.8.8.8/",
            "https://[2606:4700:4700::1111]/",
            "https://[::ffff:8.8.8.8]/",
            "https://100.128.0.1/",
            "https://172.32.0.1/",
        ] {
            assert!(production.check_url(url).is_ok(), "{url}: {:?}", production.check_url(url));
        }
    }

    #[test]
    fn the_test_setting_lets_loopback_through_and_nothing_else() {
        let tests = OutboundPolicy { allow_loopback: true };
        for url in ["http://127.0.0.1:8080/hook", "http://[::1]:9/", "http://localhost:3000/"] {
            assert!(tests.check_url(url).is_ok(), "{url}");
        }
        for url in ["http://10.0.0.1/", "http://169.254.169.254/", "http://100.64.0.1/", "http://[fd00::1]/"] {
            assert!(tests.check_url(url).is_err(), "{url}");
        }
    }

    #[test]
    fn a_refusal_names_the_range() {
        let err = OutboundPolicy::default().check_url("https://100.64.1.2/x").err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref().unwrap_or_default(),
            "points at 100.64.1.2, a carrier-grade NAT address, which Tidings does not send to"
        );
    }
}
