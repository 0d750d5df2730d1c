# CivTrack under gunicorn, static files served by whitenoise. Settings come from the
# environment (see .env.example); docker-compose.yml adds PostgreSQL 16.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CIVTRACK_STATIC_ROOT=/app/staticfiles CIVTRACK_MEDIA_ROOT=/data/media
WORKDIR /app

RUN apt-get update && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock ./
RUN pip install -r requirements.lock
COPY . .
RUN DJANGO_SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --noinput

RUN useradd --system --home /app civtrack && mkdir -p /data/media && chown civtrack /data/media
USER civtrack
EXPOSE 8000
CMD ["sh", "scripts/start.sh"]
