"""The Celery application.

With no REDIS_URL (the embedded default) tasks run in-process, eagerly, after the
transaction that asked for them commits; with REDIS_URL they go through Redis to a worker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("budget_workflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
