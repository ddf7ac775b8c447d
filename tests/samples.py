"""Builders of import files: the sample texts (../shared/data) as a county sends them, in
.txt and .docx, with the structured parts of `submissions.demo_content.ENRICHMENT`.

Every label and choice word is taken from `submissions.tables` and the model's field
labels (in the documents' language), never written here a second time, so the files say
what the product says. The layout is the importer's (see `submissions.importer`): after
each text's section 八, a 项目信息 block, a 绩效目标 block and a block per table.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path
from typing import Any

import docx
from django.utils import translation

from submissions import tables
from submissions.content import field_label
from submissions.demo_content import ENRICHMENT
from submissions.docx_export import field_text
from submissions.importer import DOCUMENT_LANGUAGE, PROJECT_BLOCK, TARGETS_BLOCK
from submissions.sections import PROJECT_FIELDS, TARGET_FIELDS

DEPARTMENT = "中共新平彝族傣族自治县委员会组织部"
# Where the sample's second text starts (its department line), counting from 0.
SECOND_TEXT = 26


def sample_path() -> Path:
    override = os.environ.get("SAMPLE_TEXTS")
    if override:
        return Path(override)
    return (
        Path(__file__).resolve().parents[2] / "shared/data/xinping-2025-org-dept-project-texts.txt"
    )


def sample_lines() -> list[str]:
    return sample_path().read_bytes().decode("utf-8").split("\n")


def sample_texts() -> list[list[str]]:
    """The sample's two texts, each its own lines (the blank lines after 八 kept)."""
    lines = sample_lines()
    return [lines[:SECOND_TEXT], lines[SECOND_TEXT:]]


def title_of(text: list[str]) -> str:
    """A text's 项目名称, the key of ENRICHMENT (the line under heading 一)."""
    return text[3].removesuffix("。")


@contextmanager
def document_language() -> Iterator[None]:
    with translation.override(DOCUMENT_LANGUAGE):
        yield


# --- what a text's structured parts look like in a file -----------------------------------


def field_pairs(enrichment: Mapping[str, Any], names: Sequence[str]) -> list[tuple[str, str]]:
    """(label, value as written) for each of ``names`` the enrichment has."""
    with document_language():
        return [
            (field_label(name), field_text(name, enrichment[name]))
            for name in names
            if name in enrichment
        ]


def table_grid(table: tables.Table, rows: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The header row of column labels, then the rows as a reader writes them (choices by
    their labels, amounts with separators)."""
    with document_language():
        header = [str(column.label) for column in table.columns]
        body = [
            [tables.display_cell(column, row.get(column.key)) for column in table.columns]
            for row in rows
        ]
        return [header, *body]


def table_label(table: tables.Table) -> str:
    with document_language():
        return str(table.label)


def txt_blocks(enrichment: Mapping[str, Any], separator: str = "\t") -> list[str]:
    """The lines after 八 that carry ``enrichment``: 项目信息 and 绩效目标 as ``标签：值``
    lines, each table under its label with cells separated by ``separator``."""
    lines = [PROJECT_BLOCK]
    lines += [f"{label}：{value}" for label, value in field_pairs(enrichment, PROJECT_FIELDS)]
    lines += [TARGETS_BLOCK]
    lines += [f"{label}：{value}" for label, value in field_pairs(enrichment, TARGET_FIELDS)]
    for table in tables.TABLES:
        if enrichment.get(table.field):
            lines.append(table_label(table))
            grid = table_grid(table, enrichment[table.field])
            lines += [separator.join(cells) for cells in grid]
    return lines


def enriched_lines(
    blocks: Callable[[Mapping[str, Any]], list[str]] = txt_blocks,
) -> list[str]:
    """The sample's lines with each text's blocks after its section 八."""
    lines: list[str] = []
    for text in sample_texts():
        lines += [*text, *blocks(ENRICHMENT[title_of(text)]), ""]
    return lines


def enriched_sample_txt() -> bytes:
    """The two sample texts with all their ENRICHMENT rows, as a .txt (UTF-8)."""
    return "\n".join(enriched_lines()).encode()


# --- .docx --------------------------------------------------------------------------------


def docx_of(
    lines: Sequence[str], tables_after: Mapping[int, list[list[list[str]]]] | None = None
) -> bytes:
    """A .docx of a paragraph per line; ``tables_after[i]``: Word tables (rows of cells)
    placed after line i (counting from 0)."""
    document = docx.Document()
    for index, line in enumerate(lines):
        document.add_paragraph(line)
        for grid in (tables_after or {}).get(index, []):
            add_word_table(document, grid)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def add_word_table(document: Any, grid: Sequence[Sequence[str]]) -> Any:
    table = document.add_table(rows=len(grid), cols=max(len(row) for row in grid))
    for row, cells in zip(table.rows, grid, strict=True):
        for cell, text in zip(row.cells, cells, strict=False):
            lines = text.split("\n")
            cell.text = lines[0]
            for line in lines[1:]:
                cell.add_paragraph(line)
    return table


def word_grids(enrichment: Mapping[str, Any]) -> list[list[list[str]]]:
    """The Word tables that carry ``enrichment``: project data and targets as label | value
    rows, then each table with its header row."""
    grids = [
        [list(pair) for pair in field_pairs(enrichment, PROJECT_FIELDS)],
        [list(pair) for pair in field_pairs(enrichment, TARGET_FIELDS)],
    ]
    grids += [
        table_grid(table, enrichment[table.field])
        for table in tables.TABLES
        if enrichment.get(table.field)
    ]
    return grids


def enriched_sample_docx() -> bytes:
    """The two sample texts with all their ENRICHMENT rows, as a .docx: the sections as
    paragraphs, the structured parts as Word tables after each text's section 八."""
    lines: list[str] = []
    after: dict[int, list[list[list[str]]]] = {}
    for text in sample_texts():
        lines += text
        after[len(lines) - 1] = word_grids(ENRICHMENT[title_of(text)])
    return docx_of(lines, after)
