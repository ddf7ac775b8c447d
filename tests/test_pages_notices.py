"""Notices (issue 9): acting on a text marks the actor's waiting notices read; one language
per user, set by the header's switch and kept for the next sign-in; in-app and e-mail
choices per kind of notice; 催办 once a working day, audited and notified; the printable
审批表 and the text page's tools.

Under the `db` fixture nothing commits: what a commit would run (the relay, the delivery,
marking notices read) runs where a test asks with `django_capture_on_commit_callbacks`."""

import re
from datetime import datetime, timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.models import NoticeGroup, Notification, Preference
from notifications.services import ASKING_TO_ACT, GROUP_OF_KIND, group_of, in_groups
from notifications.tasks import deliver
from submissions.models import ProjectText
from tests.factories import act, make_user
from workflow import audit, services
from workflow.models import AuditEvent, OutboxMessage, Outcome
from workflow.services.reminders import working_day
from workflow.states import Role

TITLE = "村级组织换届工作经费"
LANGUAGE_COOKIE = settings.LANGUAGE_COOKIE_NAME


# --- helpers ---------------------------------------------------------------------------------


@pytest.fixture
def acting(django_capture_on_commit_callbacks):
    """acting(user, text, action, comment="") takes the action and runs what its commit runs."""

    def run(user, text, action: str, comment: str = "", **kw) -> ProjectText:
        with django_capture_on_commit_callbacks(execute=True):
            return act(user, text, action, comment=comment, **kw)

    return run


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """committing(callable) runs it and then what its commit runs."""

    def run(change):
        with django_capture_on_commit_callbacks(execute=True):
            return change()

    return run


def unread(user, text=None) -> list[str]:
    found = Notification.objects.filter(recipient=user, read_at__isnull=True, in_app=True)
    if text is not None:
        found = found.filter(text=text)
    return sorted(found.values_list("kind", flat=True))


def with_email(user):
    user.email = f"{user.username}@example.org"
    user.save(update_fields=["email"])
    return user


def set_preference(user, **fields) -> Preference:
    preference, _created = Preference.objects.get_or_create(user=user)
    for name, value in fields.items():
        setattr(preference, name, value)
    preference.save()
    return preference


def html_lang(response) -> str:
    return re.search(r'<html lang="([^"]+)"', response.content.decode()).group(1)


def urge_events(text) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(text_id=text.pk, action="urge").order_by("id"))


def at_local(year, month, day, hour=10) -> datetime:
    return timezone.make_aware(datetime(year, month, day, hour))


# --- Acting marks the actor's waiting notices read ----------------------------------------


def test_approving_marks_the_reviewers_submit_notice_read(cast, acting):
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")
    assert unread(cast.org_reviewer, text) == ["submit"]

    acting(cast.org_reviewer, text, "dept_approve")

    assert unread(cast.org_reviewer, text) == []


def test_returning_marks_the_reviewers_submit_notice_read(cast, acting):
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")

    acting(cast.org_reviewer, text, "return", comment="请补充测算依据")

    assert unread(cast.org_reviewer, text) == []
    assert unread(cast.org_drafter, text) == ["return"]  # a result, not a request to act


def test_the_database_filter_for_a_group_picks_what_group_of_puts_in_it(cast):
    # mark_acted asks the database which notices ask to act; group_of says it in Python.
    text = cast.text(title=TITLE)
    kinds = [*GROUP_OF_KIND, "withdraw", "dept_approve", "approve", "county_approve"]
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(recipient=cast.finance, kind=kind, stage=stage, text=text)
        for kind in kinds
        for stage in ("", "finance_review")
    )
    for groups in (ASKING_TO_ACT, *({group} for group in NoticeGroup.values), set()):
        wanted = {row.pk for row in rows if group_of(row.kind, row.stage) in groups}
        found = OutboxMessage.objects.filter(pk__in=[row.pk for row in rows])
        assert set(found.filter(in_groups(groups)).values_list("pk", flat=True)) == wanted


