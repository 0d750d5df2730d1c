#!/bin/sh
# The container's start command: migrate, then serve under gunicorn.
set -e
python manage.py migrate --noinput
exec gunicorn civtrack.wsgi:application \
  --bind "0.0.0.0:${PORT:-8000}" --workers "${GUNICORN_WORKERS:-3}" \
  --access-logfile - --timeout "${GUNICORN_TIMEOUT:-120}"
