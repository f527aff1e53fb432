//! Whom events name: the partners and members of a whole request looked up at once, then
//! each event's references resolved from what was found.

use std::collections::{HashMap, HashSet};

use tidings_core::automation::EventInput;
use tidings_core::{FieldErrors, MemberId, PartnerId};
use tidings_store::Tx;
use tidings_store::references::{self, MemberRef};

use crate::AppError;

/// A reference as posted, trimmed; `None` when empty.
fn reference(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// The partners and members a request's events name.
#[derive(Default)]
pub(super) struct Found {
    partner_ids: HashSet<PartnerId>,
    partners_by_external: HashMap<String, PartnerId>,
    members_by_id: HashMap<MemberId, MemberRef>,
    members_by_external: HashMap<String, MemberRef>,
    members_by_email: HashMap<String, MemberRef>,
}

impl Found {
    /// Looks up every reference of `inputs` in two statements.
    pub async fn read(tx: &mut Tx, inputs: &[EventInput]) -> Result<Self, AppError> {
        let mut partner_ids = HashSet::new();
        let mut partner_keys = HashSet::new();
        let mut member_ids = HashSet::new();
        let mut member_keys = HashSet::new();
        let mut emails = HashSet::new();
        for input in inputs {
            if let Some(r) = reference(input.partner.as_deref()) {
                if let Ok(id) = r.parse::<PartnerId>() {
                    partner_ids.insert(id);
                }
                partner_keys.insert(r.to_owned());
            }
            if let Some(r) = reference(input.member.as_deref()) {
                if let Ok(id) = r.parse::<MemberId>() {
                    member_ids.insert(id);
                }
                member_keys.insert(r.to_owned());
                emails.insert(r.to_lowercase());
            }
        }
        let list = |set: HashSet<String>| set.into_iter().collect::<Vec<_>>();
        let partner_ids: Vec<PartnerId> = partner_ids.into_iter().collect();
        let member_ids: Vec<MemberId> = member_ids.into_iter().collect();
        let mut found = Self::default();
        for p in references::partners(tx, &partner_ids, &list(partner_keys)).await? {
            found.partner_ids.insert(p.id);
            if let Some(key) = p.external_id {
                found.partners_by_external.insert(key, p.id);
            }
        }
        for m in references::members(tx, &member_ids, &list(member_keys), &list(emails)).await? {
            if let Some(key) = &m.external_id {
                found.members_by_external.insert(key.clone(), m.clone());
            }
            found.members_by_email.insert(m.email.clone(), m.clone());
            found.members_by_id.insert(m.id, m);
        }
        Ok(found)
    }

    /// The partner named by its id, else by its external id.
    fn partner(&self, reference: &str) -> Option<PartnerId> {
        match reference.parse::<PartnerId>() {
            Ok(id) if self.partner_ids.contains(&id) => Some(id),
            _ => self.partners_by_external.get(reference).copied(),
        }
    }

    /// The member named by their id, else their external id, else their email.
    fn member(&self, reference: &str) -> Option<&MemberRef> {
        if let Ok(id) = reference.parse::<MemberId>()
            && let Some(m) = self.members_by_id.get(&id)
        {
            return Some(m);
        }
        self.members_by_external.get(reference).or_else(|| self.members_by_email.get(&reference.to_lowercase()))
    }

    /// The partner and member the event names. A member alone names their partner; both
    /// given must agree.
    pub fn whom(
        &self,
        input: &EventInput,
        member_required: bool,
        errors: &mut FieldErrors,
    ) -> (Option<PartnerId>, Option<MemberId>) {
        let partner_ref = reference(input.partner.as_deref());
        let member_ref = reference(input.member.as_deref());
        let mut partner = None;
        if let Some(r) = partner_ref {
            partner = self.partner(r);
            if partner.is_none() {
                errors.add("partner", format!("no partner has the id or external id '{r}'"));
            }
        }
        let mut member = None;
        if let Some(r) = member_ref {
            match self.member(r) {
                Some(m) => {
                    if partner_ref.is_none() {
                        partner = Some(m.partner_id);
                    } else if partner.is_some_and(|p| p != m.partner_id) {
                        errors.add(
                            "member",
                            format!("'{r}' belongs to another partner than '{}'", partner_ref.unwrap_or("")),
                        );
                    }
                    member = Some(m.id);
                }
                None => errors.add("member", format!("no member has the id, external id or email '{r}'")),
            }
        }
        if partner_ref.is_none() && member_ref.is_none() {
            errors.add("partner", "is required: the partner's id or external id (or name the member)");
        }
        if member_required && member_ref.is_none() {
            errors.add("member", "is required for member.created");
        }
        (partner, member)
    }
}
