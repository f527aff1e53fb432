//! The one error type of the use cases, with the HTTP status and stable code each kind of
//! error answers with on every surface (API, console, portal), stated once here.

use tidings_core::FieldErrors;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("missing or invalid credentials")]
    Unauthorized,
    #[error("your role may not {0}")]
    Forbidden(&'static str),
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(String),
    /// Asked too often: wait and try again.
    #[error("{0}")]
    TooMany(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        Self::Invalid(FieldErrors::single(field, message))
    }

    /// The HTTP status this error answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Unauthorized => 401,
            Self::Forbidden(_) => 403,
            Self::Invalid(_) => 422,
            Self::Conflict(_) => 409,
            Self::TooMany(_) => 429,
            Self::Unexpected(_) => 500,
        }
    }

    /// A stable, machine-readable name of the kind of error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::Forbidden(_) => "forbidden",
            Self::Invalid(_) => "invalid_input",
            Self::Conflict(_) => "conflict",
            Self::TooMany(_) => "rate_limited",
            Self::Unexpected(_) => "internal",
        }
    }
}

impl From<FieldErrors> for AppError {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<tidings_store::Error> for AppError {
    fn from(error: tidings_store::Error) -> Self {
        match error {
            tidings_store::Error::NotFound => Self::NotFound("record"),
            tidings_store::Error::Conflict(message) => Self::Conflict(message),
            other => Self::Unexpected(other.into()),
        }
    }
}

/// Maps the store's generic `NotFound` to the thing that was looked for.
pub(crate) fn not_found(what: &'static str) -> impl FnOnce(tidings_store::Error) -> AppError {
    move |e| match e {
        tidings_store::Error::NotFound => AppError::NotFound(what),
        other => other.into(),
    }
}

impl From<tidings_core::messages::MessageError> for AppError {
    fn from(error: tidings_core::messages::MessageError) -> Self {
        match error {
            tidings_core::messages::MessageError::SendTimeInPast => Self::invalid("send_at", error.to_string()),
            other => Self::Conflict(other.to_string()),
        }
    }
}
