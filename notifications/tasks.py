"""Celery tasks: each calls a service and is safe to run twice (acks-late redelivery).

The periodic ones hold a lease (workflow.leases) while they run: a second scheduler's run of
the same job, started while the first still runs, does nothing.
"""

from celery import shared_task

from notifications import services
from workflow.leases import exclusive


@shared_task(name="notifications.tasks.deliver")
def deliver(outbox_id: int) -> bool:
    # Kept for tasks queued before batches (deliver_batch); the relay no longer sends it.
    return services.deliver(outbox_id) is not None


@shared_task(name="notifications.tasks.deliver_batch")
def deliver_batch(outbox_ids: list[int], fill: bool = False) -> int:
    return len(services.deliver_batch(outbox_ids, fill=fill))


@shared_task(name="notifications.tasks.sweep_outbox")
@exclusive("sweep_outbox", busy=0)
def sweep_outbox() -> int:
    return services.sweep_outbox()


@shared_task(name="notifications.tasks.send_digests")
@exclusive("send_digests", busy=0)
def send_digests() -> int:
    return services.send_digests()
