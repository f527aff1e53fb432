//! The acknowledgment benchmark's load generator (`bench/acknowledge.sh`): each request
//! acknowledges a message as a different member, so no answer is a cheap repeat. oha and
//! wrk send one body and one header to every request; this sends the member's own token.
//!
//! It signs a widget token for each email it reads (as a vendor's server would), then
//! sends `POST /widget/v1/inbox/{id}/acknowledge` at a fixed rate for the whole duration,
//! open loop (see `load`). It prints one JSON summary.
//!
//!   ack_load BASE_URL MESSAGE_ID CONTENT_HASH WIDGET_SECRET EMAILS_FILE RATE SECONDS

#[path = "load/mod.rs"]
mod load;

use anyhow::{Context, bail};
use tidings_app::widget::{WidgetClaims, sign};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, message, hash, secret, emails, rate, seconds] = args.as_slice() else {
        bail!("usage: ack_load BASE_URL MESSAGE_ID CONTENT_HASH WIDGET_SECRET EMAILS_FILE RATE SECONDS");
    };
    let rate: u64 = rate.parse().context("RATE")?;
    let seconds: u64 = seconds.parse().context("SECONDS")?;
    let wanted = usize::try_from(rate * seconds)?;
    let exp = i64::try_from(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_secs())? + 86_400;
    let url = format!("{base}/widget/v1/inbox/{message}/acknowledge");
    let body = serde_json::json!({ "content_hash": hash }).to_string();
    let requests: Vec<load::Request> = std::fs::read_to_string(emails)
        .context("EMAILS_FILE")?
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(wanted)
        .map(|email| load::Request {
            url: url.clone(),
            token: sign(secret, &WidgetClaims { email: Some(email.trim().to_owned()), exp, ..Default::default() }),
            body: body.clone(),
        })
        .collect();
    if requests.len() < wanted {
        bail!("{} emails for {wanted} requests: each request needs a member of its own", requests.len());
    }
    println!("{}", load::run(requests, rate)?);
    Ok(())
}
