"""Departments, project texts, the revisions frozen at each submit, and pending imports.

A project text's `state` is a protected django-fsm field: it changes only through the
transition methods below, and those are called only by `workflow.services`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import pgtrigger
from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import RETURN_VALUE, FSMField, transition
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from submissions import amounts
from submissions.lifecycle import FixedState

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser

# The amount in 六: yuan, two places, at most 12 digits before the point (DESIGN.md).
AMOUNT_PLACES = 2
AMOUNT_MAX_DIGITS = amounts.INTEGER_DIGITS + AMOUNT_PLACES


class Department(models.Model):
    code = models.SlugField(_("代码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=200, unique=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        # Each role has a permission `act_as_<role>` on Department (created with the role,
        # see workflow.permissions): held globally it covers every department, held on a
        # Department object (a guardian grant) it covers that department only.

    def __str__(self) -> str:
        return self.name


class Category(models.TextChoices):
    """项目类别 of a project expenditure (预算管理一体化's classification)."""

    OTHER_OPERATING = "other_operating", _("其他运转类")
    SPECIFIC_PURPOSE = "specific_purpose", _("特定目标类")


class Novelty(models.TextChoices):
    NEW = "new", _("新增")
    CONTINUING = "continuing", _("延续")


class TextContent(models.Model):
    """What a drafter writes and a revision freezes: the eight sections and the amount, the
    project data beside them, the performance targets, and the tables of `submissions.tables`
    (each a JSON list of rows in the canonical form that module describes)."""

    title = models.CharField(_("项目名称"), max_length=200)
    basis = models.TextField(_("立项依据"), blank=True)
    implementer = models.TextField(_("项目实施单位"), blank=True)
    overview = models.TextField(_("项目基本概况"), blank=True)
    content = models.TextField(_("项目实施内容"), blank=True)
    funding = models.TextField(_("资金安排情况"), blank=True)
    amount = models.DecimalField(
        _("金额（元）"),
        max_digits=AMOUNT_MAX_DIGITS,
        decimal_places=AMOUNT_PLACES,
        default=0,
        validators=[MinValueValidator(0)],
    )
    plan = models.TextField(_("项目实施计划"), blank=True)
    outcomes = models.TextField(_("项目实施成效"), blank=True)
    fiscal_year = models.PositiveSmallIntegerField(_("预算年度"))

    # 项目信息
    project_code = models.CharField(_("项目编码"), max_length=40, blank=True)
    category = models.CharField(_("项目类别"), max_length=20, blank=True, choices=Category.choices)
    novelty = models.CharField(_("新增或延续"), max_length=12, blank=True, choices=Novelty.choices)
    start_date = models.DateField(_("开始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    contact_person = models.CharField(_("项目负责人"), max_length=50, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=30, blank=True)
    for_publication = models.BooleanField(_("拟公开"), default=False)
    # 绩效目标: the prose targets beside the indicator table
    target_overall = models.TextField(_("总体目标（长期）"), blank=True)
    target_annual = models.TextField(_("年度目标"), blank=True)
    # The tables (submissions.tables)
    basis_documents = models.JSONField(_("立项依据文件"), default=list, blank=True)
    breakdown = models.JSONField(_("资金明细"), default=list, blank=True)
    yearly_amounts = models.JSONField(_("分年度资金"), default=list, blank=True)
    indicators = models.JSONField(_("绩效指标"), default=list, blank=True)
    milestones = models.JSONField(_("实施计划（里程碑）"), default=list, blank=True)

    class Meta:
        abstract = True


class ProjectText(TextContent):
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="texts", verbose_name=_("部门")
    )
    # A fixed state (submissions.lifecycle) or a stage code of the workflow version the
    # text follows; which changes are allowed is the workflow's to say (and the database's,
    # by a trigger that consults the text's pinned version: workflow migration 0007).
    state = FSMField(_("状态"), default=FixedState.DRAFT, protected=True, db_index=True)
    # Optimistic lock: every write bumps it and every write must name the one it saw.
    version = models.PositiveIntegerField(_("版本"), default=1)
    # Number of the last submitted revision (0: never submitted).
    revision = models.PositiveIntegerField(_("修订号"), default=0)
    # The furthest review stage (a stage code of its version) the text has ever entered, ""
    # before its first submit; never goes back. Kept by the workflow service in the action's
    # transaction, so that "reached the finance stage" is a column filter an index serves
    # (workflow.policy.visible_texts) rather than a search of the decisions.
    reached = models.CharField(_("已到达的审核环节"), max_length=32, blank=True, default="")
    # Who may not review the current revision (回避): its authors, and whoever approved it
    # already, for themselves or for whom they acted for; as ",3,17," (`policy.recusal_column`
    # of `TextFacts.recused_ids`). Kept by the workflow service in the action's transaction,
    # so that the inbox's separation of duties is a test of the text's own row, not a
    # search of the decisions for every waiting text. An edit that makes someone an author
    # (a draft or a returned text: nothing waits for a reviewer) counts at its next submit.
    recused = models.TextField(_("回避人员"), blank=True, default="", editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    entered_state_at = models.DateTimeField(default=timezone.now)
    # Everyone who created, edited or submitted any of it: they may never review it.
    authors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="authored_texts")

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("项目文本")
        verbose_name_plural = _("项目文本")
        indexes = [
            # The inboxes, oldest wait first, at a stage (and of departments): the id breaks
            # ties, so a page reads fifty entries, not every text that entered at that instant.
            # With what the inbox's count filters on (PostgreSQL), the count of the texts
            # waiting at a stage reads this index only.
            models.Index(
                fields=["state", "entered_state_at", "id"],
                include=["department", "reached", "recused"],
                name="texts_waiting_at_stage",
            ),
            models.Index(
                fields=["department", "state", "entered_state_at", "id"],
                name="texts_waiting_by_department",
            ),
            # The lists, in the order they are shown (newest update first), for each way a
            # role narrows them: everything, its departments, the stages it has reached.
            models.Index(fields=["-updated_at", "-id"], name="texts_newest_first"),
            models.Index(fields=["department", "-updated_at", "-id"], name="texts_by_department"),
            models.Index(fields=["reached", "-updated_at", "-id"], name="texts_by_reached_stage"),
        ]
        constraints = [
            # A project code names one project of a department in a budget year.
            models.UniqueConstraint(
                fields=["department", "fiscal_year", "project_code"],
                condition=~models.Q(project_code=""),
                name="one_project_code_per_department_year",
            )
        ]

    def __str__(self) -> str:
        return self.title

    # The one transition: the workflow service decides where a text may go (from the version
    # it follows) and checks who may take it before it calls this; django-fsm does not
    # check `permission` on a call.
    @transition(field=state, source="*", target=RETURN_VALUE())
    def move_to(self, state: str) -> str:
        return state


class Revision(TextContent):
    """An immutable snapshot of a text, frozen when it was submitted."""

    text = models.ForeignKey(ProjectText, on_delete=models.PROTECT, related_name="revisions")
    number = models.PositiveIntegerField(_("修订号"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["text", "number"]
        verbose_name = _("修订")
        verbose_name_plural = _("修订")
        constraints = [
            models.UniqueConstraint(fields=["text", "number"], name="one_revision_per_number")
        ]
        triggers = [
            pgtrigger.Protect(
                name="revisions_are_immutable", operation=pgtrigger.Update | pgtrigger.Delete
            ),
        ]

    def __str__(self) -> str:
        return f"{self.text_id}#{self.number}"


# Object permissions held with guardian through direct foreign keys (not the generic
# content-type table): a co-drafter's `change` on one text, a reviewer's role on one
# department.


class ProjectTextUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(ProjectText, on_delete=models.CASCADE)


class ProjectTextGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(ProjectText, on_delete=models.CASCADE)


class DepartmentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Department, on_delete=models.CASCADE)

    class Meta(UserObjectPermissionBase.Meta):
        verbose_name = _("角色授权")
        verbose_name_plural = _("角色授权")


class DepartmentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Department, on_delete=models.CASCADE)


class PendingImport(models.Model):
    """A file uploaded on the import page, waiting for its uploader to confirm the preview.

    It lives here rather than in the session: the session is saved on every request
    (SESSION_SAVE_EVERY_REQUEST), and a 5 MB file in it cost every later request a second.
    The session holds only the id (submissions.views.IMPORT_SESSION_KEY); confirming
    consumes the row, and a new upload removes its uploader's earlier ones and any that
    have outlived a session.
    """

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    filename = models.CharField(max_length=255)
    data = models.BinaryField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("待导入文件")
        verbose_name_plural = _("待导入文件")

    def __str__(self) -> str:
        return self.filename

    @classmethod
    def keep(cls, owner: AbstractBaseUser, filename: str, data: bytes) -> PendingImport:
        """Store an upload until its preview is confirmed. The uploader's earlier upload
        goes (one preview at a time), and so does anyone's that has outlived a session,
        whose id no session can still hold."""
        expired = timezone.now() - timedelta(seconds=settings.SESSION_COOKIE_AGE)
        cls.objects.filter(models.Q(owner=owner) | models.Q(created_at__lt=expired)).delete()
        return cls.objects.create(owner=owner, filename=filename, data=data)

    @classmethod
    def take(cls, owner: AbstractBaseUser, pk: object) -> PendingImport | None:
        """Remove and return ``owner``'s pending upload ``pk``; None if there is none: not
        theirs, already confirmed, replaced or expired. It is removed before it is used,
        so that two confirmations at once import it once."""
        if not isinstance(pk, int):
            return None
        pending = cls.objects.filter(pk=pk, owner=owner).first()
        if pending is None:
            return None
        deleted, _rows = cls.objects.filter(pk=pending.pk).delete()
        return pending if deleted else None
