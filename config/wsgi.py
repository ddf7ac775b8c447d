"""The WSGI application, loaded whole when the process starts.

Everything it loads (Django, the apps, every view the URLs name) lives as long as the process.
`gc.freeze()` moves it out of the garbage collector's way: a full collection walked all of it,
and took 67–85 ms of the request it fell in (bench/lists.py, 2026-12-08).
"""

import gc
import os

from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver


def load() -> WSGIHandler:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    application = get_wsgi_application()
    get_resolver().url_patterns  # noqa: B018 - the views, imported now, not by the first request
    gc.freeze()
    return application


application = load()
