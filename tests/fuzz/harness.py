"""Schema-driven fuzzing of the API in-process (tests/test_api_fuzz.py).

schemathesis turns each operation of the project's own OpenAPI schema (the one served at
/api/schema/) into a hypothesis strategy of requests, in-schema ("positive") and out of it
("negative"); each request goes through the Django WSGI application in the test's own thread,
so it sees the test's database. What is checked is schemathesis' `not_a_server_error`, and
that no exception escapes the application. Every request is counted, so that a fuzz that
reached nothing cannot pass.

Failures are recorded, not raised inside hypothesis: the run stays bounded (no shrinking) and
one report lists every distinct 5xx with its request and where the server broke.
"""

import random
import sys
import traceback
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self

import schemathesis
from django.core import signals
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core import NotSet
from schemathesis.errors import FailureGroup

PROJECT = str(Path(__file__).resolve().parents[2])
FRAMEWORKS = {"django", "rest_framework", "psycopg", "werkzeug", "schemathesis", "hypothesis"}

# Bounded and reproducible: a fixed seed per operation, role and mode, no example database,
# no shrinking (failures are recorded, not raised), no deadline (the first request to a view
# pays for imports and caches, which would make a deadline flaky).
HYPOTHESIS = settings(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
        HealthCheck.data_too_large,
    ],
    print_blob=False,
)


class Aim(Protocol):
    """What the domain knows: how to point a request at things that exist."""

    def __call__(self, case: schemathesis.Case, chance: random.Random) -> None:
        """Replace some of a generated case's values with real or well-formed ones."""

    def boundary_cases(
        self, operation: schemathesis.APIOperation, chance: random.Random
    ) -> Iterable[schemathesis.Case]:
        """Requests sent to every operation whatever hypothesis generates."""


@dataclass(repr=False)
class ServerError:
    """One request answered with a 5xx, or whose handling raised out of the application."""

    operation: str
    role: str
    kind: str  # positive, negative (generated) or boundary
    method: str
    path: str
    query: dict[str, Any]
    body: Any
    status: int | None  # None: the exception escaped the application
    cause: str  # the exception, on one line
    details: str  # where the server broke, or the check's message
    curl: str

    def __repr__(self) -> str:
        return f"<{self.operation} as {self.role}: {self.cause}>"

    def describe(self) -> str:
        answer = f"HTTP {self.status}" if self.status else "exception escaped the application"
        body = "(none)" if self.body is None else _shortened(repr(self.body))
        return "\n".join(
            [
                f"{self.operation} as {self.role} ({self.kind} case): {answer}: {self.cause}",
                f"  {self.method} {_shortened(self.path)} query={_shortened(repr(self.query))}",
                f"  body: {body}",
                f"  reproduce: {_shortened(self.curl)}",
                *(f"    {line}" for line in self.details.rstrip().splitlines()[-30:]),
            ]
        )


@dataclass
class Tally:
    """What the fuzz sent and got back."""

    calls: Counter = field(default_factory=Counter)  # operation -> requests
    successes: Counter = field(default_factory=Counter)  # operation -> 2xx answers
    statuses: Counter = field(default_factory=Counter)  # status -> requests
    errors: list[ServerError] = field(default_factory=list)

    def report(self) -> str:
        """Each distinct defect (operation, role, exception) once, with how often it came."""
        alike: dict[tuple[str, str, str], list[ServerError]] = {}
        for error in self.errors:
            alike.setdefault((error.operation, error.role, error.cause), []).append(error)
        return "\n\n".join(
            f"[{len(errors)} request(s) like this]\n{errors[0].describe()}"
            for errors in alike.values()
        )


def load_schema(application: Any) -> schemathesis.BaseSchema:
    """The schema the application itself serves, fetched in-process."""
    return schemathesis.openapi.from_wsgi("/api/schema/", application)


