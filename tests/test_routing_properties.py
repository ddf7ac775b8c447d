"""Properties of routing over random workflow documents and random people taking random
actions (hypothesis): whatever happens, no text is approved without every applicable stage's
quorum from eligible, distinct people; separation of duties never breaks; every committed
change has exactly one audit event; the chain verifies."""

from decimal import Decimal

from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.django import TestCase

from submissions.models import Department, ProjectText
from tests.factories import make_text, make_user
from workflow import audit, services
from workflow.exceptions import WorkflowError
from workflow.locking import lock_text
from workflow.machine import machine_for
from workflow.models import AuditEvent, Decision, Route
from workflow.permissions import Authority, holders
from workflow.policy import (
    Shares,
    available_actions,
    recusal_column,
    visible_texts,
    waiting_for,
)

ROLES = ["dept_reviewer", "role_a", "role_b"]
AMOUNTS = ["500000.00", "1751800.00"]
PEOPLE = 5


@st.composite
def documents(draw) -> dict:
    stages = []
    for index in range(draw(st.integers(1, 3))):
        roles = draw(st.lists(st.sampled_from(ROLES), min_size=1, max_size=2, unique=True))
        stage = {
            "code": f"stage_{'abc'[index]}",
            "name": f"第{index + 1}级",
            "approve_action": f"approve_{'abc'[index]}",
            "lanes": [{"role": r, "quorum": draw(st.sampled_from([1, 2, "all"]))} for r in roles],
        }
        if draw(st.booleans()):
            stage["when"] = {"amount_at_least": "1000000.00"}
        stages.append(stage)
    if all("when" in stage for stage in stages):
        del stages[-1]["when"]
    return {
        "code": "random",
        "name": "随机流程",
        "roles": [
            {"code": "role_a", "name": "甲", "scope": "global"},
            {"code": "role_b", "name": "乙", "scope": "global"},
        ],
        "stages": stages,
    }


# (who, what): who is a person's index; 0 is the drafter. What an approval approves is the
# text's stage at that moment. Approvals are most of what people do; a submit comes first.
steps = st.lists(
    st.tuples(
        st.integers(0, PEOPLE),
        st.sampled_from(["approve"] * 6 + ["submit", "return", "withdraw"]),
    ),
    min_size=1,
    max_size=20,
).map(lambda rest: [(0, "submit"), *rest])
# Each person's roles besides those everyone starts with: person i (1..3) holds ROLES[i - 1],
# so that every lane has holders; the drafter may hold review roles too (and be refused).
holdings = st.lists(
    st.lists(st.sampled_from(ROLES), max_size=3, unique=True),
    min_size=PEOPLE + 1,
    max_size=PEOPLE + 1,
).map(
    lambda held: [
        sorted(set(roles) | ({ROLES[i - 1]} if 1 <= i <= len(ROLES) else set()))
        for i, roles in enumerate(held)
    ]
)


