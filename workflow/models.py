"""Decisions reviewers take, and the append-only, hash-chained audit log."""

from datetime import date

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Decision(models.Model):
    """Who decided what, at which stage, on which revision, and why."""

    text = models.ForeignKey(
        "submissions.ProjectText", on_delete=models.PROTECT, related_name="decisions"
    )
    revision = models.ForeignKey(
        "submissions.Revision", on_delete=models.PROTECT, related_name="decisions"
    )
    # A stage code of the text's workflow version, and the action taken there.
    stage = models.CharField(max_length=32)
    action = models.CharField(max_length=32)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The lane (role) an approval counted in, at a stage with several lanes or a quorum.
    lane = models.CharField(max_length=64, blank=True)
    # A delegate (委托) acts for someone: the decision counts as theirs, and names both.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    # The section a comment points at (a field name such as "funding"), if any.
    section = models.CharField(max_length=32, blank=True)
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["decided_at", "id"]
        verbose_name = _("审核意见")
        verbose_name_plural = _("审核意见")
        indexes = [
            models.Index(fields=["revision", "actor"]),
            models.Index(fields=["text", "stage"]),
            # "Already approved by me (or the one I act for)": the inbox's anti-join, per text.
            models.Index(fields=["text", "actor"], name="decisions_by_text_actor"),
            models.Index(fields=["text", "on_behalf_of"], name="decisions_by_text_principal"),
        ]
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
    # The algorithm that made `hash` (workflow.digests); every event verifies under its own.
    digest = models.CharField(max_length=16, default="sha256")

    class Meta:
        db_table = "workflow_audit_event"
        ordering = ["id"]
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="one_event_per_stream_seq")
        ]
        indexes = [
            models.Index(fields=["actor", "at"]),
            # The auditor's search, each filter in the list's order (by id), so that a page
            # is read from an index and never by scanning the log.
            models.Index(fields=["actor_name", "id"], name="audit_events_by_actor_name"),
            models.Index(fields=["action", "id"], name="audit_events_by_action"),
            models.Index(fields=["text", "id"], name="audit_events_by_text"),
            models.Index(fields=["department", "id"], name="audit_events_by_department"),
        ]
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

    `heads` holds only the streams that changed since the previous checkpoint; `root`
    commits to the full map (`RootKind`), `hash` chains the checkpoints and `signature` is
    an HMAC with the installation's key. The same line is appended to a file outside the
    database, so that deleting the newest events, their chain heads and the checkpoints is
    detected.
    """

    class RootKind(models.TextChoices):
        # The hash of every stream's head: a seal and its verification cost the whole log.
        # Only checkpoints made before migration 0019 have it.
        MAP = "map", "map"
        # The hash of the previous checkpoint's root and the heads sealed here: it commits
        # to every stream's head through the roots before it, and costs what was sealed.
        CHAIN = "chain", "chain"

    seq = models.PositiveIntegerField(unique=True)
    at = models.DateTimeField(default=timezone.now)
    event_count = models.PositiveBigIntegerField()
    stream_count = models.PositiveIntegerField()
    heads = models.JSONField(default=dict)
    root = models.CharField(max_length=64)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)
    signature = models.CharField(max_length=64)
    # The algorithms that made `root` and `hash`, and the hash inside `signature`'s HMAC.
    digest = models.CharField(max_length=16, default="sha256")
    signature_digest = models.CharField(max_length=16, default="sha256")
    # Not in the hashed document, so that checkpoints made before it hash as they did: a
    # kind changed by hand only makes the root check fail.
    root_kind = models.CharField(max_length=8, choices=RootKind.choices, default=RootKind.CHAIN)

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


class AuditSealedHead(models.Model):
    """What the newest checkpoints sealed of one stream: its length and head hash then.

    Written only by the sealer (one at a time), so that a seal reads the last checkpoint and
    this table instead of every checkpoint, and never locks the chain heads that appends
    lock. A copy for speed: verification trusts the checkpoints and their file, not this."""

    stream = models.CharField(max_length=64, primary_key=True)
    length = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)

    class Meta:
        db_table = "workflow_audit_sealed_head"

    def __str__(self) -> str:
        return f"{self.stream} sealed at {self.length}"


class AuditVerifiedHead(models.Model):
    """How far the verifications have verified one stream: its length and head hash then, and
    how far the checkpoints they checked had sealed it.

    An incremental verification starts from here for the streams whose head moved, found by
    comparing this table with AuditChain in the database, so that it costs what is new, not a
    row per stream of the log. Written by the verifications that pass; a row is built on only
    after the event at its length is read again and still has its hash."""

    stream = models.CharField(max_length=64, primary_key=True)
    length = models.PositiveBigIntegerField()
    head_hash = models.CharField(max_length=64)
    sealed_length = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "workflow_audit_verified_head"

    def __str__(self) -> str:
        return f"{self.stream} verified to {self.length}"


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
    """The result of one verification of the log, so that pages and the API answer from it
    without recomputing the whole log per request.

    A full verification reads every event; an incremental one starts from the previous
    verification's `state` (the last checkpoint, how much of the checkpoint file was read)
    and each stream's verified head (AuditVerifiedHead), and reads only what was appended
    since. `checked` counts every event covered, old and new."""

    class Kind(models.TextChoices):
        FULL = "full", _("完整校验")
        INCREMENTAL = "incremental", _("增量校验")

    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField()
    first_bad = models.BigIntegerField(null=True)
    detail = models.TextField()
    seconds = models.FloatField()
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.FULL)
    # Where the next incremental verification starts, with AuditVerifiedHead
    # (workflow.audit.VerifyResult.state).
    state = models.JSONField(default=dict)
    # The auditor whose request (AuditVerifyRequest) this full verification answers.
    request = models.OneToOneField(
        "AuditVerifyRequest", on_delete=models.PROTECT, null=True, related_name="verification"
    )

    class Meta:
        db_table = "workflow_audit_verification"
        ordering = ["-at", "-id"]
        verbose_name = _("审计校验")
        verbose_name_plural = _("审计校验")

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class AuditVerifyRequest(models.Model):
    """An auditor asked for a full verification; one per AUDIT_FULL_VERIFY_MIN_SECONDS."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        db_table = "workflow_audit_verify_request"
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.requested_by_id}"


