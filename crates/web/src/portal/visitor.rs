//! Who is asking, for every portal page: a visitor's session with its CSRF token and
//! language, and for pages behind sign-in, the member the session names. A session names
//! only a member id; the member is read again on every request, so one disabled or erased
//! since is signed out at once.

use axum::extract::FromRequestParts;
use axum::http::header::ACCEPT_LANGUAGE;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tidings_app::{App, AppError, sign_in};
use tidings_core::{Member, MemberId, MessageId};
use tower_sessions::Session;

use super::page::{Frame, failure};
use tidings_app::i18n::Tr;

pub(crate) const MEMBER: &str = "member";
use crate::csrf::SESSION_KEY as CSRF;
const FLASH: &str = "flash";
const DISMISSED: &str = "dismissed";
const ACTIVE_DAY: &str = "active_day";

/// Any visitor, signed in or not.
pub struct Visitor {
    pub session: Session,
    pub csrf: String,
    pub tr: Tr,
    /// The path asked for, so a page can send the visitor back to it.
    pub path: String,
}

impl Visitor {
    pub fn frame(&self) -> Frame {
        Frame::new(self.tr.clone(), self.csrf.clone(), self.path.clone())
    }

    /// Signs the member in: a new session id (so an id planted before sign-in is worth
    /// nothing after it) and a new CSRF token.
    pub async fn sign_in(&self, member: MemberId) -> Result<(), AppError> {
        self.session.cycle_id().await.map_err(unexpected)?;
        self.session.insert(MEMBER, member).await.map_err(unexpected)?;
        self.session.insert(CSRF, sign_in::form_token()?).await.map_err(unexpected)?;
        self.session.remove::<Vec<MessageId>>(DISMISSED).await.map_err(unexpected)?;
        Ok(())
    }

    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.session.flush().await.map_err(unexpected)
    }
}

fn unexpected(e: tower_sessions::session::Error) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {e}"))
}

impl FromRequestParts<App> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        let tr = Tr::for_accept_language(parts.headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()));
        let csrf = crate::csrf::token(&session).await.map_err(|e| failure(&tr, e))?;
        Ok(Self { session, csrf, tr, path: parts.uri.path().to_owned() })
    }
}

/// A signed-in member; anyone else is sent to the sign-in page.
pub struct Signed {
    pub member: Member,
    pub visitor: Visitor,
}

impl FromRequestParts<App> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/portal/sign-in").into_response();
        // Checked before the visitor is made, so a stranger's redirect starts no session.
        let session = Session::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        let id = session.get::<MemberId>(MEMBER).await.ok().flatten().ok_or_else(to_sign_in)?;
        let mut visitor = Visitor::from_request_parts(parts, app).await?;
        match sign_in::member(app, id).await {
            Ok(member) => {
                visitor.tr = Tr::for_locale(member.profile.locale.as_str());
                let signed = Self { member, visitor };
                signed.mark_active_day(app.clock.now()).await;
                Ok(signed)
            }
            Err(AppError::Unauthorized) => {
                let _ = visitor.sign_out().await;
                Err(to_sign_in())
            }
            Err(e) => Err(failure(&visitor.tr, e)),
        }
    }
}

/// A note shown once on the next page, after a redirect.
#[derive(Serialize, Deserialize)]
struct Flash(String);

impl Signed {
    pub async fn flash(&self, text: String) {
        let _ = self.visitor.session.insert(FLASH, Flash(text)).await;
    }

    pub async fn take_flash(&self) -> Option<String> {
        // Removing marks the session changed, which saves it: only when there is a note.
        let session = &self.visitor.session;
        session.get::<Flash>(FLASH).await.ok().flatten()?;
        session.remove::<Flash>(FLASH).await.ok().flatten().map(|f| f.0)
    }

    /// Keeps an active member's session alive: a session is saved (and its expiry moved
    /// 14 days on) only when it changes, so a signed-in request marks the day once, which
    /// costs one write a day instead of one a request.
    async fn mark_active_day(&self, now: tidings_core::Timestamp) {
        let day = now.as_millis() / 86_400_000;
        let session = &self.visitor.session;
        if session.get::<i64>(ACTIVE_DAY).await.ok().flatten() != Some(day) {
            let _ = session.insert(ACTIVE_DAY, day).await;
        }
    }

    /// Critical messages the member closed for now; they come back in the next session.
    pub async fn dismissed(&self) -> Vec<MessageId> {
        self.visitor.session.get::<Vec<MessageId>>(DISMISSED).await.ok().flatten().unwrap_or_default()
    }

    pub async fn dismiss(&self, message: MessageId) -> Result<(), AppError> {
        let mut dismissed = self.dismissed().await;
        if !dismissed.contains(&message) {
            dismissed.push(message);
        }
        self.visitor.session.insert(DISMISSED, dismissed).await.map_err(unexpected)
    }
}
