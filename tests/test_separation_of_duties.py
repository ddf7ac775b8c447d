"""三员分立 (issue 11): the system administrator manages accounts and departments, the
security administrator grants and revokes roles, the audit administrator reads the audit log;
none can do another's job or act on texts, nobody holds two of the roles, and the superuser
flag makes nobody any of them. Services, admin pages, API, pages and commands alike."""

from datetime import timedelta
from itertools import permutations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import DatabaseError, transaction
from django.utils import timezone

from tests.factories import make_user, sign_in_with_code
from tests.routing import DOCUMENTS
from workflow import audit, services
from workflow.admin import AdministeredBy
from workflow.exceptions import InvalidInput, NotPermitted, NotVisible
from workflow.models import AuditEvent, Delegation, WorkflowVersion
from workflow.permissions import Authority
from workflow.selectors import audit_events
from workflow.selectors.audit import search_events
from workflow.states import Administrator, Role

User = get_user_model()
API = "/api/v1"
COUNTY = (DOCUMENTS / "county.yaml").read_text(encoding="utf-8")


@pytest.fixture
def trio(cast, security_admin, audit_admin):
    """The three administrators, by the role each holds."""
    return {
        Administrator.SYSTEM: cast.admin,
        Administrator.SECURITY: security_admin,
        Administrator.AUDIT: audit_admin,
    }


@pytest.fixture
def superuser(cast):
    """Django's superuser flag and staff, and none of the three roles."""
    return make_user("root", is_superuser=True, is_staff=True)


def refused_events(user, action: str) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(
            stream=audit.user_stream(user.pk), action=action, outcome="refused"
        ).order_by("seq")
    )


# --- Nobody holds two ----------------------------------------------------------------------


@pytest.mark.parametrize(("held", "second"), list(permutations(Administrator, 2)))
def test_nobody_is_given_a_second_administrator_role(cast, held, second):
    person = make_user("person", held, is_staff=True)

    with pytest.raises(NotPermitted) as refused:
        services.grant_role(actor=None, user=person, role=second)

    assert refused.value.reason == "administrator_holds_one_role"
    assert Authority.of(person).roles == [held]
    [event] = refused_events(person, "grant_role")
    assert event.detail["refusal"] == "administrator_holds_one_role"
    assert event.detail["role"] == second
    assert audit.verify().ok


def test_the_security_administrator_cannot_make_themself_another_administrator(security_admin):
    with pytest.raises(NotPermitted):
        services.grant_role(actor=security_admin, user=security_admin, role=Administrator.AUDIT)

    assert Authority.of(security_admin).roles == [Administrator.SECURITY]
    [event] = refused_events(security_admin, "grant_role")
    assert event.actor == security_admin


def test_an_administrator_is_given_no_workflow_role(trio):
    with pytest.raises(NotPermitted):
        services.grant_role(actor=None, user=trio[Administrator.SYSTEM], role=Role.APPROVER)

    assert Authority.of(trio[Administrator.SYSTEM]).roles == [Administrator.SYSTEM]


def test_someone_with_a_workflow_role_is_made_no_administrator(cast):
    with pytest.raises(NotPermitted):
        services.grant_role(actor=None, user=cast.auditor, role=Administrator.AUDIT)

    assert Authority.of(cast.auditor).roles == [Role.AUDITOR]
    [event] = refused_events(cast.auditor, "grant_role")
    assert event.detail["params"]["held"] == [Role.AUDITOR]


def test_the_refusal_names_the_role_held_and_the_one_refused(cast):
    with pytest.raises(NotPermitted) as refused:
        services.grant_role(actor=None, user=cast.admin, role=Administrator.AUDIT)

    assert "系统管理员" in refused.value.message
    assert "审计管理员" in refused.value.message


def test_grant_role_on_the_command_line_refuses_a_second_administrator_role(cast):
    with pytest.raises(CommandError, match="三员分立"):
        call_command("grant_role", "admin", "security_admin")

    assert Authority.of(cast.admin).roles == [Administrator.SYSTEM]


