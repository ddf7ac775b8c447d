"""The page of one text (issue 9): the stage bar, the reason at the top, the decision panel
after the content with its confirmations, honest stale refusals, the next waiting text, and
the diff page carrying the reason and the panel."""

from datetime import timedelta

import lxml.html
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from submissions.models import ProjectText
from tests.factories import act, make_user
from tests.routing import LARGE, SMALL, at_finance, county_people, load, submitted
from tests.test_query_counts import six_stages
from workflow import services
from workflow.models import Decision, StageVisit
from workflow.services import give_delegation

TITLE = "新平县村级组织换届工作经费"
AMOUNT = "1,751,800.00元"


def html_of(client, user, url: str, status: int = 200) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == status, url
    return response.content.decode()


def tree(html: str):
    return lxml.html.fromstring(html)


def steps(html: str) -> list[tuple[str, str, bool]]:
    """The stage bar's steps: (stage code, status, is it aria-current="step")."""
    found = []
    for li in tree(html).xpath('//section[contains(@class, "stage-bar")]/ol[@class="stages"]/li'):
        status = next(c for c in li.get("class").split() if c.startswith("step-"))
        found.append((li.get("data-stage"), status.removeprefix("step-"), li.get("aria-current")))
    return [(code, status, current == "step") for code, status, current in found]


def step(html: str, code: str):
    [li] = tree(html).xpath(f'//ol[@class="stages"]/li[@data-stage="{code}"]')
    return li


def text_of(element) -> str:
    return " ".join(element.text_content().split())


def user(username: str):
    return get_user_model().objects.get(username=username)


def when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


# --- The stage bar ---------------------------------------------------------------------------


def test_a_draft_is_at_drafting_with_every_stage_to_come(cast, client):
    text = cast.text()

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert steps(html) == [
        ("draft", "current", True),
        ("dept_review", "upcoming", False),
        ("finance_review", "upcoming", False),
        ("approval", "upcoming", False),
        ("approved", "upcoming", False),
    ]
    assert "org_drafter" in text_of(step(html, "draft").xpath('.//p[@class="step-waiting"]')[0])


def test_a_done_stage_names_who_acted_and_when(cast, client):
    text = cast.text_in("finance_review")
    decided = Decision.objects.get(text=text, stage="dept_review").decided_at

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert steps(html)[:3] == [
        ("draft", "done", False),
        ("dept_review", "done", False),
        ("finance_review", "current", True),
    ]
    dept = text_of(step(html, "dept_review"))
    assert "org_reviewer" in dept and "部门审核通过" in dept
    assert when(decided) in dept
    assert "org_drafter" in text_of(step(html, "draft"))


def test_the_current_stage_names_who_acts_next_and_the_due_date(cast, client):
    text = cast.text_in("finance_review")
    due = StageVisit.objects.get(text=text, left_at__isnull=True).due_at

    current = step(html_of(client, cast.org_drafter, f"/texts/{text.pk}/"), "finance_review")

    assert text_of(current.xpath('.//p[@class="step-waiting"]')[0]) == "待处理：finance"
    [due_line] = current.xpath('.//p[contains(@class, "step-due")]')
    assert when(due) in text_of(due_line)
    assert "overdue" not in due_line.get("class")


def test_an_overdue_stage_is_marked_overdue(cast, client):
    text = cast.text_in("dept_review")
    StageVisit.objects.filter(text=text, left_at__isnull=True).update(
        due_at=timezone.now() - timedelta(days=2)
    )

    current = step(html_of(client, cast.org_drafter, f"/texts/{text.pk}/"), "dept_review")

    [due_line] = current.xpath('.//p[contains(@class, "step-due")]')
    assert "overdue" in due_line.get("class")
    assert "已逾期" in text_of(due_line)


def test_parallel_lanes_show_who_approved_and_who_is_still_due(cast, client):
    people = county_people(cast)
    text = at_finance(cast)
    act(cast.finance, text, "finance_approve")

    current = step(html_of(client, cast.org_drafter, f"/texts/{text.pk}/"), "finance_review")

    lanes = [text_of(li) for li in current.xpath('.//ul[@class="lanes"]/li')]
    assert "财政审核人" in lanes[0] and "已通过：finance" in lanes[0] and "已满足" in lanes[0]
    assert "绩效审核人" in lanes[1] and "还需 1 人" in lanes[1]
    waiting = text_of(current.xpath('.//p[@class="step-waiting"]')[0])
    assert waiting == f"待处理：{people['performance'].username}"


