# syntax=docker/dockerfile:1
# pystd GitHub App: multi-stage, slim, non-root. The Python minor version is the one CI
# tests (3.11); the tag is pinned to a patch release and a Debian release.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
RUN python -m venv /opt/pystd
# Dependencies first, in a layer of their own: a change to pystd's code reuses it.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
 && /opt/pystd/bin/pip install --no-cache-dir -r requirements.txt
COPY README.md LICENSE setup.py ./
COPY bot ./bot
COPY rules ./rules
# /setup posts app.yml to GitHub: shipped inside the package (package data).
COPY app.yml ./bot/app.yml
RUN /opt/pystd/bin/pip install --no-cache-dir --no-deps .

FROM ${PYTHON_IMAGE}
# The data folder holds what /setup registers (the App's key and webhook secret, 0600):
# mount a volume there so it survives the container.
RUN useradd --create-home --uid 10001 pystd \
 && mkdir -p /var/lib/pystd && chown 10001 /var/lib/pystd && chmod 700 /var/lib/pystd
COPY --from=build /opt/pystd /opt/pystd
ENV PATH=/opt/pystd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYSTD_HOST=0.0.0.0 \
    PYSTD_PORT=8080 \
    PYSTD_DATA_DIR=/var/lib/pystd
# The data folder holds the job queue's SQLite file (the default PYSTD_QUEUE_URL) and what
# /setup registers (the App's key and webhook secret, 0600): keep it on a volume so that a
# new container picks up the jobs and the App an old one had.
VOLUME ["/var/lib/pystd"]
USER 10001
WORKDIR /home/pystd
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PYSTD_PORT', '8080'), timeout=2)"]
CMD ["pystd", "serve"]