def test_an_administrator_role_is_not_granted_for_one_department(cast):
    newcomer = make_user("newcomer")

    with pytest.raises(InvalidInput) as refused:
        services.grant_role(
            actor=None, user=newcomer, role=Administrator.SYSTEM, department=cast.org
        )

    assert "department" in refused.value.errors
    assert Authority.of(newcomer).roles == []


def test_a_superuser_holds_none_of_the_three_roles(superuser):
    assert Authority.of(superuser).roles == []
    assert Authority.of(superuser).administrator is None


# --- Grants and revokes of the three roles are audited -------------------------------------


def test_the_command_line_bootstraps_an_administrator_and_the_grant_is_audited(cast):
    newcomer = make_user("newcomer", is_staff=True)

    call_command("grant_role", "newcomer", "security_admin")

    assert Authority.of(newcomer).administrator == Administrator.SECURITY
    event = AuditEvent.objects.filter(stream=audit.user_stream(newcomer.pk)).latest("seq")
    assert (event.action, event.outcome, event.detail) == (
        "grant_role",
        "ok",
        {"user": "newcomer", "role": "security_admin"},
    )


def test_the_security_administrator_revokes_an_administrator_role_audited(security_admin):
    other = make_user("other_auditor", Administrator.AUDIT, is_staff=True)

    assert services.revoke_role(actor=security_admin, user=other, role=Administrator.AUDIT)

    assert Authority.of(other).roles == []
    event = AuditEvent.objects.filter(stream=audit.user_stream(other.pk)).latest("seq")
    assert (event.action, event.actor) == ("revoke_role", security_admin)


# --- Roles: the security administrator's alone ---------------------------------------------


def test_the_security_administrator_grants_a_role(cast, security_admin):
    newcomer = make_user("newcomer")

    services.grant_role(actor=security_admin, user=newcomer, role=Role.APPROVER)

    assert Authority.of(newcomer).roles == [Role.APPROVER]


@pytest.mark.parametrize("who", [Administrator.SYSTEM, Administrator.AUDIT])
def test_the_other_administrators_cannot_grant_roles(trio, who):
    newcomer = make_user("newcomer")

    with pytest.raises(NotPermitted) as refused:
        services.grant_role(actor=trio[who], user=newcomer, role=Role.APPROVER)

    assert refused.value.reason == "admin_only_roles"
    assert Authority.of(newcomer).roles == []
    [event] = refused_events(newcomer, "grant_role")
    assert event.actor == trio[who]


@pytest.mark.parametrize("who", [Administrator.SYSTEM, Administrator.AUDIT])
def test_the_other_administrators_cannot_revoke_roles(trio, cast, who):
    with pytest.raises(NotPermitted):
        services.revoke_role(actor=trio[who], user=cast.finance, role=Role.FINANCE_REVIEWER)

    assert Authority.of(cast.finance).roles == [Role.FINANCE_REVIEWER]


def test_a_superuser_cannot_grant_roles(superuser):
    newcomer = make_user("newcomer")

    with pytest.raises(NotPermitted):
        services.grant_role(actor=superuser, user=newcomer, role=Role.APPROVER)


# --- Accounts: the system administrator's alone --------------------------------------------


def test_the_system_administrator_deactivates_an_account(cast):
    assert services.change_account(
        actor=cast.admin, user_id=cast.org_drafter.pk, changes={"is_active": False}
    )

    assert User.objects.get(pk=cast.org_drafter.pk).is_active is False


@pytest.mark.parametrize("who", [Administrator.SECURITY, Administrator.AUDIT])
def test_the_other_administrators_cannot_change_an_account(trio, cast, who):
    with pytest.raises(NotPermitted) as refused:
        services.change_account(
            actor=trio[who], user_id=cast.org_drafter.pk, changes={"first_name": "新名"}
        )

    assert refused.value.reason == "admin_only_accounts"
    assert User.objects.get(pk=cast.org_drafter.pk).first_name == ""
    [event] = refused_events(cast.org_drafter, "change_account")
    assert (event.actor, event.detail["fields"]) == (trio[who], ["first_name"])


