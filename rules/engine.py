"""The rule API: findings, fixes, the `Rule` base class and the registry.

A rule is a small class: metadata (code, name, severity, message, docs, examples) plus
libcst visitor methods named like libcst's (`visit_Call`, `leave_FunctionDef`). The
engine (rules/walker.py) runs every active rule of a file in ONE traversal.
"""

from __future__ import annotations

import enum
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import libcst as cst

from pystd.rules.versions import Versions

if TYPE_CHECKING:
    from pystd.rules.context import FileContext


class Severity(enum.StrEnum):
    """How bad a finding is; ordered so that `ERROR > WARNING > INFO`."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 1, Severity.WARNING: 2, Severity.ERROR: 3}


class Category(enum.StrEnum):
    """What kind of problem a rule finds; users select and ignore rules by category."""

    CORRECTNESS = "correctness"
    SECURITY = "security"
    PERFORMANCE = "performance"
    UPGRADE = "upgrade"
    STYLE = "style"
    STRUCTURE = "structure"

    @property
    def description(self) -> str:
        return _CATEGORY_TEXT[self]


_CATEGORY_TEXT = {
    Category.CORRECTNESS: "code that raises or misbehaves at run time",
    Category.SECURITY: "a hole an attacker can use, or a safeguard switched off",
    Category.PERFORMANCE: "work that stalls the event loop or multiplies queries",
    Category.UPGRADE: "APIs a framework deprecated or removed; worth fixing when the team "
    "upgrades",
    Category.STYLE: "conventions on which reasonable teams differ",
    Category.STRUCTURE: "how the code is organised: handler size, factories, tests alongside",
}


@dataclass(frozen=True, slots=True)
class Fix:
    """Replace lines `line..end_line` (1-based, inclusive) with `replacement`.

    `replacement` is the full new text of those lines, newline-terminated. `imports` are
    import statements the new code needs that the file lacks; they go in before
    `import_line` (1-based; the line after the module's last top-level import).
    `safe`: the fix keeps what the code does (`pystd check --fix` applies it); an unsafe
    one may change behaviour and is applied only with `--unsafe-fixes` (as in ruff).
    """

    line: int
    end_line: int
    replacement: str
    imports: tuple[str, ...] = ()
    import_line: int = 1
    safe: bool = False


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem at one place. Lines and columns are 1-based and inclusive."""

    code: str
    name: str
    severity: Severity
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    fix: Fix | None = None
    # Found by a rule that speaks for the whole change (`ChangeRule.whole_change`).
    whole_change: bool = False

    def lines(self) -> range:
        return range(self.line, self.end_line + 1)


@dataclass(frozen=True, slots=True)
class Example:
    """A documentation snippet that is also a test case (Fixit's valid/invalid examples).

    In a bad example every line that must be flagged ends with the marker `# flagged`.
    `path` sets the module kind (`views.py`, `settings.py`, `templates/x.html`). `fixed` is
    the exact source after the rule's fixes are applied (tests/rules/test_examples.py
    checks it); a bad example whose rule offers a fix must give it, any other leaves it None.
    `code` and `fixed` may be written as indented triple-quoted blocks (see `dedented`).
    """

    code: str
    path: str = "app.py"
    fixed: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", dedented(self.code))
        if self.fixed is not None:
            object.__setattr__(self, "fixed", dedented(self.fixed))


FLAG_MARKER = "# flagged"


def dedented(text: str) -> str:
    """Code written as an indented triple-quoted block, as a module would hold it.

    Text that opens with a newline (`\"\"\"` then the code on the next lines) loses that
    newline, the indentation before the closing quotes and the common indentation of its
    lines; any other text (a plain one-line string) is returned as it is.
    """
    if not text.startswith("\n"):
        return text
    text = text[1:]
    head, newline, last = text.rpartition("\n")
    if newline and not last.strip():
        text = head + newline
    return textwrap.dedent(text)


def example_of(value: str | Example) -> Example:
    """A rule's `bad`/`good` entry as an Example: a plain string is code in `app.py`."""
    return value if isinstance(value, Example) else Example(value)


@dataclass(slots=True)
class Report:
    """A finding as a rule reports it during the walk, before positions are known."""

    rule: Rule
    node: cst.CSTNode | None
    message: str
    line: int = 0
    column: int = 0
    end_line: int = 0
    end_column: int = 0
    replacement: tuple[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] | None = None
    fix: Fix | None = None
    imports: tuple[str, ...] = ()
    # This finding's own severity, when the rule chose one (else the rule's).
    severity: Severity | None = None
    # Does the code show the evidence (untrusted data reaching the sink, say)? A finding
    # without it is reported only where the rule was chosen by name (RuleSet.named).
    evidence: bool = True
    # The top-level statement being walked when the rule reported, and the nodes from it
    # down to the one being visited (hints that let the engine lay out only the class
    # member or function holding the report; checked, never trusted).
    top: cst.CSTNode | None = None
    path: tuple[cst.CSTNode, ...] = ()


class Rule:
    """Base class of every CST rule.

    Subclasses set the class attributes and define `visit_<Node>`/`leave_<Node>` methods.
    One instance serves one file; `self.ctx` is the shared file context.
    """

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    # The policy (docs/rules.md): what kind of problem the rule finds, whether it runs
    # without configuration (only rules a maintainer nearly always thanks us for), and why
    # it has this severity and default, in one or two sentences citing what real code showed.
    category: ClassVar[Category]
    default: ClassVar[bool]
    rationale: ClassVar[str]
    message: ClassVar[str]
    docs: ClassVar[str] = ""
    bad: ClassVar[tuple[str | Example, ...]] = ()
    good: ClassVar[tuple[str | Example, ...]] = ()
    # The rule runs on a file only when one of these substrings occurs in its text
    # (an empty tuple means always). This is the cheap prefilter.
    requires: ClassVar[tuple[str, ...]] = ()
    # Test files are skipped by every rule unless this is set (RULES.md: PYS102 only).
    run_on_tests: ClassVar[bool] = False
    # Which kinds of file the rule reads: "python" (CST rules), "template" (LineRule),
    # "change" (ChangeRule) or "unparsable" (the Python files the parser rejects).
    file_kind: ClassVar[str] = "python"
    # Whether the rule's fixes keep what the code does, so `pystd check --fix` may apply
    # them unasked; unsafe (the default) fixes need `--unsafe-fixes`.
    fix_safe: ClassVar[bool] = False

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        """A last, per-file check after the text prefilter (module kind, imports)."""
        return True

    def report(
        self,
        node: cst.CSTNode,
        message: str | None = None,
        *,
        replace: tuple[cst.CSTNode, cst.CSTNode | cst.RemovalSentinel] | None = None,
        imports: Iterable[str] = (),
        severity: Severity | None = None,
        evidence: bool = True,
    ) -> None:
        """Flag `node`. `replace=(old, new)` offers a fix replacing `old` by `new`.

        `imports` lists import statements the fixed code needs (`"import asyncio"`);
        the engine keeps only those the module does not have yet. `severity` sets this
        finding's severity when it differs from the rule's (an `error` only where the
        code shows the evidence); a repository's `severity` setting still wins.
        `evidence=False`: the code does not show that this is a problem (a value whose
        origin is unknown); such a finding is reported only where the repository chose
        the rule by code, category or `ALL`, not through `DEFAULT`.
        """
        self.ctx.reports.append(
            Report(
                rule=self,
                node=node,
                message=message or self.message,
                replacement=replace,
                imports=tuple(imports),
                severity=severity,
                evidence=evidence,
                top=self.ctx.ancestors[1] if len(self.ctx.ancestors) > 1 else None,
                path=tuple(self.ctx.ancestors[1:]),
            )
        )


class LineRule(Rule):
    """A rule over the lines of a non-Python file (templates)."""

    file_kind: ClassVar[str] = "template"

    def check_lines(self, lines: list[str]) -> None:
        raise NotImplementedError

    def report_at(
        self, line: int, column: int, end_column: int, message: str | None = None,
        *, severity: Severity | None = None, evidence: bool = True,
    ) -> None:
        """Flag line `line` (1-based) from `column` to `end_column` (1-based, inclusive)."""
        self.ctx.reports.append(
            Report(
                rule=self,
                node=None,
                message=message or self.message,
                line=line,
                column=column,
                end_line=line,
                end_column=end_column,
                severity=severity,
                evidence=evidence,
            )
        )


# -- registry ------------------------------------------------------------------------

_REGISTRY: dict[str, type[Rule]] = {}
_CODE_RE = re.compile(r"^PYS\d{3}$")


def register(cls: type[Rule]) -> type[Rule]:
    """Class decorator adding a rule to the registry; codes and names are unique."""
    if not _CODE_RE.match(cls.code):
        raise ValueError(f"bad rule code {cls.code!r}")
    other = _REGISTRY.get(cls.code)
    if other is not None and other is not cls:
        raise ValueError(f"duplicate rule code {cls.code}")
    if any(r.name == cls.name and r is not cls for r in _REGISTRY.values()):
        raise ValueError(f"duplicate rule name {cls.name}")
    for attribute in ("category", "default", "rationale"):
        if not hasattr(cls, attribute):
            raise ValueError(f"rule {cls.code} sets no {attribute} (docs/rules.md policy)")
    _REGISTRY[cls.code] = cls
    return cls


def registered() -> dict[str, type[Rule]]:
    """The rules registered so far by code (rules/catalogue.py imports them all)."""
    return dict(_REGISTRY)


ALL = "ALL"
DEFAULT = "DEFAULT"


def matches_code(code: str, patterns: Iterable[str]) -> bool:
    """`PYS1` selects PYS101..PYS199; `PYS205` only itself; `ALL` everything."""
    return any(p == ALL or code.startswith(p) for p in patterns)


def is_code_pattern(text: str) -> bool:
    return text == ALL or bool(re.fullmatch(r"PYS\d{0,3}", text))


def selector(text: str) -> str | None:
    """The canonical form of one `select`/`ignore` entry, or None when it names nothing.

    An entry is `ALL` (every rule), `DEFAULT` (the rules on by default), a category
    (`security`, any case) or a code or code prefix (`PYS1`, `PYS205`).
    """
    word = text.strip()
    if word.upper() in (ALL, DEFAULT):
        return word.upper()
    if word.lower() in Category.__members__.values():
        return word.lower()
    code = word.upper()
    return code if is_code_pattern(code) else None


def matches_rule(rule: type[Rule], patterns: Iterable[str]) -> bool:
    """Does any canonical selector in `patterns` pick `rule`?"""
    for pattern in patterns:
        if pattern == ALL or (pattern == DEFAULT and rule.default):
            return True
        if pattern == rule.category.value or (pattern.startswith("PYS")
                                              and rule.code.startswith(pattern)):
            return True
    return False


@dataclass(frozen=True)
class RuleSet:
    """The selected rules with their effective severities, and the versions of the
    frameworks the project runs (rules/versions.py; empty: every one current). The
    versions ride along because a RuleSet already reaches every worker process."""

    rules: tuple[type[Rule], ...]
    severities: dict[str, Severity] = field(default_factory=dict)
    versions: Versions = field(default_factory=Versions)
    # The codes chosen by name (a code or prefix, a category, `ALL`) rather than only
    # through `DEFAULT`: these rules also report findings without evidence
    # (`Rule.report(evidence=False)`). None: every rule in the set was.
    named: frozenset[str] | None = None

    def reports_without_evidence(self, code: str) -> bool:
        return self.named is None or code in self.named

    def severity_of(self, rule: type[Rule], reported: Severity | None = None) -> Severity:
        """The repository's setting for the rule, else the finding's own, else the rule's."""
        return self.severities.get(rule.code, reported or rule.severity)

    def __iter__(self) -> Iterator[type[Rule]]:
        return iter(self.rules)
