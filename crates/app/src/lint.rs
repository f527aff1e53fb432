//! Checks a message before it goes and warns about what usually goes wrong: no next step,
//! a must-know message nobody is asked to acknowledge, links that are unsafe or will not
//! work for partners, personalization fields some recipients do not have, an empty
//! audience, a channel that reaches few of the audience, and an audience that has already
//! had many messages this week. Warnings do not
//! block a release; the author decides.

use serde::Serialize;
use tidings_core::messages::{self, Importance, Message, Personalization};
use tidings_core::{Action, MemberId, MessageId, Timestamp};
use tidings_store::{audiences as store_audiences, members, messages as store, partners};

use crate::audiences::build;
use crate::error::not_found;
use crate::{App, AppError, Caller};

/// Members whose personalization is tried: enough to catch a field most lack.
const PERSONALIZATION_SAMPLE: usize = 25;
/// Members whose last week is counted for the noise check.
const NOISE_SAMPLE: usize = 500;
/// Messages a week, on average, from which an audience is warned about as busy.
pub const BUSY_WEEK: f64 = 3.0;
const WEEK_MS: i64 = 7 * 86_400_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Warning {
    /// `no_next_step`, `critical_without_acknowledgment`, `unsafe_link`, `broken_link`,
    /// `unknown_field`, `empty_audience`, `channel_reach` or `busy_audience`.
    pub code: &'static str,
    pub message: String,
}

fn warn(code: &'static str, message: impl Into<String>) -> Warning {
    Warning { code, message: message.into() }
}

pub async fn lint(app: &App, caller: &Caller, id: MessageId) -> Result<Vec<Warning>, AppError> {
    caller.require(Action::ReadDirectory, "check messages")?;
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    let mut warnings = content_warnings(&message);
    let rule = match build(app, &mut tx, &message.audience).await {
        Ok(audience) => audience.to_rule(),
        Err(AppError::Invalid(errors)) => {
            warnings.push(warn("empty_audience", format!("the audience does not build: {errors}")));
            return Ok(warnings);
        }
        Err(e) => return Err(e),
    };
    let now = app.clock.now();
    let sample = store_audiences::member_ids(&mut tx, &rule, now, None, NOISE_SAMPLE).await?;
    if sample.is_empty() {
        warnings.push(warn("empty_audience", "the audience is empty: no member matches it"));
        return Ok(warnings);
    }
    let mut unknown = 0;
    let mut first_error = None;
    for member_id in sample.iter().take(PERSONALIZATION_SAMPLE) {
        let member = members::get(&mut tx, *member_id).await?;
        let partner = partners::get(&mut tx, member.profile.partner_id).await?;
        let who = Personalization::of(&member.profile, &partner.profile).for_message(&message);
        let errors = messages::check(&message.content, &who);
        if let Some(e) = errors.into_iter().next() {
            unknown += 1;
            first_error.get_or_insert_with(|| format!("{}: {}", e.field, e.message));
        }
    }
    if let Some(error) = first_error {
        let tried = sample.len().min(PERSONALIZATION_SAMPLE);
        warnings.push(warn(
            "unknown_field",
            format!("personalization fails for {unknown} of {tried} recipients tried: {error}"),
        ));
    }
    warnings.extend(channel_reach(app, &mut tx, &message, &rule, now).await?);
    let received = recent_messages(&mut tx, &sample, Timestamp::from_millis(now.as_millis() - WEEK_MS)).await?;
    let average = received as f64 / sample.len() as f64;
    if average >= BUSY_WEEK {
        warnings.push(warn(
            "busy_audience",
            format!(
                "this audience has had {average:.1} messages each in the last 7 days; consider a digest or waiting"
            ),
        ));
    }
    Ok(warnings)
}

/// A message that names a channel but reaches nobody, or few (fewer than half), of its
/// audience by it: "email reaches 0 of 21".
async fn channel_reach(
    app: &App,
    tx: &mut tidings_store::Tx,
    message: &Message,
    rule: &tidings_core::audiences::Rule,
    now: Timestamp,
) -> Result<Vec<Warning>, AppError> {
    let reach = crate::reach::of_message(app, tx, message, rule, now).await?;
    Ok(reach
        .channels
        .into_iter()
        .filter(|c| c.out_of > 0 && c.reached * 2 < c.out_of)
        .map(|c| {
            let whom = if c.unit == "members" { "who take this topic" } else { "partners reached" };
            let why = c.why_not.unwrap_or_default();
            warn("channel_reach", format!("{} reaches {} of {} {whom}: {why}", c.channel, c.reached, c.out_of))
        })
        .collect())
}

