"""What an operator sees of the queue: `pystd queue list | retry | cancel` on the store
PYSTD_QUEUE_URL names, and the queue's gauges on /metrics."""

from __future__ import annotations

import asyncio
import time

import pytest

from pystd.bot import queue_admin
from pystd.bot.cli import main
from pystd.bot.settings import Settings
from pystd.bot.store import Job, NewJob
from pystd.bot.store.base import FAILED, WAITING
from pystd.bot.store.sqlite import SQLiteStore
from pystd.bot.webhooks import SERVICES
from tests.bot.drivers import OWNER, REPO, add_pr, open_pr, settle


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


# -- a cancel leaves no check run in progress ---------------------------------------------

def test_cancel_completes_the_runs_only_of_a_job_that_may_have_left_one_open(
        queue_db, monkeypatch, capsys):
    closed: list[int] = []

    async def close(settings, err, job) -> None:
        closed.append(job.id)

    monkeypatch.setattr(queue_admin, "close_cancelled_runs", close)

    async def retried_once() -> int:  # job 2's first attempt failed: it waits again
        store = SQLiteStore(queue_db)
        await store.open()
        job = await store.claim("w", now=101, lease=30)
        assert job is not None and job.id == 2
        await store.reschedule(job.id, "w", at=200, now=102, error="GitHub answered 502")
        never_ran = await store.enqueue("d-3", review(3), now=103)
        await store.close()
        return never_ran

    never_ran = asyncio.run(retried_once())
    assert main(["queue", "cancel", str(never_ran)]) == 0  # no run of its own to close
    assert closed == []
    assert main(["queue", "cancel", "2"]) == 0
    assert closed == [2]


async def test_cancelling_a_job_waiting_for_its_retry_completes_its_check_run(
        bot, delivery, fake_github, settings, no_sleep):
    fake_github.fail_next("GET", r"/git/blobs/", times=1000, status=502)
    add_pr(fake_github)
    await open_pr(bot, delivery, fake_github)
    await settle(bot)
    store = bot.app[SERVICES].queue.store
    (job,) = await store.jobs([WAITING])
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert (job.attempts, run.status) == (1, "in_progress")  # waiting for its retry

    assert await store.cancel(job.id, time.time())
    errors: list[str] = []
    await queue_admin.close_cancelled_runs(settings, errors.append, job)
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert (run.status, run.conclusion) == ("completed", "neutral")
    assert "operator cancelled" in run.summary
    assert errors == []


def test_cancel_without_credentials_says_which_run_stays_open(monkeypatch):
    job = Job(7, "review", "k", "k", {}, "c" * 40, "review o/r#1", "d-7", WAITING, 1,
              0.0, 0.0, 0.0)
    errors: list[str] = []
    asyncio.run(queue_admin.close_cancelled_runs(Settings(_env_file=None), errors.append, job))
    (line,) = errors
    assert "job 7" in line and "c" * 12 in line


def test_cancel_with_an_unreadable_key_says_which_run_stays_open(tmp_path):
    # found by review: the runtime's SettingsError escaped after "job 7 cancelled"
    job = Job(7, "review", "k", "k", {}, "c" * 40, "review o/r#1", "d-7", WAITING, 1,
              0.0, 0.0, 0.0)
    settings = Settings(app_id=1, private_key_path=tmp_path / "missing.pem",
                        webhook_secret="s", queue_url="memory://", _env_file=None)
    errors: list[str] = []
    asyncio.run(queue_admin.close_cancelled_runs(settings, errors.append, job))
    (line,) = errors
    assert "job 7" in line and "c" * 12 in line and "missing.pem" in line
