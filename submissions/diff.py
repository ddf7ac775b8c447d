"""Section-level differences between two revisions, marked character by character.

Chinese has no spaces between words, so a word diff would mark whole sentences; characters
show a reviewer exactly what changed.

A drafter controls both sides, and difflib's longest-match search is quadratic in repeated
lines or characters (a section of 8,000 repeated lines once took 16 s and held every web
worker: issue 7), so every section's diff is bounded in time and memory:

1. the lines both sides share at the start and at the end are set aside (linear);
2. the rest is matched by difflib, line by line and then character by character within
   changed lines, for as long as MATCH_BUDGET lasts: what readers are used to;
3. past that, by a shortest edit (Myers), which is cheap however repetitive the text is as
   long as the sides differ by few edits, for as long as EDIT_BUDGET lasts;
4. past that, the rest is shown replaced whole.

The ops always spell both sides exactly; pathological input only gets a coarser diff.
bench/diff.py times the shapes tests/test_diff_bounds.py holds to a ceiling.
"""

from bisect import bisect_left
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from difflib import Match, SequenceMatcher
from itertools import repeat
from typing import Any

from submissions import tables
from submissions.content import SECTION_FIELDS
from submissions.models import Revision, TextContent
from submissions.sections import PROJECT_FIELDS, TARGET_FIELDS

DIFF_FIELDS = (*SECTION_FIELDS, "amount", "fiscal_year")
# Beside the sections: the project data (compared whole) and the targets (prose, by character).
FIELD_FIELDS = (*PROJECT_FIELDS, *TARGET_FIELDS)

# difflib matches a changed block character by character only up to this size; a larger
# block gets a shortest edit, or is shown replaced whole.
CHAR_DIFF_LIMIT = 5_000

# The work one section's diff may spend, in units of 0.1-0.3 µs on the machines here
# (bench/diff.py): at worst about 0.1 s matching and 0.1 s editing, for each of the eight
# sections. Realistic revisions stay inside the first: a changed phrase in the sample's
# longest section spends about 250 units; a tenth of the lines of a full-size section
# rewritten, about 430,000.
MATCH_BUDGET = 500_000
EDIT_BUDGET = 300_000
# Weights in units: a call of Python that sets up a search; difflib's search per element of
# its range or of an index it builds (besides one unit per candidate pair it looks at); the
# shortest edit per diagonal it extends; elements of a common run compared at C speed, per
# unit.
_CALL_WEIGHT = 50
_RANGE_WEIGHT = 6
_DIAGONAL_WEIGHT = 8
_RUN_PER_UNIT = 16

Ops = list[list[str]]
Opcodes = list[tuple[str, int, int, int, int]]


def char_ops(before: str, after: str) -> Ops:
    """[["equal"|"insert"|"delete", text], ...] turning `before` into `after`.

    Lines are matched first, then the characters of the lines that changed; the work is
    bounded whatever the input (see the module's docstring).
    """
    ops: Ops = []
    limits = _Limits()
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    prefix, suffix = _shared_ends(old_lines, new_lines)
    _append(ops, "equal", "".join(old_lines[:prefix]))
    tail = "".join(old_lines[len(old_lines) - suffix :])
    old_lines = old_lines[prefix : len(old_lines) - suffix]
    new_lines = new_lines[prefix : len(new_lines) - suffix]
    for tag, i1, i2, j1, j2 in _opcodes(old_lines, new_lines, limits, longest_match=True):
        old_block, new_block = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if tag == "equal":
            _append(ops, "equal", old_block)
        else:
            _char_ops(ops, old_block, new_block, limits)
    _append(ops, "equal", tail)
    return ops


def _field_text(content: TextContent, name: str) -> str:
    return str(getattr(content, name))


def section_diff(old: TextContent, new: TextContent) -> list[dict[str, Any]]:
    sections = []
    for name in DIFF_FIELDS:
        before, after = _field_text(old, name), _field_text(new, name)
        changed = before != after
        sections.append(
            {
                "field": name,
                "label": str(type(new)._meta.get_field(name).verbose_name),
                "changed": changed,
                "before": before,
                "after": after,
                "ops": char_ops(before, after) if changed else [["equal", after]],
            }
        )
    return sections


