"""Check one file's text, or many files in worker processes.

`check_source` is a pure function of (path, bytes, rules, changed lines; the project's
framework versions come with the rules): it is what the
CLI and the GitHub App both run, in a process pool, so the event loop never blocks.
"""

from __future__ import annotations

import ast
import gc
import os
import signal
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from pystd.rules.change.base import FileChange, change_facts, wants_facts
from pystd.rules.context import FileContext, module_kind
from pystd.rules.engine import Finding, LineRule, Report, Rule, RuleSet
from pystd.rules.fixes import Layout, build_fix, resolve_positions
from pystd.rules.limits import MAX_FILE_BYTES, TOO_DEEP, too_deep
from pystd.rules.suppress import ignores_file, is_suppressed, noqa_lines
from pystd.rules.walker import walk

CRASHED = "the analysis process died on this file ({how})"


@dataclass(frozen=True)
class FileResult:
    """The outcome of checking one file: findings, or why it was skipped."""

    path: str
    findings: tuple[Finding, ...] = ()
    skipped: str | None = None
    lines: int = 0
    # The analysis itself failed (too deep for the parser, a crash, the time limit): the
    # file was not checked, which is never a pass (unlike binary or empty files).
    failed: bool = False
    # The change rules' facts of this file (rules/change/base.py), when asked for.
    facts: dict[str, object] | None = None


@dataclass(frozen=True)
class FileInput:
    """One file to analyse, as the CLI and the App hand it over: its path, its bytes
    (None: a path of the change that is not checked, such as a removed file, one that is
    not Python or one that could not be read) and the lines the change added (None: check
    the whole file). In a change (rules/pipeline.py), how the file changed: its status,
    its path before a rename and its text before the change (None: added, or not known).
    """

    path: str
    data: bytes | None
    changed: frozenset[int] | None = None
    status: str = "modified"
    previous_path: str | None = None
    old_text: str | None = None
    # Set by the pipeline on a worker's task: how the file changed, so that the engine
    # works out the change rules' facts from its parse too.
    change: FileChange | None = None


@dataclass
class _Prepared:
    text: str
    reason: str | None = None
    lines: int = 0
    extra: list[Finding] = field(default_factory=list)


def decode(data: bytes) -> tuple[str | None, str | None]:
    """(text, None) or (None, reason) for binary, empty, huge or non-UTF-8 data."""
    if not data.strip():
        return None, "empty file"
    if len(data) > MAX_FILE_BYTES:
        return None, f"larger than {MAX_FILE_BYTES // 1_000_000} MB"
    if b"\x00" in data[:8192]:
        return None, "binary file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None, "not valid UTF-8"
    return text, None


def is_checkable(path: str) -> bool:
    """Python files, and template files under a `templates/` folder."""
    return path.endswith((".py", ".pyi")) or module_kind(path).is_template


def check_source(path: str, data: bytes | str, rules: RuleSet,
                 changed: frozenset[int] | None = None,
                 change: FileChange | None = None) -> FileResult:
    """All selected rules over one file, and with `change` the change rules' facts of it
    from the same parse. Never raises for bad input.

    Python's cyclic garbage collector is paused for the file: libcst builds hundreds of
    thousands of objects per parse, all alive until the file is done, and the collections
    they trigger cost about a tenth of the parse for nothing (a tree holds no cycles). What
    the file leaves behind is collected as usual once it is resumed."""
    if not gc.isenabled():
        return _check_source(path, data, rules, changed, change)
    gc.disable()
    try:
        return _check_source(path, data, rules, changed, change)
    finally:
        gc.enable()


