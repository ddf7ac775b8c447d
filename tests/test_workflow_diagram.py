"""The workflow diagram (workflow/diagram.py): an inline SVG drawn from a workflow document.

Plain functions on plain dicts: no database. The SVG is parsed back with ElementTree and the
tests look at what a reader would see: texts, where boxes sit, which borders are dashed.
"""

from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
from typing import Any

from workflow.diagram import render_svg

NS = "http://www.w3.org/2000/svg"
SVG = f"{{{NS}}}"
HOSTILE = "<script>alert(1)</script> & co"

DOCUMENT: dict[str, Any] = {
    "code": "budget-text",
    "name": "部门预算项目文本审批",
    "roles": [{"code": "performance_reviewer", "name": "绩效审核人", "scope": "global"}],
    "stages": [
        {
            "code": "dept_review",
            "name": "部门审核",
            "approve_action": "dept_approve",
            "lanes": [{"role": "dept_reviewer", "quorum": 1}],
            "due_days": 5,
            "supervisor_role": "dept_review_supervisor",
        },
        {
            "code": "finance_review",
            "name": "财政审核",
            "approve_action": "finance_approve",
            "lanes": [
                {"role": "finance_reviewer", "quorum": 1},
                {"role": "performance_reviewer", "quorum": 1},
            ],
        },
        {
            "code": "county_review",
            "name": "县政府审议",
            "approve_action": "county_approve",
            "when": {"amount_at_least": "1500000.00"},
            "lanes": [{"role": "county_reviewer", "quorum": 2}],
        },
        {
            "code": "approval",
            "name": "待审批",
            "approve_action": "approve",
            "lanes": [{"role": "approver", "quorum": "all"}],
        },
    ],
}
ROLE_NAMES = {
    "dept_reviewer": "部门审核人",
    "finance_reviewer": "财政审核人",
    "county_reviewer": "县政府审议人",
    "approver": "审批人",
}


def chain(stages: int) -> dict[str, Any]:
    return {
        "code": "long",
        "name": "长链",
        "roles": [],
        "stages": [
            {
                "code": f"stage_{chr(ord('a') + i)}",
                "name": f"第{i + 1}级审核",
                "approve_action": f"approve_{chr(ord('a') + i)}",
                "lanes": [{"role": "approver", "quorum": 1}],
            }
            for i in range(stages)
        ],
    }


def parse(svg: str) -> ET.Element:
    # Only the module's own output is parsed here, in a test.
    return ET.fromstring(svg)  # noqa: S314


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter(f"{SVG}text")]


def text_element(root: ET.Element, content: str) -> ET.Element:
    (element,) = [e for e in root.iter(f"{SVG}text") if e.text == content]
    return element


def view_box(root: ET.Element) -> tuple[float, float, float, float]:
    x, y, width, height = (float(part) for part in root.attrib["viewBox"].split())
    return x, y, width, height


def box(rect: ET.Element) -> tuple[float, float, float, float]:
    return tuple(float(rect.attrib[key]) for key in ("x", "y", "width", "height"))


def stage_border(root: ET.Element, stage_name: str) -> ET.Element:
    """The outermost rectangle around a stage's name: the stage's own box."""
    name = text_element(root, stage_name)
    px, py = float(name.attrib["x"]), float(name.attrib["y"])
    around = [
        rect
        for rect in root.iter(f"{SVG}rect")
        if (b := box(rect))[0] <= px <= b[0] + b[2] and b[1] <= py <= b[1] + b[3]
    ]
    return max(around, key=lambda rect: box(rect)[2] * box(rect)[3])


def test_output_is_an_svg_document_with_a_view_box() -> None:
    root = parse(render_svg(DOCUMENT, ROLE_NAMES))

    assert root.tag == f"{SVG}svg"
    x, y, width, height = view_box(root)
    assert (x, y) == (0, 0)
    assert width > 0
    assert height > 0
    assert float(root.attrib["width"]) == width
    assert float(root.attrib["height"]) == height


def test_diagram_is_labelled_with_the_workflow_name_for_assistive_technology() -> None:
    root = parse(render_svg(DOCUMENT, ROLE_NAMES))

    assert root.attrib["role"] == "img"
    assert "部门预算项目文本审批" in root.attrib["aria-label"]
    assert "部门预算项目文本审批" in root.find(f"{SVG}title").text


def test_every_stage_name_and_code_is_shown() -> None:
    shown = texts(parse(render_svg(DOCUMENT, ROLE_NAMES)))

    for stage in DOCUMENT["stages"]:
        assert stage["name"] in shown
        assert stage["code"] in shown


