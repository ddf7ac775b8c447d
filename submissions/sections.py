"""The eight numbered sections of a project text (部门预算重点领域财政项目文本), in the sample's
order and words: the one list that the model's form, the importer, the export, the API and
the pages all follow."""

from submissions.tables import TABLES

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
# 项目信息: the project's data beside the sections.
PROJECT_FIELDS: tuple[str, ...] = (
    "project_code",
    "category",
    "novelty",
    "start_date",
    "end_date",
    "contact_person",
    "contact_phone",
    "for_publication",
)
# 绩效目标: the prose targets (the indicators are a table).
TARGET_FIELDS: tuple[str, ...] = ("target_overall", "target_annual")
# The tables (资金明细, 绩效指标, …), described in `submissions.tables`.
TABLE_FIELDS: tuple[str, ...] = tuple(table.field for table in TABLES)
# Everything beside the prose and the amount, in the order the pages show it.
STRUCTURED_FIELDS: tuple[str, ...] = (*PROJECT_FIELDS, *TARGET_FIELDS, *TABLE_FIELDS)
# What a drafter writes: the sections, the amount (in 六), the budget year and the rest.
CONTENT_FIELDS: tuple[str, ...] = (*SECTION_FIELDS, "amount", "fiscal_year", *STRUCTURED_FIELDS)
# The same, in the order a reader meets them: the amount beside 六.
READING_ORDER: tuple[str, ...] = (
    *SECTION_FIELDS[: FUNDING_INDEX + 1],
    "amount",
    *SECTION_FIELDS[FUNDING_INDEX + 1 :],
    "fiscal_year",
)
