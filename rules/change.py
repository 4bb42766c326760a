"""Change-level rules: they see the whole change (every changed path with its status, the
new text of the files pystd checks, and the changed lines) instead of one file.

`pystd check --diff REF` and the GitHub App both build a `Change` and run these rules
after the per-file ones. A change rule anchors each finding on a changed line of a changed
file (so it can be an inline comment), or on a file's first line when the file itself is
the problem (an added `.env`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

import libcst as cst

from rules.context import FileContext, module_kind
from rules.engine import Example, Finding, Rule, RuleSet, Severity, register
from rules.suppress import is_suppressed, noqa_lines


@dataclass(frozen=True)
class ChangedPath:
    """One path of a change. `text` is the new content of files pystd reads (None for
    removed files and for files it does not read); `added` the changed lines (None: all);
    `old_text` the content before the change (None: added, or not known)."""

    path: str
    status: str  # added | modified | removed | renamed
    text: str | None = None
    added: frozenset[int] | None = None
    previous_path: str | None = None
    old_text: str | None = None


@dataclass(frozen=True)
class Change:
    files: tuple[ChangedPath, ...]
    # Folders known to exist in the repository after the change (for "apps with a
    # migrations/ package"); None when the caller does not know the tree.
    existing_dirs: frozenset[str] | None = None

    def touches_tests(self) -> bool:
        return any(module_kind(f.path).is_test for f in self.files)

    def python_files(self) -> Iterator[ChangedPath]:
        for f in self.files:
            if f.text is not None and f.path.endswith(".py") and f.status != "removed":
                yield f


class ChangeContext:
    """What a change rule reports into."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self.findings: list[tuple[type[Rule], str, int, int, str]] = []


class ChangeRule(Rule):
    """Base class of rules over a whole change. Subclasses implement `check_change`."""

    file_kind: ClassVar[str] = "change"

    def __init__(self, ctx: ChangeContext) -> None:  # type: ignore[override]
        self.cctx = ctx

    def check_change(self, change: Change) -> None:
        raise NotImplementedError

    def report_line(self, path: str, line: int, message: str | None = None,
                    end_line: int | None = None) -> None:
        self.cctx.findings.append((type(self), path, line, end_line or line,
                                   message or self.message))


def check_change(change: Change, rules: RuleSet) -> tuple[Finding, ...]:
    """Every selected change rule over `change`; `# noqa` on the anchored line counts."""
    ctx = ChangeContext(change)
    for cls in rules:
        if cls.file_kind == "change" and issubclass(cls, ChangeRule):
            cls(ctx).check_change(change)
    texts = {f.path: f.text for f in change.files if f.text is not None}
    out = []
    for cls, path, line, end_line, message in ctx.findings:
        text = texts.get(path)
        if (text is not None and path.endswith(".py")
                and is_suppressed(cls.code, (line,), noqa_lines(text))):
            continue
        out.append(Finding(cls.code, cls.name, rules.severity_of(cls), path, line, 1,
                           end_line, 1, message))
    return tuple(sorted(out, key=lambda f: (f.path, f.line, f.code)))


# -- PYS901, PYS902 ------------------------------------------------------------------------

SECRET_FILE_PATTERNS = (".env", ".env.*", "*.pem", "id_rsa", "id_rsa.*", "id_ed25519",
                        "id_ecdsa", "id_dsa")
SECRET_FILE_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template",
                                   "id_rsa.pub", "id_ed25519.pub", "id_ecdsa.pub", "id_dsa.pub"})


