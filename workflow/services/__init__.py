"""The one way anything in the workflow changes.

Every function here is a durable transaction that locks what it changes, checks who may
do it, does it and writes its audit event (and its outbox rows), so that the change and
its event commit together or not at all. A refused attempt (not visible, not permitted,
wrong state, stale version) is recorded afterwards in a transaction of its own and then
raised again. Views, the API, the admin, the tasks and the management commands call
these; nothing else writes `state`, decisions, revisions or audit events.

One module a concern: accounts, actions, definitions (workflow versions), delegation,
drafting, roles, sharing, deadlines, reminders (催办), refused attempts, sign-ins,
passwords, tokens, two-factor sign-in (`workflow.services.twofactor`, called by its module name).
"""

from workflow.services.accounts import change_account, create_account
from workflow.services.actions import add_signer, perform_action
from workflow.services.attempts import summarise_ended_windows
from workflow.services.deadlines import sweep_deadlines
from workflow.services.definitions import load_workflow, migrate_workflow
from workflow.services.delegation import give as give_delegation
from workflow.services.delegation import revoke as revoke_delegation
from workflow.services.drafting import (
    check_import_size,
    create_text,
    edit_text,
    import_texts,
)
from workflow.services.passwords import change_password, reset_password
from workflow.services.reminders import urge
from workflow.services.roles import grant_role, revoke_role
from workflow.services.sharing import grant_text_access, revoke_text_access
from workflow.services.signin import record_failed_sign_in, record_sign_in, record_sign_out
from workflow.services.tokens import issue_token, revoke_token, revoke_user_tokens
from workflow.services.verification import request_full_verification

__all__ = [
    "add_signer",
    "change_account",
    "change_password",
    "check_import_size",
    "create_account",
    "create_text",
    "edit_text",
    "give_delegation",
    "grant_role",
    "grant_text_access",
    "import_texts",
    "issue_token",
    "load_workflow",
    "migrate_workflow",
    "perform_action",
    "record_failed_sign_in",
    "record_sign_in",
    "record_sign_out",
    "request_full_verification",
    "reset_password",
    "revoke_delegation",
    "revoke_role",
    "revoke_text_access",
    "revoke_token",
    "revoke_user_tokens",
    "summarise_ended_windows",
    "sweep_deadlines",
    "urge",
]
