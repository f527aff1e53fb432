//! The demo's noise control: caps on nice-to-know and need-to-know sends, marketing people
//! on a weekly digest, the first partner's people on a daily one (its admin's default),
//! and last week's nice-to-know news to that partner, whose digests go out as the demo
//! starts; what a reader already read in the portal is left out of theirs.

use std::collections::BTreeMap;

use tidings_core::noise::{DigestFrequency, NoisePolicy};
use tidings_core::{Member, PartnerId, Role, Timestamp};

use crate::inbox::Origin;
use crate::noise::PartnerDefaultsInput;
use crate::partner_channels::PartnerAdmin;
use crate::{App, AppError, Caller, Clock};

const DAY: i64 = 86_400_000;

fn news(title: &str, summary: &str, partner: PartnerId) -> serde_json::Value {
    serde_json::json!({
        "topic": "announcements",
        "importance": "info",
        "channels": ["inbox", "email"],
        "content": {"variants": {"en": {
            "title": title,
            "summary": summary,
            "what_changed": summary,
            "why_it_matters": "Good to know when customers ask.",
            "what_to_do": "Nothing needed; read more in the portal when you have a minute."
        }}},
        "audience": {"partners": [partner]}
    })
}

/// Sets the policy and defaults, and releases last week's news (as of eight days ago);
/// returns how many people take it in a digest.
pub async fn quiet_down(app: &App, first_partner: PartnerId, reader: Option<&Member>) -> Result<i64, AppError> {
    let operator = Caller::operator();
    let policy = NoisePolicy {
        info_cap: Some(3),
        action_cap: Some(5),
        window_days: 7,
        digest: DigestFrequency::Off,
        digest_by_role: BTreeMap::from([(Role::Marketing, DigestFrequency::Weekly)]),
    };
    crate::noise::set_policy(app, &operator, &policy).await?;
    let daily = PartnerDefaultsInput { digest: Some(DigestFrequency::Daily), ..Default::default() };
    crate::noise::set_partner_defaults(app, PartnerAdmin::Staff(&operator), first_partner, &daily).await?;
    // Last week, as the clock read then.
    let mut last_week = app.clone();
    last_week.clock = Clock::fixed(Timestamp::from_millis(app.clock.now().as_millis() - 8 * DAY));
    let items = [
        news(
            "New co-marketing kit for the X-300",
            "Banners, a brochure and a customer video, ready to brand.",
            first_partner,
        ),
        news(
            "Meet us at the Partner Summit in Lisbon",
            "Two days of roadmaps and training, 12 and 13 March.",
            first_partner,
        ),
        news(
            "Our new support portal opens",
            "One place for tickets, manuals and downloads, with single sign-on.",
            first_partner,
        ),
    ];
    let mut held = 0;
    let mut first = None;
    for item in items {
        let draft =
            serde_json::from_value(item).map_err(|e| AppError::Unexpected(anyhow::anyhow!("demo news: {e}")))?;
        let id = crate::messages::create(&last_week, &operator, &draft).await?.id;
        held = crate::reach::reach(&last_week, &operator, id).await?.held_for_digest.unwrap_or(0);
        crate::release::release(&last_week, &operator, id).await?;
        first.get_or_insert(id);
    }
    if let (Some(reader), Some(id)) = (reader, first) {
        crate::inbox::read(&last_week, reader, id, &Origin::default()).await?;
    }
    Ok(held)
}