def operations_of(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def generation_modes(operation: schemathesis.APIOperation) -> list[GenerationMode]:
    """Negative cases need something to break: an operation with no parameters and no body
    has only in-schema requests (hypothesis would find no negative one, and give up)."""
    has_input = bool(len(operation.path_parameters) or len(operation.query))
    if has_input or list(operation.body):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


class Fuzzer:
    """Sends requests to the application as one role, and tallies the answers.

    Used as a context manager: inside it, requests are served in the test's thread and
    transaction the way Django's test client serves them (the end of a request must not close
    the test's connection, which `close_old_connections` would do to a connection holding a
    transaction open), and every exception the application turns into a 500 is kept.
    """

    def __init__(self, *, role: str, token: str, aim: Aim, max_examples: int) -> None:
        self.role = role
        self.token = token
        self.aim = aim
        self.max_examples = max_examples
        self.tally = Tally()
        self._server_exceptions: list[BaseException] = []

    def __enter__(self) -> Self:
        signals.request_started.disconnect(close_old_connections)
        signals.request_finished.disconnect(close_old_connections)
        signals.got_request_exception.connect(self._keep_exception, dispatch_uid="api-fuzz")
        return self

    def __exit__(self, *exc: object) -> None:
        signals.got_request_exception.disconnect(dispatch_uid="api-fuzz")
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)

    def _keep_exception(self, **kwargs: Any) -> None:
        # Sent by Django's handler while it handles the exception: it is the current one.
        self._server_exceptions.append(sys.exception())

    def fuzz(self, operation: schemathesis.APIOperation) -> None:
        """The aim's boundary cases, then `max_examples` generated requests per generation
        mode, about half of them aimed at things that exist, so that they get past "not
        found" into the code behind it."""
        label = f"{operation.label} {self.role}"
        for case in self.aim.boundary_cases(operation, random.Random(zlib.crc32(label.encode()))):
            self.send(case, "boundary")
        for mode in generation_modes(operation):

            @given(
                case=operation.as_strategy(generation_mode=mode),
                aimed=st.booleans(),
                # A PRNG seeded by hypothesis rather than st.randoms(), whose draws lean to
                # "simple" values: the aim's proportions should be the ones it asks for.
                chance=st.integers(min_value=0, max_value=2**32 - 1).map(random.Random),
                kind=st.just(mode.value),
            )
            def one_request(case: Any, aimed: bool, chance: random.Random, kind: str) -> None:
                if aimed:
                    self.aim(case, chance)
                self.send(case, kind)

            run = settings(HYPOTHESIS, max_examples=self.max_examples)(one_request)
            seed(zlib.crc32(f"{label} {mode.value}".encode()))(run)()

    def send(self, case: schemathesis.Case, kind: str) -> None:
        label = case.operation.label
        self.tally.calls[label] += 1
        self._server_exceptions.clear()
        # Each request in a savepoint of its own, rolled back if it failed: on PostgreSQL a
        # failed statement aborts the whole transaction, and every later request would fail
        # because of the first. (A bare savepoint, not an atomic block: the services' durable
        # blocks refuse to nest in one.)
        savepoint = transaction.savepoint()
        status: int | None = None
        cause = details = ""
        try:
            response = case.call(headers={"Authorization": f"Token {self.token}"})
        except Exception as error:  # it escaped the application (e.g. while streaming a body)
            cause, details = _one_line(error), _where(error)
        else:
            status = response.status_code
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except FailureGroup as failures:  # a BaseExceptionGroup: `except Exception` misses it
                cause, details = f"HTTP {status}", str(failures)
        if self._server_exceptions:
            error = self._server_exceptions[-1]
            cause, details = _one_line(error), _where(error)
        if cause:
            transaction.savepoint_rollback(savepoint)
            transaction.set_rollback(False)
        else:
            transaction.savepoint_commit(savepoint)
        self.tally.statuses[status] += 1
        if status is not None and 200 <= status < 300:
            self.tally.successes[label] += 1
        if cause:
            self.tally.errors.append(
                ServerError(
                    operation=label,
                    role=self.role,
                    kind=kind,
                    method=case.method,
                    path=case.formatted_path,
                    query=dict(case.query or {}),
                    body=None if isinstance(case.body, NotSet) else case.body,
                    status=status,
                    cause=cause,
                    details=details,
                    curl=case.as_curl_command(),
                )
            )


def _where(error: BaseException) -> str:
    """For each exception of the chain, the frames of the project's code and the last one
    (where it broke): the rest of a Django traceback is the same for every request."""
    lines: list[str] = []
    for link in reversed(_chain(error)):
        frames = traceback.extract_tb(link.__traceback__)
        for index, frame in enumerate(frames):
            if index == len(frames) - 1 or _is_project(frame.filename):
                lines.append(f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}")
        lines.append(_one_line(link))
    return "\n".join(lines)


def _chain(error: BaseException) -> list[BaseException]:
    chain = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and cause not in chain:
        chain.append(cause)
    return chain


def _is_project(filename: str) -> bool:
    """The project's code, or a plugin it configures (axes, guardian, django-fsm...): not
    the frameworks every request goes through."""
    if not filename.startswith(PROJECT):
        return False
    package = filename.partition("/site-packages/")[2].split("/")[0]
    return package not in FRAMEWORKS


def _shortened(text: str, limit: int = 400) -> str:
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text)} characters)"


def _one_line(error: BaseException) -> str:
    message = str(error).strip()
    return f"{type(error).__name__}: {message.splitlines()[0] if message else ''}"
