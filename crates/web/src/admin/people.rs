//! Staff and API token management (admins): add staff with a role and a first password,
//! change roles, remove people; create tokens (the secret shown once) and revoke them.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use serde::Deserialize;
use tidings_app::auth::TokenListing;
use tidings_app::{App, AppError, auth};
use tidings_core::{Staff, StaffId, StaffRole, TokenId};

use super::console::Console;
use super::shell::{PageResult, Shell, render};

#[derive(Template)]
#[template(path = "admin/staff.html")]
struct StaffPage {
    shell: Shell,
    people: Vec<Staff>,
    me: StaffId,
    roles: [StaffRole; 4],
}

pub async fn staff(State(app): State<App>, console: Console) -> PageResult {
    let people = tidings_app::staff::list_as(&app, &console.caller).await?;
    let shell = console.shell("Staff").await;
    Ok(render(StatusCode::OK, &StaffPage { shell, people, me: console.person.id, roles: StaffRole::ALL }))
}

#[derive(Deserialize)]
pub struct NewStaff {
    email: String,
    name: String,
    role: String,
    password: String,
}

pub async fn add_staff(State(app): State<App>, console: Console, Form(form): Form<NewStaff>) -> PageResult {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return Err(AppError::invalid("role", e.to_string()).into()),
    };
    let added = async {
        let person = tidings_app::staff::add(&app, &console.caller, &form.email, &form.name, role).await?;
        tidings_app::passwords::set_staff(&app, &console.caller, person.email.as_str(), &form.password).await
    };
    let person = added.await?;
    console.flash(format!("{} can now sign in as {}.", person.name, person.role)).await;
    Ok(Redirect::to("/admin/staff").into_response())
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
) -> PageResult {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return Err(AppError::invalid("role", e.to_string()).into()),
    };
    let person = tidings_app::staff::set_role(&app, &console.caller, id, role).await?;
    console.flash(format!("{} is now {}.", person.name, person.role)).await;
    Ok(Redirect::to("/admin/staff").into_response())
}

pub async fn remove_staff(State(app): State<App>, console: Console, Path(id): Path<StaffId>) -> PageResult {
    let () = tidings_app::staff::remove(&app, &console.caller, id).await?;
    console.flash("Removed: they are signed out at once.").await;
    Ok(Redirect::to("/admin/staff").into_response())
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

async fn tokens_page(app: &App, console: &Console, created: Option<(String, String)>) -> PageResult {
    let tokens = auth::list_tokens(app, &console.caller).await?;
    let shell = console.shell("API tokens").await;
    Ok(render(StatusCode::OK, &TokensPage { shell, tokens, roles: StaffRole::ALL, created }))
}

pub async fn tokens(State(app): State<App>, console: Console) -> PageResult {
    tokens_page(&app, &console, None).await
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
}

/// Makes a token and shows its secret on this answer alone (never stored, never again).
pub async fn create_token(State(app): State<App>, console: Console, Form(form): Form<NewToken>) -> PageResult {
    let role = match form.role.parse::<StaffRole>() {
        Ok(role) => role,
        Err(e) => return Err(AppError::invalid("role", e.to_string()).into()),
    };
    let (token, secret) = auth::create_token(&app, &console.caller, &form.name, role, Some(console.person.id)).await?;
    tokens_page(&app, &console, Some((token.name, secret))).await
}

pub async fn revoke_token(State(app): State<App>, console: Console, Path(id): Path<TokenId>) -> PageResult {
    let () = auth::revoke_token(&app, &console.caller, id).await?;
    console.flash("Token revoked: calls made with it are refused from now on.").await;
    Ok(Redirect::to("/admin/tokens").into_response())
}
