"""Django settings for the shop."""

import os

SECRET_KEY = "django-insecure-7f3k9q2m8x1v5b6n4c0z"
DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
ALLOWED_HOSTS = ["shop.example.com"]
INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "PASSWORD": os.environ["DB_PASSWORD"],
    }
}
