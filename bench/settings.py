"""The product's settings with the bench's urlconf: the floor view beside the real API.

Only bench/http.py's gunicorn uses this module; the product never imports it."""

from config.settings import *  # noqa: F403 - the product's settings, unchanged

ROOT_URLCONF = "bench.urls"
