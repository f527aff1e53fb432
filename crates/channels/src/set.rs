//! The one set of channels a Tidings instance sends through. For each outside channel:
//! how a message is laid out for it ([`Layout`], once per text), what one recipient's send
//! carries ([`Payload`]), and the provider configured to send it ([`Provider`]). A channel
//! with no provider leaves its deliveries queued until one is configured.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter as Limiter, Quota, RateLimiter};

use tidings_core::consent::Channel;
use tidings_core::deliveries::{Outcome, Purpose};
use tidings_core::messages::{Message, Rendered};
use tidings_core::{MemberId, MessageId};

use crate::breaker::{Breaker, Outage};
use crate::email::{self, MailSettings, OutgoingEmail, SmtpMailer};
use crate::memory::Outbox;
use crate::posts::ChannelPoster;
use crate::push;
use crate::slack::{self, OutgoingSlack, SlackBot};
use crate::sms::{self, OutgoingSms, Twilio};

/// A message laid out for one channel, once per text: the costly part of composing, the
/// same for everyone who reads the same text.
pub enum Layout {
    Email(email::Layout),
    Sms(sms::Layout),
    Slack(slack::Layout),
    WebPush(push::Layout),
}

impl Layout {
    /// The web links of the sections, in order: a recipient's tracked links are made for
    /// these.
    pub fn urls(&self) -> &[String] {
        match self {
            Self::Email(l) => l.urls(),
            // A text or a chat message carries one link, to the message in the portal.
            Self::Sms(_) | Self::Slack(_) | Self::WebPush(_) => &[],
        }
    }

    pub fn rendered(&self) -> &Rendered {
        match self {
            Self::Email(l) => l.rendered(),
            Self::Sms(l) => l.rendered(),
            Self::Slack(l) => l.rendered(),
            Self::WebPush(l) => l.rendered(),
        }
    }
}

/// One recipient's send, as its channel carries it.
#[derive(Debug, Clone)]
pub enum Payload {
    Email(OutgoingEmail),
    Sms(OutgoingSms),
    Slack(OutgoingSlack),
    WebPush(OutgoingPush),
}

/// One member's notification, sent to each browser they subscribed (see `push`).
#[derive(Debug, Clone)]
pub struct OutgoingPush {
    pub body: Vec<u8>,
    pub urgency: &'static str,
    pub reference: String,
}

impl Payload {
    /// What receivers drop repeats by: the same on every attempt of one delivery.
    pub fn idempotency_key(&self) -> &str {
        match self {
            Self::Email(e) => &e.message_id,
            Self::Sms(s) => &s.reference,
            Self::Slack(s) => &s.reference,
            Self::WebPush(p) => &p.reference,
        }
    }

    /// Where it goes.
    pub fn to(&self) -> &str {
        match self {
            Self::Email(e) => &e.to,
            Self::Sms(s) => &s.to,
            Self::Slack(s) => &s.email,
            Self::WebPush(_) => "the member's browsers",
        }
    }
}

/// What sends one channel's payloads.
#[derive(Clone, Debug)]
pub enum Provider {
    Smtp(Arc<SmtpMailer>),
    Twilio(Arc<Twilio>),
    Slack(Arc<SlackBot>),
    /// Keeps what it is given (tests).
    Memory(Outbox),
}

impl Payload {
    /// What kind of payload it is, for errors.
    fn kind(&self) -> &'static str {
        match self {
            Self::Email(_) => "an email",
            Self::Sms(_) => "a text message",
            Self::Slack(_) => "a Slack message",
            Self::WebPush(_) => "a browser notification",
        }
    }
}

impl Provider {
    pub fn name(&self) -> &'static str {
        match self {
            Self::Smtp(_) => "SMTP",
            Self::Twilio(_) => "Twilio-compatible SMS API",
            Self::Slack(_) => "Slack bot",
            Self::Memory(_) => "memory",
        }
    }
}

/// One recipient of a delivery: who they are and the links signed for them.
#[derive(Debug, Clone)]
pub struct Recipient<'a> {
    pub message_id: MessageId,
    pub member_id: MemberId,
    pub purpose: Purpose,
    /// Their address on the channel.
    pub address: &'a str,
    pub name: &'a str,
    pub partner_name: &'a str,
    /// The sections' links through click tracking, in the order of [`Layout::urls`].
    pub clicks: Vec<String>,
    pub call_to_action: Option<String>,
    pub acknowledge: Option<String>,
    pub unsubscribe: String,
    pub open_pixel: String,
    /// A short signed link to the message in the portal, for channels that carry one link.
    pub short_link: String,
    /// The acknowledgment's due time as the recipient reads it, with their zone.
    pub due_at: Option<String>,
}

