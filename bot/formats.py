"""The output formats of `pystd check`: text for people, JSON for scripts, GitHub Actions
workflow commands for CI logs, and SARIF 2.1.0 for code-scanning tools.

`render` is a pure function of the check results (plus a way to read a file's text, used
only to show fixes), so the CLI stays a thin edge and every format is tested without a
terminal, a network or a filesystem.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote

from pystd.bot.messages import PROJECT_URL, rule_docs_url
from pystd.bot.source_view import docs_url, hyperlink, source_block
from pystd.rules.engine import Finding, Fix, Rule, RuleSet, Severity
from pystd.rules.runner import FileResult

FORMATS = ("text", "json", "github", "sarif")

SourceReader = Callable[[str], str | None]

# -- user-facing wording (kept here because bot/messages.py belongs to the CLI edge) --------
TEXT_FOUND = "Found {findings} ({breakdown}) in {files}{fixable}."
TEXT_FIXABLE = ", {count} fixable"
TEXT_CLEAN = "All checked files are clean ({files})."
TEXT_NOTHING_CHECKED = "No files were checked."
TEXT_SKIPPED = "skipped {path}: {reason}"
EMPTY_FILE = "empty file"
SARIF_SKIPPED = "skipped: {reason}"
SARIF_FIX_DESCRIPTION = "Apply pystd's fix for {code} ({name})"
UNKNOWN_FORMAT = "unknown output format {fmt!r}; choose one of: {choices}"

SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SARIF_SRCROOT = "%SRCROOT%"

_SEVERITY_ORDER = (Severity.ERROR, Severity.WARNING, Severity.INFO)
_SEVERITY_NOUNS = {
    Severity.ERROR: ("error", "errors"),
    Severity.WARNING: ("warning", "warnings"),
    Severity.INFO: ("info", "info"),
}
_SARIF_LEVEL = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_GITHUB_COMMAND = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "notice"}

_ANSI = {"bold": "1", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}
_SEVERITY_COLOR = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}
_DIFF_INDENT = "    "

# Lines as libcst and the engine count them: only \r\n, \r and \n end a line
# (str.splitlines would also split on form feeds and U+2028, shifting line numbers).
_LINE_RE = re.compile(r".*?(?:\r\n|\r|\n)|.+\Z", re.DOTALL)
_PLACEHOLDER_RE = re.compile(r"\{\w+\}")


def render(
    results: Sequence[FileResult],
    fmt: str,
    *,
    rules: RuleSet,
    read_source: SourceReader,
    color: bool = False,
    show_source: bool = False,
) -> str:
    """`results` in format `fmt` (one of FORMATS), without a trailing newline.

    `read_source(path)` gives a file's text, or None; it is called at most once per file
    and only for files with fixes (to show the old lines of a fix, and to place SARIF
    replacements precisely). `color` adds ANSI colours to the text format only, and
    `show_source` the flagged code and the rule's link under each finding.
    """
    read = functools.cache(read_source)
    if fmt == "text":
        return render_text(results, read_source=read, color=color, show_source=show_source)
    if fmt == "json":
        return render_json(results)
    if fmt == "github":
        return render_github(results)
    if fmt == "sarif":
        return render_sarif(results, rules=rules, read_source=read)
    raise ValueError(UNKNOWN_FORMAT.format(fmt=fmt, choices=", ".join(FORMATS)))


def sorted_findings(results: Iterable[FileResult]) -> list[Finding]:
    """Every finding of `results`, by path, line, column and code."""
    return sorted(
        (f for r in results for f in r.findings),
        key=lambda f: (f.path, f.line, f.column, f.code),
    )


def source_lines(text: str) -> list[str]:
    """`text` split into lines that keep their line endings, numbered as the engine does."""
    return _LINE_RE.findall(text)


# -- text --------------------------------------------------------------------------------


def render_text(results: Sequence[FileResult], *, read_source: SourceReader,
                color: bool = False, show_source: bool = False) -> str:
    """One `path:line:col: CODE [severity] message` line per finding (in colour, the code
    links to the rule's page), with `show_source` the code and the rule's link under it,
    each fix as a small diff, skipped files, then a one-line summary."""
    findings = sorted_findings(results)
    out: list[str] = []
    for f in findings:
        code = _paint(f.code, "bold", color)
        if color:
            code = hyperlink(code, docs_url(f))
        severity = _paint(f"[{f.severity.value}]", _SEVERITY_COLOR[f.severity], color)
        out.append(f"{f.path}:{f.line}:{f.column}: {code} {severity} {f.message}")
        if show_source:
            text = read_source(f.path)
            out.extend(source_block(f, source_lines(text) if text is not None else None))
        if f.fix is not None:
            out.extend(_fix_diff(f.fix, read_source(f.path), color))
    # Empty files (a package's `__init__.py`) are skipped too, but listing each is noise.
    skipped = sorted((r for r in results if r.skipped not in (None, EMPTY_FILE)),
                     key=lambda r: r.path)
    if findings and skipped:
        out.append("")
    out.extend(TEXT_SKIPPED.format(path=r.path, reason=r.skipped) for r in skipped)
    if out:
        out.append("")
    out.append(_paint(text_summary(results), "bold", color))
    return "\n".join(out)


def text_summary(results: Sequence[FileResult]) -> str:
    """`Found 3 findings (2 errors, 1 warning) in 2 files, 1 fixable.` or the clean line."""
    findings = sorted_findings(results)
    if findings:
        counts = Counter(f.severity for f in findings)
        breakdown = ", ".join(
            _plural(counts[s], *_SEVERITY_NOUNS[s]) for s in _SEVERITY_ORDER if counts[s]
        )
        fixable = sum(1 for f in findings if f.fix is not None)
        return TEXT_FOUND.format(
            findings=_plural(len(findings), "finding", "findings"),
            breakdown=breakdown,
            files=_plural(len({f.path for f in findings}), "file", "files"),
            fixable=TEXT_FIXABLE.format(count=fixable) if fixable else "",
        )
    checked = sum(1 for r in results if r.skipped is None)
    if checked:
        return TEXT_CLEAN.format(files=_plural(checked, "file", "files"))
    return TEXT_NOTHING_CHECKED


def _fix_diff(fix: Fix, source: str | None, color: bool) -> list[str]:
    """`-` old lines and `+` new ones, with `+import …` lines where the imports go.
    Without the source only the `+` lines can be shown."""
    old: list[str] = []
    if source is not None:
        old = [line.rstrip("\r\n") for line in source_lines(source)[fix.line - 1 : fix.end_line]]
    removed = [_paint(f"-{line}", "red", color) for line in old]
    added = [_paint(f"+{line}", "green", color) for line in fix.replacement.splitlines()]
    imports = [_paint(f"+{stmt}", "green", color) for stmt in fix.imports]
    # rules.fixes.apply_fix puts the imports below the edit only when their line follows it.
    if fix.import_line > fix.end_line:
        lines = removed + added + imports
    else:
        lines = imports + removed + added
    return [_DIFF_INDENT + line for line in lines]


def _plural(count: int, one: str, many: str) -> str:
    return f"{count} {one if count == 1 else many}"


def _paint(text: str, style: str, color: bool) -> str:
    return f"\x1b[{_ANSI[style]}m{text}\x1b[0m" if color else text


# -- json --------------------------------------------------------------------------------


def render_json(results: Sequence[FileResult]) -> str:
    """One JSON array; each item is exactly the DESIGN.md contract:
    `{"code","name","severity","path","line","end_line","column","end_column","message",
    "fix": null | {"line","end_line","replacement"}}`.

    Additive extensions: `fix` carries `"safe"` (pystd check --fix applies it unasked: it
    keeps what the code does), and `"imports"` (a list of import statements the
    fixed code needs, e.g. `["import asyncio"]`) and `"import_line"` (the 1-based line
    they go before) when, and only when, there are any.
    """
    return json.dumps([json_item(f) for f in sorted_findings(results)], indent=2,
                      ensure_ascii=False)


def json_item(finding: Finding) -> dict[str, Any]:
    fix: dict[str, Any] | None = None
    if finding.fix is not None:
        fix = {
            "line": finding.fix.line,
            "end_line": finding.fix.end_line,
            "replacement": finding.fix.replacement,
            "safe": finding.fix.safe,
        }
        if finding.fix.imports:
            fix["imports"] = list(finding.fix.imports)
            fix["import_line"] = finding.fix.import_line
    return {
        "code": finding.code,
        "name": finding.name,
        "severity": finding.severity.value,
        "path": finding.path,
        "line": finding.line,
        "end_line": finding.end_line,
        "column": finding.column,
        "end_column": finding.end_column,
        "message": finding.message,
        "fix": fix,
    }


# -- github ------------------------------------------------------------------------------


def render_github(results: Sequence[FileResult]) -> str:
    """One GitHub Actions workflow command per finding, so CI logs annotate the lines:
    `::error file=…,line=…,endLine=…,col=…,endColumn=…,title=CODE name::message`."""
    return "\n".join(github_command(f) for f in sorted_findings(results))


def github_command(finding: Finding) -> str:
    props: list[tuple[str, object]] = [
        ("file", finding.path),
        ("line", finding.line),
        ("endLine", finding.end_line),
    ]
    # GitHub rejects columns on an annotation that spans several lines (the Checks API
    # says "omit this parameter if start_line and end_line have different values"; the
    # runner validates workflow commands the same way, actions/runner#2082).
    if finding.line == finding.end_line:
        props += [("col", finding.column), ("endColumn", max(finding.end_column, finding.column))]
    props.append(("title", f"{finding.code} {finding.name}"))
    rendered = ",".join(f"{key}={escape_property(str(value))}" for key, value in props)
    return f"::{_GITHUB_COMMAND[finding.severity]} {rendered}::{escape_data(finding.message)}"


def escape_data(text: str) -> str:
    """Escape a workflow command's message (what follows the final `::`)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a workflow command's property value, where `:` and `,` are delimiters."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


# -- sarif -------------------------------------------------------------------------------


def render_sarif(results: Sequence[FileResult], *, rules: RuleSet,
                 read_source: SourceReader) -> str:
    """A SARIF 2.1.0 log with one run: every selected rule with its docs, one result per
    finding (with its fix as replacements), skipped files as notifications."""
    return json.dumps(sarif_log(results, rules=rules, read_source=read_source), indent=2,
                      ensure_ascii=False)


def sarif_log(results: Sequence[FileResult], *, rules: RuleSet,
              read_source: SourceReader) -> dict[str, Any]:
    descriptors = [_sarif_rule(cls, rules.severity_of(cls)) for cls in rules]
    index = {d["id"]: i for i, d in enumerate(descriptors)}
    sarif_results = []
    for finding in sorted_findings(results):
        if finding.code not in index:  # a finding of a rule outside the selection
            index[finding.code] = len(descriptors)
            descriptors.append({"id": finding.code, "name": finding.name,
                                "helpUri": docs_url(finding)})
        sarif_results.append(_sarif_result(finding, index[finding.code], read_source))
    invocation: dict[str, Any] = {"executionSuccessful": True}
    notifications = [
        {
            "level": "note",
            "message": {"text": SARIF_SKIPPED.format(reason=r.skipped)},
            "locations": [{"physicalLocation": {"artifactLocation": _artifact(r.path)}}],
        }
        for r in sorted(results, key=lambda r: r.path)
        if r.skipped is not None
    ]
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    driver = {
        "name": "pystd",
        "informationUri": PROJECT_URL,
        "version": tool_version(),
        "rules": descriptors,
    }
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {"driver": driver},
                "invocations": [invocation],
                # Columns and character offsets are Python string indices.
                "columnKind": "unicodeCodePoints",
                "results": sarif_results,
            }
        ],
    }


