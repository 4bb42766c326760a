"""Running the engine off the event loop: the worker processes, and what a crash costs.

The App never parses on its event loop: every file is one task in a pool of worker
processes (pebble's ProcessPool). A file that crashes its worker (a native crash in the
parser, the OOM killer, a stray signal), runs past the per-file time limit, or runs out of
the worker's memory costs that file only: it comes back as a failed FileResult (reported
"not checked"), pebble replaces the worker, and every other file, of this job or another,
is checked as usual.

Workers are forked from a fork server, not from the server process, so they inherit
neither its event loop nor its signal handling: a signal to a worker (or a worker's death)
never reaches the server's loop. Each worker ignores SIGINT (Ctrl-C is the server's to
handle), dies at once on SIGTERM, and has its address space capped (RLIMIT_AS).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import resource
import signal
import threading
from collections.abc import Callable, Sequence
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool
from pebble.pool.process import WORKERS_NAME

from pystd.bot import messages
from pystd.rules.change import Change, check_change
from pystd.rules.engine import Finding, RuleSet
from pystd.rules.pipeline import RunFailed, warm_up
from pystd.rules.runner import FileInput, FileResult, check_item, how_it_ended

log = logging.getLogger(__name__)

_T = TypeVar("_T")
FileCheck = Callable[[FileInput, RuleSet], FileResult]
ChangeCheck = Callable[[Change, RuleSet], tuple[Finding, ...]]
MB = 1024 * 1024
# Modules every worker needs, imported once in the fork server: a new worker (after a
# crash) starts in milliseconds instead of importing libcst and the rules again.
_PRELOAD = ["pystd.rules.runner", "pystd.rules.change", "pystd.bot.engine_pool"]
_CLOSE_WAIT = 10.0  # seconds close() waits for the pool to stop before killing workers
# The change rules read the whole pull request in one task (most of it from facts the
# file tasks handed over): they get this many times the per-file limit.
_CHANGE_TIMEOUT_FILES = 4
# After this many files of one change run out of time, its other files are not run.
MAX_TIMEOUTS_PER_CHANGE = 3


class EngineCrashed(RunFailed):
    """The engine could not run a task: the change rules crashed or ran out of time, or
    the pool broke under the task twice."""


def check_file(item: FileInput, rules: RuleSet) -> FileResult:
    """Worker-process entry point: the engine over one file. Running out of the worker's
    memory (its RLIMIT_AS) fails this file only."""
    try:
        return check_item(item, rules)
    except MemoryError:
        return FileResult(item.path, skipped=messages.FILE_OUT_OF_MEMORY, failed=True)


def init_worker(memory_bytes: int) -> None:
    """Each worker's start: its own signal handling, and its memory cap."""
    signal.set_wakeup_fd(-1)  # never the server's event loop (were the worker forked)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # stop now, even inside native code
    if memory_bytes:
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            memory_bytes = min(memory_bytes, hard)
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, hard))


def _describe(error: BaseException, file_timeout: float | None) -> str:
    """Why a task did not finish, for the "not checked" list."""
    if isinstance(error, TimeoutError):
        return messages.FILE_TIMED_OUT.format(seconds=file_timeout)
    if isinstance(error, ProcessExpired):
        return messages.FILE_CRASHED.format(how=how_it_ended(error.exitcode))
    return messages.ENGINE_CRASHED


