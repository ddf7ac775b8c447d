"""Every operation of the API, fuzzed from its own OpenAPI schema as a drafter, a reviewer and
an auditor, never answers a server error (issue 7: "every query parameter and body field
validated by type and range before use"; DESIGN.md: bad client input is a 4xx, never a 500).

The requests go through the WSGI application in-process (tests/fuzz/harness.py), against a
database holding texts in every state, a second revision to diff, an invisible text of
another department and delivered notifications. Each operation gets, as each role:
- boundary requests: one well-formed request, then the same with one parameter or body field
  at a time made too long to store, a list, an object or a number beyond any column;
- requests hypothesis generates from the schema, in it and out of it, about half of them aimed
  at things that exist (a real text id, its current version, an action the user may take,
  real credentials), so that they get past "not found" into the code behind it.
"""

import io
import random
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from schemathesis.core import NOT_SET
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from notifications.models import Notification
from submissions.content import SECTION_FIELDS
from submissions.models import ProjectText
from tests.factories import PASSWORD, act, make_text, text_fields
from tests.fuzz.harness import Fuzzer, Tally, load_schema, operations_of
from tests.test_api_workflow import SAMPLE
from workflow import services
from workflow.models import AccessToken
from workflow.permissions import Authority
from workflow.policy import available_actions
from workflow.states import Action, State

ROLES = {"drafter": "org_drafter", "reviewer": "org_reviewer", "auditor": "auditor"}
# Generated requests per operation, role and generation mode (in-schema, and out of schema
# where there is an input to break); each operation is asserted to have had at least this
# many as each role. Measured on this 2-core machine, the three roles with the test database's
# creation: ~22 s on SQLite, ~32 s on PostgreSQL.
EXAMPLES = 5
# Too long: for every column (CharFields of 32 to 255 characters; sections of up to 100,000
# characters) and, in a query string, for SQLite's longest LIKE pattern (50,000 bytes). Query
# strings are stretched with ASCII: percent-encoding a long Chinese one costs the client
# seconds.
LENGTHS = {"query": [50_001], "body": [256, 100_001]}
# Where a string or a number belongs: a list, an object, a number beyond PostgreSQL's bigint.
WRONG_TYPES = [["x"], {"x": "y"}, 2**63]

# The id of the token the fuzzer sends: far beyond the ids of everything else, where a
# generated id is most unlikely to land.
OWN_TOKEN_ID = 987_654_321_987

# Dates and times near the ends of the years searched, with offsets ISO 8601 allows and
# PostgreSQL does not (its go to ±15:59).
MOMENTS = [
    "2025-01-01",
    "2025-12-31T23:59:59.999999+08:00",
    "2025-06-01T12:00:00",
    "2025-06-01T12:00:00Z",
    "2025-06-01T12:00:00-16:00",
    "2025-06-01T12:00:00+23:59",
    "1900-01-01T00:00:00+23:59",
    "8999-12-31T23:59:59.999999-23:59",
    "9999-12-31",
    "0001-01-01T00:00:00+00:30",
]


@pytest.fixture
def world(cast, django_capture_on_commit_callbacks) -> Any:
    """Texts of `org` in every state, one with two revisions, one of `edu` that org's people
    may not see, and the notifications those actions delivered."""
    with django_capture_on_commit_callbacks(execute=True):
        for state in ("draft", "dept_review", "finance_review", "approval", "returned"):
            cast.text_in(state)
        resubmitted = cast.text_in("returned")
        services.edit_text(
            actor=cast.org_drafter,
            text_id=resubmitted.pk,
            version=resubmitted.version,
            data={"plan": "项目于2025年10月开展。"},
        )
        act(cast.org_drafter, resubmitted, "submit")
        act(cast.edu_drafter, make_text(cast.edu_drafter, cast.edu), "submit")
    assert Notification.objects.exists()
    return cast


def _ids(model: type) -> list[int]:
    return list(model.objects.order_by("pk").values_list("pk", flat=True))


