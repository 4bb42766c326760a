"""`pystd worker --port N`: /healthz and /metrics through the real command, beside a real
`pystd serve --workers 0` and the fake GitHub."""

from __future__ import annotations

import asyncio
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

from pystd.bot.queue import JobQueue
from pystd.bot.store import store_for
from pystd.bot.worker import RUNTIME, health_app
from tests.bot.drivers import HEAD, NEW_VIEWS, OLD_VIEWS, OWNER, REPO
from tests.bot.processes import GUARD, free_port, post, settled, start, stop
from tests.github_fake import FakeFile


async def get(port: int, path: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(
            f"http://127.0.0.1:{port}{path}") as response:
        return response.status, await response.text()


def metric(text: str, name: str) -> float:
    """The value of the sample line `name` (with its labels) in a /metrics answer."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics")


async def test_worker_reports_health_and_the_reviews_it_ran(
        environment, tmp_path, fake_github, delivery):
    fake_github.add_pull_request(OWNER, REPO, 1, head_sha=HEAD, base_sha="b" * 40,
                                 author="octocat", files=[FakeFile(
                                     "app/views.py", content=NEW_VIEWS,
                                     base_content=OLD_VIEWS)])
    port = free_port()
    server = await start(environment, tmp_path, "serve", "--workers", "0", ready="listening")
    worker = await start(environment, tmp_path, "worker", "--port", str(port),
                         ready="worker ready")
    try:
        status, body = await get(port, "/healthz")
        assert status == 200 and '"status": "ok"' in body
        assert await post(environment, delivery, fake_github, 1, "delivery-1") == 202
        await settled(store_for(environment["PYSTD_QUEUE_URL"]))
        status, text = await get(port, "/metrics")
        assert status == 200
        assert metric(text, 'pystd_queue_jobs{state="done"}') == 1
        assert metric(text, 'pystd_worker_jobs_total{outcome="done"}') == 1
        assert metric(text, "pystd_review_seconds_count") == 1
        assert metric(text, "pystd_queue_depth") == 0
        assert [r.status for r in fake_github.check_runs(OWNER, REPO)] == ["completed"]
    finally:
        assert await stop(worker) == 0
        assert await stop(server) == 0


async def test_worker_is_unhealthy_when_its_store_is_gone(
        request, environment, tmp_path):
    cluster = request.getfixturevalue("postgres_cluster")
    url = cluster.fresh_database()
    environment["PYSTD_QUEUE_URL"] = url
    environment["PYSTD_QUEUE_TIMEOUT"] = "2"
    port = free_port()
    worker = await start(environment, tmp_path, "worker", "--port", str(port),
                         ready="worker ready")
    try:
        assert (await get(port, "/healthz"))[0] == 200
        import psycopg

        name = urlsplit(url).path.lstrip("/")
        assert parse_qs(urlsplit(url).query)["host"]
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as db:
            db.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        status, body = await get(port, "/healthz")
        assert status == 503 and "does not answer" in body
    finally:
        assert await stop(worker) == 0


class _Runtime:
    def __init__(self, queue: JobQueue) -> None:
        self.services = type("Services", (), {"queue": queue})()


async def test_healthz_is_503_once_the_worker_loop_has_stopped(aiohttp_client):
    queue = JobQueue(store_for("memory://"))
    runner = type("Never", (), {})()
    queue.start(runner, 1)  # type: ignore[arg-type]
    app, _ = health_app()
    app[RUNTIME] = _Runtime(queue)  # type: ignore[assignment]
    client = await aiohttp_client(app)
    assert (await client.get("/healthz")).status == 200
    queue._tasks[0].cancel()  # the loop dies (as an unexpected error would end it)
    await asyncio.gather(*queue._tasks, return_exceptions=True)
    answer = await client.get("/healthz")
    assert answer.status == 503
    assert "worker loop has stopped" in await answer.text()
    await queue.close(drain_timeout=GUARD)


@pytest.mark.parametrize("port", ["0", "x", "-1", "70000"])
def test_a_bad_port_is_refused(port, capsys):
    from pystd.bot.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["worker", "--port", port])
    assert exit_.value.code == 2
    assert "--port takes a TCP port number" in capsys.readouterr().err
