# Mobilise: one image for the web, the workers and `flask inbound` (docker-compose.yml runs them).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    FLASK_APP=app \
    MOBILISE_ENV=production

WORKDIR /app
RUN useradd --create-home --uid 1000 mobilise

# Dependencies first, so a code change does not reinstall them: exactly the locked versions, each checked against
# its hash (scripts/lock writes requirements.lock).
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock

COPY --chown=mobilise:mobilise . .
# Installed in place (-e), and nothing more resolved: the templates and migrations are read from /app.
RUN pip install --no-deps -e . && mkdir -p instance && chown mobilise:mobilise instance

USER mobilise
EXPOSE 8000 2525
# The web's health (database and Redis) from inside the container; python, as the slim image has no curl. A 503 or
# no answer fails it. The workers and the inbound server serve no HTTP: docker-compose.yml turns it off for them.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# The web: migrate, then hand the process to gunicorn. The workers and the inbound server override the command.
# gunicorn.conf.py: the access log, without tokens, query strings or addresses.
CMD ["sh", "-c", "flask db upgrade && exec gunicorn --config gunicorn.conf.py --bind 0.0.0.0:8000 --workers ${WEB_CONCURRENCY:-4} app:app"]
