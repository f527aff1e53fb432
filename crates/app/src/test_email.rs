//! A test email to staff: the message's email as a member of its audience would get it,
//! sent at once to a staff person's address, with nothing tracked or recorded but the
//! audit entry. For checking how it looks in a real mail reader before anyone gets it.

use serde::{Deserialize, Serialize};
use tidings_channels::Payload;
use tidings_channels::email::Layout;
use tidings_core::consent::Channel;
use tidings_core::deliveries::Outcome;
use tidings_core::messages::{self, Personalization};
use tidings_core::{Action, Email, MessageId};
use tidings_store::{members, messages as store, partners, staff, topics};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestEmailRequest {
    /// A staff person's email address; the signed-in person's own when absent (an API
    /// token has no address, so it must name one).
    pub to: Option<String>,
    /// The audience member to show it as (email or id); the audience's first when absent.
    pub member: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TestEmailSent {
    pub to: String,
    pub subject: String,
    /// The member whose view of the message it shows.
    pub shown_as: String,
}

pub async fn send(
    app: &App,
    caller: &Caller,
    id: MessageId,
    request: &TestEmailRequest,
) -> Result<TestEmailSent, AppError> {
    caller.require(Action::Compose, "send test emails")?;
    if !app.channels.provides(Channel::Email) {
        return Err(AppError::Conflict("no email provider is configured: set [smtp] to send test emails".into()));
    }
    let mut tx = app.db.read().await?;
    let message = store::get(&mut tx, id).await.map_err(not_found("message"))?;
    if !message.effective_channels().contains(&Channel::Email) {
        return Err(AppError::invalid(
            "channels",
            "this message is not sent by email: add email to its channels first",
        ));
    }
    let to = recipient(&mut tx, caller, request.to.as_deref()).await?;
    let member = match request.member.as_deref().map(str::trim).filter(|m| !m.is_empty()) {
        Some(member) => crate::audiences::find_member(&mut tx, member).await?,
        None => {
            let rule = crate::audiences::build(app, &mut tx, &message.audience).await?.to_rule();
            let first = tidings_store::audiences::member_ids(&mut tx, &rule, app.clock.now(), None, 1).await?;
            let first = first.first().ok_or_else(|| {
                AppError::Conflict("the audience is empty: there is no member to show the email as".into())
            })?;
            members::get(&mut tx, *first).await?
        }
    };
    let partner = partners::get(&mut tx, member.profile.partner_id).await?;
    let topic = topics::get(&mut tx, message.topic_id).await?;
    drop(tx);
    let who = Personalization::of(&member.profile, &partner.profile).for_message(&message);
    let rendered = messages::render(&message.content, &member.profile.locale, &who)
        .map_err(|e| AppError::invalid(&format!("content.{}", e.field), e.message))?;
    let layout = Layout::new(&message, rendered, &topic.name)
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("laying out the email: {e}")))?;
    let due = message.acknowledgment.as_ref().and_then(|a| a.due_at).map(|d| d.stated(&member.profile.time_zone));
    let values = layout.untracked(&member.profile.name, &partner.profile.name, &due.unwrap_or_default());
    let (text, html) = layout.fill(&values);
    let subject = format!("[Test] {}", layout.subject());
    let email = app.channels.mail().one_off("", to.as_str(), subject.clone(), text, html);
    match app.channels.send(Channel::Email, Payload::Email(email)).await {
        Outcome::Sent { .. } => {}
        other => return Err(AppError::Unexpected(anyhow::anyhow!("the test email was not sent: {other:?}"))),
    }
    let sent = TestEmailSent { to: to.to_string(), subject, shown_as: member.profile.email.to_string() };
    let mut tx = app.db.begin().await?;
    audit::entry(caller, "message.test_email", id.as_uuid()).after(&sent).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(sent)
}

/// Only staff addresses get test emails: compose rights are not a way to mail anyone.
async fn recipient(tx: &mut tidings_store::Tx, caller: &Caller, to: Option<&str>) -> Result<Email, AppError> {
    match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(to) => {
            let email = Email::parse(to).map_err(|e| AppError::invalid("to", e.to_string()))?;
            staff::find_by_email(tx, &email)
                .await?
                .map(|person| person.email)
                .ok_or_else(|| AppError::invalid("to", "is not a staff person's address: test emails go to staff only"))
        }
        None => {
            let id = caller.staff.ok_or_else(|| {
                AppError::invalid("to", "is required: an API token has no address, so name a staff person's")
            })?;
            Ok(staff::get(tx, id).await?.ok_or(AppError::Unauthorized)?.email)
        }
    }
}