@pytest.mark.parametrize("who", [Administrator.SECURITY, Administrator.AUDIT])
def test_the_other_administrators_cannot_create_an_account(trio, who):
    newcomer = User(username="newcomer")
    newcomer.set_password("A-long-pass-2025")

    with pytest.raises(NotPermitted):
        services.create_account(actor=trio[who], user=newcomer)

    assert not User.objects.filter(username="newcomer").exists()


def test_a_superuser_cannot_change_an_account(superuser, cast):
    with pytest.raises(NotPermitted):
        services.change_account(
            actor=superuser, user_id=cast.org_drafter.pk, changes={"is_active": False}
        )

    assert User.objects.get(pk=cast.org_drafter.pk).is_active is True


# --- Workflow versions: the system administrator publishes ---------------------------------


@pytest.mark.parametrize("who", [Administrator.SECURITY, Administrator.AUDIT])
def test_only_the_system_administrator_publishes_a_workflow_version(trio, who):
    with pytest.raises(NotPermitted):
        services.load_workflow(actor=trio[who], source=COUNTY)

    version = services.load_workflow(actor=trio[Administrator.SYSTEM], source=COUNTY)

    assert version.number == 2


# --- The audit log: the audit administrator (and auditors) read it -------------------------


@pytest.mark.parametrize("who", [Administrator.SYSTEM, Administrator.SECURITY])
def test_the_other_administrators_cannot_read_the_audit_log(trio, who):
    authority = Authority.of(trio[who])

    with pytest.raises(NotPermitted):
        audit_events(authority, {})
    with pytest.raises(NotPermitted):
        search_events(authority, {})


@pytest.mark.parametrize(
    "path", ["/audit/events/", "/audit/export.csv", "/audit/verify/"], ids=["events", "csv", "v"]
)
@pytest.mark.parametrize("who", [Administrator.SYSTEM, Administrator.SECURITY])
def test_the_audit_api_refuses_the_other_administrators(api, trio, who, path):
    assert api(trio[who]).get(API + path).status_code == 403


@pytest.mark.parametrize("who", [Administrator.SYSTEM, Administrator.SECURITY])
def test_the_audit_page_refuses_the_other_administrators(client, trio, who):
    client.force_login(trio[who])

    assert client.get("/audit/").status_code == 403


def test_the_superuser_flag_alone_reads_no_audit_log(api, client, superuser):
    assert api(superuser).get(API + "/audit/events/").status_code == 403
    assert api(superuser).get(API + "/audit/verify/").status_code == 403
    sign_in_with_code(client, superuser)
    assert client.get("/audit/").status_code == 403
    with pytest.raises(NotPermitted):
        audit_events(Authority.of(superuser), {})


def test_the_audit_administrator_reads_the_audit_api(api, audit_admin, cast):
    cast.text_in("dept_review")

    response = api(audit_admin).get(API + "/audit/events/", {"action": "submit"})

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_the_audit_administrator_sees_the_other_two_administrators_acts(api, client, trio):
    system, security = trio[Administrator.SYSTEM], trio[Administrator.SECURITY]
    newcomer = User(username="newcomer")
    newcomer.set_password("A-long-pass-2025")
    services.create_account(actor=system, user=newcomer)
    services.grant_role(actor=security, user=newcomer, role=Role.APPROVER)
    reader = api(trio[Administrator.AUDIT])

    by_system = reader.get(API + "/audit/events/", {"actor": "admin"}).json()["results"]
    by_security = reader.get(API + "/audit/events/", {"actor": "security_admin"}).json()

    assert [e["action"] for e in by_system] == ["create_account"]
    assert [e["action"] for e in by_security["results"]] == ["grant_role"]
    client.force_login(trio[Administrator.AUDIT])
    page = client.get("/audit/", {"actor": "security_admin"})
    assert page.status_code == 200
    assert [row.event.action for row in page.context["rows"]] == ["grant_role"]


