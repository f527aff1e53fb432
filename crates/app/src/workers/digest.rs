//! The digest lane: a member's nice-to-know messages held for their digest (email
//! deliveries of purpose `digest`) go out together, one email per member when their
//! digest is due. What the member read in the portal meanwhile is left out (its item is
//! suppressed with that reason), and nothing is sent when they read it all. Every item of
//! the email shares its outcome, so reports count each message's digest sends as email.

use std::collections::{BTreeMap, HashMap, HashSet};

use futures_util::StreamExt;
use tidings_channels::{OutgoingEmail, PartBody, Payload};
use tidings_core::consent::{self, Channel, TopicRef};
use tidings_core::deliveries::Outcome;
use tidings_core::messages::{self, Message, Personalization};
use tidings_core::{Member, MemberId, MessageId, Partner, PartnerId, Timestamp, Topic, TopicId};
use tidings_store::deliveries::{self, Claimed};
use tidings_store::{messages as message_store, topics};

use super::deliver::{Attempted, People, WorkerConfig, keep_leased, people, record, unique};
use crate::i18n::Tr;
use crate::signing::TokenUse;
use crate::{App, AppError};

/// Claims due digests, sends one email per member, records every item's outcome.
pub(super) async fn work_digests(app: &App, config: &WorkerConfig) -> Result<usize, AppError> {
    let now = app.clock.now();
    let lease_until = Timestamp::from_millis(now.as_millis() + config.lease.as_millis() as i64);
    let mut tx = app.db.begin().await?;
    let claimed = deliveries::claim_digests(&mut tx, now, lease_until, config.batch).await?;
    tx.commit().await?;
    if claimed.is_empty() {
        return Ok(0);
    }
    let batch = load(app, &claimed).await?;
    let mut by_member: BTreeMap<MemberId, Vec<usize>> = BTreeMap::new();
    for (i, c) in claimed.iter().enumerate() {
        by_member.entry(c.member_id).or_default().push(i);
    }
    let (claimed_ref, batch_ref) = (&claimed, &batch);
    let sending = futures_util::stream::iter(by_member)
        .map(move |(member, items)| async move { send_one(app, member, &items, claimed_ref, batch_ref, now).await })
        .buffer_unordered(config.concurrency.max(1))
        .collect::<Vec<Vec<(usize, Attempted)>>>();
    let results: Vec<(usize, Attempted)> =
        keep_leased(app, config, &claimed, sending).await.into_iter().flatten().collect();
    record(app, &claimed, results).await?;
    Ok(claimed.len())
}

/// What a round of digests reads, once.
struct Batch {
    messages: HashMap<MessageId, Message>,
    topics: HashMap<TopicId, Topic>,
    members: HashMap<MemberId, Member>,
    partners: HashMap<PartnerId, Partner>,
    prefs: HashMap<MemberId, consent::Preferences>,
    read: HashSet<(MessageId, MemberId)>,
}

async fn load(app: &App, claimed: &[Claimed]) -> Result<Batch, AppError> {
    let mut tx = app.db.read().await?;
    let message_ids = unique(claimed.iter().map(|c| c.message_id));
    let messages: HashMap<MessageId, Message> =
        message_store::get_many(&mut tx, &message_ids).await?.into_iter().collect();
    let mut topics_read = HashMap::new();
    for m in messages.values() {
        if let std::collections::hash_map::Entry::Vacant(slot) = topics_read.entry(m.topic_id) {
            slot.insert(topics::get(&mut tx, m.topic_id).await?);
        }
    }
    let People { members, partners, prefs } = people(&mut tx, claimed).await?;
    let copies: Vec<(MessageId, MemberId)> = claimed.iter().map(|c| (c.message_id, c.member_id)).collect();
    let read = tidings_store::inbox::read_among(&mut tx, &copies).await?;
    Ok(Batch { messages, topics: topics_read, members, partners, prefs, read })
}

/// One item of a member's digest, as they read it.
struct Item {
    index: usize,
    title: String,
    summary: String,
    url: String,
}

