"""Settings for the test suite: the production settings with test-only relaxations."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key-" + "x" * 40)
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")

from civtrack.settings import *  # noqa: F403

# whitenoise's manifest storage needs collectstatic first (STACK.md).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
MEDIA_ROOT = BASE_DIR / ".state" / "test-media"  # noqa: F405

# Every factory user gets a password; argon2 makes that the slowest part of the suite.
# (Production hashing is asserted on civtrack.settings itself.)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
