//! A released message's versions: `messages` holds the current text; every version's
//! text is kept here from the first correction on (version 1 is written then, as it
//! went out), so members and staff see what each one said and what changed.

use sqlx::types::Json;
use tidings_core::messages::{Acknowledgment, Content, Correction, CorrectionKind, Message};
use tidings_core::{MessageId, Timestamp};

use crate::db::on_tx;
use crate::{Error, Result, Tx};

/// One version of a message's text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Version {
    pub version: u32,
    /// How it came to be: `None` for the text as released.
    pub correction: Option<CorrectionKind>,
    pub content: Content,
    pub acknowledgment: Option<Acknowledgment>,
    /// Why it was corrected ("" for the original).
    pub note: String,
    pub created_by: String,
    pub created_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct Row {
    version: i64,
    kind: String,
    content: Json<Content>,
    acknowledgment: Option<Json<Acknowledgment>>,
    note: String,
    created_by: String,
    created_at: i64,
}

impl TryFrom<Row> for Version {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self> {
        let correction = match r.kind.as_str() {
            "original" => None,
            other => Some(other.parse::<CorrectionKind>().map_err(Error::corrupt)?),
        };
        Ok(Self {
            version: u32::try_from(r.version).map_err(Error::corrupt)?,
            correction,
            content: r.content.0,
            acknowledgment: r.acknowledgment.map(|a| a.0),
            note: r.note,
            created_by: r.created_by,
            created_at: Timestamp::from_millis(r.created_at),
        })
    }
}

async fn insert(tx: &mut Tx, message: MessageId, v: &Version) -> Result<()> {
    let kind = v.correction.map_or("original", CorrectionKind::as_str);
    on_tx!(tx, |c| {
        sqlx::query(
        "insert into message_versions (message_id, version, kind, content, acknowledgment, note, created_by, created_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing"
    )
    .bind(message.as_uuid())
    .bind(i64::from(v.version))
    .bind(kind)
    .bind(Json(v.content.clone()))
    .bind(v.acknowledgment.clone().map(Json))
    .bind(v.note.clone())
    .bind(v.created_by.clone())
    .bind(v.created_at.as_millis())
    .execute(c)
    .await
    .map(|_| ())
    })?;
    Ok(())
}

/// Makes `correction` the message's current text as the next version, keeping the one it
/// replaces; refused (a conflict) when another correction came first. Returns the new
/// version.
pub async fn correct(
    tx: &mut Tx,
    message: &Message,
    released_at: Timestamp,
    correction: &Correction,
    by: &str,
    now: Timestamp,
) -> Result<Version> {
    let next = message.version + 1;
    let done = on_tx!(tx, |c| sqlx::query(
        "update messages set content = $3, acknowledgment = $4, version = $5, updated_at = $6 \
         where id = $1 and version = $2 and state in ('sending', 'sent') and release_done"
    )
    .bind(message.id.as_uuid())
    .bind(i64::from(message.version))
    .bind(Json(correction.content.clone()))
    .bind(correction.acknowledgment.clone().map(Json))
    .bind(i64::from(next))
    .bind(now.as_millis())
    .execute(c)
    .await
    .map(|r| r.rows_affected()))?;
    if done == 0 {
        let released: Option<bool> =
            on_tx!(tx, |c| sqlx::query_scalar("select release_done from messages where id = $1")
                .bind(message.id.as_uuid())
                .fetch_optional(c)
                .await)?;
        let why = match released {
            Some(false) => "the message is still being released to its audience: correct it in a moment",
            _ => "the message was corrected meanwhile: reload it and correct that version",
        };
        return Err(Error::Conflict(why.into()));
    }
    if message.version == 1 {
        let original = Version {
            version: 1,
            correction: None,
            content: message.content.clone(),
            acknowledgment: message.acknowledgment.clone(),
            note: String::new(),
            created_by: message.created_by.clone(),
            created_at: released_at,
        };
        insert(tx, message.id, &original).await?;
    }
    let version = Version {
        version: next,
        correction: Some(correction.kind),
        content: correction.content.clone(),
        acknowledgment: correction.acknowledgment.clone(),
        note: correction.note.clone(),
        created_by: by.to_owned(),
        created_at: now,
    };
    insert(tx, message.id, &version).await?;
    Ok(version)
}

const SELECT: &str =
    "select version, kind, content, acknowledgment, note, created_by, created_at from message_versions";

/// Every version of the message, oldest first; none for a message never corrected.
pub async fn list(tx: &mut Tx, message: MessageId) -> Result<Vec<Version>> {
    let sql = format!("{SELECT} where message_id = $1 order by version");
    let rows: Vec<Row> =
        on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(message.as_uuid()).fetch_all(c).await)?;
    rows.into_iter().map(Version::try_from).collect()
}

/// One version of the message, if it was kept.
pub async fn get(tx: &mut Tx, message: MessageId, version: u32) -> Result<Option<Version>> {
    let sql = format!("{SELECT} where message_id = $1 and version = $2");
    let row: Option<Row> = on_tx!(tx, |c| sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(i64::from(version))
        .fetch_optional(c)
        .await)?;
    row.map(Version::try_from).transpose()
}