def _check_source(path: str, data: bytes | str, rules: RuleSet,
                  changed: frozenset[int] | None, change: FileChange | None) -> FileResult:
    if isinstance(data, str):
        text: str | None = data
        reason = None if data.strip() else "empty file"
    else:
        text, reason = decode(data)
    if text is None or reason is not None:
        return FileResult(path, skipped=reason)
    line_count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if ignores_file(text):
        return FileResult(path, skipped="pystd: ignore-file", lines=line_count)
    kind = module_kind(path, text)
    python = not kind.is_template
    if python and not path.endswith((".py", ".pyi")):
        return FileResult(path, skipped="not a Python or template file", lines=line_count)
    module: cst.Module | None = None
    if python and too_deep(text):
        return FileResult(path, skipped=TOO_DEEP, lines=line_count, failed=True)
    if python:
        try:
            module = cst.parse_module(text)
        except cst.ParserSyntaxError as exc:
            return _unparsable(path, text, exc, rules, line_count)
        except (RecursionError, ValueError) as exc:  # libcst's limits, not the user's
            return FileResult(path, skipped=f"could not be parsed: {exc}", lines=line_count,
                              failed=True)
    ctx = FileContext(path, text, module)
    ctx.versions = rules.versions
    if change is not None:
        ctx.change_models = change.models
    active = _active_rules(ctx, rules, python)
    findings: tuple[Finding, ...] = ()
    facts = None
    try:
        if module is not None and active:
            walk(module, ctx, [r for r in active if not isinstance(r, LineRule)])
        elif active:
            lines = text.splitlines()
            for rule in active:
                assert isinstance(rule, LineRule)
                rule.check_lines(lines)
        if active:
            findings = _finalise(ctx, module, text, rules, changed)
        if change is not None and module is not None and wants_facts(rules):
            facts = change_facts(path, text, module, changed, change, rules)
    except RecursionError:  # libcst's recursive code generation on huge expressions
        return FileResult(path, skipped=TOO_DEEP, lines=line_count, failed=True)
    return FileResult(path, findings, lines=line_count, facts=facts)


def _active_rules(ctx: FileContext, rules: RuleSet, python: bool) -> list[Rule]:
    kind = "python" if python else "template"
    active = []
    for cls in rules:
        if cls.file_kind != kind:
            continue
        if ctx.kind.is_test and not cls.run_on_tests:
            continue
        if cls.requires and not any(word in ctx.source for word in cls.requires):
            continue
        if not cls.applies(ctx):
            continue
        active.append(cls(ctx))
    return active


def _finalise(ctx: FileContext, module: cst.Module | None, text: str, rules: RuleSet,
              changed: frozenset[int] | None) -> tuple[Finding, ...]:
    reports = ctx.reports
    if not reports:
        return ()
    layout = Layout(module) if module is not None else None
    if module is not None:
        resolve_positions(module, reports, changed, layout)
    noqa = noqa_lines(text, python=module is not None)
    source_lines = text.splitlines(keepends=True)
    seen: set[tuple[str, int, int]] = set()
    out: list[Finding] = []
    for report in sorted(reports, key=lambda r: (r.line, r.column, r.rule.code)):
        rule = type(report.rule)
        key = (rule.code, report.line, report.column)
        if key in seen:
            continue
        seen.add(key)
        if changed is not None and not _touches(report, changed):
            continue
        if is_suppressed(rule.code, (report.line, report.end_line), noqa):
            continue
        if not report.evidence and not rules.reports_without_evidence(rule.code):
            continue
        fix = build_fix(module, source_lines, report, layout) if module is not None else None
        out.append(_finding(ctx.path, report, rules, fix))
    return tuple(out)


def _touches(report: Report, changed: frozenset[int]) -> bool:
    return any(line in changed for line in range(report.line, report.end_line + 1))


def _finding(path: str, report: Report, rules: RuleSet, fix: object) -> Finding:
    rule = type(report.rule)
    return Finding(
        code=rule.code,
        name=rule.name,
        severity=rules.severity_of(rule, report.severity),
        path=path,
        line=report.line,
        column=report.column,
        end_line=report.end_line,
        end_column=report.end_column,
        message=report.message,
        fix=fix,  # type: ignore[arg-type]
    )


def _unparsable(path: str, text: str, exc: cst.ParserSyntaxError, rules: RuleSet,
                line_count: int) -> FileResult:
    """One finding of the rule that reports unparsable files (PYS000), worded and placed as CPython's own parser reports the error
    (clearer than libcst's); code CPython accepts but libcst cannot read is skipped."""
    line, column, detail = exc.raw_line, exc.raw_column + 1, exc.message
    try:
        compile(text, path, "exec", ast.PyCF_ONLY_AST, dont_inherit=True)
    except SyntaxError as err:
        line, column, detail = err.lineno or line, err.offset or column, err.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        return FileResult(path, skipped=f"syntax libcst cannot parse: {exc.message}",
                          lines=line_count)
    syntax = next((r for r in rules if r.file_kind == "unparsable"), None)
    if syntax is None:
        return FileResult(path, lines=line_count)
    # Test suites keep deliberately broken modules as fixtures (a linter's, a parser's
    # tests): a finding there is noise, so a test file is only listed as not checked.
    if module_kind(path).is_test and not syntax.run_on_tests:
        return FileResult(path, skipped=f"a test file that does not parse: {detail} "
                          f"(line {line})", lines=line_count)
    finding = Finding(
        code=syntax.code, name=syntax.name, severity=rules.severity_of(syntax), path=path,
        line=line, column=column, end_line=line, end_column=column,
        message=f"{syntax.message}: {detail} (line {line})",
    )
    return FileResult(path, (finding,), lines=line_count)