def test_the_audit_administrator_is_offered_the_audit_page_and_no_inbox(client, audit_admin):
    client.force_login(audit_admin)

    html = client.get("/").content.decode()

    assert 'href="/audit/"' in html
    assert 'href="/inbox/"' not in html


# --- No administrator acts on texts -------------------------------------------------------


@pytest.mark.parametrize("who", list(Administrator))
def test_an_administrator_sees_no_texts(api, trio, cast, who):
    cast.text_in("dept_review")

    response = api(trio[who]).get(API + "/texts/")

    assert response.json()["count"] == 0


def test_the_superuser_flag_alone_sees_and_acts_on_no_text(api, superuser, cast):
    text = cast.text_in("dept_review")
    client = api(superuser)

    assert client.get(API + "/texts/").json()["count"] == 0
    response = client.post(
        f"{API}/texts/{text.pk}/actions/dept_approve/", {"version": text.version}, format="json"
    )
    assert response.status_code == 404


@pytest.mark.parametrize("who", list(Administrator))
def test_an_administrator_given_a_text_to_share_still_cannot_edit_or_submit_it(trio, cast, who):
    text = cast.text()
    call_command("share_text", str(text.pk), trio[who].username, "--access", "change")

    with pytest.raises(NotPermitted) as refused:
        services.perform_action(
            actor=trio[who], text_id=text.pk, action="submit", version=text.version
        )

    assert refused.value.reason == "administrators_do_not_act"
    with pytest.raises(NotPermitted):
        services.edit_text(
            actor=trio[who], text_id=text.pk, version=text.version, data={"title": "改"}
        )


def test_a_superuser_given_a_text_to_share_edits_it_like_anyone_given_it(cast, superuser):
    text = cast.text()
    call_command("share_text", str(text.pk), superuser.username, "--access", "change")
    other = cast.text(title="另一个")

    services.edit_text(actor=superuser, text_id=text.pk, version=text.version, data={"plan": "改"})

    with pytest.raises((NotPermitted, NotVisible)):
        services.edit_text(
            actor=superuser, text_id=other.pk, version=other.version, data={"plan": "改"}
        )


def test_nobody_delegates_to_an_administrator(cast, trio):
    today = timezone.localdate()

    with pytest.raises(InvalidInput) as refused:
        services.give_delegation(
            actor=cast.approver,
            to=trio[Administrator.SYSTEM].username,
            starts=today,
            ends=today + timedelta(days=2),
            reason="出差",
        )

    assert "to" in refused.value.errors
    assert not Delegation.objects.exists()


def test_the_security_administrator_revokes_someone_elses_delegation(cast, trio):
    make_user("deputy")
    today = timezone.localdate()
    given = services.give_delegation(
        actor=cast.approver, to="deputy", starts=today, ends=today, reason="出差"
    )

    with pytest.raises(NotVisible):
        services.revoke_delegation(actor=trio[Administrator.SYSTEM], delegation_id=given.pk)
    services.revoke_delegation(actor=trio[Administrator.SECURITY], delegation_id=given.pk)

    assert Delegation.objects.get(pk=given.pk).revoked_by == trio[Administrator.SECURITY]


# --- The admin site enforces it ------------------------------------------------------------

USERS = "/admin/auth/user/"
DEPARTMENTS = "/admin/submissions/department/"
GRANTS = "/admin/submissions/departmentuserobjectpermission/"
VERSIONS = "/admin/workflow/workflowversion/"
DELEGATIONS = "/admin/workflow/delegation/"
OUTBOX = "/admin/workflow/outboxmessage/"
LOCKOUTS = "/admin/axes/accessattempt/"
SIGN_IN_LOG = "/admin/axes/accesslog/"
PAGES = [USERS, DEPARTMENTS, GRANTS, VERSIONS, DELEGATIONS, OUTBOX, LOCKOUTS, SIGN_IN_LOG]
WHOSE = {
    Administrator.SYSTEM: {USERS, DEPARTMENTS, VERSIONS, OUTBOX, LOCKOUTS},
    Administrator.SECURITY: {GRANTS, DELEGATIONS},
    Administrator.AUDIT: {SIGN_IN_LOG},
}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("who", list(Administrator))
def test_each_admin_page_opens_to_its_administrator_only(client, trio, who, page):
    client.force_login(trio[who])

    status = client.get(page).status_code

    assert status == (200 if page in WHOSE[who] else 403)