/// The channels an instance sends through; cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Channels {
    providers: Arc<HashMap<Channel, Provider>>,
    /// One circuit breaker per channel, shared by every clone.
    breakers: Arc<HashMap<Channel, Breaker>>,
    /// The most sends a second a channel's provider takes, where it has a limit.
    limits: Arc<HashMap<Channel, Arc<Limiter>>>,
    mail: Arc<MailSettings>,
    /// Posts to partners' shared Teams and Slack channels, through the webhooks they bound.
    poster: Option<ChannelPoster>,
    /// Sends signed webhook requests to the endpoints staff set up.
    webhooks: Option<crate::webhook::Sender>,
    /// Sends notifications to members' browsers.
    push: Option<push::PushSender>,
}

impl Channels {
    pub fn new(mail: MailSettings) -> Self {
        Self {
            providers: Arc::default(),
            breakers: Arc::default(),
            limits: Arc::default(),
            mail: Arc::new(mail),
            poster: None,
            webhooks: None,
            push: None,
        }
    }

    /// The set with partners' channel posts sent by `poster`.
    pub fn with_poster(mut self, poster: ChannelPoster) -> Self {
        self.poster = Some(poster);
        self
    }

    /// The set with webhook requests sent by `sender`.
    pub fn with_webhooks(mut self, sender: crate::webhook::Sender) -> Self {
        self.webhooks = Some(sender);
        self
    }

    /// The set with browser notifications sent by `sender`.
    pub fn with_push(mut self, sender: push::PushSender) -> Self {
        self.push = Some(sender);
        self
    }

    /// What sends browser notifications, when set up.
    pub fn push(&self) -> Option<&push::PushSender> {
        self.push.as_ref()
    }

    /// What sends webhook requests, when set up.
    pub fn webhooks(&self) -> Option<&crate::webhook::Sender> {
        self.webhooks.as_ref()
    }

    /// The set with partners' channel posts and webhook requests sent through `http` (the
    /// guarded client for addresses people give).
    pub fn with_outbound(self, http: crate::outbound::Outbound) -> Self {
        self.with_poster(ChannelPoster::new(http.clone())).with_webhooks(crate::webhook::Sender::new(http))
    }

    /// What posts to partners' shared channels, when posting is set up.
    pub fn poster(&self) -> Option<&ChannelPoster> {
        self.poster.as_ref()
    }

    /// The set with `provider` sending `channel`.
    pub fn with(mut self, channel: Channel, provider: Provider) -> Self {
        Arc::make_mut(&mut self.providers).insert(channel, provider);
        let breakers: HashMap<Channel, Breaker> = self.providers.keys().map(|c| (*c, Breaker::default())).collect();
        self.breakers = Arc::new(breakers);
        self
    }

    /// The set with `channel` sent no faster than `per_second` (a provider's throughput:
    /// an SMS sender's messages a second, Slack's posting rate): sends wait their turn
    /// rather than be refused with 429s.
    pub fn with_rate(self, channel: Channel, per_second: NonZeroU32) -> Self {
        self.with_quota(channel, Quota::per_second(per_second))
    }

    /// Waits until `channel` may send again under its rate (at once where it has none).
    /// Sends that do not go through [`Channels::send`] (a notification to each of a
    /// member's browsers) wait here, one turn a request.
    pub async fn wait_turn(&self, channel: Channel) {
        if let Some(limiter) = self.limits.get(&channel) {
            limiter.until_ready().await;
        }
    }

    fn with_quota(mut self, channel: Channel, quota: Quota) -> Self {
        Arc::make_mut(&mut self.limits).insert(channel, Arc::new(RateLimiter::direct(quota)));
        self
    }

    /// The channels whose provider cannot be reached now, and since when.
    pub fn outages(&self) -> Vec<(Channel, Outage)> {
        let mut out: Vec<(Channel, Outage)> =
            self.breakers.iter().filter_map(|(c, b)| b.outage().map(|o| (*c, o))).collect();
        out.sort_by_key(|(c, _)| c.as_str());
        out
    }

    /// The set with email sent through a pool of SMTP connections.
    pub fn with_smtp(self, config: crate::SmtpConfig) -> Self {
        self.with(Channel::Email, Provider::Smtp(Arc::new(SmtpMailer::new(config))))
    }

