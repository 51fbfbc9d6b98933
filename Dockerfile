# syntax=docker/dockerfile:1
# Multi-stage: build a wheel-complete virtualenv, then copy it into a slim non-root runtime image.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/venv/bin/pip install .

FROM python:3.11-slim AS runtime
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ENVIRONMENT=production \
    UPLOAD_DIR=/data/uploads \
    LOG_DIR=/data/logs \
    WORKERS=2 \
    PROMETHEUS_MULTIPROC_DIR=/tmp/studyhub-metrics
RUN groupadd --system studyhub && useradd --system --gid studyhub --home /app studyhub \
    && mkdir -p /app /data/uploads /data/logs && chown -R studyhub:studyhub /data
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY alembic.ini ./
COPY alembic ./alembic
USER studyhub
EXPOSE 5000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:5000/health', timeout=2).status != 200)"
# Migrations run once per container start; they are idempotent (alembic upgrade head).
CMD ["sh", "-c", "studyhub init-db && exec studyhub serve --host 0.0.0.0 --port 5000 --workers ${WORKERS:-2}"]
