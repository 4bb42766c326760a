"""Reports are placed exactly where libcst's whole-module layout puts them, though the
engine lays out only the statement, class member or function statement holding each."""

from __future__ import annotations

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from pystd.rules.engine import Report, Rule
from pystd.rules.fixes import resolve_positions

SOURCE = '''"""Module docstring."""
import os


@decorator(
    option=1,
)
class Orders(Base):  # a comment
    """Docstring
    over lines."""

    # a comment before a member
    limit = compute(1)

    def first(self, request):
        text = """a string
    that spans lines"""
        return call(text)

    @property
    def second(self):
        if self.ready:
            for item in items():
                use(item)
        else:
            other()

        return done()

    class Meta:
        ordering = make("x")


def tail(x): return helper(x)


async def run():
    async with lock():
        await work(
            1,
        )
'''


class _Rule(Rule):
    code = "PYS999"
    name = "test-rule"
    message = "m"


def reports_on_calls(module: cst.Module) -> list[Report]:
    """A report on every call, with the walker's hints (top-level statement, path)."""
    out: list[Report] = []

    class Walk(cst.CSTVisitor):
        def __init__(self) -> None:
            self.stack: list[cst.CSTNode] = []

        def on_visit(self, node: cst.CSTNode) -> bool:
            self.stack.append(node)
            if isinstance(node, cst.Call):
                out.append(Report(_Rule.__new__(_Rule), node, "m", top=self.stack[1],
                                  path=tuple(self.stack[1:])))
            return True

        def on_leave(self, original_node: cst.CSTNode) -> None:
            self.stack.pop()

    module.visit(Walk())
    return out


def places(reports: list[Report]) -> list[tuple[int, int, int, int]]:
    return [(r.line, r.column, r.end_line, r.end_column) for r in reports]


def whole_module(module: cst.Module, reports: list[Report]) -> list[tuple[int, int, int, int]]:
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return [(p.start.line, p.start.column + 1, p.end.line, max(p.end.column, 1))
            for p in (positions[r.node] for r in reports)]


def test_every_report_is_placed_as_the_whole_module_layout_places_it():
    module = cst.parse_module(SOURCE)
    reports = reports_on_calls(module)
    assert len(reports) == 11
    resolve_positions(module, reports)
    assert places(reports) == whole_module(module, reports)


def test_a_misleading_hint_falls_back_to_the_whole_module():
    module = cst.parse_module(SOURCE)
    reports = reports_on_calls(module)
    wrong = [Report(r.rule, r.node, "m", top=reports[0].top, path=reports[0].path)
             for r in reports]
    resolve_positions(module, wrong)
    assert places(wrong) == whole_module(module, reports)


@pytest.mark.parametrize("changed", [{17}, {18}, {24, 25}, {5}, {31}, {1, 2}, set()])
def test_with_changed_lines_only_reports_that_can_touch_them_are_placed(changed):
    module = cst.parse_module(SOURCE)
    reports = reports_on_calls(module)
    expected = whole_module(module, reports)
    resolve_positions(module, reports, frozenset(changed))
    for report, want in zip(reports, expected, strict=True):
        got = (report.line, report.column, report.end_line, report.end_column)
        if any(n in changed for n in range(want[0], want[2] + 1)):
            assert got == want  # on the diff: placed exactly
        else:
            assert got in (want, (0, 0, 0, 0))  # off it: exact, or not laid out at all


def test_members_and_statements_off_the_diff_are_not_laid_out():
    module = cst.parse_module(SOURCE)
    reports = reports_on_calls(module)
    resolve_positions(module, reports, frozenset({18}))  # in Orders.first
    placed = {r.node.func.value for r in reports if r.line}  # type: ignore[union-attr]
    assert placed == {"call"}


def test_reports_in_the_same_member_share_one_layout(monkeypatch):
    from pystd.rules import fixes

    layouts = []

    class Counting(MetadataWrapper):
        def __init__(self, module: cst.Module, *args: object, **kwargs: object) -> None:
            layouts.append(module)
            super().__init__(module, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(fixes, "MetadataWrapper", Counting)
    module = cst.parse_module(SOURCE)
    reports = reports_on_calls(module)
    resolve_positions(module, reports)
    # 11 calls in 8 places: the decorator, `limit`, `first`'s return, `second`'s `if`
    # (3 calls) and return, `Meta`, `tail`, `run`'s `async with` (2 calls).
    assert len(layouts) == 8
    monkeypatch.undo()
    assert places(reports) == whole_module(module, reports)
