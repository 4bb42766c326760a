"""No accepted delivery is lost: `kill -9` the process running a review (the single
`pystd serve`, or a `pystd worker` beside a `serve --workers 0`), start it again on the same
store (SQLite; PostgreSQL for the worker), and every accepted delivery ends in exactly one completed check run and at
most one review, with no run left `in_progress`. Real processes, the fake GitHub."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest

from pystd.bot.store import JobStore, store_for
from pystd.bot.store.base import RUNNING, WAITING
from tests.bot.test_app import HEAD, NEW_VIEWS, OLD_VIEWS, OWNER, REPO
from tests.bot.test_serve import free_port
from tests.github_fake import APP_ID, FakeFile, FakeGitHub, Fault

GUARD = 60.0  # seconds: only a hung process ever waits this long
HEAD2 = "d" * 40
READERS: set[asyncio.Task[None]] = set()  # keep reading each process's log until it exits
# Where the first attempt is held when it is killed: after its check run is open and
# before it has analysed anything; or after GitHub has taken its review (the answer held).
HOLD = {"files": ("GET", "/pulls/1/files"), "review": ("POST", "/pulls/1/reviews")}


@pytest.fixture
def environment(monkeypatch, tmp_path, app_private_key_pem, webhook_secret, fake_github):
    for name in list(os.environ):
        if name.startswith("PYSTD_"):
            monkeypatch.delenv(name)
    return {**os.environ, "PYSTD_APP_ID": str(APP_ID), "PYSTD_PRIVATE_KEY": app_private_key_pem,
            "PYSTD_WEBHOOK_SECRET": webhook_secret, "PYSTD_GITHUB_API_URL": fake_github.url,
            "PYSTD_HOST": "127.0.0.1", "PYSTD_PORT": str(free_port()), "PYSTD_WORKERS": "1",
            "PYSTD_QUEUE_URL": f"sqlite:///{tmp_path / 'data' / 'queue.db'}",
            "PYSTD_QUEUE_LEASE_SECONDS": "1.5", "PYSTD_QUEUE_POLL_INTERVAL": "0.2"}


async def start(env: dict[str, str], cwd: Path, *args: str, ready: str
                ) -> asyncio.subprocess.Process:
    """`pystd ARGS`, once its log says `ready`."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pystd.bot.cli", *args, env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    async with asyncio.timeout(GUARD):
        while True:
            line = await proc.stderr.readline()
            assert line, f"pystd {' '.join(args)} exited before it was ready"
            if json.loads(line)["message"] == ready:
                break
    READERS.add(asyncio.get_running_loop().create_task(_drain(proc)))
    return proc


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass
    READERS.discard(asyncio.current_task())  # type: ignore[arg-type]


async def stop(proc: asyncio.subprocess.Process) -> int:
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
    async with asyncio.timeout(GUARD):
        return await proc.wait()


async def post(env: dict[str, str], delivery, gh: FakeGitHub, number: int,
               delivery_id: str) -> int:
    headers, body = delivery("pull_request", "opened.payload.json",
                             overrides=gh.pull_request_overrides(OWNER, REPO, number),
                             delivery_id=delivery_id)
    async with aiohttp.ClientSession() as session, session.post(
            f"http://127.0.0.1:{env['PYSTD_PORT']}/webhook", data=body,
            headers=headers) as response:
        return response.status


async def settled(store: JobStore) -> None:
    """Until the store holds no job waiting or running (looked at every few tenths of a
    second: the processes under test are not this one)."""
    await store.open()
    try:
        async with asyncio.timeout(GUARD):
            while True:
                stats = await store.stats(now=0)  # any waiting job counts, due or not
                if not stats.by_state.get(WAITING) and not stats.by_state.get(RUNNING):
                    return
                await asyncio.sleep(0.2)
    finally:
        await store.close()


@pytest.mark.parametrize(("killed", "hold", "store"), [
    ("serve", "files", "sqlite"), ("worker", "review", "sqlite"),
    ("worker", "review", "postgresql")])
async def test_a_review_killed_midway_ends_in_one_completed_run_and_one_review(
        request, environment, tmp_path, fake_github, delivery, killed, hold, store):
    files = [FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS)]
    fake_github.add_pull_request(OWNER, REPO, 1, head_sha=HEAD, base_sha="b" * 40,
                                 author="octocat", files=files)
    fake_github.add_pull_request(OWNER, REPO, 2, head_sha=HEAD2, base_sha="b" * 40,
                                 author="octocat", files=files)
    fake_github.slow_seconds = GUARD  # a held answer waits for the kill
    held = asyncio.Event()
    method, fragment = HOLD[hold]

    def hold_once(m: str, path: str) -> Fault | None:
        if m == method and path.endswith(fragment) and not held.is_set():
            held.set()
            return Fault("slow")
        return None

    fake_github.chaos = hold_once
    env = environment
    if store == "postgresql":
        env["PYSTD_QUEUE_URL"] = request.getfixturevalue("postgres_cluster").fresh_database()
    serve_args = ("serve",) if killed == "serve" else ("serve", "--workers", "0")
    server = await start(env, tmp_path, *serve_args, ready="listening")
    victim = server if killed == "serve" else await start(env, tmp_path, "worker",
                                                          ready="worker ready")
    try:
        assert await post(env, delivery, fake_github, 1, "delivery-1") == 202
        assert await post(env, delivery, fake_github, 2, "delivery-2") == 202
        async with asyncio.timeout(GUARD):
            await held.wait()
        victim.kill()  # SIGKILL: no drain, no completion, nothing written
        await victim.wait()
        runs = {r.head_sha: r.status for r in fake_github.check_runs(OWNER, REPO)}
        assert runs.get(HEAD) == "in_progress"  # what the dead attempt left
        if killed == "serve":
            server = await start(env, tmp_path, "serve", ready="listening")
        else:
            victim = await start(env, tmp_path, "worker", ready="worker ready")
        # GitHub redelivering an accepted delivery after the restart starts nothing new.
        assert await post(env, delivery, fake_github, 1, "delivery-1") == 200
        await settled(store_for(env["PYSTD_QUEUE_URL"]))
    finally:
        codes = [await stop(p) for p in {server, victim}]
    assert all(code in (0, -signal.SIGKILL) for code in codes), codes
    for head, number in ((HEAD, 1), (HEAD2, 2)):
        runs = [r for r in fake_github.check_runs(OWNER, REPO) if r.head_sha == head]
        assert [(r.status, r.conclusion) for r in runs] == [("completed", "failure")], head
        assert len(fake_github.reviews(OWNER, REPO, number)) == 1
    fake_github.take_violations()  # the held answer's connection was cut by the kill
