# Beacon production image: one image for web (ASGI), worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BEACON_VAR_DIR=/var/lib/beacon

WORKDIR /app
RUN useradd --system --home /app --shell /usr/sbin/nologin beacon \
    && mkdir -p /var/lib/beacon && chown beacon /var/lib/beacon

COPY requirements.lock pyproject.toml ./
RUN pip install -r requirements.lock
COPY . .
RUN pip install --no-deps . \
    && SECRET_KEY=build-only DATABASE_URL= REDIS_URL= python manage.py collectstatic --noinput

USER beacon
EXPOSE 8000
CMD ["python", "manage.py", "serve", "--host", "0.0.0.0", "--port", "8000"]
