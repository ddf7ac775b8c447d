"""Where the structured parts of a text stand among its eight sections, on every page that
shows, edits or compares it: the project data (and the documents it is based on) first, each
table beside the section it belongs to (资金明细 and 分年度资金 after 六, the milestones after
七), the performance targets after 八."""

from submissions.sections import PROJECT_FIELDS, SECTION_FIELDS, TARGET_FIELDS

# At the top, before 一: the project's data and the documents that found it.
PROJECT_TABLES: tuple[str, ...] = ("basis_documents",)
# After a section: the fields and tables that belong with it.
AFTER_SECTION: dict[str, tuple[str, ...]] = {
    "funding": ("breakdown", "yearly_amounts"),
    "plan": ("milestones",),
    "outcomes": (*TARGET_FIELDS, "indicators"),
}
# Everything in the order a reader meets it.
ORDER: tuple[str, ...] = (
    *PROJECT_FIELDS,
    *PROJECT_TABLES,
    *(name for section in SECTION_FIELDS for name in (section, *AFTER_SECTION.get(section, ()))),
)
