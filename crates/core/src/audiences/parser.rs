//! Parses rule text into a checked [`Rule`]. Errors name the position (a 1-based
//! character column) and what was expected there; unknown fields list the known ones;
//! a value that cannot belong to its field (`partner.tier > 3`, `member.role = "ceo"`) is
//! refused here, so no consumer ever meets it.

use std::fmt;

use super::ast::{CmpOp, Condition, Field, FieldKind, MemberField, PartnerField, Rule, Test, Value};
use super::lexer::{Token, tokenize};
use crate::{AttrKey, Catalog, Country, LifecycleStage, Locale, MemberStatus, Role, Slug, Timestamp};

/// Rules longer than this are refused: an audience is a few conditions, not a program.
pub const MAX_RULE_BYTES: usize = 10_000;
const MAX_DEPTH: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// The byte offset in the rule text where the problem starts.
    pub offset: usize,
    pub message: String,
}

impl RuleError {
    pub(super) fn at(offset: usize, message: String) -> Self {
        Self { offset, message }
    }
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.offset + 1, self.message)
    }
}

impl std::error::Error for RuleError {}

/// Parses and checks `text` against the vendor's vocabularies in `catalog`.
pub fn parse(text: &str, catalog: &Catalog) -> Result<Rule, RuleError> {
    parse_with(text, catalog, false)
}

/// As [`parse`], for a trigger's condition, which may also read the event's data
/// (`event.progress >= 0.8`).
pub fn parse_condition(text: &str, catalog: &Catalog) -> Result<Rule, RuleError> {
    parse_with(text, catalog, true)
}

fn parse_with(text: &str, catalog: &Catalog, events: bool) -> Result<Rule, RuleError> {
    if text.len() > MAX_RULE_BYTES {
        return Err(RuleError::at(0, format!("the rule is longer than {MAX_RULE_BYTES} characters")));
    }
    let tokens = tokenize(text)?;
    if tokens.is_empty() {
        return Err(RuleError::at(0, "the rule is empty: write a condition such as partner.tier = \"growth\"".into()));
    }
    let mut parser = Parser { tokens, at: 0, end: text.len(), catalog, depth: 0, events };
    let rule = parser.or()?;
    if let Some((offset, token)) = parser.peek() {
        return Err(RuleError::at(
            *offset,
            format!("expected 'and', 'or' or the end of the rule, found {}", token.describe()),
        ));
    }
    Ok(rule)
}

