//! Passwords (argon2id, the crate's default parameters): members' optional portal
//! passwords and staff passwords for the admin console. A wrong password and an unknown
//! address get the same answer after the same work: an unknown address is checked
//! against a stand-in hash. Hashing runs off the async threads.

use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tidings_core::{Action, Email, Member, MemberId, MemberStatus, Staff, Timestamp};
use tidings_store::passwords::{self, Owner};
use tidings_store::{members, sign_in_attempts as attempts, staff};

use crate::sessions::Owner as SessionOwner;
use crate::{App, AppError, Caller};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 200;

fn wrong() -> AppError {
    AppError::invalid("password", "the email address or the password is wrong")
}

/// Checks a new password's length (in characters).
pub fn check(password: &str) -> Result<(), AppError> {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        return Err(AppError::invalid("password", format!("use {MIN_LENGTH} to {MAX_LENGTH} characters")));
    }
    Ok(())
}

async fn hash(password: String) -> Result<String, AppError> {
    tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| AppError::Unexpected(e.into()))?
        .map_err(|e| AppError::Unexpected(anyhow::anyhow!("hashing a password: {e}")))
}

async fn verify(password: String, hash: String) -> bool {
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// A hash of no one's password, so an unknown address costs as much as a known one.
async fn stand_in() -> String {
    static STAND_IN: OnceLock<String> = OnceLock::new();
    if let Some(hash) = STAND_IN.get() {
        return hash.clone();
    }
    let made = hash("a password nobody has".into()).await.unwrap_or_default();
    STAND_IN.get_or_init(|| made).clone()
}

/// The address as given, when the attempt is worth checking at all.
fn presented(email: &str, password: &str) -> Result<Email, AppError> {
    let email = Email::parse(email).map_err(|_| wrong())?;
    if password.is_empty() || password.len() > MAX_LENGTH * 4 {
        return Err(wrong());
    }
    Ok(email)
}

/// Whether the password matches the stored hash; without one, the same work is done
/// against the stand-in and the answer is no.
async fn matches(password: &str, stored: Option<&String>) -> bool {
    let hash = match stored {
        Some(hash) => hash.clone(),
        None => stand_in().await,
    };
    verify(password.to_owned(), hash).await && stored.is_some()
}

/// The member whose address and password these are.
pub async fn sign_in(app: &App, email: &str, password: &str) -> Result<MemberId, AppError> {
    let email = presented(email, password)?;
    let account = format!("member:{}", email.as_str().to_lowercase());
    limited(app, &account, async {
        let mut tx = app.db.read().await?;
        let member = members::find_by_keys(&mut tx, &[], &[email.to_string()]).await?.into_iter().next();
        let stored = match &member {
            Some(m) => passwords::get(&mut tx, Owner::Member(m.id)).await?,
            None => None,
        };
        drop(tx);
        match member {
            Some(m) if matches(password, stored.as_ref()).await && m.profile.status != MemberStatus::Disabled => {
                Ok(m.id)
            }
            _ => Err(wrong()),
        }
    })
    .await
}

/// Failed password attempts one account may have in a window, whoever makes them (the
/// per-address limit stops one client; this stops many clients guessing one account).
const ACCOUNT_FAILURES: i64 = 10;
/// The window, from its first failure. An account that reached the limit takes no password
/// until the window ends: a quarter of an hour at most, and a member can still sign in
/// with an emailed link meanwhile, so nobody can be locked out for long.
const ACCOUNT_WINDOW_MS: i64 = 15 * 60_000;

/// Runs a password check for `account` unless its failures reached the limit, and counts
/// the outcome. Counted for any address given, known or not, so the answer says nothing
/// about whether the account exists.
async fn limited<T>(
    app: &App,
    account: &str,
    check: impl std::future::Future<Output = Result<T, AppError>>,
) -> Result<T, AppError> {
    let now = app.clock.now();
    let window_from = Timestamp::from_millis(now.as_millis() - ACCOUNT_WINDOW_MS);
    let failures = attempts::failures_since(&mut app.db.read().await?, account, window_from).await?;
    if failures >= ACCOUNT_FAILURES {
        return Err(AppError::TooMany(
            "too many wrong passwords for this address: try again in a quarter of an hour".into(),
        ));
    }
    let outcome = check.await;
    let mut tx = app.db.begin().await?;
    match &outcome {
        Ok(_) => attempts::clear(&mut tx, account).await?,
        Err(AppError::Invalid(_)) => attempts::fail(&mut tx, account, now, window_from).await?,
        Err(_) => {}
    }
    tx.commit().await?;
    outcome
}

/// Who asks to change a password, and how they prove it is them.
#[derive(Debug, Clone, Copy)]
pub struct Change<'a> {
    /// The password they have now; needed when one is set (a session alone is not proof
    /// enough: it may be a borrowed or stolen one).
    pub current: &'a str,
    /// The session asking, which stays signed in; every other session of theirs ends.
    pub session: Option<&'a str>,
}

