"""The pages of drafters and reviewers: home, lists, a text, its diff, the inbox."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from submissions.models import ProjectText
from tests.factories import act, make_text, make_user, text_fields
from workflow import services
from workflow.models import Decision
from workflow.states import Role


def test_a_visitor_who_is_not_logged_in_gets_the_login_form(client, db):
    page = client.get("/")
    assert page.status_code == 200
    assert "登录" in page.content.decode()
    assert 'name="password"' in page.content.decode()


def test_logging_in_with_the_form_leads_home(cast, client):
    response = client.post(
        "/accounts/login/", {"username": "org_drafter", "password": "test-pass-2025"}
    )
    assert response.status_code == 302
    assert client.get("/").context["user"] == cast.org_drafter


def test_home_lists_the_users_own_texts_and_escapes_them(cast, client):
    cast.text(title="<script>alert(1)</script>")
    client.force_login(cast.org_drafter)

    html = client.get("/").content.decode()

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html


def test_home_does_not_list_another_departments_texts(cast, client):
    cast.text(title="组织部的项目")
    client.force_login(cast.edu_drafter)
    assert "组织部的项目" not in client.get("/").content.decode()


# --- The working pages (issue 4) ------------------------------------------------------------

SAMPLE = Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
SECTION_NAMES = ("title", "basis", "implementer", "overview", "content", "funding", "plan")
SECTION_NAMES += ("outcomes",)
PAYLOAD = "<script>alert(1)</script><img src=x onerror=alert(1)>"


def page_of(client, user, url: str):
    client.force_login(user)
    return client.get(url)


def action_forms(html: str) -> set[str]:
    return set(re.findall(r'class="action-(\w+)"', html))


def post_action(client, text, action: str, **fields):
    version = ProjectText.objects.get(pk=text.pk).version
    return client.post(f"/texts/{text.pk}/act/", {"action": action, "version": version, **fields})


def assert_inert(html: str) -> None:
    assert "<script>alert(1)" not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def form_data(**overrides):
    data = dict(text_fields())
    data.update(overrides)
    return data


def test_a_drafter_on_a_draft_sees_only_submit(cast, client):
    text = cast.text()
    html = page_of(client, cast.org_drafter, f"/texts/{text.pk}/").content.decode()
    assert action_forms(html) == {"submit"}
    assert ">提交</button>" in html
    assert "编辑" in html


def test_the_department_reviewer_sees_approve_return_and_reject(cast, client):
    text = cast.text_in("dept_review")
    html = page_of(client, cast.org_reviewer, f"/texts/{text.pk}/").content.decode()
    assert action_forms(html) == {"dept_approve", "return", "reject"}
    for label in ("通过", "退回", "不予立项"):
        assert f">{label}</button>" in html
    # The reason is required on both the return and the reject form.
    assert html.count('<textarea name="comment" required') == 2
    assert '<option value="funding">资金安排情况</option>' in html


def test_finance_sees_the_finance_stage_buttons(cast, client):
    text = cast.text_in("finance_review")
    html = page_of(client, cast.finance, f"/texts/{text.pk}/").content.decode()
    assert action_forms(html) == {"finance_approve", "return", "reject"}


def test_the_approver_sees_approve(cast, client):
    text = cast.text_in("approval")
    html = page_of(client, cast.approver, f"/texts/{text.pk}/").content.decode()
    assert action_forms(html) == {"approve", "return", "reject"}
    assert ">批准</button>" in html


def test_an_auditor_sees_no_buttons_and_no_edit_link(cast, client):
    text = cast.text()
    html = page_of(client, cast.auditor, f"/texts/{text.pk}/").content.decode()
    assert action_forms(html) == set()
    assert "编辑" not in html
    listing = client.get("/texts/").content.decode()
    assert "/texts/new/" not in listing
    assert "/texts/import/" not in listing


def test_another_departments_text_is_not_found(cast, client):
    text = cast.text()
    assert page_of(client, cast.edu_drafter, f"/texts/{text.pk}/").status_code == 404
    assert client.get(f"/texts/{text.pk}/edit/").status_code == 404
    assert client.get(f"/texts/{text.pk}/diff/").status_code == 404


def test_the_text_page_shows_the_sections_with_the_samples_headings(cast, client):
    text = cast.text(content="第一行\n第二行")
    html = page_of(client, cast.org_drafter, f"/texts/{text.pk}/").content.decode()
    for heading in ("项目名称", "立项依据", "项目实施单位", "项目基本概况"):
        assert f"<h2>{heading}</h2>" in html
    for heading in ("项目实施内容", "资金安排情况", "项目实施计划", "项目实施成效"):
        assert f"<h2>{heading}</h2>" in html
    assert '<div class="body">第一行\n第二行</div>' in html
    assert f"/api/v1/texts/{text.pk}/export.docx" in html


def test_amounts_are_shown_the_way_the_sample_writes_them(cast, client):
    text = cast.text()
    assert (
        "1,751,800.00元" in page_of(client, cast.org_drafter, f"/texts/{text.pk}/").content.decode()
    )
    assert "1,751,800.00元" in client.get("/texts/").content.decode()


def test_the_list_filters_by_state(cast, client):
    cast.text(title="草稿甲")
    cast.text_in("dept_review", title="审核中乙")
    client.force_login(cast.org_drafter)
    html = client.get("/texts/?state=draft").content.decode()
    assert "草稿甲" in html
    assert "审核中乙" not in html
    assert client.get("/texts/?state=nonsense").status_code == 400


@pytest.fixture
def xss_text(cast):
    """A text whose every section went from harmless to the payload between two revisions."""
    text = cast.text(**{name: "甲" for name in SECTION_NAMES})
    act(cast.org_drafter, text, "submit")
    act(cast.org_reviewer, text, "return", comment=PAYLOAD)
    current = ProjectText.objects.get(pk=text.pk)
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=current.version,
        data={name: PAYLOAD for name in SECTION_NAMES},
    )
    act(cast.org_drafter, text, "submit")
    return text


@pytest.mark.parametrize(
    ("who", "url"),
    [
        ("org_reviewer", "/texts/{pk}/"),
        ("org_reviewer", "/texts/"),
        ("org_reviewer", "/texts/{pk}/diff/"),
        ("org_reviewer", "/inbox/"),
        ("org_reviewer", "/"),
        ("auditor", "/texts/{pk}/"),
    ],
)
def test_a_payload_in_every_section_renders_inert(cast, client, xss_text, who, url):
    response = page_of(client, getattr(cast, who), url.format(pk=xss_text.pk))
    assert response.status_code == 200
    assert_inert(response.content.decode())


def test_a_payload_renders_inert_in_the_edit_form(cast, client):
    text = cast.text(**{name: PAYLOAD for name in SECTION_NAMES})
    html = page_of(client, cast.org_drafter, f"/texts/{text.pk}/edit/").content.decode()
    assert_inert(html)


def test_a_return_without_a_reason_is_refused_and_changes_nothing(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)
    response = post_action(client, text, "return", comment="  ")
    assert response.status_code == 400
    assert "退回或不予立项必须填写理由" in response.content.decode()
    after = ProjectText.objects.get(pk=text.pk)
    assert (after.state, after.version) == ("dept_review", text.version)
    assert not Decision.objects.filter(text=text).exists()


def test_a_stale_action_is_refused_with_409(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)
    response = client.post(
        f"/texts/{text.pk}/act/", {"action": "dept_approve", "version": text.version - 1}
    )
    assert response.status_code == 409
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"


def test_an_action_the_user_may_not_take_is_403(cast, client):
    text = cast.text_in("finance_review")
    client.force_login(cast.org_reviewer)
    assert post_action(client, text, "finance_approve").status_code == 403


def test_creating_a_text_through_the_page(cast, client):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(content="一\r\n二"))
    assert response.status_code == 303
    text = ProjectText.objects.get()
    assert response["Location"] == f"/texts/{text.pk}/"
    assert (text.department, text.state, text.content) == (cast.org, "draft", "一\n二")
    assert str(text.amount) == "1751800.00"


def test_the_create_form_labels_the_sections_as_the_sample_does(cast, client):
    html = page_of(client, cast.org_drafter, "/texts/new/").content.decode()
    for heading in ("一、项目名称", "四、项目基本概况", "六、资金安排情况", "八、项目实施成效"):
        assert heading in html
    assert ">保存</button>" in html


def test_a_bad_field_is_shown_next_to_it_with_400(cast, client):
    client.force_login(cast.org_drafter)
    response = client.post("/texts/new/", form_data(title=" ", amount="-5"))
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-title"' in html
    assert 'id="error-amount"' in html
    assert not ProjectText.objects.exists()


def test_editing_a_text_through_the_page(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    page = client.get(f"/texts/{text.pk}/edit/").content.decode()
    assert f'name="version" value="{text.version}"' in page
    response = client.post(
        f"/texts/{text.pk}/edit/", form_data(version=text.version, plan="改后的计划")
    )
    assert response.status_code == 303
    after = ProjectText.objects.get(pk=text.pk)
    assert (after.plan, after.version) == ("改后的计划", text.version + 1)


def test_editing_with_a_stale_version_asks_to_reload(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    client.post(f"/texts/{text.pk}/edit/", form_data(version=text.version, plan="甲"))
    response = client.post(f"/texts/{text.pk}/edit/", form_data(version=text.version, plan="乙"))
    assert response.status_code == 409
    assert "请刷新" in response.content.decode()
    assert ProjectText.objects.get(pk=text.pk).plan == "甲"


def test_a_text_under_review_cannot_be_edited(cast, client):
    text = cast.text_in("dept_review")
    assert page_of(client, cast.org_drafter, f"/texts/{text.pk}/edit/").status_code == 409


def test_submitting_and_withdrawing_through_the_page(cast, client):
    text = cast.text()
    client.force_login(cast.org_drafter)
    response = post_action(client, text, "submit")
    assert response.status_code == 303
    assert response["Location"] == f"/texts/{text.pk}/"
    assert ProjectText.objects.get(pk=text.pk).state == "dept_review"
    assert "成功" in client.get(f"/texts/{text.pk}/").content.decode()
    assert post_action(client, text, "withdraw").status_code == 303
    assert ProjectText.objects.get(pk=text.pk).state == "draft"


def test_returning_through_the_page_shows_the_reason_and_section(cast, client):
    text = cast.text_in("dept_review")
    client.force_login(cast.org_reviewer)
    response = post_action(client, text, "return", comment="请补充测算依据", section="funding")
    assert response.status_code == 303
    assert ProjectText.objects.get(pk=text.pk).state == "returned"
    html = page_of(client, cast.org_drafter, f"/texts/{text.pk}/").content.decode()
    assert "请补充测算依据" in html
    assert '<a class="section-ref" href="#section-funding">资金安排情况</a>' in html
    assert "org_reviewer" in html


def test_approving_through_the_page(cast, client):
    text = cast.text_in("approval")
    client.force_login(cast.approver)
    assert post_action(client, text, "approve", comment="同意").status_code == 303
    assert ProjectText.objects.get(pk=text.pk).state == "approved"


def test_the_timeline_hides_refused_attempts_except_from_auditors(cast, client):
    text = cast.text_in("finance_review")
    client.force_login(cast.org_reviewer)
    post_action(client, text, "finance_approve")  # refused: not this stage's reviewer
    drafter_html = page_of(client, cast.org_drafter, f"/texts/{text.pk}/").content.decode()
    auditor_html = page_of(client, cast.auditor, f"/texts/{text.pk}/").content.decode()
    assert "outcome-refused" not in drafter_html
    assert "outcome-refused" in auditor_html
    assert "outcome-ok" in drafter_html


def test_the_import_preview_creates_nothing(cast, client):
    client.force_login(cast.org_drafter)
    with SAMPLE.open("rb") as upload:
        response = client.post("/texts/import/", {"step": "preview", "file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "中共新平彝族傣族自治县委员会组织部" in html
    assert ">创建草稿</button>" in html
    assert not ProjectText.objects.exists()


def test_confirming_the_import_creates_the_two_sample_texts(cast, client):
    client.force_login(cast.org_drafter)
    with SAMPLE.open("rb") as upload:
        client.post("/texts/import/", {"step": "preview", "file": upload})
    response = client.post("/texts/import/", {"step": "confirm"})
    assert response.status_code == 303
    assert ProjectText.objects.filter(department=cast.org, state="draft").count() == 2
    # The upload is used once.
    assert client.post("/texts/import/", {"step": "confirm"}).status_code == 400
    assert ProjectText.objects.count() == 2


def test_a_bad_import_file_names_the_line(cast, client):
    client.force_login(cast.org_drafter)
    bad = SimpleUploadedFile(
        "bad.txt",
        "某部门\n2025年部门预算重点领域财政项目文本\n一、项目名称\n甲\n二、立项依据\n".encode(),
    )
    response = client.post("/texts/import/", {"step": "preview", "file": bad})
    assert response.status_code == 400
    assert "第5行" in response.content.decode()
    assert not ProjectText.objects.exists()


def test_only_drafters_may_open_create_and_import(cast, client):
    client.force_login(cast.org_reviewer)
    assert client.get("/texts/new/").status_code == 403
    assert client.get("/texts/import/").status_code == 403


def test_the_inbox_lists_waiting_texts_with_checkboxes(cast, client):
    text = cast.text_in("dept_review", title="等待审核的项目")
    html = page_of(client, cast.org_reviewer, "/inbox/").content.decode()
    assert "等待审核的项目" in html
    assert f'name="texts" value="{text.pk}"' in html
    assert f'name="version-{text.pk}" value="{text.version}"' in html
    assert ">批量通过</button>" in html
    assert re.search(r'<td class="due"[^>]*>\d{4}-\d\d-\d\d', html)


def test_bulk_approve_reports_what_was_approved_and_what_was_refused(cast, client):
    ok = [cast.text_in("dept_review", title=f"可通过{i}") for i in range(2)]
    services.grant_role(actor=None, user=cast.org_reviewer, role=Role.DRAFTER, department=cast.org)
    # Someone else can review what org_reviewer wrote: the stage stays reachable.
    make_user("org_reviewer_2", Role.DEPT_REVIEWER, cast.org)
    own = make_text(cast.org_reviewer, cast.org, title="自己写的")
    act(cast.org_reviewer, own, "submit")
    own = ProjectText.objects.get(pk=own.pk)
    texts = [*ok, own]
    client.force_login(cast.org_reviewer)
    data = {"texts": [t.pk for t in texts]}
    data.update({f"version-{t.pk}": t.version for t in texts})

    response = client.post("/inbox/approve/", data, follow=True)

    # Post/redirect/get: the result is shown by a GET, so that a reload approves nothing.
    assert response.redirect_chain == [("/inbox/approve/", 303)]
    assert response.status_code == 200
    assert [r["id"] for r in response.context["approved"]] == [t.pk for t in ok]
    [refused] = response.context["refused"]
    assert refused["id"] == own.pk
    assert "职责分离" in refused["reason"]
    assert "职责分离" in response.content.decode()
    assert {t.state for t in ProjectText.objects.filter(pk__in=[t.pk for t in ok])} == {
        "finance_review"
    }
    assert ProjectText.objects.get(pk=own.pk).state == "dept_review"


def test_the_diff_shows_exactly_the_changed_amount(cast, client):
    text = cast.text_in("returned")
    current = ProjectText.objects.get(pk=text.pk)
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=current.version,
        data={"amount": "1851800.00"},
    )
    act(cast.org_drafter, text, "submit")
    html = page_of(client, cast.org_reviewer, f"/texts/{text.pk}/").content.decode()
    assert f'href="/texts/{text.pk}/diff/"' in html

    html = client.get(f"/texts/{text.pk}/diff/").content.decode()

    assert html.count("<del>") == html.count("<ins>") == 1
    assert "1<del>7</del><ins>8</ins>51800.00" in html
    assert html.count('class="section unchanged"') == 9


def test_the_diff_against_an_unknown_revision_is_404(cast, client):
    text = cast.text_in("returned")
    act(cast.org_drafter, text, "submit")
    client.force_login(cast.org_reviewer)
    assert client.get(f"/texts/{text.pk}/diff/?against=1").status_code == 200
    assert client.get(f"/texts/{text.pk}/diff/?against=9").status_code == 404


def test_the_diff_compares_against_the_revision_this_stage_returned(cast, client):
    text = cast.text_in("finance_review")  # revision 1, returned by finance below
    act(cast.finance, text, "return", comment="金额有误")
    act(cast.org_drafter, text, "submit")  # revision 2: unchanged, dept reviews it again
    act(cast.org_reviewer, text, "return", comment="再改")
    services.edit_text(
        actor=cast.org_drafter,
        text_id=text.pk,
        version=ProjectText.objects.get(pk=text.pk).version,
        data={"amount": "1851800.00"},
    )
    act(cast.org_drafter, text, "submit")  # revision 3
    act(cast.org_reviewer, text, "dept_approve")  # back at finance, which last saw rev 1
    client.force_login(cast.finance)

    page = client.get(f"/texts/{text.pk}/diff/")

    assert page.context["against"] == 1
    assert page.context["latest"] == 3


@pytest.mark.parametrize(
    "form",
    [
        {"action": "fly", "version": "1"},
        {"action": "return", "version": "1", "comment": ""},
        {"action": "dept_approve", "version": "abc"},
        {"action": "dept_approve", "version": "1", "section": "nowhere"},
    ],
    ids=["unknown-action", "return-without-reason", "bad-version", "bad-section"],
)
@pytest.mark.parametrize("whose", ["another-departments", "missing"])
def test_bad_input_on_a_text_one_may_not_see_is_a_404_not_a_500(cast, client, form, whose):
    text = cast.text_in("dept_review")
    pk = text.pk if whose == "another-departments" else text.pk + 1000
    client.raise_request_exception = False
    client.force_login(cast.edu_reviewer)

    response = client.post(f"/texts/{pk}/act/", form)

    assert response.status_code == 404