# Workflow definitions (DESIGN.md, "Routing as data"). A version is immutable once loaded:
# its document, stages, lanes and transitions never change, so the machine derived from
# it can be cached for the life of a process.


class Workflow(models.Model):
    code = models.CharField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=100)

    class Meta:
        db_table = "workflow_definition"
        ordering = ["code"]
        verbose_name = _("审批流程")
        verbose_name_plural = _("审批流程")

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class WorkflowVersion(models.Model):
    workflow = models.ForeignKey(Workflow, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField(_("版本号"))
    # The canonical document (workflow.definitions.Definition.as_document()).
    document = models.JSONField()
    created_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        db_table = "workflow_version"
        ordering = ["workflow", "-number"]
        verbose_name = _("流程版本")
        verbose_name_plural = _("流程版本")
        constraints = [
            models.UniqueConstraint(fields=["workflow", "number"], name="one_version_per_number")
        ]
        triggers = [
            pgtrigger.Protect(
                name="workflow_versions_are_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow.code} v{self.number}"


class Stage(models.Model):
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="stages")
    position = models.PositiveSmallIntegerField()
    code = models.CharField(max_length=32)
    name = models.CharField(max_length=100)
    approve_action = models.CharField(max_length=32)
    # The stage applies only to texts of at least this amount (`when: amount_at_least`).
    amount_at_least = models.DecimalField(max_digits=14, decimal_places=2, null=True)
    due_days = models.PositiveSmallIntegerField(null=True)
    supervisor_role = models.CharField(max_length=64, blank=True)

    class Meta:
        db_table = "workflow_stage"
        ordering = ["version", "position"]
        constraints = [
            models.UniqueConstraint(fields=["version", "code"], name="one_stage_per_code"),
            models.UniqueConstraint(
                fields=["version", "approve_action"], name="one_stage_per_approve_action"
            ),
            models.UniqueConstraint(fields=["version", "position"], name="one_stage_per_position"),
        ]

    def __str__(self) -> str:
        return f"{self.version} {self.code}"


class Lane(models.Model):
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="lanes")
    position = models.PositiveSmallIntegerField()
    role = models.CharField(max_length=64)
    # Distinct people needed; null means `all`: every eligible holder when the stage begins.
    quorum = models.PositiveSmallIntegerField(null=True)

    class Meta:
        db_table = "workflow_lane"
        ordering = ["stage", "position"]
        constraints = [
            models.UniqueConstraint(fields=["stage", "role"], name="one_lane_per_role"),
            models.CheckConstraint(
                condition=models.Q(quorum__isnull=True) | models.Q(quorum__gte=1),
                name="quorum_is_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.role}"


class Transition(models.Model):
    """A state change the version allows: the database trigger on project texts consults
    these rows for the text's pinned version."""

    version = models.ForeignKey(
        WorkflowVersion, on_delete=models.PROTECT, related_name="transitions"
    )
    from_state = models.CharField(max_length=32)
    to_state = models.CharField(max_length=32)

    class Meta:
        db_table = "workflow_transition"
        constraints = [
            models.UniqueConstraint(
                fields=["version", "from_state", "to_state"], name="one_transition_per_pair"
            )
        ]

    def __str__(self) -> str:
        return f"{self.version}: {self.from_state} → {self.to_state}"


class Route(models.Model):
    """Which workflow version a text follows: pinned at each submit, moved only by
    `migrate_workflow`."""

    text = models.OneToOneField(
        "submissions.ProjectText", on_delete=models.PROTECT, primary_key=True, related_name="route"
    )
    version = models.ForeignKey(WorkflowVersion, on_delete=models.PROTECT, related_name="+")
    # No longer written: the quorums of `all` lanes live on the stage's visit
    # (`StageVisit.quorums`, issue 12), written with it. Kept so that no migration rebuilds
    # this table under the database's state-change guards.
    quorums = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "workflow_route"

    def __str__(self) -> str:
        return f"{self.text_id} → {self.version_id}"


class DelegationQuerySet(models.QuerySet):
    def active(self, on: date) -> "DelegationQuerySet":
        """The delegations in force on the day `on` (not revoked; both ends inclusive)."""
        return self.filter(revoked_at__isnull=True, starts__lte=on, ends__gte=on)


class Delegation(models.Model):
    """委托: `delegate` may act for `delegator` in `roles` from `starts` to `ends` inclusive."""

    delegator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_given"
    )
    delegate = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="delegations_received"
    )
    starts = models.DateField(_("开始日期"))
    ends = models.DateField(_("结束日期"))
    roles = models.JSONField(default=list)
    reason = models.TextField(_("事由"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = DelegationQuerySet.as_manager()

    class Meta:
        db_table = "workflow_delegation"
        ordering = ["-starts", "-id"]
        verbose_name = _("委托")
        verbose_name_plural = _("委托")
        indexes = [models.Index(fields=["delegate", "ends"]), models.Index(fields=["delegator"])]

    def __str__(self) -> str:
        return f"{self.delegator_id} → {self.delegate_id} {self.starts}..{self.ends}"


class AddedSigner(models.Model):
    """加签: a person made a required approver of one stage of one revision."""

    text = models.ForeignKey(
        "submissions.ProjectText", on_delete=models.PROTECT, related_name="added_signers"
    )
    revision = models.ForeignKey(
        "submissions.Revision", on_delete=models.PROTECT, related_name="added_signers"
    )
    stage = models.CharField(max_length=32)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.TextField(blank=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "workflow_added_signer"
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["revision", "stage", "user"], name="one_added_signer_per_stage"
            )
        ]

    def __str__(self) -> str:
        return f"{self.text_id} {self.stage} +{self.user_id}"


# What the workflow hands on: who is to be told of a change (the outbox, written in the
# change's transaction and delivered by the notifications app), and how long a text has
# stayed at its stage (reminders and escalation).


class OutboxMessage(models.Model):
    """One notification to deliver to one person, written in the transaction of its cause.

    The relay hands it to Celery after commit; the sweep hands over again whatever is still
    undelivered, so a broker outage delays a notification and never loses it. Delivery is
    keyed on this row: a task that runs twice delivers once.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # What happened: an action ("submit", "return", ...), or "remind"/"escalate".
    kind = models.CharField(max_length=32)
    # The review stage a reminder or escalation is about.
    stage = models.CharField(max_length=32, blank=True)
    text = models.ForeignKey("submissions.ProjectText", on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # A delegate's action names both people (委托): whom the actor acted for.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # When it was last handed to the broker (null: not yet, or the broker was down).
    dispatched_at = models.DateTimeField(null=True, blank=True)
    dispatch_count = models.PositiveIntegerField(default=0)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "workflow_outbox"
        verbose_name = _("待发通知")
        verbose_name_plural = _("待发通知")
        indexes = [
            models.Index(
                fields=["dispatched_at"],
                name="outbox_undelivered",
                condition=models.Q(delivered_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id} ({self.text_id})"


class StageVisit(models.Model):
    """One stay of a text in one review stage, with its deadline and what was done about it."""

    text = models.ForeignKey(
        "submissions.ProjectText", on_delete=models.CASCADE, related_name="stage_visits"
    )
    stage = models.CharField(max_length=32)
    revision = models.PositiveIntegerField()
    entered_at = models.DateTimeField()
    due_at = models.DateTimeField()
    escalate_at = models.DateTimeField()
    reminded_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    left_at = models.DateTimeField(null=True, blank=True)
    # {role: people} for the stage's lanes whose quorum is `all`, as the stage began:
    # written with the visit, so that entering such a stage costs no statement more.
    quorums = models.JSONField(default=dict, blank=True)

    class Meta:
        db_table = "workflow_stage_visit"
        verbose_name = _("审核期限")
        verbose_name_plural = _("审核期限")
        indexes = [
            models.Index(
                fields=["due_at"], name="open_visits_due", condition=models.Q(left_at__isnull=True)
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["text"],
                condition=models.Q(left_at__isnull=True),
                name="one_open_visit_per_text",
            )
        ]

    def __str__(self) -> str:
        return f"{self.text_id} {self.stage}"


class PasswordRecord(models.Model):
    """A password a user has had (its hash, never the password) and when it was set.

    Written by the history validator's `password_changed` hook (workflow.passwords), which
    Django calls whenever `set_password` is followed by a save: the change service, the
    admin, `seed_demo`. The newest record says how old the current password is (expiry);
    the newest PASSWORD_HISTORY say which may not be used again. An account made with its
    password already hashed (`create_user`, `createsuperuser`) has none until its first
    change: its current password and when it joined stand in.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_records"
    )
    password = models.CharField(_("密码（哈希值）"), max_length=128)
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "workflow_password_record"
        ordering = ["-changed_at", "-id"]
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        indexes = [models.Index(fields=["user", "-changed_at", "-id"], name="password_newest")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.changed_at:%Y-%m-%d}"


# --- Access tokens for scripts ---------------------------------------------------------------


class AccessToken(models.Model):
    """A key a script sends as "Authorization: Token <key>" (workflow.tokens).

    Only the key's SHA-256 is stored: a copy of the database signs nobody in. The first
    characters are kept to tell one's tokens apart in a list. A token ends when revoked, after
    TOKEN_IDLE_WORKING_HOURS working hours unused, or TOKEN_MAX_AGE_DAYS after it was issued.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="access_tokens"
    )
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(_("前缀"), max_length=8)
    label = models.CharField(_("客户端"), max_length=200, blank=True)
    address = models.CharField(_("签发地址"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    last_used_at = models.DateTimeField(_("最近使用"), default=timezone.now)
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=32, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        db_table = "workflow_access_token"
        ordering = ["-created_at", "-id"]
        verbose_name = _("访问令牌")
        verbose_name_plural = _("访问令牌")
        indexes = [models.Index(fields=["user", "revoked_at"])]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user_id})"
