//! The compose form: what it holds, read from the posted fields (each locale's variant is a
//! set of `field@locale` fields), filled from a stored message, and turned into the
//! app's `MessageDraft`. The audience builder (shared with the segment pages) turns its
//! choices into a rule: each group of checked values is one `in (...)` condition, all
//! joined by `and`, with the written rule.

use tidings_core::attestation::AttestationForm;
use tidings_core::audiences::AudienceDraft;
use tidings_core::messages::{AcknowledgmentDraft, CallToAction, ContentDraft, Message, MessageDraft, VariantDraft};
use tidings_core::obligations::ObligationDraft;
use tidings_core::{FieldErrors, Role, SegmentId, TopicId};

#[derive(Debug, Clone, Default)]
pub struct VariantForm {
    pub locale: String,
    pub title: String,
    pub summary: String,
    pub what_changed: String,
    pub why_it_matters: String,
    pub what_to_do: String,
    pub cta_label: String,
    pub cta_url: String,
}

impl VariantForm {
    /// A stored variant as the form shows it.
    pub fn of(locale: &str, v: &tidings_core::messages::Variant) -> Self {
        Self {
            locale: locale.to_owned(),
            title: v.title.clone(),
            summary: v.summary.clone(),
            what_changed: v.what_changed.clone(),
            why_it_matters: v.why_it_matters.clone(),
            what_to_do: v.what_to_do.clone(),
            cta_label: v.call_to_action.as_ref().map(|c| c.label.clone()).unwrap_or_default(),
            cta_url: v.call_to_action.as_ref().map(|c| c.url.clone()).unwrap_or_default(),
        }
    }

    /// The variant as typed: blank fields left out, a call to action when either half is given.
    pub fn draft(&self) -> VariantDraft {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let call_to_action = match (text(&self.cta_label), text(&self.cta_url)) {
            (None, None) => None,
            (label, url) => Some(CallToAction { label: label.unwrap_or_default(), url: url.unwrap_or_default() }),
        };
        VariantDraft {
            title: text(&self.title),
            summary: text(&self.summary),
            what_changed: text(&self.what_changed),
            why_it_matters: text(&self.why_it_matters),
            what_to_do: text(&self.what_to_do),
            call_to_action,
        }
    }
}

/// The roles an obligation may ask for, as the compose form lists them.
pub fn obligation_roles() -> impl Iterator<Item = &'static str> {
    Role::ALL.into_iter().map(Role::as_str)
}

#[derive(Debug, Clone, Default)]
pub struct ComposeForm {
    pub topic_id: String,
    pub importance: String,
    pub default_locale: String,
    pub variants: Vec<VariantForm>,
    pub ack_statement: String,
    pub ack_due: String,
    /// The escalation ladder's key; empty: the topic's.
    pub ack_ladder: String,
    /// Role to how many people at each partner must acknowledge (empty or 0: not asked).
    pub ack_roles: std::collections::BTreeMap<String, String>,
    /// Due this many hours after the release, when no due time is given.
    pub ack_within_hours: String,
    /// The attestation form, a field a line (`AttestationForm::parse_lines`).
    pub ack_attestation: String,
    pub expires_at: String,
    /// The author's IANA zone, in which the due time and expiry are read.
    pub time_zone: String,
    /// The channels checked; none means the importance's defaults.
    pub channels: Vec<String>,
    pub segments: Vec<String>,
    pub groups: Vec<String>,
    pub builder: RuleBuilder,
    pub exclude_rule: String,
}

/// The audience builder: checked values per field, and a written rule.
#[derive(Debug, Clone, Default)]
pub struct RuleBuilder {
    pub types: Vec<String>,
    pub tiers: Vec<String>,
    pub regions: Vec<String>,
    pub roles: Vec<String>,
    pub rule: String,
}

impl RuleBuilder {
    /// Takes a posted field if it is one of the builder's; says whether it was.
    pub fn take(&mut self, name: &str, value: &str) -> bool {
        let value = value.to_owned();
        match name {
            "type" => self.types.push(value),
            "tier" => self.tiers.push(value),
            "region" => self.regions.push(value),
            "role" => self.roles.push(value),
            "rule" => self.rule = value,
            _ => return false,
        }
        true
    }