struct Parser<'a> {
    tokens: Vec<(usize, Token)>,
    at: usize,
    end: usize,
    catalog: &'a Catalog,
    depth: usize,
    /// Whether `event.<field>` may be read (trigger conditions).
    events: bool,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&(usize, Token)> {
        self.tokens.get(self.at)
    }

    fn offset(&self) -> usize {
        self.peek().map_or(self.end, |(o, _)| *o)
    }

    fn next(&mut self) -> Option<(usize, Token)> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// Consumes the keyword `word` (any case) if it comes next.
    fn keyword(&mut self, word: &str) -> bool {
        let found = matches!(self.peek(), Some((_, Token::Word(w))) if w.eq_ignore_ascii_case(word));
        if found {
            self.at += 1;
        }
        found
    }

    fn found(&self) -> String {
        self.peek().map_or_else(|| "the end of the rule".to_owned(), |(_, t)| t.describe())
    }

    fn or(&mut self) -> Result<Rule, RuleError> {
        let mut rules = vec![self.and()?];
        while self.keyword("or") {
            rules.push(self.and()?);
        }
        Ok(if rules.len() == 1 { rules.remove(0) } else { Rule::Or(rules) })
    }

    fn and(&mut self) -> Result<Rule, RuleError> {
        let mut rules = vec![self.unary()?];
        while self.keyword("and") {
            rules.push(self.unary()?);
        }
        Ok(if rules.len() == 1 { rules.remove(0) } else { Rule::And(rules) })
    }

    fn unary(&mut self) -> Result<Rule, RuleError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(RuleError::at(self.offset(), format!("the rule nests deeper than {MAX_DEPTH} levels")));
        }
        let rule = if self.keyword("not") {
            Rule::Not(Box::new(self.unary()?))
        } else if matches!(self.peek(), Some((_, Token::Open))) {
            self.at += 1;
            let inner = self.or()?;
            match self.next() {
                Some((_, Token::Close)) => inner,
                _ => {
                    self.at -= 1;
                    return Err(RuleError::at(self.offset(), format!("expected ')', found {}", self.found())));
                }
            }
        } else {
            self.condition()?
        };
        self.depth -= 1;
        Ok(rule)
    }

    fn condition(&mut self) -> Result<Rule, RuleError> {
        let field = self.field()?;
        let op_at = self.offset();
        let negated = self.keyword("not");
        if let Some((_, token)) = self.peek() {
            allowed(&field, token).map_err(|m| RuleError::at(op_at, m))?;
        }
        let test = match self.next() {
            Some((_, Token::Eq)) if !negated => Test::Eq(self.value(&field)?),
            Some((_, Token::Ne)) if !negated => {
                return Ok(not(Condition { field: field.clone(), test: Test::Eq(self.value(&field)?) }));
            }
            Some((_, op @ (Token::Lt | Token::Le | Token::Gt | Token::Ge))) if !negated => {
                let op = match op {
                    Token::Lt => CmpOp::Lt,
                    Token::Le => CmpOp::Le,
                    Token::Gt => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Test::Compare(op, self.value(&field)?)
            }
            Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("in") => Test::In(self.list(&field)?),
            Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("exists") => Test::Exists,
            Some((at, Token::Word(w))) if w.eq_ignore_ascii_case("contains") => match self.next() {
                Some((_, Token::Text(t))) => Test::Contains(t),
                _ => {
                    return Err(RuleError::at(at, "'contains' needs a quoted text, such as contains \"acme\"".into()));
                }
            },
            _ => {
                self.at -= 1;
                let expected = if negated {
                    "'in', 'exists' or 'contains'"
                } else {
                    "an operator (=, !=, <, <=, >, >=, in, not in, contains, exists)"
                };
                return Err(RuleError::at(
                    self.offset(),
                    format!("expected {expected} after {field}, found {}", self.found()),
                ));
            }
        };
        let condition = Condition { field, test };
        Ok(if negated { not(condition) } else { Rule::Condition(condition) })
    }

    fn field(&mut self) -> Result<Field, RuleError> {
        let start = self.offset();
        let mut path = Vec::new();
        loop {
            match self.next() {
                Some((_, Token::Word(w))) => path.push(w),
                _ => {
                    self.at -= 1;
                    let what = if path.is_empty() {
                        "a field such as partner.tier or member.role"
                    } else {
                        "a field name after '.'"
                    };
                    return Err(RuleError::at(self.offset(), format!("expected {what}, found {}", self.found())));
                }
            }
            if matches!(self.peek(), Some((_, Token::Dot))) {
                self.at += 1;
            } else {
                break;
            }
        }
        let lower: Vec<String> = path.iter().map(|p| p.to_lowercase()).collect();
        let parts: Vec<&str> = lower.iter().map(String::as_str).collect();
        let field = match parts.as_slice() {
            ["partner", "id"] => Field::Partner(PartnerField::Id),
            ["partner", "type"] | ["partner", "partner_type"] => Field::Partner(PartnerField::Type),
            ["partner", "tier"] => Field::Partner(PartnerField::Tier),
            ["partner", "region"] => Field::Partner(PartnerField::Region),
            ["partner", "country"] => Field::Partner(PartnerField::Country),
            ["partner", "stage"] | ["partner", "lifecycle_stage"] => Field::Partner(PartnerField::Stage),
            ["partner", "group"] | ["partner", "groups"] => Field::Partner(PartnerField::Group),
            ["partner", "name"] => Field::Partner(PartnerField::Name),
            ["partner", "external_id"] => Field::Partner(PartnerField::ExternalId),
            ["member", "id"] => Field::Member(MemberField::Id),
            ["member", "role"] | ["member", "roles"] => Field::Member(MemberField::Role),
            ["member", "locale"] => Field::Member(MemberField::Locale),
            ["member", "language"] => Field::Member(MemberField::Language),
            ["member", "status"] => Field::Member(MemberField::Status),
            ["member", "last_seen"] | ["member", "last_seen_at"] => Field::Member(MemberField::LastSeen),
            ["member", "email"] => Field::Member(MemberField::Email),
            ["partner", "attr", name] => Field::Partner(PartnerField::Attribute(attr_key(name, start)?)),
            ["member", "attr", name] => Field::Member(MemberField::Attribute(attr_key(name, start)?)),
            ["event", name] if self.events => Field::Event(attr_key(name, start)?),
            ["event", ..] if !self.events => {
                return Err(RuleError::at(
                    start,
                    "event fields are read by trigger conditions only; an audience reads partner and member fields"
                        .into(),
                ));
            }
            _ => {
                return Err(RuleError::at(
                    start,
                    format!("unknown field '{}'; known: {}", path.join("."), Field::KNOWN),
                ));
            }
        };
        Ok(field)
    }

    fn list(&mut self, field: &Field) -> Result<Vec<Value>, RuleError> {
        if !matches!(self.next(), Some((_, Token::Open))) {
            self.at -= 1;
            return Err(RuleError::at(
                self.offset(),
                format!("expected '(' to start the list, found {}", self.found()),
            ));
        }
        let mut values = Vec::new();
        loop {
            if matches!(self.peek(), Some((_, Token::Close))) && values.is_empty() {
                return Err(RuleError::at(self.offset(), "the list is empty: name at least one value".into()));
            }
            values.push(self.value(field)?);
            match self.next() {
                Some((_, Token::Comma)) => {}
                Some((_, Token::Close)) => return Ok(values),
                _ => {
                    self.at -= 1;
                    return Err(RuleError::at(
                        self.offset(),
                        format!("expected ',' or ')' in the list, found {}", self.found()),
                    ));
                }
            }
        }
    }

    /// Reads a value and normalizes it for `field` (a tier to its catalog key, a country to
    /// upper case...), refusing what the field cannot hold.
    fn value(&mut self, field: &Field) -> Result<Value, RuleError> {
        let at = self.offset();
        let value = match self.next() {
            Some((_, Token::Text(t))) => Value::Text(t),
            Some((_, Token::Number(n))) => {
                let unit = match self.peek() {
                    Some((_, Token::Word(w))) => w.to_lowercase(),
                    _ => String::new(),
                };
                let days = match unit.as_str() {
                    "day" | "days" => Some(1.0),
                    "week" | "weeks" => Some(7.0),
                    "month" | "months" => Some(30.0),
                    _ => None,
                };
                match days {
                    Some(per) => {
                        self.at += 1;
                        if !self.keyword("ago") {
                            return Err(RuleError::at(
                                self.offset(),
                                format!("expected 'ago' after '{n} {unit}', found {}", self.found()),
                            ));
                        }
                        if n < 0.0 || n.fract() != 0.0 || n > 36_500.0 {
                            return Err(RuleError::at(
                                at,
                                "a relative date needs a whole number of days up to 36500".into(),
                            ));
                        }
                        Value::DaysAgo((n * per) as i64)
                    }
                    None => Value::Number(n),
                }
            }
            Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("true") => Value::Bool(true),
            Some((_, Token::Word(w))) if w.eq_ignore_ascii_case("false") => Value::Bool(false),
            _ => {
                self.at -= 1;
                return Err(RuleError::at(
                    self.offset(),
                    format!("expected a value (\"text\", a number, true, false or N days ago), found {}", self.found()),
                ));
            }
        };
        normalize(field, value, self.catalog).map_err(|m| RuleError::at(at, m))
    }
}

