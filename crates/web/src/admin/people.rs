//! Staff and API token management (admins): add staff with a role and a first password,
//! change roles, remove people; create tokens (the secret shown once) and revoke them.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tidings_app::{App, AppError, auth};
use tidings_core::{Staff, StaffId, StaffRole, TokenId};
use tidings_store::tokens::TokenListing;

use super::console::Console;
use super::shell::{Shell, failure, render};

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    shell: Shell,
    people: Vec<Staff>,
    me: StaffId,
    roles: [StaffRole; 4],
}

pub async fn staff(State(app): State<App>, console: Console) -> Response {
    match tidings_app::staff::list_as(&app, &console.caller).await {
        Ok(people) => {
            let shell = console.shell("Staff").await;
            render(StatusCode::OK, &StaffPage { shell, people, me: console.person.id, roles: StaffRole::ALL })
        }
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
pub struct NewStaff {
    email: String,
    name: String,
    role: String,
    password: String,
}

pub async fn add_staff(State(app): State<App>, console: Console, Form(form): Form<NewStaff>) -> Response {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return failure(AppError::invalid("role", e.to_string())),
    };
    let added = async {
        let person = tidings_app::staff::add(&app, &console.caller, &form.email, &form.name, role).await?;
        tidings_app::passwords::set_staff(&app, &console.caller, person.email.as_str(), &form.password).await
    };
    match added.await {
        Ok(person) => {
            console.flash(format!("{} can now sign in as {}.", person.name, person.role)).await;
            Redirect::to("/admin/staff").into_response()
        }
        Err(e) => failure(e),
    }
}

#[derive(Deserialize)]
pub struct RoleForm {
    role: String,
}

pub async fn set_role(
    State(app): State<App>,
    console: Console,
    Path(id): Path<StaffId>,
    Form(form): Form<RoleForm>,
) -> Response {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return failure(AppError::invalid("role", e.to_string())),
    };
    match tidings_app::staff::set_role(&app, &console.caller, id, role).await {
        Ok(person) => {
            console.flash(format!("{} is now {}.", person.name, person.role)).await;
            Redirect::to("/admin/staff").into_response()
        }
        Err(e) => failure(e),
    }
}

pub async fn remove_staff(State(app): State<App>, console: Console, Path(id): Path<StaffId>) -> Response {
    match tidings_app::staff::remove(&app, &console.caller, id).await {
        Ok(()) => {
            console.flash("Removed: they are signed out at once.").await;
            Redirect::to("/admin/staff").into_response()
        }
        Err(e) => failure(e),
    }
}

#[derive(Template)]
#[template(path = "admin/tokens.html")]
struct TokensPage {
    shell: Shell,
    tokens: Vec<TokenListing>,
    roles: [StaffRole; 4],
    /// A token just made: its secret, shown this once.
    created: Option<(String, String)>,
}

async fn tokens_page(app: &App, console: &Console, created: Option<(String, String)>) -> Response {
    match auth::list_tokens(app, &console.caller).await {
        Ok(tokens) => {
            let shell = console.shell("API tokens").await;
            render(StatusCode::OK, &TokensPage { shell, tokens, roles: StaffRole::ALL, created })
        }
        Err(e) => failure(e),
    }
}

pub async fn tokens(State(app): State<App>, console: Console) -> Response {
    tokens_page(&app, &console, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
}

/// Makes a token and shows its secret on this answer alone (never stored, never again).
pub async fn create_token(State(app): State<App>, console: Console, Form(form): Form<NewToken>) -> Response {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return failure(AppError::invalid("role", e.to_string())),
    };
    match auth::create_token(&app, &console.caller, &form.name, role, Some(console.person.id)).await {
        Ok((token, secret)) => tokens_page(&app, &console, Some((token.name, secret))).await,
        Err(e) => failure(e),
    }
}

pub async fn revoke_token(State(app): State<App>, console: Console, Path(id): Path<TokenId>) -> Response {
    match auth::revoke_token(&app, &console.caller, id).await {
        Ok(()) => {
            console.flash("Token revoked: calls made with it are refused from now on.").await;
            Redirect::to("/admin/tokens").into_response()
        }
        Err(e) => failure(e),
    }
}
