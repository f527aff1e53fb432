//! Every error leaves as RFC 9457 `application/problem+json`, with a stable `code`.
//! Internal details are logged, never sent.

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use tidings_app::AppError;
use tidings_core::FieldError;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// What went wrong in this case, in words a person can act on.
    pub detail: String,
    /// A stable machine-readable code, such as `invalid_input` or `not_found`.
    pub code: &'static str,
    /// The fields at fault, for `invalid_input`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra data for some problems (such as an import report).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<serde_json::Value>,
}

#[derive(Debug)]
pub struct ApiError(pub AppError);

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

pub fn problem(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
    Problem {
        kind: format!("https://tidings.dev/problems/{}", code.replace('_', "-")),
        title: status.canonical_reason().unwrap_or("Error").to_owned(),
        status: status.as_u16(),
        detail: detail.into(),
        code,
        errors: Vec::new(),
        report: None,
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (status, Json(self)).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/problem+json"));
        response
    }
}

/// The status of an application error, from the one table in `AppError::status`.
pub fn status_of(error: &AppError) -> StatusCode {
    StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

/// The status of an error shown as a page (console and portal). One rule differs from the
/// API: a refused form answers 400, as browsers expect of a form shown again with what was
/// wrong; the API answers 422, so a client tells bad values from a malformed request.
pub fn page_status(error: &AppError) -> StatusCode {
    match error {
        AppError::Invalid(_) => StatusCode::BAD_REQUEST,
        other => status_of(other),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = (status_of(&self.0), self.0.code());
        let detail = match &self.0 {
            AppError::NotFound(what) => format!("{what} not found"),
            AppError::Unauthorized => {
                "send a valid API token as 'Authorization: Bearer tid_...' (create one with 'tidings token create')"
                    .to_owned()
            }
            AppError::Forbidden(doing) => format!("your role may not {doing}"),
            AppError::Invalid(errors) => errors.to_string(),
            AppError::Conflict(message) | AppError::TooMany(message) => message.clone(),
            AppError::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                "something went wrong on our side; it has been logged".to_owned()
            }
        };
        let mut p = problem(status, code, detail);
        if let AppError::Invalid(errors) = &self.0 {
            p.errors = errors.iter().cloned().collect();
        }
        let mut response = p.into_response();
        if matches!(self.0, AppError::Unauthorized) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub async fn not_found() -> Problem {
    problem(StatusCode::NOT_FOUND, "not_found", "no such route; see /api/v1/openapi.json for the API")
}

pub async fn method_not_allowed() -> Problem {
    problem(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this route does not take that method")
}
