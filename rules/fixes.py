"""Turning rule reports into positioned findings and line-based fixes.

Positions and fixes are computed after the walk and only for files that have reports,
so a clean file never pays for libcst's position metadata or code generation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import libcst as cst
from libcst.metadata import CodeRange, MetadataWrapper, PositionProvider

from pystd.rules.context import dotted_name, is_docstring
from pystd.rules.engine import Fix, Report

log = logging.getLogger(__name__)


def resolve_positions(module: cst.Module, reports: Iterable[Report],
                      changed: frozenset[int] | None = None,
                      layout: Layout | None = None) -> None:
    """Fill in 1-based line/column ranges of reports that point at CST nodes.

    libcst's PositionProvider lays out the whole module and costs about twice the parse.
    Reports carry the top-level statement they were found in, so only those statements
    are laid out, each as a one-statement module whose lines are offset by the lines of
    the code before it; within a class or function only the member holding the report
    is (`_narrowed`). A report whose node is not where its hint says falls back to the
    whole module. With `changed` lines (diff scoping), a statement or member no changed
    line reaches is not laid out at all: its reports keep line 0, which no diff touches.
    """
    pending = [r for r in reports if r.node is not None]
    if not pending:
        return
    layout = layout or Layout(module)
    by_top: dict[int, list[Report]] = {}
    rest: list[Report] = []
    for report in pending:
        i = layout.index.get(id(report.top)) if report.top is not None else None
        (by_top.setdefault(i, []) if i is not None else rest).append(report)
    if by_top:
        for i, group in by_top.items():
            stmt = module.body[i]
            cuts: dict[tuple[int, bool], _Cut] = {}
            laid_out: dict[int, Mapping[cst.CSTNode, CodeRange]] = {}
            for report in group:
                cut = _narrowed(module, stmt, report.path, layout.counts, cuts)
                start = layout.offset_at(i) + cut.skipped
                if changed is not None and changed.isdisjoint(
                        range(start + cut.first, start + cut.last + 1)):
                    continue  # no changed line reaches it: left at line 0
                positions = laid_out.get(id(cut.mini))
                if positions is None:
                    wrapper = MetadataWrapper(
                        module.with_changes(body=[cut.mini], header=(), footer=()),
                        unsafe_skip_copy=True)
                    positions = laid_out[id(cut.mini)] = wrapper.resolve(PositionProvider)
                rng = positions.get(report.node)  # type: ignore[arg-type]
                if rng is None:
                    rest.append(report)
                    continue
                _place(report, rng, start)
    if rest:
        positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
        for report in rest:
            _place(report, positions[report.node], 0)  # type: ignore[index]


@dataclass(frozen=True, slots=True)
class _Cut:
    """A top-level statement cut down around one report: `mini` is laid out alone; its
    lines are `skipped` lines off the original's, and the part that holds the report
    lies on lines `first`..`last` of `mini` (1-based)."""

    mini: cst.BaseStatement
    skipped: int
    first: int
    last: int


_PASS = cst.IndentedBlock(body=[cst.SimpleStatementLine(body=[cst.Pass()])])


def _narrowed(module: cst.Module, top: cst.BaseStatement, path: tuple[cst.CSTNode, ...],
              counts: dict[int, list[int]], cuts: dict[tuple[int, bool], _Cut]) -> _Cut:
    """`top` cut down to the class members and function statements on `path` (the nodes
    from `top` to the report). A method deep in a long class is laid out alone, in its
    class and at its own indentation, so its columns are exact and its lines are off by
    the lines cut before it only; a report on a decorator or a `def` line lays out the
    header alone."""
    node: cst.CSTNode = top
    chain: list[tuple[cst.ClassDef | cst.FunctionDef, cst.IndentedBlock]] = []
    skipped = 0
    at = 0  # path[at] is node
    header_only = False
    while (isinstance(node, (cst.ClassDef, cst.FunctionDef))
           and isinstance(node.body, cst.IndentedBlock)
           and at + 1 < len(path) and path[at] is node):
        if path[at + 1] is not node.body:  # a decorator, the name, the parameters ...
            header_only = True
            break
        if at + 2 >= len(path):
            break
        block, child = node.body, path[at + 2]
        index = next((k for k, s in enumerate(block.body) if s is child), None)
        if index is None:
            break
        before = counts.get(id(block))
        if before is None:  # lines before each statement of the block, once per block
            before = counts[id(block)] = [0]
        while len(before) <= index:  # worked out as far as asked (as `Layout.offset_at`)
            before.append(before[-1] + module.code_for_node(block.body[len(before) - 1])
                          .count("\n"))
        skipped += before[index]
        chain.append((node, block))
        node, at = child, at + 2
    key = (id(node), header_only)
    known = cuts.get(key)
    if known is not None:  # another report in the same member: one cut, one layout
        return known
    if header_only:
        assert isinstance(node, (cst.ClassDef, cst.FunctionDef))
        node = node.with_changes(body=_PASS)
    size = module.code_for_node(node).count("\n")
    held = size - 1 if header_only else size  # the `pass` holds nothing
    if not chain and not header_only:
        cut = _Cut(top, 0, 1, size)
    else:
        mini = node
        for parent, block in reversed(chain):
            mini = parent.with_changes(body=block.with_changes(body=[mini]))
        assert isinstance(mini, cst.BaseStatement)
        footers = sum(len(block.footer) for _, block in chain)
        lead = module.code_for_node(mini).count("\n") - size - footers
        cut = _Cut(mini, skipped, lead + 1, lead + held)
    cuts[key] = cut
    return cut


def _place(report: Report, rng: object, line_offset: int) -> None:
    start, end = rng.start, rng.end  # type: ignore[attr-defined]
    report.line, report.column = start.line + line_offset, start.column + 1
    report.end_line, report.end_column = end.line + line_offset, max(end.column, 1)


class Layout:
    """Where one parsed file's top-level statements start, worked out as far as asked and
    once: what its report positions, its fixes and the change rules' line numbers share,
    so that each lays out only the statement or member it needs (linear in the file, not
    reports x file). Also the cut-down statements' line counts of `_narrowed` and what the
    module's imports bind."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        self.index = {id(stmt): i for i, stmt in enumerate(module.body)}
        self.counts: dict[int, list[int]] = {}
        self._offsets: list[int] = [sum(1 for _ in module.header)]
        self._imported: frozenset[tuple[str, str]] | None = None

    @property
    def imported(self) -> frozenset[tuple[str, str]]:
        """What the module's top-level imports bind."""
        if self._imported is None:
            self._imported = _imported(self.module)
        return self._imported

    def offset_at(self, i: int) -> int:
        """Lines before top-level statement `i`: the header, then each statement's own
        code, leading blank and comment lines included."""
        offsets, body = self._offsets, self.module.body
        while len(offsets) <= i:
            offsets.append(offsets[-1] + self.module.code_for_node(body[len(offsets) - 1])
                           .count("\n"))
        return offsets[i]

    def offset(self, top: cst.CSTNode) -> int | None:
        """Lines before the top-level statement `top` (None: not one of the module's)."""
        i = self.index.get(id(top))
        return None if i is None else self.offset_at(i)


