"""Stage visits: when a text entered a review stage, when it is due, when it left.

Called by the workflow service inside an action's transaction.
"""

from datetime import datetime

from django.conf import settings

from notifications.models import StageVisit
from submissions.models import ProjectText
from workflow.clock import add_period, db_now
from workflow.states import REVIEW_STATES


def move(text: ProjectText, at: datetime) -> None:
    """Close the text's open visit, and open one if it entered a review stage."""
    StageVisit.objects.filter(text=text, left_at__isnull=True).update(left_at=at)
    if text.state in REVIEW_STATES:
        entered = db_now()
        due = add_period(entered, settings.STAGE_DUE[text.state])
        StageVisit.objects.create(
            text=text,
            stage=text.state,
            revision=text.revision,
            entered_at=entered,
            due_at=due,
            escalate_at=add_period(due, settings.ESCALATE_AFTER),
        )
