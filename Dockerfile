# Runtime image for the scheduled jobs: `docker build -t REGISTRY/sla-monitor:TAG .`
FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    JOBS_CONFIG=/app/config/settings.yaml

RUN groupadd --gid 10001 app && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY pyproject.toml README.md ./
COPY jobs ./jobs
COPY emulators ./emulators
# Runtime dependencies only (no [dev] extras).
RUN pip install . && rm -rf /root/.cache
COPY config ./config

USER 10001:10001
ENTRYPOINT ["python", "-m", "jobs"]
CMD ["list"]
