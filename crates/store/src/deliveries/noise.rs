//! Noise control in a release's SQL: which members a frequency cap holds back from the
//! message's outside channels, and which take nice-to-know messages in a digest (with
//! when their digest goes). Conditions over `members m`, `member_preferences mp` and
//! `partner_defaults pd`, like the consent rules beside them.

use tidings_core::noise::{DigestFrequency, NoisePolicy};
use tidings_core::{MessageId, Role};

use super::chase::{Slot, due_expression};
use crate::sql::{Filter, Value};

/// What keeps one release's noise down.
#[derive(Debug, Clone, Copy, Default)]
pub struct Noise<'a> {
    /// A cap on the message's importance: members sent `limit` or more of `counted` (the
    /// messages of that importance released in the cap's window) on outside channels get
    /// this one in the inbox only.
    pub cap: Option<Cap<'a>>,
    /// For a nice-to-know message: who takes it in a digest, and when each digest goes.
    pub digest: Option<Digests<'a>>,
}

#[derive(Debug, Clone, Copy)]
pub struct Cap<'a> {
    pub limit: u32,
    pub counted: &'a [MessageId],
}

#[derive(Debug, Clone, Copy)]
pub struct Digests<'a> {
    pub policy: &'a NoisePolicy,
    /// When the next daily and weekly digest goes for each time zone and working hours.
    pub daily: &'a [Slot],
    pub weekly: &'a [Slot],
}

/// The member's digest frequency: their choice, their partner's default, or the vendor's
/// policy for their roles (the most immediate of them), as `digest_decision` says.
pub(super) fn frequency(policy: &NoisePolicy, f: &mut Filter) -> String {
    let mask = |frequency| policy.roles_with(frequency).bits();
    let default = f.bind(Value::Text(policy.digest.as_str().to_owned()));
    let (off, daily) = (mask(DigestFrequency::Off), mask(DigestFrequency::Daily));
    // Roles are code, not input: the masks are numbers.
    debug_assert!(Role::ALL.len() <= 16);
    format!(
        "coalesce(mp.digest, pd.digest, case when m.roles = 0 then {default} when (m.roles & {off}) <> 0 then 'off' \
         when (m.roles & {daily}) <> 0 then 'daily' else 'weekly' end)"
    )
}

/// The member takes nice-to-know messages in a digest.
pub(super) fn held(digests: &Digests<'_>, f: &mut Filter) -> String {
    format!("{} <> 'off'", frequency(digests.policy, f))
}

/// When the member's next digest goes: the start of their next working day (daily) or
/// week (weekly), in their time zone.
pub(super) fn digest_due(digests: &Digests<'_>, f: &mut Filter, now: &str) -> String {
    let frequency = frequency(digests.policy, f);
    let daily = due_expression(f, digests.daily, now);
    let weekly = due_expression(f, digests.weekly, now);
    format!("(case when {frequency} = 'daily' then {daily} else {weekly} end)")
}

/// The cap holds the member back: they were sent `limit` of the counted messages already.
/// `range` limits the count to the batch's members.
pub(super) fn capped(cap: &Cap<'_>, f: &mut Filter, range: &str) -> String {
    if cap.limit == 0 {
        return "1 = 1".to_owned();
    }
    if cap.counted.is_empty() {
        return "1 = 0".to_owned();
    }
    let ids: Vec<String> = cap.counted.iter().map(|id| f.bind(Value::Uuid(id.as_uuid()))).collect();
    let limit = f.bind(Value::Int(i64::from(cap.limit)));
    // The deliveries' key leads with the message, so each counted message is one short
    // index range over the batch's members.
    format!(
        "m.id in (select d.member_id from deliveries d where d.message_id in ({}) and d.purpose = 'initial' \
         and d.status <> 'suppressed' and {range} group by d.member_id having count(distinct d.message_id) >= {limit})",
        ids.join(", ")
    )
}
