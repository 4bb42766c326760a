# syntax=docker/dockerfile:1
# pystd GitHub App: multi-stage, slim, non-root.
FROM python:3.12-slim AS build
WORKDIR /src
RUN python -m venv /opt/pystd
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY rules ./rules
RUN /opt/pystd/bin/pip install --no-cache-dir .

FROM python:3.12-slim
RUN useradd --create-home --uid 10001 pystd
COPY --from=build /opt/pystd /opt/pystd
ENV PATH=/opt/pystd/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYSTD_HOST=0.0.0.0 \
    PYSTD_PORT=8080
USER pystd
WORKDIR /home/pystd
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PYSTD_PORT', '8080'), timeout=2)"]
CMD ["pystd", "serve"]