class Aiming:
    """Points requests at things that exist, as the user in question (tests.fuzz.harness.Aim).

    Each parameter or body field the domain knows is replaced, by chance, with a real or
    well-formed value. A "whole" request has every known value, the body a client that means
    it would send (junk keys gone), the text's current version and an action the user may
    take, so that some requests succeed and move texts on; a "stretched" one is a whole one
    with every text value made too long to store. Boundary cases start from a whole request
    with the typical value of each parameter and field.
    """

    def __init__(self, user: Any) -> None:
        self.user = user
        sample = text_fields()
        # Candidates by parameter or field name, the typical one first.
        self.known: dict[str, list[Any] | Callable[[], list[Any]]] = {
            name: [value] for name, value in sample.items()
        }
        self.known.update(
            {
                "text": lambda: _ids(ProjectText),
                "number": [1, 2],
                "against": [1, 2],
                "department": ["org", "edu"],
                "state": State.values,
                "q": ["换届", sample["title"]],
                "page": [1, 2],
                "page_size": [20, 1, 100],
                "since": MOMENTS,
                "until": MOMENTS,
                "actor": [user.username, "org_drafter"],
                "action": Action.values,
                "outcome": ["ok", "refused"],
                "unread": ["true", "false"],
                "comment": ["理由"],
                "section": list(SECTION_FIELDS),
                "email_enabled": [True, False],
                "email_mode": ["immediate", "digest"],
                "language": ["zh-hans", "en"],
                "username": [user.username],
                "password": [PASSWORD],
            }
        )

    def __call__(self, case: schemathesis.Case, chance: random.Random) -> None:
        kind = chance.choices(["whole", "mixed", "stretched"], weights=[4, 4, 2])[0]
        self._aim(case, chance, whole=kind != "mixed")
        if kind == "stretched":
            for location, values in (("query", case.query), ("body", case.body)):
                if isinstance(values, dict):
                    for name, value in values.items():
                        if isinstance(value, str):
                            length = chance.choice(LENGTHS[location])
                            values[name] = _stretched(value, location, length)

    def boundary_cases(
        self, operation: schemathesis.APIOperation, chance: random.Random
    ) -> Iterator[schemathesis.Case]:
        yield self._whole_case(operation, chance)
        for location, name in self._fields_of(operation):
            for length in LENGTHS[location]:
                case = self._whole_case(operation, chance)
                values = case.query if location == "query" else case.body
                values[name] = _stretched(str(values[name]), location, length)
                yield case
            for wrong in WRONG_TYPES if location == "body" else [["1", "2"]]:
                case = self._whole_case(operation, chance)
                (case.query if location == "query" else case.body)[name] = wrong
                yield case

    def _fields_of(self, operation: schemathesis.APIOperation) -> list[tuple[str, str]]:
        case = self._whole_case(operation, random.Random(0))
        body = case.body if isinstance(case.body, dict) else {}
        return [("query", name) for name in case.query] + [("body", name) for name in body]

    def _whole_case(
        self, operation: schemathesis.APIOperation, chance: random.Random
    ) -> schemathesis.Case:
        """Every documented parameter and JSON body field the domain knows, well-formed."""
        body_schema = next(
            (body for body in operation.body if body.media_type == "application/json"),
            next(iter(operation.body), None),
        )
        fields = body_schema.resolved_schema.get("properties", {}) if body_schema else {}
        case = operation.Case(
            path_parameters={parameter.name: None for parameter in operation.path_parameters},
            query={p.name: None for p in operation.query if p.name in self.known},
            body={name: None for name in fields if name in self.known or name == "version"}
            if body_schema
            else NOT_SET,
            media_type=body_schema.media_type if body_schema else None,
        )
        self._aim(case, chance, whole=True, typical=True)
        if isinstance(case.body, dict):
            case.body = {name: value for name, value in case.body.items() if value is not None}
        return case

    def _aim(
        self, case: schemathesis.Case, chance: random.Random, *, whole: bool, typical: bool = False
    ) -> None:
        share = 1.0 if whole else 0.5
        path = case.path_parameters
        if "id" in path and chance.random() < share:
            if case.path.startswith("/api/v1/auth/tokens/"):
                # The user's other tokens: revoking its own would sign the fuzzer out.
                spare = AccessToken.objects.filter(user=self.user).exclude(pk=OWN_TOKEN_ID)
                path["id"] = chance.choice(list(spare.values_list("pk", flat=True)) or [0])
            else:
                notification = case.path.startswith("/api/v1/notifications/")
                path["id"] = chance.choice(_ids(Notification if notification else ProjectText))
        if whole:  # and filters the case left out, to reach the code that applies them
            for parameter in case.operation.query:
                if parameter.name in self.known and chance.random() < 0.5:
                    case.query = case.query or {}
                    case.query.setdefault(parameter.name, None)
        self._replace_known(case.query, chance, share, typical=typical)
        self._replace_known(path, chance, share, typical=typical)
        text = self._text_in(case)
        if case.path == "/api/v1/texts/import/":
            self._upload_sample(case)
        elif isinstance(case.body, dict):
            self._aim_body(case, text, chance, whole=whole, typical=typical)
        if whole and text is not None and "action" in path:
            actions = available_actions(Authority.of(self.user), text)
            path["action"] = chance.choice(actions or Action.values)

    def _aim_body(
        self,
        case: schemathesis.Case,
        text: ProjectText | None,
        chance: random.Random,
        *,
        whole: bool,
        typical: bool,
    ) -> None:
        generated = dict(case.body)
        if whole:
            case.body = {name: value for name, value in case.body.items() if name in self.known}
        self._replace_known(case.body, chance, 1.0 if whole else 0.5, typical=typical)
        if whole and case.operation.label == "POST /api/v1/texts/":
            case.body.update(text_fields(), department="org")
        elif whole and text is not None:
            case.body.pop("department", None)  # only a new text names its department
        if text is not None and (whole or "version" in case.body):
            case.body["version"] = text.version
        self._garnish(case.body, generated, chance)

    def _replace_known(
        self, values: Any, chance: random.Random, share: float, *, typical: bool
    ) -> None:
        for name in list(values or {}):
            if name in self.known and name != "id" and chance.random() < share:
                candidates = self.known[name]
                candidates = candidates() if callable(candidates) else candidates
                values[name] = candidates[0] if typical else chance.choice(candidates)

    @staticmethod
    def _garnish(body: dict[str, Any], generated: dict[str, Any], chance: random.Random) -> None:
        """Sections that also carry what was generated for them (any character, any script),
        so that the texts later listed, diffed, exported and audited hold it too."""
        for name in SECTION_FIELDS:
            if name in body and isinstance(generated.get(name), str) and chance.random() < 0.3:
                body[name] = f"{body[name]}{generated[name]}"

    @staticmethod
    def _text_in(case: schemathesis.Case) -> ProjectText | None:
        text_id = case.path_parameters.get("id")
        if not isinstance(text_id, int) or case.path.startswith("/api/v1/notifications/"):
            return None
        return ProjectText.objects.filter(pk=text_id).first()

    @staticmethod
    def _upload_sample(case: schemathesis.Case) -> None:
        upload = FileStorage(io.BytesIO(SAMPLE.read_bytes()), filename=SAMPLE.name)
        boundary, data = encode_multipart({"file": upload})
        case.body = data
        case.headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"


