"""The forms: drafting (new, edit, import), login and delegations (issue 9).

The amount as people write it, the error summary at the top, the amount in words, the
defaults of a new text, the return reason at the top of the edit page, a stale edit that
keeps what was typed."""

import datetime
import re
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from submissions.amounts import AmountError, parse_amount
from submissions.forms import default_fiscal_year
from submissions.models import ProjectText
from tests.factories import act, text_fields
from workflow import services
from workflow.exceptions import InvalidInput
from workflow.states import Role

FULL_WIDTH = str.maketrans("0123456789,.", "０１２３４５６７８９，．")
# Every amount the database holds: 0.00 to 999,999,999,999.99.
AMOUNTS = st.integers(min_value=0, max_value=10**14 - 1).map(lambda cents: Decimal(cents) / 100)


def form_data(**overrides):
    data = dict(text_fields())
    data.update(overrides)
    return data


def summary_of(html: str) -> str:
    """The error summary's markup (empty if the page has none)."""
    found = re.search(r'<div class="error-summary.*?</div>', html, re.S)
    return found.group(0) if found else ""


# --- the amount, as written ------------------------------------------------------------------


@given(AMOUNTS)
def test_every_amount_as_the_pages_display_it_reads_back_as_itself(amount):
    for written in (f"{amount:,.2f}元", f"{amount:,.2f}", f"{amount:.2f}", f" {amount:,.2f} 元 "):
        assert parse_amount(written, typed=True) == amount


@given(AMOUNTS)
def test_every_amount_in_full_width_digits_reads_as_itself(amount):
    assert parse_amount(f"{amount:,.2f}".translate(FULL_WIDTH), typed=True) == amount
    assert parse_amount(f"{amount:.2f}".translate(FULL_WIDTH) + "元", typed=True) == amount


@given(AMOUNTS)
def test_the_service_reads_the_displayed_amount_as_it_always_did(amount):
    assert parse_amount(f"{amount:,.2f}元") == amount
    assert parse_amount(f"{amount:.2f}") == amount


@pytest.mark.parametrize(
    "typed",
    [
        "1,751,800.00元",
        "1751800",
        "1,751,800",
        "1751800.0",
        "175.18万元",
        "175.18万",
        "１７５１８００．００",
        "１，７５１，８００",
        "１７５１８００元",
        "  1751800  ",
        "\u30001,751,800.00\u3000元",
        "1751800.00 元",
    ],
)
def test_what_people_type_is_read_as_the_amount(typed):
    assert parse_amount(typed, typed=True) == Decimal("1751800.00")


@pytest.mark.parametrize(
    "typed",
    ["abc", "1e3", "٣٠٠", "1,23,456", ",,5", "1751800美元", "+5", "1_000", "元", "1.2.3"],
)
def test_what_is_not_an_amount_is_refused_with_an_example(typed):
    with pytest.raises(AmountError, match=r"金额.*1,751,800\.00元"):
        parse_amount(typed, typed=True)


def test_a_negative_amount_is_refused_as_negative():
    with pytest.raises(AmountError, match="金额不能为负数"):
        parse_amount("-1,000.00", typed=True)


def test_fractions_of_a_cent_are_refused():
    with pytest.raises(AmountError, match="金额最多两位小数"):
        parse_amount("1.234", typed=True)
    with pytest.raises(AmountError, match="金额最多两位小数"):
        parse_amount("1.2345678万元", typed=True)


def test_more_than_twelve_digits_is_refused():
    with pytest.raises(AmountError, match="最多 12 位"):
        parse_amount("1" * 13, typed=True)
    with pytest.raises(AmountError, match="最多 12 位"):
        parse_amount("100000000万元", typed=True)


@pytest.mark.parametrize("sent", ["１７５１８００", "175.18万元", "1751800 .00"])
def test_the_api_parser_stays_strict(sent):
    with pytest.raises(AmountError):
        parse_amount(sent)


# --- the amount on the page ------------------------------------------------------------------


@pytest.mark.parametrize("typed", ["1,751,800.00元", "１７５１８００．００", "175.18万元"])
def test_the_page_saves_the_amount_as_it_was_typed(cast, client, typed):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(amount=typed))
    assert response.status_code == 303
    assert ProjectText.objects.get().amount == Decimal("1751800.00")


def test_a_bad_amount_is_400_naming_the_amount_with_an_example(cast, client):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(amount="一百万"))
    assert response.status_code == 400
    summary = summary_of(response.content.decode())
    assert '<a href="#id_amount" class="alert-link">金额</a>' in summary
    assert "1,751,800.00元" in summary
    assert not ProjectText.objects.exists()


