"""A fix is worked out on the class member or statement that holds it (linear in the
file, not fixes x file) and is exactly the fix the whole module would give."""

from __future__ import annotations

import dataclasses

import libcst as cst
import pytest

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.context import FileContext
from pystd.rules.engine import LineRule, example_of
from pystd.rules.fixes import Layout, build_fix, resolve_positions
from pystd.rules.runner import _active_rules
from pystd.rules.walker import walk

CASES = [(rule, example_of(ex)) for rule in all_rules().values()
         if rule.file_kind == "python" for ex in rule.bad]


def reports_of(path: str, text: str, code: str):
    module = cst.parse_module(text)
    ctx = FileContext(path, text, module)
    active = [r for r in _active_rules(ctx, select_rules([code]), python=True)
              if not isinstance(r, LineRule)]
    walk(module, ctx, active)
    resolve_positions(module, ctx.reports)
    return module, [r for r in ctx.reports if r.replacement is not None]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c[0].code}-{c[1].path}")
def test_local_fix_equals_the_whole_module_fix(case):
    rule, ex = case
    module, reports = reports_of(ex.path, ex.code, rule.code)
    lines = ex.code.splitlines(keepends=True)
    layout = Layout(module)
    for report in reports:
        local = build_fix(module, lines, report, layout)
        whole = build_fix(module, lines, dataclasses.replace(report, top=None))
        assert local == whole


def test_a_fix_deep_in_a_long_class_regenerates_only_its_method(monkeypatch):
    methods = "".join(f"    def m{i}(self):\n        return {i}\n\n" for i in range(200))
    text = (f"import time\n\n\nclass Service:\n{methods}"
            "    async def slow(self):\n        time.sleep(1)\n")
    module, (report,) = reports_of("svc.py", text, "PYS101")
    generated: list[int] = []
    real = cst.Module.code.fget

    def counting(self: cst.Module) -> str:
        code = real(self)
        generated.append(code.count("\n"))
        return code

    monkeypatch.setattr(cst.Module, "code", property(counting))
    fix = build_fix(module, text.splitlines(keepends=True), report, Layout(module))
    assert fix is not None and fix.replacement == "        await asyncio.sleep(1)\n"
    assert fix.line == text.count("\n")  # the last line
    assert generated and max(generated) < 10  # the method alone, never the 600-line class