@register
class EnvFileCommitted(ChangeRule):
    code = "PYS902"
    name = "env-file-committed"
    severity = Severity.ERROR
    message = "`{path}` holds secrets and must not be committed; add it to .gitignore"
    docs = """
## What it does
Flags a change that adds a `.env` or `.env.*` file (other than `.env.example`,
`.env.sample` or `.env.template`), a `*.pem` file or an SSH private key (`id_rsa`,
`id_ed25519` …).

## Why is this bad?
These files hold credentials. Once pushed they are in the repository's history for good —
every clone and fork has them — and deleting them in a later commit does not help: the
secrets must be rotated. The Twelve-Factor App keeps configuration in the environment,
and GitHub's own guidance is to never commit secrets (use secret scanning and a vault).

## Example
A pull request that adds `.env` with `DATABASE_URL=postgres://app:s3cret@db/app`.

## Use instead
Commit a `.env.example` with placeholder values, list `.env` in `.gitignore`, and load real
values from the environment or a secret manager.

## Suppress
This rule looks at file names, so there is no line to put `# noqa` on: ignore it in
`[tool.pystd]` (`ignore = ["PYS902"]`) if your repository really must hold such a file.
"""
    bad = ("# the change adds .env  # flagged\n",)
    good = ("# the change adds .env.example\n",)

    def check_change(self, change: Change) -> None:
        for f in change.files:
            if f.status != "added":
                continue
            name = PurePosixPath(f.path).name
            if name in SECRET_FILE_TEMPLATES:
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in SECRET_FILE_PATTERNS):
                self.report_line(f.path, 1, self.message.format(path=f.path))


@register
class HandlerChangeWithoutTests(ChangeRule):
    code = "PYS901"
    name = "handler-change-without-tests"
    severity = Severity.WARNING
    message = "This change edits request handlers ({handlers}) but no test file"
    docs = """
## What it does
Flags a change that adds or edits request handlers — Django views, Flask routes, FastAPI
and Ninja path operations, Starlette endpoints — and touches no test file (`test_*.py`,
`*_test.py`, `tests/`, `conftest.py`). It is reported once per change, on the first changed
handler.

## Why is this bad?
Handlers are where user input meets your code; a behaviour change there without a test is
how regressions ship. Every framework documents a test client for exactly this (Django's
`Client`, Flask's `test_client()`, FastAPI's `TestClient`), and the test pyramid puts the
cheap, fast checks next to the code they guard.

## Example
A pull request that changes `views.py`:
```python
def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk, owner=request.user)
    return render(request, "orders/detail.html", {"order": order})
```
and no file under `tests/`.

## Use instead
Add or update a test that exercises the handler through the framework's test client.

## Suppress
`# noqa: PYS901` on the handler's `def` line, or `ignore = ["PYS901"]` in `[tool.pystd]`.
"""
    bad = ("# the change edits a view and no test  # flagged\n",)
    good = ("# the change edits a view and tests/test_views.py\n",)

    def check_change(self, change: Change) -> None:
        if change.touches_tests():
            return
        changed: list[tuple[str, int, str]] = []
        for f in change.python_files():
            if module_kind(f.path).is_test:
                continue
            changed.extend(changed_handlers(f))
        if changed:
            path, line, _ = changed[0]
            names = ", ".join(f"`{name}`" for _, _, name in changed[:5])
            if len(changed) > 5:
                names += f" and {len(changed) - 5} more"
            self.report_line(path, line, self.message.format(handlers=names))


def changed_handlers(f: ChangedPath) -> list[tuple[str, int, str]]:
    """(path, def line, name) of handlers in `f` that the change added or edited."""
    assert f.text is not None
    if not any(word in f.text for word in ("request", "route", "@", "Route(")):
        return []
    try:
        module = cst.parse_module(f.text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return []
    ctx = FileContext(f.path, f.text, module)
    from libcst.metadata import MetadataWrapper, PositionProvider

    functions = [n for n in _functions(module.body)]
    candidates = [fn for fn in functions if ctx.handler_framework(fn) is not None]
    if not candidates:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    out = []
    for fn in candidates:
        rng = positions[fn]
        lines = range(rng.start.line, rng.end.line + 1)
        if f.added is None or any(n in f.added for n in lines):
            out.append((f.path, positions[fn.name].start.line, fn.name.value))
    return out


def _functions(body: object) -> Iterator[cst.FunctionDef]:
    """Module-level functions and methods of module-level classes."""
    for stmt in body:  # type: ignore[attr-defined]
        if isinstance(stmt, cst.FunctionDef):
            yield stmt
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            yield from (s for s in stmt.body.body if isinstance(s, cst.FunctionDef))


__all__ = ["Change", "ChangeRule", "ChangedPath", "Example", "check_change"]
