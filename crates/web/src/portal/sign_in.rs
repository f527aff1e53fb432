//! Signing in with an emailed link, and out. Asking for a link answers the same for any
//! well-formed address. Opening the link only shows a button: the POST behind it signs in,
//! because mail scanners open links and must not use them up.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tidings_app::{App, AppError, sign_in};

use super::page::{Frame, OrPage, PortalResult, render};
use super::visitor::Visitor;

#[derive(Template)]
#[template(path = "portal/sign_in.html")]
struct SignInPage {
    frame: Frame,
    email: String,
    error: Option<String>,
    password_error: Option<String>,
}

#[derive(Template)]
#[template(path = "portal/sign_in_sent.html")]
struct SentPage {
    frame: Frame,
    email: String,
}

#[derive(Template)]
#[template(path = "portal/sign_in_link.html")]
struct LinkPage {
    frame: Frame,
    failed: bool,
}

pub async fn form(visitor: Visitor) -> Response {
    render(
        StatusCode::OK,
        &SignInPage { frame: visitor.frame(), email: String::new(), error: None, password_error: None },
    )
}

#[derive(Deserialize)]
pub struct LinkRequest {
    #[serde(default)]
    email: String,
}

pub async fn request(State(app): State<App>, visitor: Visitor, Form(form): Form<LinkRequest>) -> PortalResult {
    let email = form.email.trim().to_owned();
    match sign_in::request_link(&app, &email) {
        Ok(()) => Ok(render(StatusCode::OK, &SentPage { frame: visitor.frame(), email })),
        Err(AppError::Invalid(errors)) => Ok(render(
            StatusCode::BAD_REQUEST,
            &SignInPage { frame: visitor.frame(), email, error: Some(errors.to_string()), password_error: None },
        )),
        Err(e) => Err(e).or_page(&visitor.tr),
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

/// Signs in with a password; a wrong password and an unknown address read the same.
pub async fn password(State(app): State<App>, visitor: Visitor, Form(form): Form<PasswordForm>) -> PortalResult {
    match tidings_app::passwords::sign_in(&app, &form.email, &form.password).await {
        Ok(member) => {
            visitor.sign_in(member).await.or_page(&visitor.tr)?;
            Ok(Redirect::to("/portal").into_response())
        }
        Err(AppError::Invalid(_)) => {
            let error = Some(visitor.tr.text("sign-in-password-wrong"));
            let email = form.email.trim().to_owned();
            Ok(render(
                StatusCode::BAD_REQUEST,
                &SignInPage { frame: visitor.frame(), email, error: None, password_error: error },
            ))
        }
        Err(e) => Err(e).or_page(&visitor.tr),
    }
}

pub async fn landing(visitor: Visitor) -> Response {
    render(StatusCode::OK, &LinkPage { frame: visitor.frame(), failed: false })
}

pub async fn redeem(State(app): State<App>, visitor: Visitor, Path(token): Path<String>) -> PortalResult {
    match sign_in::redeem(&app, &token).await {
        Ok(member) => {
            visitor.sign_in(member).await.or_page(&visitor.tr)?;
            Ok(Redirect::to("/portal").into_response())
        }
        Err(AppError::Invalid(_)) => {
            Ok(render(StatusCode::BAD_REQUEST, &LinkPage { frame: visitor.frame(), failed: true }))
        }
        Err(e) => Err(e).or_page(&visitor.tr),
    }
}

pub async fn sign_out(visitor: Visitor) -> PortalResult {
    visitor.sign_out().await.or_page(&visitor.tr)?;
    Ok(Redirect::to("/portal/sign-in").into_response())
}
