# Runtime image for the scheduled jobs: `docker build -t REGISTRY/sla-monitor:TAG .`
#
# Two stages. The builder installs the locked dependencies, every file checked against its
# hash (requirements.lock, from `make lock`), into a virtualenv without pip, then slims it
# (scripts/slim-venv.sh: no test suites, no C sources or stubs, bytecode only for what the
# jobs import). The runtime stage copies that virtualenv, the `jobs` package and the config:
# no emulators, tests, benchmarks, dev tools, pip or compilers. `make image-size` estimates
# what it adds to the slim base (README 'Deploy').

FROM python:3.11.11-slim-bookworm AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.lock ./
RUN python -m venv --without-pip /opt/venv \
    && pip --python /opt/venv/bin/python install --require-hashes --no-deps \
        --only-binary=:all: -r requirements.lock
COPY jobs ./jobs
COPY scripts/slim-venv.sh scripts/warm_imports.py ./scripts/
RUN sh scripts/slim-venv.sh /opt/venv /app


FROM python:3.11.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    MPLCONFIGDIR=/tmp/matplotlib \
    JOBS_CONFIG=/app/config/settings.yaml

RUN groupadd --gid 10001 app && useradd --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin app

WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY --from=builder /app/jobs ./jobs
COPY config ./config

USER 10001:10001
ENTRYPOINT ["python", "-m", "jobs"]
CMD ["list"]
