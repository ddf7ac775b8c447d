"""Reading, never writing: texts (lists, the inbox, revisions) as the policy lets a user
see them, and the audit log."""

from workflow.selectors.audit import (
    PAGE_FILTERS,
    action_choices,
    audit_events,
    describe_events,
    latest_checkpoint,
    latest_verification,
    search_events,
    text_history,
    text_history_newest_first,
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
    "PAGE_FILTERS",
    "SEARCH_MAX_CHARS",
    "TEXT_LIST_RELATED",
    "StageBar",
    "action_choices",
    "audit_events",
    "describe_events",
    "inbox",
    "last_change",
    "latest_checkpoint",
    "latest_reason",
    "latest_verification",
    "revision_last_seen_by_stage",
    "revision_of",
    "revisions_of",
    "search_events",
    "stage_bar",
    "text_detail",
    "text_history",
    "text_history_newest_first",
    "text_list",
]
