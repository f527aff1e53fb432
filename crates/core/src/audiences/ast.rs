//! The typed rule tree. Values in it are already checked against their field, so a
//! consumer (evaluator or SQL compiler) never sees `partner.tier > 3`.

use std::fmt;

use crate::AttrKey;

#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Condition(Condition),
}

impl Rule {
    /// Whether any condition reads a partner field: a query for a rule that does not can
    /// leave the partners table out.
    pub fn reads_partner(&self) -> bool {
        match self {
            Rule::And(rules) | Rule::Or(rules) => rules.iter().any(Rule::reads_partner),
            Rule::Not(inner) => inner.reads_partner(),
            Rule::Condition(c) => matches!(c.field, Field::Partner(_)),
        }
    }

    /// The member ids outside which the rule cannot hold, when it names them (`member.id =`
    /// or `in`, in every branch it may hold by): all a release of a message to a list of
    /// people need look at, however large the directory.
    pub fn member_ids(&self) -> Option<Vec<&str>> {
        fn text(v: &Value) -> Option<&str> {
            if let Value::Text(t) = v { Some(t.as_str()) } else { None }
        }
        match self {
            Rule::Condition(Condition { field: Field::Member(MemberField::Id), test }) => match test {
                Test::Eq(v) => Some(text(v).into_iter().collect()),
                Test::In(list) => Some(list.iter().filter_map(text).collect()),
                _ => None,
            },
            Rule::Condition(_) | Rule::Not(_) => None,
            Rule::And(rules) => rules.iter().filter_map(Rule::member_ids).min_by_key(Vec::len),
            Rule::Or(rules) => {
                let mut all = Vec::new();
                for rule in rules {
                    all.extend(rule.member_ids()?);
                }
                Some(all)
            }
        }
    }

