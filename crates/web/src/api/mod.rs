//! `/api/v1`: JSON over HTTP for staff tools and integrations, authenticated with API
//! tokens. Every route is registered through `routes!`, so the OpenAPI description is
//! generated from the same handlers the router serves.

mod approvals;
mod audiences;
mod audit;
mod automation;
mod channel_setup;
mod compliance;
mod consent;
mod corrections;
mod evidence;
mod groups;
mod imports;
pub(crate) mod inbox;
mod ladders;
mod members;
mod messages;
mod noise;
mod nominees;
mod obligations;
mod partner_channels;
mod partners;
mod permits;
mod problems;
mod required;
mod segments;
mod sending;
mod system;
mod topics;
mod vocabulary;
mod webhooks;

use axum::Json;
use serde::Serialize;
use tidings_app::App;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Tidings API", description = "Partner communications: the partner directory, imports and, as they land, audiences, messages and evidence."),
    modifiers(&BearerAuth),
    // Named by query parameters only, which do not bring their schemas along.
    components(schemas(tidings_core::Role, partner_channels::Service, automation::TaskState)),
    security(("bearer" = [])),
    tags(
        (name = "partners", description = "Partner organizations"),
        (name = "webhooks", description = "Signed webhooks to the vendor's and partners' systems"),
        (name = "channels", description = "What each channel is set up with and can reach, and the web push key"),
        (name = "system", description = "The running system: nodes, queue, jobs, database"),
        (name = "members", description = "People at partners"),
        (name = "topics", description = "What messages are about"),
        (name = "partner-groups", description = "Static sets of partners"),
        (name = "imports", description = "Bulk CSV imports"),
        (name = "audiences", description = "Segments, audience previews and explanations"),
        (name = "consent", description = "Consent records and member preferences"),
        (name = "messages", description = "Composing messages: drafts, schedules, previews"),
        (name = "sending", description = "Releasing messages, their events and reports, bounces"),
        (name = "compliance", description = "Who acknowledged each must-know message, partner by partner, and the evidence as CSV"),
        (name = "chase", description = "Escalation ladders: reminders to who has not acknowledged, then their partner's lead, then the partner manager; a message's chase and a dry run of its next step"),
        (name = "automation", description = "Events from the vendor's CRM or PRM (deal registered, approved, rejected with a reason; incentive progress; claim deadlines; custom types with a declared schema), idempotent by key, and the triggers that answer them with messages filled from the event's data; sequences (onboarding, activation) an event enrols a member or partner in, step by step until their goal event"),
        (name = "audit", description = "The audit log of staff actions (admins only)"),
        (name = "inbox", description = "A member's own inbox, with a member token: one from POST /members/{id}/token, or one the vendor's server signs for the embeddable inbox (tw1., see docs/widget.md). The same operations are served under /widget/v1/inbox to the origins in [widget] allowed_origins (CORS)."),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("tid_...").build()),
        );
    }
}

/// One page of a list; pass `next` as `after` to continue.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

impl<T> From<tidings_app::Page<T>> for Page<T> {
    fn from(p: tidings_app::Page<T>) -> Self {
        Self { items: p.items, next: p.next }
    }
}

