//! Appending facts to the evidence log, inside the transaction that records them.

use tidings_core::evidence::facts::{
    self, Acknowledged, Authentication, Committed, Fact, ObligationMet, Read, Surface,
};
use tidings_core::{MemberId, MessageId, PartnerId, Timestamp};
use tidings_store::Tx;
use tidings_store::evidence as store;

use crate::AppError;

/// How an acknowledgment was given: the surface that showed the text, and how the person
/// was signed in there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckContext {
    pub surface: Surface,
    pub authentication: Authentication,
}

impl AckContext {
    /// The portal's message page, signed in to the portal.
    pub const PORTAL: Self = Self::new(Surface::MessagePage, Authentication::PortalSession);
    /// The page a message's signed link opens.
    pub const LINK: Self = Self::new(Surface::LinkPage, Authentication::MessageLink);
    /// The inbox API with a member token.
    pub const API: Self = Self::new(Surface::Api, Authentication::MemberToken);
    /// The widget with the vendor's token.
    pub const WIDGET: Self = Self::new(Surface::Widget, Authentication::WidgetToken);
    /// The demo's story.
    pub const DEMO: Self = Self::new(Surface::Demo, Authentication::Demo);

    pub const fn new(surface: Surface, authentication: Authentication) -> Self {
        Self { surface, authentication }
    }
}

/// An acknowledgment to log: the record, the JSON of the exact text shown (`ShownText`),
/// and how it was given.
pub(crate) struct Shown<'a> {
    pub record: &'a tidings_store::inbox::Acknowledgment,
    pub text: &'a str,
    pub how: AckContext,
}

/// The leaves of a group of acknowledgments, and of the obligations they met (message,
/// version, partner, when), with the exact texts they bind: one read of the members'
/// salts and one append for the whole group.
pub(crate) async fn acknowledged_many(
    tx: &mut Tx,
    acks: &[Shown<'_>],
    met: &[(MessageId, u32, PartnerId, Timestamp)],
) -> Result<(), AppError> {
    let members: Vec<MemberId> = acks.iter().map(|a| a.record.member_id).collect();
    let salts = store::salts_for(tx, &members).await?;
    let mut kept = std::collections::HashSet::new();
    let mut facts = Vec::with_capacity(acks.len() + met.len());
    for Shown { record, text, how } in acks {
        if kept.insert(record.content_hash.as_str()) {
            store::keep_text(tx, &record.content_hash, text).await?;
        }
        let salt = salts
            .get(&record.member_id)
            .ok_or_else(|| AppError::Unexpected(anyhow::anyhow!("no salt was made for a member")))?;
        let fact = Fact::Acknowledged(Acknowledged {
            message: record.message_id,
            version: record.version,
            content_hash: record.content_hash.clone(),
            locale: record.locale.clone(),
            statement: record.statement.clone(),
            member: facts::commitment(salt, Committed::Member, record.member_id.as_uuid()),
            partner: facts::commitment(salt, Committed::Partner, record.partner_id.as_uuid()),
            roles: record.roles,
            authentication: how.authentication,
            surface: how.surface,
            at: record.acknowledged_at,
            origin: facts::origin_commitment(salt, record.ip.as_deref(), record.user_agent.as_deref()),
            attestation: record.attestation.as_ref().map(|a| a.hash()),
        });
        facts.push((fact, Some(record.member_id), None));
    }
    for &(message, version, partner, at) in met {
        let fact = Fact::ObligationMet(ObligationMet { message, version, partner, at });
        facts.push((fact, None, Some(partner.as_uuid())));
    }
    store::append_facts(tx, &facts).await?;
    Ok(())
}

/// The read's leaf.
pub(crate) async fn read(
    tx: &mut Tx,
    message: MessageId,
    member: MemberId,
    at: Timestamp,
    origin: &crate::inbox::Origin,
) -> Result<(), AppError> {
    let salt = store::member_salt(tx, member).await?;
    let fact = Fact::Read(Read {
        message,
        member: facts::commitment(&salt, Committed::Member, member.as_uuid()),
        at,
        origin: facts::origin_commitment(&salt, origin.ip.as_deref(), origin.user_agent.as_deref()),
    });
    store::append_fact(tx, &fact, Some(member), None).await?;
    Ok(())
}

/// The leaf of a message's release: the version that went out, word for word.
pub(crate) async fn released(tx: &mut Tx, message: MessageId, at: Timestamp) -> Result<(), AppError> {
    let m = tidings_store::messages::get(tx, message).await?;
    let fact = Fact::Released(facts::Released {
        message,
        importance: m.importance,
        statement: m.acknowledgment.as_ref().map(|a| a.statement.clone()),
        due_at: m.acknowledgment.as_ref().and_then(|a| a.due_at),
        variants: m.content.variants.iter().map(|(locale, v)| (locale.to_string(), v.clone())).collect(),
        at,
    });
    store::append_fact(tx, &fact, None, None).await?;
    Ok(())
}

/// The leaf of a correction: the new version, why, and its text word for word.
pub(crate) async fn corrected(
    tx: &mut Tx,
    message: MessageId,
    version: &tidings_store::versions::Version,
) -> Result<(), AppError> {
    let Some(correction) = version.correction else {
        return Err(AppError::Unexpected(anyhow::anyhow!("the version as released is no correction")));
    };
    let fact = Fact::Corrected(facts::Corrected {
        message,
        version: version.version,
        correction,
        note: version.note.clone(),
        by: version.created_by.clone(),
        statement: version.acknowledgment.as_ref().map(|a| a.statement.clone()),
        variants: version.content.variants.iter().map(|(locale, v)| (locale.to_string(), v.clone())).collect(),
        at: version.created_at,
    });
    store::append_fact(tx, &fact, None, None).await?;
    Ok(())
}

/// One send (or inbox copy) of a must-know message, for its leaf.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Delivery {
    pub message: MessageId,
    pub member: MemberId,
    pub channel: tidings_core::consent::Channel,
    pub purpose: tidings_core::deliveries::Purpose,
    pub outcome: facts::DeliveryOutcome,
}

/// The leaves of these deliveries of must-know messages, in a few statements.
pub(crate) async fn delivered(tx: &mut Tx, deliveries: &[Delivery], at: Timestamp) -> Result<(), AppError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let members: Vec<MemberId> = deliveries.iter().map(|d| d.member).collect();
    let salts = store::salts_for(tx, &members).await?;
    let salted: Vec<(Delivery, [u8; 32])> =
        deliveries.iter().filter_map(|d| salts.get(&d.member).map(|salt| (*d, *salt))).collect();
    delivered_salted(tx, &salted, at).await
}

/// The leaves of these deliveries, each beside its member's salt.
pub(crate) async fn delivered_salted(
    tx: &mut Tx,
    deliveries: &[(Delivery, [u8; 32])],
    at: Timestamp,
) -> Result<(), AppError> {
    let facts: Vec<(Fact, Option<MemberId>, Option<uuid::Uuid>)> = deliveries
        .iter()
        .map(|(d, salt)| {
            let fact = Fact::Delivered(facts::Delivered {
                message: d.message,
                member: facts::commitment(salt, Committed::Member, d.member.as_uuid()),
                channel: d.channel,
                purpose: d.purpose,
                outcome: d.outcome,
                at,
            });
            (fact, Some(d.member), None)
        })
        .collect();
    store::append_facts(tx, &facts).await?;
    Ok(())
}
