"""Benchmark: how long the revision diff takes on adversarial and realistic sections.

Not a test: run on demand. No database is needed; only the diff itself is timed.

    .venv/bin/python bench/diff.py
    BENCH_RUNS=9 BENCH_OLD_TIMEOUT=120 .venv/bin/python bench/diff.py

Each shape (tests/test_diff_bounds.py holds the same to a time ceiling) is a (before, after)
pair with both sides near SECTION_MAX_CHARS, most edited at both ends so that setting the
unchanged ends aside cannot help; the last is a realistic edit of the sample. Prints a
Markdown table: the median milliseconds of `char_ops` (BENCH_RUNS runs), of the unbounded
algorithm it replaced (BENCH_OLD_RUNS runs, each in a child process stopped after
BENCH_OLD_TIMEOUT seconds), their ratio, and how many characters each marks as changed
(fewer = more precise); then a whole diff of the slowest shape in seven sections. The machines are
shared and noisy: compare figures from one run, not across runs.
"""

import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from difflib import SequenceMatcher
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from submissions.content import SECTION_FIELDS  # noqa: E402
from submissions.diff import EDIT_BUDGET, MATCH_BUDGET, char_ops, section_diff  # noqa: E402
from submissions.models import ProjectText  # noqa: E402
from tests.test_diff_bounds import SHAPES, longest_sample_section, marked  # noqa: E402

RUNS = int(os.environ.get("BENCH_RUNS", 5))
OLD_RUNS = int(os.environ.get("BENCH_OLD_RUNS", 1))
OLD_TIMEOUT = float(os.environ.get("BENCH_OLD_TIMEOUT", 60))

Ops = list[list[str]]
Shape = tuple[str, str]


# --- the algorithm before the bound (issue 7, point 2), kept here only for comparison -------

OLD_CHAR_DIFF_LIMIT = 5_000


def _old_append(ops: Ops, tag: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1][0] == tag:
        ops[-1][1] += text
    else:
        ops.append([tag, text])


def _old_char_step(ops: Ops, before: str, after: str) -> None:
    if len(before) + len(after) > OLD_CHAR_DIFF_LIMIT:
        _old_append(ops, "delete", before)
        _old_append(ops, "insert", after)
        return
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _old_append(ops, "equal", before[i1:i2])
        else:
            _old_append(ops, "delete", before[i1:i2])
            _old_append(ops, "insert", after[j1:j2])


def old_char_ops(before: str, after: str) -> Ops:
    """OLD, UNBOUNDED: line matching with no limit (quadratic in repeated lines)."""
    ops: Ops = []
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_block, new_block = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if tag == "equal":
            _old_append(ops, "equal", old_block)
        else:
            _old_char_step(ops, old_block, new_block)
    return ops


# --- shapes: the ones tests/test_diff_bounds.py holds to its time ceiling ---------------------


def shapes() -> dict[str, Shape]:
    result = {name: build() for name, build in SHAPES.items()}
    longest = longest_sample_section()
    at = longest.index("一至二次")
    result[f"sample's longest section, one phrase ({len(longest)} chars)"] = (
        longest,
        longest[:at] + "两" + longest[at + 3 :],
    )
    return result


# --- timing ----------------------------------------------------------------------------------


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def _old_in_child(before: str, after: str, results: "multiprocessing.Queue[tuple]") -> None:
    start = time.perf_counter()
    ops = old_char_ops(before, after)
    results.put(((time.perf_counter() - start) * 1000, marked(ops)))


def old_run(before: str, after: str) -> tuple[float, int] | None:
    """(ms, characters marked) of the old algorithm, or None past OLD_TIMEOUT."""
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_old_in_child, args=(before, after, results))
    child.start()
    try:
        return results.get(timeout=OLD_TIMEOUT)
    except Exception:
        return None
    finally:
        child.kill()
        child.join()


def whole_text(before: str, after: str) -> tuple[ProjectText, ProjectText]:
    """Two unsaved revisions with every section but the (200-character) title of the shape:
    the worst a drafter can make one diff."""
    sections = [name for name in SECTION_FIELDS if name != "title"]
    return (
        ProjectText(**dict.fromkeys(sections, before), amount=1, fiscal_year=2025),
        ProjectText(**dict.fromkeys(sections, after), amount=2, fiscal_year=2026),
    )


def main() -> None:
    rows = []
    worst_name, worst_ms = "", -1.0
    built = shapes()
    for name, (before, after) in built.items():
        ops = char_ops(before, after)
        assert "".join(t for tag, t in ops if tag != "insert") == before, name
        assert "".join(t for tag, t in ops if tag != "delete") == after, name
        new_ms = statistics.median(
            timed(lambda before=before, after=after: char_ops(before, after)) for _ in range(RUNS)
        )
        if new_ms > worst_ms:
            worst_name, worst_ms = name, new_ms
        old = [old_run(before, after) for _ in range(OLD_RUNS)]
        if None in old:
            old_cell, old_marked = f"> {OLD_TIMEOUT * 1000:.0f}", "–"
            ratio_cell = f"> {OLD_TIMEOUT * 1000 / new_ms:.0f}×"
        else:
            old_ms = statistics.median(ms for ms, _ in old)
            old_cell, ratio_cell = f"{old_ms:.1f}", f"{old_ms / new_ms:.1f}×"
            old_marked = str(old[0][1])
        rows.append((name, f"{new_ms:.1f}", old_cell, ratio_cell, str(marked(ops)), old_marked))

    old_text, new_text = whole_text(*built[worst_name])
    diff_ms = statistics.median(
        timed(lambda: section_diff(old_text, new_text)) for _ in range(RUNS)
    )

    print(
        f"\nchar_ops on one section, median of {RUNS} runs (old: {OLD_RUNS}); "
        f"MATCH_BUDGET={MATCH_BUDGET:,}, EDIT_BUDGET={EDIT_BUDGET:,}\n"
    )
    print("| shape | bounded ms | old ms | old / bounded | marked (bounded) | marked (old) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print(
        f"\nWhole diff, {len(SECTION_FIELDS) - 1} sections of the slowest shape "
        f"({worst_name}): {diff_ms:.0f} ms median"
    )


if __name__ == "__main__":
    main()