def test_a_quorum_stage_lists_each_approval_and_the_one_still_due(cast, client):
    county_people(cast)
    text = at_finance(cast, LARGE)
    act(cast.finance, text, "finance_approve")
    act(user("performance"), text, "finance_approve")
    act(user("county_a"), text, "county_approve")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert ("county_review", "current", True) in steps(html)
    current = step(html, "county_review")
    assert "会签 2 人" in text_of(current) and "还需 1 人" in text_of(current)
    assert "county_a" in text_of(current.xpath('.//ul[@class="step-acts"]')[0])
    assert text_of(current.xpath('.//p[@class="step-waiting"]')[0]) == "待处理：county_b"
    # Both finance lanes approved: the stage is done, naming both people.
    finance = text_of(step(html, "finance_review"))
    assert "finance" in finance and "performance" in finance


def test_a_stage_the_amount_skipped_is_shown_skipped(cast, client):
    county_people(cast)
    text = at_finance(cast, SMALL)
    act(cast.finance, text, "finance_approve")
    act(user("performance"), text, "finance_approve")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert [s[:2] for s in steps(html)] == [
        ("draft", "done"),
        ("dept_review", "done"),
        ("finance_review", "done"),
        ("county_review", "skipped"),
        ("approval", "current"),
        ("approved", "upcoming"),
    ]
    assert "已跳过" in text_of(step(html, "county_review"))
    assert "1,500,000.00元" in text_of(step(html, "county_review"))


def test_a_stage_the_amount_will_skip_is_shown_as_not_needed(cast, client):
    county_people(cast)
    text = submitted(cast, SMALL)

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert ("county_review", "not_applicable", False) in steps(html)


def test_a_delegate_is_named_as_acting_for_whom(cast, client):
    text = cast.text_in("approval")
    make_user("deputy")
    today = timezone.localdate()
    give_delegation(actor=cast.approver, to="deputy", starts=today, ends=today)

    current = step(html_of(client, cast.org_drafter, f"/texts/{text.pk}/"), "approval")

    assert text_of(current.xpath('.//p[@class="step-waiting"]')[0]) == (
        "待处理：approver、deputy（代 approver）"
    )


def test_a_returned_text_marks_the_stage_that_returned_it(cast, client):
    text = cast.text_in("finance_review")
    act(cast.finance, text, "return", comment="金额有误")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert [s[:2] for s in steps(html)] == [
        ("draft", "returned"),
        ("dept_review", "done"),
        ("finance_review", "returned"),
        ("approval", "upcoming"),
        ("approved", "upcoming"),
    ]
    assert steps(html)[0][2]  # back with the drafter
    assert "finance" in text_of(step(html, "finance_review"))
    [bar] = tree(html).xpath('//section[contains(@class, "stage-bar")]')
    assert "stage-bar-returned" in bar.get("class")
    assert bar.xpath('.//h2/span[contains(@class, "state-kind-returned")]')


def test_a_rejected_text_ends_at_the_rejection(cast, client):
    text = cast.text_in("dept_review")
    act(cast.org_reviewer, text, "reject", comment="不符合立项条件")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert steps(html) == [
        ("draft", "done", False),
        ("dept_review", "rejected", False),
        ("finance_review", "upcoming", False),
        ("approval", "upcoming", False),
        ("rejected", "rejected", True),
    ]


def test_an_approved_text_has_every_stage_done(cast, client):
    text = cast.text_in("approval")
    act(cast.approver, text, "approve")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert steps(html) == [
        ("draft", "done", False),
        ("dept_review", "done", False),
        ("finance_review", "done", False),
        ("approval", "done", False),
        ("approved", "done", True),
    ]
    assert "approver" in text_of(step(html, "approval"))


def test_the_stage_bar_comes_before_the_tools_and_the_sections(cast, client):
    text = cast.text_in("dept_review")
    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")
    assert html.index('class="stage-bar') < html.index('<article class="text">')
    assert '<ol class="stages">' in html


def detail_queries(client, person, text: ProjectText) -> int:
    client.force_login(person)
    client.get(f"/texts/{text.pk}/")  # warm: sessions, caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(f"/texts/{text.pk}/").status_code == 200
    return len(captured.captured_queries)


