from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("通知")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in
        from django.db.models.signals import post_save

        from notifications.language import use_chosen_language
        from notifications.services import decision_committed, relay_committed
        from workflow.models import Decision
        from workflow.outbox import outbox_committed

        # The workflow writes the outbox; this app hands each new row to the broker.
        outbox_committed.connect(relay_committed, dispatch_uid="notifications.relay")
        # A reviewer's decision (written only by the workflow service, in the action's
        # transaction): once it commits, the notices that asked them to act are read.
        post_save.connect(decision_committed, sender=Decision, dispatch_uid="notifications.acted")
        # The user's own language from the moment they sign in.
        user_logged_in.connect(use_chosen_language, dispatch_uid="notifications.language")
