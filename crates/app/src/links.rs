//! The links in one recipient's copy of a message, signed for them: click tracking for
//! each web link, the open pixel, one-click unsubscribe and, for a message that asks for
//! it, the acknowledgment page. Channels lay the message out; what a link is, and the key
//! that signs it, are the app's.

use tidings_channels::{Layout, Recipient};
use tidings_core::deliveries::Purpose;
use tidings_core::messages::Message;
use tidings_core::{Member, Partner};

use crate::App;
use crate::signing::TokenUse;

/// `member`'s recipient record for one send of `message` on a channel laid out as `layout`.
pub fn recipient<'a>(
    app: &App,
    layout: &Layout,
    message: &Message,
    member: &'a Member,
    partner: &'a Partner,
    address: &'a str,
    purpose: Purpose,
) -> Recipient<'a> {
    let base = &app.public_url;
    let click = |target: &str| format!("{base}/t/c/{}", app.signer.click_token(message.id, member.id, target));
    let signed = |path: &str, token_use: TokenUse| {
        format!("{base}/{path}/{}", app.signer.recipient_token(token_use, message.id, member.id))
    };
    Recipient {
        message_id: message.id,
        member_id: member.id,
        purpose,
        address,
        name: &member.profile.name,
        partner_name: &partner.profile.name,
        clicks: layout.urls().iter().map(|u| click(u)).collect(),
        call_to_action: layout.rendered().call_to_action.as_ref().map(|c| click(&c.url)),
        acknowledge: message.acknowledgment.as_ref().map(|_| signed("a", TokenUse::Acknowledge)),
        unsubscribe: signed("u", TokenUse::Unsubscribe),
        open_pixel: signed("t/o", TokenUse::Open),
        short_link: signed("s", TokenUse::Text),
        due_at: message.acknowledgment.as_ref().and_then(|a| a.due_at).map(|due| due.stated(&member.profile.time_zone)),
    }
}
