//! Opens and clicks that no person made. Mail privacy proxies fetch every image when a
//! message arrives (Apple Mail Privacy Protection, Gmail's image proxy), and corporate
//! security gateways follow every link before the recipient sees the email. Counting them
//! as engagement would make every message look read. The rule, applied when the event
//! arrives and documented in docs/analytics.md:
//!
//! An **open** is a machine's when
//! 1. its user agent names a proxy or prefetcher (`GoogleImageProxy`, `YahooMailProxy`,
//!    `Outlook-iOS`... prefetch, or a generic bot or HTTP library), or
//! 2. it comes from Apple's privacy proxy network (17.0.0.0/8), or
//! 3. it comes within [`SOON_MS`] of the email being sent: no person opens that fast.
//!
//! A **click** is a scanner's when
//! 1. its user agent names a scanner, a bot, a headless browser or an HTTP library, or
//! 2. it comes within [`SOON_MS`] of the email being sent.
//!
//! Anything else counts as a person's.

use std::net::IpAddr;

/// Sooner than this after sending, an open or a click is a machine's.
pub const SOON_MS: i64 = 10_000;

/// User agent fragments (lowercase) of image proxies and prefetchers.
const OPEN_AGENTS: &[&str] = &["googleimageproxy", "yahoomailproxy", "ymailproxy", "feedfetcher", "prefetch"];

/// User agent fragments (lowercase) of link scanners, bots and HTTP libraries.
const SCANNER_AGENTS: &[&str] = &[
    "bot",
    "crawler",
    "spider",
    "scanner",
    "headlesschrome",
    "python-requests",
    "python-urllib",
    "curl/",
    "wget/",
    "go-http-client",
    "java/",
    "okhttp",
    "libwww",
    "barracuda",
    "proofpoint",
    "mimecast",
    "urldefense",
    "safelinks",
    "trendmicro",
    "symantec",
    "forcepoint",
];

/// Why an event is a machine's, or `None` for a person's.
pub fn machine_open(user_agent: Option<&str>, ip: Option<&str>, since_sent_ms: Option<i64>) -> Option<&'static str> {
    let agent = user_agent.unwrap_or_default().to_ascii_lowercase();
    if OPEN_AGENTS.iter().chain(SCANNER_AGENTS).any(|f| agent.contains(f)) {
        return Some("a proxy or prefetcher's user agent");
    }
    if ip
        .and_then(|ip| ip.parse::<IpAddr>().ok())
        .is_some_and(|ip| matches!(ip, IpAddr::V4(v4) if v4.octets()[0] == 17))
    {
        return Some("Apple's privacy proxy network");
    }
    soon(since_sent_ms)
}

pub fn scanner_click(user_agent: Option<&str>, since_sent_ms: Option<i64>) -> Option<&'static str> {
    let agent = user_agent.unwrap_or_default().to_ascii_lowercase();
    if agent.is_empty() || SCANNER_AGENTS.iter().any(|f| agent.contains(f)) {
        return Some("a scanner's, bot's or library's user agent");
    }
    soon(since_sent_ms)
}

fn soon(since_sent_ms: Option<i64>) -> Option<&'static str> {
    since_sent_ms.filter(|ms| (0..SOON_MS).contains(ms)).map(|_| "within seconds of sending")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";

    #[test]
    fn people_are_people() {
        assert_eq!(machine_open(Some(PHONE), Some("192.0.2.8"), Some(3_600_000)), None);
        assert_eq!(scanner_click(Some(PHONE), Some(60_000)), None);
        assert_eq!(machine_open(Some(PHONE), None, None), None, "no sending time known");
    }

    #[test]
    fn machines_are_told_apart() {
        let gmail = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)";
        assert!(machine_open(Some(gmail), Some("66.249.84.1"), Some(3_600_000)).is_some());
        assert!(machine_open(Some(PHONE), Some("17.58.1.2"), Some(3_600_000)).is_some(), "Apple's proxy");
        assert!(machine_open(Some(PHONE), Some("192.0.2.8"), Some(2_000)).is_some(), "too soon");
        assert!(scanner_click(Some("python-requests/2.31"), Some(3_600_000)).is_some());
        assert!(scanner_click(None, Some(3_600_000)).is_some(), "no user agent at all");
        assert!(scanner_click(Some(PHONE), Some(1_500)).is_some(), "too soon");
    }
}
