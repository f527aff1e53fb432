//! Sends the escalation ladders' notices to the vendor's partner managers: an email naming
//! the partners they manage that still owe an acknowledgment of the message, as things
//! stand when it goes (none left: the notice is withdrawn), with a link to the overdue
//! queue.

use tidings_channels::{PartBody, Payload};
use tidings_core::Timestamp;
use tidings_core::consent::Channel;
use tidings_core::deliveries::Outcome;
use tidings_store::staff_notices::{self as store, Notice};

use crate::html::escape;
use crate::{App, AppError};

/// Notices sent per run.
const PER_RUN: i64 = 50;
/// How long a claimed notice is left to its worker.
const LEASE_MS: i64 = 5 * 60_000;
/// A notice that cannot go yet is tried again after this long, so many times.
const RETRY_MS: i64 = 15 * 60_000;
const MOST_ATTEMPTS: i64 = 8;

/// Sends the notices that are due.
pub async fn send_due(app: &App) -> Result<(), AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let notices = store::claim(&mut tx, now, Timestamp::from_millis(now.as_millis() + LEASE_MS), PER_RUN).await?;
    tx.commit().await?;
    for n in notices {
        let (status, error, retry_at) = match send(app, &n, now).await {
            Ok(Outcome::Sent { .. }) => ("sent", None, None),
            Ok(Outcome::Suppressed(why)) => ("suppressed", Some(why), None),
            Ok(Outcome::Permanent(why)) => ("failed", Some(why), None),
            Ok(Outcome::Transient(why) | Outcome::RetryAfter { reason: why, .. }) if n.attempts < MOST_ATTEMPTS => {
                ("queued", Some(why), Some(Timestamp::from_millis(now.as_millis() + RETRY_MS)))
            }
            Ok(other) => ("failed", Some(format!("{other:?}")), None),
            Err(e) => ("failed", Some(e.to_string()), None),
        };
        let mut tx = app.db.begin().await?;
        store::settle(&mut tx, &n, status, error.as_deref(), retry_at, app.clock.now()).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Writes and sends one notice.
async fn send(app: &App, n: &Notice, now: Timestamp) -> Result<Outcome, AppError> {
    let mut tx = app.db.read().await?;
    let Some(staff) = tidings_store::staff::get(&mut tx, n.staff_id).await? else {
        return Ok(Outcome::Suppressed("the partner manager is no longer on the staff".into()));
    };
    let message = tidings_store::messages::get(&mut tx, n.message_id).await?;
    let Some(released_at) = tidings_store::messages::released_at(&mut tx, n.message_id).await? else {
        return Ok(Outcome::Suppressed("the message was not released".into()));
    };
    let owing = crate::overdue::owing_partners(&mut tx, &message, released_at, Some(n.staff_id), now).await?;
    drop(tx);
    if owing.is_empty() {
        return Ok(Outcome::Suppressed("every partner this person manages met its obligation first".into()));
    }
    if !app.channels.provides(Channel::Email) {
        return Ok(Outcome::Transient("no email provider is configured".into()));
    }
    let title = message.title();
    let due = owing.first().and_then(|o| o.due_at).map(|d| format!(" (due {})", d.to_rfc3339())).unwrap_or_default();
    let queue = format!("{}/admin/overdue", app.public_url);
    let intro =
        format!("{} of the partners you manage have not met their obligation on \"{title}\"{due}:", owing.len());
    let lines: Vec<String> = owing
        .iter()
        .map(|o| format!("{}: {}, {}", o.partner_name, o.state.as_str().replace('_', " "), o.reason))
        .collect();
    let text = format!("{intro}\n\n- {}\n\nThe overdue queue: {queue}\n", lines.join("\n- "));
    let items: String = lines.iter().map(|l| format!("<li>{}</li>", escape(l))).collect();
    let html = format!(
        "<!DOCTYPE html><html lang=\"en\"><body style=\"font-family:sans-serif\"><p>{}</p><ul>{items}</ul>\
         <p><a href=\"{}\">The overdue queue</a></p></body></html>",
        escape(&intro),
        escape(&queue)
    );
    let subject = format!("Partners you manage still owe: {title}");
    let email = app.channels.mail().one_off(
        &staff.name,
        staff.email.as_str(),
        subject,
        PartBody::Text(text),
        PartBody::Text(html),
    );
    Ok(app.channels.send(Channel::Email, Payload::Email(email)).await)
}
