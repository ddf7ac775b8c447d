"""One language per user: Preference.language, chosen with the header's switch.

Signing in puts the chosen language into the session; `UserLanguageMiddleware` (after
Django's LocaleMiddleware) makes it the language of every page of that session, whatever
the browser's cookie or Accept-Language say. Until a user chooses, nothing is stored and
the browser decides, as for a visitor who is not signed in.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from notifications.models import Preference

SESSION_KEY = "notifications.language"


def use_chosen_language(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Receiver of user_logged_in: the user's chosen language for this session."""
    if request is None or not hasattr(request, "session"):
        return
    language = (
        Preference.objects.filter(user=user, language_chosen=True)
        .values_list("language", flat=True)
        .first()
    )
    if language:
        remember(request, language)


def remember(request: HttpRequest, language: str) -> None:
    request.session[SESSION_KEY] = language
    translation.activate(language)
    request.LANGUAGE_CODE = translation.get_language()


class UserLanguageMiddleware:
    """Pages in the signed-in user's chosen language (see the module's docstring)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        session = getattr(request, "session", None)
        language = session.get(SESSION_KEY) if session is not None else None
        if language and language in dict(settings.LANGUAGES):
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