def build_fix(module: cst.Module, source_lines: list[str], report: Report,
              layout: Layout | None = None) -> Fix | None:
    """The smallest run of whole lines that changes when the replacement is applied.

    Only the class member or statement holding the replaced node is regenerated (see
    `_narrowed`); a replacement that reaches outside it regenerates the module."""
    if report.replacement is None:
        return None
    old, new = report.replacement
    layout = layout or Layout(module)
    span = _local_change(module, source_lines, report, layout)
    if span is None:
        try:
            # libcst's annotation says a node, but a RemovalSentinel removes `old`, as intended.
            new_code = module.deep_replace(old, new)  # type: ignore[type-var]
            assert isinstance(new_code, cst.Module)
            span = _changed_span(source_lines, new_code.code.splitlines(keepends=True), 0)
        except Exception as exc:  # a rule built an invalid tree: no fix rather than a bad one
            log.debug("%s: fix dropped: %s", report.rule.code, exc)
            return None
    if span is None:
        return None
    start, end_old, replacement = span
    missing = tuple(i for i in dict.fromkeys(report.imports)
                    if not _has_import(module, i, layout))
    return Fix(
        line=start + 1,
        end_line=max(end_old, start + 1),
        replacement=replacement,
        imports=missing,
        import_line=import_insert_line(module) if missing else 1,
        safe=type(report.rule).fix_safe,
    )


def _local_change(module: cst.Module, source_lines: list[str], report: Report,
                  layout: Layout) -> tuple[int, int, str] | None:
    """The fix worked out on the member or statement holding the replaced node, laid out
    alone at its real indentation (None: do it on the whole module)."""
    assert report.replacement is not None
    old, new = report.replacement
    if old is module:
        return _module_change(module, source_lines, new, layout)
    path = report.path
    if report.top is None or not path or path[0] is not report.top:
        return None
    held = next((k for k, node in enumerate(path) if node is old), None)
    if held is None:
        return None
    offset = layout.offset(report.top)
    if offset is None:
        return None
    cut = _narrowed(module, report.top, path[: held + 1], layout.counts, {})  # type: ignore[arg-type]
    mini = module.with_changes(body=[cut.mini], header=(), footer=())
    try:
        fixed = mini.deep_replace(old, new)  # type: ignore[type-var]  # (a RemovalSentinel too)
        assert isinstance(fixed, cst.Module)
        before, after = mini.code.splitlines(keepends=True), fixed.code.splitlines(keepends=True)
    except Exception as exc:  # an invalid tree: let the whole-module path decide
        log.debug("%s: local fix failed: %s", report.rule.code, exc)
        return None
    span = _changed_span(before, after, 0)
    if span is None:
        return None
    start, end, replacement = span
    if start + 1 < cut.first or max(end, start + 1) > cut.last:
        return None  # the change reaches the lines of the enclosing headers
    shift = offset + cut.skipped
    original = source_lines[start + shift: end + shift]
    if original != before[start:end]:
        return None  # the cut does not line up with the file (never expected)
    return start + shift, end + shift, replacement


