from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        from notifications.services import relay_committed
        from workflow.outbox import outbox_committed

        # The workflow writes the outbox; this app hands each new row to the broker.
        outbox_committed.connect(relay_committed, dispatch_uid="notifications.relay")
