"""docker-compose.yml scales out as the README says: PostgreSQL for the queue, two
`pystd serve` replicas that only receive webhooks, two `pystd worker`s, all on one queue
URL, and no secret written in the file."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_two_replicas_two_workers_one_postgresql_queue():
    services = COMPOSE["services"]
    commands = sorted(" ".join(s["command"]) for n, s in services.items() if n != "postgres")
    assert commands == ["pystd serve --workers 0"] * 2 + ["pystd worker --port 8080"] * 2
    urls = {s["environment"]["PYSTD_QUEUE_URL"] for n, s in services.items() if n != "postgres"}
    assert len(urls) == 1 and next(iter(urls)).startswith("postgresql://")
    ports = [s["ports"][0] for s in services.values() if "ports" in s]
    assert len(set(ports)) == 2


def test_no_secret_is_written_in_the_file():
    text = (ROOT / "docker-compose.yml").read_text()
    for name in ("PYSTD_WEBHOOK_SECRET", "POSTGRES_PASSWORD", "PYSTD_APP_ID"):
        assert f"${{{name}:?" in text  # taken from the environment, required


def test_workers_serve_the_health_check_the_image_probes():
    """The image's HEALTHCHECK asks PYSTD_PORT (8080): each worker serves /healthz there,
    and no service turns the check off."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "PYSTD_PORT', '8080'" in dockerfile and "/healthz" in dockerfile
    for name, service in COMPOSE["services"].items():
        if name.startswith("worker"):
            assert service["command"][-2:] == ["--port", "8080"]
            assert "healthcheck" not in service
