"""Shared setup for the routing tests: loading workflow documents and acting over HTTP."""

from pathlib import Path
from typing import Any

from django.core.management import call_command

from submissions.models import ProjectText
from tests.factories import act, make_text, make_user

DOCUMENTS = Path(__file__).resolve().parent / "workflows"
# The two sample texts' amounts: the first passes the county stage (≥ 1,500,000.00), the
# second skips it.
LARGE, SMALL = "1751800.00", "1227700.00"


def load(name: str) -> None:
    call_command("load_workflow", str(DOCUMENTS / name))


def county_people(cast) -> dict[str, Any]:
    """Load the county document and give its two new roles to people."""
    load("county.yaml")
    return {
        "performance": make_user("performance", "performance_reviewer"),
        "county_a": make_user("county_a", "county_reviewer"),
        "county_b": make_user("county_b", "county_reviewer"),
    }


def submitted(cast, amount: str = LARGE) -> ProjectText:
    text = make_text(cast.org_drafter, cast.org, amount=amount)
    act(cast.org_drafter, text, "submit")
    return ProjectText.objects.get(pk=text.pk)


def at_finance(cast, amount: str = LARGE) -> ProjectText:
    text = submitted(cast, amount)
    act(cast.org_reviewer, text, "dept_approve")
    return ProjectText.objects.get(pk=text.pk)


def post_action(api, actor, text: ProjectText, action: str, **body: Any):
    """POST the action as `actor` with the version the text has now."""
    version = ProjectText.objects.get(pk=text.pk).version
    return api(actor).post(
        f"/api/v1/texts/{text.pk}/actions/{action}/",
        {"version": version, **body},
        format="json",
    )


def history(api, user, text: ProjectText) -> list[dict[str, Any]]:
    return api(user).get(f"/api/v1/texts/{text.pk}/history/?page_size=500").json()["results"]


def state_of(text: ProjectText) -> str:
    return ProjectText.objects.get(pk=text.pk).state