def costs(cast, client) -> dict[str, int]:
    """What the page costs the drafter and the reviewer at the first stage, and the
    drafter at the second stage."""
    first = cast.text_in("dept_review")
    second = cast.text_in("finance_review")
    return {
        "drafter": detail_queries(client, cast.org_drafter, first),
        "reviewer": detail_queries(client, cast.org_reviewer, first),
        "second": detail_queries(client, cast.org_drafter, second),
    }


def test_the_text_page_costs_the_same_under_six_stages_as_under_three(cast, client):
    three = costs(cast, client)
    six_stages(cast)

    six = costs(cast, client)

    assert six == three
    text = cast.text_in("finance_review")
    assert len(steps(html_of(client, cast.org_drafter, f"/texts/{text.pk}/"))) == 8


def test_an_approved_text_costs_the_same_whatever_the_number_of_stages(cast, client):
    text = cast.text_in("approval")
    act(cast.approver, text, "approve")
    three = detail_queries(client, cast.org_drafter, text)
    load("five_stages.yaml")
    for name, role in [("office", "office_reviewer"), ("legal", "legal_reviewer")]:
        make_user(name, role)
    make_user("leader", "leader")
    five = cast.text()
    for action, who in [
        ("submit", cast.org_drafter),
        ("dept_approve", cast.org_reviewer),
        ("office_approve", user("office")),
        ("legal_approve", user("legal")),
        ("leader_approve", user("leader")),
        ("approve", cast.approver),
    ]:
        act(who, five, action)

    assert len(steps(html_of(client, cast.org_drafter, f"/texts/{five.pk}/"))) == 7
    assert detail_queries(client, cast.org_drafter, five) == three


# --- The reason at the top -------------------------------------------------------------------


def returned_with_reason(cast, section: str = "funding") -> ProjectText:
    text = cast.text_in("dept_review")
    act(cast.org_reviewer, text, "return", comment="请补充测算依据", section=section)
    return ProjectText.objects.get(pk=text.pk)


def test_the_return_reason_is_at_the_top_with_who_where_when(cast, client):
    text = returned_with_reason(cast)
    decided = Decision.objects.get(text=text, action="return").decided_at

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    [box] = tree(html).xpath('//section[@id="reason"]')
    said = text_of(box)
    assert "退回理由" in said and "请补充测算依据" in said
    assert "org_reviewer" in said and "部门审核" in said
    assert when(decided) in said
    assert html.index('id="reason"') < html.index('<article class="text">')


def test_the_reason_links_to_the_section_it_points_at_which_is_highlighted(cast, client):
    text = returned_with_reason(cast, "plan")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    [link] = tree(html).xpath('//section[@id="reason"]//a[@class="section-link"]')
    assert link.get("href") == "#section-plan"
    assert text_of(link) == "项目实施计划"
    [pointed] = tree(html).xpath('//section[contains(@class, "section-pointed")]')
    assert pointed.get("id") == "section-plan"


def test_a_rejection_reason_is_at_the_top_too(cast, client):
    text = cast.text_in("dept_review")
    act(cast.org_reviewer, text, "reject", comment="不符合立项条件")

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    [box] = tree(html).xpath('//section[@id="reason"]')
    assert "reason-reject" in box.get("class")
    assert "不予立项的理由" in text_of(box) and "不符合立项条件" in text_of(box)


def test_no_reason_box_once_the_text_is_resubmitted(cast, client):
    text = returned_with_reason(cast)
    act(cast.org_drafter, text, "submit")
    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")
    assert 'id="reason"' not in html
    assert "section-pointed" not in html


def test_the_opinions_are_a_list_per_revision_not_a_table(cast, client):
    text = returned_with_reason(cast)

    html = html_of(client, cast.org_drafter, f"/texts/{text.pk}/")

    assert '<table class="decisions">' not in html
    [opinion] = tree(html).xpath('//section[@id="revision-1"]//li[contains(@class, "decision")]')
    assert "decision-return" in opinion.get("class")
    assert text_of(opinion.xpath('.//*[contains(@class, "comment")]')[0]) == "请补充测算依据"
    assert opinion.xpath('.//a[@class="section-ref"]')[0].get("href") == "#section-funding"