async fn recent_messages(tx: &mut tidings_store::Tx, members: &[MemberId], since: Timestamp) -> Result<i64, AppError> {
    Ok(tidings_store::inbox::received_since(tx, members, since).await?)
}

/// The warnings the message's own text and settings give.
pub fn content_warnings(message: &Message) -> Vec<Warning> {
    let mut warnings = Vec::new();
    let variants = &message.content.variants;
    let lacks_step = variants.iter().filter(|(_, v)| v.what_to_do.trim().is_empty() && v.call_to_action.is_none());
    let lacking: Vec<String> = lacks_step.map(|(locale, _)| locale.to_string()).collect();
    if !lacking.is_empty() {
        warnings.push(warn(
            "no_next_step",
            format!("no next step: say what to do or add a call to action ({})", lacking.join(", ")),
        ));
    }
    if message.importance == Importance::Critical && message.acknowledgment.is_none() {
        warnings.push(warn(
            "critical_without_acknowledgment",
            "a must-know message without an acknowledgment: nobody will be asked to confirm it, and there will be no evidence",
        ));
    }
    for (locale, v) in variants {
        let texts = [&v.summary, &v.what_changed, &v.why_it_matters, &v.what_to_do];
        let mut links: Vec<String> = texts.iter().flat_map(|t| links_in(t)).collect();
        links.extend(v.call_to_action.as_ref().map(|c| c.url.clone()));
        for link in links {
            if let Some(problem) = link_problem(&link) {
                let code = if problem.starts_with("unsafe") { "unsafe_link" } else { "broken_link" };
                warnings.push(warn(code, format!("{locale}: {link}: {problem}")));
            }
        }
    }
    warnings
}

/// The targets of Markdown links and the bare URLs in a text.
fn links_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for (i, _) in text.match_indices("](") {
        let rest = &text[i + 2..];
        if let Some(end) = rest.find(')') {
            found.push(rest[..end].trim().to_owned());
        }
    }
    for word in text.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '<' | '>' | '[' | ']')) {
        let lower = word.to_ascii_lowercase();
        if (lower.starts_with("http://") || lower.starts_with("https://")) && !found.iter().any(|f| f == word) {
            found.push(word.trim_end_matches(['.', ',', ';', ':']).to_owned());
        }
    }
    found
}

/// Why a link will hurt: unsafe (not https, or a script) or broken (not a URL partners can
/// reach).
fn link_problem(link: &str) -> Option<String> {
    let lower = link.to_ascii_lowercase();
    if lower.starts_with("javascript:") || lower.starts_with("data:") || lower.starts_with("vbscript:") {
        return Some("unsafe: a script link (it is removed when the message is shown)".into());
    }
    if lower.starts_with("mailto:") || lower.starts_with("tel:") {
        return None;
    }
    let url = match url::Url::parse(link) {
        Ok(url) => url,
        Err(e) => return Some(format!("not a working link: {e}")),
    };
    if url.scheme() == "http" {
        return Some("unsafe: not https, so it can be read or changed on the way".into());
    }
    if url.scheme() != "https" {
        return Some(format!("not a web link ({})", url.scheme()));
    }
    match url.host() {
        None => Some("not a working link: no host".into()),
        Some(url::Host::Domain(d)) if d == "localhost" || d.ends_with(".local") || d.ends_with(".internal") => {
            Some("partners cannot reach it: a local address".into())
        }
        Some(url::Host::Ipv4(ip)) if ip.is_private() || ip.is_loopback() || ip.is_link_local() => {
            Some("partners cannot reach it: a private address".into())
        }
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => Some("partners cannot reach it: a private address".into()),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn links_are_found_and_judged() {
        let text =
            "See [the list](https://vendor.example/lots) or http://old.vendor.example/x. Also https://10.0.0.8/a";
        let links = links_in(text);
        assert_eq!(links, ["https://vendor.example/lots", "http://old.vendor.example/x", "https://10.0.0.8/a"]);
        assert_eq!(link_problem(&links[0]), None);
        assert!(link_problem(&links[1]).unwrap().starts_with("unsafe"));
        assert!(link_problem(&links[2]).unwrap().contains("private"));
        assert!(link_problem("javascript:alert(1)").unwrap().starts_with("unsafe"));
        assert!(link_problem("not a url").unwrap().starts_with("not a working link"));
        assert_eq!(link_problem("mailto:help@vendor.example"), None);
    }
}
