//! Member tokens that the vendor's own server signs for the embeddable inbox
//! (`<tidings-inbox>`), so a vendor portal can show a member their Tidings inbox without
//! calling Tidings first. The format, for any language with HMAC-SHA256 and base64url:
//!
//! ```text
//! tw1.<base64url(payload JSON)>.<base64url(HMAC-SHA256(secret, "tw1." + base64url(payload JSON)))>
//! payload: {"email": "ana@acme.example", "exp": 1767225600}
//!      or  {"external_id": "CRM-123", "exp": ...}   or  {"member_id": "<uuid>", "exp": ...}
//! ```
//!
//! `exp` is in unix seconds, at most 30 days ahead; the secret is the instance's widget
//! secret (`tidings widget-secret`), used as its UTF-8 text. Any fault in a token is the
//! same 401, whatever it was.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tidings_core::{Action, Member, MemberId, MemberStatus, Timestamp};
use tidings_store::{members, settings};

use crate::auth::new_secret;
use crate::inbox::MAX_TOKEN_DAYS;
use crate::{App, AppError, Caller};

pub const TOKEN_PREFIX: &str = "tw1.";
const SETTING: &str = "widget_secret";

type HmacSha256 = hmac::Hmac<Sha256>;

/// Who a widget token names, and until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WidgetClaims {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_id: Option<MemberId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    /// Unix seconds.
    pub exp: i64,
}

/// The instance's widget secret, made on first use (read without a write after that).
pub async fn secret(app: &App) -> Result<String, AppError> {
    if let Some(secret) = settings::get(&mut app.db.read().await?, SETTING).await? {
        return Ok(secret);
    }
    let made = new_secret("tws_")?;
    let mut tx = app.db.begin().await?;
    let secret = settings::get_or_insert(&mut tx, SETTING, || made).await?;
    tx.commit().await?;
    Ok(secret)
}

/// A new secret: every token signed with the old one stops working at once.
pub async fn rotate_secret(app: &App, caller: &Caller) -> Result<String, AppError> {
    caller.require(Action::ManageTokens, "rotate the widget secret")?;
    let secret = new_secret("tws_")?;
    let mut tx = app.db.begin().await?;
    settings::put(&mut tx, SETTING, &secret).await?;
    crate::audit::entry(caller, "widget.rotate_secret", None).write(app, &mut tx).await?;
    tx.commit().await?;
    Ok(secret)
}

fn tag(secret: &str, signed: &str) -> Option<HmacSha256> {
    let mut mac = HmacSha256::new_from_slice(secret.as_bytes()).ok()?;
    mac.update(signed.as_bytes());
    Some(mac)
}

/// Signs claims as a vendor's server would (for `tidings widget-token` and tests).
pub fn sign(secret: &str, claims: &WidgetClaims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signed = format!("{TOKEN_PREFIX}{payload}");
    let mac = tag(secret, &signed).map(|m| URL_SAFE_NO_PAD.encode(m.finalize().into_bytes())).unwrap_or_default();
    format!("{signed}.{mac}")
}

/// The claims of a genuine, unexpired token; `None` for anything else.
fn verify(secret: &str, token: &str, now: Timestamp) -> Option<WidgetClaims> {
    if token.len() > 2_000 {
        return None;
    }
    let (signed, mac) = token.rsplit_once('.')?;
    let payload = signed.strip_prefix(TOKEN_PREFIX)?;
    let given = URL_SAFE_NO_PAD.decode(mac).ok()?;
    tag(secret, signed)?.verify_slice(&given).ok()?;
    let claims: WidgetClaims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let now_secs = now.as_millis() / 1000;
    let named = [claims.member_id.is_some(), claims.email.is_some(), claims.external_id.is_some()];
    let fresh = claims.exp > now_secs && claims.exp <= now_secs + MAX_TOKEN_DAYS * 86_400;
    (fresh && named.iter().filter(|n| **n).count() == 1).then_some(claims)
}

/// The member a widget token names, if it is genuine, unexpired, and the member can sign in.
pub async fn authenticate(app: &App, token: &str) -> Result<Member, AppError> {
    let secret = secret(app).await?;
    let claims = verify(&secret, token.trim(), app.clock.now()).ok_or(AppError::Unauthorized)?;
    let mut tx = app.db.read().await?;
    let found = match (&claims.member_id, &claims.email, &claims.external_id) {
        (Some(id), _, _) => members::get(&mut tx, *id).await.ok(),
        (_, Some(email), _) => {
            members::find_by_keys(&mut tx, &[], &[email.trim().to_lowercase()]).await?.into_iter().next()
        }
        (_, _, Some(external)) => {
            members::find_by_keys(&mut tx, std::slice::from_ref(external), &[]).await?.into_iter().next()
        }
        _ => None,
    };
    match found {
        Some(member) if member.profile.status != MemberStatus::Disabled => Ok(member),
        _ => Err(AppError::Unauthorized),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Timestamp = Timestamp::from_millis(1_800_000_000_000);

    fn claims(exp: i64) -> WidgetClaims {
        WidgetClaims { email: Some("ana@acme.example".into()), exp, ..WidgetClaims::default() }
    }

    #[test]
    fn only_genuine_fresh_tokens_for_one_member_verify() {
        let now = NOW.as_millis() / 1000;
        let good = sign("s3cret", &claims(now + 600));
        assert_eq!(verify("s3cret", &good, NOW), Some(claims(now + 600)));
        assert_eq!(verify("other", &good, NOW), None, "another secret");
        assert_eq!(verify("s3cret", &sign("s3cret", &claims(now - 1)), NOW), None, "expired");
        assert_eq!(verify("s3cret", &sign("s3cret", &claims(now + 31 * 86_400)), NOW), None, "too long");
        let two = WidgetClaims { external_id: Some("X".into()), ..claims(now + 600) };
        assert_eq!(verify("s3cret", &sign("s3cret", &two), NOW), None, "names two members");
        let (signed, mac) = good.rsplit_once('.').unwrap_or_default();
        let forged = format!(
            "{TOKEN_PREFIX}{}.{mac}",
            URL_SAFE_NO_PAD.encode(br#"{"email":"ben@acme.example","exp":1900000000}"#)
        );
        assert_eq!(verify("s3cret", &forged, NOW), None, "payload swapped");
        assert_eq!(verify("s3cret", &format!("{signed}.AAAA"), NOW), None, "bad tag");
        assert_eq!(verify("s3cret", "tw1.", NOW), None);
    }
}
