//! An audience: who a message goes to. Members come in through any of its parts (rules,
//! saved segments, partner groups, listed partners, listed members), minus its exclusions
//! and the configured default exclusion; disabled members never, test members only in a
//! test send. The whole audience becomes one [`Rule`], so it is counted and streamed by
//! the same SQL and explained by the same evaluator as any rule.

use serde::Serialize;

use super::ast::{Condition, Field, MemberField, PartnerField, Rule, Test, Value};
use super::eval::Subject;
use crate::{MemberId, PartnerId, Timestamp};

/// One labelled part of an audience.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    /// What a person reads in an explanation: `segment "EMEA support"`, `partner group emea-pilot`.
    pub label: String,
    pub rule: Rule,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Audience {
    pub includes: Vec<Part>,
    pub excludes: Vec<Part>,
    /// A test send reaches only members whose status is `test`.
    pub test_send: bool,
}

/// Why a member is in or out, part by part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AudienceExplanation {
    pub included: bool,
    /// One sentence: the deciding reason.
    pub summary: String,
    pub parts: Vec<PartOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PartOutcome {
    /// `include`, `exclude` or `status`.
    pub role: &'static str,
    pub label: String,
    pub matched: bool,
    /// Each condition of the part's rule and whether it held.
    pub conditions: Vec<ConditionOutcome>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConditionOutcome {
    pub condition: String,
    pub held: bool,
}

impl Audience {
    pub fn include(&mut self, label: impl Into<String>, rule: Rule) {
        self.includes.push(Part { label: label.into(), rule });
    }

    pub fn exclude(&mut self, label: impl Into<String>, rule: Rule) {
        self.excludes.push(Part { label: label.into(), rule });
    }

    /// Members of these partner groups.
    pub fn groups_rule(keys: &[String]) -> Rule {
        condition(Field::Partner(PartnerField::Group), Test::In(texts(keys)))
    }

    /// Members of these partners.
    pub fn partners_rule(ids: &[PartnerId]) -> Rule {
        condition(Field::Partner(PartnerField::Id), Test::In(ids.iter().map(|i| Value::Text(i.to_string())).collect()))
    }

    /// These members.
    pub fn members_rule(ids: &[MemberId]) -> Rule {
        condition(Field::Member(MemberField::Id), Test::In(ids.iter().map(|i| Value::Text(i.to_string())).collect()))
    }

    fn status_rule(&self) -> Rule {
        let status = if self.test_send { "test" } else { "active" };
        condition(Field::Member(MemberField::Status), Test::Eq(Value::Text(status.into())))
    }

    fn status_label(&self) -> &'static str {
        if self.test_send {
            "a test send reaches test members only"
        } else {
            "active members only (never disabled or test)"
        }
    }

    /// The audience as one rule: any include, no exclude, the right status. With no
    /// includes it selects nobody.
    pub fn to_rule(&self) -> Rule {
        let mut all = Vec::new();
        all.push(match self.includes.len() {
            0 => Rule::Or(Vec::new()),
            1 => self.includes[0].rule.clone(),
            _ => Rule::Or(self.includes.iter().map(|p| p.rule.clone()).collect()),
        });
        if !self.excludes.is_empty() {
            let any = Rule::Or(self.excludes.iter().map(|p| p.rule.clone()).collect());
            all.push(Rule::Not(Box::new(any)));
        }
        all.push(self.status_rule());
        Rule::And(all)
    }

    pub fn explain(&self, s: Subject<'_>, now: Timestamp) -> AudienceExplanation {
        let outcome = |role: &'static str, label: &str, rule: &Rule| {
            let e = rule.explain(s, now);
            PartOutcome {
                role,
                label: label.to_owned(),
                matched: e.matched,
                conditions: e
                    .conditions
                    .into_iter()
                    .map(|(condition, held)| ConditionOutcome { condition, held })
                    .collect(),
            }
        };
        let mut parts: Vec<PartOutcome> = self.includes.iter().map(|p| outcome("include", &p.label, &p.rule)).collect();
        parts.extend(self.excludes.iter().map(|p| outcome("exclude", &p.label, &p.rule)));
        let status = outcome("status", self.status_label(), &self.status_rule());
        let status_ok = status.matched;
        parts.push(status);

        let included_by = parts.iter().find(|p| p.role == "include" && p.matched).map(|p| p.label.clone());
        let excluded_by = parts.iter().find(|p| p.role == "exclude" && p.matched).map(|p| p.label.clone());
        let (included, summary) = match (included_by, excluded_by, status_ok) {
            (None, _, _) if self.includes.is_empty() => (false, "out: the audience has no parts yet".to_owned()),
            (None, _, _) => (false, "out: no part of the audience selects this member".to_owned()),
            (Some(_), Some(exclusion), _) => (false, format!("out: excluded by {exclusion}")),
            (Some(_), None, false) => {
                let status = s.member.status.as_str();
                (false, format!("out: the member's status is {status}; {}", self.status_label()))
            }
            (Some(inclusion), None, true) => (true, format!("in: selected by {inclusion}")),
        };
        debug_assert_eq!(included, self.to_rule().matches(s, now));
        AudienceExplanation { included, summary, parts }
    }
}

fn condition(field: Field, test: Test) -> Rule {
    Rule::Condition(Condition { field, test })
}

fn texts(values: &[String]) -> Vec<Value> {
    values.iter().map(|v| Value::Text(v.clone())).collect()
}