def tool_version() -> str:
    try:
        return importlib.metadata.version("pystd")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


def _sarif_rule(cls: type[Rule], severity: Severity) -> dict[str, Any]:
    docs = cls.docs.strip()
    short = _PLACEHOLDER_RE.sub("…", cls.message)
    return {
        "id": cls.code,
        "name": cls.name,
        "shortDescription": {"text": short},
        "fullDescription": {"text": _first_paragraph(docs) or short},
        "help": {"text": docs or short, "markdown": docs or short},
        "helpUri": rule_docs_url(cls.code, cls.name, os.environ.get("PYSTD_PUBLIC_URL")),
        "defaultConfiguration": {"level": _SARIF_LEVEL[severity]},
    }


def _first_paragraph(docs: str) -> str:
    """The first paragraph of a rule's docs that is not a heading (its "What it does")."""
    for block in re.split(r"\n\s*\n", docs):
        text = " ".join(
            line.strip() for line in block.splitlines() if not line.lstrip().startswith("#")
        ).strip()
        if text:
            return text
    return ""


def _artifact(path: str) -> dict[str, str]:
    # A relative URI reference: percent-encode spaces, `%`, `#`, `?` and a `:` that would
    # otherwise read as a scheme; keep `/` as the separator.
    return {"uri": quote(path.replace("\\", "/"), safe="/"), "uriBaseId": SARIF_SRCROOT}


