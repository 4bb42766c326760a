"""`pystd serve` as an operator runs it: bad settings are one line and exit 2; SIGTERM stops
listening, finishes the queued reviews and exits 0."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import sys

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.cli import EXIT_ERROR, main
from pystd.bot.serve import ACCEPT_ERROR, AcceptErrorFilter, ConnectionCap
from tests.bot.drivers import OWNER, REPO, add_pr
from tests.bot.processes import free_port
from tests.github_fake import APP_ID

GUARD = 30.0  # seconds: only a hung server ever waits this long


@pytest.fixture
def environment(monkeypatch, tmp_path, app_private_key_pem, webhook_secret):
    """A complete, valid environment in an empty folder (no .env file is read)."""
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith("PYSTD_"):
            monkeypatch.delenv(name)
    values = {"PYSTD_APP_ID": str(APP_ID), "PYSTD_PRIVATE_KEY": app_private_key_pem,
              "PYSTD_WEBHOOK_SECRET": webhook_secret}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


@pytest.mark.parametrize("level", ["LOUD", "verbose", ""])
def test_bad_log_level_is_one_line_and_exit_2(environment, monkeypatch, capsys, level):
    monkeypatch.setenv("PYSTD_LOG_LEVEL", level)
    assert main(["serve"]) == EXIT_ERROR
    assert "PYSTD_LOG_LEVEL" in one_line_error(capsys)


def corrupt(pem: str) -> str:
    lines = pem.strip().splitlines()
    return "\n".join([lines[0], *["QUJD" * 16] * (len(lines) - 2), lines[-1]]) + "\n"


def public(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def encrypted(pem: str) -> str:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.BestAvailableEncryption(b"secret")).decode()


@pytest.mark.parametrize("spoil", [corrupt, public, encrypted])
@pytest.mark.parametrize("source", ["PYSTD_PRIVATE_KEY", "PYSTD_PRIVATE_KEY_PATH"])
def test_unusable_private_key_is_one_line_naming_it_and_exit_2(
        environment, monkeypatch, tmp_path, capsys, app_private_key_pem, spoil, source):
    bad = spoil(app_private_key_pem)
    if source == "PYSTD_PRIVATE_KEY_PATH":
        monkeypatch.delenv("PYSTD_PRIVATE_KEY")
        (tmp_path / "app.pem").write_text(bad)
        monkeypatch.setenv(source, str(tmp_path / "app.pem"))
    else:
        monkeypatch.setenv(source, bad)
    assert main(["serve"]) == EXIT_ERROR
    line = one_line_error(capsys)
    assert line.startswith("pystd serve: cannot start: ") and f"{source} " in line
    assert bad.splitlines()[1] not in line  # the key itself is never printed


def test_corrupt_key_says_so(environment, monkeypatch, capsys, app_private_key_pem):
    monkeypatch.setenv("PYSTD_PRIVATE_KEY", corrupt(app_private_key_pem))
    assert main(["serve"]) == EXIT_ERROR
    assert messages.SERVE_KEY_CORRUPT in one_line_error(capsys)


async def test_sigterm_finishes_queued_reviews_and_exits_0(
        environment, tmp_path, fake_github, delivery):
    add_pr(fake_github)
    # The review's first write is refused for a second (a secondary rate limit), so the
    # review is still running when SIGTERM arrives.
    fake_github.fail_next("POST", r"/check-runs$", 403, headers={"Retry-After": "1"})
    port = free_port()
    env = {**os.environ, "PYSTD_GITHUB_API_URL": fake_github.url, "PYSTD_HOST": "127.0.0.1",
           "PYSTD_PORT": str(port), "PYSTD_WORKERS": "1"}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pystd.bot.cli", "serve", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stderr is not None
    try:
        async with asyncio.timeout(GUARD):
            while True:
                line = await proc.stderr.readline()
                assert line, "pystd serve exited before listening"
                record = json.loads(line)  # every log line is one JSON object
                if (record["logger"], record["message"]) == ("pystd.bot.serve", "listening"):
                    assert record["port"] == port
                    break
            headers, body = delivery("pull_request", "opened.payload.json",
                                     overrides=fake_github.pull_request_overrides(OWNER, REPO, 1))
            async with aiohttp.ClientSession() as session:
                url = f"http://127.0.0.1:{port}/webhook"
                async with session.post(url, data=body, headers=headers) as response:
                    assert response.status == 202
            proc.send_signal(signal.SIGTERM)
            _, err = await proc.communicate()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert proc.returncode == 0, err.decode()[-2000:]
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert b"Traceback" not in err
    lines = [json.loads(line) for line in err.splitlines()]
    assert any(r["message"] == "delivery" and r["status"] == 202 for r in lines)
    text = err.decode()
    assert environment["PYSTD_WEBHOOK_SECRET"] not in text and "PRIVATE KEY" not in text


# -- more connections than the process can hold ------------------------------------------------

async def get_healthz(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> int:
    """One keep-alive GET /healthz on an open connection; its status."""
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: pystd\r\n\r\n")
    async with asyncio.timeout(GUARD):
        status = int((await reader.readline()).split()[1])
        length = 0
        while (line := await reader.readline()) != b"\r\n":
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
    return status


async def test_past_the_connection_limit_the_oldest_connection_is_closed(settings):
    patient = settings.model_copy(update={"idle_timeout": 3600})  # only the cap closes here
    runner = web.AppRunner(create_app(patient, engine_in_process=True))
    await runner.setup()
    assert runner.server is not None
    listener = await asyncio.get_running_loop().create_server(
        ConnectionCap(runner.server, 3), "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    try:
        held = [await asyncio.open_connection("127.0.0.1", port) for _ in range(3)]
        for reader, writer in held:
            assert await get_healthz(reader, writer) == 200
        newcomer = await asyncio.open_connection("127.0.0.1", port)
        assert await get_healthz(*newcomer) == 200  # served at once
        async with asyncio.timeout(GUARD):
            assert await held[0][0].read() == b""  # the oldest was closed to make room
        assert await get_healthz(*held[1]) == 200
        assert len(runner.server.connections) == 3
        for _, writer in [*held, newcomer]:
            writer.close()
    finally:
        listener.close()
        await runner.cleanup()


def accept_error() -> logging.LogRecord:
    try:
        raise OSError(24, "Too many open files")
    except OSError:
        return logging.LogRecord("asyncio", logging.ERROR, __file__, 1, ACCEPT_ERROR, None,
                                 sys.exc_info())


def test_accept_errors_are_reported_once_per_period_without_traceback():
    other = logging.LogRecord("asyncio", logging.ERROR, __file__, 1, "other", None, None)
    quiet = AcceptErrorFilter(every=3600)
    first = accept_error()
    assert quiet.filter(first) and first.exc_info is None
    assert [quiet.filter(accept_error()) for _ in range(100)] == [False] * 100
    assert quiet.filter(other)
    always = AcceptErrorFilter(every=0)
    always.suppressed = 5
    record = accept_error()
    assert always.filter(record) and "(5 more since the last report)" in record.getMessage()


def test_log_level_is_read_in_any_case(environment, monkeypatch):
    from pystd.bot.settings import Settings

    monkeypatch.setenv("PYSTD_LOG_LEVEL", " warning ")
    assert Settings().log_level == "WARNING"