def test_every_lane_shows_its_role_name() -> None:
    shown = texts(parse(render_svg(DOCUMENT, ROLE_NAMES)))

    for name in ["部门审核人", "财政审核人", "绩效审核人", "县政府审议人", "审批人"]:
        assert name in shown


def test_role_names_given_override_the_document_and_unknown_roles_show_their_code() -> None:
    shown = texts(parse(render_svg(DOCUMENT, {"performance_reviewer": "绩效评价人"})))

    assert "绩效评价人" in shown
    assert "绩效审核人" not in shown
    assert "finance_reviewer" in shown


def test_parallel_lanes_are_drawn_side_by_side() -> None:
    root = parse(render_svg(DOCUMENT, ROLE_NAMES))

    finance = text_element(root, "财政审核人")
    performance = text_element(root, "绩效审核人")
    assert finance.attrib["x"] != performance.attrib["x"]
    assert finance.attrib["y"] == performance.attrib["y"]


def test_quorum_labels_say_any_one_several_or_all() -> None:
    shown = texts(parse(render_svg(DOCUMENT, ROLE_NAMES)))

    assert "或签 1人" in shown
    assert "会签 2人" in shown
    assert "会签 全部" in shown


def test_conditional_stage_has_a_dashed_border_and_shows_its_threshold() -> None:
    root = parse(render_svg(DOCUMENT, ROLE_NAMES))

    assert "stroke-dasharray" in stage_border(root, "县政府审议").attrib
    assert any("1,500,000.00" in text and "≥" in text for text in texts(root))


def test_unconditional_stage_has_a_solid_border() -> None:
    root = parse(render_svg(DOCUMENT, ROLE_NAMES))

    for name in ["部门审核", "财政审核", "待审批"]:
        assert "stroke-dasharray" not in stage_border(root, name).attrib


def test_conditional_stage_gets_a_dashed_bypass_and_an_unconditional_chain_none() -> None:
    with_condition = parse(render_svg(DOCUMENT, ROLE_NAMES))
    without = parse(render_svg(chain(3)))

    assert any("stroke-dasharray" in p.attrib for p in with_condition.iter(f"{SVG}path"))
    assert not any("stroke-dasharray" in p.attrib for p in without.iter(f"{SVG}path"))


def test_due_days_are_shown_when_set() -> None:
    shown = texts(parse(render_svg(DOCUMENT, ROLE_NAMES)))

    assert any("时限 5 个工作日" in text for text in shown)


def test_start_end_return_and_reject_are_shown() -> None:
    shown = texts(parse(render_svg(DOCUMENT, ROLE_NAMES)))

    assert "提交" in shown
    assert "已批准" in shown
    assert any("退回" in text and "不予立项" in text for text in shown)


def test_hostile_stage_and_role_names_are_escaped() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["stages"][0]["name"] = HOSTILE

    svg = render_svg(document, {"dept_reviewer": HOSTILE})

    assert "<script>" not in svg
    assert texts(parse(svg)).count(HOSTILE) == 2


def test_hostile_workflow_name_is_escaped_in_title_and_label() -> None:
    document = {**DOCUMENT, "name": HOSTILE + ' "quoted"'}

    svg = render_svg(document, ROLE_NAMES)

    root = parse(svg)
    assert "<script>" not in svg
    assert HOSTILE + ' "quoted"' in root.attrib["aria-label"]
    assert HOSTILE + ' "quoted"' in root.find(f"{SVG}title").text


def test_longer_chain_gets_a_taller_view_box() -> None:
    short = view_box(parse(render_svg(chain(2))))
    long = view_box(parse(render_svg(chain(10))))

    assert long[3] > short[3]


def test_every_box_lies_inside_the_view_box() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["stages"][1]["name"] = "财" * 60
    document["stages"][1]["lanes"].append({"role": "x" * 80, "quorum": 1})

    root = parse(render_svg(document, ROLE_NAMES))

    _, _, width, height = view_box(root)
    for rect in root.iter(f"{SVG}rect"):
        x, y, w, h = box(rect)
        assert x >= 0
        assert x + w <= width
        assert y >= 0
        assert y + h <= height


def test_nothing_outside_the_svg_is_referenced() -> None:
    svg = render_svg(DOCUMENT, ROLE_NAMES)

    assert set(re.findall(r"https?://[^\s\"'<>]*", svg)) == {NS}
    assert "href" not in svg


def test_control_characters_in_names_still_give_well_formed_xml() -> None:
    document = copy.deepcopy(DOCUMENT)
    document["stages"][0]["name"] = "部门\x01审核"

    root = parse(render_svg(document, ROLE_NAMES))

    assert "部门审核" in texts(root)