def _jsonable(value: Any) -> Any:
    """A field's value as JSON carries it: a date as ISO 8601, text, a flag as it is."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def field_diff(old: TextContent, new: TextContent) -> list[dict[str, Any]]:
    """The project data and the targets: each with its value before and after; the targets,
    being prose, also with their character ops."""
    found = []
    for name in FIELD_FIELDS:
        before, after = _jsonable(getattr(old, name)), _jsonable(getattr(new, name))
        item = {
            "field": name,
            "label": str(type(new)._meta.get_field(name).verbose_name),
            "changed": before != after,
            "before": before,
            "after": after,
        }
        if name in TARGET_FIELDS:
            item["ops"] = char_ops(before, after) if before != after else [["equal", after]]
        found.append(item)
    return found


def _row_key(table: tables.Table, row: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(row.get(key) for key in table.keys)


def _changed_columns(table: tables.Table, before: dict[str, Any], after: dict[str, Any]) -> list:
    return [key for key in table.keys if before.get(key) != after.get(key)]


def _row_op(op: str, before: Any = None, after: Any = None, changed: Any = ()) -> dict[str, Any]:
    return {"op": op, "before": before, "after": after, "changed": list(changed)}


def _paired(
    table: tables.Table, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Rows of a changed stretch: those of the same name (the table's name column) are one row
    changed, the rest inserted or deleted; with no name in common, side by side."""
    ops: list[dict[str, Any]] = []
    names_a = [row.get(table.name_column) for row in old]
    names_b = [row.get(table.name_column) for row in new]
    matcher = SequenceMatcher(None, names_a, names_b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
            for before, after in zip(old[i1:i2], new[j1:j2], strict=True):
                changed = _changed_columns(table, before, after)
                ops.append(_row_op("replace" if changed else "equal", before, after, changed))
            continue
        ops += [_row_op("delete", before=row) for row in old[i1:i2]]
        ops += [_row_op("insert", after=row) for row in new[j1:j2]]
    return ops


def table_diff(
    table: tables.Table, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Every row of a table, aligned between two versions (difflib over the rows' cells):
    {"op": "equal" | "insert" | "delete" | "replace", "before": row or None, "after": row or
    None, "changed": [column keys]} in the order of the newer version. A table holds at most
    tables.MAX_ROWS rows, so the matching is bounded."""
    old, new = list(old or []), list(new or [])
    matcher = SequenceMatcher(
        None, [_row_key(table, r) for r in old], [_row_key(table, r) for r in new], autojunk=False
    )
    ops: list[dict[str, Any]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops += [_row_op("equal", b, a) for b, a in zip(old[i1:i2], new[j1:j2], strict=True)]
        elif tag == "delete":
            ops += [_row_op("delete", before=row) for row in old[i1:i2]]
        elif tag == "insert":
            ops += [_row_op("insert", after=row) for row in new[j1:j2]]
        else:
            ops += _paired(table, old[i1:i2], new[j1:j2])
    return ops


def revision_diff(revision: Revision, against: Revision) -> dict[str, Any]:
    """What changed from `against` to `revision`: the sections (character ops), the project
    data and targets (`fields`), and each table row by row (`tables`)."""
    return {
        "revision": revision.number,
        "against": against.number,
        "sections": section_diff(against, revision),
        "fields": field_diff(against, revision),
        "tables": {
            table.field: table_diff(
                table, getattr(against, table.field), getattr(revision, table.field)
            )
            for table in tables.TABLES
        },
    }


# --- building the ops ------------------------------------------------------------------------


def _append(ops: Ops, tag: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1][0] == tag:
        ops[-1][1] += text
    else:
        ops.append([tag, text])


def _char_ops(ops: Ops, before: str, after: str, limits: "_Limits") -> None:
    prefix, suffix = _shared_ends(before, after)
    _append(ops, "equal", before[:prefix])
    old, new = before[prefix : len(before) - suffix], after[prefix : len(after) - suffix]
    longest_match = len(old) + len(new) <= CHAR_DIFF_LIMIT
    for tag, i1, i2, j1, j2 in _opcodes(old, new, limits, longest_match):
        if tag == "equal":
            _append(ops, "equal", old[i1:i2])
        else:
            _append(ops, "delete", old[i1:i2])
            _append(ops, "insert", new[j1:j2])
    _append(ops, "equal", before[len(before) - suffix :])


def _opcodes(
    a: Sequence[Hashable], b: Sequence[Hashable], limits: "_Limits", longest_match: bool
) -> Opcodes:
    """How `a` turns into `b`, as difflib's opcodes (callers tell only "equal" from the
    rest): difflib's longest matches if `longest_match` and within budget, else a shortest
    edit within budget, else one replace of the whole."""
    if longest_match:
        try:
            return _BoundedMatcher(a, b, limits.matching).get_opcodes()
        except _OverBudget:
            pass
    try:
        return _shortest_edit(a, b, limits.editing)
    except _OverBudget:
        return [("replace", 0, len(a), 0, len(b))]


# --- budgets ---------------------------------------------------------------------------------


class _OverBudget(Exception):
    pass


class _Budget:
    def __init__(self, units: int) -> None:
        self.left = units

    def check(self, units: int) -> None:
        if units > self.left:
            raise _OverBudget

    def spend(self, units: int) -> None:
        self.check(units)
        self.left -= units


class _Limits:
    """What one section's diff may still spend, per algorithm: a section that exhausts
    difflib's budget still gets its shortest edits."""

    def __init__(self) -> None:
        self.matching = _Budget(MATCH_BUDGET)
        self.editing = _Budget(EDIT_BUDGET)


# --- difflib, charged ------------------------------------------------------------------------


class _BoundedMatcher(SequenceMatcher):
    """difflib's matcher, charged before each search for the work that search will do.

    find_longest_match looks at every element of `a` in its range and, for each, at the
    positions of that element in `b` up to the range's end: charging that up front bounds
    the total work by the budget, however the search recurses.
    """

    def __init__(self, a: Sequence[Hashable], b: Sequence[Hashable], budget: _Budget) -> None:
        # Refuse before building the indexes if they and the first search are past budget.
        indexes = _CALL_WEIGHT + _RANGE_WEIGHT * len(b)
        count_in_b = Counter(b)
        budget.check(indexes + _RANGE_WEIGHT * len(a) + sum(map(count_in_b.get, a, repeat(0))))
        budget.spend(indexes)
        # autojunk would drop frequent characters (的, 工作) from matching in any longer
        # section; the budget, not a heuristic, keeps the work in bounds.
        super().__init__(None, a, b, autojunk=False)
        self._budget = budget
        self._positions: dict[Hashable, list[int]] = {}
        for j, element in enumerate(b):
            self._positions.setdefault(element, []).append(j)

    def find_longest_match(
        self, alo: int = 0, ahi: int | None = None, blo: int = 0, bhi: int | None = None
    ) -> Match:
        ahi = len(self.a) if ahi is None else ahi
        bhi = len(self.b) if bhi is None else bhi
        elements = self.a[alo:ahi]
        looked_at = map(bisect_left, map(self._positions.get, elements, repeat(())), repeat(bhi))
        self._budget.spend(_CALL_WEIGHT + _RANGE_WEIGHT * len(elements) + sum(looked_at))
        return super().find_longest_match(alo, ahi, blo, bhi)


# --- shortest edit (Myers) -------------------------------------------------------------------


def _shortest_edit(a: Sequence[Hashable], b: Sequence[Hashable], budget: _Budget) -> Opcodes:
    """Opcodes of a shortest edit turning `a` into `b`: Myers' greedy O((N+M)D) search.

    It keeps every frontier to trace the path back, so its memory grows like its work;
    the budget bounds both.
    """
    budget.spend(_CALL_WEIGHT)
    n, m = len(a), len(b)
    # frontiers[d][(k + d) // 2]: the furthest x reached on diagonal k = x - y with d edits.
    frontiers = [[_common_run(a, b, 0, 0)]]
    end_k = 0
    reached = frontiers[0][0] == n == m
    while not reached:
        d = len(frontiers)
        budget.spend(_DIAGONAL_WEIGHT * (d + 1))
        previous, frontier = frontiers[-1], []
        for k in range(-d, d + 1, 2):
            x, _insertion = _one_edit_on(previous, d, k, n, m)
            if x >= 0:
                run = _common_run(a, b, x, x - k)
                budget.spend(run // _RUN_PER_UNIT)
                x += run
            frontier.append(x)
            if x == n and x - k == m:
                reached, end_k = True, k
                break
        frontiers.append(frontier)

    steps: Opcodes = []
    x, k = n, end_k
    for d in range(len(frontiers) - 1, 0, -1):
        start, insertion = _one_edit_on(frontiers[d - 1], d, k, n, m)
        steps.append(("equal", start, x, start - k, x - k))
        if insertion:
            steps.append(("insert", start, start, start - k - 1, start - k))
            x, k = start, k + 1
        else:
            steps.append(("delete", start - 1, start, start - k, start - k))
            x, k = start - 1, k - 1
    steps.append(("equal", 0, x, 0, x))
    return _joined(reversed(steps))


def _one_edit_on(frontier: list[int], d: int, k: int, n: int, m: int) -> tuple[int, bool]:
    """(x, insertion): the furthest x on diagonal k one edit past `frontier` (the d - 1
    edits' frontier, -1 for a diagonal not reached), and whether that edit inserts (from
    diagonal k + 1) rather than deletes (from k - 1). x is -1 if neither stays in the grid.
    """
    at = (k + d) // 2
    insert = frontier[at] if k < d else -1
    if insert >= 0 and insert - k > m:
        insert = -1
    delete = frontier[at - 1] + 1 if k > -d and frontier[at - 1] >= 0 else -1
    if delete > n:
        delete = -1
    return (insert, True) if insert >= delete else (delete, False)


def _joined(steps: Iterable[tuple[str, int, int, int, int]]) -> Opcodes:
    """Opcodes from single steps: equal runs, and neighbouring edits joined in one replace."""
    opcodes: Opcodes = []
    for step_tag, i1, i2, j1, j2 in steps:
        if i1 == i2 and j1 == j2:
            continue
        tag = "equal" if step_tag == "equal" else "replace"
        if opcodes and opcodes[-1][0] == tag:
            opcodes[-1] = (tag, opcodes[-1][1], i2, opcodes[-1][3], j2)
        else:
            opcodes.append((tag, i1, i2, j1, j2))
    return opcodes


# --- common runs -----------------------------------------------------------------------------


def _common_run(a: Sequence[Any], b: Sequence[Any], i: int, j: int) -> int:
    """How many elements a[i:] and b[j:] share at their start.

    Slices are compared at C speed, doubling while they agree and then halving, so a run of
    length L costs O(L) element compares and O(log L) steps of Python.
    """
    limit = min(len(a) - i, len(b) - j)
    low, high, step = 0, 0, 1
    while low < limit:
        high = min(limit, low + step)
        if a[i + low : i + high] != b[j + low : j + high]:
            break
        low, step = high, step * 2
    else:
        return low
    high -= 1
    while low < high:
        middle = (low + high + 1) // 2
        if a[i + low : i + middle] == b[j + low : j + middle]:
            low = middle
        else:
            high = middle - 1
    return low


def _shared_ends(a: Sequence[Any], b: Sequence[Any]) -> tuple[int, int]:
    """(prefix, suffix): how many elements `a` and `b` share at the start, and then at the
    end of what is left."""
    prefix = _common_run(a, b, 0, 0)
    return prefix, _common_run(a[prefix:][::-1], b[prefix:][::-1], 0, 0)
