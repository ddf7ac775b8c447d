from typing import Any

from django.core.management.base import BaseCommand

from notifications import services as notifications
from workflow import audit, services


class Command(BaseCommand):
    help = (
        "Run the periodic work once: relay the outbox, remind and escalate, send digests, "
        "summarise refused attempts, seal and verify the audit log. With Celery beat this "
        "runs by itself; without Redis (the embedded default) run it from cron."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        relayed = notifications.sweep_outbox()
        chased = services.sweep_deadlines()
        digests = notifications.send_digests()
        summarised = services.summarise_ended_windows()
        checkpoint = audit.seal()
        sealed = f"checkpoint {checkpoint.seq}" if checkpoint else "nothing new to seal"
        verified = "holds" if audit.verify_new_and_keep().ok else "FAILED verification"
        self.stdout.write(
            f"outbox: {relayed} relayed; deadlines: {chased} reminders/escalations; "
            f"digests: {digests}; refusals summarised: {summarised}; audit: {sealed}, "
            f"{verified}"
        )
