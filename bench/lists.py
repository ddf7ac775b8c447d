"""Benchmark: the first page of the text list, the inbox and the audit search for each role,
at 1,000 and 100,000 texts, against the same query written by hand with the best index.

Not a test: run on demand, PostgreSQL only, on a throwaway database created and dropped by
the run.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/budget_workflow \\
        .venv/bin/python bench/lists.py [--texts 1000,100000] [--events 5000000] [--repeat 30]

Data, realistic for every role: 20 departments; for each, one text in each state (draft,
waiting for the department, finance, approval, approved, returned, rejected) made through the
product's services (revisions, decisions, routes, stage visits, audit events: whatever the
services keep, this bench gets). Each of these templates is then copied in SQL
(INSERT ... SELECT over generate_series) with every row that refers to it, in every table
that has a foreign key to the text (rows keyed on a revision follow its copy by number; an
audit event's stream is renamed for its copy), so that the shares hold at any size: 20%
draft, 10% waiting for each review stage except 5% for approval, 45% approved, 5% returned,
5% rejected. Copies carry their template's hashes: the log is not meant to verify here
(bench/audit.py measures that). At the largest size the log is filled up to `--events`
with the people's sign-ins on their own streams, so that the audit search runs at the
size the issue names.

Timed in this process through the API (DRF's test client; no HTTP): each request `--repeat`
times, median and p99 (and of the slowest request, how much was SQL and how much the garbage
collector's pause), the time of its SQL statements (their sum, as the database answered
them: the request less DRF, serialising and Python) and of the one statement that read the
page. The hand-written query is that page as one would write it: the same rows, joins,
conditions (separation of duties included) and order, on indexes the bench adds for it; the
bench checks that it gives the same page, row for row, then times it and prints page / hand
and SQL / hand. Then EXPLAIN of the request's slowest statement, its plan's scan nodes.
After loading, the tables are vacuumed and analysed, as autovacuum leaves tables that grew
by inserts.
"""

import argparse
import gc
import time
from functools import partial

from common import median, percentile, require_postgresql, throwaway_database

DEPARTMENTS = 20
SHARES = {
    "draft": 0.20,
    "dept_review": 0.10,
    "finance_review": 0.10,
    "approval": 0.05,
    "approved": 0.45,
    "returned": 0.05,
    "rejected": 0.05,
}
PATHS = {
    "draft": [],
    "dept_review": ["submit"],
    "finance_review": ["submit", "dept_approve"],
    "approval": ["submit", "dept_approve", "finance_approve"],
    "approved": ["submit", "dept_approve", "finance_approve", "approve"],
    "returned": ["submit", "dept_approve", "return"],
    "rejected": ["submit", "dept_approve", "finance_approve", "reject"],
}
HAND_INDEXES = [
    "CREATE INDEX IF NOT EXISTS bench_text_dept ON submissions_projecttext "
    "(department_id, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS bench_text_state ON submissions_projecttext "
    "(state, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS bench_text_dept_state ON submissions_projecttext "
    "(department_id, state, updated_at DESC, id DESC)",
    "CREATE INDEX IF NOT EXISTS bench_text_all ON submissions_projecttext "
    "(updated_at DESC, id DESC)",
]


def make_cast():
    from tests.factories import DepartmentFactory, make_user
    from workflow.states import Role

    departments = [
        DepartmentFactory(code=f"d{n:02d}", name=f"新平县第{n}部门") for n in range(DEPARTMENTS)
    ]
    people = {
        "drafters": [make_user(f"drafter{n}", Role.DRAFTER, d) for n, d in enumerate(departments)],
        "reviewers": [
            make_user(f"reviewer{n}", Role.DEPT_REVIEWER, d) for n, d in enumerate(departments)
        ],
        "finance": make_user("finance", Role.FINANCE_REVIEWER),
        "approver": make_user("approver", Role.APPROVER),
        "auditor": make_user("auditor", Role.AUDITOR),
    }
    return departments, people


