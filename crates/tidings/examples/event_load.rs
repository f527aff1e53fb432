//! The event intake benchmark's load generator (`bench/events.sh`): `deal.registered`
//! events, each with a key of its own and named by a member's email (so each is looked
//! up), posted one per request to `POST /api/v1/events` or BATCH per request to
//! `POST /api/v1/events/batch`, at a fixed rate of requests, open loop (see `load`). It
//! prints one JSON summary; with BATCH, events per second are BATCH times `per_second`.
//!
//!   event_load BASE_URL ADMIN_TOKEN EMAILS_FILE RUN_LABEL RATE SECONDS [BATCH]

#[path = "load/mod.rs"]
mod load;

use anyhow::{Context, bail};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (base, token, emails, label, rate, seconds, batch) = match args.as_slice() {
        [b, t, e, l, r, s] => (b, t, e, l, r, s, None),
        [b, t, e, l, r, s, n] => (b, t, e, l, r, s, Some(n.parse::<usize>().context("BATCH")?)),
        _ => bail!("usage: event_load BASE_URL ADMIN_TOKEN EMAILS_FILE RUN_LABEL RATE SECONDS [BATCH]"),
    };
    let rate: u64 = rate.parse().context("RATE")?;
    let seconds: u64 = seconds.parse().context("SECONDS")?;
    let emails: Vec<String> = std::fs::read_to_string(emails)
        .context("EMAILS_FILE")?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    if emails.is_empty() {
        bail!("no emails in EMAILS_FILE");
    }
    let per_request = batch.unwrap_or(1);
    let event = |n: usize| {
        serde_json::json!({
            "idempotency_key": format!("{label}-{n}"),
            "type": "deal.registered",
            "member": emails[n % emails.len()],
            "data": {"deal_id": format!("D-{n}"), "deal_name": "X-200 units", "amount": 48_000, "currency": "EUR"}
        })
    };
    let requests = (0..usize::try_from(rate * seconds)?)
        .map(|i| {
            let (url, body) = match batch {
                None => (format!("{base}/api/v1/events"), event(i)),
                Some(_) => {
                    let events: Vec<_> = (i * per_request..(i + 1) * per_request).map(event).collect();
                    (format!("{base}/api/v1/events/batch"), serde_json::json!({ "events": events }))
                }
            };
            load::Request { url, token: token.clone(), body: body.to_string() }
        })
        .collect();
    println!("{}", load::run(requests, rate)?);
    Ok(())
}
