"""The change-level rule API: a `Change` (every changed path with its status, the new and
old text of the files pystd reads, the changed lines), the `ChangeRule` base class, the
runner, and the parsing helpers the rules share.

A change rule has two parts. `file_facts(f)` looks at one changed file (it may parse the
file's text before the change too) and returns small, picklable facts; `check_change`
combines every file's facts with what only the whole change knows (test files, migration
folders) and reports. The engine works out the facts beside its own rules, in its worker
process, from the parse it already made (`change_facts`), and hands them over in
`Change.facts`: each file is parsed once. Facts not handed over are worked out on demand.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import ClassVar, TypeGuard

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from pystd.rules.context import FileContext, module_kind
from pystd.rules.engine import Finding, Rule, RuleSet
from pystd.rules.fixes import Layout
from pystd.rules.limits import parseable
from pystd.rules.suppress import ignores_file, is_suppressed, noqa_lines


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
    # Per path, the facts of each change rule (by code) that the engine worked out.
    facts: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def touches_tests(self) -> bool:
        return any(module_kind(f.path).is_test for f in self.files)

    def python_files(self) -> Iterator[ChangedPath]:
        for f in self.files:
            if f.text is not None and f.path.endswith(".py") and f.status != "removed":
                yield f


class ChangeContext:
    """What a change rule reports into, and each file parsed once for all the rules."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self.findings: list[tuple[type[ChangeRule], str, int, int, str]] = []
        self._new: dict[str, Parsed | None] = {}
        self._old: dict[str, Parsed | None] = {}

    def seed(self, f: ChangedPath, module: cst.Module) -> None:
        """`f`'s text is already parsed as `module` (by the engine)."""
        assert f.text is not None
        self._new[f.path] = Parsed(f.path, f.text, module)

    def parsed(self, f: ChangedPath) -> Parsed | None:
        """The file after the change (None when it does not parse)."""
        if f.path not in self._new:
            assert f.text is not None
            self._new[f.path] = parse(f.path, f.text)
        return self._new[f.path]

    def parsed_before(self, f: ChangedPath) -> Parsed | None:
        """The file before the change: empty for an added file, None when not known."""
        if f.path not in self._old:
            if f.status == "added":
                self._old[f.path] = parse(f.path, "")
            else:
                self._old[f.path] = (None if f.old_text is None
                                     else parse(f.previous_path or f.path, f.old_text))
        return self._old[f.path]


class ChangeRule(Rule):
    """Base class of rules over a whole change. Subclasses implement `check_change`."""

    file_kind: ClassVar[str] = "change"
    # Its findings speak for the whole change (said in the review's body, not only inline).
    whole_change: ClassVar[bool] = True

    def __init__(self, ctx: ChangeContext) -> None:
        self.cctx = ctx

    @classmethod
    def folders_needed(cls, change: Change) -> tuple[str, ...]:
        """Folders whose existence after the change this rule needs to know and the change
        cannot tell; the caller asks (the App asks GitHub) and passes the answer as
        `Change.existing_dirs`. Nothing by default."""
        return ()

    def check_change(self, change: Change) -> None:
        raise NotImplementedError

    def file_facts(self, f: ChangedPath) -> object:
        """What this rule needs to know of one changed file (None: nothing). Runs in the
        engine's worker with the file already parsed, or on demand."""
        return None

    def facts(self, f: ChangedPath) -> object:
        """`file_facts(f)`, as the engine handed it over, else worked out now."""
        known = self.cctx.change.facts.get(f.path)
        if known is not None and self.code in known:
            return known[self.code]
        return self.file_facts(f)

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
                           end_line, 1, message, whole_change=cls.whole_change))
    return tuple(sorted(out, key=lambda f: (f.path, f.line, f.code)))


# A Django model declared in a models module of the change: (the module's dotted path from
# the repository root, the class name, its ForeignKey/OneToOneField fields).
ChangeModel = tuple[str, str, frozenset[str]]


@dataclass(frozen=True)
class FileChange:
    """How a file changed, for the engine to work out its change facts (`change_facts`),
    and what the other files of the change declare that a file rule may need (`models`:
    the Django models of the change's models modules, for PYS209 on the views that loop
    over them)."""

    status: str = "modified"
    previous_path: str | None = None
    old_text: str | None = None
    max_handler_lines: int = 40
    models: tuple[ChangeModel, ...] = ()


def _has_facts(rule: type[Rule]) -> TypeGuard[type[ChangeRule]]:
    return issubclass(rule, ChangeRule) and rule.file_facts is not ChangeRule.file_facts