def make_templates(departments, people) -> dict[int, str]:
    """One text per department and state, through the services; {text id: state}."""
    from tests.factories import act, make_text

    actor_of = {
        "submit": lambda n: people["drafters"][n],
        "dept_approve": lambda n: people["reviewers"][n],
        "finance_approve": lambda n: people["finance"],
        "approve": lambda n: people["approver"],
    }
    templates = {}
    for n, department in enumerate(departments):
        for state, path in PATHS.items():
            text = make_text(people["drafters"][n], department)
            for step, action in enumerate(path):
                if action in ("return", "reject"):
                    previous = path[step - 1]
                    stage_actor = {"dept_approve": "finance_approve", "finance_approve": "approve"}
                    who = actor_of[stage_actor[previous]](n)
                    act(who, text, action, comment="资金测算依据不足，请补充说明。")
                else:
                    act(actor_of[action](n), text, action)
            templates[text.pk] = state
    return templates


def copy_texts(templates: dict[int, str], total: int, have: dict[str, int]) -> list[str]:
    """Copy each template with its rows until about `total` texts in all, in the shares;
    `have` counts the texts per template so far (updated). Return the tables not copied."""
    from django.apps import apps
    from django.db import connection

    from submissions.models import ProjectText, Revision
    from workflow.models import AuditChain, AuditEvent

    skipped = set()
    per_state = {s: [t for t, st in templates.items() if st == s] for s in SHARES}
    with connection.cursor() as cursor:
        for state, share in SHARES.items():
            ids = per_state[state]
            copies = max(0, int(total * share / len(ids) + 0.5) - have[state])
            have[state] += copies
            for template in ids:
                if copies:
                    skipped |= _copy_one(cursor, template, copies, apps, ProjectText, Revision)
        cursor.execute("SELECT max(length) FROM workflow_audit_chain")
        # New streams' heads: every copied stream ends where its template's does.
        cursor.execute(
            f"INSERT INTO {AuditChain._meta.db_table} (stream, length, head_hash) "  # noqa: S608
            f"SELECT e.stream, max(e.seq), (array_agg(e.hash ORDER BY e.seq DESC))[1] "
            f"FROM {AuditEvent._meta.db_table} e WHERE e.stream LIKE 'text:%%' "
            f"GROUP BY e.stream ON CONFLICT (stream) DO NOTHING"
        )
        cursor.execute("ANALYZE")
    return sorted(skipped)


def _copy_one(cursor, template: int, copies: int, apps, ProjectText, Revision) -> set[str]:
    from django.db import connection

    quote = connection.ops.quote_name
    fields = [f for f in ProjectText._meta.concrete_fields if not f.primary_key]
    columns = [f.column for f in fields]
    spread = {
        # Copies spread back in time, a minute apart, so that pages have an order.
        "updated_at": "t.updated_at - g * interval '1 minute'",
        "created_at": "t.created_at - g * interval '1 minute'",
    }
    select = ", ".join(spread.get(c, f"t.{quote(c)}") for c in columns)
    cursor.execute(
        f"INSERT INTO {ProjectText._meta.db_table} ({', '.join(map(quote, columns))}) "  # noqa: S608
        f"SELECT {select} FROM {ProjectText._meta.db_table} t, generate_series(1, %s) g "
        f"WHERE t.id = %s RETURNING id",
        [copies, template],
    )
    new_ids = [row[0] for row in cursor.fetchall()]
    cursor.execute("DROP TABLE IF EXISTS bench_map")
    cursor.execute("CREATE TEMP TABLE bench_map (new_id bigint)")
    cursor.execute(
        "INSERT INTO bench_map SELECT unnest(%s::bigint[])",
        [new_ids],
    )
    skipped = set()
    dependents = [
        m
        for m in apps.get_models()
        if m is not ProjectText
        and any(f.is_relation and f.related_model is ProjectText for f in m._meta.concrete_fields)
    ]
    # Revisions first: rows keyed on a revision find its copy by (text, number).
    dependents.sort(key=lambda m: m is not Revision)
    for model in dependents:
        relations = [f for f in model._meta.concrete_fields if f.is_relation and f.related_model]
        others = {f.related_model for f in relations if f.related_model is not ProjectText} & set(
            dependents
        )
        if others - {Revision}:
            skipped.add(model._meta.db_table)
            continue
        table = model._meta.db_table
        out, into, joins = [], [], ""
        for f in model._meta.concrete_fields:
            if f.primary_key and not f.is_relation:
                continue  # a serial id; a one-to-one key on the text is copied, mapped
            into.append(quote(f.column))
            if f.is_relation and f.related_model is ProjectText:
                out.append("m.new_id")
            elif f.is_relation and f.related_model is Revision:
                joins = (
                    f" JOIN submissions_revision r0 ON r0.id = x.{quote(f.column)}"
                    " JOIN submissions_revision r1 ON r1.text_id = m.new_id"
                    " AND r1.number = r0.number"
                )
                out.append("r1.id")
            elif table == "workflow_audit_event" and f.column == "stream":
                out.append("'text:' || m.new_id")
            else:
                out.append(f"x.{quote(f.column)}")
        text_column = next(f.column for f in relations if f.related_model is ProjectText)
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(into)}) SELECT {', '.join(out)} "  # noqa: S608
            f"FROM {table} x CROSS JOIN bench_map m{joins} WHERE x.{quote(text_column)} = %s",
            [template],
        )
    return skipped