def test_acting_leaves_the_actors_notices_about_other_texts_unread(cast, acting):
    first, second = cast.text(title="第一个项目"), cast.text(title="第二个项目")
    acting(cast.org_drafter, first, "submit")
    acting(cast.org_drafter, second, "submit")

    acting(cast.org_reviewer, first, "dept_approve")

    assert unread(cast.org_reviewer, first) == []
    assert unread(cast.org_reviewer, second) == ["submit"]


def test_acting_leaves_other_reviewers_notices_unread(cast, acting):
    colleague = make_user("org_reviewer_2", Role.DEPT_REVIEWER, cast.org)
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")

    acting(cast.org_reviewer, text, "dept_approve")

    assert unread(colleague, text) == ["submit"]


def test_a_delegates_decision_marks_the_principals_notice_read_too(cast, acting):
    deputy = make_user("deputy")
    services.give_delegation(
        actor=cast.approver,
        to="deputy",
        starts=timezone.localdate(),
        ends=timezone.localdate() + timedelta(days=3),
        reason="出差",
    )
    text = cast.text_in("finance_review", title=TITLE)
    acting(cast.finance, text, "finance_approve")
    assert unread(cast.approver, text) == ["finance_approve"]

    acting(deputy, text, "approve")

    assert unread(cast.approver, text) == []
    assert unread(deputy, text) == []


def test_the_list_page_shows_the_acted_on_notice_as_read(cast, client, acting):
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")
    acting(cast.org_reviewer, text, "dept_approve")
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/").content.decode()

    assert f"《{TITLE}》" in html
    assert 'class="notification unread"' not in html


# --- One language per user --------------------------------------------------------------------


def test_the_header_language_switch_posts_to_the_notices_view(cast, client):
    client.force_login(cast.org_reviewer)

    html = client.get("/").content.decode()

    assert re.search(r'<form class="lang" method="post" action="/notifications/language/">', html)


def test_switching_language_stores_it_as_the_users_preference(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post("/notifications/language/", {"language": "en", "next": "/texts/"})

    assert response.status_code == 302
    assert response["Location"] == "/texts/"
    assert response.cookies[LANGUAGE_COOKIE].value == "en"
    preference = Preference.objects.get(user=cast.org_reviewer)
    assert (preference.language, preference.language_chosen) == ("en", True)


def test_the_switch_takes_effect_at_once(cast, client):
    client.force_login(cast.org_reviewer)
    client.post("/notifications/language/", {"language": "en", "next": "/"})

    response = client.get("/notifications/", HTTP_ACCEPT_LANGUAGE="zh-hans")

    assert html_lang(response) == "en"


def test_the_next_sign_in_comes_up_in_the_chosen_language(cast, client):
    client.force_login(cast.org_reviewer)
    client.post("/notifications/language/", {"language": "en", "next": "/"})
    client.logout()
    client.cookies.clear()  # another browser: no language cookie, a Chinese one

    client.force_login(cast.org_reviewer)
    response = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")

    assert html_lang(response) == "en"
    assert "Dashboard" in response.content.decode()


def test_signing_in_through_the_form_uses_the_chosen_language(cast, client):
    set_preference(cast.org_reviewer, language="en", language_chosen=True)
    cast.org_reviewer.set_password("pw-for-the-form-2025")
    cast.org_reviewer.save()

    response = client.post(
        "/accounts/login/",
        {"username": "org_reviewer", "password": "pw-for-the-form-2025"},
        follow=True,
        HTTP_ACCEPT_LANGUAGE="zh-CN",
    )

    assert response.status_code == 200
    assert html_lang(response) == "en"


def test_a_user_who_never_chose_follows_the_browser(cast, client):
    set_preference(cast.org_reviewer)  # exists (deliveries make one) but nothing chosen
    client.force_login(cast.org_reviewer)

    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="en")) == "en"
    assert html_lang(client.get("/", HTTP_ACCEPT_LANGUAGE="zh-CN")) == "zh-hans"


