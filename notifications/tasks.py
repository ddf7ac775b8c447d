"""Celery tasks: each calls a service and is safe to run twice (acks-late redelivery)."""

from celery import shared_task

from notifications import services


@shared_task(name="notifications.tasks.deliver")
def deliver(outbox_id: int) -> bool:
    return services.deliver(outbox_id) is not None


@shared_task(name="notifications.tasks.sweep_outbox")
def sweep_outbox() -> int:
    return services.sweep_outbox()


@shared_task(name="notifications.tasks.send_digests")
def send_digests() -> int:
    return services.send_digests()
