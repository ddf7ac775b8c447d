"""Reading, never writing: texts (lists, the inbox, revisions) as the policy lets a user
see them, and the audit log."""

from workflow.selectors.audit import (
    audit_events,
    latest_checkpoint,
    latest_verification,
    text_history,
)
from workflow.selectors.stages import StageBar, last_change, stage_bar
from workflow.selectors.texts import (
    SEARCH_MAX_CHARS,
    TEXT_LIST_RELATED,
    inbox,
    latest_reason,
    revision_last_seen_by_stage,
    revision_of,
    revisions_of,
    text_detail,
    text_list,
)

__all__ = [
    "SEARCH_MAX_CHARS",
    "TEXT_LIST_RELATED",
    "StageBar",
    "audit_events",
    "inbox",
    "last_change",
    "latest_checkpoint",
    "latest_reason",
    "latest_verification",
    "revision_last_seen_by_stage",
    "revision_of",
    "revisions_of",
    "stage_bar",
    "text_detail",
    "text_history",
    "text_list",
]
