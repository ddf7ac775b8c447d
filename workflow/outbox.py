"""Telling people of a change: one outbox row per recipient, written in the change's
transaction, so that a broker outage delays a notification and never loses it.

The notifications app delivers the rows (in-app and e-mail); it hears of new ones through
`outbox_committed`, sent after commit, and sweeps up whatever that missed.
"""

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.dispatch import Signal

from submissions.models import ProjectText
from workflow.models import OutboxMessage

# Sent after the transaction that wrote outbox rows commits; `ids` are the rows.
outbox_committed = Signal()


def queue(
    *,
    kind: str,
    text: ProjectText,
    actor: AbstractBaseUser | None,
    recipient_ids: Iterable[int],
    comment: str = "",
    stage: str = "",
    on_behalf_of: AbstractBaseUser | None = None,
) -> list[int]:
    """Write one outbox row per recipient (never the actor). Must run inside the
    transaction of the change that causes them."""
    actor_id = actor.pk if actor is not None else None
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(
            recipient_id=uid,
            kind=kind,
            stage=stage,
            text=text,
            actor_id=actor_id,
            on_behalf_of=on_behalf_of,
            comment=comment,
        )
        for uid in sorted(set(recipient_ids) - {actor_id})
    )
    ids = [row.pk for row in rows]
    if ids:
        transaction.on_commit(
            lambda: outbox_committed.send(sender=OutboxMessage, ids=ids), robust=True
        )
    return ids
