"""Demo departments, users, roles and the sample's texts. Running it twice changes nothing."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from submissions.demo_content import DEMO_USERS, ENRICHMENT
from submissions.importer import ImportFormatError, parse_texts
from submissions.models import Department, ProjectText
from workflow import services
from workflow.exceptions import WorkflowError
from workflow.states import ADMINISTRATOR_ROLES

DEPARTMENTS = {
    "org": "中共新平彝族傣族自治县委员会组织部",
    "edu": "新平县教育体育局",
}


class Command(BaseCommand):
    help = "Create the demo departments, users (password: DEMO_PASSWORD) and sample texts."

    def handle(self, *args: Any, **options: Any) -> None:
        # DESIGN.md, "Commands": known passwords (a superuser's among them) only in a demo.
        if not (settings.DEBUG or settings.DEMO_MODE):
            raise CommandError(
                "refusing to create the demo users: their password is public (DEMO_PASSWORD) "
                "and admin, security_admin and audit_admin administer the system. This is "
                "production posture; seed_demo runs only "
                "with DEMO_MODE=1 (as `make demo` sets it) or DEBUG=1."
            )
        departments = {
            code: Department.objects.get_or_create(code=code, defaults={"name": name})[0]
            for code, name in DEPARTMENTS.items()
        }
        users = {name: self._user(name, grant) for name, grant in DEMO_USERS.items()}
        for name, (role, code) in DEMO_USERS.items():
            services.grant_role(
                actor=None,
                user=users[name],
                role=role,
                department=departments[code] if code else None,
            )
        self._import_sample(users["org_drafter"], departments["org"])
        self.stdout.write(
            "demo users: "
            + ", ".join(DEMO_USERS)
            + f" (password: the DEMO_PASSWORD setting, default {settings.DEMO_PASSWORD!r})"
        )

    def _user(self, username: str, grant: tuple[str, str | None]):
        """The demo account, created through the audited account service the first time."""
        User = get_user_model()
        found = User.objects.filter(username=username).first()
        if found is not None:
            return found
        user = User(username=username, is_staff=grant[0] in ADMINISTRATOR_ROLES)
        user.set_password(settings.DEMO_PASSWORD)
        return services.create_account(actor=None, user=user)

    def _import_sample(self, drafter, department: Department) -> None:
        path = Path(settings.DEMO_TEXTS)
        if not path.is_file():
            self.stderr.write(f"sample texts not found at {path}: set DEMO_TEXTS; none imported")
            return
        data = path.read_bytes()
        try:
            titles = {text.title for text in parse_texts(data, path.name)}
        except (ImportFormatError, WorkflowError) as error:
            raise CommandError(f"{path}: {error}") from None
        existing = ProjectText.objects.filter(department=department, title__in=titles).count()
        if existing >= len(titles):
            return
        texts = services.import_texts(actor=drafter, filename=path.name, data=data)
        # The sample is prose only; the demo shows the tables a reviewer now asks for too.
        for text in texts:
            if text.title in ENRICHMENT:
                services.edit_text(
                    actor=drafter,
                    text_id=text.pk,
                    version=text.version,
                    data=ENRICHMENT[text.title],
                )
        self.stdout.write(f"imported {len(texts)} sample texts as drafts of {department.code}")
