from typing import Any

from django.core.management.base import BaseCommand

from notifications import tasks as notification_jobs
from workflow import tasks as workflow_jobs


class Command(BaseCommand):
    help = (
        "Run the periodic work once: relay the outbox, remind and escalate, send digests, "
        "summarise refused attempts, seal and verify the audit log. With Celery beat this "
        "runs by itself; without Redis (the embedded default) run it from cron. A job that "
        "another process is running at the moment is skipped."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # The jobs themselves, run here in-process: each holds the same lease as beat's run.
        relayed = notification_jobs.sweep_outbox()
        chased = workflow_jobs.sweep_deadlines()
        digests = notification_jobs.send_digests()
        summarised = workflow_jobs.summarise_refusals()
        seq = workflow_jobs.seal_audit_log()
        sealed = f"checkpoint {seq}" if seq else "nothing new to seal"
        holds = workflow_jobs.verify_audit_log()
        verified = {True: "holds", False: "FAILED verification", None: "being verified"}[holds]
        self.stdout.write(
            f"outbox: {relayed} relayed; deadlines: {chased} reminders/escalations; "
            f"digests: {digests}; refusals summarised: {summarised}; audit: {sealed}, "
            f"{verified}"
        )
