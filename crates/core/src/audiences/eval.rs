//! Evaluates a rule for one member in memory: for previews and for "why is this member in
//! or out". A missing value makes a condition false (so `!=` and `not in`, which are
//! `not (=)` and `not (in)`, are true for it); the SQL compiler follows the same rule.

use super::ast::{CmpOp, Condition, Field, MemberField, PartnerField, Rule, Test, Value};
use crate::{AttrValue, MemberProfile, PartnerProfile, Timestamp};

const DAY_MS: i64 = 86_400_000;

/// The member and their partner, as a rule sees them.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub partner: &'a PartnerProfile,
    pub member: &'a MemberProfile,
    /// The stored ids, for `partner.id` and `member.id` (absent for a member not yet saved).
    pub partner_id: Option<crate::PartnerId>,
    pub member_id: Option<crate::MemberId>,
    /// The data of the event a trigger's condition is asked about.
    pub event: Option<&'a crate::Attributes>,
}

impl<'a> Subject<'a> {
    pub fn new(partner: &'a crate::Partner, member: &'a crate::Member) -> Self {
        Self {
            partner: &partner.profile,
            member: &member.profile,
            partner_id: Some(partner.id),
            member_id: Some(member.id),
            event: None,
        }
    }
}

/// The outcome of a rule, with every condition and whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    pub matched: bool,
    pub conditions: Vec<(String, bool)>,
}

impl Rule {
    pub fn matches(&self, s: Subject<'_>, now: Timestamp) -> bool {
        match self {
            Self::And(rules) => rules.iter().all(|r| r.matches(s, now)),
            Self::Or(rules) => rules.iter().any(|r| r.matches(s, now)),
            Self::Not(rule) => !rule.matches(s, now),
            Self::Condition(c) => c.holds(s, now),
        }
    }

    /// Evaluates every condition (no short-circuit), so the explanation is complete.
    pub fn explain(&self, s: Subject<'_>, now: Timestamp) -> Explanation {
        let mut conditions = Vec::new();
        self.collect(s, now, &mut conditions);
        Explanation { matched: self.matches(s, now), conditions }
    }

    fn collect(&self, s: Subject<'_>, now: Timestamp, out: &mut Vec<(String, bool)>) {
        match self {
            Self::And(rules) | Self::Or(rules) => rules.iter().for_each(|r| r.collect(s, now, out)),
            Self::Not(rule) => match rule.as_ref() {
                Self::Condition(c) => out.push((format!("not {c}"), !c.holds(s, now))),
                other => other.collect(s, now, out),
            },
            Self::Condition(c) => out.push((c.to_string(), c.holds(s, now))),
        }
    }
}

/// What a field holds for one subject.
enum Actual<'a> {
    Text(Option<String>),
    Set(Vec<String>),
    Time(Option<i64>),
    Attribute(Option<&'a AttrValue>),
}

impl Condition {
    pub fn holds(&self, s: Subject<'_>, now: Timestamp) -> bool {
        match (actual(&self.field, s), &self.test) {
            (Actual::Text(v), Test::Eq(Value::Text(want))) => v.is_some_and(|v| text_eq(&self.field, &v, want)),
            (Actual::Text(v), Test::In(list)) => {
                v.is_some_and(|v| list.iter().any(|w| matches!(w, Value::Text(w) if text_eq(&self.field, &v, w))))
            }
            (Actual::Text(v), Test::Contains(part)) => v.is_some_and(|v| fold(&v).contains(&fold(part))),
            (Actual::Text(v), Test::Exists) => v.is_some_and(|v| !v.is_empty()),
            (Actual::Set(set), Test::Eq(Value::Text(want))) => set.iter().any(|v| v == want),
            (Actual::Set(set), Test::Contains(want)) => set.iter().any(|v| *v == fold(want)),
            (Actual::Set(set), Test::In(list)) => list.iter().any(|w| matches!(w, Value::Text(w) if set.contains(w))),
            (Actual::Set(set), Test::Exists) => !set.is_empty(),
            (Actual::Time(t), Test::Exists) => t.is_some(),
            (Actual::Time(t), Test::Compare(op, bound)) => match (t, threshold(bound, now)) {
                (Some(t), Some(b)) => compare(op, t as f64, b as f64),
                _ => false,
            },
            (Actual::Attribute(v), Test::Exists) => v.is_some(),
            (Actual::Attribute(v), Test::Eq(want)) => v.is_some_and(|v| attr_eq(v, want)),
            (Actual::Attribute(v), Test::In(list)) => v.is_some_and(|v| list.iter().any(|w| attr_eq(v, w))),
            (Actual::Attribute(v), Test::Contains(part)) => {
                v.is_some_and(|v| matches!(v, AttrValue::Text(s) if fold(s).contains(&fold(part))))
            }
            (Actual::Attribute(v), Test::Compare(op, Value::Number(bound))) => {
                v.and_then(attribute_number).is_some_and(|n| compare(op, n, *bound))
            }
            _ => false,
        }
    }
}

