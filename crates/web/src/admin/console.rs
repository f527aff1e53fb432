//! Who is asking, for every console page: a guest's session with its CSRF token, and for
//! pages behind sign-in, the staff person the session names. The session holds only an
//! id; the person is read again on every request, so a removed person or a changed role
//! takes effect at once.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tidings_app::{App, AppError, Caller, sign_in};
use tidings_core::{Staff, StaffId};
use tower_sessions::Session;

use super::shell::{Shell, failure};
use crate::csrf::SESSION_KEY as CSRF;

pub(crate) const STAFF: &str = "staff";
const FLASH: &str = "flash";

/// Anyone, signed in or not.
pub struct Guest {
    pub session: Session,
    pub csrf: String,
}

impl Guest {
    /// Signs the person in: a new session id (so an id planted before sign-in is worth
    /// nothing after it) and a new CSRF token.
    pub async fn sign_in(&self, person: StaffId) -> Result<(), AppError> {
        self.session.cycle_id().await.map_err(unexpected)?;
        self.session.insert(STAFF, person).await.map_err(unexpected)?;
        self.session.insert(CSRF, sign_in::form_token()?).await.map_err(unexpected)?;
        Ok(())
    }

    pub async fn sign_out(&self) -> Result<(), AppError> {
        self.session.flush().await.map_err(unexpected)
    }
}

fn unexpected(e: tower_sessions::session::Error) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("session: {e}"))
}

impl FromRequestParts<App> for Guest {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let session = Session::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        let csrf = crate::csrf::token(&session).await.map_err(failure)?;
        Ok(Self { session, csrf })
    }
}

/// A signed-in staff person; anyone else is sent to the sign-in page.
pub struct Console {
    pub person: Staff,
    /// The person as the app's use cases know a caller: their role decides what they may do.
    pub caller: Caller,
    pub guest: Guest,
    pub path: String,
    catching: super::shell::Catching,
}

impl FromRequestParts<App> for Console {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let to_sign_in = || Redirect::to("/admin/sign-in").into_response();
        let session = Session::from_request_parts(parts, app).await.map_err(IntoResponse::into_response)?;
        let id = session.get::<StaffId>(STAFF).await.ok().flatten().ok_or_else(to_sign_in)?;
        let guest = Guest::from_request_parts(parts, app).await?;
        match tidings_app::staff::signed_in(app, id).await {
            Ok(person) => {
                let caller = Caller::staff(&person).in_request(crate::extract::request_id(parts));
                let catching = super::shell::Catching {
                    mail: tidings_app::mail_catcher::catching(app),
                    chats: app.chat_catcher.is_some(),
                };
                Ok(Self { person, caller, guest, path: parts.uri.path().to_owned(), catching })
            }
            Err(AppError::Unauthorized) => {
                let _ = guest.sign_out().await;
                Err(to_sign_in())
            }
            Err(e) => Err(failure(e)),
        }
    }
}

/// A note shown once on the next page, after a redirect.
#[derive(Serialize, Deserialize)]
struct Flash(String);

impl Console {
    /// The frame of a page in this person's console.
    pub async fn shell(&self, title: impl Into<String>) -> Shell {
        let flash = self.take_flash().await;
        Shell::new(&self.person, self.guest.csrf.clone(), &self.path, title.into(), flash, self.catching)
    }

    pub async fn flash(&self, text: impl Into<String>) {
        let _ = self.guest.session.insert(FLASH, Flash(text.into())).await;
    }

    async fn take_flash(&self) -> Option<String> {
        let session = &self.guest.session;
        session.get::<Flash>(FLASH).await.ok().flatten()?;
        session.remove::<Flash>(FLASH).await.ok().flatten().map(|f| f.0)
    }
}
