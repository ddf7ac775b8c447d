"""Server-rendered pages of drafters and reviewers.

Views are thin: they parse the form, call a selector or `workflow.services`, and render.
Every change goes through the service; its refusals become the page's status code.
"""

from submissions.views._common import IMPORT_SESSION_KEY
from submissions.views.delegations import delegation_revoke, delegations
from submissions.views.drafting import amount_in_words, text_create, text_edit, text_import
from submissions.views.lists import bulk_approve, home, inbox, text_list
from submissions.views.text import text_act, text_add_signer, text_detail, text_diff

__all__ = [
    "IMPORT_SESSION_KEY",
    "amount_in_words",
    "bulk_approve",
    "delegation_revoke",
    "delegations",
    "home",
    "inbox",
    "text_act",
    "text_add_signer",
    "text_create",
    "text_detail",
    "text_diff",
    "text_edit",
    "text_import",
    "text_list",
]
