"""Delivery in batches (issue 12): the outbox rows of a batch become their notifications in
one transaction, each once, whatever hands the batch over again; a task tops its batch up
with the oldest other undelivered rows; one row that cannot be delivered holds up no other.

Under the `db` fixture nothing commits: the outbox rows of the actions wait, undelivered.
The same with real worker processes: tests/test_live_batch_delivery.py."""

from unittest import mock

from django.core import mail
from django.test import override_settings

from notifications import services as notify
from notifications.models import Notification
from notifications.tasks import deliver_batch
from workflow.models import OutboxMessage


def waiting_rows(cast, texts: int) -> list[int]:
    """`texts` texts submitted: one outbox row each, for org_reviewer, undelivered."""
    for _ in range(texts):
        cast.text_in("dept_review")
    return list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))


def test_a_batch_delivers_each_of_its_rows_once(cast):
    ids = waiting_rows(cast, 3)

    delivered = notify.deliver_batch(ids, fill=False)

    assert sorted(n.outbox_id for n in delivered) == ids
    assert sorted(Notification.objects.values_list("outbox_id", flat=True)) == ids
    assert not OutboxMessage.objects.filter(delivered_at__isnull=True).exists()


def test_a_batch_handed_over_again_notifies_nobody_twice(cast):
    cast.org_reviewer.email = "org_reviewer@example.org"
    cast.org_reviewer.save(update_fields=["email"])
    ids = waiting_rows(cast, 3)
    notify.deliver_batch(ids)

    again = deliver_batch.apply(args=[ids], kwargs={"fill": True})

    assert again.get() == 0
    assert Notification.objects.count() == 3
    assert len(mail.outbox) == 3


def test_a_batch_that_overlaps_a_delivered_one_delivers_only_the_new_rows(cast):
    ids = waiting_rows(cast, 4)
    notify.deliver_batch(ids[:2], fill=False)

    delivered = notify.deliver_batch(ids, fill=False)

    assert sorted(n.outbox_id for n in delivered) == ids[2:]
    assert Notification.objects.count() == 4


def test_a_task_tops_its_batch_up_with_the_oldest_undelivered_rows(cast):
    ids = waiting_rows(cast, 5)

    with override_settings(OUTBOX_BATCH_SIZE=3):
        delivered = notify.deliver_batch([ids[-1]])

    assert sorted(n.outbox_id for n in delivered) == [ids[0], ids[1], ids[-1]]


def test_a_row_handed_over_on_its_own_takes_no_others(cast):
    ids = waiting_rows(cast, 3)

    notify.deliver(ids[1])

    assert list(Notification.objects.values_list("outbox_id", flat=True)) == [ids[1]]


def test_one_row_that_cannot_be_delivered_holds_up_no_other_row_of_its_batch(cast):
    ids = waiting_rows(cast, 3)
    real = notify.deliver_together

    def failing_for_the_second(outbox_ids, *, fill=True):
        if ids[1] in outbox_ids:
            raise RuntimeError("this row cannot be delivered")
        return real(outbox_ids, fill=fill)

    with mock.patch.object(notify, "deliver_together", side_effect=failing_for_the_second):
        delivered = notify.deliver_batch(ids, fill=False)

    assert sorted(n.outbox_id for n in delivered) == [ids[0], ids[2]]
    assert OutboxMessage.objects.get(pk=ids[1]).delivered_at is None