def test_an_anonymous_switch_sets_only_the_cookie(client, db):
    response = client.post("/notifications/language/", {"language": "en", "next": "/"})

    assert response.status_code == 302
    assert response.cookies[LANGUAGE_COOKIE].value == "en"
    assert not Preference.objects.exists()


def test_an_unknown_language_changes_nothing(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post("/notifications/language/", {"language": "fr", "next": "/"})

    assert response.status_code == 302
    assert LANGUAGE_COOKIE not in response.cookies
    assert not Preference.objects.filter(user=cast.org_reviewer, language_chosen=True).exists()


def test_the_language_switch_needs_post(client, db):
    assert client.get("/notifications/language/").status_code == 405


def test_the_preferences_page_has_no_second_language_select(cast, client):
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/preferences/").content.decode()

    form = html[html.index('class="preferences"') :]
    assert 'name="language"' not in form
    assert "在页面顶部切换语言" in form


def test_the_email_goes_out_in_the_language_chosen_with_the_switch(cast, client, acting):
    with_email(cast.org_reviewer)
    client.force_login(cast.org_reviewer)
    client.post("/notifications/language/", {"language": "en", "next": "/"})

    acting(cast.org_drafter, cast.text(title=TITLE), "submit")

    assert "submitted" in mail.outbox[-1].body


# --- In-app and e-mail choices per kind ----------------------------------------------------


def test_by_default_every_kind_shows_in_the_app_and_goes_by_email(cast, acting):
    with_email(cast.org_reviewer)
    text = cast.text(title=TITLE)

    acting(cast.org_drafter, text, "submit")

    assert unread(cast.org_reviewer, text) == ["submit"]
    assert [m.to for m in mail.outbox] == [["org_reviewer@example.org"]]


def test_turning_a_kind_off_in_the_app_hides_it_but_keeps_its_email(cast, client, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, in_app_waiting=False)
    text = cast.text(title=TITLE)

    acting(cast.org_drafter, text, "submit")

    client.force_login(cast.org_reviewer)
    assert f"《{TITLE}》" not in client.get("/notifications/").content.decode()
    assert client.get("/api/v1/notifications/unread-count/").json() == {"unread": 0}
    assert len(mail.outbox) == 1


def test_a_kind_turned_off_in_the_app_is_not_on_the_home_page_either(cast, client, acting):
    set_preference(cast.org_reviewer, in_app_waiting=False)
    text = cast.text(title=TITLE)

    acting(cast.org_drafter, text, "submit")

    client.force_login(cast.org_reviewer)
    notices = client.get("/").context["notifications"]
    assert notices == []


def test_turning_a_kind_off_by_email_keeps_it_in_the_app(cast, acting):
    with_email(cast.org_reviewer)
    set_preference(cast.org_reviewer, email_waiting=False)
    text = cast.text(title=TITLE)

    acting(cast.org_drafter, text, "submit")

    assert unread(cast.org_reviewer, text) == ["submit"]
    assert mail.outbox == []


def test_a_kind_turned_off_leaves_the_other_kinds_alone(cast, acting):
    with_email(cast.org_drafter)
    set_preference(cast.org_drafter, in_app_waiting=False, email_waiting=False)
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")

    acting(cast.org_reviewer, text, "return", comment="请补充测算依据")

    assert unread(cast.org_drafter, text) == ["return"]
    assert len(mail.outbox) == 1


def test_results_turned_off_silence_return_and_approval(cast, acting):
    with_email(cast.org_drafter)
    set_preference(cast.org_drafter, in_app_results=False, email_results=False)
    text = cast.text(title=TITLE)
    acting(cast.org_drafter, text, "submit")

    acting(cast.org_reviewer, text, "return", comment="请补充测算依据")

    assert unread(cast.org_drafter, text) == []
    assert mail.outbox == []


def test_the_preferences_form_saves_choices_per_kind(cast, client):
    client.force_login(cast.org_reviewer)

    response = client.post(
        "/notifications/preferences/",
        {
            "email_enabled": "on",
            "email_mode": "immediate",
            "in_app_waiting": "on",
            "email_waiting": "on",
            "in_app_results": "on",
            "in_app_chasing": "on",
            "email_signer": "on",
        },
    )

    assert response.status_code == 302
    stored = Preference.objects.get(user=cast.org_reviewer)
    assert (stored.in_app_waiting, stored.email_waiting) == (True, True)
    assert (stored.in_app_results, stored.email_results) == (True, False)
    assert (stored.in_app_chasing, stored.email_chasing) == (True, False)
    assert (stored.in_app_signer, stored.email_signer) == (False, True)
    html = client.get("/notifications/preferences/").content.decode()
    assert "checked" not in re.search(r'<input[^>]*name="email_results"[^>]*>', html).group(0)
    assert "checked" in re.search(r'<input[^>]*name="email_signer"[^>]*>', html).group(0)


def test_the_preferences_page_names_the_four_kinds(cast, client):
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/preferences/").content.decode()

    for label in ("待我审批", "结果通知（通过/退回/不予立项）", "催办与超期", "加签"):
        assert label in html


# --- 催办 ---------------------------------------------------------------------------------------


def test_the_drafter_urges_the_reviewers_who_have_not_decided(cast, client, committing):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)

    response = committing(lambda: client.post(f"/notifications/texts/{text.pk}/urge/"))

    assert response.status_code == 303
    assert response["Location"] == f"/texts/{text.pk}/"
    notice = Notification.objects.get(kind="urge")
    assert notice.recipient == cast.org_reviewer
    client.force_login(cast.org_reviewer)
    assert f"org_drafter 催办：请审批《{TITLE}》" in client.get("/notifications/").content.decode()


