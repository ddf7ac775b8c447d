"""Every action costs a small, fixed number of SQL statements inside its transaction
(issue 12, "a lean action path"): at most ACTION_BUDGET, whatever the action, the stage,
the lane or in whose name it is taken, and as many with 200 texts as with 10.

Counted over the API, between the action's transaction's start and its commit
(`tests.statements`); loading the user's roles before and the answer after are not in it."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act, make_text, make_user
from tests.routing import LARGE, county_people, load
from tests.statements import action_statements
from workflow.services import give_delegation

ACTION_BUDGET = 10


@dataclass
class Case:
    """A text made ready for one action, and who takes it."""

    action: str
    actor: str  # a name in `people`
    prepare: Callable[[Any, dict[str, Any]], ProjectText]
    body: dict[str, Any] = field(default_factory=dict)
    county: bool = False  # under the county document (two lanes, 会签 of two)
    five: bool = False  # under five_stages.yaml (a stage whose quorum is `all`)


def at(state: str) -> Callable[[Any, dict[str, Any]], ProjectText]:
    return lambda cast, people: cast.text_in(state)


def county_at(*steps: tuple[str, str]) -> Callable[[Any, dict[str, Any]], ProjectText]:
    """A large text submitted under the county document, then `steps` (action, who)."""

    def prepare(cast, people):
        text = make_text(cast.org_drafter, cast.org, amount=LARGE)
        act(cast.org_drafter, text, "submit")
        for action, who in steps:
            act(people[who], text, action)
        return text

    return prepare


def five_at(*steps: tuple[str, str]) -> Callable[[Any, dict[str, Any]], ProjectText]:
    """A text submitted under the five-stage document, then `steps` (action, who)."""

    def prepare(cast, people):
        text = make_text(cast.org_drafter, cast.org)
        act(cast.org_drafter, text, "submit")
        for action, who in steps:
            act(people[who], text, action)
        return text

    return prepare


def with_added_signer(*, finance_first: bool) -> Callable[[Any, dict[str, Any]], ProjectText]:
    """At finance review with `legal` added as a signer (and finance's approval given)."""

    def prepare(cast, people):
        text = cast.text_in("finance_review")
        from workflow.services import add_signer

        add_signer(actor=cast.finance, text_id=text.pk, version=text.version, user="legal")
        if finance_first:
            act(cast.finance, text, "finance_approve")
        return text

    return prepare


def returned_once(cast, people):
    text = cast.text_in("returned")
    ProjectText.objects.filter(pk=text.pk)  # resubmitted below as a second revision
    return text


DEPT = ("dept_approve", "org_reviewer")
FINANCE = ("finance_approve", "finance")
PERFORMANCE = ("finance_approve", "performance")
FIVE_TO_LEADERS = (("office_approve", "office_1"), ("legal_approve", "legal_1"))

CASES = {
    "submit": Case("submit", "org_drafter", at("draft")),
    "submit_again_after_return": Case("submit", "org_drafter", returned_once),
    "withdraw": Case("withdraw", "org_drafter", at("dept_review")),
    "dept_approve": Case("dept_approve", "org_reviewer", at("dept_review")),
    "finance_approve": Case("finance_approve", "finance", at("finance_review")),
    "approve": Case("approve", "approver", at("approval")),
    "return": Case("return", "org_reviewer", at("dept_review"), {"comment": "请补充测算依据"}),
    "return_at_approval": Case("return", "approver", at("approval"), {"comment": "请补充"}),
    "reject": Case("reject", "finance", at("finance_review"), {"comment": "不符合政策"}),
    "add_signer": Case("add_signer", "finance", at("finance_review"), {"user": "legal"}),
    "finance_approve_awaiting_added_signer": Case(
        "finance_approve", "finance", with_added_signer(finance_first=False)
    ),
    "added_signer_signs": Case("finance_approve", "legal", with_added_signer(finance_first=True)),
    "delegate_approves": Case("approve", "deputy", at("approval"), {"comment": "同意"}),
    "finance_lane_of_two": Case("finance_approve", "finance", county_at(DEPT), county=True),
    "performance_lane_completes": Case(
        "finance_approve", "performance", county_at(DEPT, FINANCE), county=True
    ),
    "first_of_two_county_signers": Case(
        "county_approve", "county_a", county_at(DEPT, FINANCE, PERFORMANCE), county=True
    ),
    "second_county_signer_completes": Case(
        "county_approve",
        "county_b",
        county_at(DEPT, FINANCE, PERFORMANCE, ("county_approve", "county_a")),
        county=True,
    ),
    "entering_a_stage_whose_quorum_is_all": Case(
        "legal_approve", "legal_1", five_at(DEPT, ("office_approve", "office_1")), five=True
    ),
    "first_of_all_leaders": Case(
        "leader_approve", "leader_1", five_at(DEPT, *FIVE_TO_LEADERS), five=True
    ),
    "last_of_all_leaders_completes": Case(
        "leader_approve",
        "leader_2",
        five_at(DEPT, *FIVE_TO_LEADERS, ("leader_approve", "leader_1")),
        five=True,
    ),
}


def people_for(cast, case: Case) -> dict[str, Any]:
    people = {
        name: getattr(cast, name) for name in ("org_drafter", "org_reviewer", "finance", "approver")
    }
    people["legal"] = make_user("legal")
    people["deputy"] = deputy = make_user("deputy")
    give_delegation(
        actor=cast.approver,
        to=deputy.username,
        starts=timezone.localdate(),
        ends=timezone.localdate() + timedelta(days=3),
        reason="出差",
    )
    if case.county:
        people.update(county_people(cast))
    if case.five:
        load("five_stages.yaml")
        for name, role in [
            ("office_1", "office_reviewer"),
            ("legal_1", "legal_reviewer"),
            ("leader_1", "leader"),
            ("leader_2", "leader"),
        ]:
            people[name] = make_user(name, role)
    return people


def statements_of(api, case: Case, people: dict[str, Any], text: ProjectText) -> list[str]:
    version = ProjectText.objects.get(pk=text.pk).version
    client = api(people[case.actor])
    return action_statements(
        lambda: client.post(
            f"/api/v1/texts/{text.pk}/actions/{case.action}/",
            {"version": version, **case.body},
            format="json",
        )
    )


def listing(statements: list[str]) -> str:
    return f"{len(statements)} statements:\n" + "\n".join(sql[:160] for sql in statements)


def add_texts(cast, people, case: Case, count: int) -> None:
    """Other texts: drafts, and some waiting at the same point as the measured one."""
    for _i in range(3):
        case.prepare(cast, people)
    ProjectText.objects.bulk_create(
        [
            ProjectText(
                department=cast.org,
                created_by=cast.org_drafter,
                title=f"填充项目{i}",
                fiscal_year=2025,
                amount="1000.00",
            )
            for i in range(count)
        ],
        batch_size=500,
    )


@pytest.mark.parametrize("name", CASES)
def test_an_action_costs_at_most_ten_statements_in_its_transaction(cast, api, name):
    case = CASES[name]
    people = people_for(cast, case)
    warm, text = case.prepare(cast, people), case.prepare(cast, people)
    statements_of(api, case, people, warm)  # caches (content types, the catalog) warmed once

    statements = statements_of(api, case, people, text)

    assert len(statements) <= ACTION_BUDGET, listing(statements)


@pytest.mark.parametrize("name", CASES)
def test_an_action_costs_as_many_statements_with_200_texts_as_with_10(cast, api, name):
    case = CASES[name]
    people = people_for(cast, case)
    warm, small, large = (case.prepare(cast, people) for _i in range(3))
    statements_of(api, case, people, warm)
    add_texts(cast, people, case, 10 - ProjectText.objects.count() % 10)

    with_few = statements_of(api, case, people, small)
    add_texts(cast, people, case, 200 - ProjectText.objects.count())
    with_many = statements_of(api, case, people, large)

    assert ProjectText.objects.count() >= 200
    assert len(with_few) == len(with_many)