fn actual<'a>(field: &Field, s: Subject<'a>) -> Actual<'a> {
    let (p, m) = (s.partner, s.member);
    match field {
        Field::Partner(PartnerField::Id) => Actual::Text(s.partner_id.map(|id| id.to_string())),
        Field::Partner(PartnerField::Type) => Actual::Text(Some(p.partner_type.to_string())),
        Field::Partner(PartnerField::Tier) => Actual::Text(Some(p.tier.to_string())),
        Field::Partner(PartnerField::Region) => Actual::Text(p.region.as_ref().map(ToString::to_string)),
        Field::Partner(PartnerField::Country) => Actual::Text(p.country.as_ref().map(ToString::to_string)),
        Field::Partner(PartnerField::Stage) => Actual::Text(Some(p.lifecycle_stage.to_string())),
        Field::Partner(PartnerField::Group) => Actual::Set(p.groups.iter().map(ToString::to_string).collect()),
        Field::Partner(PartnerField::Name) => Actual::Text(Some(p.name.clone())),
        Field::Partner(PartnerField::ExternalId) => Actual::Text(p.external_id.clone()),
        Field::Partner(PartnerField::Attribute(k)) => Actual::Attribute(p.attributes.get(k.as_str())),
        Field::Member(MemberField::Id) => Actual::Text(s.member_id.map(|id| id.to_string())),
        Field::Member(MemberField::Role) => Actual::Set(m.roles.iter().map(|r| r.as_str().to_owned()).collect()),
        Field::Member(MemberField::Locale) => Actual::Text(Some(m.locale.to_string())),
        Field::Member(MemberField::Language) => Actual::Text(Some(m.locale.language().to_owned())),
        Field::Member(MemberField::Status) => Actual::Text(Some(m.status.to_string())),
        Field::Member(MemberField::LastSeen) => Actual::Time(m.last_seen_at.map(Timestamp::as_millis)),
        Field::Member(MemberField::Email) => Actual::Text(Some(m.email.to_string())),
        Field::Member(MemberField::Attribute(k)) => Actual::Attribute(m.attributes.get(k.as_str())),
        Field::Event(k) => Actual::Attribute(s.event.and_then(|e| e.get(k.as_str()))),
    }
}

/// Names and external ids match as folded text; every other text field holds canonical values.
fn text_eq(field: &Field, actual: &str, want: &str) -> bool {
    match field {
        Field::Partner(PartnerField::Name | PartnerField::ExternalId) => fold(actual) == fold(want),
        _ => actual == want,
    }
}

fn threshold(bound: &Value, now: Timestamp) -> Option<i64> {
    match bound {
        Value::DaysAgo(days) => Some(now.as_millis() - days * DAY_MS),
        Value::Time(ms) => Some(*ms),
        _ => None,
    }
}

fn compare(op: &CmpOp, a: f64, b: f64) -> bool {
    match op {
        CmpOp::Lt => a < b,
        CmpOp::Le => a <= b,
        CmpOp::Gt => a > b,
        CmpOp::Ge => a >= b,
    }
}

/// Text as rules compare it: spaces trimmed, ASCII letters lower-cased. ASCII only, because
/// SQLite's `lower()` folds only ASCII, and SQL and memory must agree.
pub fn fold(text: &str) -> String {
    text.trim_matches(' ').to_ascii_lowercase()
}

/// Attributes compare by the type of the value in the rule: text as folded text, a
/// number numerically (text holding a plain integer counts), true/false as booleans (text
/// "true"/"false" counts).
fn attr_eq(v: &AttrValue, want: &Value) -> bool {
    match want {
        Value::Text(t) => matches!(v, AttrValue::Text(s) if fold(s) == fold(t)),
        Value::Number(n) => attribute_number(v) == Some(*n),
        Value::Bool(b) => boolean(v) == Some(*b),
        _ => false,
    }
}

fn boolean(v: &AttrValue) -> Option<bool> {
    match v {
        AttrValue::Bool(b) => Some(*b),
        AttrValue::Text(t) => match fold(t).as_str() {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        },
        AttrValue::Number(_) => None,
    }
}

/// A number stored as a number, or as text that is a plain integer of up to 15 digits.
pub fn attribute_number(v: &AttrValue) -> Option<f64> {
    match v {
        AttrValue::Number(n) => Some(*n),
        AttrValue::Text(t) => {
            let t = t.trim_matches(' ');
            let digits = t.strip_prefix('-').unwrap_or(t);
            let plain = (1..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit());
            if plain { t.parse().ok() } else { None }
        }
        AttrValue::Bool(_) => None,
    }
}
