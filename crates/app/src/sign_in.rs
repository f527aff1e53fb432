//! Portal sign-in by email link. Asking for a link answers the same whether or not the
//! address belongs to a member (the lookup, the link and the email happen after the
//! answer, off the request), so neither the reply nor its timing tells who is a member.
//! A link is single use and lasts 15 minutes; only its hash is stored. Opening the link
//! shows a button that signs in (a POST): mail scanners open links, and a GET that used
//! the link up would leave the member with a dead one.

use tidings_channels::{PartBody, Payload};
use tidings_core::consent::Channel;
use tidings_core::{Action, Email, Member, MemberId, MemberStatus, Timestamp};
use tidings_store::{members, sign_in};

use crate::auth::{hash_token, new_secret};
use crate::i18n::Tr;
use crate::{App, AppError, Caller, audit};

const TOKEN_PREFIX: &str = "sl_";
/// How long a link works.
pub const LINK_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// Links one address can be sent per hour: enough to retry, too few to flood a mailbox.
pub const LINKS_PER_HOUR: i64 = 5;

/// Accepts a request for a sign-in link. Only a malformed address is an error; the link
/// is made and mailed in the background when the address is a member's.
pub fn request_link(app: &App, email: &str) -> Result<(), AppError> {
    let email = Email::parse(email).map_err(|e| AppError::invalid("email", e.to_string()))?;
    let app = app.clone();
    tokio::spawn(async move {
        if let Err(e) = send_link(&app, &email).await {
            tracing::warn!(error = %e, "a sign-in link could not be sent");
        }
    });
    Ok(())
}

/// Makes and mails a link when `email` is an active or test member's and the hourly cap
/// allows. Returns whether a link went out.
pub async fn send_link(app: &App, email: &Email) -> Result<bool, AppError> {
    let now = app.clock.now();
    let mut tx = app.db.begin().await?;
    let Some(member) = members::find_by_keys(&mut tx, &[], &[email.as_str().to_owned()]).await?.into_iter().next()
    else {
        return Ok(false);
    };
    if member.profile.status == MemberStatus::Disabled {
        return Ok(false);
    }
    let hour_ago = Timestamp::from_millis(now.as_millis() - 3_600_000);
    if sign_in::count_since(&mut tx, member.id, hour_ago).await? >= LINKS_PER_HOUR {
        tracing::info!(member = %member.id, "sign-in link not sent: the hourly cap is reached");
        return Ok(false);
    }
    let url = new_link(app, &mut tx, member.id).await?;
    tx.commit().await?;
    if !app.channels.provides(Channel::Email) {
        return Err(AppError::Unexpected(anyhow::anyhow!("no email provider is configured to send sign-in links")));
    }
    let tr = Tr::for_locale(member.profile.locale.as_str());
    let (intro, button, ignore) =
        (tr.text("email-sign-in-intro"), tr.text("email-sign-in-button"), tr.text("email-sign-in-ignore"));
    let html = format!(
        "<!DOCTYPE html><html lang=\"{lang}\"><body style=\"font-family:sans-serif\"><p>{intro}</p>\
         <p><a href=\"{url}\">{button}</a></p><p>{ignore}</p></body></html>",
        lang = tr.code(),
        intro = ammonia::clean_text(&intro),
        button = ammonia::clean_text(&button),
        ignore = ammonia::clean_text(&ignore),
    );
    let email = app.channels.mail().one_off(
        &member.profile.name,
        member.profile.email.as_str(),
        tr.text("email-sign-in-subject"),
        PartBody::Text(format!("{intro}\n\n{url}\n\n{ignore}")),
        PartBody::Text(html),
    );
    match app.channels.send(Channel::Email, Payload::Email(email)).await {
        tidings_core::deliveries::Outcome::Sent { .. } => Ok(true),
        other => Err(AppError::Unexpected(anyhow::anyhow!("the sign-in link was not sent: {other:?}"))),
    }
}

/// Stores a new link for the member and returns its URL.
async fn new_link(app: &App, tx: &mut tidings_store::Tx, member: MemberId) -> Result<String, AppError> {
    let now = app.clock.now();
    let token = new_secret(TOKEN_PREFIX)?;
    let expires = Timestamp::from_millis(now.as_millis() + LINK_LIFETIME_MS);
    sign_in::insert(tx, &hash_token(&token), member, now, expires).await?;
    Ok(format!("{}/portal/sign-in/{token}", app.public_url))
}

/// A link made by an operator (`tidings sign-in-link`), not mailed: for a demo without an
/// mail server, or a member whose mail does not arrive. Same lifetime, single use.
pub async fn operator_link(app: &App, caller: &Caller, member: MemberId) -> Result<String, AppError> {
    caller.require(Action::ManageTokens, "make sign-in links")?;
    let mut tx = app.db.begin().await?;
    let found = members::get(&mut tx, member).await.map_err(crate::error::not_found("member"))?;
    if found.profile.status == MemberStatus::Disabled {
        return Err(AppError::Conflict("this member is disabled and cannot sign in".into()));
    }
    let url = new_link(app, &mut tx, member).await?;
    audit::entry(caller, "member.sign_in_link", member.as_uuid()).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(url)
}

/// Uses a link: the member it signs in. A link that was used, has expired or never
/// existed is refused with the same answer.
pub async fn redeem(app: &App, token: &str) -> Result<MemberId, AppError> {
    let refused =
        || AppError::invalid("link", "this sign-in link was used, has expired or is not valid; ask for a new one");
    if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
        return Err(refused());
    }
    let mut tx = app.db.begin().await?;
    let member = sign_in::redeem(&mut tx, &hash_token(token), app.clock.now()).await?.ok_or_else(refused)?;
    members::touch(&mut tx, member, app.clock.now()).await?;
    tx.commit().await?;
    Ok(member)
}

/// The member a portal session names, while they may still sign in: a member disabled or
/// erased since signing in is signed out on their next request.
pub async fn member(app: &App, id: MemberId) -> Result<Member, AppError> {
    let mut tx = app.db.read().await?;
    let member = members::get(&mut tx, id).await.map_err(|_| AppError::Unauthorized)?;
    if member.profile.status == MemberStatus::Disabled {
        return Err(AppError::Unauthorized);
    }
    Ok(member)
}

/// A fresh secret for a form's CSRF token, kept in the member's session.
pub fn form_token() -> Result<String, AppError> {
    new_secret("csrf_")
}
