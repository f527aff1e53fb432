//! A realistic demo dataset, seeded into an empty database by `tidings serve --demo`:
//! 40 partners of mixed types, tiers and regions, 400 members with roles and locales,
//! the five standard topics, a few partner groups and one admin. Deterministic, so every
//! demo looks the same.

mod deals;
mod noise;
mod story;

use std::collections::BTreeSet;

pub use story::{Story, portal_member, tell};
use tidings_core::consent::{TopicPolicies, TopicPolicy};
use tidings_core::{
    AttrKey, AttrValue, Attributes, Country, Email, GroupId, KeyedDraft, LifecycleStage, Locale, Member, MemberId,
    MemberProfile, MemberStatus, Partner, PartnerId, PartnerProfile, PartnerTier, PartnerType, Region, Role, Roles,
    Slug, Staff, StaffId, StaffRole, TimeZone, Timestamp, TopicId,
};
use tidings_store::{groups, members, partners, staff, topics};

use crate::{App, AppError};

pub const ADMIN_EMAIL: &str = "admin@tidings.example";
pub const PARTNERS: usize = 40;
pub const MEMBERS_PER_PARTNER: usize = 10;

pub const TOPICS: [(&str, &str, &str); 5] = [
    ("announcements", "Announcements", "Company and program news"),
    ("incentives", "Incentives", "Rebates, SPIFFs, rewards and claim deadlines"),
    ("product-updates", "Product Updates", "Releases, end-of-life notices and roadmap changes"),
    ("operations", "Operations", "Ordering, logistics, pricing and recalls"),
    ("support", "Support", "Security advisories, known issues and support process changes"),
];

const GROUPS: [(&str, &str, &str); 3] = [
    ("emea-pilot", "EMEA pilot", "Partners trying new programs first"),
    ("security-council", "Security council", "Partners briefed early on security advisories"),
    ("new-product-beta", "New product beta", "Partners in the beta of the next product line"),
];

/// Country, region, locale and time zone of each market the demo partners are in.
const MARKETS: [(&str, &str, &str, &str); 10] = [
    ("US", "amer", "en-US", "America/Chicago"),
    ("CA", "amer", "en-CA", "America/Toronto"),
    ("BR", "latam", "pt-BR", "America/Sao_Paulo"),
    ("MX", "latam", "es-MX", "America/Mexico_City"),
    ("DE", "emea", "de-DE", "Europe/Berlin"),
    ("FR", "emea", "fr-FR", "Europe/Paris"),
    ("ES", "emea", "es-ES", "Europe/Madrid"),
    ("GB", "emea", "en-GB", "Europe/London"),
    ("JP", "apac", "ja-JP", "Asia/Tokyo"),
    ("AU", "apac", "en-AU", "Australia/Sydney"),
];

const NAME_STARTS: [&str; 20] = [
    "Northwind",
    "Bluepeak",
    "Cobalt",
    "Meridian",
    "Silverline",
    "Redwood",
    "Harbor",
    "Summit",
    "Ironbridge",
    "Lumen",
    "Vertex",
    "Crescent",
    "Pinecrest",
    "Atlas",
    "Brightwater",
    "Keystone",
    "Orion",
    "Granite",
    "Evergreen",
    "Sterling",
];
const NAME_ENDS: [&str; 8] =
    ["Distribution", "Systems", "Solutions", "Networks", "Technologies", "Partners", "Integration", "Supply"];
const FIRST: [&str; 20] = [
    "Ana", "Ben", "Chloe", "David", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kara", "Luis", "Mia", "Noah",
    "Olga", "Pedro", "Quinn", "Rosa", "Sven", "Tara",
];
const LAST: [&str; 20] = [
    "Silva", "Meyer", "Dubois", "Garcia", "Smith", "Tanaka", "Rossi", "Kowalski", "Novak", "Jensen", "Okafor",
    "Haddad", "Larsen", "Moreau", "Santos", "Becker", "Ito", "Walsh", "Costa", "Nguyen",
];

