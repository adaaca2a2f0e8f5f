"""A Django site that sets STATIC_ROOT only in production (as Render's example does): none at build time here."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
SECRET_KEY = "fixture-only"
DEBUG = "PRODUCTION" not in os.environ
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = ["django.contrib.staticfiles"]
ROOT_URLCONF = "site2.urls"
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "assets"]
if not DEBUG:
    STATIC_ROOT = BASE_DIR / "staticfiles"