pub fn router() -> OpenApiRouter<App> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(partners::list, partners::create))
        .routes(routes!(partners::show, partners::update, partners::delete))
        .routes(routes!(partner_channels::list))
        .routes(routes!(partner_channels::bind, partner_channels::unbind))
        .routes(routes!(partner_channels::test))
        .routes(routes!(nominees::list))
        .routes(routes!(nominees::nominate, nominees::withdraw))
        .routes(routes!(members::list, members::create))
        .routes(routes!(members::show, members::update, members::delete))
        .routes(routes!(topics::list, topics::create))
        .routes(routes!(topics::show, topics::update, topics::delete))
        .routes(routes!(groups::list, groups::create))
        .routes(routes!(groups::show, groups::update, groups::delete))
        .routes(routes!(consent::history, consent::record))
        .routes(routes!(consent::preferences, consent::set_preferences))
        .routes(routes!(messages::list, messages::create))
        .routes(routes!(messages::show, messages::update))
        .routes(routes!(messages::schedule))
        .routes(routes!(messages::unschedule))
        .routes(routes!(messages::cancel))
        .routes(routes!(messages::copy))
        .routes(routes!(corrections::correct))
        .routes(routes!(corrections::versions))
        .routes(routes!(approvals::status, approvals::approve))
        .routes(routes!(approvals::policy, approvals::set_policy))
        .routes(routes!(messages::preview))
        .routes(routes!(messages::reach))
        .routes(routes!(sending::release))
        .routes(routes!(sending::test_send))
        .routes(routes!(sending::test_email))
        .routes(routes!(sending::events))
        .routes(routes!(sending::report))
        .routes(routes!(sending::member_token))
        .routes(routes!(sending::bounce))
        .routes(routes!(inbox::list))
        .routes(routes!(inbox::pending))
        .routes(routes!(inbox::view))
        .routes(routes!(inbox::read))
        .routes(routes!(inbox::acknowledge))
        .routes(routes!(segments::list, segments::create))
        .routes(routes!(segments::show, segments::update, segments::delete))
        .routes(routes!(segments::preview))
        .routes(routes!(audiences::preview))
        .routes(routes!(audiences::explain))
        .routes(routes!(imports::partners))
        .routes(routes!(imports::members))
        .routes(routes!(audit::list))
        .routes(routes!(compliance::list))
        .routes(routes!(compliance::report))
        .routes(routes!(compliance::partner))
        .routes(routes!(compliance::export))
        .routes(routes!(evidence::status))
        .routes(routes!(evidence::rotate_key))
        .routes(routes!(channel_setup::overview))
        .routes(routes!(system::status))
        .routes(routes!(obligations::queue))
        .routes(routes!(obligations::decide, obligations::undo))
        .routes(routes!(obligations::escalate))
        .routes(routes!(automation::post, automation::list))
        .routes(routes!(automation::post_batch))
        .routes(routes!(automation::show))
        .routes(routes!(automation::types))
        .routes(routes!(automation::put_type, automation::delete_type))
        .routes(routes!(automation::triggers))
        .routes(routes!(automation::trigger, automation::put_trigger, automation::delete_trigger))
        .routes(routes!(automation::sequences))
        .routes(routes!(automation::sequence, automation::put_sequence, automation::delete_sequence))
        .routes(routes!(automation::tasks))
        .routes(routes!(automation::task_done))
        .routes(routes!(automation::silence_policy, automation::set_silence_policy))
        .routes(routes!(automation::find_silent))
        .routes(routes!(noise::policy, noise::set_policy))
        .routes(routes!(noise::partner_defaults, noise::set_partner_defaults))
        .routes(routes!(ladders::list))
        .routes(routes!(ladders::show, ladders::put, ladders::delete))
        .routes(routes!(ladders::topic_ladder, ladders::set_topic_ladder))
        .routes(routes!(ladders::plan))
        .routes(routes!(ladders::run_next))
        .routes(routes!(channel_setup::defaults, channel_setup::set_defaults))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::show, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::rotate_secret))
        .route("/openapi.json", axum::routing::get(openapi_json))
}

/// The OpenAPI description of `/api/v1`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let (_, mut spec) = router().split_for_parts();
    spec.servers = Some(vec![utoipa::openapi::Server::new("/api/v1")]);
    problems::document(&mut spec);
    required::document(&mut spec);
    spec
}

/// The description as this instance serves it, with its catalog's vocabularies.
pub fn openapi_for(catalog: &tidings_core::Catalog) -> serde_json::Value {
    let mut spec = serde_json::to_value(openapi()).unwrap_or_default();
    vocabulary::document(&mut spec, catalog);
    spec
}

async fn openapi_json(axum::extract::State(app): axum::extract::State<App>) -> Json<serde_json::Value> {
    Json(openapi_for(&app.catalog))
}