def pad_events(total: int) -> int:
    """Add sign-in events on the people's own streams until the log holds about `total`
    events (at province scale most of a log is people signing in and reading, not texts
    moving); return how many were added. Their hashes are not a chain (bench/audit.py
    measures verification)."""
    from django.db import connection

    from workflow.models import AuditEvent

    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608
        missing = total - cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM auth_user")
        users = cursor.fetchone()[0]
        if missing <= 0 or not users:
            return 0
        each = -(-missing // users)
        # Each person's stream goes on after the events it has: from seq 1,000,001 up.
        cursor.execute(
            f"INSERT INTO {table} (stream, seq, at, actor_id, actor_name, action, outcome, "  # noqa: S608
            "department, from_state, to_state, comment, changes, detail, prev_hash, hash, digest) "
            "SELECT 'user:' || u.id, 1000000 + g, now() - (%s - g) * interval '1 second', "
            "u.id, u.username, 'sign_in', 'ok', '', '', '', '', '{}', "
            "'{\"address\": \"10.20.30.40\"}', repeat('0', 64), md5(u.id || ':' || g) "
            "|| md5(g || ':' || u.id), 'sha256' "
            "FROM auth_user u, generate_series(1, %s) g",
            [each, each],
        )
        added = cursor.rowcount
        cursor.execute(f"ANALYZE {table}")
    return added


def database_time(spent: list[tuple[str, float]], execute, sql, params, many, context):
    """An execute wrapper listing each statement with its time in seconds (Django's own
    capture keeps milliseconds only)."""
    started = time.perf_counter()
    try:
        return execute(sql, params, many, context)
    finally:
        spent.append((sql, time.perf_counter() - started))


def page_statement(spent: list[tuple[str, float]]) -> float:
    """The time of the statement that read the page (the last with a LIMIT; 0 when no
    statement was needed, as for a role nothing can wait for)."""
    return next((seconds for sql, seconds in reversed(spent) if " LIMIT " in sql), 0.0)


class Collections:
    """The time the garbage collector has spent so far in this process (gc.callbacks): a
    request's share of it tells a collection's pause from the database's."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self._started: float | None = None
        gc.callbacks.append(self)

    def __call__(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        elif self._started is not None:
            self.seconds += time.perf_counter() - self._started
            self._started = None


COLLECTIONS = Collections()


def timed(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


# The tables that grow with the data: how the plan reads these is what matters.
BIG = (
    "submissions_projecttext",
    "workflow_decision",
    "workflow_audit_event",
    "submissions_revision",
)


def scans(sql: str) -> str:
    """How a statement's plan reads the big tables ("Index Scan(table)", "Seq Scan(table)"),
    and how many sequential scans of other (small) tables it makes."""
    import json

    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node) -> None:
        if "Relation Name" in node:
            found.append(f"{node['Node Type']}({node['Relation Name']})")
        for child in node.get("Plans", []):
            walk(child)

    walk(plan[0]["Plan"])
    big = [node for node in dict.fromkeys(found) if node.split("(")[1].rstrip(")") in BIG]
    small = sum(1 for node in found if node.startswith("Seq Scan") and node not in big)
    return ", ".join(big + ([f"+{small} seq scans of small tables"] if small else [])) or "-"


# The page as one would write it by hand: the rows and the joins the list shows (department,
# author, route), the role's conditions, the list's order. `{me}` is the user.
LISTED = (
    "SELECT t.*, d.code, u.username, r.version_id FROM submissions_projecttext t "
    "JOIN submissions_department d ON d.id = t.department_id "
    "JOIN auth_user u ON u.id = t.created_by_id "
    "LEFT JOIN workflow_route r ON r.text_id = t.id "
)
NEWEST = "ORDER BY t.updated_at DESC, t.id DESC LIMIT 50"
OLDEST_WAIT = "ORDER BY t.entered_state_at, t.id LIMIT 50"
# Separation of duties: not a text one wrote, nor one whose revision one approved already,
# as the text records it (timed) ...
NOT_MINE = " AND t.recused NOT LIKE '%%,{me},%%' "
# ... and as the records say (checked to give the same page: the column is kept right).
NOT_MINE_BY_RECORDS = (
    " AND NOT EXISTS (SELECT 1 FROM submissions_projecttext_authors a "
    "WHERE a.projecttext_id = t.id AND a.user_id = {me}) "
    "AND NOT EXISTS (SELECT 1 FROM workflow_decision x "
    "JOIN submissions_revision v ON v.id = x.revision_id "
    "WHERE x.text_id = t.id AND v.number = t.revision AND x.action NOT IN ('return', 'reject') "
    "AND (x.actor_id = {me} OR x.on_behalf_of_id = {me})) "
)


def measure(people, departments, repeat: int) -> list[tuple]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    dept = departments[0].pk
    roles = {
        "drafter": (people["drafters"][0], f"t.department_id = {dept}",
                    f"t.department_id = {dept} AND t.state = 'returned'"),
        "dept_reviewer": (people["reviewers"][0], f"t.department_id = {dept}",
                          f"t.department_id = {dept} AND t.state = 'dept_review'" + NOT_MINE),
        "finance_reviewer": (people["finance"], "t.reached IN ('finance_review', 'approval')",
                             "t.state = 'finance_review'" + NOT_MINE),
        "approver": (people["approver"], "t.reached = 'approval'",
                     "t.state = 'approval'" + NOT_MINE),
        "auditor": (people["auditor"], "TRUE", None),
    }  # fmt: skip
    # As a web process freezes what it loaded at start (config/wsgi.py): what this process
    # made to set the data up is not a request's to walk in a full collection.
    gc.collect()
    gc.freeze()
    rows = []
    for role, (user, visible, waiting) in roles.items():
        client = APIClient()
        client.force_authenticate(user)
        checks = [
            ("text list", "/api/v1/texts/?page_size=50", visible, NEWEST),
            ("inbox", "/api/v1/texts/inbox/?page_size=50", waiting, OLDEST_WAIT),
        ]
        if role == "auditor":
            checks.append(
                (
                    "audit search (actor)",
                    f"/api/v1/audit/events/?actor={people['drafters'][0].username}&page_size=50",
                    None,
                    None,
                )
            )
        for what, path, where, order in checks:

            def get(path=path, client=client):
                response = client.get(path)
                assert response.status_code == 200, (path, response.status_code)
                return response

            listed = [row["id"] for row in get().json()["results"]]
            real, sql, page, collecting = [], [], [], []
            for _ in range(repeat):
                spent: list[tuple[str, float]] = []
                with connection.execute_wrapper(partial(database_time, spent)):
                    collected = COLLECTIONS.seconds
                    started = time.perf_counter()
                    get()
                    real.append((time.perf_counter() - started) * 1000)
                    collecting.append((COLLECTIONS.seconds - collected) * 1000)
                sql.append(sum(seconds for _sql, seconds in spent) * 1000)
                page.append(page_statement(spent) * 1000)
            slowest_request = max(range(repeat), key=real.__getitem__)
            slowest_parts = (sql[slowest_request], collecting[slowest_request])
            with CaptureQueriesContext(connection) as queries:
                get()
            slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
            plan = (
                scans(slowest["sql"])
                if slowest["sql"].lstrip().upper().startswith("SELECT")
                else "-"
            )
            if where is not None:
                hand_sql = LISTED + "WHERE " + where.format(me=user.pk) + " " + order
            elif what.startswith("audit"):
                actor = people["drafters"][0].username
                hand_sql = (
                    f"SELECT * FROM workflow_audit_event WHERE actor_name = '{actor}' "  # noqa: S608
                    "ORDER BY id LIMIT 50"
                )
            else:
                hand_sql = None
            if hand_sql:

                def hand(sql=hand_sql) -> list[int]:
                    with connection.cursor() as cursor:
                        cursor.execute(sql)
                        return [row[0] for row in cursor.fetchall()]

                # The same query: the same page, row for row.
                assert hand() == listed, (role, what, hand()[:5], listed[:5])
                if NOT_MINE.format(me=user.pk) in hand_sql:
                    records = hand_sql.replace(
                        NOT_MINE.format(me=user.pk), NOT_MINE_BY_RECORDS.format(me=user.pk)
                    )
                    assert hand(records) == listed, (role, what, "recused disagrees")
                by_hand = timed(hand, repeat)
                ratios = (median(page) / median(by_hand), median(sql) / median(by_hand))
                ratio = f"{ratios[0]:.1f}× / {ratios[1]:.1f}×"
                hand_text = f"{median(by_hand):.1f}"
            else:
                ratio, hand_text = "–", "–"
            rows.append(
                (role, what, median(real), percentile(real, 0.99), slowest_parts, median(sql),
                 median(page), hand_text, ratio, len(queries.captured_queries), plan)
            )  # fmt: skip
    return rows


def main(args: argparse.Namespace) -> None:
    from django.db import connection

    from submissions.models import ProjectText
    from workflow.models import AuditEvent

    require_postgresql("bench/lists.py")
    departments, people = make_cast()
    started = time.perf_counter()
    templates = make_templates(departments, people)
    made = time.perf_counter() - started
    print(f"{len(templates)} templates through the services in {made:.1f} s", flush=True)
    have = dict.fromkeys(SHARES, 1)
    with connection.cursor() as cursor:
        for statement in HAND_INDEXES:
            cursor.execute(statement)
    for size in sorted(int(s) for s in args.texts.split(",")):
        started = time.perf_counter()
        skipped = copy_texts(templates, size, have)
        if size == max(int(s) for s in args.texts.split(",")):
            pad_events(args.events)
        with connection.cursor() as cursor:
            # As autovacuum leaves tables that grew by inserts (PostgreSQL 13 on): statistics
            # and the visibility map that lets a count read only an index.
            cursor.execute("VACUUM ANALYZE")
        took = time.perf_counter() - started
        texts, events = ProjectText.objects.count(), AuditEvent.objects.count()
        print(
            f"\npostgresql, {texts:,} texts, {events:,} audit events (copied in {took:.0f} s; "
            f"not copied: {', '.join(skipped) or 'nothing'}); {args.repeat} requests each\n"
        )
        print(
            "| role | what | request median / p99 ms | slowest request: SQL / GC ms "
            "| its SQL ms | its page statement ms | by hand ms | page / hand, SQL / hand "
            "| statements | slowest statement's scans |"
        )
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
        for role, what, med, p99, slowest, sql, page, hand, ratio, count, plan in measure(
            people, departments, args.repeat
        ):
            print(
                f"| {role} | {what} | {med:.1f} / {p99:.1f} | {slowest[0]:.1f} / "
                f"{slowest[1]:.1f} | {sql:.1f} | {page:.1f} | {hand} | {ratio} | {count} "
                f"| {plan} |"
            )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", default="1000,100000", help="sizes, comma-separated, growing")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--events",
        type=int,
        default=5_000_000,
        help="audit events at the largest size (people's sign-ins added up to it)",
    )
    arguments = parser.parse_args()
    with throwaway_database():
        main(arguments)
