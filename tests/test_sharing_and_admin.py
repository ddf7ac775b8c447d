"""Per-text grants (guardian) and role grants made in the Django admin."""

import pytest
from django.core.management import call_command

from submissions.models import DepartmentUserObjectPermission
from tests.factories import act, make_user
from workflow.exceptions import NotPermitted
from workflow.models import AuditEvent
from workflow.permissions import Authority
from workflow.services import edit_text, grant_role, grant_text_access
from workflow.states import Action, Role, State


def test_a_co_drafter_granted_change_on_one_text_may_edit_and_submit_it(cast, api):
    text = cast.text()
    colleague = make_user("colleague")
    assert api(colleague).get(f"/api/v1/texts/{text.pk}/").status_code == 404

    grant_text_access(actor=cast.org_drafter, user=colleague, text_id=text.pk, access="change")

    client = api(colleague)
    assert client.get(f"/api/v1/texts/{text.pk}/").json()["available_actions"] == ["submit"]
    edited = client.patch(
        f"/api/v1/texts/{text.pk}/", {"version": text.version, "plan": "改"}, format="json"
    )
    assert edited.status_code == 200
    submitted = client.post(
        f"/api/v1/texts/{text.pk}/actions/submit/",
        {"version": edited.json()["version"]},
        format="json",
    )
    assert submitted.json()["state"] == State.DEPT_REVIEW


def test_a_co_drafter_sees_only_the_text_shared_with_them(cast, api):
    shared, other = cast.text(), cast.text(title="另一个项目")
    colleague = make_user("colleague")
    grant_text_access(actor=cast.org_drafter, user=colleague, text_id=shared.pk, access="view")

    ids = [t["id"] for t in api(colleague).get("/api/v1/texts/").json()["results"]]

    assert ids == [shared.pk]
    assert other.pk not in ids


def test_a_co_drafter_may_not_review_the_text_they_edited(cast):
    # Another reviewer of org: the stage stays reachable without the co-drafter.
    make_user("org_reviewer_2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text()
    grant_text_access(
        actor=cast.org_drafter, user=cast.org_reviewer, text_id=text.pk, access="change"
    )
    edit_text(actor=cast.org_reviewer, text_id=text.pk, version=text.version, data={"plan": "x"})
    act(cast.org_drafter, text, Action.SUBMIT)

    with pytest.raises(NotPermitted):
        act(cast.org_reviewer, text, Action.DEPT_APPROVE)


def test_only_a_drafter_of_the_department_may_share_a_text(cast):
    text = cast.text()
    with pytest.raises(NotPermitted):
        grant_text_access(
            actor=cast.org_reviewer, user=cast.edu_drafter, text_id=text.pk, access="view"
        )


def test_sharing_a_text_is_audited_on_its_stream(cast):
    text = cast.text()
    colleague = make_user("colleague")
    call_command("share_text", str(text.pk), "colleague", "--access", "change")
    call_command("share_text", str(text.pk), "colleague", "--access", "change", "--revoke")

    actions = list(
        AuditEvent.objects.filter(text=text).order_by("seq").values_list("action", "detail")
    )
    assert actions[-2:] == [
        ("grant_text_access", {"user": colleague.username, "access": "change"}),
        ("revoke_text_access", {"user": colleague.username, "access": "change"}),
    ]


ADMIN_GRANTS = "/admin/submissions/departmentuserobjectpermission/"


# 三员分立 (issue 11): role grants are the security administrator's, no longer the superuser's.
def test_a_role_granted_in_the_admin_is_held_and_audited(cast, client, security_admin):
    newcomer = make_user("newcomer")
    client.force_login(security_admin)

    response = client.post(
        ADMIN_GRANTS + "add/",
        {"user": newcomer.pk, "role": Role.DEPT_REVIEWER.value, "department": cast.edu.pk},
    )

    assert response.status_code == 302
    assert Authority.of(newcomer).holds(Role.DEPT_REVIEWER, cast.edu.pk)
    event = AuditEvent.objects.filter(action="grant_role").latest("id")
    assert (event.actor, event.department, event.detail) == (
        security_admin,
        "edu",
        {"user": "newcomer", "role": "dept_reviewer"},
    )


def test_a_role_revoked_in_the_admin_is_gone_and_audited(cast, client, security_admin):
    grant = DepartmentUserObjectPermission.objects.get(user=cast.org_reviewer)
    client.force_login(security_admin)

    response = client.post(ADMIN_GRANTS + f"{grant.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Authority.of(cast.org_reviewer).holds(Role.DEPT_REVIEWER, cast.org.pk)
    assert AuditEvent.objects.filter(action="revoke_role", actor=security_admin).count() == 1


def test_the_admin_lists_role_grants(cast, client, security_admin):
    client.force_login(security_admin)
    page = client.get(ADMIN_GRANTS)
    assert page.status_code == 200
    assert "org_reviewer" in page.content.decode()


def test_a_role_grant_by_a_non_administrator_is_refused_and_recorded(cast):
    with pytest.raises(NotPermitted):
        grant_role(actor=cast.org_reviewer, user=cast.org_drafter, role=Role.APPROVER)

    assert not Authority.of(cast.org_drafter).scope(Role.APPROVER)
    event = AuditEvent.objects.filter(action="grant_role").latest("id")
    assert (event.actor, event.outcome, event.detail["role"]) == (
        cast.org_reviewer,
        "refused",
        "approver",
    )


def test_the_admin_shows_the_outbox_notifications_and_deadlines(cast, client):
    cast.text_in("dept_review")
    client.force_login(cast.admin)
    for page in (
        "workflow/outboxmessage",
        "notifications/notification",
        "workflow/stagevisit",
        "notifications/preference",
    ):
        assert client.get(f"/admin/{page}/").status_code == 200
