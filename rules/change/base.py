"""The change-level rule API: a `Change` (every changed path with its status, the new and
old text of the files pystd reads, the changed lines), the `ChangeRule` base class, the
runner, and the parsing helpers the rules share."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import libcst as cst

from rules.context import FileContext, module_kind
from rules.engine import Finding, Rule, RuleSet
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
    # PYS110's threshold: the repository's `max-handler-lines` (PystdConfig.max_handler_lines).
    max_handler_lines: int = 40

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


# -- what the rules share ----------------------------------------------------------------

PARSE_ERRORS = (cst.ParserSyntaxError, RecursionError, ValueError)
# Words without which a module declares no handler (a cheap test before parsing).
HANDLER_WORDS = ("request", "route", "@", "Route(")

FunctionKey = tuple[str | None, str]  # (class or None, function name)


class Parsed:
    """A parsed text with its file context and node positions."""

    def __init__(self, path: str, text: str, module: cst.Module) -> None:
        from libcst.metadata import MetadataWrapper, PositionProvider

        self.module = module
        self.lines = text.splitlines()
        self.ctx = FileContext(path, text, module)
        self.positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def start(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def span(self, node: cst.CSTNode) -> range:
        rng = self.positions[node]
        return range(rng.start.line, rng.end.line + 1)


def parse(path: str, text: str) -> Parsed | None:
    try:
        return Parsed(path, text, cst.parse_module(text))
    except PARSE_ERRORS:
        return None


def parse_new(f: ChangedPath) -> Parsed | None:
    """The file after the change."""
    assert f.text is not None
    return parse(f.path, f.text)


def parse_old(f: ChangedPath) -> Parsed | None:
    """The file before the change: empty for an added file, None when not known."""
    if f.status == "added":
        return parse(f.path, "")
    if f.old_text is None:
        return None
    return parse(f.previous_path or f.path, f.old_text)


def on_added_line(f: ChangedPath, lines: range | int) -> bool:
    """Did the change add/edit one of `lines`? Unknown (`added` None) counts only for an
    added file — the quiet side for a modified file whose changed lines are not known."""
    if f.added is None:
        return f.status == "added"
    if isinstance(lines, int):
        return lines in f.added
    return any(n in f.added for n in lines)


def source_files(change: Change, *words: str) -> Iterator[ChangedPath]:
    """Non-test Python files of the change whose new text holds one of `words`."""
    for f in change.python_files():
        assert f.text is not None
        if module_kind(f.path).is_test or not any(w in f.text for w in words):
            continue
        yield f


def functions(module: cst.Module) -> Iterator[tuple[FunctionKey, cst.FunctionDef]]:
    """Module-level functions and methods of module-level classes, keyed by (class, name)."""
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            yield (None, stmt.name.value), stmt
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for s in stmt.body.body:
                if isinstance(s, cst.FunctionDef):
                    yield (stmt.name.value, s.name.value), s


def display_name(key: FunctionKey) -> str:
    """`index`, or `OrderView.get` for a method."""
    cls, name = key
    return f"{cls}.{name}" if cls else name


def handlers(parsed: Parsed) -> list[tuple[FunctionKey, cst.FunctionDef]]:
    """The request handlers among `functions(...)`, any framework."""
    return [(key, fn) for key, fn in functions(parsed.module)
            if parsed.ctx.handler_framework(fn) is not None]
