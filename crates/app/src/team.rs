//! The partner lead's view: for their own partner only, each must-know message that asks
//! for acknowledgment, who of their colleagues has not acknowledged it, and a reminder to
//! those colleagues (by email where each may be mailed; the message waits in everyone's
//! portal inbox and pop-up anyway). A partner is reminded of one message at most once a day.

use std::collections::HashMap;

use tidings_channels::{OutgoingEmail, PartBody, Payload};
use tidings_core::consent::{self, Channel, TopicRef};
use tidings_core::members::Role;
use tidings_core::messages::{self, Personalization};
use tidings_core::{Member, MemberId, MessageId, Timestamp};
use tidings_store::team::{self as team_store, PartnerCopy, Reminder};
use tidings_store::{Tx, members, partners, topics};

use crate::i18n::Tr;
use crate::{App, AppError};

/// Messages shown, newest first.
pub const MESSAGES_SHOWN: usize = 20;
/// The longest a partner must wait between two reminders of one message.
pub const REMIND_EVERY_MS: i64 = 24 * 3_600_000;
/// Copies read at most: enough for 20 messages to a partner of 2,500 people.
const ROWS_READ: i64 = 50_000;

#[derive(Debug, Clone)]
pub struct Colleague {
    pub id: MemberId,
    pub name: String,
    pub email: String,
}

#[derive(Debug, Clone)]
pub struct CriticalStatus {
    pub message_id: MessageId,
    pub title: String,
    pub released_at: Timestamp,
    pub due_at: Option<Timestamp>,
    /// The due date has passed and the partner's obligation is not met (for a message
    /// released before obligations were kept: someone has still not acknowledged).
    pub overdue: bool,
    /// What the partner owes, quota by quota, and where it stands.
    pub obligation: Option<tidings_core::obligations::ObligationStanding>,
    pub quotas: Vec<tidings_core::obligations::QuotaProgress>,
    pub total: usize,
    pub acknowledged: usize,
    pub pending: Vec<Colleague>,
    pub last_reminded_at: Option<Timestamp>,
    /// When the next reminder may go, if not now.
    pub next_reminder_at: Option<Timestamp>,
}

fn require_lead(member: &Member) -> Result<(), AppError> {
    if member.profile.roles.contains(Role::PartnerLead) {
        Ok(())
    } else {
        Err(AppError::Forbidden("see colleagues' acknowledgments (partner leads only)"))
    }
}

/// The lead's own partner's must-know messages and who has not acknowledged them.
pub async fn overview(app: &App, lead: &Member) -> Result<Vec<CriticalStatus>, AppError> {
    require_lead(lead)?;
    let partner_id = lead.profile.partner_id;
    let mut tx = app.db.read().await?;
    let copies = team_store::critical_copies_for_partner(&mut tx, partner_id, ROWS_READ).await?;
    let mut order: Vec<MessageId> = Vec::new();
    let mut by_message: HashMap<MessageId, Vec<PartnerCopy>> = HashMap::new();
    for copy in copies {
        if !by_message.contains_key(&copy.message_id) {
            if order.len() == MESSAGES_SHOWN {
                continue;
            }
            order.push(copy.message_id);
        }
        by_message.entry(copy.message_id).or_default().push(copy);
    }
    let pending_ids: Vec<MemberId> =
        by_message.values().flatten().filter(|c| c.acknowledged_at.is_none()).map(|c| c.member_id).collect();
    let people: HashMap<MemberId, Member> =
        members::get_many(&mut tx, &pending_ids).await?.into_iter().map(|m| (m.id, m)).collect();
    let partner = partners::get(&mut tx, partner_id).await?;
    let who = Personalization::of(&lead.profile, &partner.profile);
    let now = app.clock.now();
    let mut shown = Vec::with_capacity(order.len());
    for id in order {
        let copies = by_message.remove(&id).unwrap_or_default();
        let message = tidings_store::messages::get(&mut tx, id).await?;
        let who = who.with_event_of(&message);
        let title = messages::headline(&message.content, &lead.profile.locale, &who).map(|h| h.1).unwrap_or_default();
        let mut pending: Vec<Colleague> = copies
            .iter()
            .filter(|c| c.acknowledged_at.is_none())
            .filter_map(|c| people.get(&c.member_id))
            .map(|m| Colleague { id: m.id, name: m.profile.name.clone(), email: m.profile.email.to_string() })
            .collect();
        pending.sort_by_key(|c| c.name.to_lowercase());
        let released_at = copies.iter().map(|c| c.released_at).min().unwrap_or(now);
        let due_at = message.acknowledgment.as_ref().and_then(|a| a.due(released_at));
        let quotas = tidings_store::obligations::of_partner(&mut tx, id, partner_id).await?;
        let obligation =
            (!quotas.is_empty()).then(|| tidings_core::obligations::standing(&quotas, released_at, due_at, now));
        let owing = obligation.as_ref().map_or(!pending.is_empty(), |o| o.state.owes());
        let last_reminded_at = team_store::last_for_partner(&mut tx, id, partner_id).await?;
        let next_reminder_at = last_reminded_at
            .map(|at| Timestamp::from_millis(at.as_millis() + REMIND_EVERY_MS))
            .filter(|next| *next > now);
        shown.push(CriticalStatus {
            message_id: id,
            title,
            released_at,
            due_at,
            overdue: due_at.is_some_and(|due| tidings_core::obligations::past_due(due, now)) && owing,
            obligation,
            quotas,
            total: copies.len(),
            acknowledged: copies.len() - pending.len(),
            pending,
            last_reminded_at,
            next_reminder_at,
        });
    }
    Ok(shown)
}