    /// Whether a provider is configured for `channel`.
    pub fn provides(&self, channel: Channel) -> bool {
        self.providers.contains_key(&channel) || (channel == Channel::WebPush && self.push.is_some())
    }

    /// Who sends on a channel: the provider's name, or `None` when none is set up.
    pub fn provider_name(&self, channel: Channel) -> Option<&'static str> {
        match channel {
            Channel::WebPush => self.push.as_ref().map(|_| "web push (VAPID)"),
            Channel::Teams => self.poster.as_ref().map(|_| "Teams workflow webhooks"),
            Channel::Webhook => self.webhooks.as_ref().map(|_| "signed webhooks"),
            Channel::Slack if !self.providers.contains_key(&Channel::Slack) => {
                self.poster.as_ref().map(|_| "Slack incoming webhooks (partners' channels only)")
            }
            other => self.providers.get(&other).map(Provider::name),
        }
    }

    /// The SMS provider's settings, to check what it calls back with.
    pub fn sms_account(&self) -> Option<&sms::TwilioConfig> {
        match self.providers.get(&Channel::Sms) {
            Some(Provider::Twilio(t)) => Some(t.config()),
            _ => None,
        }
    }

    pub fn mail(&self) -> &MailSettings {
        &self.mail
    }

    /// Whether Tidings can lay messages out and send them on `channel` (its provider may
    /// still have to be configured: until it is, deliveries wait in the queue).
    /// The same channels `layout` lays out.
    pub fn can_send(channel: Channel) -> bool {
        matches!(channel, Channel::Email | Channel::Sms | Channel::Slack | Channel::WebPush)
    }

    /// Lays a rendered message out for `channel`; `None` for a channel Tidings cannot
    /// send yet.
    pub fn layout(
        &self,
        channel: Channel,
        message: &Message,
        rendered: Rendered,
        topic_name: &str,
    ) -> Option<Result<Layout, String>> {
        match channel {
            Channel::Email => Some(email::Layout::new(message, rendered, topic_name).map(Layout::Email)),
            Channel::Sms => Some(Ok(Layout::Sms(sms::Layout::new(message, rendered)))),
            Channel::Slack => Some(Ok(Layout::Slack(slack::Layout::new(message, rendered)))),
            Channel::WebPush => Some(Ok(Layout::WebPush(push::Layout::new(message, rendered)))),
            // What `can_send` leaves out.
            Channel::Inbox | Channel::Popup | Channel::Teams | Channel::Webhook => None,
        }
    }

    /// One recipient's send, filled in from the layout.
    pub fn compose(&self, layout: &Layout, r: &Recipient<'_>) -> Payload {
        match layout {
            Layout::Email(l) => {
                let personal = email::Personal {
                    clicks: r.clicks.clone(),
                    call_to_action: r.call_to_action.clone().unwrap_or_default(),
                    acknowledge: r.acknowledge.clone().unwrap_or_default(),
                    unsubscribe: r.unsubscribe.clone(),
                    open_pixel: r.open_pixel.clone(),
                    member_name: r.name.to_owned(),
                    partner_name: r.partner_name.to_owned(),
                    due_at: r.due_at.clone().unwrap_or_default(),
                };
                let (text, html) = l.fill(&personal);
                Payload::Email(OutgoingEmail {
                    from: self.mail.from.clone(),
                    return_path: self.mail.return_path.clone(),
                    to_name: r.name.to_owned(),
                    to: r.address.to_owned(),
                    subject: l.subject().to_owned(),
                    text,
                    html,
                    message_id: self.mail.message_id(r.message_id, r.member_id, r.purpose),
                    unsubscribe_url: Some(personal.unsubscribe),
                })
            }
            Layout::Sms(l) => Payload::Sms(OutgoingSms {
                to: r.address.to_owned(),
                body: l.fill(&r.short_link, r.due_at.as_deref()),
                reference: format!("{}.{}.{}", r.message_id, r.member_id, r.purpose),
            }),
            Layout::Slack(l) => {
                let (blocks, text) = l.fill(&r.short_link, r.due_at.as_deref());
                Payload::Slack(OutgoingSlack {
                    email: r.address.to_owned(),
                    blocks,
                    text,
                    reference: format!("{}.{}.{}", r.message_id, r.member_id, r.purpose),
                })
            }
            Layout::WebPush(l) => Payload::WebPush(OutgoingPush {
                body: l.fill(&r.short_link, &r.message_id.to_string()),
                urgency: l.urgency(),
                reference: format!("{}.{}.{}", r.message_id, r.member_id, r.purpose),
            }),
        }
    }

    /// Sends one payload on `channel`. With no provider configured for the channel the
    /// attempt is transient: the delivery waits until one is.
    /// While the channel's provider is unreachable, answers at once (a circuit breaker)
    /// with the time to try again.
    pub async fn send(&self, channel: Channel, payload: Payload) -> Outcome {
        let breaker = self.breakers.get(&channel);
        if let Some(paused) = breaker.and_then(Breaker::check) {
            return paused;
        }
        self.wait_turn(channel).await;
        let outcome = match (self.providers.get(&channel), payload) {
            (None, _) => Outcome::Transient(format!("no provider for {channel} is configured")),
            (Some(Provider::Smtp(mailer)), Payload::Email(email)) => mailer.send(email).await,
            (Some(Provider::Twilio(twilio)), Payload::Sms(sms)) => twilio.send(&sms).await,
            (Some(Provider::Slack(bot)), Payload::Slack(dm)) => bot.send(&dm).await,
            (Some(Provider::Memory(outbox)), payload) => outbox.keep(channel, payload),
            (Some(provider), payload) => Outcome::Permanent(format!(
                "the {channel} provider ({}) cannot send {}",
                provider.name(),
                payload.kind()
            )),
        };
        match breaker {
            Some(b) => b.record(outcome),
            None => outcome,
        }
    }

    /// Closes providers' idle connections politely.
    pub async fn close(&self) {
        for provider in self.providers.values() {
            if let Provider::Smtp(mailer) = provider {
                mailer.close().await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PartBody;

    fn email(message_id: &str) -> Payload {
        Payload::Email(OutgoingEmail {
            from: "Vendor <news@vendor.example>".into(),
            return_path: None,
            to_name: "Ana".into(),
            to: "ana@partner.example".into(),
            subject: "Hello".into(),
            text: PartBody::Text("Hi".into()),
            html: PartBody::Text("<p>Hi</p>".into()),
            message_id: message_id.into(),
            unsubscribe_url: None,
        })
    }

    /// One send a minute: the first goes at once, the second waits its turn (and has not
    /// gone long after the first), and another channel is not held up.
    #[tokio::test]
    async fn a_rate_limited_channel_sends_no_faster_than_its_provider_takes() {
        let outbox = Outbox::new();
        let once_a_minute = Quota::per_minute(NonZeroU32::MIN);
        let channels = Channels::default()
            .with(Channel::Email, Provider::Memory(outbox.clone()))
            .with(Channel::Sms, Provider::Memory(outbox.clone()))
            .with_quota(Channel::Sms, once_a_minute);
        let sms = |key: &str| {
            Payload::Sms(OutgoingSms { to: "+15551234567".into(), body: "hi".into(), reference: key.into() })
        };
        assert!(matches!(channels.send(Channel::Sms, sms("first")).await, Outcome::Sent { .. }));
        let waiting = tokio::spawn({
            let channels = channels.clone();
            async move { channels.send(Channel::Sms, sms("second")).await }
        });
        assert!(matches!(channels.send(Channel::Email, email("e@x")).await, Outcome::Sent { .. }));
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let kept: Vec<String> = outbox.sent().iter().map(|s| s.payload.idempotency_key().to_owned()).collect();
        assert_eq!(kept, ["first", "e@x"]);
        assert!(!waiting.is_finished());
        waiting.abort();
    }

    #[tokio::test]
    async fn a_channel_without_a_provider_waits_and_the_memory_provider_keeps_what_it_sends() {
        let outbox = Outbox::new();
        let channels = Channels::default().with(Channel::Email, Provider::Memory(outbox.clone()));
        assert!(channels.provides(Channel::Email) && !channels.provides(Channel::Sms));

        let waits = channels.send(Channel::Sms, email("a@x")).await;
        assert!(matches!(waits, Outcome::Transient(ref r) if r.contains("no provider for sms")), "{waits:?}");

        let sent = channels.send(Channel::Email, email("b@x")).await;
        assert_eq!(sent, Outcome::Sent { provider_id: Some("b@x".into()) });
        outbox.answer_with(Some(Outcome::Permanent("550 no such user".into())));
        assert_eq!(channels.send(Channel::Email, email("c@x")).await, Outcome::Permanent("550 no such user".into()));
        let kept: Vec<String> = outbox.sent().iter().map(|s| s.payload.idempotency_key().to_owned()).collect();
        assert_eq!(kept, ["b@x"]);
    }
}