def test_an_urge_is_audited_on_the_texts_stream(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)

    client.post(f"/notifications/texts/{text.pk}/urge/")

    [event] = urge_events(text)
    assert (event.actor, event.outcome, event.stream) == (
        cast.org_drafter,
        Outcome.OK,
        audit.text_stream(text.pk),
    )
    assert event.detail == {"stage": "dept_review", "recipients": 1}
    assert audit.verify().ok


def test_urging_changes_nothing_of_the_text(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)

    client.post(f"/notifications/texts/{text.pk}/urge/")

    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version) == (text.state, text.version)


def test_urging_twice_the_same_working_day_is_409_with_a_clear_message(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)
    client.post(f"/notifications/texts/{text.pk}/urge/")

    response = client.post(f"/notifications/texts/{text.pk}/urge/")

    assert response.status_code == 409
    assert "本工作日已催办过此文本" in response.content.decode()
    assert [e.outcome for e in urge_events(text)] == [Outcome.OK, Outcome.REFUSED]
    assert OutboxMessage.objects.filter(kind="urge").count() == 1


def test_a_co_drafter_may_urge_too_but_once_a_day_for_the_text(cast, client):
    colleague = make_user("org_drafter_2", Role.DRAFTER, cast.org)
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)
    client.post(f"/notifications/texts/{text.pk}/urge/")
    client.force_login(colleague)

    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 409


def test_urging_again_on_the_next_working_day_is_allowed(cast, client, monkeypatch):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)
    friday = at_local(2026, 12, 4)
    monkeypatch.setattr(timezone, "now", lambda: friday)
    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 303

    monkeypatch.setattr(timezone, "now", lambda: friday + timedelta(days=1))
    client.force_login(cast.org_drafter)  # the session of Friday has long ended
    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 409
    monkeypatch.setattr(timezone, "now", lambda: friday + timedelta(days=3))
    client.force_login(cast.org_drafter)
    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 303