def wants_facts(rules: RuleSet) -> bool:
    return any(_has_facts(cls) for cls in rules)


def change_facts(path: str, text: str, module: cst.Module, added: frozenset[int] | None,
                 how: FileChange, rules: RuleSet) -> dict[str, object]:
    """Every selected change rule's `file_facts` of one file the engine has parsed."""
    f = ChangedPath(path, how.status, text, added, how.previous_path, how.old_text)
    ctx = ChangeContext(Change((f,), max_handler_lines=how.max_handler_lines))
    ctx.seed(f, module)
    return {cls.code: cls(ctx).file_facts(f) for cls in rules if _has_facts(cls)}


# -- what the rules share ----------------------------------------------------------------

PARSE_ERRORS = (cst.ParserSyntaxError, RecursionError, ValueError)
# Words without which a module declares no handler (a cheap test before parsing).
HANDLER_WORDS = ("request", "route", "@", "Route(")

FunctionKey = tuple[str | None, str]  # (class or None, function name)


@dataclass(frozen=True)
class Function:
    """A module-level function, or a method of a module-level class (`top`)."""

    key: FunctionKey
    node: cst.FunctionDef
    top: cst.BaseStatement

    @property
    def display_name(self) -> str:
        """`index`, or `OrderView.get` for a method."""
        cls, name = self.key
        return f"{cls}.{name}" if cls else name


class Parsed:
    """A parsed text with its file context. Line numbers are worked out per top-level
    statement and only for the statements a rule asks about (a whole-module
    PositionProvider costs twice the parse), as `resolve_positions` does for reports."""

    def __init__(self, path: str, text: str, module: cst.Module) -> None:
        self.module = module
        self.ctx = FileContext(path, text, module)
        self._layout = Layout(module)
        self._positions: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}

    def _range(self, node: cst.CSTNode, top: cst.CSTNode) -> tuple[int, int]:
        i = self._layout.index[id(top)]
        positions = self._positions.get(i)
        if positions is None:
            mini = self.module.with_changes(body=[top], header=(), footer=())
            positions = MetadataWrapper(mini, unsafe_skip_copy=True).resolve(PositionProvider)
            self._positions[i] = positions
        rng = positions[node]
        offset = self._layout.offset_at(i)
        return rng.start.line + offset, rng.end.line + offset

    def start(self, node: cst.CSTNode, top: cst.CSTNode) -> int:
        """First line of `node`, which lies in the top-level statement `top`."""
        return self._range(node, top)[0]

    def span(self, node: cst.CSTNode, top: cst.CSTNode) -> range:
        first, last = self._range(node, top)
        return range(first, last + 1)

    def rough_span(self, top: cst.CSTNode) -> range:
        """The lines of a top-level statement with the blank and comment lines before it:
        a cheap superset of its span, to skip statements no changed line reaches."""
        i = self._layout.index[id(top)]
        return range(self._layout.offset_at(i) + 1, self._layout.offset_at(i + 1) + 1)


def parse(path: str, text: str) -> Parsed | None:
    """`text` parsed, or None when it does not parse or is more than the parser can take
    (the engine skips such files; a text before the change can be one too)."""
    if not parseable(text):
        return None
    try:
        return Parsed(path, text, cst.parse_module(text))
    except PARSE_ERRORS:
        return None


def on_added_line(f: ChangedPath, lines: range | int) -> bool:
    """Did the change add/edit one of `lines`? Unknown (`added` None) counts only for an
    added file — the quiet side for a modified file whose changed lines are not known."""
    if f.added is None:
        return f.status == "added"
    if isinstance(lines, int):
        return lines in f.added
    return any(n in f.added for n in lines)


def source_files(change: Change, *words: str) -> Iterator[ChangedPath]:
    """Non-test Python files of the change whose new text holds one of `words`, without
    the files that ask to be skipped (`# pystd: ignore-file`)."""
    for f in change.python_files():
        assert f.text is not None
        if (module_kind(f.path).is_test or not any(w in f.text for w in words)
                or ignores_file(f.text)):
            continue
        yield f


def functions(module: cst.Module) -> Iterator[Function]:
    """Module-level functions and methods of module-level classes."""
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            yield Function((None, stmt.name.value), stmt, stmt)
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for s in stmt.body.body:
                if isinstance(s, cst.FunctionDef):
                    yield Function((stmt.name.value, s.name.value), s, stmt)


def handlers(parsed: Parsed) -> list[Function]:
    """The request handlers among `functions(...)`, any framework."""
    return [fn for fn in functions(parsed.module)
            if parsed.ctx.handler_framework(fn.node) is not None]
