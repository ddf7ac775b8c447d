"""Decisions reviewers take, and the append-only, hash-chained audit log."""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from workflow.states import Action, State


class Decision(models.Model):
    """Who decided what, at which stage, on which revision, and why."""

    text = models.ForeignKey(
        "submissions.ProjectText", on_delete=models.PROTECT, related_name="decisions"
    )
    revision = models.ForeignKey(
        "submissions.Revision", on_delete=models.PROTECT, related_name="decisions"
    )
    stage = models.CharField(max_length=32, choices=State.choices)
    action = models.CharField(max_length=32, choices=Action.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    comment = models.TextField(blank=True)
    # The section a comment points at (a field name such as "funding"), if any.
    section = models.CharField(max_length=32, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        indexes = [models.Index(fields=["revision", "actor"])]
        triggers = [
            pgtrigger.Protect(
                name="decisions_are_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.text_id}#{self.revision_id}"


class Outcome(models.TextChoices):
    OK = "ok", _("成功")
    REFUSED = "refused", _("被拒绝")


class RefuseTruncate(pgtrigger.Trigger):
    """Row triggers do not see TRUNCATE: refuse it with a statement trigger."""

    when = pgtrigger.Before
    operation = pgtrigger.Truncate
    level = pgtrigger.Statement

    def get_func(self, model: type[models.Model]) -> str:
        return (
            "RAISE EXCEPTION 'audit events are append-only: TRUNCATE of % refused', TG_TABLE_NAME;"
        )


class AuditEvent(models.Model):
    """One entry of the audit log.

    Events form one hash chain per stream (a text, or a user whose roles changed), so that
    actions on different texts never wait for each other; each event's `hash` covers its
    canonical serialisation and the previous event's hash (see `workflow.audit`).
    """

    stream = models.CharField(max_length=64)
    seq = models.PositiveBigIntegerField()
    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Users who appear in the log cannot be deleted, only deactivated.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=32, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OK)
    text = models.ForeignKey(
        "submissions.ProjectText",
        on_delete=models.PROTECT,
        null=True,
        related_name="audit_events",
    )
    department = models.CharField(max_length=32, blank=True)
    from_state = models.CharField(max_length=32, blank=True)
    to_state = models.CharField(max_length=32, blank=True)
    revision = models.PositiveIntegerField(null=True)
    comment = models.TextField(blank=True)
    # Field-level edits: {"field": [before, after]}.
    changes = models.JSONField(default=dict, blank=True)
    # Whatever else explains the event: a refusal's reason, a grant's role and department.
    detail = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        db_table = "workflow_audit_event"
        ordering = ["id"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="one_event_per_stream_seq")
        ]
        indexes = [models.Index(fields=["actor", "at"])]
        triggers = [
            pgtrigger.Protect(
                name="audit_events_append_only", operation=pgtrigger.Update | pgtrigger.Delete
            ),
            RefuseTruncate(name="audit_events_no_truncate"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} {self.outcome}"


class AuditChain(models.Model):
    """The head of one stream's chain; its row is the lock that orders that stream."""

    stream = models.CharField(max_length=64, primary_key=True)
    length = models.PositiveBigIntegerField(default=0)
    head_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "workflow_audit_chain"

    def __str__(self) -> str:
        return f"{self.stream} ({self.length})"


class AuditCheckpoint(models.Model):
    """A seal over the whole log at one moment: every stream's length and head hash.

    `heads` holds only the streams that changed since the previous checkpoint; `root` is
    the hash of the full map, `hash` chains the checkpoints and `signature` is an HMAC
    with the installation's key. The same line is appended to a file outside the database,
    so that deleting the newest events, their chain heads and the checkpoints is detected.
    """

    seq = models.PositiveIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now)
    event_count = models.PositiveBigIntegerField()
    stream_count = models.PositiveIntegerField()
    heads = models.JSONField(default=dict)
    root = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)

    class Meta:
        db_table = "workflow_audit_checkpoint"
        ordering = ["seq"]
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        triggers = [
            pgtrigger.Protect(
                name="audit_checkpoints_append_only",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
            RefuseTruncate(name="audit_checkpoints_no_truncate"),
        ]

    def __str__(self) -> str:
        return f"checkpoint {self.seq} ({self.event_count} events)"


class AttemptTally(models.Model):
    """Refused attempts of one source on one stream, counted once its recording budget is spent.

    Each (stream, source) pair records AUDIT_REFUSALS_PER_WINDOW refused attempts per
    window in full; the rest are only counted here and written as one summary event when the
    window has passed, so that nobody can grow the log without bound by being refused.
    """

    stream = models.CharField(max_length=64)
    source = models.CharField(max_length=200)
    window_start = models.DateTimeField()
    recorded = models.PositiveIntegerField(default=0)
    suppressed = models.PositiveIntegerField(default=0)
    # What the summary event will name: who (if anyone signed in), which text.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    actor_name = models.CharField(max_length=150, blank=True)
    text = models.ForeignKey(
        "submissions.ProjectText", on_delete=models.PROTECT, null=True, related_name="+"
    )
    department = models.CharField(max_length=32, blank=True)
    first_suppressed_at = models.DateTimeField(null=True)
    last_suppressed_at = models.DateTimeField(null=True)
    # {action: count} of the suppressed attempts.
    actions = models.JSONField(default=dict)

    class Meta:
        db_table = "workflow_attempt_tally"
        constraints = [
            models.UniqueConstraint(fields=["stream", "source"], name="one_tally_per_source")
        ]
        indexes = [models.Index(fields=["window_start"])]

    def __str__(self) -> str:
        return f"{self.stream} {self.source}: {self.recorded}+{self.suppressed}"


class AuditVerification(models.Model):
    """The result of one full verification of the log, so that pages show it without
    recomputing the whole log per request."""

    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField()
    first_bad = models.BigIntegerField(null=True)
    detail = models.TextField()
    seconds = models.FloatField()

    class Meta:
        db_table = "workflow_audit_verification"
        ordering = ["-at", "-id"]
        verbose_name = _("审计校验")
        verbose_name_plural = _("审计校验")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"