def test_a_weekend_counts_as_the_friday_before():
    friday = at_local(2026, 12, 4).date()
    assert working_day(at_local(2026, 12, 4)) == friday
    assert working_day(at_local(2026, 12, 5)) == friday  # Saturday
    assert working_day(at_local(2026, 12, 6)) == friday  # Sunday
    assert working_day(at_local(2026, 12, 7)) == at_local(2026, 12, 7).date()  # Monday


def test_a_reviewer_may_not_urge_403(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_reviewer)

    response = client.post(f"/notifications/texts/{text.pk}/urge/")

    assert response.status_code == 403
    assert "只有此文本的编制人可以催办" in response.content.decode()
    assert [e.outcome for e in urge_events(text)] == [Outcome.REFUSED]


def test_a_text_one_may_not_see_is_404(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.edu_drafter)

    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 404
    assert client.post("/notifications/texts/999999/urge/").status_code == 404
    assert urge_events(text) == []


def test_a_draft_cannot_be_urged_409(cast, client):
    text = cast.text(title=TITLE)
    client.force_login(cast.org_drafter)

    assert client.post(f"/notifications/texts/{text.pk}/urge/").status_code == 409


def test_urging_needs_post(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)

    assert client.get(f"/notifications/texts/{text.pk}/urge/").status_code == 405


def test_urge_reaches_only_the_reviewers_still_to_decide(cast, client, committing):
    signer = make_user("signer", Role.DEPT_REVIEWER, cast.edu)
    text = cast.text_in("dept_review", title=TITLE)
    services.add_signer(
        actor=cast.org_reviewer,
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        user="signer",
    )
    act(cast.org_reviewer, text, "dept_approve")  # the lane is met; the added signer is not
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"
    client.force_login(cast.org_drafter)

    committing(lambda: client.post(f"/notifications/texts/{text.pk}/urge/"))

    assert set(Notification.objects.filter(kind="urge").values_list("recipient", flat=True)) == {
        signer.pk
    }


def test_urge_notices_are_marked_read_when_the_reviewer_acts(cast, client, committing, acting):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)
    committing(lambda: client.post(f"/notifications/texts/{text.pk}/urge/"))
    assert "urge" in unread(cast.org_reviewer, text)

    acting(cast.org_reviewer, text, "dept_approve")

    assert unread(cast.org_reviewer, text) == []


def _tools(user, text) -> str:
    request = RequestFactory().get(f"/texts/{text.pk}/")
    request.user = user
    return render_to_string("submissions/_text_tools.html", {"text": text}, request=request)


def test_the_text_tools_offer_urge_to_the_drafter_with_a_confirmation(cast):
    text = cast.text_in("dept_review", title=TITLE)

    html = _tools(cast.org_drafter, text)

    assert f'action="/notifications/texts/{text.pk}/urge/"' in html
    assert 'data-confirm="催办"' in html
    assert f"《{TITLE}》" in html
    assert f'href="/texts/{text.pk}/approval-form/"' in html
    assert "data-print" in html


def test_the_text_tools_offer_no_urge_to_a_reviewer_nor_on_a_draft(cast):
    text = cast.text_in("dept_review", title=TITLE)
    draft = cast.text(title="草稿")

    assert "/urge/" not in _tools(cast.org_reviewer, text)
    assert "/urge/" not in _tools(cast.org_drafter, draft)


def test_the_text_tools_say_when_already_urged_today(cast, client):
    text = cast.text_in("dept_review", title=TITLE)
    client.force_login(cast.org_drafter)
    client.post(f"/notifications/texts/{text.pk}/urge/")

    html = _tools(cast.org_drafter, text)

    assert "/urge/" not in html
    assert "今日已催办" in html


# --- The 审批表 ----------------------------------------------------------------------------------


