"""Stage visits: when a text entered a review stage, when it is due, when it left.

Called by the workflow service inside an action's transaction.
"""

from datetime import datetime

from django.conf import settings

from submissions.models import ProjectText
from workflow import prepared
from workflow.clock import add_period, db_now
from workflow.definitions import StageSpec
from workflow.models import StageVisit


def period_of(stage: StageSpec) -> dict[str, int]:
    """How long a text may wait at a stage: the document's `due_days` (working days), unless
    STAGE_DUE names the stage (an operator's override, in any unit add_period knows)."""
    return settings.STAGE_DUE.get(stage.code) or {
        "working_days": stage.due_days or settings.DEFAULT_DUE_WORKING_DAYS
    }


def move(
    text: ProjectText,
    at: datetime,
    entering: StageSpec | None,
    *,
    entered: datetime | None = None,
    leaving: bool = True,
    quorums: dict[str, int] | None = None,
) -> None:
    """Close the text's open visit (if it is `leaving` a review stage), and open one if it
    entered a review stage, with the quorums its `all` lanes begin with. `entered` is the
    database's clock, if the caller read it."""
    if leaving:
        prepared.update(StageVisit, {"left_at": at}, text=text.pk, left_at=None)
    if entering is not None:
        entered = entered or db_now()
        due = add_period(entered, period_of(entering))
        visit = StageVisit(
            text=text,
            stage=entering.code,
            revision=text.revision,
            entered_at=entered,
            due_at=due,
            escalate_at=add_period(due, settings.ESCALATE_AFTER),
            quorums=quorums or {},
        )
        prepared.insert(visit)
