//! Extractors whose rejections are problem documents, and the bearer-token caller.

use std::net::IpAddr;

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use tidings_app::{App, AppError, Caller, auth};

use crate::error::{ApiError, Problem, problem};

/// A JSON object body; a malformed or mistyped body is a 400 (syntax) or 422 (shape)
/// problem. Every body the API takes is an object: serde would also fill a struct from an
/// array (`[]` as an empty policy), so anything else is refused.
pub struct Json<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = Problem;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with 'Content-Type: application/json'",
            ));
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(problem(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the body is larger than 2 MB",
                ));
            }
            Err(e) => return Err(problem(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        };
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(_) if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') => {
                Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", "the body must be a JSON object"))
            }
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", e.body_text()))
            }
            Err(e) => Err(problem(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        }
    }
}

/// `application/json`, or any `application/...+json`, with or without parameters.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// A path parameter, such as an id; one that does not parse is a 400 problem.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(PathRejection::FailedToDeserializePathParams(_)) => {
                Err(problem(StatusCode::BAD_REQUEST, "bad_request", "the id in the path is not a valid UUID"))
            }
            Err(e) => Err(problem(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        }
    }
}

/// Query parameters; bad ones are a 400 problem that names them.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(e) => Err(problem(StatusCode::BAD_REQUEST, "bad_request", e.body_text())),
        }
    }
}

/// The token of `Authorization: Bearer <token>`.
fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
        .ok_or(ApiError(AppError::Unauthorized))
}

/// The request's `x-request-id` (set by the router when the client sent none).
pub(crate) fn request_id(parts: &Parts) -> Option<&str> {
    parts.headers.get("x-request-id").and_then(|v| v.to_str().ok())
}

/// The staff caller named by `Authorization: Bearer <token>`.
pub struct Staff(pub Caller);

impl FromRequestParts<App> for Staff {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let bearer = bearer(parts)?;
        let caller = auth::authenticate(app, bearer.trim()).await?;
        Ok(Self(caller.in_request(request_id(parts))))
    }
}

/// A request body only some roles may send, with the staff caller who sent it. The role
/// is checked before the body is read: a caller without the right gets 403 whatever they
/// send, and learns nothing of the body's shape from a 422.
pub struct Permitted<T>(pub Caller, pub T);

/// What sending a body of this type requires (the same action its use case checks).
pub trait Requires {
    const ACTION: tidings_core::Action;
    /// What the caller is doing, as the refusal says it ("compose messages").
    const DOING: &'static str;
}

impl<T: Requires + DeserializeOwned> FromRequest<App> for Permitted<T> {
    type Rejection = axum::response::Response;

    async fn from_request(req: Request, app: &App) -> Result<Self, Self::Rejection> {
        use axum::response::IntoResponse;
        let (mut parts, body) = req.into_parts();
        let Staff(caller) = Staff::from_request_parts(&mut parts, app).await.map_err(IntoResponse::into_response)?;
        caller.require(T::ACTION, T::DOING).map_err(|e| ApiError(e).into_response())?;
        let Json(value) = Json::<T>::from_request(Request::from_parts(parts, body), app)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self(caller, value))
    }
}

/// The member named by `Authorization: Bearer <member token>`: one Tidings issued (see
/// `tidings_app::inbox`) or one the vendor's server signed for the widget (`tw1.`, see
/// `tidings_app::widget`).
pub struct MemberCaller(pub tidings_core::Member, pub MemberTokenKind);

/// Which kind of token named the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberTokenKind {
    /// Issued by Tidings (`tidings member-token`, the inbox API).
    Tidings,
    /// Signed by the vendor's server for the widget.
    Widget,
}

impl MemberCaller {
    /// How an acknowledgment through this caller is recorded in the evidence log.
    pub fn acknowledging(&self) -> tidings_app::evidence::record::AckContext {
        use tidings_app::evidence::record::AckContext;
        match self.1 {
            MemberTokenKind::Tidings => AckContext::API,
            MemberTokenKind::Widget => AckContext::WIDGET,
        }
    }
}

impl FromRequestParts<App> for MemberCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let bearer = bearer(parts)?.trim();
        if bearer.starts_with(tidings_app::widget::TOKEN_PREFIX) {
            Ok(Self(tidings_app::widget::authenticate(app, bearer).await?, MemberTokenKind::Widget))
        } else {
            Ok(Self(tidings_app::inbox::authenticate(app, bearer).await?, MemberTokenKind::Tidings))
        }
    }
}

/// Where a request came from, as kept with acknowledgments and engagement events: the
/// peer address, unless the peer is one of `App::trusted_proxies`; then the
/// `X-Forwarded-For` chain is read from the right, past the trusted proxies, to the first
/// address they did not add. A client cannot choose the address recorded for it by
/// sending the header itself. And the user agent.
pub struct RequestOrigin(pub tidings_app::inbox::Origin);

impl FromRequestParts<App> for RequestOrigin {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let peer = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
        let ip = peer.map(|peer| client_address(peer, header("x-forwarded-for").as_deref(), &app.trusted_proxies));
        let user_agent = header("user-agent").map(|ua| ua.chars().take(500).collect());
        Ok(Self(tidings_app::inbox::Origin { ip: ip.map(|ip| ip.to_string()), user_agent }))
    }
}

fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops = forwarded_for.unwrap_or_default().split(',').rev().map(|hop| hop.trim().parse::<IpAddr>());
    let mut client = peer;
    for hop in hops {
        match hop {
            Ok(ip) if trusted.contains(&ip) => client = ip,
            Ok(ip) => return ip,
            // A malformed hop: nothing left of it can be trusted.
            Err(_) => return client,
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::client_address;

    #[test]
    fn only_trusted_proxies_can_name_the_client() {
        let ip = |s: &str| s.parse().unwrap_or(std::net::IpAddr::from([0, 0, 0, 0]));
        let proxy = [ip("10.0.0.1")];
        assert_eq!(
            client_address(ip("203.0.113.9"), Some("198.51.100.1"), &proxy),
            ip("203.0.113.9"),
            "not via a proxy"
        );
        assert_eq!(client_address(ip("10.0.0.1"), Some("198.51.100.1"), &proxy), ip("198.51.100.1"));
        assert_eq!(
            client_address(ip("10.0.0.1"), Some("6.6.6.6, 198.51.100.1"), &proxy),
            ip("198.51.100.1"),
            "a client's own X-Forwarded-For entry is left of what the proxy added"
        );
        assert_eq!(client_address(ip("10.0.0.1"), Some("198.51.100.1, 10.0.0.1"), &proxy), ip("198.51.100.1"));
        assert_eq!(client_address(ip("10.0.0.1"), None, &proxy), ip("10.0.0.1"));
        assert_eq!(client_address(ip("10.0.0.1"), Some("junk"), &proxy), ip("10.0.0.1"));
        assert_eq!(client_address(ip("127.0.0.1"), Some("198.51.100.1"), &[]), ip("127.0.0.1"), "no proxy trusted");
    }
}
