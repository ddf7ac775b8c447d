"""What the text page, the edit page and the diff page show of a text's structured content:
the project data, the tables read-only, and the consistency warnings with links to the
places they name. Labels, columns and cells come from the model and `submissions.tables`."""

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from submissions import tables
from submissions.checks import Warning
from submissions.content import field_label
from submissions.layout import AFTER_SECTION
from submissions.models import ProjectText
from submissions.sections import PROJECT_FIELDS, SECTION_FIELDS


def anchor(name: str, *, on_form: bool = False) -> str:
    """The id of a part of the text: a field of the form (id_amount, id_breakdown), or a
    place on the text's page (section-funding, part-breakdown)."""
    if on_form:
        return f"id_{name}"
    return f"section-{name}" if name in SECTION_FIELDS else f"part-{name}"


def warnings_shown(warnings: list[Warning], *, on_form: bool = False) -> list[dict[str, Any]]:
    """Each warning with a link to every place it names."""
    return [
        {
            "code": warning.code,
            "message": warning.message,
            "places": [
                {"href": "#" + anchor(name, on_form=on_form), "label": field_label(name)}
                for name in warning.places
            ],
        }
        for warning in warnings
    ]


def value_shown(name: str, value: Any) -> str:
    """A project field as a reader sees it: a choice's label, 是/否, a date as written."""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if value in (None, ""):
        return ""
    choices = dict(ProjectText._meta.get_field(name).choices or ())
    return str(choices.get(value, value))


def project_data(content: Any) -> list[dict[str, str]]:
    return [
        {
            "field": name,
            "id": anchor(name),
            "label": field_label(name),
            "value": value_shown(name, getattr(content, name)),
        }
        for name in PROJECT_FIELDS
    ]


@dataclass
class TableShown:
    field: str
    id: str
    label: str
    columns: tuple[tables.Column, ...]
    rows: list[list[dict[str, str]]]
    total: str = ""  # the amount column's total, for a table of amounts


def table_shown(table: tables.Table, rows: list[dict[str, Any]]) -> TableShown:
    shown = TableShown(
        field=table.field,
        id=anchor(table.field),
        label=str(table.label),
        columns=table.columns,
        rows=[
            [
                {
                    "key": column.key,
                    "kind": column.kind,
                    "label": str(column.label),
                    "value": tables.display_cell(column, row.get(column.key)),
                }
                for column in table.columns
            ]
            for row in rows or []
        ],
    )
    if "amount" in table.keys and rows:
        shown.total = tables.display_cell(table.column("amount"), tables.total(rows))
    return shown


def parts_of(content: Any) -> dict[str, Any]:
    """The text's structured parts for its page: the project data and its tables at the top,
    and what follows each section (`submissions.layout`)."""
    after: dict[str, list[dict[str, Any]]] = {}
    for section, names in AFTER_SECTION.items():
        after[section] = [
            {"kind": "table", "table": table_shown(tables.BY_FIELD[name], getattr(content, name))}
            if name in tables.BY_FIELD
            else {
                "kind": "prose",
                "field": name,
                "id": anchor(name),
                "label": field_label(name),
                "body": getattr(content, name),
            }
            for name in names
        ]
    return {
        "project": project_data(content),
        "after": after,
    }


ROW_OPS = {
    "equal": gettext_lazy("未改动"),
    "insert": gettext_lazy("新增"),
    "delete": gettext_lazy("删除"),
    "replace": gettext_lazy("修改"),
}


def table_diff_shown(table: tables.Table, ops: list[dict[str, Any]]) -> dict[str, Any]:
    """A table's row diff (submissions.diff.table_diff) as the diff page shows it: each row
    with its change, and in a changed row the cells that changed, before and after."""
    rows = []
    for op in ops:
        shown = op["after"] if op["after"] is not None else op["before"]
        cells = []
        for column in table.columns:
            changed = column.key in op["changed"]
            cells.append(
                {
                    "label": str(column.label),
                    "kind": column.kind,
                    "changed": changed,
                    "value": tables.display_cell(column, shown.get(column.key)),
                    "before": tables.display_cell(column, (op["before"] or {}).get(column.key))
                    if changed
                    else "",
                }
            )
        rows.append({"op": op["op"], "op_label": str(ROW_OPS[op["op"]]), "cells": cells})
    return {
        "field": table.field,
        "label": str(table.label),
        "columns": table.columns,
        "changed": any(op["op"] != "equal" for op in ops),
        "rows": rows,
    }


def diff_shown(diff: dict[str, Any]) -> dict[str, Any]:
    """The diff page's parts: the project data that changed, and after each section the
    tables and targets that belong with it (submissions.layout)."""
    fields = {item["field"]: item for item in diff["fields"]}
    project = [
        {
            **item,
            "before_shown": value_shown(item["field"], item["before"]),
            "after_shown": value_shown(item["field"], item["after"]),
        }
        for name, item in fields.items()
        if name in PROJECT_FIELDS
    ]

    def part(name: str) -> dict[str, Any] | None:
        if name in tables.BY_FIELD:
            ops = diff["tables"][name]
            if not ops:
                return None  # empty in both revisions
            return {"kind": "table", **table_diff_shown(tables.BY_FIELD[name], ops)}
        return {"kind": "prose", **fields[name]}

    sections = [
        {
            **section,
            "parts": [
                found
                for found in (part(name) for name in AFTER_SECTION.get(section["field"], ()))
                if found
            ],
        }
        for section in diff["sections"]
    ]
    return {
        "project": project,
        "project_changed": any(item["changed"] for item in project),
        "sections": sections,
    }
