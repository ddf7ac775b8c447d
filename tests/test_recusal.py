"""A text records who may not review its current revision (回避, issue 12): its authors and
whoever approved it already, for themselves or for whom they acted. The service keeps it in
the action's transaction, so that the inbox's separation of duties is a test of the text's
own row; a migration filled it for texts submitted before."""

import importlib

from django.apps import apps
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act, make_user
from tests.routing import at_finance, county_people, post_action
from workflow.permissions import Authority
from workflow.policy import recusal_column
from workflow.selectors.texts import inbox
from workflow.services import give_delegation

fill = importlib.import_module("workflow.migrations.0021_fill_in_who_is_recused").fill


def recused(text: ProjectText) -> str:
    return ProjectText.objects.values_list("recused", flat=True).get(pk=text.pk)


def people(*users) -> str:
    return recusal_column(user.pk for user in users)


def waits_for(user, text: ProjectText) -> bool:
    return inbox(Authority.of(user)).filter(pk=text.pk).exists()


def test_a_submitted_text_recuses_its_author(cast):
    text = cast.text_in("dept_review")

    assert recused(text) == people(cast.org_drafter)


def test_each_approval_recuses_its_approver_for_the_rest_of_the_revision(cast):
    text = cast.text_in("approval")

    assert recused(text) == people(cast.org_drafter, cast.org_reviewer, cast.finance)


def test_a_return_recuses_nobody_more(cast):
    text = cast.text_in("finance_review")
    act(cast.finance, text, "return", comment="测算依据不足")

    assert recused(text) == people(cast.org_drafter, cast.org_reviewer)


def test_a_new_revision_recuses_only_its_authors(cast):
    text = cast.text_in("finance_review")
    act(cast.finance, text, "return", comment="测算依据不足")
    act(cast.org_drafter, text, "submit")

    assert recused(text) == people(cast.org_drafter)


def test_an_approval_that_leaves_the_text_at_its_stage_recuses_its_approver(cast):
    # The county's finance stage has two lanes: the finance approval alone does not end it.
    performance = county_people(cast)["performance"]
    text = at_finance(cast)
    act(cast.finance, text, "finance_approve")

    assert ProjectText.objects.get(pk=text.pk).state == "finance_review"
    assert recused(text) == people(cast.org_drafter, cast.org_reviewer, cast.finance)
    assert (waits_for(cast.finance, text), waits_for(performance, text)) == (False, True)


def test_a_delegates_approval_recuses_the_delegate_and_whom_they_acted_for(cast, api):
    deputy, today = make_user("deputy"), timezone.localdate()
    give_delegation(actor=cast.approver, to="deputy", starts=today, ends=today, reason="出差")
    text = cast.text_in("approval")

    assert post_action(api, deputy, text, "approve", comment="同意").status_code == 200

    assert recused(text) == people(
        cast.org_drafter, cast.org_reviewer, cast.finance, cast.approver, deputy
    )


def test_one_person_is_not_taken_for_another_whose_id_contains_theirs():
    assert ",17," not in recusal_column([170, 217])
    assert ",17," in recusal_column([170, 17])


def test_the_migration_fills_it_as_the_service_keeps_it(cast):
    texts = [cast.text_in(state) for state in ("dept_review", "approval", "returned")]
    resubmitted = cast.text_in("finance_review")
    act(cast.finance, resubmitted, "return", comment="测算依据不足")
    act(cast.org_drafter, resubmitted, "submit")
    texts += [resubmitted, cast.text()]
    kept = [recused(text) for text in texts]
    ProjectText.objects.update(recused="")

    fill(apps, None)

    assert [recused(text) for text in texts] == kept
