//! How a chase's sends are worded around the message: a reminder is the message under
//! "Reminder: ...", and a partner lead's notice names the colleagues who still owe an
//! acknowledgment and what their reminders came to (reminded, waiting for working hours,
//! failed and why, or no channel open), in the lead's language.

use tidings_core::deliveries::{DeliveryStatus, Purpose};
use tidings_core::messages::Rendered;
use tidings_store::deliveries::chase::Outstanding;

use crate::html::escape;
use crate::i18n::Tr;

/// Which wording a send gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Framing {
    Release,
    Reminder,
    LeadNotice,
    Correction,
}

impl Framing {
    pub(super) fn of(purpose: Purpose) -> Self {
        match purpose {
            Purpose::Reminder(_) => Self::Reminder,
            Purpose::Escalation(_) => Self::LeadNotice,
            Purpose::Correction(_) => Self::Correction,
            Purpose::Initial | Purpose::Sequence(_) | Purpose::Digest => Self::Release,
        }
    }

    /// A lead's notice names their own colleagues, so it is laid out per partner.
    pub(super) fn is_shared(self) -> bool {
        self != Self::LeadNotice
    }
}

/// A send's wording, and for a lead's notice who still owes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Wording<'a> {
    pub(super) framing: Framing,
    pub(super) outstanding: &'a [Outstanding],
}

/// Words `rendered` as `wording` says; `partner` names the lead's company.
pub(super) fn frame(rendered: &mut Rendered, wording: Wording<'_>, partner: &str) {
    let tr = Tr::for_locale(rendered.locale.as_str());
    let outstanding = wording.outstanding;
    match wording.framing {
        Framing::Release => {}
        Framing::Reminder => rendered.title = tr.text_with("chase-reminder-title", "title", &rendered.title),
        Framing::Correction => {
            rendered.title = tr.text_with("chase-correction-title", "title", &rendered.title);
            let intro = tr.text("chase-correction-intro");
            rendered.what_changed = format!("<p><strong>{}</strong></p>{}", escape(&intro), rendered.what_changed);
        }
        Framing::LeadNotice => {
            let title = std::mem::take(&mut rendered.title);
            rendered.title = tr.text_with_all("chase-lead-title", &[("partner", partner.to_owned()), ("title", title)]);
            let intro = tr.text_with("chase-lead-intro", "count", &outstanding.len().to_string());
            let items: String = outstanding
                .iter()
                .map(|o| {
                    let roles: Vec<String> = o.roles.iter().map(|r| tr.text(&format!("role-{r}"))).collect();
                    format!("<li>{} ({}): {}</li>", escape(&o.name), escape(&roles.join(", ")), escape(&state(&tr, o)))
                })
                .collect();
            rendered.what_to_do = format!("<p>{}</p><ul>{items}</ul>{}", escape(&intro), rendered.what_to_do);
        }
    }
}

/// What a colleague's latest reminder came to.
fn state(tr: &Tr, o: &Outstanding) -> String {
    let Some((channel, status, error)) = &o.last_reminder else {
        return tr.text("chase-state-unreachable");
    };
    let channel = channel.as_str().to_owned();
    match status {
        DeliveryStatus::Queued => tr.text_with("chase-state-waiting", "channel", &channel),
        DeliveryStatus::Failed | DeliveryStatus::Bounced | DeliveryStatus::Suppressed => tr.text_with_all(
            "chase-state-failed",
            &[("channel", channel), ("reason", error.clone().unwrap_or_else(|| status.as_str().to_owned()))],
        ),
        // Sending: on its way in this very round.
        DeliveryStatus::Sending | DeliveryStatus::Sent | DeliveryStatus::Delivered | DeliveryStatus::Unknown => {
            tr.text_with("chase-state-reminded", "channel", &channel)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tidings_core::consent::Channel;
    use tidings_core::{Locale, MemberId, Role, Roles};

    fn rendered(locale: &str) -> Rendered {
        Rendered {
            locale: Locale::parse(locale).unwrap_or_default(),
            title: "Recall of lot 9".into(),
            summary: String::new(),
            what_changed: String::new(),
            why_it_matters: String::new(),
            what_to_do: "<p>Pull it.</p>".into(),
            call_to_action: None,
            content_hash: "h".into(),
        }
    }

    fn person(name: &str, role: Role, last: Option<(Channel, DeliveryStatus, Option<String>)>) -> Outstanding {
        Outstanding {
            member_id: MemberId::new(),
            name: name.into(),
            roles: [role].into_iter().collect::<Roles>(),
            last_reminder: last,
        }
    }

    #[test]
    fn a_reminder_says_so_in_the_members_language() {
        let mut r = rendered("de");
        frame(&mut r, Wording { framing: Framing::Reminder, outstanding: &[] }, "Acme");
        assert_eq!(r.title, "Erinnerung: Recall of lot 9");
    }

    #[test]
    fn a_leads_notice_names_who_still_owes_and_what_their_reminders_came_to() {
        let mut r = rendered("en");
        let people = [
            person("Ana <b>Alves</b>", Role::Support, Some((Channel::Email, DeliveryStatus::Sent, None))),
            person("Bo", Role::Operations, Some((Channel::Sms, DeliveryStatus::Failed, Some("invalid number".into())))),
            person("Cy", Role::Operations, None),
        ];
        frame(&mut r, Wording { framing: Framing::LeadNotice, outstanding: &people }, "Acme");
        assert_eq!(r.title, "Still outstanding at Acme: Recall of lot 9");
        assert!(r.what_to_do.starts_with("<p>3 of your colleagues"), "{}", r.what_to_do);
        assert!(
            r.what_to_do.contains("<li>Ana &lt;b&gt;Alves&lt;/b&gt; (Support): reminded by email</li>"),
            "{}",
            r.what_to_do
        );
        assert!(
            r.what_to_do.contains("Bo (Operations): the reminder by sms failed: invalid number"),
            "{}",
            r.what_to_do
        );
        assert!(r.what_to_do.contains("Cy (Operations): no channel is open to remind them"), "{}", r.what_to_do);
        assert!(r.what_to_do.ends_with("<p>Pull it.</p>"), "the message's own text follows");
    }
}
