from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SubmissionsConfig(AppConfig):
    name = "submissions"
    verbose_name = _("项目文本")

    def ready(self) -> None:
        # The pages' sign-in glue: audits every failed sign-in, whichever way it came in.
        from config import login  # noqa: F401