/// Decides each of the member's items, and sends the email with those still to tell.
async fn send_one(
    app: &App,
    member_id: MemberId,
    items: &[usize],
    claimed: &[Claimed],
    batch: &Batch,
    now: Timestamp,
) -> Vec<(usize, Attempted)> {
    let refuse_all = |why: &str| items.iter().map(|i| (*i, Attempted::Refused(why.to_owned()))).collect();
    let Some(member) = batch.members.get(&member_id) else { return refuse_all("the member no longer exists") };
    let Some(partner) = batch.partners.get(&member.profile.partner_id) else {
        return refuse_all("the member's partner no longer exists");
    };
    let prefs = batch.prefs.get(&member_id).cloned().unwrap_or_default();
    let mut out = Vec::with_capacity(items.len());
    let mut told = Vec::new();
    for &i in items {
        let c = &claimed[i];
        let Some(message) = batch.messages.get(&c.message_id) else {
            out.push((i, Attempted::Refused("the message no longer exists".into())));
            continue;
        };
        let Some(topic) = batch.topics.get(&message.topic_id) else {
            out.push((i, Attempted::Refused("the message's topic no longer exists".into())));
            continue;
        };
        if batch.read.contains(&(c.message_id, member_id)) {
            let why = "the member read it in the portal before the digest went out".to_owned();
            out.push((i, Attempted::Channel(Outcome::Suppressed(why))));
            continue;
        }
        if message.expires_at.is_some_and(|e| e <= now) {
            out.push((i, Attempted::Channel(Outcome::Suppressed("the message expired before the digest".into()))));
            continue;
        }
        let decision = consent::may_reach(
            &member.profile,
            &prefs,
            TopicRef { key: &topic.key, policies: &topic.policies },
            Channel::Email,
        );
        if !decision.allowed {
            out.push((i, Attempted::Channel(Outcome::Suppressed(decision.reason))));
            continue;
        }
        let who = Personalization::of(&member.profile, &partner.profile).for_message(message);
        match messages::headline(&message.content, &member.profile.locale, &who) {
            Ok((_, title, summary)) => {
                let target = format!("{}/portal/messages/{}", app.public_url, message.id);
                let url = format!("{}/t/c/{}", app.public_url, app.signer.click_token(message.id, member.id, &target));
                told.push(Item { index: i, title, summary, url });
            }
            Err(e) => out.push((i, Attempted::Refused(format!("the message does not render: {e}")))),
        }
    }
    if told.is_empty() {
        return out;
    }
    let email = compose(app, member, &told, claimed);
    let outcome = app.channels.send(Channel::Email, Payload::Email(email)).await;
    out.extend(told.iter().map(|item| (item.index, Attempted::Channel(outcome.clone()))));
    out
}

/// The digest email: each unread message's title and summary, linked to the portal.
fn compose(app: &App, member: &Member, told: &[Item], claimed: &[Claimed]) -> OutgoingEmail {
    let tr = Tr::for_locale(member.profile.locale.as_str());
    let count = told.len().to_string();
    let subject = tr.text_with("email-digest-subject", "count", &count);
    let intro = tr.text_with("email-digest-intro", "count", &count);
    let change = tr.text("email-digest-change");
    let preferences = format!("{}/portal/preferences", app.public_url);
    let mut text = format!("{intro}\n\n");
    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\"><p>{intro}</p><ul>",
        lang = tr.code(),
        intro = ammonia::clean_text(&intro)
    );
    for item in told {
        text.push_str(&format!("* {}\n  {}\n  {}\n\n", item.title, item.summary, item.url));
        html.push_str(&format!(
            "<li><p><a href=\"{url}\"><strong>{title}</strong></a><br>{summary}</p></li>",
            url = ammonia::clean_text(&item.url),
            title = ammonia::clean_text(&item.title),
            summary = ammonia::clean_text(&item.summary),
        ));
    }
    text.push_str(&format!("{change} {preferences}\n"));
    html.push_str(&format!(
        "</ul><p style=\"color:#555\">{change} <a href=\"{preferences}\">{preferences}</a></p></body></html>",
        change = ammonia::clean_text(&change),
    ));
    // The first item's key names the email: its Message-ID is stable across attempts, and
    // a bounce report finds the member through it.
    let first = &claimed[told[0].index];
    let mail = app.channels.mail();
    let unsubscribe = format!(
        "{}/u/{}",
        app.public_url,
        app.signer.recipient_token(TokenUse::Unsubscribe, first.message_id, member.id)
    );
    OutgoingEmail {
        from: mail.from.clone(),
        return_path: mail.return_path.clone(),
        to_name: member.profile.name.clone(),
        to: member.profile.email.to_string(),
        subject,
        text: PartBody::Text(text),
        html: PartBody::Text(html),
        message_id: mail.message_id(first.message_id, member.id, first.purpose),
        unsubscribe_url: Some(unsubscribe),
    }
}
