//! Turns a message into what one member sees: personalized (minijinja, strict: an unknown
//! variable is an authoring error, never a blank in a partner's inbox), Markdown rendered
//! (comrak, which drops raw HTML) and sanitized (ammonia's allow-list), with the content
//! hash of exactly that text, which acknowledgments will record.

use std::collections::BTreeMap;

use serde::Serialize;

use super::content::{CallToAction, Content, absolute_web_url};
use crate::{Locale, MemberProfile, PartnerProfile};

/// Template work allowed per field: enough for any real message, not for a runaway loop.
const FUEL: u64 = 50_000;

/// The most a field may grow to once personalized (bytes): far above any real section.
const OUTPUT_MAX: usize = 256 * 1024;

/// The fields a message may use, as `{{ member.name }}` or `{{ partner.attr.tier_goal }}`.
#[derive(Debug, Clone, Serialize)]
pub struct Personalization {
    pub member: MemberFields,
    pub partner: PartnerFields,
    /// The data of the event a trigger's message answers, as `{{ event.deal_id }}`; absent
    /// from other messages, where naming it is an error.
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub event: serde_json::Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemberFields {
    pub name: String,
    pub first_name: String,
    pub email: String,
    pub locale: String,
    pub roles: Vec<String>,
    pub attr: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PartnerFields {
    pub name: String,
    #[serde(rename = "type")]
    pub partner_type: String,
    pub tier: String,
    pub region: String,
    pub country: String,
    pub attr: BTreeMap<String, serde_json::Value>,
}

impl Personalization {
    /// For a partner's shared channel (Teams, Slack), read by many: member fields are
    /// blank.
    pub fn of_partner(partner: &PartnerProfile) -> Self {
        let member = MemberFields {
            name: String::new(),
            first_name: String::new(),
            email: String::new(),
            locale: String::new(),
            roles: Vec::new(),
            attr: BTreeMap::new(),
        };
        Self { member, partner: PartnerFields::of(partner), event: serde_json::Value::Null }
    }

    pub fn of(member: &MemberProfile, partner: &PartnerProfile) -> Self {
        Self {
            member: MemberFields {
                name: member.name.clone(),
                first_name: member.name.split_whitespace().next().unwrap_or_default().to_owned(),
                email: member.email.to_string(),
                locale: member.locale.to_string(),
                roles: member.roles.iter().map(|r| r.as_str().to_owned()).collect(),
                attr: attributes(&member.attributes),
            },
            partner: PartnerFields::of(partner),
            event: serde_json::Value::Null,
        }
    }

    /// These fields for `message`: borrowed, or with its event's data if it answers one.
    pub fn with_event_of(&self, message: &super::Message) -> std::borrow::Cow<'_, Self> {
        match &message.triggered_by {
            None => std::borrow::Cow::Borrowed(self),
            Some(_) => std::borrow::Cow::Owned(self.clone().for_message(message)),
        }
    }

    /// With the data of the event the message answers, if it answers one.
    pub fn for_message(mut self, message: &super::Message) -> Self {
        if let Some(t) = &message.triggered_by {
            self.event = t.data.clone();
        }
        self
    }
}

impl PartnerFields {
    fn of(partner: &PartnerProfile) -> Self {
        Self {
            name: partner.name.clone(),
            partner_type: partner.partner_type.to_string(),
            tier: partner.tier.to_string(),
            region: partner.region.as_ref().map(ToString::to_string).unwrap_or_default(),
            country: partner.country.as_ref().map(ToString::to_string).unwrap_or_default(),
            attr: attributes(&partner.attributes),
        }
    }
}

fn attributes(a: &crate::Attributes) -> BTreeMap<String, serde_json::Value> {
    a.iter().map(|(k, v)| (k.to_string(), serde_json::to_value(v).unwrap_or_default())).collect()
}

/// A message as one member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rendered {
    pub locale: Locale,
    pub title: String,
    pub summary: String,
    /// Sanitized HTML.
    pub what_changed: String,
    pub why_it_matters: String,
    pub what_to_do: String,
    pub call_to_action: Option<CallToAction>,
    /// SHA-256 (hex) of everything above: the exact version shown.
    pub content_hash: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct RenderError {
    pub field: String,
    pub message: String,
}

/// Renders the variant for `locale` for one member.
pub fn render(content: &Content, locale: &Locale, who: &Personalization) -> Result<Rendered, RenderError> {
    let (locale, v) = content
        .variant_for(locale)
        .ok_or_else(|| RenderError { field: "variants".into(), message: "the message has no content".into() })?;
    let at = |name: &str| format!("variants.{locale}.{name}");
    let title = personalize(&v.title, who).map_err(|m| RenderError { field: at("title"), message: m })?;
    let summary = personalize(&v.summary, who).map_err(|m| RenderError { field: at("summary"), message: m })?;
    let section = |name: &str, source: &str| {
        personalize(source, who).map(|md| markdown(&md)).map_err(|m| RenderError { field: at(name), message: m })
    };
    let what_changed = section("what_changed", &v.what_changed)?;
    let why_it_matters = section("why_it_matters", &v.why_it_matters)?;
    let what_to_do = section("what_to_do", &v.what_to_do)?;
    let call_to_action = match &v.call_to_action {
        Some(cta) => {
            let field = at("call_to_action.url");
            let label = personalize(&cta.label, who)
                .map_err(|m| RenderError { field: at("call_to_action.label"), message: m })?;
            let url = personalize(&cta.url, who).map_err(|m| RenderError { field: field.clone(), message: m })?;
            // The URL is checked again after personalization: a value must not turn it into javascript:.
            let url = absolute_web_url(&url).map_err(|m| RenderError { field, message: m })?;
            Some(CallToAction { label, url })
        }
        None => None,
    };
    let mut rendered = Rendered {
        locale: locale.clone(),
        title,
        summary,
        what_changed,
        why_it_matters,
        what_to_do,
        call_to_action,
        content_hash: String::new(),
    };
    rendered.content_hash = content_hash(&rendered);
    Ok(rendered)
}

/// Only the title and summary of the member's variant (for lists: no Markdown to render).
pub fn headline(
    content: &Content,
    locale: &Locale,
    who: &Personalization,
) -> Result<(Locale, String, String), RenderError> {
    let (locale, v) = content
        .variant_for(locale)
        .ok_or_else(|| RenderError { field: "variants".into(), message: "the message has no content".into() })?;
    let at = |name: &str| format!("variants.{locale}.{name}");
    let title = personalize(&v.title, who).map_err(|m| RenderError { field: at("title"), message: m })?;
    let summary = personalize(&v.summary, who).map_err(|m| RenderError { field: at("summary"), message: m })?;
    Ok((locale.clone(), title, summary))
}

/// Renders every variant for one member, reporting every authoring error at once.
pub fn check(content: &Content, who: &Personalization) -> Vec<RenderError> {
    content.variants.keys().filter_map(|locale| render(content, locale, who).err()).collect()
}

/// Whether a field's personalization can run at all, whoever reads it: its syntax, and
/// none of what [`refuse_bombs`] refuses. Checked when the message is saved, so a message
/// that could never render is an authoring error then, not a failure once released.
pub fn check_template(source: &str) -> Result<(), String> {
    if !source.contains("{{") && !source.contains("{%") {
        return Ok(());
    }
    refuse_bombs(source)?;
    let env = minijinja::Environment::new();
    env.template_from_str(source).map(|_| ()).map_err(|e| describe(&e))
}

fn personalize(source: &str, who: &Personalization) -> Result<String, String> {
    if !source.contains("{{") && !source.contains("{%") {
        return Ok(source.to_owned());
    }
    refuse_bombs(source)?;
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    let template = env.template_from_str(source).map_err(|e| describe(&e))?;
    let mut out = Capped(Vec::with_capacity(source.len() + 64));
    match template.render_captured_to(minijinja::value::Serde(who), &mut out) {
        Ok(_) => String::from_utf8(out.0).map_err(|_| "the personalization does not work: not text".to_owned()),
        Err(_) if out.0.len() >= OUTPUT_MAX => {
            Err(format!("the personalization makes the text longer than {} kB", OUTPUT_MAX / 1024))
        }
        Err(e) => Err(describe(&e)),
    }
}

/// Personalization fills in fields; it needs no arithmetic and no large numbers. A value
/// built in one step (`{{ [1]*100000000 }}`, `{{ range(99999999)|list }}`) is beyond what
/// fuel or an output cap can stop (it is built before anything is written), so such a
/// template is refused before it runs: no `*` and no number above 9999 inside `{{ }}` or
/// `{% %}`.
fn refuse_bombs(source: &str) -> Result<(), String> {
    for tag in template_tags(source) {
        if tag.contains('*') {
            return Err("the personalization may not multiply (`*`): it only fills in fields".into());
        }
        let longest_number = tag.split(|c: char| !c.is_ascii_digit()).map(str::len).max().unwrap_or(0);
        if longest_number > 4 {
            return Err("the personalization may not use numbers above 9999: it only fills in fields".into());
        }
    }
    Ok(())
}

/// What stands inside each template tag of `source` (`{{ ... }}`, `{% ... %}`), in order;
/// an unclosed tag runs to the end.
pub fn template_tags(source: &str) -> Vec<&str> {
    let mut tags = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start + 1..];
        let close = match after.chars().next() {
            Some('{') => "}}",
            Some('%') => "%}",
            _ => {
                rest = after;
                continue;
            }
        };
        let inside = &after[1..];
        let end = inside.find(close).unwrap_or(inside.len());
        tags.push(&inside[..end]);
        rest = &inside[end..];
    }
    tags
}

