//! Which role may send each write body (`Permitted<T>`): the same actions the use cases
//! check, asked before the body is read.

use tidings_app::approvals::ApprovalPolicy;
use tidings_app::consent::{ConsentInput, PreferencesPatch};
use tidings_core::messages::{CorrectionDraft, MessageDraft};
use tidings_core::{Action, KeyedDraft, MemberDraft, PartnerDraft, TopicDraft};

use crate::extract::Requires;

impl Requires for MessageDraft {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "compose messages";
}

impl Requires for CorrectionDraft {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "correct messages";
}

impl Requires for super::messages::ScheduleRequest {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "compose messages";
}

impl Requires for PartnerDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change the partner directory";
}

impl Requires for MemberDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change the partner directory";
}

impl Requires for KeyedDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change the partner directory";
}

impl Requires for TopicDraft {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change the partner directory";
}

impl Requires for tidings_app::segments::SegmentDraft {
    const ACTION: Action = Action::WriteSegments;
    const DOING: &'static str = "change segments";
}

impl Requires for ConsentInput {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "record consent";
}

impl Requires for PreferencesPatch {
    const ACTION: Action = Action::WriteDirectory;
    const DOING: &'static str = "change preferences";
}

impl Requires for tidings_app::channel_defaults::ChannelDefaults {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "change the channel defaults";
}

impl Requires for tidings_app::overdue::WaiverDraft {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "exempt or snooze a partner's obligation";
}

impl Requires for ApprovalPolicy {
    const ACTION: Action = Action::Configure;
    const DOING: &'static str = "change the approval policy";
}

impl Requires for super::sending::TokenRequest {
    const ACTION: Action = Action::ManageTokens;
    const DOING: &'static str = "issue member tokens";
}

impl Requires for tidings_app::test_email::TestEmailRequest {
    const ACTION: Action = Action::Compose;
    const DOING: &'static str = "send test emails";
}