def _module_change(module: cst.Module, source_lines: list[str], new: object,
                   layout: Layout) -> tuple[int, int, str] | None:
    """A replacement of the whole module that keeps most of its statements (an import
    split in two): only the statements between the kept prefix and suffix are
    regenerated (None: not that shape, do it on the whole module)."""
    if not isinstance(new, cst.Module) or (new.header, new.footer) != (
            module.header, module.footer):
        return None
    old_body, new_body = module.body, new.body
    first = 0
    while (first < min(len(old_body), len(new_body))
           and old_body[first] is new_body[first]):
        first += 1
    end_old, end_new = len(old_body), len(new_body)
    while end_old > first and end_new > first and old_body[end_old - 1] is new_body[end_new - 1]:
        end_old -= 1
        end_new -= 1
    if first == end_old:  # statements only added: anchor on the one before, if any
        if first == 0:
            return None
        first -= 1
    offset = layout.offset(old_body[first])
    assert offset is not None
    before = "".join(module.code_for_node(s) for s in old_body[first:end_old])
    after = "".join(module.code_for_node(s) for s in new_body[first:end_new])
    before_lines = before.splitlines(keepends=True)
    if source_lines[offset: offset + len(before_lines)] != before_lines:
        return None  # the cut does not line up with the file (never expected)
    return _changed_span(before_lines, after.splitlines(keepends=True), offset)


def _changed_span(old: list[str], new: list[str], base: int
                  ) -> tuple[int, int, str] | None:
    """(first changed line, end of the changed old lines, their new text), 0-based from
    `base`; a pure insertion is anchored on the line before it."""
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old -= 1
        end_new -= 1
    if end_old <= start:  # pure insertion: anchor it on the line before
        if start == 0:
            return None
        start -= 1
    return base + start, base + max(end_old, start + 1), "".join(new[start:end_new])


def _has_import(module: cst.Module, statement: str, layout: Layout | None = None) -> bool:
    """Does the module already bind what `statement` (e.g. `import asyncio`) binds?"""
    parsed = cst.parse_statement(statement)
    assert isinstance(parsed, cst.SimpleStatementLine)
    wanted = parsed.body[0]
    assert isinstance(wanted, (cst.Import, cst.ImportFrom))
    return _bound(wanted) <= (layout or Layout(module)).imported


def _imported(module: cst.Module) -> frozenset[tuple[str, str]]:
    """(bound name, source) pairs of the module's top-level imports."""
    out: set[tuple[str, str]] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    out |= _bound(small)
    return frozenset(out)


def _bound(stmt: cst.Import | cst.ImportFrom) -> set[tuple[str, str]]:
    """(bound name, source) pairs an import statement creates."""
    out: set[tuple[str, str]] = set()
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted_name(alias.name) or ""
            bound = alias.evaluated_alias or full.split(".")[0]
            out.add((bound, full if alias.asname else bound))
        return out
    if isinstance(stmt.names, cst.ImportStar):
        return out
    base = "." * len(stmt.relative) + ((dotted_name(stmt.module) or "") if stmt.module else "")
    for alias in stmt.names:
        name = dotted_name(alias.name) or ""
        out.add((alias.evaluated_alias or name, f"{base}.{name}"))
    return out


def import_insert_line(module: cst.Module) -> int:
    """1-based line before which a new top-level import goes: after the last import of
    the module's leading block (docstring, `__future__` and other imports), else after
    the docstring, else line 1."""
    line = 1
    seen_header = 0
    for stmt in module.body:
        is_import = isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
        )
        is_doc = seen_header == 0 and is_docstring(stmt)
        if not (is_import or is_doc):
            break
        seen_header += 1
    if seen_header:
        header = cst.Module(body=module.body[:seen_header], header=module.header,
                            default_newline=module.default_newline,
                            default_indent=module.default_indent)
        line = header.code.count("\n") + 1
    else:  # after the shebang/encoding/licence comment block
        line = len(module.header) + 1
    return line


def apply_fix(source: str, fix: Fix) -> str:
    """The source with `fix` applied, including its import insertions."""
    lines = source.splitlines(keepends=True)
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += "\n"
    newline = "\r\n" if fix.replacement.endswith("\r\n") else "\n"  # a CRLF file stays CRLF
    block = "".join(f"{i}{newline}" for i in fix.imports)
    at = fix.import_line - 1
    if block and at >= fix.end_line:  # the insertion lies below the edit: do it first
        lines[at:at] = [block]
        block = ""
    lines[fix.line - 1 : fix.end_line] = [fix.replacement]
    if block:
        at = min(at, fix.line - 1)
        lines[at:at] = [block]
    return "".join(lines)