/// A writer that refuses to grow past `OUTPUT_MAX`.
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + buf.len() > OUTPUT_MAX {
            self.0.resize(OUTPUT_MAX, 0);
            return Err(std::io::Error::other("too long"));
        }
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn describe(e: &minijinja::Error) -> String {
    match e.kind() {
        minijinja::ErrorKind::UndefinedError => {
            "uses a field that does not exist (known: member.name, member.first_name, member.email, member.locale, \
             member.roles, member.attr.<name>, partner.name, partner.type, partner.tier, partner.region, \
             partner.country, partner.attr.<name>, and in a trigger's message event.<field>)"
                .to_owned()
        }
        _ => format!("the personalization does not work: {}", e.detail().unwrap_or("invalid template")),
    }
}

/// GitHub-flavoured Markdown to HTML, raw HTML dropped, then an allow-list sanitizer.
fn markdown(source: &str) -> String {
    let mut options = comrak::Options::default();
    options.extension.strikethrough = true;
    options.extension.table = true;
    options.extension.autolink = true;
    let html = comrak::markdown_to_html(source, &options);
    ammonia::clean(&html)
}

/// The evidence log's definition, so an evidence pack's verifier recomputes the same hash.
fn content_hash(r: &Rendered) -> String {
    crate::evidence::facts::ShownText::of(r).content_hash()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::messages::{ContentDraft, VariantDraft};
    use crate::{Catalog, MemberDraft, PartnerDraft, PartnerId};

    fn who(name: &str) -> Personalization {
        let partner =
            PartnerDraft { name: Some("Acme".into()), partner_type: Some("dealer".into()), ..Default::default() }
                .validate(None, &Catalog::default());
        let member = MemberDraft {
            partner_id: Some(PartnerId::new()),
            email: Some("ana@acme.example".into()),
            name: Some(name.into()),
            attributes: serde_json::from_str(r#"{"lots": "A7, A9"}"#).ok(),
            ..Default::default()
        }
        .validate(None);
        match (member, partner) {
            (Ok(m), Ok(p)) => Personalization::of(&m, &p),
            other => panic!("{other:?}"),
        }
    }

    fn content(what_to_do: &str, url: &str) -> Content {
        let v = VariantDraft {
            title: Some("Recall for {{ partner.name }}".into()),
            what_changed: Some("Lots {{ member.attr.lots }} are affected.".into()),
            what_to_do: Some(what_to_do.into()),
            call_to_action: Some(CallToAction { label: "Check lots".into(), url: url.into() }),
            ..Default::default()
        };
        match (ContentDraft { default_locale: None, variants: [("en".to_owned(), v)].into() }).validate() {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn fields_are_filled_in_and_markdown_becomes_sanitized_html() {
        let c = content(
            "Hi {{ member.first_name }}: **stop selling** <script>alert(1)</script>",
            "https://vendor.example/r",
        );
        let r = render(&c, &Locale::english(), &who("Ana Silva")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.title, "Recall for Acme");
        assert_eq!(r.what_changed, "<p>Lots A7, A9 are affected.</p>\n");
        assert!(r.what_to_do.contains("Hi Ana: <strong>stop selling</strong>"), "{}", r.what_to_do);
        assert!(!r.what_to_do.contains("<script"), "{}", r.what_to_do);
        assert_eq!(r.content_hash.len(), 64);
    }

    #[test]
    fn a_hostile_name_stays_text() {
        let c = content("Dear {{ member.name }}", "https://vendor.example/r");
        let r = render(&c, &Locale::english(), &who("<img src=x onerror=alert(1)>")).unwrap_or_else(|e| panic!("{e}"));
        assert!(!r.what_to_do.contains("<img"), "{}", r.what_to_do);
        assert!(!r.what_to_do.contains("onerror=alert"), "{}", r.what_to_do);
    }

    #[test]
    fn an_unknown_field_is_an_authoring_error_not_a_blank() {
        let c = content("Hi {{ member.nickname }}", "https://vendor.example/r");
        let errors = check(&c, &who("Ana"));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "variants.en.what_to_do");
        assert!(errors[0].message.starts_with("uses a field that does not exist"), "{}", errors[0].message);
    }

    #[test]
    fn a_personalized_link_keeps_its_fixed_address() {
        let c = content("Go", "https://vendor.example/claims/{{ member.attr.lots }}");
        let r = render(&c, &Locale::english(), &who("Ana")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.call_to_action.map(|c| c.url).as_deref(), Some("https://vendor.example/claims/A7,%20A9"));
        for bad in ["{{ member.attr.lots }}", "https://{{ member.attr.lots }}/x", "javascript:{{ member.name }}"] {
            let v = VariantDraft {
                title: Some("t".into()),
                call_to_action: Some(CallToAction { label: "Go".into(), url: bad.into() }),
                ..Default::default()
            };
            let draft = ContentDraft { default_locale: None, variants: [("en".to_owned(), v)].into() };
            assert!(draft.validate().is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn the_hash_changes_with_the_text_and_names_the_exact_version() {
        let c = content("Check your stock.", "https://vendor.example/r");
        let a = render(&c, &Locale::english(), &who("Ana")).unwrap_or_else(|e| panic!("{e}"));
        let b = render(&c, &Locale::english(), &who("Ana")).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(a.content_hash, b.content_hash);
        let other = content("Check your stock!", "https://vendor.example/r");
        let c2 = render(&other, &Locale::english(), &who("Ana")).unwrap_or_else(|e| panic!("{e}"));
        assert_ne!(a.content_hash, c2.content_hash);
    }

    #[test]
    fn a_template_that_builds_a_huge_value_is_refused_quickly() {
        for bomb in [
            "{{ [1]*100000000 }}",
            "{{ 'x'*100000000 }}",
            "{{ range(100000000)|list }}",
            "{% for i in range(9999) %}{{ member.name|center(9999) }}{% endfor %}",
        ] {
            let started = std::time::Instant::now();
            // As stored before saving checked it: rendering refuses it too.
            let mut c = content("Hi", "https://vendor.example/r");
            if let Some(v) = c.variants.values_mut().next() {
                v.what_to_do = bomb.to_owned();
            }
            assert_eq!(check(&c, &who("Ana")).len(), 1, "{bomb}");
            assert!(started.elapsed() < std::time::Duration::from_secs(2), "{bomb}: {:?}", started.elapsed());
        }
    }

    #[test]
    fn a_template_that_can_never_run_is_refused_when_saved() {
        let draft = |what: &str| crate::messages::ContentDraft {
            default_locale: None,
            variants: [(
                "en".to_owned(),
                crate::messages::VariantDraft {
                    title: Some("Recall".into()),
                    what_changed: Some(what.into()),
                    ..Default::default()
                },
            )]
            .into(),
        };
        for bad in ["{{ [1]*100000000 }}", "{{ range(99999999)|list }}", "{{ member.name "] {
            let Err(errors) = draft(bad).validate() else { panic!("{bad} is accepted") };
            assert_eq!(errors.iter().next().map(|e| e.field.as_str()), Some("variants.en.what_changed"), "{bad}");
        }
        assert!(draft("Hi {{ member.first_name }}, see **two lots**.").validate().is_ok());
    }

    #[test]
    fn a_runaway_template_runs_out_of_fuel() {
        let c = content(
            "{% for i in range(9999) %}{% for j in range(9999) %}x{% endfor %}{% endfor %}",
            "https://vendor.example/r",
        );
        assert_eq!(check(&c, &who("Ana")).len(), 1);
    }
}
