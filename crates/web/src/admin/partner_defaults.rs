//! A partner's defaults for its people (topics on or off, the digest) as a form, in the
//! console's partner page and the lead's team page in the portal: `digest` is empty for
//! the vendor's policy, and each `topic:<key>` is `on`, `off` or empty for the vendor's.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use tidings_app::noise::{self, PartnerDefaultsInput};
use tidings_app::partner_channels::PartnerAdmin;
use tidings_app::{App, AppError};
use tidings_core::PartnerId;

use super::console::Console;
use super::shell::PageResult;

/// The form's fields as the use case's input; a value other than those offered is an error.
pub fn input_from(pairs: &[(String, String)]) -> Result<PartnerDefaultsInput, AppError> {
    let mut input = PartnerDefaultsInput::default();
    for (name, value) in pairs {
        if name == "digest" {
            input.digest = match value.trim() {
                "" => None,
                other => Some(other.parse().map_err(|e: tidings_core::noise::DigestFrequencyError| {
                    AppError::invalid("digest", e.to_string())
                })?),
            };
        } else if let Some(key) = name.strip_prefix("topic:") {
            match value.as_str() {
                "" => {}
                "on" => {
                    input.topics.insert(key.to_owned(), true);
                }
                "off" => {
                    input.topics.insert(key.to_owned(), false);
                }
                other => return Err(AppError::invalid("topics", format!("'{other}' is not on, off or empty"))),
            }
        }
    }
    Ok(input)
}

pub async fn save(
    State(app): State<App>,
    console: Console,
    Path(id): Path<PartnerId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResult {
    let input = input_from(&pairs)?;
    match noise::set_partner_defaults(&app, PartnerAdmin::Staff(&console.caller), id, &input).await {
        Ok(_) => console.flash("The partner's defaults were saved.").await,
        Err(AppError::Invalid(errors)) => console.flash(format!("The defaults were not saved: {errors}")).await,
        Err(e) => return Err(e.into()),
    }
    Ok(Redirect::to(&format!("/admin/partners/{id}#defaults")).into_response())
}