@pytest.fixture
def approved(cast):
    """A text approved at each stage, each reviewer with an opinion."""
    text = cast.text(title=TITLE)
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "dept_approve", comment="同意上报")
    act(cast.finance, text, "finance_approve", comment="资金测算合理")
    act(cast.approver, text, "approve", comment="同意立项")
    return ProjectText.objects.get(pk=text.pk)


def form_of(client, user, text):
    client.force_login(user)
    return client.get(f"/texts/{text.pk}/approval-form/")


def test_the_approval_form_shows_the_project_its_department_year_and_amount(cast, client, approved):
    response = form_of(client, cast.org_drafter, approved)

    html = response.content.decode()
    assert response.status_code == 200
    assert "2025年度部门预算项目审批表" in html
    assert TITLE in html
    assert "申报单位（部门）" in html and "中共新平彝族傣族自治县委员会组织部" in html
    assert "1,751,800.00元" in html
    assert "大写：壹佰柒拾伍万壹仟捌佰元整" in html


def test_the_approval_form_shows_the_eight_sections_in_full(cast, client, approved):
    html = form_of(client, cast.org_drafter, approved).content.decode()

    for heading in ("项目名称", "二、立项依据", "三、项目实施单位", "四、项目基本概况"):
        assert heading in html
    for heading in ("五、项目实施内容", "六、资金安排情况", "七、项目实施计划", "八、项目实施成效"):
        assert heading in html
    assert "1.切实加强党的领导。\n2.树立正确的选人用人导向。" in html


def test_the_approval_form_has_each_stages_opinion_signer_and_date(cast, client, approved):
    html = form_of(client, cast.org_drafter, approved).content.decode()
    today = timezone.localdate().isoformat()

    rows = re.findall(r'<tr class="stage-row stage-(\w+)">(.*?)</tr>', html, re.S)
    assert [code for code, _row in rows] == ["dept_review", "finance_review", "approval"]
    for (_code, row), (opinion, signer) in zip(
        rows,
        [("同意上报", "org_reviewer"), ("资金测算合理", "finance"), ("同意立项", "approver")],
        strict=True,
    ):
        assert opinion in row
        assert signer in row
        assert today in row


def test_stages_not_reached_are_empty_rows(cast, client):
    text = cast.text_in("dept_review", title=TITLE)

    html = form_of(client, cast.org_drafter, text).content.decode()

    assert len(re.findall(r'class="stage-row stage-\w+ stage-empty"', html)) == 3


def test_a_return_shows_as_the_stages_opinion_with_its_reason(cast, client):
    text = cast.text_in("returned", title=TITLE)

    html = form_of(client, cast.org_drafter, text).content.decode()

    assert "退回：理由" in html


def test_a_delegates_signature_names_whom_they_signed_for(cast, client):
    deputy = make_user("deputy")
    services.give_delegation(
        actor=cast.approver,
        to="deputy",
        starts=timezone.localdate(),
        ends=timezone.localdate(),
        reason="出差",
    )
    text = cast.text_in("approval", title=TITLE)
    act(deputy, text, "approve")

    html = form_of(client, cast.auditor, text).content.decode()

    assert "deputy（代 approver）" in html


def test_the_approval_form_offers_a_print_button_without_inline_script(cast, client, approved):
    html = form_of(client, cast.org_drafter, approved).content.decode()

    assert "data-print" in html
    assert "js/notices.js" in html
    assert "onclick" not in html
    assert not re.search(r"<script>(?!</script>)", html)


def test_the_approval_form_is_404_for_those_who_may_not_see_the_text(cast, client, approved):
    assert form_of(client, cast.edu_drafter, approved).status_code == 404
    assert form_of(client, cast.edu_reviewer, approved).status_code == 404
    client.force_login(cast.org_drafter)
    assert client.get("/texts/999999/approval-form/").status_code == 404


