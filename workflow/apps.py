from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    name = "workflow"
    verbose_name = _("审批流程")

    def ready(self) -> None:
        # Registers the system checks of the audit digest and witness settings.
        from workflow import digests, witness  # noqa: F401
