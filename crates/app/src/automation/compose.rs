//! What triggers and sequences share: reading the partner and member a message is about,
//! asking a rule about them (and an event's data), addressing the message to exactly the
//! people named, and making it, scheduled, checked that its template fills.

use tidings_core::audiences::{AudienceDraft, Rule, Subject, parse_condition};
use tidings_core::automation::Recipients;
use tidings_core::consent::Channel;
use tidings_core::messages::{self, Content, Importance, Message, MessageState, Personalization, TriggeredBy};
use tidings_core::{
    Attributes, Email, Locale, Member, MemberId, MemberProfile, MemberStatus, MessageId, Partner, PartnerId, Role,
    Roles, TimeZone, Timestamp, TopicId,
};
use tidings_store::{Tx, members, partners};

use crate::{App, AppError};

/// The partner and (when there is one) the member an automated message is about.
pub(crate) struct About {
    pub partner: Partner,
    pub member: Option<Member>,
}

impl About {
    /// Reads them; a member erased since is absent.
    pub async fn read(tx: &mut Tx, partner: PartnerId, member: Option<MemberId>) -> Result<Self, AppError> {
        let partner = partners::get(tx, partner).await?;
        let member = match member {
            Some(id) => match members::get(tx, id).await {
                Ok(m) => Some(m),
                Err(tidings_store::Error::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        Ok(Self { partner, member })
    }

    /// Whether `condition` holds for them (and the event's data); `Err` with the reason
    /// when it no longer reads. A condition that reads member fields does not hold without
    /// a member.
    pub fn holds(
        &self,
        app: &App,
        condition: &str,
        event: Option<&Attributes>,
        now: Timestamp,
    ) -> Result<bool, String> {
        let rule = condition_rule(app, condition)?;
        Ok(holds(&rule, &self.partner, self.member.as_ref(), event, now))
    }

    /// Exactly the people `recipients` names; `None` for the member when there is none, and
    /// for the partner manager, who is staff (a task, not a message).
    pub fn audience(&self, recipients: Recipients, roles: &[Role]) -> Option<AudienceDraft> {
        let in_partner = |more: &str| {
            let mut rule = format!("partner.id = \"{}\"", self.partner.id);
            if !more.is_empty() {
                rule = format!("{rule} and {more}");
            }
            AudienceDraft { rule: Some(rule), ..Default::default() }
        };
        Some(match recipients {
            Recipients::Member => AudienceDraft { members: vec![self.member.as_ref()?.id], ..Default::default() },
            Recipients::PartnerLeads => in_partner("member.role = \"partner_lead\""),
            Recipients::PartnerMembers if roles.is_empty() => in_partner(""),
            Recipients::PartnerMembers => {
                let roles: Vec<String> = roles.iter().map(|r| format!("\"{}\"", r.as_str())).collect();
                in_partner(&format!("member.role in ({})", roles.join(", ")))
            }
            Recipients::PartnerManager => return None,
        })
    }

    pub fn reader(&self) -> Personalization {
        match &self.member {
            Some(m) => Personalization::of(&m.profile, &self.partner.profile),
            None => Personalization::of_partner(&self.partner.profile),
        }
    }
}

/// A saved condition, parsed; `Err` with the reason when it no longer reads.
pub(crate) fn condition_rule(app: &App, condition: &str) -> Result<Rule, String> {
    parse_condition(condition, &app.catalog).map_err(|e| format!("the condition no longer reads: {e}"))
}

/// Whether `rule` holds for the partner and (when there is one) the member, and the
/// event's data. A rule that reads member fields does not hold without a member.
pub(crate) fn holds(
    rule: &Rule,
    partner: &Partner,
    member: Option<&Member>,
    event: Option<&Attributes>,
    now: Timestamp,
) -> bool {
    let stand_in;
    let profile = match member {
        Some(m) => &m.profile,
        None if rule.reads_member() => return false,
        None => {
            stand_in = nobody(partner);
            &stand_in
        }
    };
    let subject = Subject {
        partner: &partner.profile,
        member: profile,
        partner_id: Some(partner.id),
        member_id: member.map(|m| m.id),
        event,
    };
    rule.matches(subject, now)
}

/// An automated message before it is made.
pub(crate) struct Spec<'a> {
    pub topic_id: TopicId,
    pub importance: Importance,
    pub channels: Option<&'a [Channel]>,
    pub content: &'a Content,
    pub audience: AudienceDraft,
    pub send_at: Timestamp,
    /// `trigger:<key>`, `sequence:<key>`.
    pub created_by: String,
    pub triggered_by: Option<TriggeredBy>,
}

/// The message, scheduled for its time (or now, if that has passed), or why none: nobody
/// active matches, or its template cannot be filled for them.
pub(crate) async fn make(
    app: &App,
    tx: &mut Tx,
    about: &About,
    spec: Spec<'_>,
    now: Timestamp,
) -> Result<Result<Message, String>, AppError> {
    let rule = crate::audiences::build(app, tx, &spec.audience).await?.to_rule();
    if tidings_store::audiences::count_members(tx, &rule, now).await? == 0 {
        return Ok(Err("no_recipient: nobody active matches".into()));
    }
    let message = message(app, tx, spec, now).await?;
    // A template that cannot be filled for them would fail every delivery.
    match unfillable(&message, &about.reader()) {
        Some(why) => Ok(Err(why)),
        None => Ok(Ok(message)),
    }
}

/// The message the spec describes, on the channels it names or the defaults for its
/// importance.
pub(crate) async fn message(app: &App, tx: &mut Tx, spec: Spec<'_>, now: Timestamp) -> Result<Message, AppError> {
    let channels = match spec.channels {
        Some(list) => list.to_vec(),
        None => crate::channel_defaults::resolve(app, tx, spec.importance).await?,
    };
    Ok(Message {
        id: MessageId::new(),
        topic_id: spec.topic_id,
        importance: spec.importance,
        state: MessageState::Scheduled,
        content: spec.content.clone(),
        audience: spec.audience,
        channels: Some(channels),
        acknowledgment: None,
        version: 1,
        send_at: Some(spec.send_at.max(now)),
        time_zone: TimeZone::utc(),
        expires_at: None,
        created_by: spec.created_by,
        created_at: now,
        updated_at: now,
        triggered_by: spec.triggered_by,
    })
}

/// Why the message cannot be filled for this reader, if it cannot.
pub(crate) fn unfillable(message: &Message, reader: &Personalization) -> Option<String> {
    let who = reader.with_event_of(message);
    messages::check(&message.content, &who).first().map(|e| format!("failed: the message cannot be filled: {e}"))
}

/// Stands in for the member where there is none and no member field is read.
fn nobody(partner: &Partner) -> MemberProfile {
    MemberProfile {
        partner_id: partner.id,
        external_id: None,
        email: Email::nobody(),
        phone: None,
        name: String::new(),
        roles: Roles::default(),
        locale: Locale::english(),
        time_zone: TimeZone::utc(),
        working_hours: None,
        status: MemberStatus::Active,
        attributes: Attributes::new(),
        last_seen_at: None,
    }
}