/// Who must read what: support and technical people cannot turn off Support, operations
/// people cannot turn off Operations, partner leads and executives get every announcement;
/// incentives are on for sales and finance and off by default for the rest.
fn topic_policies(key: &str) -> TopicPolicies {
    use TopicPolicy::{OptionalOff, OptionalOn, Required};
    let (default, by_role): (TopicPolicy, &[(Role, TopicPolicy)]) = match key {
        "announcements" => (OptionalOn, &[(Role::PartnerLead, Required), (Role::Executive, Required)]),
        "incentives" => (OptionalOff, &[(Role::Sales, OptionalOn), (Role::Finance, OptionalOn)]),
        "operations" => (OptionalOn, &[(Role::Operations, Required)]),
        "support" => (OptionalOn, &[(Role::Support, Required), (Role::Technical, Required)]),
        _ => (OptionalOn, &[]),
    };
    TopicPolicies { default, by_role: by_role.iter().copied().collect() }
}

/// What `seed` created; `None` when the database already had data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    pub partners: usize,
    pub members: usize,
}

/// Seeds the demo dataset if the database has no partners yet.
pub async fn seed(app: &App) -> Result<Option<Seeded>, AppError> {
    let mut tx = app.db.begin().await?;
    if partners::count(&mut tx).await? > 0 {
        return Ok(None);
    }
    let now = app.clock.now();
    let mut rng = fastrand::Rng::with_seed(2026);
    let catalog = &app.catalog;
    let email = |s: &str| Email::parse(s).map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)));
    let slug = |s: &str| Slug::parse(s).map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)));
    let hours = |s: &str| {
        s.parse::<tidings_core::working_hours::WorkingHours>().map_err(|e| AppError::Unexpected(anyhow::anyhow!(e)))
    };

    staff::insert(
        &mut tx,
        &Staff {
            id: StaffId::new(),
            email: email(ADMIN_EMAIL)?,
            name: "Demo Admin".into(),
            role: StaffRole::Admin,
            created_at: now,
        },
    )
    .await?;
    let managers = ["maria.keller", "tom.baker", "yuki.sato"];
    for m in managers {
        let name = m.split('.').map(capitalize).collect::<Vec<_>>().join(" ");
        staff::insert(
            &mut tx,
            &Staff {
                id: StaffId::new(),
                email: email(&format!("{m}@vendor.example"))?,
                name,
                role: StaffRole::Author,
                created_at: now,
            },
        )
        .await?;
    }
    // The ladder that chases must-know recalls, for the operations topic's messages.
    let ladder = tidings_core::escalation::LadderDraft::must_know_recall().validate()?;
    tidings_store::ladders::put(&mut tx, &ladder, now).await?;
    for (key, name, description) in TOPICS {
        let keyed =
            KeyedDraft { key: Some(key.into()), name: Some(name.into()), description: Some(description.into()) }
                .validate(None)?;
        let id = TopicId::new();
        topics::insert(&mut tx, id, &keyed, now).await?;
        topics::set_policies(&mut tx, id, &topic_policies(key)).await?;
        if key == "operations" {
            tidings_store::ladders::set_for_topic(&mut tx, id, Some(&ladder.key)).await?;
        }
    }
    for (key, name, description) in GROUPS {
        let keyed =
            KeyedDraft { key: Some(key.into()), name: Some(name.into()), description: Some(description.into()) }
                .validate(None)?;
        groups::insert(&mut tx, GroupId::new(), &keyed, now).await?;
    }

    let mut member_rows = Vec::with_capacity(PARTNERS * MEMBERS_PER_PARTNER);
    for i in 0..PARTNERS {
        let (country, region, locale, zone) = MARKETS[i % MARKETS.len()];
        let name = format!("{} {}", NAME_STARTS[i % NAME_STARTS.len()], NAME_ENDS[(i * 3 + i / 8) % NAME_ENDS.len()]);
        let domain = format!("{}.example", NAME_STARTS[i % NAME_STARTS.len()].to_lowercase());
        let mut groups = BTreeSet::new();
        for (key, _, _) in GROUPS {
            if rng.u8(..10) < 2 {
                groups.insert(slug(key)?);
            }
        }
        let mut attributes = Attributes::new();
        set(&mut attributes, "certified", AttrValue::Bool(rng.bool()));
        set(&mut attributes, "annual_target_usd", AttrValue::Number(f64::from(rng.u32(50..2000)) * 1000.0));
        let partner = Partner {
            id: PartnerId::new(),
            profile: PartnerProfile {
                external_id: Some(format!("P-{:04}", 1001 + i)),
                name: format!("{name}{}", if i >= NAME_STARTS.len() { " Group" } else { "" }),
                partner_type: PartnerType::stored(pick(&mut rng, &catalog.partner_types)),
                tier: PartnerTier::stored(pick(&mut rng, &catalog.partner_tiers)),
                region: Some(Region::stored(slug(region)?)),
                country: Country::parse(country).ok(),
                lifecycle_stage: LifecycleStage::ALL[[2, 2, 2, 1, 3, 4, 2, 0][i % 8]],
                attributes,
                groups,
                partner_manager: Some(email(&format!("{}@vendor.example", managers[i % managers.len()]))?),
                // A few partners keep shorter hours; reminders wait for them.
                working_hours: (i % 5 == 3).then(|| hours("mon-thu 08:00-16:00")).transpose()?,
            },
            created_at: now,
            updated_at: now,
        };
        partners::insert(&mut tx, &partner).await?;
        for j in 0..MEMBERS_PER_PARTNER {
            let (first, last) = (FIRST[(i + j * 7) % FIRST.len()], LAST[(i * 3 + j) % LAST.len()]);
            let mut roles: Roles = [Role::ALL[j % 7]].into_iter().collect();
            if j == 0 {
                roles.insert(Role::PartnerLead);
                roles.insert(Role::Executive);
            } else if rng.u8(..4) == 0 {
                roles.insert(Role::ALL[rng.usize(..7)]);
            }
            let mut attributes = Attributes::new();
            set(&mut attributes, "trained", AttrValue::Bool(rng.u8(..3) > 0));
            let status = match (i, j) {
                (0, 9) => MemberStatus::Test,
                (_, 9) if i % 10 == 5 => MemberStatus::Disabled,
                _ => MemberStatus::Active,
            };
            member_rows.push(Member {
                id: MemberId::new(),
                profile: MemberProfile {
                    partner_id: partner.id,
                    external_id: Some(format!("U-{:05}", 10_001 + i * MEMBERS_PER_PARTNER + j)),
                    email: email(&format!(
                        "{}.{}{}@{domain}",
                        first.to_lowercase(),
                        last.to_lowercase(),
                        i / NAME_STARTS.len()
                    ))?,
                    phone: None,
                    name: format!("{first} {last}"),
                    roles,
                    locale: Locale::parse(locale).unwrap_or_default(),
                    time_zone: TimeZone::parse(zone).unwrap_or_default(),
                    // One early riser per partner sets their own hours.
                    working_hours: (j == 2).then(|| hours("mon-fri 07:00-15:00")).transpose()?,
                    status,
                    attributes,
                    // Every tenth partner has gone quiet: nobody active for 70 days or more.
                    last_seen_at: Some(Timestamp::from_millis(
                        now.as_millis() - i64::from(rng.u32(if i % 10 == 9 { 70..180 } else { 0..60 })) * 86_400_000,
                    )),
                },
                created_at: now,
                updated_at: now,
            });
        }
    }
    members::insert_many(&mut tx, &member_rows).await?;
    tx.commit().await?;
    Ok(Some(Seeded { partners: PARTNERS, members: member_rows.len() }))
}

fn pick(rng: &mut fastrand::Rng, list: &[Slug]) -> Slug {
    list[rng.usize(..list.len().max(1)).min(list.len().saturating_sub(1))].clone()
}

fn set(attributes: &mut Attributes, key: &str, value: AttrValue) {
    if let Ok(key) = AttrKey::parse(key) {
        let _ = attributes.set(key, Some(value));
    }
}

fn capitalize(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// Gives the demo admin a fresh password (at each `serve --demo`), so the console can be
/// tried at once and no password is shared between installations.
pub async fn rotate_admin_password(app: &App) -> Result<String, AppError> {
    let mut bytes = [0u8; 9];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let password = hex::encode(bytes);
    crate::passwords::set_staff(app, &crate::Caller::operator(), ADMIN_EMAIL, &password).await?;
    Ok(password)
}
