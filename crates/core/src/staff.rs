//! The vendor's people and what each role may do.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Email, StaffId, Timestamp};

/// Who did something the audit log records: a signed-in staff member, an API token, or
/// the operator at the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum ActorKind {
    Staff,
    Token,
    Operator,
}

impl ActorKind {
    pub const ALL: [Self; 3] = [Self::Staff, Self::Token, Self::Operator];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Staff => "staff",
            Self::Token => "token",
            Self::Operator => "operator",
        }
    }
}

impl fmt::Display for ActorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a kind of actor (staff, token, operator)")]
pub struct ActorKindError(String);

impl FromStr for ActorKind {
    type Err = ActorKindError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| ActorKindError(s.to_owned()))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum StaffRole {
    /// Everything, including staff, tokens and settings.
    Admin,
    /// Composes messages and sends tests.
    Author,
    /// Approves critical messages before release.
    Approver,
    /// Reads reports; changes nothing.
    Analyst,
}

impl StaffRole {
    pub const ALL: [Self; 4] = [Self::Admin, Self::Author, Self::Approver, Self::Analyst];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::Author => "author",
            Self::Approver => "approver",
            Self::Analyst => "analyst",
        }
    }

    /// The one permission table: every endpoint asks it.
    pub fn may(self, action: Action) -> bool {
        match action {
            Action::ReadDirectory => true,
            Action::WriteDirectory
            | Action::ManageTokens
            | Action::ManageStaff
            | Action::ReadAudit
            | Action::Configure => self == Self::Admin,
            Action::WriteSegments | Action::Compose => matches!(self, Self::Admin | Self::Author),
            Action::Approve => matches!(self, Self::Admin | Self::Approver),
        }
    }
}

/// What a staff caller wants to do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Read partners, members, topics and groups.
    ReadDirectory,
    /// Create, change, delete or import partners, members, topics and groups.
    WriteDirectory,
    ManageTokens,
    /// Create, change or delete saved segments.
    WriteSegments,
    /// Compose, schedule, cancel and copy messages.
    Compose,
    /// Read the audit log of staff actions.
    ReadAudit,
    /// Add staff, change their roles and passwords.
    ManageStaff,
    /// Approve a message that needs a second person's approval before it goes.
    Approve,
    /// Change the instance's settings, such as which messages need approval.
    Configure,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a staff role; known: admin, author, approver, analyst")]
pub struct StaffRoleError(String);

impl FromStr for StaffRole {
    type Err = StaffRoleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_lowercase();
        Self::ALL.into_iter().find(|v| v.as_str() == wanted).ok_or_else(|| StaffRoleError(s.trim().to_owned()))
    }
}
impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Staff {
    pub id: StaffId,
    pub email: Email,
    pub name: String,
    pub role: StaffRole,
    pub created_at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_admins_change_the_directory_but_everyone_reads_it() {
        for role in StaffRole::ALL {
            assert!(role.may(Action::ReadDirectory));
            assert_eq!(role.may(Action::WriteDirectory), role == StaffRole::Admin);
            assert_eq!(role.may(Action::ManageTokens), role == StaffRole::Admin);
        }
    }
}
