//! `/evidence`: where the evidence log stands: its public key, size and newest signed
//! checkpoint (docs/evidence.md). Packs are written by `tidings evidence export`.

use axum::extract::State;
use tidings_app::App;
use tidings_app::evidence::keys::Rotation;
use tidings_app::evidence::{self, LogStatus};

use crate::error::{ApiError, Problem};
use crate::extract::Staff;

/// The evidence log's public key (give it to auditors), its size, the entries waiting to
/// be placed, and its newest signed checkpoint.
#[utoipa::path(get, path = "/evidence", tag = "compliance",
    responses((status = 200, body = LogStatus), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn status(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<LogStatus>, ApiError> {
    Ok(axum::Json(evidence::status(&app, &caller).await?))
}

/// Replace the key that signs the evidence log's checkpoints (admins). The rotation is a
/// leaf of the log and the checkpoint that first holds it is signed by both keys, so an
/// auditor holding the old key is led to the new one. Answers with both public keys.
#[utoipa::path(post, path = "/evidence/rotate-key", tag = "compliance",
    responses((status = 200, body = Rotation), (status = 401, body = Problem), (status = 403, body = Problem)))]
pub async fn rotate_key(State(app): State<App>, Staff(caller): Staff) -> Result<axum::Json<Rotation>, ApiError> {
    Ok(axum::Json(evidence::keys::rotate(&app, &caller).await?))
}
