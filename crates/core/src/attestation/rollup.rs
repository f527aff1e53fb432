//! A partner's answers added up, for the compliance page and its CSV: the sum of each
//! number, how often each choice was made, how many serial numbers were listed, how many
//! people answered a text or a file reference.

use serde::Serialize;

use super::answers::{Answer, Answers};
use super::form::{AttestationForm, FieldKind};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldTotal {
    pub key: String,
    pub label: String,
    /// How many acknowledgments answered it.
    pub answered: i64,
    /// A number field's sum.
    pub sum: Option<i64>,
    /// A choice field's count per option, in the form's order.
    pub chosen: Vec<Chosen>,
    /// A serials field's count of serial numbers listed.
    pub items: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Chosen {
    pub option: String,
    pub count: i64,
}

/// Every field's total over the answers added.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollup {
    pub fields: Vec<FieldTotal>,
}

impl Rollup {
    pub fn new(form: &AttestationForm) -> Self {
        let fields = form
            .fields
            .iter()
            .map(|f| FieldTotal {
                key: f.key.to_string(),
                label: f.label.clone(),
                answered: 0,
                sum: matches!(f.kind, FieldKind::Number { .. }).then_some(0),
                chosen: match &f.kind {
                    FieldKind::Choice { options, .. } => {
                        options.iter().map(|o| Chosen { option: o.clone(), count: 0 }).collect()
                    }
                    _ => Vec::new(),
                },
                items: matches!(f.kind, FieldKind::Serials { .. }).then_some(0),
            })
            .collect();
        Self { fields }
    }

    pub fn add(&mut self, answers: &Answers) {
        for total in &mut self.fields {
            let Some(answer) = answers.0.get(&total.key) else { continue };
            total.answered += 1;
            match answer {
                Answer::Number(n) => total.sum = Some(total.sum.unwrap_or(0).saturating_add(*n)),
                Answer::Text(t) => bump(&mut total.chosen, t),
                Answer::List(items) => {
                    items.iter().for_each(|i| bump(&mut total.chosen, i));
                    if let Some(n) = &mut total.items {
                        *n += items.len() as i64;
                    }
                }
            }
        }
    }

    /// One line for a page or a CSV cell: "Units quarantined: 14; Action: Quarantined 2,
    /// Returned 1; Serial numbers: 5 listed".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = self
            .fields
            .iter()
            .filter(|t| t.answered > 0)
            .map(|t| {
                let value = match (t.sum, t.items) {
                    (Some(sum), _) => sum.to_string(),
                    (_, Some(items)) => format!("{items} listed"),
                    _ if !t.chosen.is_empty() => {
                        let made: Vec<String> = t
                            .chosen
                            .iter()
                            .filter(|c| c.count > 0)
                            .map(|c| format!("{} {}", c.option, c.count))
                            .collect();
                        made.join(", ")
                    }
                    _ => format!("{} answered", t.answered),
                };
                format!("{}: {value}", t.label)
            })
            .collect();
        parts.join("; ")
    }
}

/// Counts `option` where the field has options (a text answer of a free-text field has
/// none, and is only counted as answered).
fn bump(chosen: &mut [Chosen], option: &str) {
    if let Some(c) = chosen.iter_mut().find(|c| c.option == option) {
        c.count += 1;
    }
}
