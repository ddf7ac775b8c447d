from django.http import HttpRequest

from notifications.services import unread_count


def bell(request: HttpRequest) -> dict[str, int]:
    """The unread count under the bell in every page's header (one query)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notifications": unread_count(user)}