/// Reminds the lead's colleagues who have not acknowledged the message; returns how many
/// are reminded by email. The emails go out after the answer.
pub async fn remind(app: &App, lead: &Member, id: MessageId) -> Result<usize, AppError> {
    let status =
        overview(app, lead).await?.into_iter().find(|s| s.message_id == id).ok_or(AppError::NotFound("message"))?;
    if status.pending.is_empty() {
        return Err(AppError::Conflict("everyone has acknowledged this message".into()));
    }
    if status.next_reminder_at.is_some() {
        return Err(AppError::Conflict("your colleagues were reminded of this message less than a day ago".into()));
    }
    let mut tx = app.db.begin().await?;
    let emails = reminder_emails(app, &mut tx, lead, &status).await?;
    let reminder = Reminder {
        message_id: id,
        partner_id: lead.profile.partner_id,
        reminded_by: lead.id,
        reminded_at: app.clock.now(),
        recipients: i64::try_from(status.pending.len()).unwrap_or(i64::MAX),
    };
    team_store::record(&mut tx, &reminder).await?;
    tx.commit().await?;
    let count = emails.len();
    if app.channels.provides(Channel::Email) {
        let channels = app.channels.clone();
        tokio::spawn(async move {
            for email in emails {
                let to = email.to.clone();
                let sent = channels.send(Channel::Email, Payload::Email(email)).await;
                if !matches!(sent, tidings_core::deliveries::Outcome::Sent { .. }) {
                    tracing::warn!(%to, "a reminder email was not sent");
                }
            }
        });
    }
    Ok(count)
}

/// One email per pending colleague who may be mailed on the message's topic.
async fn reminder_emails(
    app: &App,
    tx: &mut Tx,
    lead: &Member,
    status: &CriticalStatus,
) -> Result<Vec<OutgoingEmail>, AppError> {
    let message = tidings_store::messages::get(tx, status.message_id).await?;
    let topic = topics::get(tx, message.topic_id).await?;
    let ids: Vec<MemberId> = status.pending.iter().map(|c| c.id).collect();
    let colleagues = members::get_many(tx, &ids).await?;
    let prefs = tidings_store::consent::preferences_many(tx, &ids).await?;
    let partner = partners::get(tx, lead.profile.partner_id).await?;
    let url = format!("{}/portal/messages/{}", app.public_url, status.message_id);
    let topic_ref = TopicRef { key: &topic.key, policies: &topic.policies };
    Ok(colleagues
        .iter()
        .filter(|m| {
            prefs.get(&m.id).is_some_and(|p| consent::may_reach(&m.profile, p, topic_ref, Channel::Email).allowed)
        })
        .map(|m| {
            let tr = Tr::for_locale(m.profile.locale.as_str());
            // The title as this colleague reads it: their language, their name.
            let who = Personalization::of(&m.profile, &partner.profile).for_message(&message);
            let title = messages::headline(&message.content, &m.profile.locale, &who)
                .map(|h| h.1)
                .unwrap_or_else(|_| status.title.clone());
            let intro = tr.text_with("email-reminder-intro", "lead", &lead.profile.name);
            let text = format!("{intro}\n{title}\n\n{url}\n");
            let html = format!(
                "<!DOCTYPE html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\"><p>{intro}</p>\
                 <p><a href=\"{url}\">{title}</a></p></body></html>",
                lang = tr.code(),
                intro = ammonia::clean_text(&intro),
                title = ammonia::clean_text(&title),
            );
            app.channels.mail().one_off(
                &m.profile.name,
                m.profile.email.as_str(),
                tr.text_with("email-reminder-subject", "title", &title),
                PartBody::Text(text),
                PartBody::Text(html),
            )
        })
        .collect())
}