    /// The rule the checked values and the written rule make together.
    pub fn rule(&self) -> Option<String> {
        let quoted = |values: &[String]| values.iter().map(|v| format!("{v:?}")).collect::<Vec<_>>().join(", ");
        let mut parts: Vec<String> = [
            ("partner.type", &self.types),
            ("partner.tier", &self.tiers),
            ("partner.region", &self.regions),
            ("member.role", &self.roles),
        ]
        .into_iter()
        .filter(|(_, values)| !values.is_empty())
        .map(|(field, values)| format!("{field} in ({})", quoted(values)))
        .collect();
        let written = self.rule.trim();
        if !written.is_empty() {
            parts.push(if parts.is_empty() { written.to_owned() } else { format!("({written})") });
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }

    pub fn has(&self, list: &str, value: &str) -> bool {
        let values = match list {
            "type" => &self.types,
            "tier" => &self.tiers,
            "region" => &self.regions,
            "role" => &self.roles,
            _ => return false,
        };
        values.iter().any(|v| v == value)
    }
}

/// What the author pressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Intent {
    Save,
    /// Count the audience without saving.
    Check,
    /// Add a variant for this locale.
    AddLocale(String),
}

impl ComposeForm {
    /// A new message: English, need to know, one empty variant.
    pub fn blank() -> Self {
        Self {
            importance: "action".into(),
            default_locale: "en".into(),
            variants: vec![VariantForm { locale: "en".into(), ..Default::default() }],
            time_zone: "UTC".into(),
            ..Default::default()
        }
    }

    pub fn parse(pairs: Vec<(String, String)>) -> (Self, Intent) {
        let mut form = Self::default();
        let mut intent = Intent::Save;
        let mut new_locale = String::new();
        for (name, value) in pairs {
            if form.builder.take(&name, &value) {
                continue;
            }
            if let Some((field, locale)) = name.split_once('@') {
                let variant = form.variant_mut(locale);
                let slot = match field {
                    "title" => &mut variant.title,
                    "summary" => &mut variant.summary,
                    "what_changed" => &mut variant.what_changed,
                    "why_it_matters" => &mut variant.why_it_matters,
                    "what_to_do" => &mut variant.what_to_do,
                    "cta_label" => &mut variant.cta_label,
                    "cta_url" => &mut variant.cta_url,
                    _ => continue,
                };
                *slot = value;
                continue;
            }
            match name.as_str() {
                "topic_id" => form.topic_id = value,
                "importance" => form.importance = value,
                "default_locale" => form.default_locale = value,
                "ack_statement" => form.ack_statement = value,
                "ack_due" => form.ack_due = value,
                "ack_ladder" => form.ack_ladder = value,
                "ack_within_hours" => form.ack_within_hours = value,
                "ack_attestation" => form.ack_attestation = value,
                role if role.starts_with("ack_role_") => {
                    form.ack_roles.insert(role.trim_start_matches("ack_role_").to_owned(), value);
                }
                "expires_at" => form.expires_at = value,
                "time_zone" => form.time_zone = value,
                "channel" => form.channels.push(value),
                "segment" => form.segments.push(value),
                "group" => form.groups.push(value),
                "exclude_rule" => form.exclude_rule = value,
                "new_locale" => new_locale = value,
                "intent" => {
                    intent = match value.as_str() {
                        "check" => Intent::Check,
                        "add_locale" => Intent::AddLocale(new_locale.trim().to_owned()),
                        _ => Intent::Save,
                    }
                }
                _ => {}
            }
        }
        // The new locale's field may come after the button's.
        if let Intent::AddLocale(_) = intent {
            intent = Intent::AddLocale(new_locale.trim().to_owned());
        }
        (form, intent)
    }

    fn variant_mut(&mut self, locale: &str) -> &mut VariantForm {
        let at = match self.variants.iter().position(|v| v.locale == locale) {
            Some(at) => at,
            None => {
                self.variants.push(VariantForm { locale: locale.to_owned(), ..Default::default() });
                self.variants.len() - 1
            }
        };
        &mut self.variants[at]
    }

    pub fn add_locale(&mut self, locale: &str) -> Result<(), String> {
        let tag = tidings_core::Locale::parse(locale).map_err(|e| e.to_string())?;
        if self.variants.iter().any(|v| v.locale.eq_ignore_ascii_case(tag.as_str())) {
            return Err(format!("there is already a {tag} variant"));
        }
        self.variant_mut(tag.as_str());
        Ok(())
    }