/// Refuses the change unless the member has no password yet or `current` is it.
async fn prove(app: &App, member: &Member, current: &str) -> Result<(), AppError> {
    let stored = passwords::get(&mut app.db.read().await?, Owner::Member(member.id)).await?;
    if stored.is_some() && !matches(current, stored.as_ref()).await {
        return Err(AppError::invalid("current_password", "the current password is wrong"));
    }
    Ok(())
}

/// Sets (or replaces) the member's password, and signs them out everywhere else.
pub async fn set(app: &App, member: &Member, password: &str, change: Change<'_>) -> Result<(), AppError> {
    check(password)?;
    prove(app, member, change.current).await?;
    let hashed = hash(password.to_owned()).await?;
    let mut tx = app.db.begin().await?;
    passwords::set(&mut tx, Owner::Member(member.id), &hashed, app.clock.now()).await?;
    crate::sessions::end_for(&mut tx, SessionOwner::Member(member.id), change.session).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes the member's password (they sign in by emailed link again), and signs them out
/// everywhere else.
pub async fn remove(app: &App, member: &Member, change: Change<'_>) -> Result<(), AppError> {
    prove(app, member, change.current).await?;
    let mut tx = app.db.begin().await?;
    passwords::delete(&mut tx, Owner::Member(member.id)).await?;
    crate::sessions::end_for(&mut tx, SessionOwner::Member(member.id), change.session).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn is_set(app: &App, member: &Member) -> Result<bool, AppError> {
    Ok(passwords::get(&mut app.db.read().await?, Owner::Member(member.id)).await?.is_some())
}

/// The staff person whose address and password these are.
pub async fn staff_sign_in(app: &App, email: &str, password: &str) -> Result<Staff, AppError> {
    let email = presented(email, password)?;
    let account = format!("staff:{}", email.as_str().to_lowercase());
    limited(app, &account, async {
        let mut tx = app.db.read().await?;
        let person = staff::find_by_email(&mut tx, &email).await?;
        let stored = match &person {
            Some(p) => passwords::get(&mut tx, Owner::Staff(p.id)).await?,
            None => None,
        };
        drop(tx);
        match person {
            Some(p) if matches(password, stored.as_ref()).await => Ok(p),
            _ => Err(wrong()),
        }
    })
    .await
}

/// Sets a staff person's password (`tidings staff password`).
pub async fn set_staff(app: &App, caller: &Caller, email: &str, password: &str) -> Result<Staff, AppError> {
    caller.require(Action::ManageStaff, "set staff passwords")?;
    check(password)?;
    let email = Email::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    let person = staff::find_by_email(&mut app.db.read().await?, &email).await?.ok_or(AppError::NotFound("staff"))?;
    // Hashed before the write begins, so the writer is held for the insert alone.
    let hashed = hash(password.to_owned()).await?;
    let mut tx = app.db.begin().await?;
    passwords::set(&mut tx, Owner::Staff(person.id), &hashed, app.clock.now()).await?;
    // Whoever knew the old password is signed out; the person signs in with the new one.
    crate::sessions::end_for(&mut tx, SessionOwner::Staff(person.id), None).await?;
    crate::audit::entry(caller, "staff.password", person.id.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(person)
}