def _stretched(value: str, location: str, length: int) -> str:
    return (value + ("x" if location == "query" else "长") * length)[:length]


@pytest.fixture
def fuzzed(world, request) -> tuple[Tally, list[str]]:
    """Every operation fuzzed as one role: the tally of what was sent and answered, and the
    operations of the schema."""
    user = getattr(world, ROLES[request.param])
    _own, token = services.issue_token(user=user, address="127.0.0.1", path="/fuzz")
    # Where no generated id reaches, so that a DELETE of a token never signs the fuzzer out;
    # and spare ones for the DELETEs to revoke.
    AccessToken.objects.filter(pk=_own.pk).update(id=OWN_TOKEN_ID)
    for _n in range(3):
        services.issue_token(user=user, address="127.0.0.1", path="/fuzz")
    # Built here, not imported from config.wsgi: middleware reads its settings when the
    # handler is built, and the suite's plain-HTTP settings (conftest.plain_http) are in force
    # only inside the session.
    application = get_wsgi_application()
    fuzzer = Fuzzer(role=request.param, token=token, aim=Aiming(user), max_examples=EXAMPLES)
    with fuzzer:
        operations = operations_of(load_schema(application))
        for operation in operations:
            fuzzer.fuzz(operation)
    return fuzzer.tally, [operation.label for operation in operations]


@pytest.mark.parametrize("fuzzed", list(ROLES), indirect=True)
def test_no_operation_answers_a_server_error_to_any_input(fuzzed):
    tally, operations = fuzzed

    assert len(operations) >= 20, operations
    # The fuzz reached every operation (one that generated nothing would pass silently) ...
    called_too_rarely = {
        label: tally.calls[label] for label in operations if tally.calls[label] < EXAMPLES
    }
    assert called_too_rarely == {}
    # ... and the token worked: the role got real answers, not only 401s.
    assert sum(tally.successes.values()) >= len(operations), tally.statuses
    assert tally.errors == [], f"server errors:\n\n{tally.report()}"
