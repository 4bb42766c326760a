"""Work is not repeated: each file's engine result is kept in the job store, keyed by the
file's git blob sha, how it changed, and a fingerprint of what else decides the result
(the rule set with its severities and framework versions, and pystd's own rules code). A
push that changes 1 of 40 files analyses 1 file, on whichever worker runs it.

`CachingEngine` is the engine (bot/engine_pool.py) with `check_files` looking there
first; a store that does not answer only costs the cache. Results are pickled, as they
already are between the engine's worker processes, and signed (HMAC-SHA256 with a key the
App's processes share): a value the store hands back unsigned, or signed with another
key, is a miss and is never unpickled.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import pickle
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

from pystd.bot.engine_pool import Engine
from pystd.bot.store import JobStore, StoreError
from pystd.rules.engine import RuleSet
from pystd.rules.runner import FileInput, FileResult

log = logging.getLogger(__name__)

RULES_ROOT = Path(__file__).resolve().parent.parent / "rules"
SIGNATURE_BYTES = 32


@functools.cache
def code_fingerprint() -> str:
    """pystd's version and the text of its rules: a development checkout changes rules
    without changing the version."""
    digest = hashlib.sha256()
    try:
        digest.update(metadata.version("pystd").encode())
    except metadata.PackageNotFoundError:
        digest.update(b"unversioned")
    for path in sorted(RULES_ROOT.rglob("*.py")):
        digest.update(str(path.relative_to(RULES_ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def rules_fingerprint(rules: RuleSet) -> str:
    """What of the configuration and the detected versions reaches the engine."""
    parts = [code_fingerprint(),
             ",".join(f"{r.__module__}.{r.__qualname__}" for r in rules.rules),
             repr(sorted((code, str(s)) for code, s in rules.severities.items())),
             repr(rules.versions)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def blob_sha(data: bytes) -> str:
    """Git's blob sha of the content (what GitHub names the file's blob by)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def file_key(fingerprint: str, item: FileInput) -> str:
    """The cache key of one file's result: its content, its changed lines, how it changed
    (for the change facts), its path (findings carry it) and the fingerprint."""
    digest = hashlib.sha256()
    content = blob_sha(item.data) if item.data is not None else "unread"
    for part in (fingerprint, item.path, content,
                 repr(sorted(item.changed)) if item.changed is not None else "whole"):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(pickle.dumps(item.change, protocol=5))
    return f"engine:{digest.hexdigest()}"


class CachingEngine(Engine):
    """The engine, with per-file results kept in `store` (signed with `key`)."""

    def __init__(self, workers: int | None, *, store: JobStore, key: bytes,
                 **options: Any) -> None:
        super().__init__(workers, **options)
        self.store = store
        self._key = key
        self.hits = 0
        self.misses = 0

    def _sign(self, value: bytes) -> bytes:
        return hmac.new(self._key, value, hashlib.sha256).digest() + value

    def _load(self, signed: bytes) -> FileResult | None:
        signature, value = signed[:SIGNATURE_BYTES], signed[SIGNATURE_BYTES:]
        expected = hmac.new(self._key, value, hashlib.sha256).digest()
        if not hmac.compare_digest(signature, expected):
            return None
        result = pickle.loads(value)  # noqa: S301 - signed by us, checked above
        return result if isinstance(result, FileResult) else None

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        fingerprint = rules_fingerprint(rules)
        keys = {item.path: file_key(fingerprint, item) for item in inputs}
        try:
            stored = await self.store.cache_get_many(list(keys.values()))
        except StoreError as exc:
            log.warning("engine results not read from the store: %s", exc)
            stored = {}
        found: list[FileResult] = []
        missing: list[FileInput] = []
        for item in inputs:
            value = stored.get(keys[item.path])
            result = self._load(value) if value is not None else None
            if result is None:
                missing.append(item)
            else:
                found.append(result)
        self.hits += len(found)
        self.misses += len(missing)
        fresh = await super().check_files(missing, rules) if missing else []
        # A failed analysis (a timeout, a crash) may pass next time: it is not kept.
        keep = {keys[r.path]: self._sign(pickle.dumps(r, protocol=5))
                for r in fresh if not r.failed and r.path in keys}
        if keep:
            try:
                await self.store.cache_put_many(keep, time.time())
            except StoreError as exc:
                log.warning("engine results not kept in the store: %s", exc)
        return sorted([*found, *fresh], key=lambda r: r.path)
