"""The result cache of `pystd check`, as in ruff: a file whose bytes have not changed since
the last run is not parsed again, and its findings come from the cache.

One cache file per *fingerprint* — pystd's version and engine code, the Python and libcst
versions, the selected rules with their severities, the project's framework versions and
its configuration — so a change to any of them starts a fresh cache instead of serving
stale findings. Inside, each file is known by its path (relative to the project root) and
a hash of its bytes. The folder (`.pystd_cache/` in the project root by default) carries a
`.gitignore` of `*`, written when the folder is made, so it never shows in `git status`.

Only whole-file checks are cached (not `--diff`, whose findings depend on the change), and
never a file whose analysis failed (a crash or a time limit is not a verdict). A file
`--fix` rewrote is stored with its fix loop's last check of the new text (`store`), so
`pystd check --fix && pystd check` analyses nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pystd.bot import messages
from pystd.rules.config import PystdConfig
from pystd.rules.engine import Finding, Fix, RuleSet, Severity
from pystd.rules.runner import FileInput, FileResult

DEFAULT_DIR = ".pystd_cache"
CACHE_DIR_ENV = "PYSTD_CACHE_DIR"
_FORMAT = 1  # bump when the layout of a cache file changes


def cache_dir(option: Path | None, project_root: Path) -> Path:
    """`--cache-dir`, else $PYSTD_CACHE_DIR, else `.pystd_cache` in the project's root."""
    if option is not None:
        return option
    env = os.environ.get(CACHE_DIR_ENV)
    return Path(env) if env else project_root / DEFAULT_DIR


def fingerprint(rules: RuleSet, config: PystdConfig) -> str:
    """Everything besides a file's bytes that its findings depend on, as one hash."""
    import libcst

    parts = {
        "format": _FORMAT,
        "pystd": _pystd_version(),
        "engine": _engine_digest(),
        "python": list(sys.version_info[:2]),
        "libcst": getattr(libcst, "__version__", ""),
        "rules": [cls.code for cls in rules],
        "severities": sorted((k, str(v)) for k, v in rules.severities.items()),
        # Rules chosen by name also report findings without evidence (docs/rules.md).
        "named": None if rules.named is None else sorted(rules.named),
        "versions": repr(rules.versions),
        "config": config.model_dump_json(),
    }
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def _pystd_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pystd")
    except PackageNotFoundError:
        return "unknown"


def _engine_digest() -> str:
    """The size and modification time of every module of the engine and its rules: an
    edited rule in a development checkout (same version number) invalidates the cache."""
    import pystd.rules as rules
    root = Path(rules.__file__).parent
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            if name.endswith(".py"):
                stat = Path(dirpath, name).stat()
                digest.update(f"{dirpath}/{name}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return digest.hexdigest()


def content_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class ResultCache:
    """The cached results of one fingerprint, read at start and written back at the end."""

    path: Path
    entries: dict[str, list[Any]] = field(default_factory=dict)
    dirty: bool = False

    @classmethod
    def load(cls, folder: Path, key: str) -> ResultCache:
        path = folder / f"{key}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):  # none yet, or unreadable: start afresh
            return cls(path)
        entries = data.get("files") if isinstance(data, dict) else None
        return cls(path, entries if isinstance(entries, dict) else {})

    def split(self, items: Sequence[FileInput]
              ) -> tuple[list[FileInput], dict[str, FileResult]]:
        """(the items to check, the cached results of the others by path)."""
        todo: list[FileInput] = []
        known: dict[str, FileResult] = {}
        for item in items:
            entry = self.entries.get(item.path)
            if (isinstance(entry, list) and len(entry) == 2 and item.changed is None
                    and item.change is None and item.data is not None
                    and entry[0] == content_hash(item.data)):
                try:
                    known[item.path] = _decode(item.path, entry[1])
                    continue
                except (TypeError, ValueError, KeyError, IndexError):
                    pass  # a damaged entry: check the file again
            todo.append(item)
        return todo, known

    def update(self, items: Sequence[FileInput], results: Sequence[FileResult]) -> None:
        for item, result in zip(items, results, strict=True):
            if (item.data is None or result.failed or result.facts is not None
                    or item.changed is not None):
                self.entries.pop(item.path, None)
                continue
            self.entries[item.path] = [content_hash(item.data), _encode(result)]
            self.dirty = True

    def store(self, path: str, data: bytes, result: FileResult) -> None:
        """Learn `result`, the check of `data`, as the file at `path` (a file `--fix`
        rewrote: its check of the new text is already done, so the next run reads it)."""
        if result.failed or result.facts is not None:
            self.entries.pop(path, None)
        else:
            self.entries[path] = [content_hash(data), _encode(result)]
        self.dirty = True

    def save(self) -> None:
        """Write the cache atomically (a concurrent run reads the old or the new one); a
        folder that cannot be written is one line on stderr, never a failed check."""
        if not self.dirty:
            return
        folder = self.path.parent
        try:
            _make_folder(folder)
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".json")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"format": _FORMAT, "files": self.entries}, out,
                          separators=(",", ":"), ensure_ascii=False)
            os.replace(tmp, self.path)
        except OSError as exc:
            print(messages.CLI_CACHE_UNWRITABLE.format(path=folder, reason=exc.strerror),
                  file=sys.stderr)


def _make_folder(folder: Path) -> None:
    """The cache folder, and in the outermost folder made here a `.gitignore` of `*`."""
    top = folder
    while not top.parent.exists():
        top = top.parent
    created = not top.exists()
    folder.mkdir(parents=True, exist_ok=True)
    if created:
        (top / ".gitignore").write_text("# Created by pystd: the result cache.\n*\n",
                                        encoding="utf-8")


def _encode(result: FileResult) -> dict[str, Any]:
    return {
        "s": result.skipped,
        "l": result.lines,
        "f": [[f.code, f.name, f.severity.value, f.line, f.column, f.end_line, f.end_column,
               f.message, _encode_fix(f.fix)] for f in result.findings],
    }


def _encode_fix(fix: Fix | None) -> list[Any] | None:
    if fix is None:
        return None
    return [fix.line, fix.end_line, fix.replacement, list(fix.imports), fix.import_line,
            fix.safe]


def _decode(path: str, data: dict[str, Any]) -> FileResult:
    findings = []
    for code, name, severity, line, column, end_line, end_column, message, fix in data["f"]:
        findings.append(Finding(
            code=code, name=name, severity=Severity(severity), path=path, line=line,
            column=column, end_line=end_line, end_column=end_column, message=message,
            fix=None if fix is None else Fix(fix[0], fix[1], fix[2], tuple(fix[3]), fix[4],
                                             bool(fix[5])),
        ))
    return FileResult(path, tuple(findings), skipped=data["s"], lines=data["l"])


def check_with_cache(items: Sequence[FileInput], cache: ResultCache | None,
                     check: Callable[[list[FileInput]], list[FileResult]]
                     ) -> list[FileResult]:
    """`check(items)` for the items the cache does not know, the cached results for the
    rest, in the order of `items`; the cache learns the new results."""
    if cache is None:
        return check(list(items))
    todo, known = cache.split(items)
    fresh = check(todo) if todo else []
    cache.update(todo, fresh)
    cache.save()
    new = iter(fresh)
    return [known[i.path] if i.path in known else next(new) for i in items]
