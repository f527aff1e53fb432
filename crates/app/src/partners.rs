//! Partner use cases.

use tidings_core::{Action, FieldErrors, Partner, PartnerDraft, PartnerId, PartnerProfile};
use tidings_store::partners;
pub use tidings_store::partners::PartnerFilter;
use tidings_store::{Page, Tx, groups, staff};

use crate::error::not_found;
use crate::{App, AppError, Caller, audit};

const WRITE: &str = "change the partner directory";

pub async fn create(app: &App, caller: &Caller, draft: &PartnerDraft) -> Result<Partner, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let profile = draft.validate(None, &app.catalog)?;
    let mut tx = app.db.begin().await?;
    check_references(&mut tx, &profile).await?;
    let now = app.clock.now();
    let partner = Partner { id: PartnerId::new(), profile, created_at: now, updated_at: now };
    partners::insert(&mut tx, &partner).await?;
    audit::entry(caller, "partner.create", partner.id.as_uuid()).after(&partner).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(partner)
}

pub async fn get(app: &App, caller: &Caller, id: PartnerId) -> Result<Partner, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    partners::get(&mut tx, id).await.map_err(not_found("partner"))
}

pub async fn update(app: &App, caller: &Caller, id: PartnerId, draft: &PartnerDraft) -> Result<Partner, AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let mut partner = partners::get(&mut tx, id).await.map_err(not_found("partner"))?;
    let profile = draft.validate(Some(&partner.profile), &app.catalog)?;
    if profile != partner.profile {
        check_references(&mut tx, &profile).await?;
        let before = partner.clone();
        partner.profile = profile;
        partner.updated_at = app.clock.now();
        partners::update(&mut tx, &partner).await?;
        audit::entry(caller, "partner.update", id.as_uuid())
            .before(&before)
            .after(&partner)
            .write(app, &mut tx)
            .await?;
        tx.commit().await?;
    }
    Ok(partner)
}

pub async fn delete(app: &App, caller: &Caller, id: PartnerId) -> Result<(), AppError> {
    caller.require(Action::WriteDirectory, WRITE)?;
    let mut tx = app.db.begin().await?;
    let members = partners::member_count(&mut tx, id).await?;
    if members > 0 {
        return Err(AppError::Conflict(format!(
            "the partner still has {members} member(s): delete them or move them to another partner first"
        )));
    }
    let before = partners::get(&mut tx, id).await.map_err(not_found("partner"))?;
    partners::delete(&mut tx, id).await?;
    audit::entry(caller, "partner.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list(
    app: &App,
    caller: &Caller,
    filter: &PartnerFilter,
    after: Option<&str>,
    limit: Option<u32>,
) -> Result<Page<Partner>, AppError> {
    caller.require(Action::ReadDirectory, "read the partner directory")?;
    let mut tx = app.db.read().await?;
    Ok(partners::list(&mut tx, filter, after, limit).await?)
}

/// Checks that the partner's groups and partner manager exist, naming what does not.
pub(crate) async fn check_references(tx: &mut Tx, profile: &PartnerProfile) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    let keys: Vec<_> = profile.groups.iter().collect();
    let unknown = groups::unknown_keys(tx, &keys).await?;
    if !unknown.is_empty() {
        errors.add("groups", format!("no partner group with key {}", unknown.join(", ")));
    }
    if let Some(email) = &profile.partner_manager
        && staff::find_by_email(tx, email).await?.is_none()
    {
        errors.add("partner_manager", format!("no staff member with email {email}"));
    }
    if errors.is_empty() { Ok(()) } else { Err(AppError::Invalid(errors)) }
}