def test_the_amount_in_words_answers_what_was_typed(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/amount-in-words/", {"amount": "1,751,800.00元"})
    assert response.status_code == 200
    assert response.content.decode().strip() == "大写：壹佰柒拾伍万壹仟捌佰元整"


UNREAD = "无法识别的金额"


@pytest.mark.parametrize(("typed", "answer"), [("", ""), ("abc", UNREAD), ("1" * 41, UNREAD)])
def test_the_amount_in_words_says_when_it_cannot_read(cast, client, typed, answer):
    client.force_login(cast.org_drafter)
    response = client.get("/texts/amount-in-words/", {"amount": typed})
    assert response.status_code == 200
    assert response.content.decode().strip() == answer


def test_the_amount_in_words_in_english_is_the_formatted_amount(cast, client):
    client.force_login(cast.org_drafter)
    response = client.get(
        "/texts/amount-in-words/", {"amount": "１７５１８００"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.content.decode().strip() == "1,751,800.00 yuan"


def test_the_edit_page_shows_the_stored_amount_in_words(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    html = client.get(f"/texts/{text.pk}/edit/").content.decode()
    assert 'value="1,751,800.00"' in html
    assert re.search(
        r'<span id="amount-words"[^>]*aria-live="polite"[^>]*>'
        r"大写：壹佰柒拾伍万壹仟捌佰元整</span>",
        html,
    )
    assert 'hx-get="/texts/amount-in-words/"' in html


# --- the error summary -----------------------------------------------------------------------


def test_submitting_from_the_form_with_empty_sections_names_and_links_each(cast, client):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(plan="", outcomes="  ", then="submit"))
    assert response.status_code == 400
    html = response.content.decode()
    summary = summary_of(html)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert "请修改以下 2 处" in summary
    assert '<a href="#id_plan" class="alert-link">项目实施计划</a>' in summary
    assert '<a href="#id_outcomes" class="alert-link">项目实施成效</a>' in summary
    # The summary comes before the form; each field is marked and described by its message.
    assert html.index("error-summary") < html.index('<form method="post" class="text-form"')
    plan = re.search(r"<textarea[^>]*name=\"plan\"[^>]*>", html).group(0)
    assert 'aria-invalid="true"' in plan and "is-invalid" in plan
    assert 'aria-describedby="id_plan_error"' in plan
    assert 'id="id_plan_error"' in html
    # It was saved as a draft, not submitted; the form now edits that draft.
    text = ProjectText.objects.get()
    assert text.state == "draft"
    assert f'action="/texts/{text.pk}/edit/"' in html
    assert f'name="version" value="{text.version}"' in html


def test_the_service_refusal_names_every_empty_section(cast):
    text = cast.text(plan="", outcomes="")
    with pytest.raises(InvalidInput) as refused:
        act(cast.org_drafter, text, "submit")
    assert refused.value.message == "提交前必须填写：项目实施计划、项目实施成效。"
    assert set(refused.value.errors) == {"plan", "outcomes"}


def test_the_api_still_answers_empty_sections_field_by_field(cast, api):
    text = cast.text(plan="")
    response = api(cast.org_drafter).post(
        f"/api/v1/texts/{text.pk}/actions/submit/", {"version": text.version}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["plan"]


def test_the_text_page_refusing_a_submit_names_the_empty_sections(cast, client):
    text = cast.text(plan="", outcomes="")
    client.force_login(cast.org_drafter)
    response = client.post(f"/texts/{text.pk}/act/", {"action": "submit", "version": text.version})
    assert response.status_code == 400
    assert "提交前必须填写：项目实施计划、项目实施成效" in response.content.decode()


def test_saving_and_submitting_from_the_form(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    response = client.post(
        f"/texts/{text.pk}/edit/", form_data(version=text.version, then="submit")
    )
    assert response.status_code == 303
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_an_empty_title_and_a_bad_amount_are_both_in_the_summary(cast, client):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(title=" ", amount="-5"))
    summary = summary_of(response.content.decode())
    assert "请修改以下 2 处" in summary
    assert 'href="#id_title"' in summary and 'href="#id_amount"' in summary


# --- defaults of a new text --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "year"),
    [
        (datetime.date(2026, 1, 5), 2026),
        (datetime.date(2026, 6, 30), 2026),
        (datetime.date(2026, 7, 1), 2027),
        (datetime.date(2026, 12, 31), 2027),
    ],
)
def test_the_fiscal_year_defaults_to_the_budget_being_prepared(today, year):
    assert default_fiscal_year(today) == year


def test_the_new_text_form_has_the_fiscal_year_and_the_only_department(cast, client):
    from django.utils import timezone

    client.force_login(cast.org_drafter)
    html = client.get("/texts/new/").content.decode()
    expected = default_fiscal_year(timezone.localdate())
    assert re.search(rf'name="fiscal_year" value="{expected}"', html)
    assert re.search(r'<option value="org" selected>', html)


def test_a_drafter_of_two_departments_chooses_one(cast, client):
    services.grant_role(actor=None, user=cast.org_drafter, role=Role.DRAFTER, department=cast.edu)
    client.force_login(cast.org_drafter)
    html = client.get("/texts/new/").content.decode()
    assert '<option value="" selected>请选择部门</option>' in html
    assert '<option value="edu">' in html and '<option value="org">' in html


# --- the return reason at the top of the edit page -------------------------------------------


def test_the_edit_page_shows_the_return_reason_and_the_section_it_points_at(cast, client):
    text = cast.text_in("dept_review")
    act(cast.org_reviewer, text, "return", comment="请写明实施的时间安排", section="plan")
    client.force_login(cast.org_drafter)
    html = client.get(f"/texts/{text.pk}/edit/").content.decode()
    reason = re.search(r'<section class="reason-at-top.*?</section>', html, re.S).group(0)
    assert html.index("reason-at-top") < html.index('class="text-form"')
    assert "请写明实施的时间安排" in reason
    assert "org_reviewer" in reason and "部门审核" in reason
    assert '<a href="#id_plan" class="alert-link reason-section">项目实施计划</a>' in reason
    assert re.search(r'class="section field-plan is-pointed', html)


def test_a_draft_never_returned_shows_no_reason(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    assert "reason-at-top" not in client.get(f"/texts/{text.pk}/edit/").content.decode()


# --- a stale edit ---------------------------------------------------------------------------------


def test_a_stale_edit_is_409_says_who_changed_it_and_keeps_what_was_typed(cast, client):
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"plan": "甲"}
    )
    client.force_login(cast.org_drafter)
    response = client.post(
        f"/texts/{text.pk}/edit/", form_data(version=text.version, plan="我刚输入的计划")
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "此文本在您打开后已被修改" in html
    assert "org_drafter 于" in html and f"现为第 {text.version + 1} 版" in html
    assert re.search(r'<textarea[^>]*name="plan"[^>]*>\n?我刚输入的计划</textarea>', html)
    assert f'<a class="btn btn-outline-secondary btn-sm" href="/texts/{text.pk}/edit/">' in html
    assert f'name="overwrite" value="{text.version + 1}"' in html
    assert ProjectText.objects.get(pk=text.pk).plan == "甲"


def test_overwriting_after_a_stale_edit_saves_what_was_typed(cast, client):
    text = cast.text()
    services.edit_text(
        actor=cast.org_drafter, text_id=text.pk, version=text.version, data={"plan": "甲"}
    )
    client.force_login(cast.org_drafter)
    response = client.post(
        f"/texts/{text.pk}/edit/",
        form_data(version=text.version, plan="乙", overwrite=text.version + 1),
    )
    assert response.status_code == 303
    assert ProjectText.objects.get(pk=text.pk).plan == "乙"


# --- login, delegations, import -------------------------------------------------------------------


def test_a_wrong_password_is_summarised_at_the_top_of_the_login_form(cast, client):
    response = client.post("/accounts/login/", {"username": "org_drafter", "password": "x"})
    html = response.content.decode()
    assert 'href="#id_username"' in summary_of(html)
    assert re.search(r'<input name="username" id="id_username"[^>]*aria-invalid="true"', html)


def test_a_refused_delegation_links_to_the_field(cast, client):
    client.force_login(cast.org_reviewer)
    response = client.post(
        "/delegations/", {"to": "nobody", "starts": "2026-01-01", "ends": "2026-01-02"}
    )
    assert response.status_code == 400
    summary = summary_of(response.content.decode())
    assert '<a href="#id_to" class="alert-link">受托人</a>' in summary
    assert "没有这个用户" in summary


def test_revoking_a_delegation_asks_for_confirmation(cast, client):
    services.give_delegation(
        actor=cast.org_reviewer,
        to="edu_reviewer",
        starts=datetime.date.today().isoformat(),
        ends=(datetime.date.today() + datetime.timedelta(days=3)).isoformat(),
    )
    client.force_login(cast.org_reviewer)
    html = client.get("/delegations/").content.decode()
    assert re.search(
        r'<form method="post" action="/delegations/\d+/revoke/"[^>]*data-confirm="撤销"', html
    )
    assert "撤销对 edu_reviewer 的委托" in html


def test_an_import_refusal_is_summarised_and_linked_to_the_file(cast, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(cast.org_drafter)
    upload = SimpleUploadedFile("x.txt", "没有项目".encode(), content_type="text/plain")
    response = client.post("/texts/import/", {"step": "preview", "file": upload})
    assert response.status_code == 400
    assert 'href="#id_file"' in summary_of(response.content.decode())
