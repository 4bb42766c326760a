"""rules/ is a tree, not a knot: no two of its modules import each other, directly or
round a loop (counting imports inside functions too), and the engine imports no rule; the
catalogue finds every rule module, listed by its package or not."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from pystd.rules.catalogue import all_rules

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return "pystd." + ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in RULES.rglob("*.py")}


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def imports_of(name: str) -> set[str]:
    """The rules modules `name` imports: `from pkg import mod` names the module `mod`,
    `from pkg import value` the package `pkg`."""
    tree = ast.parse(MODULES[name].read_text())
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if _type_checking_only(node, parents):
            continue
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name in MODULES)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                out.add(full if full in MODULES else node.module)
    return {m for m in out if m in MODULES and m != name}


def cycle() -> list[str] | None:
    """One import loop among the rules modules, or None."""
    graph = {name: imports_of(name) for name in MODULES}
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            if nxt not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state and (found := visit(start)) is not None:
            return found
    return None


def test_no_module_of_rules_imports_itself_round_a_loop():
    assert cycle() is None


def test_the_engine_imports_no_rule():
    assert imports_of("pystd.rules.engine") <= {"pystd.rules.versions"}


def test_every_module_that_registers_a_rule_is_found():
    declared = {m for m, p in MODULES.items()
                if re.search(r"^@register$", p.read_text(), re.MULTILINE)}
    found = {cls.__module__ for cls in all_rules().values()}
    assert declared == found

