"""Where the structured parts of a text stand among its eight sections, on every page and
document that shows, edits or compares it: the project data first, each table beside the
section it belongs to (the documents cited after 二, 资金明细 and 分年度资金 after 六, the
milestones after 七), the performance targets after 八."""

from submissions.sections import PROJECT_FIELDS, SECTION_FIELDS, TARGET_FIELDS

# After a section: the fields and tables that belong with it.
AFTER_SECTION: dict[str, tuple[str, ...]] = {
    "basis": ("basis_documents",),
    "funding": ("breakdown", "yearly_amounts"),
    "plan": ("milestones",),
    "outcomes": (*TARGET_FIELDS, "indicators"),
}
# Everything in the order a reader meets it.
ORDER: tuple[str, ...] = (
    *PROJECT_FIELDS,
    *(name for section in SECTION_FIELDS for name in (section, *AFTER_SECTION.get(section, ()))),
)