fn not(condition: Condition) -> Rule {
    Rule::Not(Box::new(Rule::Condition(condition)))
}

fn attr_key(name: &str, at: usize) -> Result<AttrKey, RuleError> {
    AttrKey::parse(name).map_err(|e| RuleError::at(at, e.to_string()))
}

/// Checks that the operator in `token` suits the field's kind, before its value is read.
fn allowed(field: &Field, token: &Token) -> Result<(), String> {
    let kind = field.kind();
    let word = |w: &str| matches!(token, Token::Word(t) if t.eq_ignore_ascii_case(w));
    let ordering = matches!(token, Token::Lt | Token::Le | Token::Gt | Token::Ge);
    let equality = matches!(token, Token::Eq | Token::Ne) || word("in") || word("contains");
    match kind {
        FieldKind::Text | FieldKind::OptionalText | FieldKind::Set if ordering => Err(format!(
            "{field} is text, so '{}' cannot apply; use =, !=, in, not in, contains or exists",
            token.describe().trim_matches('\'')
        )),
        FieldKind::Time if equality => Err(format!(
            "{field} is a time: compare it with <, <=, >, >= and a date (\"2026-01-31\") or N days ago, or test exists"
        )),
        _ => Ok(()),
    }
}

fn normalize(field: &Field, value: Value, catalog: &Catalog) -> Result<Value, String> {
    let kind = field.kind();
    let text = match (&value, kind) {
        (Value::DaysAgo(_), FieldKind::Time) => return Ok(value),
        (Value::Text(t), FieldKind::Time) => {
            return Timestamp::parse(t).map(|ts| Value::Time(ts.as_millis())).map_err(|e| e.to_string());
        }
        (_, FieldKind::Time) => {
            return Err(format!("{field} is a time: compare it with a date (\"2026-01-31\") or N days ago"));
        }
        (Value::DaysAgo(_), _) => return Err(format!("'{value}' is a time, but {field} is not")),
        (_, FieldKind::Attribute) => return Ok(value),
        (Value::Text(t), _) => t.clone(),
        _ => {
            return Err(format!("{field} holds text: write the value in quotes, such as \"{value}\""));
        }
    };
    let canonical = match field {
        Field::Partner(PartnerField::Type) => {
            catalog.partner_type(&text).map(|v| v.to_string()).map_err(|e| e.to_string())?
        }
        Field::Partner(PartnerField::Tier) => {
            catalog.partner_tier(&text).map(|v| v.to_string()).map_err(|e| e.to_string())?
        }
        Field::Partner(PartnerField::Region) => {
            catalog.region(&text).map(|v| v.to_string()).map_err(|e| e.to_string())?
        }
        Field::Partner(PartnerField::Country) => Country::parse(&text).map(String::from).map_err(|e| e.to_string())?,
        Field::Partner(PartnerField::Stage) => {
            text.parse::<LifecycleStage>().map(|s| s.as_str().to_owned()).map_err(|e| e.to_string())?
        }
        Field::Partner(PartnerField::Group) => Slug::parse(&text).map(String::from).map_err(|e| e.to_string())?,
        Field::Member(MemberField::Role) => {
            text.parse::<Role>().map(|r| r.as_str().to_owned()).map_err(|e| e.to_string())?
        }
        Field::Member(MemberField::Status) => {
            text.parse::<MemberStatus>().map(|s| s.as_str().to_owned()).map_err(|e| e.to_string())?
        }
        Field::Member(MemberField::Locale) => Locale::parse(&text).map(String::from).map_err(|e| e.to_string())?,
        Field::Member(MemberField::Language) => Locale::parse(&text)
            .map(|l| l.language().to_owned())
            .map_err(|_| format!("'{text}' is not a language code such as en, de or pt"))?,
        Field::Member(MemberField::Email) => text.trim().to_lowercase(),
        Field::Partner(PartnerField::Id) | Field::Member(MemberField::Id) => uuid::Uuid::parse_str(text.trim())
            .map(|u| u.to_string())
            .map_err(|_| format!("'{text}' is not an id (a UUID)"))?,
        _ => text,
    };
    Ok(Value::Text(canonical))
}
