//! What every operation may answer besides its own success, written into the OpenAPI
//! description once rather than on each handler: errors leave as RFC 9457
//! `application/problem+json` (the `Problem` schema), and which ones an operation can meet
//! follows from its shape (a body can be malformed or of the wrong type, a path names a
//! record that may not exist, every caller must present a token).

use std::collections::BTreeMap;

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Response, ResponseBuilder};

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Whether an operation of this shape can meet an error.
type Meets = fn(&Shape) -> bool;

/// Status, when an operation can meet it, and what it means.
const ERRORS: [(&str, Meets, &str); 7] = [
    (
        "400",
        |s| s.body || s.path || s.query,
        "Malformed request: a body that is not JSON of the expected shape, or a path or query value of the wrong type or out of range",
    ),
    ("401", |_| true, "No token, or a token that is unknown, revoked or expired"),
    ("403", |s| !s.member, "The token's role may not do this"),
    ("404", |s| s.path, "No such record"),
    (
        "409",
        |s| (s.body || s.delete) && !s.member,
        "The record is in a state that does not allow this, or the change clashes with another record",
    ),
    ("415", |s| s.body, "A body that is not of the documented content type"),
    ("422", |s| s.body || s.query, "Values that are well-formed but not valid, field by field"),
];

/// What an operation takes, as far as its possible errors go.
struct Shape {
    body: bool,
    path: bool,
    query: bool,
    /// Called with a member token (the inbox), which has no role.
    member: bool,
    /// A deletion, refused while other records refer to the record.
    delete: bool,
}

impl Shape {
    fn of(operation: &Operation, delete: bool) -> Self {
        let located = |place: ParameterIn| {
            operation.parameters.iter().flatten().any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
        };
        Self {
            body: operation.request_body.is_some(),
            path: located(ParameterIn::Path),
            query: located(ParameterIn::Query),
            member: operation.tags.iter().flatten().any(|t| t == "inbox"),
            delete,
        }
    }
}

/// Documents every operation's possible errors as problems.
pub fn document(spec: &mut OpenApi) {
    for item in spec.paths.paths.values_mut() {
        let operations = [
            (&mut item.get, false),
            (&mut item.put, false),
            (&mut item.post, false),
            (&mut item.delete, true),
            (&mut item.patch, false),
        ];
        for (operation, delete) in operations {
            let Some(operation) = operation else { continue };
            let shape = Shape::of(operation, delete);
            let responses = &mut operation.responses.responses;
            for response in responses.values_mut() {
                as_problem_json(response);
            }
            for (status, applies, meaning) in ERRORS {
                if applies(&shape) && !responses.contains_key(status) {
                    responses.insert(status.to_owned(), RefOr::T(problem(meaning)));
                }
            }
        }
    }
}

fn problem(description: &str) -> Response {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .build()
}

/// A response documented with the `Problem` schema as JSON is sent as a problem.
fn as_problem_json(response: &mut RefOr<Response>) {
    let RefOr::T(response) = response else { return };
    let is_problem = |content: &RefOr<utoipa::openapi::Content>| matches!(content, RefOr::T(c) if matches!(&c.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/Problem")));
    let problems: BTreeMap<String, RefOr<utoipa::openapi::Content>> = response
        .content
        .iter()
        .filter(|(media, content)| media.as_str() == "application/json" && is_problem(content))
        .map(|(m, c)| (m.clone(), c.clone()))
        .collect();
    for (media, content) in problems {
        response.content.shift_remove(&media);
        response.content.insert(PROBLEM_JSON.to_owned(), content);
    }
}