# --- The decision panel ----------------------------------------------------------------------


def test_the_decision_panel_comes_after_the_sections(cast, client):
    text = cast.text_in("dept_review")
    html = html_of(client, cast.org_reviewer, f"/texts/{text.pk}/")
    assert html.index("</article>") < html.index('id="decide"')
    assert html.index('id="section-outcomes"') < html.index('class="action-dept_approve"')


def test_approve_return_and_reject_have_distinct_styles(cast, client):
    text = cast.text_in("dept_review")
    page = tree(html_of(client, cast.org_reviewer, f"/texts/{text.pk}/"))

    def button(action: str):
        return page.xpath(f'//form[@class="action-{action}"]//button[@type="submit"]')[0]

    assert "btn-success" in button("dept_approve").get("class")
    assert "btn-warning" in button("return").get("class")
    assert "btn-danger" in button("reject").get("class")
    reject = text_of(page.xpath('//form[@class="action-reject"]')[0])
    assert "不予立项是最终决定" in reject


def test_every_decision_asks_to_confirm_repeating_title_amount_and_action(cast, client):
    text = cast.text_in("dept_review")
    page = tree(html_of(client, cast.org_reviewer, f"/texts/{text.pk}/"))

    forms = page.xpath('//section[@id="decide"]//form[starts-with(@class, "action-")]')

    assert len(forms) == 3
    for form in forms:
        label = text_of(form.xpath('.//button[@type="submit"]')[0])
        assert form.get("data-confirm") == label
        [body] = form.xpath('.//div[@class="confirm-body"]')
        assert text_of(body.xpath('.//dd[@class="confirm-title"]')[0]) == TITLE
        assert text_of(body.xpath('.//dd[@class="confirm-amount"]')[0]) == AMOUNT
        assert text_of(body.xpath('.//dd[@class="confirm-action"]')[0]) == label


def test_the_final_approval_says_it_is_final_in_its_confirmation(cast, client):
    text = cast.text_in("approval")
    page = tree(html_of(client, cast.approver, f"/texts/{text.pk}/"))
    [body] = page.xpath('//form[@class="action-approve"]//div[@class="confirm-body"]')
    assert "批准后文本定稿" in text_of(body)


def test_the_diff_page_carries_the_reason_beside_its_section_and_the_panel(cast, client):
    text = returned_with_reason(cast, "funding")
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        data={"funding": "安排1,651,800.00元。", "amount": "1651800.00"},
    )
    act(cast.org_drafter, text, "submit")

    html = html_of(client, cast.org_reviewer, f"/texts/{text.pk}/diff/")

    [section] = tree(html).xpath('//section[@id="diff-funding"]')
    assert "section-pointed" in section.get("class")
    assert "请补充测算依据" in text_of(section.xpath('.//section[@id="reason"]')[0])
    forms = tree(html).xpath('//section[@id="decide"]//form[starts-with(@class, "action-")]')
    assert {f.get("class") for f in forms} == {
        "action-dept_approve",
        "action-return",
        "action-reject",
    }
    assert html.index('class="diff"') < html.index('id="decide"')


# --- After acting: the next waiting text -----------------------------------------------------


def test_after_deciding_the_page_offers_the_next_waiting_text(cast, client):
    first = cast.text_in("dept_review", title="第一份")
    following = cast.text_in("dept_review", title="第二份")
    client.force_login(cast.org_reviewer)

    response = client.post(
        f"/texts/{first.pk}/act/", {"action": "dept_approve", "version": first.version}
    )
    assert response.status_code == 303
    html = client.get(response["Location"]).content.decode()

    [link] = tree(html).xpath(
        '//div[contains(@class, "next-waiting")]//a[contains(@class, "next-link")]'
    )
    assert link.get("href") == f"/texts/{following.pk}/"
    assert "下一份" in text_of(link) and "第二份" in text_of(link)
    # Shown once: a reload of the page does not offer it again.
    assert "next-waiting" not in client.get(f"/texts/{first.pk}/").content.decode()


