"""Real `pystd` processes for the tests that start them (`pystd serve`, `pystd worker`
against the fake GitHub): their environment, start on a log line, stop, a delivery sent
over HTTP, and a wait until the shared store holds no job left to run."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
from pathlib import Path

import aiohttp

from pystd.bot.store import JobStore
from pystd.bot.store.base import RUNNING, WAITING
from tests.bot.drivers import OWNER, REPO
from tests.github_fake import FakeGitHub


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


GUARD = 60.0  # seconds: only a hung process ever waits this long
READERS: set[asyncio.Task[None]] = set()  # keep reading each process's log until it exits


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
