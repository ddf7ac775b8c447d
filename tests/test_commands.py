"""The management commands (DESIGN.md, "Commands"): seed_demo, grant_role and revoke_role,
import_texts, verify_audit, run through django.core.management.call_command."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command

from submissions.importer import SECTIONS
from submissions.models import Department, DepartmentUserObjectPermission, ProjectText
from tests.factories import act, make_text, make_user
from workflow import audit
from workflow.exceptions import NotPermitted, NotVisible
from workflow.models import AuditEvent
from workflow.permissions import Authority
from workflow.selectors import text_history
from workflow.states import Administrator, Role, State

SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
DEMO_USERS = [
    "org_drafter",
    "org_reviewer",
    "edu_drafter",
    "edu_reviewer",
    "finance",
    "approver",
    "auditor",
    "admin",
    "security_admin",
    "audit_admin",
]
SECTION_NAMES = [name for name, _label in SECTIONS]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def fresh(text) -> ProjectText:
    return ProjectText.objects.get(pk=text.pk)


def role_events(action: str | None = None):
    events = AuditEvent.objects.filter(action__in=["grant_role", "revoke_role"]).order_by("id")
    return events.filter(action=action) if action else events


def database_counts() -> dict[str, int]:
    User = get_user_model()
    return {
        "users": User.objects.count(),
        "departments": Department.objects.count(),
        "texts": ProjectText.objects.count(),
        "audit events": AuditEvent.objects.count(),
        "groups": Group.objects.count(),
        "memberships": User.groups.through.objects.count(),
        "global grants": User.user_permissions.through.objects.count(),
        "department grants": DepartmentUserObjectPermission.objects.count(),
    }


def in_finance_review(cast, department: Department):
    drafter, reviewer = (
        (cast.org_drafter, cast.org_reviewer)
        if department == cast.org
        else (cast.edu_drafter, cast.edu_reviewer)
    )
    text = make_text(drafter, department)
    act(drafter, text, "submit")
    act(reviewer, text, "dept_approve")
    return fresh(text)


# --- seed_demo -------------------------------------------------------------------------------


@pytest.fixture
def demo_mode(settings) -> None:
    """seed_demo creates known passwords, so it runs only in a demo (DESIGN.md, "Commands")."""
    settings.DEMO_MODE = True


def test_seed_demo_refuses_outside_a_demo_saying_why_and_creates_nothing(db, settings):
    settings.DEBUG = False
    settings.DEMO_MODE = False
    before = database_counts()

    with pytest.raises(CommandError, match=r"DEMO_MODE=1.*DEBUG=1"):
        run("seed_demo")

    assert database_counts() == before


def test_seed_demo_runs_for_development_with_debug(db, settings):
    settings.DEBUG = True
    settings.DEMO_MODE = False

    run("seed_demo")

    assert get_user_model().objects.filter(username="admin", is_staff=True).exists()


def test_seed_demo_creates_the_two_departments(db, demo_mode):
    run("seed_demo")

    assert list(Department.objects.order_by("code").values_list("code", "name")) == [
        ("edu", "新平县教育体育局"),
        ("org", "中共新平彝族傣族自治县委员会组织部"),
    ]


def test_seed_demo_users_log_in_with_the_demo_password(db, demo_mode, settings):
    settings.DEMO_PASSWORD = "another-demo-pass-77"

    run("seed_demo")

    for username in DEMO_USERS:
        user = get_user_model().objects.get(username=username)
        assert user.check_password("another-demo-pass-77"), username
        assert not user.check_password("demo-pass-2025"), username


# 三员分立 (issue 11): the demo's admin is the system administrator, not a superuser.
def test_seed_demo_creates_its_administrators_through_the_audited_account_service(db, demo_mode):
    run("seed_demo")

    admin = get_user_model().objects.get(username="admin")
    [created] = AuditEvent.objects.filter(
        stream=audit.user_stream(admin.pk), action="create_account"
    )
    assert created.changes["is_staff"] == [None, True]
    assert created.changes["is_superuser"] == [None, False]
    assert created.actor_id is None  # the command line


def test_seed_demo_with_a_sample_file_it_cannot_read_says_so(db, demo_mode, settings, tmp_path):
    broken = tmp_path / "texts.txt"
    broken.write_text("不是项目文本", encoding="utf-8")
    settings.DEMO_TEXTS = broken

    with pytest.raises(CommandError, match=r"texts\.txt"):
        run("seed_demo")


def test_seed_demo_uses_demo_pass_2025_by_default(db, demo_mode, settings):
    # The setting's value when DEMO_PASSWORD is not in the environment.
    assert settings.DEMO_PASSWORD == "demo-pass-2025"

    run("seed_demo")

    assert get_user_model().objects.get(username="org_drafter").check_password("demo-pass-2025")


@pytest.mark.parametrize(
    ("username", "role", "everywhere", "departments"),
    [
        ("org_drafter", Role.DRAFTER, False, {"org"}),
        ("org_reviewer", Role.DEPT_REVIEWER, False, {"org"}),
        ("edu_drafter", Role.DRAFTER, False, {"edu"}),
        ("edu_reviewer", Role.DEPT_REVIEWER, False, {"edu"}),
        ("finance", Role.FINANCE_REVIEWER, True, set()),
        ("approver", Role.APPROVER, True, set()),
        ("auditor", Role.AUDITOR, True, set()),
    ],
)
def test_seed_demo_gives_each_user_their_role(
    db, demo_mode, username, role, everywhere, departments
):
    run("seed_demo")

    authority = Authority.of(get_user_model().objects.get(username=username))

    assert authority.roles == [role]
    scope = authority.scope(role)
    assert scope.everywhere is everywhere
    codes = set(
        Department.objects.filter(id__in=scope.department_ids).values_list("code", flat=True)
    )
    assert codes == departments


# 三员分立 (issue 11): once a superuser holding every role, admin is now one of three
# administrators, each holding their one role only.
@pytest.mark.parametrize(
    ("username", "role"),
    [
        ("admin", Administrator.SYSTEM),
        ("security_admin", Administrator.SECURITY),
        ("audit_admin", Administrator.AUDIT),
    ],
)
def test_seed_demo_makes_three_administrators_each_with_one_role(db, demo_mode, username, role):
    run("seed_demo")

    user = get_user_model().objects.get(username=username)

    assert user.is_staff and not user.is_superuser
    assert Authority.of(user).roles == [role]


def test_seed_demo_imports_the_sample_texts_as_org_drafts(db, demo_mode):
    run("seed_demo")

    texts = list(ProjectText.objects.order_by("id"))

    assert [(t.title, str(t.amount)) for t in texts] == [
        ("新平县村级组织换届工作经费", "1751800.00"),
        ("新平县委组织部党建工作经费", "1227700.00"),
    ]
    for text in texts:
        assert (text.state, text.department.code, text.fiscal_year) == ("draft", "org", 2025)
        assert text.created_by.username == "org_drafter"
        assert all(getattr(text, name).strip() for name in SECTION_NAMES)
        # imported from the sample, then given the tables the sample has no room for
        assert [e.action for e in text_history(text)] == ["create", "edit"]


def test_seed_demo_gives_the_sample_texts_a_breakdown_that_adds_up_and_targets(db, demo_mode):
    run("seed_demo")

    for text in ProjectText.objects.order_by("id"):
        assert text.indicators and text.milestones and text.project_code
        assert sum(Decimal(row["amount"]) for row in text.breakdown) == text.amount


def test_seed_demo_twice_changes_nothing(db, demo_mode):
    run("seed_demo")
    first = database_counts()
    passwords = dict(get_user_model().objects.values_list("username", "password"))

    run("seed_demo")

    assert database_counts() == first
    assert dict(get_user_model().objects.values_list("username", "password")) == passwords
    assert first["users"] == len(DEMO_USERS) and first["texts"] == 2


def test_seed_demo_leaves_work_in_progress_alone(db, demo_mode):
    run("seed_demo")
    drafter = get_user_model().objects.get(username="org_drafter")
    reviewer = get_user_model().objects.get(username="org_reviewer")
    text = ProjectText.objects.order_by("id").first()
    act(drafter, text, "submit")
    act(reviewer, text, "return", comment="请补充测算依据。")
    before = database_counts()

    run("seed_demo")

    assert database_counts() == before
    assert fresh(text).state == State.RETURNED


def test_seed_demo_leaves_the_audit_log_verifiable(db, demo_mode):
    run("seed_demo")
    run("seed_demo")

    result = audit.verify()

    assert (result.ok, result.first_bad) == (True, None)
    assert result.checked == AuditEvent.objects.count()


# --- grant_role and revoke_role --------------------------------------------------------------


def test_grant_role_finance_reviewer_covers_every_department(cast):
    newcomer = make_user("newcomer")
    org_text, edu_text = in_finance_review(cast, cast.org), in_finance_review(cast, cast.edu)

    output = run("grant_role", "newcomer", "finance_reviewer")

    assert "granted" in output
    for text in (org_text, edu_text):
        act(newcomer, text, "finance_approve")
        assert fresh(text).state == State.APPROVAL


def test_grant_role_dept_reviewer_for_one_department(cast):
    newcomer = make_user("newcomer")
    org_text = make_text(cast.org_drafter, cast.org)
    edu_text = make_text(cast.edu_drafter, cast.edu)
    act(cast.org_drafter, org_text, "submit")
    act(cast.edu_drafter, edu_text, "submit")

    run("grant_role", "newcomer", "dept_reviewer", "--department", "org")

    act(newcomer, org_text, "dept_approve")
    assert fresh(org_text).state == State.FINANCE_REVIEW
    with pytest.raises(NotVisible):
        act(newcomer, edu_text, "dept_approve")
    assert fresh(edu_text).state == State.DEPT_REVIEW


def test_grant_role_drafter_lets_the_user_create_texts_there(cast):
    newcomer = make_user("newcomer")

    run("grant_role", "newcomer", "drafter", "--department", "edu")

    text = make_text(newcomer, cast.edu)
    assert text.department == cast.edu
    with pytest.raises(NotPermitted):
        make_text(newcomer, cast.org)


@pytest.mark.parametrize("role", ["drafter", "dept_reviewer"])
def test_department_roles_need_a_department(cast, role):
    newcomer = make_user("newcomer")
    events = AuditEvent.objects.count()

    with pytest.raises(CommandError, match="部门"):
        run("grant_role", "newcomer", role)

    assert Authority.of(newcomer).roles == []
    assert not newcomer.groups.exists()
    assert AuditEvent.objects.count() == events


@pytest.mark.parametrize(
    "args",
    [
        ("grant_role", "nobody", "approver"),
        ("grant_role", "org_drafter", "emperor"),
        ("grant_role", "org_drafter", "dept_reviewer", "--department", "nowhere"),
        ("revoke_role", "nobody", "approver"),
        ("revoke_role", "org_reviewer", "emperor"),
        ("revoke_role", "org_reviewer", "dept_reviewer", "--department", "nowhere"),
    ],
    ids=[
        "grant-unknown-user",
        "grant-unknown-role",
        "grant-unknown-department",
        "revoke-unknown-user",
        "revoke-unknown-role",
        "revoke-unknown-department",
    ],
)
def test_unknown_user_role_or_department_is_an_error(cast, args):
    before = database_counts()

    with pytest.raises(CommandError):
        run(*args)

    assert database_counts() == before


def test_each_grant_is_audited(cast):
    newcomer = make_user("newcomer")
    before = list(role_events().values_list("id", flat=True))

    run("grant_role", "newcomer", "dept_reviewer", "--department", "edu")
    run("grant_role", "newcomer", "approver")

    events = list(role_events().exclude(id__in=before))
    assert [(e.action, e.outcome, e.department) for e in events] == [
        ("grant_role", "ok", "edu"),
        ("grant_role", "ok", ""),
    ]
    assert [e.detail for e in events] == [
        {"user": "newcomer", "role": "dept_reviewer"},
        {"user": "newcomer", "role": "approver"},
    ]
    assert {e.stream for e in events} == {audit.user_stream(newcomer.pk)}


def test_each_revoke_is_audited(cast):
    before = list(role_events().values_list("id", flat=True))

    output = run("revoke_role", "org_reviewer", "dept_reviewer", "--department", "org")

    assert "revoked" in output
    (event,) = role_events().exclude(id__in=before)
    assert (event.action, event.department, event.detail) == (
        "revoke_role",
        "org",
        {"user": "org_reviewer", "role": "dept_reviewer"},
    )


def test_granting_a_role_already_held_changes_and_records_nothing(cast):
    before = database_counts()

    output = run("grant_role", "finance", "finance_reviewer")

    assert "already" in output
    assert database_counts() == before


def test_revoking_a_role_not_held_changes_and_records_nothing(cast):
    before = database_counts()

    output = run("revoke_role", "org_drafter", "approver")

    assert "did not hold" in output
    assert database_counts() == before


def test_revoke_dept_reviewer_takes_away_seeing_and_acting(cast):
    text = make_text(cast.org_drafter, cast.org)
    act(cast.org_drafter, text, "submit")

    run("revoke_role", "org_reviewer", "dept_reviewer", "--department", "org")

    assert Authority.of(cast.org_reviewer).roles == []
    with pytest.raises(NotVisible):
        act(cast.org_reviewer, text, "dept_approve")
    assert fresh(text).state == State.DEPT_REVIEW


def test_revoke_finance_reviewer_takes_away_seeing_and_acting(cast):
    text = in_finance_review(cast, cast.org)

    run("revoke_role", "finance", "finance_reviewer")

    with pytest.raises(NotVisible):
        act(cast.finance, text, "finance_approve")
    assert fresh(text).state == State.FINANCE_REVIEW
    assert not cast.finance.groups.filter(name="finance_reviewer").exists()


def test_revoking_one_department_keeps_the_role_for_the_other(cast):
    run("grant_role", "org_reviewer", "dept_reviewer", "--department", "edu")
    org_text = make_text(cast.org_drafter, cast.org)
    edu_text = make_text(cast.edu_drafter, cast.edu)
    act(cast.org_drafter, org_text, "submit")
    act(cast.edu_drafter, edu_text, "submit")

    run("revoke_role", "org_reviewer", "dept_reviewer", "--department", "org")

    act(cast.org_reviewer, edu_text, "dept_approve")
    assert fresh(edu_text).state == State.FINANCE_REVIEW
    with pytest.raises(NotVisible):
        act(cast.org_reviewer, org_text, "dept_approve")


# --- import_texts ----------------------------------------------------------------------------


def test_import_texts_creates_the_files_texts_as_drafts(cast):
    output = run("import_texts", str(SAMPLE), "--user", "org_drafter")

    texts = list(ProjectText.objects.order_by("id"))
    assert [(t.title, str(t.amount), t.state) for t in texts] == [
        ("新平县村级组织换届工作经费", "1751800.00", "draft"),
        ("新平县委组织部党建工作经费", "1227700.00", "draft"),
    ]
    assert {(t.department, t.created_by) for t in texts} == {(cast.org, cast.org_drafter)}
    assert output.count("created #") == 2


def test_import_texts_of_a_malformed_file_names_the_line_and_creates_nothing(cast, tmp_path):
    lines = SAMPLE.read_text(encoding="utf-8").split("\n")
    lines[29] = ""  # line 30: the second text's 一、项目名称 left empty
    broken = tmp_path / "broken.txt"
    broken.write_text("\n".join(lines), encoding="utf-8")

    with pytest.raises(CommandError, match="第29行"):
        run("import_texts", str(broken), "--user", "org_drafter")

    assert ProjectText.objects.count() == 0


def test_import_texts_for_a_department_the_user_does_not_draft_for_is_an_error(cast):
    with pytest.raises(CommandError, match="第1行"):
        run("import_texts", str(SAMPLE), "--user", "edu_drafter")

    assert ProjectText.objects.count() == 0


@pytest.mark.parametrize(
    ("file", "user"),
    [(str(SAMPLE), "nobody"), ("/nonexistent/texts.txt", "org_drafter")],
    ids=["unknown-user", "missing-file"],
)
def test_import_texts_with_a_bad_argument_is_an_error(cast, file, user):
    with pytest.raises(CommandError):
        run("import_texts", file, "--user", user)

    assert ProjectText.objects.count() == 0


# --- verify_audit ----------------------------------------------------------------------------


def test_verify_audit_passes_an_intact_log(cast):
    text = make_text(cast.org_drafter, cast.org)
    act(cast.org_drafter, text, "submit")
    with pytest.raises(NotPermitted):
        act(cast.org_drafter, text, "dept_approve")  # a refused attempt is chained too

    output = run("verify_audit")

    assert "OK" in output
    assert f"{AuditEvent.objects.count()} events" in output


def test_verify_audit_names_an_event_appended_outside_the_service(cast):
    text = make_text(cast.org_drafter, cast.org)
    last = AuditEvent.objects.filter(text=text).order_by("-seq").first()
    forged = AuditEvent.objects.create(
        stream=last.stream,
        seq=last.seq + 1,
        at=last.at,
        actor=cast.admin,
        actor_name="admin",
        action="approve",
        text=text,
        department="org",
        from_state="draft",
        to_state="approved",
        prev_hash="f" * 64,
        hash="e" * 64,
    )

    with pytest.raises(CommandError, match=f"#{forged.pk}"):
        run("verify_audit")
