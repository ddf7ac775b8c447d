"""Workflow versions (DESIGN.md, "Routing as data"): each submit pins the current version,
`migrate_workflow` moves texts explicitly, an invalid document changes nothing, the database
refuses a state change the pinned version does not allow, and a new stage is one document."""

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction

from submissions.models import ProjectText
from tests.factories import act, make_user
from tests.routing import DOCUMENTS, at_finance, county_people, load, state_of, submitted
from workflow.definitions import DocumentError
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent, Route, WorkflowVersion
from workflow.services import load_workflow

VALID = (DOCUMENTS / "county.yaml").read_text(encoding="utf-8")


def test_loading_a_document_adds_a_version_of_its_workflow(cast):
    load("county.yaml")

    assert list(
        WorkflowVersion.objects.filter(workflow__code="budget-text").values_list(
            "number", flat=True
        )
    ) == [2, 1]


def test_a_submit_pins_the_version_current_at_that_moment(cast):
    load("county.yaml")

    text = submitted(cast)

    assert Route.objects.get(text=text).version.number == 2


def test_a_text_in_flight_under_v1_keeps_v1s_rules_after_v2_is_loaded(cast):
    text = at_finance(cast)
    county_people(cast)

    act(cast.finance, text, "finance_approve")  # v1: one desk is enough

    assert state_of(text) == "approval"


def test_migrate_workflow_moves_a_text_in_flight_to_the_new_rules(cast):
    text = at_finance(cast)
    county_people(cast)

    call_command("migrate_workflow", "budget-text", "--to", "2")
    act(cast.finance, text, "finance_approve")

    assert Route.objects.get(text=text).version.number == 2
    assert state_of(text) == "finance_review"  # v2: the performance desk must sign too


def test_migrate_workflow_is_audited_on_each_texts_history(cast):
    text = at_finance(cast)
    county_people(cast)

    call_command("migrate_workflow", "budget-text", "--to", "2")

    event = AuditEvent.objects.get(text=text, action="workflow_migrated")
    assert (event.detail["from_version"], event.detail["to_version"]) == (1, 2)


def test_migrate_workflow_refuses_a_text_whose_stage_the_target_lacks_naming_it(cast, tmp_path):
    text = at_finance(cast)
    without_finance = VALID.replace("code: finance_review", "code: budget_review")
    (tmp_path / "v2.yaml").write_text(without_finance, encoding="utf-8")
    call_command("load_workflow", str(tmp_path / "v2.yaml"))

    with pytest.raises(CommandError, match=f"#{text.pk}"):
        call_command("migrate_workflow", "budget-text", "--to", "2")

    assert Route.objects.get(text=text).version.number == 1


INVALID = {
    "duplicate stage code": (
        VALID.replace("code: county_review", "code: finance_review"),
        "stages[2].code",
    ),
    "unknown role": (VALID.replace("role: approver", "role: treasurer"), "stages[3].lanes[0].role"),
    "quorum 0": (
        VALID.replace("{role: county_reviewer, quorum: 2}", "{role: county_reviewer, quorum: 0}"),
        "stages[2].lanes[0].quorum",
    ),
    "a stage code equal to a fixed state": (
        VALID.replace("code: approval", "code: approved"),
        "stages[3].code",
    ),
}


@pytest.mark.parametrize("problem", sorted(INVALID))
def test_an_invalid_document_is_refused_naming_the_field(cast, tmp_path, problem):
    document, field = INVALID[problem]
    path = tmp_path / "bad.yaml"
    path.write_text(document, encoding="utf-8")

    with pytest.raises(CommandError) as refused:
        call_command("load_workflow", str(path))

    assert field in str(refused.value)
    assert "line" in str(refused.value) or "行" in str(refused.value)


@pytest.mark.parametrize("problem", sorted(INVALID))
def test_an_invalid_document_changes_nothing(cast, problem):
    before = WorkflowVersion.objects.count()

    with pytest.raises(DocumentError):
        load_workflow(actor=None, source=INVALID[problem][0])

    assert WorkflowVersion.objects.count() == before


def test_only_an_administrator_may_load_a_document(cast):
    with pytest.raises(NotPermitted):
        load_workflow(actor=cast.approver, source=VALID)


def test_the_database_refuses_a_state_change_the_pinned_version_does_not_allow(cast):
    text = submitted(cast)

    with pytest.raises(DatabaseError), transaction.atomic():
        ProjectText.objects.filter(pk=text.pk).update(state="approved")

    assert state_of(text) == "dept_review"


def test_the_database_refuses_a_change_only_a_newer_version_allows(cast):
    text = at_finance(cast)  # pinned to v1, which has no county stage
    county_people(cast)

    with pytest.raises(DatabaseError), transaction.atomic():
        ProjectText.objects.filter(pk=text.pk).update(state="county_review")

    assert state_of(text) == "finance_review"


def test_the_database_allows_what_the_pinned_version_allows(cast):
    county_people(cast)
    text = at_finance(cast)  # pinned to v2

    ProjectText.objects.filter(pk=text.pk).update(state="county_review")

    assert state_of(text) == "county_review"


def test_a_five_stage_document_walks_a_text_through_with_no_code_change(cast, api):
    load("five_stages.yaml")
    people = {
        "office_approve": make_user("office", "office_reviewer"),
        "legal_approve": make_user("legal", "legal_reviewer"),
        "leader_approve": make_user("leader", "leader"),
    }
    text = submitted(cast)
    path = [
        ("dept_approve", cast.org_reviewer),
        ("office_approve", people["office_approve"]),
        ("legal_approve", people["legal_approve"]),
        ("leader_approve", people["leader_approve"]),
        ("approve", cast.approver),
    ]
    states = []
    for action, who in path:
        version = ProjectText.objects.get(pk=text.pk).version
        response = api(who).post(
            f"/api/v1/texts/{text.pk}/actions/{action}/", {"version": version}, format="json"
        )
        assert response.status_code == 200, response.json()
        states.append(response.json()["state"])

    assert states == ["office_review", "legal_review", "leader_review", "approval", "approved"]


def test_a_text_moved_to_a_later_stage_of_its_new_version_may_still_be_withdrawn(cast, tmp_path):
    text = submitted(cast)  # at dept_review under v1, nobody has decided
    first_a_registry = VALID.replace(
        "stages:\n",
        "stages:\n  - {code: registry, name: 登记, approve_action: register,\n"
        "     lanes: [{role: approver, quorum: 1}]}\n",
        1,
    )
    (tmp_path / "v2.yaml").write_text(first_a_registry, encoding="utf-8")
    call_command("load_workflow", str(tmp_path / "v2.yaml"))
    call_command("migrate_workflow", "budget-text", "--to", "2")

    act(cast.org_drafter, text, "withdraw")

    assert state_of(text) == "draft"


def test_a_document_of_nested_aliases_is_refused_quickly(cast):
    # Ten levels of ten references each: walked naively, 10**10 nodes.
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for n in range(1, 11):
        levels.append(f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 10) + "]")
    document = "\n".join(levels) + "\ncode: budget-text\nname: x\nstages: *a10\n"

    with pytest.raises(DocumentError):
        load_workflow(actor=None, source=document)