class Engine:
    """The engine in `workers` processes, or in this process when `workers` is None
    (tests that count on deterministic single-process runs).

    `file_timeout` (seconds) and `memory_mb` (per worker, 0 for no cap) bound each file;
    `file_check`, `change_check` and `warm_check` are what the workers run (tests pass
    ones that crash on purpose).
    """

    def __init__(self, workers: int | None, *, file_timeout: float | None = 30.0,
                 memory_mb: int = 0, file_check: FileCheck = check_file,
                 change_check: ChangeCheck = check_change,
                 warm_check: Callable[[], int] = warm_up) -> None:
        self.workers = workers
        self.file_timeout = file_timeout
        self.memory_mb = memory_mb
        self._file_check = file_check
        self._change_check = change_check
        self._warm_check = warm_check
        self._pool: ProcessPool | None = None
        self._lock = threading.Lock()
        self.restarts = 0  # pools replaced after breaking (all workers dead at once)

    @property
    def in_process(self) -> bool:
        return self.workers is None

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        """The engine over `inputs`, one task per file: one result per input, sorted by
        path, the files whose analysis failed included (`failed=True`)."""
        if self.in_process:
            return sorted((self._file_check(i, rules) for i in inputs), key=lambda r: r.path)
        tasks: list[asyncio.Task[FileResult]] = []
        timed_out: list[str] = []

        def on_timeout(path: str) -> None:
            # A change whose files keep running out of time would hold every worker for
            # minutes (and the other reviews behind it): its remaining files are dropped.
            timed_out.append(path)
            if len(timed_out) == MAX_TIMEOUTS_PER_CHANGE:
                log.warning("%d files ran out of time; the rest of the change is not checked",
                            len(timed_out))
                for task in tasks:
                    if task is not asyncio.current_task():  # that one timed out
                        task.cancel()  # the finished ones ignore it

        tasks.extend(asyncio.create_task(self._check_one(i, rules, on_timeout)) for i in inputs)
        done = await asyncio.gather(*tasks, return_exceptions=True)
        results = [r if isinstance(r, FileResult)
                   else FileResult(i.path, skipped=messages.FILE_DROPPED_AFTER_TIMEOUTS.format(
                       count=len(timed_out)), failed=True)
                   for i, r in zip(inputs, done, strict=True)]
        return sorted(results, key=lambda r: r.path)

    async def warm(self) -> None:
        """Start the engine processes and load every rule in each (`warm_up`), so that the
        first review after a start does not wait for them. A failure is only logged: the
        first review meets it again and handles it as any engine failure."""
        if self.in_process:
            return
        try:
            loaded = await asyncio.gather(*(self._run(self._warm_check, limit=self.file_timeout)
                                            for _ in range(self.workers or 1)))
        except Exception as exc:  # never fatal: the first review meets it again, per file
            log.warning("engine warm-up failed: %s (%s)", _describe(exc, self.file_timeout),
                        type(exc).__name__)
            return
        log.info("engine ready", extra={"engine_workers": self.workers, "rules": loaded[0]})

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        """The change-level rules, in a worker process too (a file whose facts the engine
        did not hand over is parsed there). Raises EngineCrashed when that task crashes or
        times out: the review then ends neutral, never a silent pass."""
        if not any(r.file_kind == "change" for r in rules):
            return ()
        if self.in_process:
            return self._change_check(change, rules)
        limit = self.file_timeout and self.file_timeout * _CHANGE_TIMEOUT_FILES
        try:
            return await self._run(self._change_check, change, rules, limit=limit)
        except (TimeoutError, ProcessExpired) as exc:
            reason = _describe(exc, limit)
            log.error("change rules failed: %s", reason)
            raise EngineCrashed(messages.CHANGE_RULES_FAILED.format(reason=reason)) from None

    async def _check_one(self, item: FileInput, rules: RuleSet,
                         on_timeout: Callable[[str], None]) -> FileResult:
        try:
            return await self._run(self._file_check, item, rules, limit=self.file_timeout)
        except TimeoutError as exc:
            reason = _describe(exc, self.file_timeout)
            on_timeout(item.path)
        except (ProcessExpired, EngineCrashed) as exc:
            reason = _describe(exc, self.file_timeout)
        except MemoryError:
            reason = messages.FILE_OUT_OF_MEMORY
        except Exception as exc:  # a bug in a rule: this file only, never the review
            log.exception("engine error", extra={"path": item.path})
            reason = messages.FILE_ENGINE_ERROR.format(error=type(exc).__name__)
        log.warning("file not checked: %s", reason, extra={"path": item.path})
        return FileResult(item.path, skipped=reason, failed=True)

    async def _run(self, fn: Callable[..., _T], *args: Any, limit: float | None) -> _T:
        """`fn(*args)` in a worker, stopped past `limit` seconds. A pool that broke as a
        whole (every worker gone at once, none of them on this task) is replaced and the
        task sent again, once."""
        for attempt in (1, 2):
            pool = self._current_pool()
            try:
                future = pool.schedule(fn, args=args, timeout=limit)
            except RuntimeError:  # the pool broke before this task was sent
                self._replace(pool)
                continue
            try:
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._replace(pool)
                if attempt == 2:
                    break
        raise EngineCrashed(messages.ENGINE_CRASHED)

    def _current_pool(self) -> ProcessPool:
        with self._lock:
            if self._pool is None:
                self._pool = self._new_pool()
            return self._pool

    def _new_pool(self) -> ProcessPool:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        return ProcessPool(max_workers=self.workers or 1, initializer=init_worker,
                           initargs=(self.memory_mb * MB,), context=context)

    def _replace(self, broken: ProcessPool) -> None:
        """A fresh pool for later tasks (made once however many tasks saw `broken`
        break); the broken one is stopped in the background."""
        with self._lock:
            if self._pool is not broken:
                return
            self._pool = None
            self.restarts += 1
        log.error("engine pool broke (its workers died); starting a new one")
        threading.Thread(target=_stop, args=(broken, _CLOSE_WAIT), daemon=True,
                         name="pystd-pool-stop").start()

    def close(self) -> None:
        """Stop the workers: running tasks are abandoned. Waits at most _CLOSE_WAIT
        seconds, then kills whatever worker is left (a dead or wedged pool never holds
        up the server's exit)."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            _stop(pool, _CLOSE_WAIT)


def _stop(pool: ProcessPool, wait: float) -> None:
    pool.stop()
    joiner = threading.Thread(target=pool.join, daemon=True, name="pystd-pool-join")
    joiner.start()
    joiner.join(wait)
    if joiner.is_alive():
        log.error("engine pool did not stop within %.0f s; killing its workers", wait)
        for child in multiprocessing.active_children():
            if child.name == WORKERS_NAME:
                child.kill()