    pub fn from_message(m: &Message) -> Self {
        let variants = m.content.variants.iter().map(|(locale, v)| VariantForm::of(locale.as_str(), v)).collect();
        // As the author gave them: wall-clock times in the message's zone.
        let date = |t: Option<tidings_core::Timestamp>| t.map(|t| t.local(&m.time_zone)).unwrap_or_default();
        let a = &m.audience;
        Self {
            topic_id: m.topic_id.to_string(),
            importance: m.importance.as_str().to_owned(),
            default_locale: m.content.default_locale.to_string(),
            variants,
            ack_statement: m.acknowledgment.as_ref().map(|a| a.statement.clone()).unwrap_or_default(),
            ack_due: date(m.acknowledgment.as_ref().and_then(|a| a.due_at)),
            ack_ladder: m
                .acknowledgment
                .as_ref()
                .and_then(|a| a.ladder.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
            ack_roles: m
                .acknowledgment
                .iter()
                .flat_map(|a| a.obligation.quotas.iter())
                .filter_map(|q| Some((q.role?.as_str().to_owned(), q.count?.to_string())))
                .collect(),
            ack_attestation: m
                .acknowledgment
                .as_ref()
                .and_then(|a| a.attestation.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
            ack_within_hours: m
                .acknowledgment
                .as_ref()
                .and_then(|a| a.obligation.within_hours)
                .map(|h| h.to_string())
                .unwrap_or_default(),
            expires_at: date(m.expires_at),
            time_zone: m.time_zone.to_string(),
            channels: m.channels.iter().flatten().map(|c| c.as_str().to_owned()).collect(),
            segments: a.segments.iter().map(ToString::to_string).collect(),
            groups: a.partner_groups.clone(),
            builder: RuleBuilder { rule: a.rule.clone().unwrap_or_default(), ..Default::default() },
            exclude_rule: a.exclude_rule.clone().unwrap_or_default(),
        }
    }

    /// How many people of `role` the form asks for, as typed ("" when none).
    pub fn ack_role(&self, role: &str) -> &str {
        self.ack_roles.get(role).map_or("", String::as_str)
    }

    pub fn audience(&self) -> Result<AudienceDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let segments = self
            .segments
            .iter()
            .filter_map(|s| errors.check("audience.segments", s.parse::<SegmentId>().map_err(|_| "no such segment")))
            .collect();
        let exclude = self.exclude_rule.trim();
        let draft = AudienceDraft {
            rule: self.builder.rule(),
            segments,
            partner_groups: self.groups.clone(),
            exclude_rule: (!exclude.is_empty()).then(|| exclude.to_owned()),
            ..Default::default()
        };
        errors.finish(|| Some(draft))
    }

    /// The text, every language, as the form has it.
    pub fn content(&self) -> ContentDraft {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let variants = self.variants.iter().map(|v| (v.locale.clone(), v.draft())).collect();
        ContentDraft { default_locale: text(&self.default_locale), variants }
    }

    pub fn draft(&self) -> Result<MessageDraft, FieldErrors> {
        let mut errors = FieldErrors::new();
        let topic_id = if self.topic_id.is_empty() {
            errors.add("topic_id", "choose a topic");
            None
        } else {
            errors.check("topic_id", self.topic_id.parse::<TopicId>().map_err(|_| "no such topic"))
        };
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let audience = match self.audience() {
            Ok(a) => Some(a),
            Err(e) => {
                e.iter().for_each(|e| errors.add(&e.field, e.message.clone()));
                None
            }
        };
        let statement = text(&self.ack_statement);
        let mut roles = std::collections::BTreeMap::new();
        for (role, count) in &self.ack_roles {
            let field = format!("acknowledgment.obligation.roles.{role}");
            match count.trim() {
                "" | "0" => {}
                n => {
                    if let Some(n) = errors.check(&field, n.parse::<u32>().map_err(|_| "must be a whole number")) {
                        roles.insert(role.clone(), n);
                    }
                }
            }
        }
        let within_hours = match self.ack_within_hours.trim() {
            "" => None,
            h => errors.check(
                "acknowledgment.obligation.within_hours",
                h.parse::<u32>().map_err(|_| "must be a whole number of hours"),
            ),
        };
        let obligation =
            ObligationDraft { every_recipient: None, roles: (!roles.is_empty()).then_some(roles), within_hours };
        // No lines: no form (an empty one removes a form the message had).
        let attestation = match AttestationForm::parse_lines(&self.ack_attestation) {
            Ok(form) => Some(form.unwrap_or(AttestationForm { fields: Vec::new() })),
            Err(e) => {
                e.iter().for_each(|e| errors.add(&e.field, e.message.clone()));
                None
            }
        };
        let acknowledgment = Some(AcknowledgmentDraft {
            due_at: statement.as_ref().and(text(&self.ack_due)),
            statement,
            obligation: Some(obligation),
            ladder: Some(self.ack_ladder.trim().to_owned()),
            attestation,
        });
        errors.finish(|| {
            Some(MessageDraft {
                topic_id,
                topic: None,
                importance: Some(self.importance.clone()),
                content: Some(self.content()),
                audience,
                // An empty list asks for the importance's defaults.
                channels: Some(self.channels.clone()),
                acknowledgment,
                expires_at: Some(self.expires_at.trim().to_owned()),
                time_zone: text(&self.time_zone),
            })
        })
    }

    pub fn has(&self, list: &str, value: &str) -> bool {
        match list {
            "channel" => self.channels.iter().any(|v| v == value),
            "segment" => self.segments.iter().any(|v| v == value),
            "group" => self.groups.iter().any(|v| v == value),
            _ => self.builder.has(list, value),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn the_builder_and_the_written_rule_make_one_rule() {
        let (form, intent) = ComposeForm::parse(pairs(&[
            ("type", "distributor"),
            ("role", "support"),
            ("role", "operations"),
            ("rule", "partner.region = \"emea\" or partner.region = \"apac\""),
            ("title@en", "Recall"),
            ("title@de", "Rückruf"),
            ("intent", "check"),
        ]));
        assert_eq!(intent, Intent::Check);
        assert_eq!(
            form.builder.rule().unwrap(),
            "partner.type in (\"distributor\") and member.role in (\"support\", \"operations\") \
             and (partner.region = \"emea\" or partner.region = \"apac\")"
        );
        assert_eq!(form.variants.len(), 2);
        assert_eq!(form.variants[1].title, "Rückruf");
        assert!(form.has("role", "operations") && !form.has("role", "sales"));
    }

    #[test]
    fn a_locale_is_added_once() {
        let (mut form, intent) = ComposeForm::parse(pairs(&[("intent", "add_locale"), ("new_locale", "fr")]));
        assert_eq!(intent, Intent::AddLocale("fr".into()));
        form.add_locale("fr").unwrap();
        assert!(form.add_locale("fr").is_err());
        assert!(form.add_locale("not a locale!").is_err());
    }
}

/// A field as the form's label reads, from the path the use case names it by: an author
/// fixes "What to do next (de)", not `content.variants.de.what_to_do`.
pub fn field_label(path: &str) -> String {
    let section = |name: &str| match name {
        "title" => Some("Title"),
        "summary" => Some("Summary"),
        "what_changed" => Some("What changed"),
        "why_it_matters" => Some("Why it matters"),
        "what_to_do" => Some("What to do next"),
        "call_to_action" => Some("Call to action"),
        "call_to_action.label" => Some("Call to action: label"),
        "call_to_action.url" => Some("Call to action: link"),
        _ => None,
    };
    if let Some(rest) = path.strip_prefix("content.variants.") {
        let (locale, name) = rest.split_once('.').unwrap_or((rest, ""));
        return match section(name) {
            Some(label) => format!("{label} ({locale})"),
            None => format!("Text in {locale}"),
        };
    }
    let known = match path {
        "content" | "content.variants" => "Text",
        "content.default_locale" => "Default language",
        "topic_id" | "topic" => "Topic",
        "importance" => "Importance",
        "acknowledgment" => "Acknowledgment",
        "acknowledgment.statement" => "What members confirm",
        "acknowledgment.due_at" => "Due by",
        "expires_at" => "Leaves inboxes after",
        "send_at" => "Send at",
        "channels" => "Channels",
        "audience" => "Audience",
        "audience.rule" | "rule" => "Rule",
        "audience.exclude" | "exclude" | "exclude_rule" => "Leave out members matching",
        "audience.segments" | "segment" => "Segments",
        "audience.groups" | "group" => "Partner groups",
        "audience.members" => "Members",
        "name" => "Name",
        "description" => "Description",
        "new_locale" => "Language to add",
        _ => "",
    };
    if known.is_empty() {
        // Anything else reads as words: `partner_type` is "Partner type".
        let words = path.rsplit('.').next().unwrap_or(path).replace('_', " ");
        let mut chars = words.chars();
        chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
    } else {
        known.to_owned()
    }
}

#[cfg(test)]
mod label_tests {
    use super::field_label;

    #[test]
    fn fields_read_as_their_labels() {
        assert_eq!(field_label("content.variants.de.what_to_do"), "What to do next (de)");
        assert_eq!(field_label("content.variants.en.call_to_action.url"), "Call to action: link (en)");
        assert_eq!(field_label("topic_id"), "Topic");
        assert_eq!(field_label("acknowledgment.due_at"), "Due by");
        assert_eq!(field_label("partner_type"), "Partner type");
    }
}
