"""Celery application, wired the way Celery's Django guide shows."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cryptohub.settings")

app = Celery("cryptohub")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
