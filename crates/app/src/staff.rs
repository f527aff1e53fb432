//! The vendor's staff: the people who sign in to the admin console, each with one role.

use tidings_core::{Action, Email, Staff, StaffId, StaffRole};
use tidings_store::staff;

use crate::{App, AppError, Caller, audit};

/// Adds a staff person (`tidings staff add`); an address is used once.
pub async fn add(app: &App, caller: &Caller, email: &str, name: &str, role: StaffRole) -> Result<Staff, AppError> {
    caller.require(Action::ManageStaff, "add staff")?;
    let email = Email::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(AppError::invalid("name", "give a name of 1 to 200 characters"));
    }
    let mut tx = app.db.begin().await?;
    if staff::find_by_email(&mut tx, &email).await?.is_some() {
        return Err(AppError::Conflict(format!("{email} is already a staff member")));
    }
    let person = Staff { id: StaffId::new(), email, name: name.to_owned(), role, created_at: app.clock.now() };
    staff::insert(&mut tx, &person).await?;
    audit::entry(caller, "staff.create", person.id.as_uuid()).after(&person).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(person)
}

pub async fn list(app: &App) -> Result<Vec<Staff>, AppError> {
    Ok(staff::list(&mut app.db.read().await?).await?)
}

/// The staff, for those who manage them.
pub async fn list_as(app: &App, caller: &Caller) -> Result<Vec<Staff>, AppError> {
    caller.require(Action::ManageStaff, "manage staff")?;
    list(app).await
}

/// Gives a staff person another role; nobody changes their own (an admin cannot lock the
/// instance out of its last admin by mistake).
pub async fn set_role(app: &App, caller: &Caller, id: StaffId, role: StaffRole) -> Result<Staff, AppError> {
    caller.require(Action::ManageStaff, "change staff roles")?;
    if caller.staff == Some(id) {
        return Err(AppError::Conflict("you cannot change your own role: ask another admin".into()));
    }
    let mut tx = app.db.begin().await?;
    let before = staff::get(&mut tx, id).await?.ok_or(AppError::NotFound("staff"))?;
    staff::set_role(&mut tx, id, role).await?;
    let after = Staff { role, ..before.clone() };
    audit::entry(caller, "staff.update", id.as_uuid()).before(&before).after(&after).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(after)
}

/// Removes a staff person: they are signed out of the console at their next request.
pub async fn remove(app: &App, caller: &Caller, id: StaffId) -> Result<(), AppError> {
    caller.require(Action::ManageStaff, "remove staff")?;
    if caller.staff == Some(id) {
        return Err(AppError::Conflict("you cannot remove yourself: ask another admin".into()));
    }
    let mut tx = app.db.begin().await?;
    let before = staff::get(&mut tx, id).await?.ok_or(AppError::NotFound("staff"))?;
    staff::delete(&mut tx, id).await?;
    audit::entry(caller, "staff.delete", id.as_uuid()).before(&before).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The staff person a console session names, read afresh on every request so that a
/// removed person or a changed role takes effect at once.
pub async fn signed_in(app: &App, id: StaffId) -> Result<Staff, AppError> {
    staff::get(&mut app.db.read().await?, id).await?.ok_or(AppError::Unauthorized)
}