    /// Whether any condition reads a member field: a trigger's condition about an event
    /// that names no member cannot hold then.
    pub fn reads_member(&self) -> bool {
        match self {
            Rule::And(rules) | Rule::Or(rules) => rules.iter().any(Rule::reads_member),
            Rule::Not(inner) => inner.reads_member(),
            Rule::Condition(c) => matches!(c.field, Field::Member(_)),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub field: Field,
    pub test: Test,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Partner(PartnerField),
    Member(MemberField),
    /// A field of the event a trigger answers (`event.progress`); only trigger conditions
    /// read it.
    Event(AttrKey),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartnerField {
    Id,
    Type,
    Tier,
    Region,
    Country,
    Stage,
    /// Membership of partner groups: a set.
    Group,
    Name,
    ExternalId,
    Attribute(AttrKey),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberField {
    Id,
    /// The member's roles: a set.
    Role,
    /// The full language tag (`de-DE`).
    Locale,
    /// The primary language only (`de` for `de-DE` and `de-AT`).
    Language,
    Status,
    LastSeen,
    Email,
    Attribute(AttrKey),
}

/// What sort of values a field holds, which decides the tests it allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// One text value, always present.
    Text,
    /// One text value that may be absent.
    OptionalText,
    /// Several values (roles, groups).
    Set,
    /// A point in time that may be absent.
    Time,
    /// A custom attribute: text, number or true/false, or absent.
    Attribute,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Test {
    /// `=`; on a set, "has".
    Eq(Value),
    /// `in (...)`; on a set, "has any".
    In(Vec<Value>),
    /// `contains`: a substring of a text, case-insensitive.
    Contains(String),
    /// `exists`: present (and, on a set, not empty).
    Exists,
    /// `<`, `<=`, `>`, `>=` on numbers and times.
    Compare(CmpOp, Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    Number(f64),
    Bool(bool),
    /// `N days ago` (weeks and months are turned into days: 7 and 30).
    DaysAgo(i64),
    /// A date or time, as unix milliseconds.
    Time(i64),
}

impl Field {
    pub fn kind(&self) -> FieldKind {
        match self {
            Self::Partner(
                PartnerField::Id | PartnerField::Type | PartnerField::Tier | PartnerField::Stage | PartnerField::Name,
            ) => FieldKind::Text,
            Self::Partner(PartnerField::Region | PartnerField::Country | PartnerField::ExternalId) => {
                FieldKind::OptionalText
            }
            Self::Partner(PartnerField::Group) | Self::Member(MemberField::Role) => FieldKind::Set,
            Self::Member(
                MemberField::Id
                | MemberField::Locale
                | MemberField::Language
                | MemberField::Status
                | MemberField::Email,
            ) => FieldKind::Text,
            Self::Member(MemberField::LastSeen) => FieldKind::Time,
            Self::Partner(PartnerField::Attribute(_)) | Self::Member(MemberField::Attribute(_)) | Self::Event(_) => {
                FieldKind::Attribute
            }
        }
    }

    /// Every built-in field name, for "unknown field" messages.
    pub const KNOWN: &'static str = "partner.id, partner.type, partner.tier, partner.region, partner.country, partner.stage, \
        partner.group, partner.name, partner.external_id, partner.attr.<name>, member.id, member.role, member.locale, \
        member.language, member.status, member.last_seen, member.email, member.attr.<name>";
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Self::Partner(PartnerField::Id) => "partner.id",
            Self::Partner(PartnerField::Type) => "partner.type",
            Self::Partner(PartnerField::Tier) => "partner.tier",
            Self::Partner(PartnerField::Region) => "partner.region",
            Self::Partner(PartnerField::Country) => "partner.country",
            Self::Partner(PartnerField::Stage) => "partner.stage",
            Self::Partner(PartnerField::Group) => "partner.group",
            Self::Partner(PartnerField::Name) => "partner.name",
            Self::Partner(PartnerField::ExternalId) => "partner.external_id",
            Self::Partner(PartnerField::Attribute(k)) => return write!(f, "partner.attr.{k}"),
            Self::Member(MemberField::Id) => "member.id",
            Self::Member(MemberField::Role) => "member.role",
            Self::Member(MemberField::Locale) => "member.locale",
            Self::Member(MemberField::Language) => "member.language",
            Self::Member(MemberField::Status) => "member.status",
            Self::Member(MemberField::LastSeen) => "member.last_seen",
            Self::Member(MemberField::Email) => "member.email",
            Self::Member(MemberField::Attribute(k)) => return write!(f, "member.attr.{k}"),
            Self::Event(k) => return write!(f, "event.{k}"),
        };
        f.write_str(name)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Text(t) => write!(f, "\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
            Self::Number(n) => write!(f, "{n}"),
            Self::Bool(b) => write!(f, "{b}"),
            Self::DaysAgo(d) => write!(f, "{d} days ago"),
            Self::Time(ms) => write!(f, "\"{}\"", crate::Timestamp::from_millis(*ms)),
        }
    }
}

impl fmt::Display for CmpOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.test {
            Test::Eq(v) => write!(f, "{} = {v}", self.field),
            Test::In(values) => {
                let list: Vec<String> = values.iter().map(ToString::to_string).collect();
                write!(f, "{} in ({})", self.field, list.join(", "))
            }
            Test::Contains(t) => write!(f, "{} contains {}", self.field, Value::Text(t.clone())),
            Test::Exists => write!(f, "{} exists", self.field),
            Test::Compare(op, v) => write!(f, "{} {op} {v}", self.field),
        }
    }
}

/// Prints a rule back as rule text that parses to the same rule.
impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let join = |f: &mut fmt::Formatter<'_>, rules: &[Rule], word: &str| {
            for (i, r) in rules.iter().enumerate() {
                if i > 0 {
                    write!(f, " {word} ")?;
                }
                match r {
                    Rule::And(_) | Rule::Or(_) => write!(f, "({r})")?,
                    _ => write!(f, "{r}")?,
                }
            }
            Ok(())
        };
        match self {
            Self::And(rules) => join(f, rules, "and"),
            Self::Or(rules) => join(f, rules, "or"),
            Self::Not(inner) => match inner.as_ref() {
                Rule::Condition(c) => write!(f, "not {c}"),
                other => write!(f, "not ({other})"),
            },
            Self::Condition(c) => write!(f, "{c}"),
        }
    }
}
