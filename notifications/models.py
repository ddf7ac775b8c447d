"""In-app notifications and e-mail preferences. The outbox they are made from, and the
stage visits reminders come from, are the workflow's (`workflow.models`)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """What a person sees under the bell."""

    outbox = models.OneToOneField(
        "workflow.OutboxMessage", on_delete=models.PROTECT, related_name="notification"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    stage = models.CharField(max_length=32, blank=True)
    text = models.ForeignKey("submissions.ProjectText", on_delete=models.CASCADE, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    on_behalf_of_name = models.CharField(max_length=150, blank=True)
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    read_at = models.DateTimeField(null=True, blank=True)
    # E-mail beside it: decided when it is delivered (the recipient's preference then), so a
    # preference changed later never sends old news. Pending until sent, at once or in the
    # day's digest.
    email_pending = models.BooleanField(default=False)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # An e-mail that could not be sent is tried again with backoff and given up after
    # EMAIL_MAX_ATTEMPTS failures (email_pending off, email_failed_at set), keeping its last
    # error for the administrators. The in-app notification is the same whatever happens here.
    email_failures = models.PositiveSmallIntegerField(_("邮件发送失败次数"), default=0)
    email_error = models.TextField(_("邮件最近错误"), blank=True)
    email_retry_at = models.DateTimeField(_("邮件下次重试"), null=True, blank=True)
    email_failed_at = models.DateTimeField(_("邮件放弃发送时间"), null=True, blank=True)
    # Off when the recipient turned this kind of notice off in the app (they may still want
    # its e-mail): kept, so that delivery stays once-only, but never listed nor counted.
    in_app = models.BooleanField(_("站内显示"), default=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["recipient"],
                name="notification_email_pending",
                condition=models.Q(email_pending=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"


class EmailMode(models.TextChoices):
    IMMEDIATE = "immediate", _("立即发送")
    DIGEST = "digest", _("每日汇总")


class NoticeGroup(models.TextChoices):
    """The kinds of notice a reader turns on or off, in the app and by e-mail
    (`notifications.services.group_of` says which kind is in which)."""

    WAITING = "waiting", _("待我审批")
    RESULTS = "results", _("结果通知（通过/退回/不予立项）")
    CHASING = "chasing", _("催办与超期")
    SIGNER = "signer", _("加签")


class Preference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(_("接收邮件"), default=True)
    email_mode = models.CharField(
        _("邮件方式"), max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    # The user's one language: of their pages (from their next sign-in on), and of their
    # e-mail. Set by the header's language switch; until they choose, the browser decides
    # their pages (language_chosen off) and their e-mail is in the default language.
    language = models.CharField(
        _("语言"), max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    language_chosen = models.BooleanField(_("已选择语言"), default=False)
    # Per kind of notice (NoticeGroup), in the app and by e-mail: everything on by default
    # (e-mail still needs email_enabled and an address, as before).
    in_app_waiting = models.BooleanField(_("站内：待我审批"), default=True)
    in_app_results = models.BooleanField(_("站内：结果通知"), default=True)
    in_app_chasing = models.BooleanField(_("站内：催办与超期"), default=True)
    in_app_signer = models.BooleanField(_("站内：加签"), default=True)
    email_waiting = models.BooleanField(_("邮件：待我审批"), default=True)
    email_results = models.BooleanField(_("邮件：结果通知"), default=True)
    email_chasing = models.BooleanField(_("邮件：催办与超期"), default=True)
    email_signer = models.BooleanField(_("邮件：加签"), default=True)
    last_digest_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return str(self.user_id)

    def wants_in_app(self, group: str | None) -> bool:
        return group is None or getattr(self, f"in_app_{group}")

    def wants_email(self, group: str | None) -> bool:
        return self.email_enabled and (group is None or getattr(self, f"email_{group}"))