def test_after_deciding_the_last_waiting_text_the_page_says_the_inbox_is_empty(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    client.post(
        f"/texts/{text.pk}/act/", {"action": "return", "version": text.version, "comment": "改"}
    )
    html = client.get(f"/texts/{text.pk}/").content.decode()

    assert "待我处理的文本已全部处理完" in html
    assert "next-link" not in html


# --- Honest refusals ---------------------------------------------------------------------------


def test_a_stale_page_is_told_it_is_stale_not_that_the_user_may_not_act(cast, client):
    text = cast.text_in("dept_review")
    seen = text.version
    make_user("org_reviewer_2", "dept_reviewer", cast.org)
    act(user("org_reviewer_2"), text, "dept_approve")  # the text moves on meanwhile
    client.force_login(cast.org_reviewer)

    response = client.post(
        f"/texts/{text.pk}/act/",
        {"action": "return", "version": seen, "comment": "请补充测算依据", "section": "funding"},
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "此文本已在您打开后变动：现在是「财政审核」" in html
    [stale] = tree(html).xpath('//div[@id="stale"]')
    assert "org_reviewer_2" in text_of(stale) and "部门审核通过" in text_of(stale)
    assert "您不是此阶段的审核人" not in html
    assert "请补充测算依据" in text_of(stale)
    [reload] = stale.xpath('.//a[contains(@class, "reload-link")]')
    assert reload.get("href") == f"/texts/{text.pk}/"
    assert ProjectText.objects.get(pk=text.pk).state == "finance_review"


def test_a_stale_form_keeps_what_was_typed_in_the_form_and_after_reload(cast, client):
    text = cast.text_in("dept_review")
    seen = text.version
    act(cast.org_reviewer, text, "return", comment="先退回")
    act(cast.org_drafter, text, "submit")  # back at the same stage: the form is there again
    current = ProjectText.objects.get(pk=text.pk).version
    client.force_login(cast.org_reviewer)

    response = client.post(
        f"/texts/{text.pk}/act/",
        {"action": "return", "version": seen, "comment": "第二次的理由", "section": "plan"},
    )

    assert response.status_code == 409
    for html in (response.content.decode(), client.get(f"/texts/{text.pk}/").content.decode()):
        [form] = tree(html).xpath('//form[@class="action-return"]')
        assert form.xpath(".//textarea")[0].text == "第二次的理由"
        assert form.xpath(".//option[@selected]")[0].get("value") == "plan"
        assert form.xpath('.//input[@name="version"]')[0].get("value") == str(current)
    # Kept for one reload only.
    assert "第二次的理由" not in client.get(f"/texts/{text.pk}/").content.decode()


def test_a_refusal_that_is_not_stale_keeps_what_was_typed_and_says_why(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    response = client.post(
        f"/texts/{text.pk}/act/",
        {"action": "return", "version": text.version, "comment": " ", "section": "plan"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert "退回或不予立项必须填写理由" in html
    assert 'id="stale"' not in html
    [form] = tree(html).xpath('//form[@class="action-return"]')
    assert form.xpath(".//option[@selected]")[0].get("value") == "plan"


def test_a_failed_action_page_names_the_texts_own_address_for_reloads(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)
    response = client.post(f"/texts/{text.pk}/act/", {"action": "dept_approve", "version": 0})
    assert response.status_code == 409
    page = tree(response.content.decode())
    assert page.xpath("//div[@data-page-url]")[0].get("data-page-url") == f"/texts/{text.pk}/"
    assert page.xpath('//script[contains(@src, "submissions/js/text.js")]')


def test_an_overlong_or_nul_reason_is_refused_with_400_and_kept_within_bounds(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)

    for comment in ("理" * 20_000, "有\x00空字符"):
        response = client.post(
            f"/texts/{text.pk}/act/",
            {"action": "return", "version": text.version, "comment": comment},
        )
        assert response.status_code == 400
        [form] = tree(response.content.decode()).xpath('//form[@class="action-return"]')
        kept = form.xpath(".//textarea")[0].text or ""
        assert len(kept) <= 5_000 and "\x00" not in kept
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_a_refused_added_signer_keeps_the_name_typed(cast, client):
    text = cast.text_in("finance_review")
    client.force_login(cast.finance)

    response = client.post(
        f"/texts/{text.pk}/add-signer/",
        {"version": text.version, "user": "nobody", "comment": "请会签"},
    )

    assert response.status_code == 400
    [form] = tree(response.content.decode()).xpath('//form[@class="add-signer"]')
    assert form.xpath('.//input[@name="user"]')[0].get("value") == "nobody"
    assert form.xpath(".//textarea")[0].text == "请会签"
