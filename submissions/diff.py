"""Section-level differences between two revisions, marked character by character.

Chinese has no spaces between words, so a word diff would mark whole sentences; characters
show a reviewer exactly what changed.
"""

from difflib import SequenceMatcher
from typing import Any

from submissions.content import SECTION_FIELDS
from submissions.models import Revision, TextContent

DIFF_FIELDS = (*SECTION_FIELDS, "amount", "fiscal_year")


# Character matching is quadratic at worst: above this size a changed block is shown as
# replaced whole rather than matched character by character.
CHAR_DIFF_LIMIT = 5_000


def _append(ops: list[list[str]], tag: str, text: str) -> None:
    if not text:
        return
    if ops and ops[-1][0] == tag:
        ops[-1][1] += text
    else:
        ops.append([tag, text])


def _char_ops(ops: list[list[str]], before: str, after: str) -> None:
    if len(before) + len(after) > CHAR_DIFF_LIMIT:
        _append(ops, "delete", before)
        _append(ops, "insert", after)
        return
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            _append(ops, "equal", before[i1:i2])
        else:
            _append(ops, "delete", before[i1:i2])
            _append(ops, "insert", after[j1:j2])


def char_ops(before: str, after: str) -> list[list[str]]:
    """[["equal"|"insert"|"delete", text], ...] turning `before` into `after`.

    Lines are matched first, then the characters of the lines that changed.
    """
    ops: list[list[str]] = []
    old_lines, new_lines = before.splitlines(keepends=True), after.splitlines(keepends=True)
    matcher = SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        old_block, new_block = "".join(old_lines[i1:i2]), "".join(new_lines[j1:j2])
        if tag == "equal":
            _append(ops, "equal", old_block)
        else:
            _char_ops(ops, old_block, new_block)
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


def revision_diff(revision: Revision, against: Revision) -> dict[str, Any]:
    return {
        "revision": revision.number,
        "against": against.number,
        "sections": section_diff(against, revision),
    }
