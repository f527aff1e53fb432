//! What a message report reads: the people-level funnel of each group of copies (partner
//! and roles), from the index that covers it, and the funnel's steps over time.

use sqlx::AssertSqlSafe;
use tidings_core::{MessageId, PartnerId, Roles, Timestamp};
use uuid::Uuid;

use crate::db::on_tx;
use crate::{Result, Tx};

/// People at each step: how many copies, and how many of their members opened the email,
/// clicked in it, read the message and acknowledged it (each counted once).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Steps {
    pub recipients: i64,
    pub opened: i64,
    pub clicked: i64,
    pub read: i64,
    pub acknowledged: i64,
}

impl std::ops::AddAssign for Steps {
    fn add_assign(&mut self, o: Self) {
        self.recipients += o.recipients;
        self.opened += o.opened;
        self.clicked += o.clicked;
        self.read += o.read;
        self.acknowledged += o.acknowledged;
    }
}

/// The copies of one partner's members who hold exactly these roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub partner_id: Option<PartnerId>,
    pub roles: Roles,
    pub steps: Steps,
}

type GroupRow = (Option<Uuid>, i64, i64, i64, i64, i64, i64);

/// Every (partner, roles) group of the message's copies: a few thousand rows however many
/// copies there are, from which the report sums any breakdown it shows.
pub async fn groups(tx: &mut Tx, message: MessageId) -> Result<Vec<Group>> {
    let rows: Vec<GroupRow> = on_tx!(tx, |c| sqlx::query_as(
        "select partner_id, roles, count(*), count(opened_at), count(clicked_at), count(read_at), \
         count(acknowledged_at) from recipients where message_id = $1 group by partner_id, roles"
    )
    .bind(message.as_uuid())
    .fetch_all(c)
    .await)?;
    Ok(rows
        .into_iter()
        .map(|(partner, roles, recipients, opened, clicked, read, acknowledged)| Group {
            partner_id: partner.map(PartnerId::from_uuid),
            roles: Roles::from_bits(roles),
            steps: Steps { recipients, opened, clicked, read, acknowledged },
        })
        .collect())
}

/// A step of the funnel, as a column of the copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Opened,
    Clicked,
    Read,
    Acknowledged,
}

impl Step {
    pub const ALL: [Self; 4] = [Self::Opened, Self::Clicked, Self::Read, Self::Acknowledged];

    fn column(self) -> &'static str {
        match self {
            Self::Opened => "opened_at",
            Self::Clicked => "clicked_at",
            Self::Read => "read_at",
            Self::Acknowledged => "acknowledged_at",
        }
    }
}

/// How many people reached `step` in each period of `bucket_ms` from `start`: (period
/// number, people), in period order.
pub async fn over_time(
    tx: &mut Tx,
    message: MessageId,
    step: Step,
    start: Timestamp,
    bucket_ms: i64,
) -> Result<Vec<(i64, i64)>> {
    let column = step.column();
    let sql = format!(
        "select ({column} - $2) / $3 as period, count(*) from recipients \
         where message_id = $1 and {column} is not null group by period order by period"
    );
    Ok(on_tx!(tx, |c| sqlx::query_as(AssertSqlSafe(sql))
        .bind(message.as_uuid())
        .bind(start.as_millis())
        .bind(bucket_ms.max(1))
        .fetch_all(c)
        .await)?)
}
