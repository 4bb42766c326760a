"""What an operator sees of the queue: `pystd queue list | retry | cancel` on the store
PYSTD_QUEUE_URL names, and the queue's gauges on /metrics."""

from __future__ import annotations

import asyncio

import pytest

from pystd.bot.cli import main
from pystd.bot.store import NewJob
from pystd.bot.store.base import FAILED
from pystd.bot.store.sqlite import SQLiteStore
from tests.bot.test_app import add_pr, open_pr, settle


def review(pr: int) -> NewJob:
    return NewJob("review", f"pr:o/r#{pr}", f"pr:o/r#{pr}", {"number": pr}, head="a" * 40,
                  label=f"review o/r#{pr}")


@pytest.fixture
def queue_db(tmp_path, monkeypatch):
    path = tmp_path / "queue.db"
    monkeypatch.setenv("PYSTD_QUEUE_URL", f"sqlite:///{path}")
    monkeypatch.chdir(tmp_path)

    async def fill() -> None:
        store = SQLiteStore(path)
        await store.open()
        await store.enqueue("d-1", review(1), now=100)
        await store.enqueue("d-2", review(2), now=100)
        job = await store.claim("w", now=101, lease=30)
        await store.finish(job.id, "w", FAILED, now=102, error="GitHub answered 502")
        await store.close()

    asyncio.run(fill())
    return path


def test_list_retry_and_cancel(queue_db, capsys):
    assert main(["queue", "list"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2
    assert "waiting" in out[0] and "review o/r#2" in out[0] and "delivery d-2" in out[0]
    assert "failed" in out[1] and "(GitHub answered 502)" in out[1]
    assert main(["queue", "list", "--state", "failed"]) == 0
    assert "review o/r#1" in capsys.readouterr().out
    assert main(["queue", "retry", "1"]) == 0
    assert "job 1" in capsys.readouterr().out
    assert main(["queue", "cancel", "2"]) == 0
    assert main(["queue", "cancel", "2"]) == 1  # cancelled already
    assert "no job 2" in capsys.readouterr().out
    assert main(["queue", "list", "--state", "waiting"]) == 0
    assert "review o/r#1" in capsys.readouterr().out


def test_unknown_queue_url_is_one_line_and_exit_2(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PYSTD_QUEUE_URL", "redis://localhost")
    monkeypatch.chdir(tmp_path)
    assert main(["queue", "list"]) == 2
    assert "unknown queue URL scheme: redis" in capsys.readouterr().err


async def test_metrics_show_jobs_by_state(bot, delivery, fake_github):
    add_pr(fake_github)
    assert (await open_pr(bot, delivery, fake_github)).status == 202
    await settle(bot)
    text = await (await bot.get("/metrics")).text()
    assert 'pystd_queue_jobs{state="done"} 1.0' in text
    assert 'pystd_queue_jobs{state="waiting"} 0.0' in text
    assert "pystd_queue_oldest_waiting_seconds 0.0" in text
    assert "pystd_queue_stalled_jobs 0.0" in text


def test_worker_without_settings_says_so_in_one_line_and_exits_2(monkeypatch, tmp_path,
                                                                 capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("PYSTD_APP_ID", "PYSTD_PRIVATE_KEY", "PYSTD_PRIVATE_KEY_PATH",
                 "PYSTD_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    assert main(["worker"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("pystd worker: cannot start: missing PYSTD_APP_ID")


def test_serve_with_an_unknown_queue_url_scheme_is_one_line_and_exit_2(
        monkeypatch, tmp_path, capsys, app_private_key_pem):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYSTD_APP_ID", "1")
    monkeypatch.setenv("PYSTD_PRIVATE_KEY", app_private_key_pem)
    monkeypatch.setenv("PYSTD_WEBHOOK_SECRET", "s")
    monkeypatch.setenv("PYSTD_QUEUE_URL", "mysql://db/pystd")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert err == "pystd: cannot start: PYSTD_QUEUE_URL: unknown queue URL scheme: mysql\n"
