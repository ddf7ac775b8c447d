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


class Preference(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    email_enabled = models.BooleanField(_("接收邮件"), default=True)
    email_mode = models.CharField(
        _("邮件方式"), max_length=16, choices=EmailMode.choices, default=EmailMode.IMMEDIATE
    )
    language = models.CharField(
        _("语言"), max_length=16, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    last_digest_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = _("通知设置")

    def __str__(self) -> str:
        return str(self.user_id)
