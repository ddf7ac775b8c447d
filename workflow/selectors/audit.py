"""Reading the audit log, for auditors and for a text's history."""

from datetime import UTC, datetime, time
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from submissions.models import Department, ProjectText
from submissions.text_rules import whole_number
from workflow.exceptions import InvalidInput, NotPermitted
from workflow.models import AuditCheckpoint, AuditEvent, AuditVerification
from workflow.permissions import Authority
from workflow.states import Role


def text_history(text: ProjectText) -> QuerySet[AuditEvent]:
    """Every event of one text, refused attempts included, oldest first."""
    return AuditEvent.objects.filter(text=text).order_by("at", "id")


# Outside these years a time cannot be converted to UTC and back on every database.
SEARCHABLE_YEARS = range(1900, 9000)


def _moment(name: str, value: str, *, end_of_day: bool) -> datetime:
    """A date means the whole day: from its start (`since`) or to its end (`until`)."""
    error = InvalidInput({name: [_("应为日期或 ISO 8601 时间，如 2025-03-01。")]})
    try:
        # parse_datetime also accepts a bare date (as midnight): try the date first.
        day = parse_date(value)
        moment = None if day else parse_datetime(value)
    except ValueError:
        raise error from None
    if day is not None:
        moment = datetime.combine(day, time.max if end_of_day else time.min)
    if moment is None or moment.year not in SEARCHABLE_YEARS:
        raise error
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    # In UTC: PostgreSQL refuses offsets beyond ±15:59, which Python (and ISO 8601) allow.
    return moment.astimezone(UTC)


def _text_id(value: Any) -> int:
    text_id = whole_number(value)
    if text_id is None:
        raise InvalidInput({"text": [_("应为项目文本的编号（正整数）。")]})
    return text_id


def audit_events(authority: Authority, params: dict[str, Any]) -> QuerySet[AuditEvent]:
    """Events an auditor may read, filtered by actor, action, text, department and time."""
    scope = authority.scope(Role.AUDITOR)
    if not scope:
        raise NotPermitted("auditors_only")
    events = AuditEvent.objects.all()
    if not scope.everywhere:
        codes = Department.objects.filter(id__in=scope.department_ids).values("code")
        events = events.filter(department__in=codes)
    if params.get("actor"):
        events = events.filter(actor_name=params["actor"])
    if params.get("action"):
        events = events.filter(action=params["action"])
    if params.get("outcome"):
        events = events.filter(outcome=params["outcome"])
    if params.get("department"):
        events = events.filter(department=params["department"])
    if params.get("text"):
        events = events.filter(text_id=_text_id(params["text"]))
    if params.get("since"):
        events = events.filter(at__gte=_moment("since", params["since"], end_of_day=False))
    if params.get("until"):
        events = events.filter(at__lte=_moment("until", params["until"], end_of_day=True))
    return events.order_by("id")


def latest_verification() -> AuditVerification | None:
    """The newest full verification of the log (they run in the background)."""
    return AuditVerification.objects.order_by("-at", "-id").first()


def latest_checkpoint() -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.order_by("-seq").only("seq", "at", "event_count").first()
