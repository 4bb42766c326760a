"""Running the engine off the event loop: the worker processes, and what a crash costs.

The App never parses on its event loop: every file goes to a worker process. A worker
that dies (a native crash in the parser) breaks the pool; later jobs get a fresh one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from bot import messages
from rules.change import Change, check_change
from rules.engine import Finding, RuleSet
from rules.runner import FileInput, FileResult, check_source

_T = TypeVar("_T")


class EngineCrashed(Exception):
    """An analysis worker process died."""


def check_batch(items: Sequence[FileInput], rules: RuleSet) -> list[FileResult]:
    """Worker-process entry point: the engine over a batch of files."""
    return [check_source(i.path, i.data, rules, i.changed, i.change) for i in items]


class Engine:
    """The engine in a process pool (`pool_factory`), or in this process when None
    (tests that count on deterministic single-process runs)."""

    def __init__(self, pool_factory: Callable[[], Executor] | None, workers: int = 1) -> None:
        self._factory = pool_factory
        self.workers = workers
        self.pool: Executor | None = pool_factory() if pool_factory is not None else None

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        """The engine over `inputs`, in two batches per worker (so a worker that is done
        early takes more)."""
        if not inputs:
            return []
        if self.pool is None:
            return check_batch(inputs, rules)
        n = max(1, min(2 * self.workers, len(inputs)))
        batches = [list(inputs[i::n]) for i in range(n)]
        done = await asyncio.gather(*(self._run(check_batch, b, rules) for b in batches))
        return sorted((r for batch in done for r in batch), key=lambda r: r.path)

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        """The change-level rules, in a worker process too (a file whose facts the engine
        did not hand over is parsed there)."""
        if not any(r.file_kind == "change" for r in rules):
            return ()
        if self.pool is None:
            return check_change(change, rules)
        return await self._run(check_change, change, rules)

    async def _run(self, fn: Callable[..., _T], *args: Any) -> _T:
        pool = self.pool
        assert pool is not None
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # A worker died (a native crash in the parser): later jobs get a fresh pool,
            # made once however many of this job's tasks saw the old one break.
            if self._factory is not None and self.pool is pool:
                self.pool = self._factory()
                pool.shutdown(wait=False, cancel_futures=True)
            raise EngineCrashed(messages.ENGINE_CRASHED) from None

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