@pytest.mark.parametrize("page", PAGES)
def test_the_superuser_flag_alone_opens_no_admin_page(client, superuser, page):
    sign_in_with_code(client, superuser)

    assert client.get(page).status_code == 403


def test_the_admin_index_lists_only_the_administrators_own_pages(client, trio):
    client.force_login(trio[Administrator.SECURITY])

    html = client.get("/admin/").content.decode()

    assert GRANTS in html and DELEGATIONS in html
    assert USERS not in html and DEPARTMENTS not in html and VERSIONS not in html


def test_the_security_administrator_cannot_edit_a_user_in_the_admin(client, trio, cast):
    client.force_login(trio[Administrator.SECURITY])

    response = client.post(
        f"{USERS}{cast.org_drafter.pk}/change/",
        {"username": "org_drafter", "first_name": "新名", "is_active": "on"},
    )

    assert response.status_code == 403
    assert User.objects.get(pk=cast.org_drafter.pk).first_name == ""


def test_the_system_administrator_cannot_grant_a_role_in_the_admin(client, trio, cast):
    newcomer = make_user("newcomer")
    client.force_login(trio[Administrator.SYSTEM])

    response = client.post(GRANTS + "add/", {"user": newcomer.pk, "role": Role.APPROVER.value})

    assert response.status_code == 403
    assert Authority.of(newcomer).roles == []


def test_the_security_administrator_grants_in_the_admin_a_role_only_once_per_person(
    client, trio, cast
):
    client.force_login(trio[Administrator.SECURITY])

    client.post(GRANTS + "add/", {"user": cast.admin.pk, "role": Administrator.AUDIT.value})

    assert Authority.of(cast.admin).roles == [Administrator.SYSTEM]
    assert refused_events(cast.admin, "grant_role")


def test_only_the_system_administrator_publishes_in_the_admin(client, trio):
    client.force_login(trio[Administrator.SECURITY])
    assert client.post(VERSIONS + "publish/", {"document": COUNTY}).status_code == 403
    client.force_login(trio[Administrator.SYSTEM])
    assert client.post(VERSIONS + "publish/", {"document": COUNTY}).status_code == 302
    assert WorkflowVersion.objects.count() == 2


def test_every_admin_page_belongs_to_one_administrator():
    # A page an installed app registers later would otherwise open to any superuser.
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, AdministeredBy), model._meta.label
        assert model_admin.administrator in Administrator.values, model._meta.label


@pytest.mark.parametrize(
    ("held", "second"),
    [("system_admin", "audit_admin"), ("auditor", "audit_admin"), ("audit_admin", "drafter")],
)
def test_the_database_refuses_a_second_group_for_an_administrator_written_around_the_service(
    cast, held, second
):
    person = make_user("person")
    person.groups.add(Group.objects.get_or_create(name=held)[0])
    joined = Group.objects.get_or_create(name=second)[0]

    with pytest.raises(DatabaseError), transaction.atomic():
        person.groups.add(joined)

    assert list(person.groups.values_list("name", flat=True)) == [held]


def test_the_database_lets_someone_hold_several_workflow_roles(cast):
    person = make_user("person", Role.DRAFTER, cast.org)

    services.grant_role(actor=None, user=person, role=Role.DEPT_REVIEWER, department=cast.edu)

    assert sorted(Authority.of(person).roles) == [Role.DEPT_REVIEWER, Role.DRAFTER]
