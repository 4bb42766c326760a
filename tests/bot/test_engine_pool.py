"""The engine's worker processes under hostile input: a file that crashes its worker,
hangs, is killed or runs out of memory costs that file only (a failed FileResult, listed
as not checked), the worker is replaced, and the server keeps serving. Real processes
throughout; the misbehaving files come from tests/bot/crashers.py through the Engine's
`file_check` seam."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from pystd.bot import messages
from pystd.bot.app import create_app
from pystd.bot.engine_pool import MAX_TIMEOUTS_PER_CHANGE, Engine, EngineCrashed
from pystd.bot.webhooks import SERVICES
from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.change import Change, ChangedPath
from pystd.rules.config import PystdConfig
from pystd.rules.limits import TOO_DEEP
from pystd.rules.runner import CRASHED, FileInput, check_inputs
from tests.bot import crashers
from tests.bot.drivers import (
    HEAD2,
    NEW_VIEWS,
    OLD_VIEWS,
    OWNER,
    REPO,
    add_pr,
    open_pr,
    send,
    settle,
)
from tests.github_fake import FakeFile

RULES = PystdConfig().rule_set()
BLOCKING = b"import time\n\n\nasync def f():\n    time.sleep(1)\n"


def engine(**kwargs: Any) -> Engine:
    return Engine(kwargs.pop("workers", 1), file_check=crashers.check_or_crash, **kwargs)


@pytest.fixture
async def pool() -> AsyncIterator[Callable[..., Engine]]:
    made: list[Engine] = []

    def make(**kwargs: Any) -> Engine:
        made.append(engine(**kwargs))
        return made[-1]

    yield make
    for e in made:
        await asyncio.to_thread(e.close)


def by_path(results):
    return {r.path: r for r in results}


async def pid_from(fifo: Path) -> int:
    """The pid a worker writes on `fifo` once it is inside the file (blocks until then)."""
    return int(await asyncio.to_thread(fifo.read_text))


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "worker.pid"
    os.mkfifo(path)
    return path


async def test_a_segfault_costs_that_file_only_and_the_worker_is_replaced(pool):
    e = pool()
    inputs = [FileInput("a.py", BLOCKING), FileInput("crash.py", crashers.SEGFAULT),
              FileInput("z.py", BLOCKING)]
    results = by_path(await e.check_files(inputs, RULES))
    assert list(results) == ["a.py", "crash.py", "z.py"]
    crashed = results["crash.py"]
    assert (crashed.failed, crashed.skipped) == (
        True, messages.FILE_CRASHED.format(how="SIGSEGV"))
    assert [f.code for f in results["a.py"].findings] == ["PYS101"]
    assert [f.code for f in results["z.py"].findings] == ["PYS101"]
    # The one worker was replaced: the next files are checked.
    (again,) = await e.check_files([FileInput("b.py", BLOCKING)], RULES)
    assert (again.failed, [f.code for f in again.findings]) == (False, ["PYS101"])


async def test_a_file_past_the_time_limit_is_stopped_and_the_others_checked(pool):
    e = pool(file_timeout=0.5)
    inputs = [FileInput("hang.py", crashers.HANG), FileInput("ok.py", BLOCKING)]
    results = by_path(await e.check_files(inputs, RULES))
    assert (results["hang.py"].failed, results["hang.py"].skipped) == (
        True, messages.FILE_TIMED_OUT.format(seconds=0.5))
    assert [f.code for f in results["ok.py"].findings] == ["PYS101"]


async def test_a_change_whose_files_keep_hanging_is_cut_short(pool):
    e = pool(file_timeout=0.3)
    hanging = [FileInput(f"hang{n}.py", crashers.HANG) for n in range(6)]
    results = by_path(await e.check_files([FileInput("ok.py", BLOCKING), *hanging], RULES))
    assert [f.code for f in results["ok.py"].findings] == ["PYS101"]
    reasons = sorted(r.skipped for r in results.values() if r.failed)
    timed_out = messages.FILE_TIMED_OUT.format(seconds=0.3)
    dropped = messages.FILE_DROPPED_AFTER_TIMEOUTS.format(count=MAX_TIMEOUTS_PER_CHANGE)
    assert reasons == sorted([timed_out] * MAX_TIMEOUTS_PER_CHANGE
                             + [dropped] * (6 - MAX_TIMEOUTS_PER_CHANGE))
    # The workers are free again.
    (ok,) = await e.check_files([FileInput("ok.py", BLOCKING)], RULES)
    assert [f.code for f in ok.findings] == ["PYS101"]


async def test_a_worker_killed_mid_file_costs_that_file_only(pool, fifo):
    e = pool(workers=2)
    inputs = [FileInput("killed.py", crashers.report(str(fifo))), FileInput("ok.py", BLOCKING)]
    task = asyncio.create_task(e.check_files(inputs, RULES))
    os.kill(await pid_from(fifo), signal.SIGKILL)  # as the OOM killer does
    results = by_path(await task)
    assert (results["killed.py"].failed, results["killed.py"].skipped) == (
        True, messages.FILE_CRASHED.format(how="SIGKILL"))
    assert [f.code for f in results["ok.py"].findings] == ["PYS101"]


async def test_a_worker_is_capped_in_memory(pool):
    e = pool(memory_mb=256)
    inputs = [FileInput("big.py", crashers.ALLOCATE), FileInput("ok.py", BLOCKING)]
    results = by_path(await e.check_files(inputs, RULES))
    assert (results["big.py"].failed, results["big.py"].skipped) == (
        True, messages.FILE_OUT_OF_MEMORY)
    assert [f.code for f in results["ok.py"].findings] == ["PYS101"]


async def test_sigterm_to_a_busy_worker_costs_its_file_only(pool, fifo):
    e = pool()
    inputs = [FileInput("report.py", crashers.report(str(fifo)))]
    task = asyncio.create_task(e.check_files(inputs, RULES))
    os.kill(await pid_from(fifo), signal.SIGTERM)
    (result,) = await task
    assert result.skipped == messages.FILE_CRASHED.format(how="SIGTERM")
    (ok,) = await e.check_files([FileInput("ok.py", BLOCKING)], RULES)
    assert [f.code for f in ok.findings] == ["PYS101"]


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
async def test_an_idle_worker_that_dies_breaks_nothing(pool, fifo, how):
    e = pool()
    task = asyncio.create_task(e.check_files(
        [FileInput("tell.py", crashers.report(str(fifo), then_hang=False) + BLOCKING)], RULES))
    pid = await pid_from(fifo)
    (told,) = await task
    assert [f.code for f in told.findings] == ["PYS101"]
    os.kill(pid, how)  # the worker is idle now
    # Later files are checked all the same, by a new worker.
    results = await e.check_files([FileInput("a.py", BLOCKING), FileInput("b.py", BLOCKING)],
                                  RULES)
    assert [[f.code for f in r.findings] for r in results] == [["PYS101"], ["PYS101"]]


async def test_workers_do_not_share_the_servers_signal_handling():
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGUSR1, lambda: None)  # as aiohttp's run_app does
    e = Engine(1, file_check=crashers.signal_handling)
    try:
        (result,) = await e.check_files([FileInput("a.py", b"x = 1\n")], RULES)
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
        await asyncio.to_thread(e.close)
    assert result.skipped == f"{signal.SIG_IGN!r} {signal.SIG_DFL!r} -1"


async def test_close_stops_a_worker_stuck_in_a_file(pool, fifo):
    e = pool()
    task = asyncio.create_task(
        e.check_files([FileInput("stuck.py", crashers.report(str(fifo)))], RULES))
    pid = await pid_from(fifo)
    await asyncio.to_thread(e.close)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_hostile_inputs_come_back_too_deep_from_the_workers(pool):
    e = pool(workers=2)
    inputs = [FileInput("parens.py", ("x = " + "(" * 50_000 + ")" * 50_000 + "\n").encode()),
              FileInput("chain.py", ("x = (\n" + "a+\n" * 16_000 + "a)\n").encode()),
              FileInput("ok.py", BLOCKING)]
    results = by_path(await e.check_files(inputs, select_rules()))
    assert [(r.skipped, r.failed) for r in results.values()] == [
        (TOO_DEEP, True), (None, False), (TOO_DEEP, True)]


async def test_a_crash_in_the_change_rules_is_an_engine_crash_not_a_pass(pool):
    e = Engine(1, file_check=crashers.check_or_crash, change_check=crashers.change_or_crash)
    try:
        change = Change((ChangedPath("app/x.py", "added", crashers.SEGFAULT.decode(), None),))
        with pytest.raises(EngineCrashed) as caught:
            await e.check_change(change, select_rules())
        assert str(caught.value) == messages.CHANGE_RULES_FAILED.format(
            reason=messages.FILE_CRASHED.format(how="SIGSEGV"))
        fine = Change((ChangedPath(".env", "added", "SECRET_KEY=abc\n", None),))
        assert [f.code for f in await e.check_change(fine, select_rules())] == ["PYS902"]
    finally:
        await asyncio.to_thread(e.close)


async def test_in_process_engine_for_tests():
    e = Engine(None)
    results = await e.check_files([FileInput("z.py", BLOCKING), FileInput("a.py", b"x = 1\n")],
                                  RULES)
    assert [r.path for r in results] == ["a.py", "z.py"]
    e.close()


# -- through the server ------------------------------------------------------------------------

@pytest.fixture
async def served(aiohttp_client, settings):
    """The App with two workers, its engine built with the crashing entry point."""
    client = await aiohttp_client(create_app(settings.model_copy(update={"workers": 2})))
    env = client.app[SERVICES].env
    env.engine = engine(workers=2)
    yield client
    await asyncio.to_thread(env.engine.close)


async def test_sigterm_to_a_worker_does_not_stop_the_server(served, delivery, fake_github,
                                                            fifo):
    add_pr(fake_github, [
        FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS),
        FakeFile("app/slow.py", status="added",
                 content=crashers.report(str(fifo)).decode() + "x = 1\n"),
    ])
    await open_pr(served, delivery, fake_github)
    os.kill(await pid_from(fifo), signal.SIGTERM)
    await settle(served)
    run = fake_github.check_runs(OWNER, REPO)[-1]
    # The other file's gate finding still fails the check; the killed one is not checked.
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert "PYS101 blocking-call-in-async" in run.summary
    assert f"`app/slow.py`: {messages.FILE_CRASHED.format(how='SIGTERM')}" in run.summary
    assert (await served.get("/healthz")).status == 200
    fake_github.move_head(OWNER, REPO, 1, HEAD2, files=[
        FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS)])
    await send(served, delivery, fake_github, "pull_request", "synchronize.payload.json",
               fake_github.pull_request_overrides(OWNER, REPO, 1))
    await settle(served)
    assert fake_github.check_runs(OWNER, REPO)[-1].conclusion == "failure"


async def test_the_sweep_leaves_alone_a_run_whose_review_is_still_running(
        served, delivery, fake_github, fifo, settings):
    # A review may still be running past job_timeout + sweep_margin after its run was
    # opened (creating the run waited out rate limits): the sweep must not complete that
    # run neutral (a pass for a required check) under the review's feet.
    services = served.app[SERVICES]
    clock = [0.0]
    services.env.runs.clock = lambda: clock[0]
    add_pr(fake_github, [
        FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS),
        FakeFile("app/slow.py", status="added",
                 content=crashers.report(str(fifo)).decode() + "x = 1\n"),
    ])
    await open_pr(served, delivery, fake_github)
    pid = await pid_from(fifo)  # the review is inside the engine now
    clock[0] = settings.job_timeout + settings.sweep_margin + 1
    assert await services.sweep() == 0
    assert fake_github.check_runs(OWNER, REPO)[-1].status == "in_progress"
    os.kill(pid, signal.SIGKILL)
    await settle(served)
    (run,) = fake_github.check_runs(OWNER, REPO)
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert run.title != messages.CHECK_TITLE_SWEPT
    assert services.env.runs.runs == {}


# -- the CLI's workers ---------------------------------------------------------------------------

def test_a_crash_in_pystd_check_costs_that_file_only():
    inputs = [FileInput("a.py", BLOCKING), FileInput("crash.py", crashers.SEGFAULT),
              FileInput("z.py", BLOCKING)]
    results = by_path(check_inputs(inputs, RULES, jobs=2, file_check=crashers.check_or_crash))
    assert (results["crash.py"].failed, results["crash.py"].skipped) == (
        True, CRASHED.format(how="SIGSEGV"))
    assert [f.code for f in results["a.py"].findings] == ["PYS101"]
    assert [f.code for f in results["z.py"].findings] == ["PYS101"]


async def test_a_file_that_crashes_keeps_the_other_files_findings_and_the_change_rules(
        aiohttp_client, settings, delivery, fake_github):
    # The change rules would parse the crashing file again and crash too, taking every
    # finding with them (a neutral check: the gate bypassed): they are not given it.
    client = await aiohttp_client(create_app(settings.model_copy(update={"workers": 2})))
    env = client.app[SERVICES].env
    env.engine = Engine(2, file_check=crashers.check_or_crash,
                        change_check=crashers.change_or_crash)
    try:
        add_pr(fake_github, [
            FakeFile("app/views.py", content=NEW_VIEWS, base_content=OLD_VIEWS),
            FakeFile("app/crash.py", status="added",
                     content=crashers.SEGFAULT.decode() + "\nx = 1\n"),
            FakeFile(".env", status="added", content="SECRET_KEY=abc\n"),
        ])
        await open_pr(client, delivery, fake_github)
        await settle(client)
    finally:
        await asyncio.to_thread(env.engine.close)
    run = fake_github.check_runs(OWNER, REPO)[-1]
    assert (run.status, run.conclusion) == ("completed", "failure")
    assert f"`app/crash.py`: {messages.FILE_CRASHED.format(how='SIGSEGV')}" in run.summary
    codes = {a["title"].split()[0] for a in run.annotations}
    assert {"PYS101", "PYS902"} <= codes  # a file rule's finding and a change rule's


async def test_a_started_engine_has_its_processes_and_every_rule_loaded_before_a_review(
        pool, caplog):
    caplog.set_level(logging.INFO, logger="pystd.bot.engine_pool")
    eng = pool(workers=2)
    await eng.warm()
    (ready,) = [r for r in caplog.records if r.getMessage() == "engine ready"]
    assert ready.rules == len(all_rules())
    assert ready.engine_workers == 2
    # The review after it runs in those processes: no pool was replaced, nothing failed.
    (result,) = await eng.check_files([FileInput("app/views.py", BLOCKING)], RULES)
    assert not result.failed and eng.restarts == 0


@pytest.mark.parametrize("warm_check", [crashers.warm_up_and_die, crashers.warm_up_and_raise],
                         ids=["process-dies", "raises"])
async def test_an_engine_that_cannot_start_is_logged_and_the_review_still_ends(
        pool, caplog, warm_check):
    caplog.set_level(logging.INFO, logger="pystd.bot.engine_pool")
    eng = Engine(1, warm_check=warm_check)
    try:
        await eng.warm()  # never raises: the first review meets the failure again
        assert any(r.getMessage().startswith("engine warm-up failed") for r in caplog.records)
        (result,) = await eng.check_files([FileInput("app/views.py", BLOCKING)], RULES)
        assert not result.failed  # the pool was replaced; the file is checked
    finally:
        await asyncio.to_thread(eng.close)