class RoutingProperties(TestCase):
    @settings(
        max_examples=60,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(documents(), holdings, steps, st.sampled_from(AMOUNTS))
    def test_routing_keeps_its_promises(self, document, held, actions, amount):
        text, org, _people = self.play(document, held, actions, amount)

        event(f"ends {ProjectText.objects.get(pk=text.pk).state}")
        self.assert_approved_only_with_quorum(text, org)
        self.assert_separation_of_duties(text)
        self.assert_recusal_kept(text)
        assert audit.verify().ok

    @settings(
        max_examples=40,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(documents(), holdings, steps, st.sampled_from(AMOUNTS))
    def test_the_inbox_holds_exactly_the_texts_a_person_may_act_on(
        self, document, held, actions, amount
    ):
        text, _org, people = self.play(document, held, actions, amount)
        text = ProjectText.objects.get(pk=text.pk)

        # A draft waits for nobody (drafters find their drafts in the list); withdrawing is
        # the submitter's second thought, not something asked of them.
        not_waiting = {"withdraw", "submit"} if text.state == "draft" else {"withdraw"}
        approvers = self.approvers(text)
        for person in people:
            authority = Authority.of(person)
            offered = set(available_actions(authority, text)) - not_waiting
            if person.pk in approvers:
                # Their approval is given: they may still veto, but nothing is asked of them.
                offered -= {"return", "reject"}
            waiting = waiting_for(authority).filter(pk=text.pk).exists()
            assert waiting == bool(offered), (person.username, text.state, offered)
            # The inbox's form of the same filter (the user's shares loaded beforehand).
            listed = waiting_for(authority, shares=Shares.of(person)).filter(pk=text.pk)
            assert listed.exists() == waiting, (person.username, text.state)

    @settings(
        max_examples=30,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(documents(), holdings, steps, st.sampled_from(AMOUNTS))
    def test_a_locked_texts_visibility_agrees_with_the_list_filter(
        self, document, held, actions, amount
    ):
        text, _org, people = self.play(document, held, actions, amount)

        for person in people:
            authority = Authority.of(person)
            with transaction.atomic():
                seen = lock_text(authority, text.pk).visible
            listed = visible_texts(authority).filter(pk=text.pk).exists()
            assert seen == listed, (person.username, text.state)

    @staticmethod
    def approvers(text: ProjectText) -> set[int]:
        """Who approved the text's current revision, as actor or principal, by its records."""
        people: set[int] = set()
        for actor, principal in (
            Decision.objects.filter(text=text, revision__number=text.revision)
            .exclude(action__in=["return", "reject"])
            .values_list("actor_id", "on_behalf_of_id")
        ):
            people |= {actor, principal} - {None}
        return people

    def play(self, document, held, actions, amount):
        """Load the document, give the people their roles, and take the actions; each
        committed one writes exactly one audit event, each refused one none."""
        services.load_workflow(actor=None, source=document)
        org = Department.objects.create(code="org", name="组织部")
        people = [make_user(f"person{i}") for i in range(PEOPLE + 1)]
        services.grant_role(actor=None, user=people[0], role="drafter", department=org)
        for person, roles in zip(people, held, strict=True):
            for role in roles:
                department = org if role == "dept_reviewer" else None
                services.grant_role(actor=None, user=person, role=role, department=department)
        text = make_text(people[0], org, amount=amount)
        for who, what in actions:
            current = ProjectText.objects.get(pk=text.pk)
            action = what
            if what == "approve":
                route = Route.objects.filter(text=current).first()
                stage = machine_for(route.version_id).stage(current.state) if route else None
                action = stage.approve_action if stage else "approve_a"
            before = AuditEvent.objects.filter(outcome="ok").count()
            try:
                services.perform_action(
                    actor=people[who],
                    text_id=text.pk,
                    action=action,
                    version=current.version,
                    comment="理由" if action == "return" else "",
                )
            except WorkflowError:
                assert AuditEvent.objects.filter(outcome="ok").count() == before
                continue
            assert AuditEvent.objects.filter(outcome="ok").count() == before + 1
        return text, org, people

    def assert_approved_only_with_quorum(self, text: ProjectText, org: Department) -> None:
        text = ProjectText.objects.get(pk=text.pk)
        if text.state != "approved":
            return
        machine = machine_for(Route.objects.get(text=text).version_id)
        decisions = Decision.objects.filter(text=text, revision__number=text.revision)
        seen_elsewhere: set[int] = set()
        for stage in machine.stages:
            at_stage = decisions.filter(stage=stage.code, action=stage.approve_action)
            if not machine.applies(stage, Decimal(text.amount)):
                assert not at_stage.exists()
                continue
            principals = list(at_stage.values_list("on_behalf_of_id", "actor_id", "lane"))
            people = [(p or a, lane) for p, a, lane in principals]
            assert len({p for p, _lane in people}) == len(people), "someone counted twice"
            assert not {p for p, _lane in people} & seen_elsewhere, "two stages, one person"
            seen_elsewhere |= {p for p, _lane in people}
            eligible = holders([lane.role for lane in stage.lanes], org.pk)
            for lane in stage.lanes:
                in_lane = [p for p, role in people if role == lane.role]
                assert len(in_lane) >= (lane.quorum or 1), f"{stage.code}/{lane.role}"
                assert set(in_lane) <= eligible[lane.role], "an approval by a non-holder"

    def assert_recusal_kept(self, text: ProjectText) -> None:
        """The text's `recused` column names its authors and its current revision's
        approvers (actors and principals), as the records say."""
        text = ProjectText.objects.get(pk=text.pk)
        if not text.revision:
            return
        authors = set(text.authors.values_list("pk", flat=True))
        assert text.recused == recusal_column(authors | self.approvers(text))

    def assert_separation_of_duties(self, text: ProjectText) -> None:
        authors = set(text.authors.values_list("pk", flat=True))
        for actor, principal in Decision.objects.filter(text=text).values_list(
            "actor_id", "on_behalf_of_id"
        ):
            assert actor not in authors and principal not in authors
