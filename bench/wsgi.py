"""WSGI entry of the bench's gunicorn (bench/settings.py): the product's, loaded the same way."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

from config.wsgi import application  # noqa: F401 - gunicorn's entry