def _sarif_result(finding: Finding, rule_index: int, read_source: SourceReader) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _SARIF_LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(finding.path),
                    "region": {
                        "startLine": finding.line,
                        "startColumn": finding.column,
                        "endLine": finding.end_line,
                        # SARIF's endColumn is exclusive; the engine's is inclusive.
                        "endColumn": max(finding.end_column, finding.column) + 1,
                    },
                }
            }
        ],
    }
    if finding.fix is not None:
        result["fixes"] = [_sarif_fix(finding, finding.fix, read_source(finding.path))]
    return result


def _sarif_fix(finding: Finding, fix: Fix, source: str | None) -> dict[str, Any]:
    """The fix as SARIF replacements: the changed lines, and an insertion for imports.

    With the source, regions are exact character ranges over whole lines including their
    line endings. Without it they are line ranges, which SARIF ends before the last line's
    newline; the inserted text drops its final newline to match.
    """
    lines = source_lines(source) if source is not None else None
    if lines is not None and fix.end_line > len(lines):
        lines = None  # the file changed since it was checked: fall back to line ranges
    # The file's own line ending (a CRLF file's fix comes with CRLF), for the imports too.
    newline = "\r\n" if fix.replacement.endswith("\r\n") else "\n"
    block = "".join(f"{stmt}{newline}" for stmt in fix.imports)
    # Where rules.fixes.apply_fix puts the imports: after the edit only when their line
    # follows it, otherwise no lower than the edit's first line.
    at = fix.import_line if fix.import_line > fix.end_line else min(fix.import_line, fix.line)
    text = fix.replacement
    if block and at == fix.line:
        text, block = block + text, ""
    if lines is not None:
        start = sum(len(line) for line in lines[: fix.line - 1])
        length = sum(len(line) for line in lines[fix.line - 1 : fix.end_line])
        region: dict[str, int] = {"charOffset": start, "charLength": length}
    else:
        region = {"startLine": fix.line, "startColumn": 1, "endLine": fix.end_line}
        text = _drop_final_newline(text)
    replacements = [{"deletedRegion": region, "insertedContent": {"text": text}}]
    if block:  # a separate insertion, listed in file order
        insertion = {"deletedRegion": _insertion_region(at, lines),
                     "insertedContent": {"text": block}}
        replacements.insert(0 if at < fix.line else 1, insertion)
    return {
        "description": {"text": SARIF_FIX_DESCRIPTION.format(code=finding.code,
                                                             name=finding.name)},
        "artifactChanges": [
            {"artifactLocation": _artifact(finding.path), "replacements": replacements}
        ],
    }


def _insertion_region(line: int, lines: list[str] | None) -> dict[str, int]:
    """An empty region at the start of `line` (1-based)."""
    if lines is not None:
        return {"charOffset": sum(len(text) for text in lines[: line - 1]), "charLength": 0}
    return {"startLine": line, "startColumn": 1, "endLine": line, "endColumn": 1}


def _drop_final_newline(text: str) -> str:
    for ending in ("\r\n", "\n", "\r"):
        if text.endswith(ending):
            return text[: -len(ending)]
    return text
