//! Who answers for a role at a partner. A partner's lead (or staff) names one colleague
//! per role; an escalation ladder then reminds that person, not everyone in the role, for
//! what the role owes, and the lead's notice names them. Naming someone else moves it on;
//! only someone who holds the role, and is not disabled, may be named.

use serde::Serialize;
use tidings_core::{Action, MemberId, MemberStatus, PartnerId, Role, Timestamp};
use tidings_store::members::{self, MemberFilter};
use tidings_store::nominees::{self as store, Nominee};

use crate::error::not_found;
use crate::partner_channels::PartnerAdmin;
use crate::{App, AppError, audit};

/// A role of the partner, who answers for it, and who could.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RoleAnswer {
    pub role: Role,
    /// The colleague named to answer for it; `None`: everyone in the role is chased.
    pub nominee: Option<NomineeView>,
    /// The partner's people in the role who may be named (the first 200 by name).
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NomineeView {
    pub member_id: MemberId,
    pub name: String,
    pub email: String,
    pub nominated_by: String,
    pub nominated_at: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub member_id: MemberId,
    pub name: String,
    pub email: String,
}

/// The candidates listed per role.
const CANDIDATES: u32 = 200;

/// The roles a nominee can answer for: every role but the lead's own.
fn nominable(role: Role) -> bool {
    role != Role::PartnerLead
}

fn may_read(who: &PartnerAdmin<'_>, partner: PartnerId) -> Result<(), AppError> {
    match who {
        PartnerAdmin::Staff(caller) => caller.require(Action::ReadDirectory, "see who answers for a partner's roles"),
        PartnerAdmin::Lead(_) => who.check(partner, "see who answers for a partner's roles").map(|_| ()),
    }
}

/// Each role someone at the partner holds (or one named for), with its nominee and
/// candidates.
pub async fn of_partner(app: &App, who: PartnerAdmin<'_>, partner: PartnerId) -> Result<Vec<RoleAnswer>, AppError> {
    may_read(&who, partner)?;
    let mut tx = app.db.read().await?;
    tidings_store::partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    let named = store::of_partner(&mut tx, partner).await?;
    let ids: Vec<MemberId> = named.iter().map(|n| n.member_id).collect();
    let people = members::get_many(&mut tx, &ids).await?;
    let mut answers = Vec::new();
    for role in Role::ALL.into_iter().filter(|r| nominable(*r)) {
        let filter = MemberFilter { partner_id: Some(partner), role: Some(role), ..Default::default() };
        let page = members::list(&mut tx, &filter, None, Some(CANDIDATES)).await?;
        let mut candidates: Vec<Candidate> = page
            .items
            .into_iter()
            .filter(|m| m.profile.status != MemberStatus::Disabled)
            .map(|m| Candidate { member_id: m.id, name: m.profile.name, email: m.profile.email.to_string() })
            .collect();
        candidates.sort_by_key(|c| (c.name.to_lowercase(), c.email.clone()));
        let nominee = named.iter().find(|n| n.role == role).and_then(|n| {
            people.iter().find(|m| m.id == n.member_id).map(|m| NomineeView {
                member_id: m.id,
                name: m.profile.name.clone(),
                email: m.profile.email.to_string(),
                nominated_by: n.nominated_by.clone(),
                nominated_at: n.nominated_at,
            })
        });
        if !candidates.is_empty() || nominee.is_some() {
            answers.push(RoleAnswer { role, nominee, candidates });
        }
    }
    Ok(answers)
}

/// Names `member` to answer for `role` at `partner`, in place of anyone named before.
pub async fn nominate(
    app: &App,
    who: PartnerAdmin<'_>,
    partner: PartnerId,
    role: Role,
    member: MemberId,
) -> Result<NomineeView, AppError> {
    let by = who.check(partner, "name who answers for a role")?;
    if !nominable(role) {
        return Err(AppError::invalid(
            "role",
            "the partner lead answers for the partner: name someone for another role",
        ));
    }
    let mut tx = app.db.begin().await?;
    tidings_store::partners::get(&mut tx, partner).await.map_err(not_found("partner"))?;
    let person = members::get(&mut tx, member).await.map_err(not_found("member"))?;
    if person.profile.partner_id != partner {
        return Err(AppError::invalid("member_id", "this person does not work at this partner"));
    }
    if person.profile.status == MemberStatus::Disabled {
        return Err(AppError::invalid("member_id", "this person's account is disabled"));
    }
    if !person.profile.roles.contains(role) {
        let who = if person.profile.name.is_empty() { person.profile.email.to_string() } else { person.profile.name };
        return Err(AppError::invalid(
            "member_id",
            format!("{who} does not hold the role {role}: only someone in the role can answer for it"),
        ));
    }
    let nominee = Nominee { role, member_id: member, nominated_by: by, nominated_at: app.clock.now() };
    store::put(&mut tx, partner, &nominee).await?;
    let view = NomineeView {
        member_id: member,
        name: person.profile.name.clone(),
        email: person.profile.email.to_string(),
        nominated_by: nominee.nominated_by.clone(),
        nominated_at: nominee.nominated_at,
    };
    if let PartnerAdmin::Staff(caller) = who {
        let what = serde_json::json!({"role": role, "member_id": member});
        audit::entry(caller, "partner.nominate", partner.as_uuid()).after(&what).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    Ok(view)
}

/// Takes back the nomination for `role`: everyone in the role is chased again.
pub async fn withdraw(app: &App, who: PartnerAdmin<'_>, partner: PartnerId, role: Role) -> Result<(), AppError> {
    who.check(partner, "name who answers for a role")?;
    let mut tx = app.db.begin().await?;
    if !store::remove(&mut tx, partner, role).await? {
        return Err(AppError::NotFound("nominee"));
    }
    if let PartnerAdmin::Staff(caller) = who {
        let what = serde_json::json!({"role": role});
        audit::entry(caller, "partner.withdraw_nominee", partner.as_uuid()).before(&what).write(app, &mut tx).await?;
    }
    tx.commit().await?;
    Ok(())
}
