//! Staff sign in with their email address and password; a wrong password and an unknown
//! address read the same.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tidings_app::{App, AppError};

use super::console::Guest;
use super::shell::{PageResult, render};

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    csrf: String,
    email: String,
    error: Option<&'static str>,
}

pub async fn form(guest: Guest) -> Response {
    render(StatusCode::OK, &SignInPage { csrf: guest.csrf, email: String::new(), error: None })
}

#[derive(Deserialize)]
pub struct Credentials {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn submit(State(app): State<App>, guest: Guest, Form(form): Form<Credentials>) -> PageResult {
    match tidings_app::passwords::staff_sign_in(&app, &form.email, &form.password).await {
        Ok(person) => {
            guest.sign_in(person.id).await?;
            Ok(Redirect::to("/admin").into_response())
        }
        Err(AppError::Invalid(_)) => Ok(render(
            StatusCode::BAD_REQUEST,
            &SignInPage {
                csrf: guest.csrf,
                email: form.email.trim().to_owned(),
                error: Some("The email address or the password is wrong."),
            },
        )),
        Err(e) => Err(e.into()),
    }
}

pub async fn sign_out(guest: Guest) -> PageResult {
    guest.sign_out().await?;
    Ok(Redirect::to("/admin/sign-in").into_response())
}
