//! CSV export in the same columns the importer reads, so an exported file imports back
//! unchanged. Pages through the table by id: memory stays flat however many rows there are.
//! Attribute columns are the union of the keys in use, found by a first pass.

use std::collections::BTreeMap;
use std::io::Write;

use tidings_core::{Action, AttrKind, Attributes, Member, Partner, Timestamp};
use tidings_store::members::MemberFilter;
use tidings_store::partners::PartnerFilter;
use tidings_store::{members, partners};

use crate::csv_cells::SafeWriter;
use crate::{App, AppError, Caller};

const PAGE: u32 = 500;

const PARTNER_COLUMNS: [&str; 10] = [
    "external_id",
    "name",
    "partner_type",
    "tier",
    "region",
    "country",
    "lifecycle_stage",
    "groups",
    "partner_manager",
    "working_hours",
];
const MEMBER_COLUMNS: [&str; 11] = [
    "external_id",
    "partner_external_id",
    "email",
    "phone",
    "name",
    "roles",
    "locale",
    "time_zone",
    "status",
    "last_seen_at",
    "working_hours",
];

/// Writes every partner as CSV; returns how many rows were written.
pub async fn export_partners(app: &App, caller: &Caller, out: impl Write) -> Result<u64, AppError> {
    caller.require(Action::ReadDirectory, "export the partner directory")?;
    let filter = PartnerFilter::default();
    let mut keys = BTreeMap::new();
    each_partner_page(app, &filter, |page| page.iter().for_each(|p| collect_keys(&mut keys, &p.profile.attributes)))
        .await?;
    let mut csv = SafeWriter::new(out);
    csv.write_record(PARTNER_COLUMNS.iter().map(|c| (*c).to_owned()).chain(attribute_headers(&keys))).map_err(io)?;
    let mut written = 0;
    let mut failure = None;
    each_partner_page(app, &filter, |page| {
        for p in page {
            let q = &p.profile;
            let groups: Vec<&str> = q.groups.iter().map(|g| g.as_str()).collect();
            let mut record = vec![
                q.external_id.clone().unwrap_or_default(),
                q.name.clone(),
                q.partner_type.to_string(),
                q.tier.to_string(),
                q.region.as_ref().map(ToString::to_string).unwrap_or_default(),
                q.country.as_ref().map(ToString::to_string).unwrap_or_default(),
                q.lifecycle_stage.to_string(),
                groups.join(";"),
                q.partner_manager.as_ref().map(ToString::to_string).unwrap_or_default(),
                q.working_hours.map(|w| w.to_string()).unwrap_or_default(),
            ];
            record.extend(attribute_cells(&keys, &q.attributes));
            if let Err(e) = csv.write_record(&record) {
                failure.get_or_insert(e);
            }
            written += 1;
        }
    })
    .await?;
    if let Some(e) = failure {
        return Err(io(e));
    }
    csv.flush().map_err(|e| anyhow::anyhow!("writing the export: {e}"))?;
    Ok(written)
}

/// Writes every member as CSV; returns how many rows were written.
pub async fn export_members(app: &App, caller: &Caller, out: impl Write) -> Result<u64, AppError> {
    caller.require(Action::ReadDirectory, "export the partner directory")?;
    let mut keys = BTreeMap::new();
    each_member_page(app, |page, _| page.iter().for_each(|m| collect_keys(&mut keys, &m.profile.attributes))).await?;
    let mut csv = SafeWriter::new(out);
    csv.write_record(MEMBER_COLUMNS.iter().map(|c| (*c).to_owned()).chain(attribute_headers(&keys))).map_err(io)?;
    let mut written = 0;
    let mut failure = None;
    each_member_page(app, |page, partner_keys| {
        for m in page {
            let q = &m.profile;
            let mut record = vec![
                q.external_id.clone().unwrap_or_default(),
                partner_keys.get(&q.partner_id).cloned().unwrap_or_default(),
                q.email.to_string(),
                q.phone.as_ref().map(ToString::to_string).unwrap_or_default(),
                q.name.clone(),
                q.roles.to_string(),
                q.locale.to_string(),
                q.time_zone.to_string(),
                q.status.to_string(),
                q.last_seen_at.map(Timestamp::to_rfc3339).unwrap_or_default(),
                q.working_hours.map(|w| w.to_string()).unwrap_or_default(),
            ];
            record.extend(attribute_cells(&keys, &q.attributes));
            if let Err(e) = csv.write_record(&record) {
                failure.get_or_insert(e);
            }
            written += 1;
        }
    })
    .await?;
    if let Some(e) = failure {
        return Err(io(e));
    }
    csv.flush().map_err(|e| anyhow::anyhow!("writing the export: {e}"))?;
    Ok(written)
}

fn io(e: csv::Error) -> AppError {
    AppError::Unexpected(anyhow::anyhow!("writing the export: {e}"))
}

/// Every attribute key in use, with the one type all its values have (text when they
/// differ), which the header declares.
fn collect_keys(keys: &mut BTreeMap<String, AttrKind>, attributes: &Attributes) {
    for (k, v) in attributes.iter() {
        match keys.get_mut(k.as_str()) {
            Some(kind) if *kind != v.kind() => *kind = AttrKind::Text,
            Some(_) => {}
            None => {
                keys.insert(k.to_string(), v.kind());
            }
        }
    }
}

fn attribute_headers(keys: &BTreeMap<String, AttrKind>) -> impl Iterator<Item = String> + '_ {
    keys.iter().map(|(key, kind)| kind.header(key))
}

fn attribute_cells<'a>(
    keys: &'a BTreeMap<String, AttrKind>,
    attributes: &'a Attributes,
) -> impl Iterator<Item = String> + 'a {
    keys.keys().map(|k| attributes.get(k).map(ToString::to_string).unwrap_or_default())
}

async fn each_partner_page(
    app: &App,
    filter: &PartnerFilter,
    mut visit: impl FnMut(&[Partner]),
) -> Result<(), AppError> {
    let mut after: Option<String> = None;
    loop {
        let mut tx = app.db.read().await?;
        let page = partners::list(&mut tx, filter, after.as_deref(), Some(PAGE)).await?;
        visit(&page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}

async fn each_member_page(
    app: &App,
    mut visit: impl FnMut(&[Member], &std::collections::HashMap<tidings_core::PartnerId, String>),
) -> Result<(), AppError> {
    let filter = MemberFilter::default();
    let mut after: Option<String> = None;
    loop {
        let mut tx = app.db.read().await?;
        let page = members::list(&mut tx, &filter, after.as_deref(), Some(PAGE)).await?;
        let mut ids: Vec<_> = page.items.iter().map(|m| m.profile.partner_id).collect();
        ids.sort();
        ids.dedup();
        let partner_keys = partners::external_ids_of(&mut tx, &ids).await?;
        visit(&page.items, &partner_keys);
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(()),
        }
    }
}
