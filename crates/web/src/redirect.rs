//! Redirects whose target comes from outside the code (a form's `back` field, a tracked
//! link's target): a target that cannot be a `Location` header (a line break, a control
//! character) is answered with 400, never a panic (axum's `Redirect::to` panics on one).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A 303 to `target`, or 400 when `target` cannot be a header value.
pub fn see_other(target: &str) -> Response {
    match HeaderValue::from_str(target) {
        Ok(location) => (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, "the redirect target is not a valid address").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_with_a_line_break_is_refused_not_a_panic() {
        assert_eq!(see_other("/portal/messages/1").status(), StatusCode::SEE_OTHER);
        assert_eq!(see_other("/portal\r\nSet-Cookie: x=1").status(), StatusCode::BAD_REQUEST);
        assert_eq!(see_other("https://vendor.example/a b\n").status(), StatusCode::BAD_REQUEST);
    }
}
