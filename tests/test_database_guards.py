"""The database itself refuses what the workflow service would never do, on PostgreSQL
(django-pgtrigger) and on SQLite (its own triggers) alike."""

import pytest
from django.db import DatabaseError, transaction

from submissions.models import ProjectText, Revision
from tests.factories import act
from workflow.models import Decision
from workflow.states import Action, State


def test_a_state_change_the_machine_does_not_allow_is_refused_even_by_update(cast):
    text = cast.text()
    with pytest.raises(DatabaseError), transaction.atomic():
        ProjectText.objects.filter(pk=text.pk).update(state=State.APPROVED)
    assert ProjectText.objects.get(pk=text.pk).state == State.DRAFT


def test_an_allowed_state_change_by_update_is_not_refused(cast):
    # The trigger encodes the machine, not "never": its own transitions pass.
    text = cast.text()
    ProjectText.objects.filter(pk=text.pk).update(state=State.DEPT_REVIEW)
    assert ProjectText.objects.get(pk=text.pk).state == State.DEPT_REVIEW


def test_a_frozen_revision_cannot_be_changed_or_deleted(cast):
    text = cast.text()
    act(cast.org_drafter, text, Action.SUBMIT)
    revision = Revision.objects.get(text=text)

    with pytest.raises(DatabaseError), transaction.atomic():
        Revision.objects.filter(pk=revision.pk).update(amount="1.00")
    with pytest.raises(DatabaseError), transaction.atomic():
        Revision.objects.filter(pk=revision.pk).delete()

    assert Revision.objects.get(pk=revision.pk).amount == text.amount


def test_a_decision_cannot_be_changed_or_deleted(cast):
    text = cast.text()
    act(cast.org_drafter, text, Action.SUBMIT)
    act(cast.org_reviewer, text, Action.RETURN, comment="金额有误")
    decision = Decision.objects.get(text=text)

    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).update(comment="没问题")
    with pytest.raises(DatabaseError), transaction.atomic():
        Decision.objects.filter(pk=decision.pk).delete()

    assert Decision.objects.get(pk=decision.pk).comment == "金额有误"