def test_the_approval_form_needs_a_login(client, approved):
    client.logout()

    response = client.get(f"/texts/{approved.pk}/approval-form/")

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_approval_form_in_english_has_no_chinese_but_what_users_wrote(cast, client, approved):
    client.force_login(cast.org_drafter)
    client.cookies[LANGUAGE_COOKIE] = "en"

    html = client.get(f"/texts/{approved.pk}/approval-form/").content.decode()

    assert "Approval form" in html
    for written in (
        [getattr(approved, f) for f in ("title", "basis", "implementer", "overview")]
        + [getattr(approved, f) for f in ("content", "funding", "plan", "outcomes")]
        + [approved.department.name, "同意上报", "资金测算合理", "同意立项", "简体中文"]
    ):
        html = html.replace(written, "")
    assert re.findall(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]", html) == []


# --- The notifications page -------------------------------------------------------------------


def test_the_notifications_page_lists_newest_first_and_counts_the_unread(cast, client, acting):
    first, second = cast.text(title="第一个项目"), cast.text(title="第二个项目")
    acting(cast.org_drafter, first, "submit")
    acting(cast.org_drafter, second, "submit")
    client.force_login(cast.org_reviewer)

    html = client.get("/notifications/").content.decode()

    assert html.index("《第二个项目》") < html.index("《第一个项目》")
    assert "2 条未读" in html
    assert "全部标为已读" in html
    assert html.count('class="notification unread"') == 2


# --- 催办 over the API ------------------------------------------------------------------------


def test_the_api_urges_once_a_working_day(cast, api):
    text = cast.text_in("dept_review", title=TITLE)
    client = api(cast.org_drafter)

    first = client.post(f"/api/v1/texts/{text.pk}/actions/urge/", {}, format="json")
    second = client.post(f"/api/v1/texts/{text.pk}/actions/urge/", {}, format="json")

    assert first.status_code == 200
    assert "urge" not in first.json()["available_actions"]
    assert second.status_code == 409
    assert "本工作日已催办过此文本" in second.json()["detail"]


def test_the_api_refuses_urge_to_a_reviewer_403_and_to_a_stranger_404(cast, api):
    text = cast.text_in("dept_review", title=TITLE)

    reviewer = api(cast.org_reviewer).post(f"/api/v1/texts/{text.pk}/actions/urge/")
    stranger = api(cast.edu_drafter).post(f"/api/v1/texts/{text.pk}/actions/urge/")

    assert (reviewer.status_code, stranger.status_code) == (403, 404)


def test_a_request_delivered_after_the_reviewer_acted_arrives_read_and_unmailed(cast):
    with_email(cast.org_reviewer)
    text = cast.text(title=TITLE)
    act(cast.org_drafter, text, "submit")  # its outbox row waits: the broker was down
    act(cast.org_reviewer, text, "dept_approve")

    for message in OutboxMessage.objects.filter(kind="submit"):
        deliver(message.pk)

    notice = Notification.objects.get(recipient=cast.org_reviewer, kind="submit")
    assert notice.read_at is not None
    assert mail.outbox == []


# --- What the notifications page costs --------------------------------------------------------


def notices_for(user, text, count: int) -> None:
    """`count` more notices (each with its outbox row) for `user` about `text`."""
    rows = OutboxMessage.objects.bulk_create(
        OutboxMessage(recipient=user, kind="submit", stage="dept_review", text=text)
        for _ in range(count)
    )
    Notification.objects.bulk_create(
        Notification(outbox=row, recipient=user, kind="submit", stage="dept_review", text=text)
        for row in rows
    )


def page_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize("url", ["/notifications/", "/api/v1/notifications/", "/"])
def test_a_list_of_notices_costs_the_same_queries_with_2000_notices_as_with_10(cast, client, url):
    text = cast.text()
    client.force_login(cast.org_reviewer)
    notices_for(cast.org_reviewer, text, 10)
    page_queries(client, url)
    small = page_queries(client, url)

    notices_for(cast.org_reviewer, text, 1990)

    assert page_queries(client, url) == small
