"""The floor: a plain Django view doing only the writes a workflow action cannot do without.

Lock the text's row, check the version the client saw, update state and version, append one
audit event to the text's hash chain, write one outbox row; answer with the new state and
version. No sign-in, no permission, no revision, no decision, no stage bookkeeping: what no
implementation of the product's action could do in less. Serves bench/http.py only.
"""

import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from submissions.models import ProjectText
from workflow import audit, outbox

NEXT_STATE = {
    "submit": ("draft", "dept_review"),
    "dept_approve": ("dept_review", "finance_review"),
    "finance_approve": ("finance_review", "approval"),
    "approve": ("approval", "approved"),
}


@csrf_exempt
@require_POST
def floor(request: HttpRequest, pk: int, action: str) -> JsonResponse:
    if action not in NEXT_STATE:
        return JsonResponse({"detail": "unknown action"}, status=404)
    version = json.loads(request.body or b"{}").get("version")
    before, after = NEXT_STATE[action]
    with transaction.atomic():
        text = ProjectText.objects.select_for_update().filter(pk=pk).first()
        if text is None:
            return JsonResponse({"detail": "not found"}, status=404)
        if text.version != version or text.state != before:
            return JsonResponse({"detail": "stale version or wrong state"}, status=409)
        ProjectText.objects.filter(pk=pk).update(state=after, version=version + 1)
        audit.record(
            stream=audit.text_stream(pk),
            actor=None,
            action=action,
            text_id=pk,
            from_state=before,
            to_state=after,
        )
        outbox.queue(kind=action, text=text, actor=None, recipient_ids=[text.created_by_id])
    return JsonResponse({"id": pk, "state": after, "version": version + 1})
