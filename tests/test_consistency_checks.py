"""The consistency checks a reviewer sees before deciding: each check warns for a text that
triggers it, names both places, and stays silent for one that does not."""

import datetime
from decimal import Decimal
from typing import Any

import pytest

from submissions.checks import CODES, warnings_for
from submissions.content import clean_content
from submissions.demo_content import ENRICHMENT, PARTY_BUILDING_TITLE
from tests.factories import text_fields


def content(**overrides: Any) -> dict[str, Any]:
    """A complete, consistent text's content as stored, changed by `overrides`."""
    values = clean_content(text_fields(), partial=False)
    values.update(
        {
            "start_date": None,
            "end_date": None,
            "for_publication": False,
            "breakdown": [],
            "yearly_amounts": [],
            "indicators": [],
            "milestones": [],
        }
    )
    values.update(clean_content(overrides, partial=True) if overrides else {})
    return values


def codes(values: dict[str, Any]) -> list[str]:
    return [warning.code for warning in warnings_for(values)]


def the_warning(values: dict[str, Any], code: str):
    (warning,) = [w for w in warnings_for(values) if w.code == code]
    return warning


def test_a_consistent_text_has_no_warnings():
    assert warnings_for(content()) == []


def test_every_check_has_a_code_listed_for_the_api():
    assert len(set(CODES)) == len(CODES) == 7


# breakdown total ≠ amount


def test_a_breakdown_that_does_not_add_up_to_the_amount_is_named_with_both_figures():
    values = content(breakdown=[{"item": "培训费", "amount": "1000"}], amount="1751800.00")

    warning = the_warning(values, "breakdown_total")

    assert warning.places == ("breakdown", "amount")
    assert "1,000.00元" in warning.message and "1,751,800.00元" in warning.message


def test_a_breakdown_that_adds_up_is_not_warned_of():
    values = content(breakdown=[{"item": "换届", "amount": "1751800.00"}])

    assert "breakdown_total" not in codes(values)


# the fiscal year's entry of 分年度资金 ≠ amount


def test_a_yearly_amount_for_the_fiscal_year_other_than_the_amount_is_warned_of():
    values = content(yearly_amounts=[{"year": 2025, "amount": "100"}])

    assert the_warning(values, "yearly_amount").places == ("yearly_amounts", "amount")


def test_yearly_amounts_that_agree_are_not_warned_of():
    values = content(
        yearly_amounts=[{"year": 2025, "amount": "1751800"}, {"year": 2026, "amount": "5"}]
    )

    assert "yearly_amount" not in codes(values)


# an amount in 六's prose ≠ amount


def test_an_amount_in_the_funding_prose_other_than_the_amount_is_warned_of():
    values = content(funding="安排175.18万元，用于换届。", amount="1751700.00")

    warning = the_warning(values, "funding_prose_amount")

    assert warning.places == ("funding", "amount")
    assert "175.18万元" in warning.message and "1,751,700.00元" in warning.message


def test_the_funding_prose_may_state_the_amount_in_wan_yuan():
    assert "funding_prose_amount" not in codes(content(funding="安排175.18万元。"))


def test_the_funding_prose_may_state_parts_beside_the_total():
    prose = "共安排1,751,800.00元，其中培训1,000元。"

    assert "funding_prose_amount" not in codes(content(funding=prose))


# a year other than the fiscal year or the project's years


def test_a_year_outside_the_budget_year_and_the_project_is_named_with_its_section():
    values = content(content="2024年拍摄不少于1部课件。")

    warning = the_warning(values, "stray_year")

    assert warning.places == ("content", "fiscal_year")
    assert "五、项目实施内容" in warning.message and "2024" in warning.message


def test_the_years_a_project_runs_across_are_not_stray():
    values = content(
        content="2025年年底筹备，2026年3月底前结束。",
        start_date="2025-09-01",
        end_date="2026-03-31",
    )

    assert "stray_year" not in codes(values)


def test_years_of_cited_documents_and_of_the_basis_are_not_stray():
    values = content(
        basis="根据《2024年玉溪市基层党建工作实施方案》（玉办通〔2024〕19号）。",
        content="落实《2023年工作要点》。",
    )

    assert "stray_year" not in codes(values)


# an activity in 五 with no milestone in 七


def test_an_activity_with_no_milestone_or_plan_is_named_with_its_number():
    values = content(content="（一）基层党建工作\n（二）购买保险工作", plan="（一）基层党建工作")

    warning = the_warning(values, "activity_without_milestone")

    assert warning.places == ("content", "milestones")
    assert "（二）" in warning.message and "购买保险" in warning.message


def test_an_activity_with_a_milestone_of_a_similar_name_is_planned():
    values = content(
        content="（一）机关党支部及离退休党支部工作",
        milestones=[{"task": "支部活动", "due": "2025-12-31", "activity": "机关党支部工作"}],
    )

    assert "activity_without_milestone" not in codes(values)


def test_the_second_sample_text_plans_every_activity_once_its_milestones_are_given():
    values = content(
        content="（一）基层党建工作\n（二）村（社区）小组干部购买团体意外伤害保险工作\n"
        "（七）“社区合伙人”工作",
        milestones=ENRICHMENT[PARTY_BUILDING_TITLE]["milestones"],
    )

    assert "activity_without_milestone" not in codes(values)


# an indicator without value or unit


def test_an_indicator_without_a_value_or_unit_is_named_by_its_row():
    row = {"level1": "output", "level2": "quantity", "name": "培训人数", "comparison": "≥"}

    warning = the_warning(content(indicators=[row]), "indicator_incomplete")

    assert warning.places == ("indicators",)
    assert "第 1 行（培训人数）" in warning.message
    assert "指标值" in warning.message and "计量单位" in warning.message


def test_a_complete_indicator_is_not_warned_of():
    row = {
        "level1": "output",
        "level2": "quantity",
        "name": "培训人数",
        "comparison": "≥",
        "value": "750",
        "unit": "人次",
    }

    assert "indicator_incomplete" not in codes(content(indicators=[row]))


# phone numbers in a text marked for publication


@pytest.mark.parametrize("phone", ["13800000000", "0877-7012345", "0877 7012345"])
def test_a_phone_number_in_a_text_to_be_published_is_warned_of(phone):
    values = content(for_publication=True, implementer=f"组织部，联系电话{phone}。")

    warning = the_warning(values, "phone_in_public_text")

    assert warning.places == ("implementer", "for_publication")
    assert phone in warning.message


def test_a_phone_number_in_a_text_not_to_be_published_is_not_warned_of():
    values = content(for_publication=False, implementer="组织部，联系电话13800000000。")

    assert "phone_in_public_text" not in codes(values)


def test_amounts_and_dates_are_not_mistaken_for_phone_numbers():
    values = content(for_publication=True, funding="安排1751800.00元，20250901前拨付。")

    assert "phone_in_public_text" not in codes(values)


def test_the_checks_read_a_stored_text_as_well_as_cleaned_input(cast):
    from submissions.checks import content_of

    text = cast.text(start_date="2025-09-01", end_date="2025-12-31", amount="10.00")

    assert isinstance(content_of(text)["start_date"], datetime.date)
    assert "funding_prose_amount" in codes(content_of(text))
    assert content_of(text)["amount"] == Decimal("10.00")
