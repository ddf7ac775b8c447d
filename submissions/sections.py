"""The eight numbered sections of a project text (部门预算重点领域财政项目文本), in the sample's
order and words: the one list that the model's form, the importer, the export, the API and
the pages all follow."""

SECTIONS: tuple[tuple[str, str], ...] = (
    ("title", "项目名称"),
    ("basis", "立项依据"),
    ("implementer", "项目实施单位"),
    ("overview", "项目基本概况"),
    ("content", "项目实施内容"),
    ("funding", "资金安排情况"),
    ("plan", "项目实施计划"),
    ("outcomes", "项目实施成效"),
)
NUMERALS = "一二三四五六七八"
FUNDING_INDEX = 5  # 六、资金安排情况: the section the amount is read from

SECTION_FIELDS: tuple[str, ...] = tuple(name for name, _label in SECTIONS)
# What a drafter writes: the sections, the amount (in 六) and the budget year.
CONTENT_FIELDS: tuple[str, ...] = (*SECTION_FIELDS, "amount", "fiscal_year")
# The same, in the order a reader meets them: the amount beside 六.
READING_ORDER: tuple[str, ...] = (
    *SECTION_FIELDS[: FUNDING_INDEX + 1],
    "amount",
    *SECTION_FIELDS[FUNDING_INDEX + 1 :],
    "fiscal_year",
)
