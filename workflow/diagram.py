"""Workflow diagrams: a workflow document drawn as an inline SVG string, server-side.

Shown on the admin page of a workflow version, so whoever publishes a chain can see what it
does before any text moves through it. Pure Python: no JavaScript and no external assets. The
site's Content-Security-Policy (config/settings.py) allows no inline style, so everything is
drawn with presentation attributes (fill, stroke, font-size), never `style` or <style>; and
arrowheads are plain polygons rather than <marker>s, whose ids would clash if two diagrams
ever shared a page.

The layout runs top to bottom, which stays readable on a narrow admin page however many stages
there are: the start node (提交), one box per stage in order with its lanes side by side
inside, then the end node (已批准). A conditional stage has a dashed border and a dashed bypass
on its right; a stub on the left of every stage says it may return or reject the text.

Names in the document are user-supplied: every piece of text is XML-escaped here, so the
result can be inserted into a page as it is.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.sax.saxutils import escape

SVG_NS = "http://www.w3.org/2000/svg"

# Geometry, in SVG user units (pixels at the natural size).
PAD = 16  # around the whole drawing
GAP = 52  # between nodes; holds the connecting arrow and the bypass turns
BOX_PAD = 14
LINE_HEIGHT = 1.4  # in ems
STAGE_MIN_WIDTH = 240
LANE_GAP = 12
LANE_PAD = 10
LANE_MIN_WIDTH = 96
LANE_HEIGHT = 46
NODE_HEIGHT = 32
NODE_PAD = 22
SIDE_ARROW = 26  # the return/reject stub on the left of each stage
BYPASS_OFFSET = 24  # how far right of the stage boxes the bypass runs
HEAD = 5  # arrowhead half-width

NAME_SIZE = 15
CODE_SIZE = 11
DETAIL_SIZE = 12
ROLE_SIZE = 13
QUORUM_SIZE = 12
NODE_SIZE = 13
NOTE_SIZE = 11

INK = "#333333"
MUTED = "#666666"
STAGE_FILL = "#f4f7fb"
STAGE_STROKE = "#4a6c8f"
LANE_FILL = "#ffffff"
LANE_STROKE = "#9bb0c6"
CONDITION = "#8a5a00"
START_FILL = "#e8eef5"
END_FILL = "#e3f1e3"
END_STROKE = "#3c7a3c"
SIDE = "#a23b2e"
DASH = "6 4"

START_LABEL = "提交"
END_LABEL = "已批准"
SIDE_LABEL = "退回 / 不予立项"
BYPASS_LABEL = "跳过"
SIDE_NOTE = "退回 / 不予立项：每个阶段均可退回（退回修改）或不予立项（流程终止）。"
CONDITION_NOTE = "虚线框：按条件适用的阶段；虚线箭头：不适用时跳过该阶段。"

# XML 1.0 cannot carry these at all, even escaped; a name holding one would break the page.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def text_width(text: str, size: float) -> float:
    """Approximate rendered width: no font metrics server-side, so wide (CJK) characters
    count as 1em and everything else as 0.6em, which errs on the generous side."""
    ems = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.6 for ch in text)
    return ems * size


def quorum_label(quorum: int | str) -> str:
    if quorum == "all":
        return "会签 全部"
    if quorum == 1:
        return "或签 1人"
    return f"会签 {quorum}人"


def condition_label(when: dict[str, Any]) -> str:
    raw = str(when.get("amount_at_least", ""))
    try:
        amount = f"{Decimal(raw):,.2f}"
    except (InvalidOperation, ValueError):
        # Validated elsewhere; still draw something truthful rather than fail the page.
        amount = raw
    return f"金额 ≥ {amount}元 时适用"


@dataclass(frozen=True)
class Line:
    text: str
    size: float
    fill: str = INK
    bold: bool = False

    @property
    def width(self) -> float:
        # Bold glyphs run a little wider than the estimate.
        return text_width(self.text, self.size) * (1.08 if self.bold else 1.0)

    @property
    def height(self) -> float:
        return self.size * LINE_HEIGHT


@dataclass(frozen=True)
class Lane:
    role: str
    quorum: str

    @property
    def width(self) -> float:
        widest = max(text_width(self.role, ROLE_SIZE), text_width(self.quorum, QUORUM_SIZE))
        return max(LANE_MIN_WIDTH, widest + 2 * LANE_PAD)


@dataclass(frozen=True)
class Stage:
    header: tuple[Line, ...]
    lanes: tuple[Lane, ...]
    conditional: bool

    @property
    def lanes_width(self) -> float:
        return sum(lane.width for lane in self.lanes) + LANE_GAP * max(len(self.lanes) - 1, 0)

    @property
    def width(self) -> float:
        inner = max([self.lanes_width, *(line.width for line in self.header)])
        return max(STAGE_MIN_WIDTH, inner + 2 * BOX_PAD)

    @property
    def header_height(self) -> float:
        return sum(line.height for line in self.header)

    @property
    def height(self) -> float:
        lanes = LANE_HEIGHT + 6 if self.lanes else 0
        return BOX_PAD + self.header_height + lanes + BOX_PAD


def _role_namer(document: dict[str, Any], role_names: dict[str, str] | None) -> dict[str, str]:
    names = {role["code"]: role.get("name") or role["code"] for role in document.get("roles", [])}
    names.update({code: name for code, name in (role_names or {}).items() if name})
    return names


def _stage(spec: dict[str, Any], names: dict[str, str]) -> Stage:
    header = [
        Line(spec.get("name") or spec["code"], NAME_SIZE, bold=True),
        Line(spec["code"], CODE_SIZE, fill=MUTED),
    ]
    when = spec.get("when")
    if when:
        header.append(Line(condition_label(when), DETAIL_SIZE, fill=CONDITION))
    timing = []
    if spec.get("due_days") is not None:
        timing.append(f"时限 {spec['due_days']} 个工作日")
    if spec.get("supervisor_role"):
        code = spec["supervisor_role"]
        timing.append(f"超期督办：{names.get(code, code)}")
    if timing:
        header.append(Line(" · ".join(timing), DETAIL_SIZE, fill=MUTED))
    lanes = tuple(
        Lane(names.get(lane["role"], lane["role"]), quorum_label(lane.get("quorum", 1)))
        for lane in spec.get("lanes", [])
    )
    return Stage(tuple(header), lanes, conditional=bool(when))


def _clean(text: str) -> str:
    return escape(_NOT_XML.sub("", text))


def _attr(text: str) -> str:
    return escape(_NOT_XML.sub("", text), {'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})


def _n(value: float) -> str:
    """Coordinates to one decimal place: enough precision, and short output."""
    return f"{value:.1f}".removesuffix(".0")


def _text(x: float, y: float, line: Line, anchor: str = "middle") -> str:
    weight = ' font-weight="bold"' if line.bold else ""
    return (
        f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(line.size)}" fill="{line.fill}"'
        f' text-anchor="{anchor}"{weight}>{_clean(line.text)}</text>'
    )


def _rect(x: float, y: float, w: float, h: float, fill: str, stroke: str, **extra: str) -> str:
    attrs = "".join(f' {key.replace("_", "-")}="{value}"' for key, value in extra.items())
    return (
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" fill="{fill}"'
        f' stroke="{stroke}" stroke-width="1.5"{attrs}/>'
    )


def _head(x: float, y: float, direction: str, colour: str) -> str:
    """An arrowhead whose tip is at (x, y), pointing down, left or right."""
    if direction == "down":
        points = [(x - HEAD, y - 2 * HEAD), (x + HEAD, y - 2 * HEAD), (x, y)]
    elif direction == "left":
        points = [(x + 2 * HEAD, y - HEAD), (x + 2 * HEAD, y + HEAD), (x, y)]
    else:
        points = [(x - 2 * HEAD, y - HEAD), (x - 2 * HEAD, y + HEAD), (x, y)]
    joined = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
    return f'<polygon points="{joined}" fill="{colour}"/>'


def _down_arrow(x: float, top: float, bottom: float) -> list[str]:
    return [
        f'<line x1="{_n(x)}" y1="{_n(top)}" x2="{_n(x)}" y2="{_n(bottom - 2 * HEAD)}"'
        f' stroke="{INK}" stroke-width="1.5"/>',
        _head(x, bottom, "down", INK),
    ]


def _node(cx: float, top: float, label: str, fill: str, stroke: str) -> list[str]:
    width = text_width(label, NODE_SIZE) + 2 * NODE_PAD
    return [
        _rect(cx - width / 2, top, width, NODE_HEIGHT, fill, stroke, rx=_n(NODE_HEIGHT / 2)),
        _text(cx, top + NODE_HEIGHT / 2 + NODE_SIZE * 0.35, Line(label, NODE_SIZE)),
    ]


def _draw_stage(stage: Stage, left: float, top: float, width: float) -> list[str]:
    dashed = {"stroke_dasharray": DASH} if stage.conditional else {}
    parts = [_rect(left, top, width, stage.height, STAGE_FILL, STAGE_STROKE, rx="6", **dashed)]
    cx = left + width / 2
    y = top + BOX_PAD
    for line in stage.header:
        # Baseline sits about 1em below the top of the line box.
        parts.append(_text(cx, y + line.size, line))
        y += line.height
    x = cx - stage.lanes_width / 2
    lane_top = y + 6
    for lane in stage.lanes:
        parts.append(_rect(x, lane_top, lane.width, LANE_HEIGHT, LANE_FILL, LANE_STROKE, rx="4"))
        lane_cx = x + lane.width / 2
        parts.append(_text(lane_cx, lane_top + 19, Line(lane.role, ROLE_SIZE)))
        parts.append(_text(lane_cx, lane_top + 37, Line(lane.quorum, QUORUM_SIZE, fill=MUTED)))
        x += lane.width + LANE_GAP
    return parts


def _side_stub(left: float, y: float) -> list[str]:
    tip = left - SIDE_ARROW
    return [
        f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(tip + 2 * HEAD)}" y2="{_n(y)}"'
        f' stroke="{SIDE}" stroke-width="1.2"/>',
        _head(tip, y, "left", SIDE),
        _text(tip - 4, y + NOTE_SIZE * 0.35, Line(SIDE_LABEL, NOTE_SIZE, fill=SIDE), "end"),
    ]


def _bypass(cx: float, right: float, top: float, bottom: float) -> list[str]:
    """From the arrow above a conditional stage round its right side to the arrow below.

    It leaves high in the gap above and rejoins high in the gap below, so the bypasses of two
    conditional stages in a row never share a segment."""
    start = top - GAP * 0.35
    end = bottom + GAP * 0.5
    x = right + BYPASS_OFFSET
    label = Line(BYPASS_LABEL, NOTE_SIZE, fill=MUTED)
    return [
        f'<path d="M{_n(cx)} {_n(start)} H{_n(x)} V{_n(end)} H{_n(cx + 2 * HEAD)}"'
        f' fill="none" stroke="{MUTED}" stroke-width="1.2" stroke-dasharray="{DASH}"/>',
        _head(cx, end, "left", MUTED),
        _text(x + 5, (top + bottom) / 2 + NOTE_SIZE * 0.35, label, "start"),
    ]


def _title(document: dict[str, Any]) -> str:
    name = document.get("name") or document.get("code") or ""
    code = document.get("code") or ""
    suffix = f"（{code}）" if code and code != name else ""
    return f"流程图：{name}{suffix}"


def render_svg(document: dict[str, Any], role_names: dict[str, str] | None = None) -> str:
    """Draw a (validated, canonical) workflow document as a standalone inline <svg> string.

    `role_names` maps role codes to display names and wins over the names the document
    declares; a role named by neither is shown by its code.
    """
    names = _role_namer(document, role_names)
    stages = [_stage(spec, names) for spec in document.get("stages", [])]
    conditional = any(stage.conditional for stage in stages)
    notes = [Line(SIDE_NOTE, NOTE_SIZE, fill=MUTED)]
    if conditional:
        notes.append(Line(CONDITION_NOTE, NOTE_SIZE, fill=MUTED))

    # One width for every stage box, so the main line runs straight down the middle.
    node_width = max(text_width(label, NODE_SIZE) for label in (START_LABEL, END_LABEL))
    box_width = max([STAGE_MIN_WIDTH, node_width + 2 * NODE_PAD, *(s.width for s in stages)])
    left = PAD + text_width(SIDE_LABEL, NOTE_SIZE) + 4 + SIDE_ARROW
    right_margin = PAD
    if conditional:
        right_margin += BYPASS_OFFSET + 5 + text_width(BYPASS_LABEL, NOTE_SIZE)
    cx = left + box_width / 2

    parts = _node(cx, PAD, START_LABEL, START_FILL, STAGE_STROKE)
    y = PAD + NODE_HEIGHT
    for stage in stages:
        top = y + GAP
        parts += _down_arrow(cx, y, top)
        parts += _draw_stage(stage, left, top, box_width)
        parts += _side_stub(left, top + BOX_PAD + NAME_SIZE * 0.65)
        if stage.conditional:
            parts += _bypass(cx, left + box_width, top, top + stage.height)
        y = top + stage.height
    parts += _down_arrow(cx, y, y + GAP)
    parts += _node(cx, y + GAP, END_LABEL, END_FILL, END_STROKE)
    y += GAP + NODE_HEIGHT + 12
    for note in notes:
        parts.append(_text(PAD, y + note.size, note, "start"))
        y += note.height
    height = y + PAD
    width = max(left + box_width + right_margin, *(PAD * 2 + note.width for note in notes))

    title = _title(document)
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}"'
        f' height="{_n(height)}" role="img" aria-label="{_attr(title)}"'
        f' font-family="sans-serif">'
        f"<title>{_clean(title)}</title>" + "".join(parts) + "</svg>"
    )
