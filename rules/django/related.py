"""The relation fields of the Django models that a change's models modules declare, for
PYS209 to see N+1 loops in the views of the same change over models it imports.

The engine checks one file at a time; a view's loop over `Book.objects.all()` reading
`book.author.name` needs to know that `author` is a `ForeignKey` of `Book`, declared in
`shop/models.py`. When that module is part of the change, `change_models` reads it (with
`ast`: it runs in the caller's process, before the engine's workers start, and must be
cheap) and the engine hands the result to every file of the change
(`FileContext.change_models`).
"""

from __future__ import annotations

import ast
from pathlib import PurePosixPath

from pystd.rules.change.base import Change, ChangeModel
from pystd.rules.change.migrations import model_app, uses_django_models
from pystd.rules.limits import parseable

# Must match PYS209's own notion of a relation (`rules.django.queries.RELATION_FIELDS`).
_RELATIONS = frozenset({"ForeignKey", "OneToOneField"})


def with_inherited(declared: dict[str, set[str]], parents: dict[str, list[str]]
                   ) -> dict[str, frozenset[str]]:
    """Each class's relation fields with those of the classes of the same module it
    derives from (a cycle of bases is followed once); classes with none are left out."""

    def inherited(name: str, seen: frozenset[str]) -> set[str]:
        out = set(declared.get(name, ()))
        for parent in parents.get(name, ()):
            if parent in declared and parent not in seen:
                out |= inherited(parent, seen | {parent})
        return out

    relations = {name: frozenset(inherited(name, frozenset({name}))) for name in declared}
    return {name: fields for name, fields in relations.items() if fields}


def _callee(node: ast.expr) -> str | None:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else None


def declared_relations(text: str) -> dict[str, frozenset[str]]:
    """Top-level classes of a models module -> their `ForeignKey`/`OneToOneField` fields,
    with those inherited from another class of the module. Classes without any are left
    out; a text that does not parse declares nothing."""
    if not parseable(text):
        return {}
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError):
        return {}
    declared: dict[str, set[str]] = {}
    parents: dict[str, list[str]] = {}
    for stmt in tree.body:
        if not isinstance(stmt, ast.ClassDef):
            continue
        fields: set[str] = set()
        for item in stmt.body:
            value = item.value if isinstance(item, (ast.Assign, ast.AnnAssign)) else None
            if not (isinstance(value, ast.Call) and _callee(value.func) in _RELATIONS):
                continue
            targets = (item.targets if isinstance(item, ast.Assign)
                       else [item.target] if isinstance(item, ast.AnnAssign) else [])
            fields.update(t.id for t in targets if isinstance(t, ast.Name))
        declared[stmt.name] = fields
        parents[stmt.name] = [b.id for b in stmt.bases if isinstance(b, ast.Name)]

    return with_inherited(declared, parents)


def dotted_module(path: str) -> str:
    """`src/shop/models.py` -> `src.shop.models`; `shop/models/__init__.py` -> `shop.models`."""
    p = PurePosixPath(path)
    parts = [*p.parts[:-1], p.stem] if p.stem != "__init__" else list(p.parts[:-1])
    return ".".join(parts)


def change_models(change: Change) -> tuple[ChangeModel, ...]:
    """The models with relation fields that the change's Django models modules declare."""
    out: list[ChangeModel] = []
    for f in change.python_files():
        text = f.text or ""
        if model_app(f.path) is None or not uses_django_models(text):
            continue
        module = dotted_module(f.path)
        out.extend((module, name, fields) for name, fields in
                   sorted(declared_relations(text).items()))
    return tuple(out)


def import_module_of(target: str, path: str) -> str:
    """The absolute module of an imported name's target (`.models.Book` imported in
    `shop/views.py` -> `shop.models`)."""
    module = target.rpartition(".")[0]
    if not target.startswith("."):
        return module
    dots = len(target) - len(target.lstrip("."))
    package = list(PurePosixPath(path).parts[:-1])
    if dots > 1:
        package = package[:len(package) - (dots - 1)]
    rest = module.lstrip(".")
    return ".".join([*package, *([rest] if rest else [])])


def same_module(imported: str, declared: str) -> bool:
    """Is the module an import names (`shop.models`) the models module a change path
    gives (`src/shop/models.py` -> `src.shop.models`)? Also a module of a `models`
    package whose `__init__` re-exports its classes (`shop.models.book`)."""
    candidates = [declared]
    parent, _, _ = declared.rpartition(".")
    if parent.rpartition(".")[2] == "models":
        candidates.append(parent)
    return any(c == imported or c.endswith("." + imported) for c in candidates)