# -- many files -------------------------------------------------------------------------

_WORKER_RULES: RuleSet | None = None


def _init_worker(rules: RuleSet) -> None:
    global _WORKER_RULES
    _WORKER_RULES = rules


def check_item(item: FileInput, rules: RuleSet) -> FileResult:
    """`check_source` of one FileInput: what a worker process runs per file."""
    if item.data is None:
        return FileResult(item.path, skipped="not read")
    return check_source(item.path, item.data, rules, item.changed, item.change)


def _check_in_worker(file_check: Callable[[FileInput, RuleSet], FileResult],
                     item: FileInput) -> FileResult:
    assert _WORKER_RULES is not None
    return file_check(item, _WORKER_RULES)


def check_inputs(items: Sequence[FileInput], rules: RuleSet, jobs: int | None = None, *,
                 file_check: Callable[[FileInput, RuleSet], FileResult] = check_item,
                 on_result: Callable[[FileResult], None] | None = None,
                 ) -> list[FileResult]:
    """Check many files, in `jobs` worker processes (default: one per CPU), one task per
    file: a file that crashes its worker (a native crash in the parser) comes back as a
    failed result and the others are checked as usual. `file_check` is what a worker runs
    per file (tests pass one that crashes on purpose). `on_result` hears of each result
    as it comes (the CLI's progress bar)."""
    jobs = jobs or os.cpu_count() or 1
    done = on_result or (lambda result: None)
    if jobs <= 1 or len(items) < 2:
        serial = []
        for i in items:
            serial.append(file_check(i, rules))
            done(serial[-1])
        return serial
    from pebble import ProcessExpired, ProcessPool  # only when there are workers to run

    results = []
    with ProcessPool(max_workers=min(jobs, len(items)), initializer=_init_worker,
                     initargs=(rules,)) as pool:
        futures = [pool.schedule(_check_in_worker, (file_check, item)) for item in items]
        for item, future in zip(items, futures, strict=True):
            try:
                results.append(future.result())
            except ProcessExpired as exc:
                reason = CRASHED.format(how=how_it_ended(exc.exitcode))
                results.append(FileResult(item.path, skipped=reason, failed=True))
            done(results[-1])
    return results


def how_it_ended(exitcode: int | None) -> str:
    """How a worker process ended, for the "not checked" list: the signal's name (a
    negative exit code, as multiprocessing reports it) or the exit code."""
    code = exitcode or 0
    try:
        return signal.Signals(-code).name if code < 0 else f"exit code {code}"
    except ValueError:
        return f"signal {-code}"


def discover(paths: Iterable[Path], root: Path) -> list[Path]:
    """Python and template files under `paths`, skipping hidden and virtualenv folders;
    each file once, however many of `paths` reach it (`pystd check src src/api`, `d.py
    ./d.py`): checked twice, its findings would be reported twice and `--fix` would apply
    the second copy's fixes to the already fixed file."""
    skip_dirs = {".git", ".hg", ".venv", "venv", "env", "node_modules", "__pycache__",
                 ".tox", ".nox", ".mypy_cache", ".ruff_cache", "build", "dist", "site-packages"}
    out: list[Path] = []
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key not in seen and is_checkable(_relative(path, root)):
            seen.add(key)
            out.append(path)

    for path in paths:
        if path.is_file():
            add(path)
            continue
        for dirpath, dirnames, filenames in os.walk(path):
            dirnames[:] = sorted(d for d in dirnames if d not in skip_dirs and not d.startswith("."))
            for name in sorted(filenames):
                add(Path(dirpath, name))
    return out


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
