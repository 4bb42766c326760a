"""What every rule may ask about the file being checked.

One `FileContext` per file, shared by all rules of the single traversal: module kind,
import aliases (qualified names), the stack of enclosing nodes, "inside async code",
and handler detection for each framework. Rules call these helpers instead of
rewriting them.
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.engine import Report
from pystd.rules.versions import Versions
from pystd.rules.walker import find_nodes

_BUILTINS = frozenset(dir(builtins))

FRAMEWORKS = ("django", "flask", "fastapi", "starlette", "ninja", "rest_framework")
# HTTP-method decorators shared by Flask 2+, FastAPI, Starlette routers and Ninja.
ROUTE_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "trace", "api_route", "route",
     "websocket", "api_operation"}
)
DJANGO_VIEW_DECORATORS = frozenset(
    {
        "rest_framework.decorators.api_view",
        "django.views.decorators.http.require_http_methods",
        "django.views.decorators.http.require_GET",
        "django.views.decorators.http.require_POST",
        "django.views.decorators.http.require_safe",
    }
)


@dataclass(frozen=True)
class ModuleKind:
    """What a file is, from its path (and for settings, its text)."""

    path: str
    is_test: bool
    is_settings: bool
    is_urls: bool
    is_views: bool
    is_migration: bool
    is_management_command: bool
    is_template: bool

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem


TEMPLATE_SUFFIXES = (".html", ".txt", ".jinja", ".jinja2", ".j2")
# Folders of test code; so is any folder named `test_*` (`test_utils/`, `test_project/`).
TEST_FOLDERS = frozenset({"tests", "test", "testing", "testutils"})


def module_kind(path: str, source: str = "") -> ModuleKind:
    """Classify a file by its repository-relative `path` (and `source` for settings)."""
    p = PurePosixPath(path.replace("\\", "/"))
    parts = p.parts[:-1]
    name = p.name
    is_test = (
        name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
        or name == "tests.py"
        or any(part in TEST_FOLDERS or part.startswith("test_") for part in parts)
    )
    is_settings = name == "settings.py" or (parts and parts[-1] == "settings") or (
        name.endswith(".py") and "INSTALLED_APPS" in source and "INSTALLED_APPS =" in source
    )
    return ModuleKind(
        path=str(p),
        is_test=is_test,
        is_settings=bool(is_settings),
        is_urls=name == "urls.py",
        is_views=name == "views.py" or "views" in parts,
        is_migration="migrations" in parts,
        is_management_command="management" in parts and "commands" in parts,
        is_template="templates" in parts and name.endswith(TEMPLATE_SUFFIXES),
    )


def is_docstring(stmt: cst.CSTNode) -> bool:
    """A statement that is a string literal alone (in first place: a docstring)."""
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def bound_names(target: cst.BaseExpression) -> list[str]:
    """The names an assignment or `for` target binds (`a`, `a, (b, *c)`); attributes and
    items bind none."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, (cst.Tuple, cst.List)):
        return [n for el in target.elements for n in bound_names(el.value)]
    if isinstance(target, cst.StarredElement):
        return bound_names(target.value)
    return []


def local_bindings(func: cst.FunctionDef | cst.Lambda) -> frozenset[str]:
    """Names a function binds itself, other than by `import`: its parameters, assignment,
    `for`, `with ... as`, `except ... as` and `:=` targets, and nested `def`/`class` names
    (not looking into nested functions or classes, which have scopes of their own)."""
    params = func.params
    names = {p.name.value for p in (*params.posonly_params, *params.params,
                                    *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, cst.Assign):
            for target in node.targets:
                names.update(bound_names(target.target))
        elif isinstance(node, (cst.AnnAssign, cst.AugAssign, cst.For, cst.NamedExpr)):
            names.update(bound_names(node.target))
        elif isinstance(node, cst.WithItem) and node.asname is not None:
            names.update(bound_names(node.asname.name))
        elif isinstance(node, cst.ExceptHandler) and node.name is not None:
            names.update(bound_names(node.name.name))
        elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            names.add(node.name.value)
            continue
        elif isinstance(node, (cst.Lambda, cst.BaseComp)):
            continue  # their own scopes (a comprehension's variables stay inside it)
        stack.extend(node.children)
    return frozenset(names)


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for a Name/Attribute chain, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def import_alias_map(stmt: cst.Import | cst.ImportFrom, module_package: str = "") -> dict[str, str]:
    """Names bound by one import statement -> the qualified name they stand for."""
    out: dict[str, str] = {}
    if isinstance(stmt, cst.Import):
        for alias in stmt.names:
            full = dotted_name(alias.name) or ""
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                out[alias.asname.name.value] = full
            else:
                top = full.split(".", 1)[0]
                out[top] = top
        return out
    if stmt.relative or stmt.module is None:
        base = "." * len(stmt.relative) + (dotted_name(stmt.module) or "" if stmt.module else "")
    else:
        base = dotted_name(stmt.module) or ""
    if isinstance(stmt.names, cst.ImportStar):
        return out
    for alias in stmt.names:
        name = dotted_name(alias.name) or ""
        bound = (
            alias.asname.name.value
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name)
            else name
        )
        out[bound] = f"{base}.{name}" if base and not base.endswith(".") else f"{base}{name}"
    return out


def function_imports(func: cst.FunctionDef) -> dict[str, str]:
    """Names bound by the import statements of `func`'s own body, at any depth of its
    blocks (`if`, `try`, loops, `with`) but not in nested functions or classes."""
    out: dict[str, str] = {}
    stack: list[cst.CSTNode] = [func.body]
    while stack:
        node = stack.pop()
        if isinstance(node, (cst.Import, cst.ImportFrom)):
            out.update(import_alias_map(node))
        elif isinstance(node, (cst.IndentedBlock, cst.SimpleStatementSuite,
                               cst.SimpleStatementLine, cst.BaseCompoundStatement,
                               cst.ExceptHandler, cst.Else, cst.Finally)) and not isinstance(
                node, (cst.FunctionDef, cst.ClassDef)):
            stack.extend(c for c in node.children if isinstance(c, cst.CSTNode))
    return out


class FileContext:
    """Per-file state shared by the rules of one traversal."""

    def __init__(self, path: str, source: str, module: cst.Module | None) -> None:
        self.path = path
        self.source = source
        self.module = module
        self.kind = module_kind(path, source)
        self.reports: list[Report] = []
        # The walker keeps these current: every node from the module down to the one
        # being visited, and the enclosing function-like scopes.
        self.ancestors: list[cst.CSTNode] = []
        self.scopes: list[cst.FunctionDef | cst.Lambda] = []
        self.imports: dict[str, str] = {}
        # Django models declared in the other files of the change being checked (module,
        # class, relation fields), when the engine was told about the change.
        self.change_models: tuple[tuple[str, str, frozenset[str]], ...] = ()
        # The framework versions of the project (its dependency files): a rule whose
        # advice needs a newer release than the project runs stays quiet or says less.
        self.versions = Versions()
        if module is not None:
            self._collect_top_level_imports(module.body)

    # -- imports and qualified names -------------------------------------------------

    def _collect_top_level_imports(self, body: object) -> None:
        for stmt in body:  # type: ignore[attr-defined]
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self.imports.update(import_alias_map(small))
            elif isinstance(stmt, (cst.If, cst.Try)):
                # `if TYPE_CHECKING:` / `try: import x except ImportError:` at top level.
                self._collect_top_level_imports(stmt.body.body)
                for handler in getattr(stmt, "handlers", ()):
                    self._collect_top_level_imports(handler.body.body)
                orelse = getattr(stmt, "orelse", None)
                if isinstance(orelse, cst.Else):
                    self._collect_top_level_imports(orelse.body.body)

    def add_import(self, stmt: cst.Import | cst.ImportFrom) -> None:
        self.imports.update(import_alias_map(stmt))

    def qualified_name(self, node: cst.BaseExpression) -> str | None:
        """The imported name an expression stands for, through aliases.

        `from time import sleep as nap; nap` -> `time.sleep`; `import requests as r;
        r.get` -> `requests.get`; a builtin -> `builtins.print`; anything else -> None.
        """
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        target = self.imports.get(head)
        if target is None:
            if head in _BUILTINS and not rest:
                return f"builtins.{head}"
            return None
        return f"{target}.{rest}" if rest else target

    def qualified_name_in(self, node: cst.BaseExpression, func: cst.FunctionDef) -> str | None:
        """`qualified_name`, also through the imports inside `func`'s own body, which the
        walker has not reached yet when a rule looks at `func` from `visit_FunctionDef`
        (`def view(): from django.http import HttpResponse; return HttpResponse(...)`)."""
        dotted = dotted_name(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        target = function_imports(func).get(head)
        if target is None:
            return self.qualified_name(node)
        return f"{target}.{rest}" if rest else target

    def rebinds(self, name: str) -> bool:
        """Does `name`, where the walk is now, stand for something other than the import of
        that name: a parameter or local variable of an enclosing function (`requests = []`,
        `def f(requests)`, `for time in times`), or a module-level assignment after the
        import? Imports inside the functions count as imports."""
        for scope in self.scopes:
            key = id(scope)
            names = self._scope_bindings.get(key)
            if names is None:
                names = self._scope_bindings[key] = local_bindings(scope)
            if name in names and not (isinstance(scope, cst.FunctionDef)
                                      and name in function_imports(scope)):
                return True
        return name in self._module_rebound

    @cached_property
    def _scope_bindings(self) -> dict[int, frozenset[str]]:
        return {}

    @cached_property
    def _module_rebound(self) -> frozenset[str]:
        """Names whose last top-level binding is not an import (`import requests` then
        `requests = []`). Bindings inside `if`/`try` (`except ImportError: requests = None`)
        are fallbacks for the import and do not count."""
        last: dict[str, bool] = {}
        for stmt in self.module.body if self.module is not None else ():
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        last.update(dict.fromkeys(import_alias_map(small), False))
                    elif isinstance(small, cst.Assign):
                        for target in small.targets:
                            last.update(dict.fromkeys(bound_names(target.target), True))
                    elif isinstance(small, (cst.AnnAssign, cst.AugAssign)):
                        last.update(dict.fromkeys(bound_names(small.target), True))
            elif isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
                last[stmt.name.value] = True
            elif isinstance(stmt, cst.For):
                last.update(dict.fromkeys(bound_names(stmt.target), True))
        return frozenset(name for name, rebound in last.items() if rebound)

    def imports_module(self, *prefixes: str) -> bool:
        """Does the module import anything from one of these top-level packages?"""
        for target in self.imports.values():
            top = target.split(".", 1)[0]
            if top in prefixes:
                return True
        return False

    @cached_property
    def frameworks(self) -> frozenset[str]:
        """Web frameworks the module imports (django, flask, fastapi, starlette, ninja)."""
        return frozenset(t.split(".", 1)[0] for t in self.imports.values()) & frozenset(
            FRAMEWORKS
        )

    # -- where we are ---------------------------------------------------------------

    @property
    def parent(self) -> cst.CSTNode | None:
        """The parent of the node being visited (valid inside visit_* methods)."""
        return self.ancestors[-2] if len(self.ancestors) >= 2 else None

    def in_async(self) -> bool:
        """Lexically inside an `async def`, not inside a nested plain `def` or lambda."""
        if not self.scopes:
            return False
        top = self.scopes[-1]
        return isinstance(top, cst.FunctionDef) and top.asynchronous is not None

    def enclosing_function(self) -> cst.FunctionDef | None:
        for scope in reversed(self.scopes):
            if isinstance(scope, cst.FunctionDef):
                return scope
        return None

    def inside(self, *types: type[cst.CSTNode]) -> cst.CSTNode | None:
        """The nearest proper ancestor of one of `types`, or None."""
        for node in reversed(self.ancestors[:-1]):
            if isinstance(node, types):
                return node
        return None

    def in_main_block(self) -> bool:
        """Inside `if __name__ == "__main__":`."""
        return any(isinstance(node, cst.If) and is_main_guard(node.test) for node in self.ancestors)

    def at_module_level(self) -> bool:
        return not self.scopes and self.inside(cst.ClassDef) is None

    # -- handlers ---------------------------------------------------------------------

    def handler_framework(self, func: cst.FunctionDef) -> str | None:
        """Which framework's request handler `func` is, or None.

        Flask/FastAPI/Ninja/Starlette: decorated with `@<obj>.route/get/post/...(...)`
        in a module importing that framework. Django: `@api_view`/`@require_*`, or a
        public function (or method) in a views module whose first parameter (after
        `self`) is `request`.
        """
        for dec in func.decorators:
            target = dec.decorator
            call = target.func if isinstance(target, cst.Call) else target
            qn = self.qualified_name(call)
            if qn is not None and qn.split("(")[0] in DJANGO_VIEW_DECORATORS:
                return "django"
            if isinstance(call, cst.Attribute) and call.attr.value in ROUTE_METHODS:
                fw = self._route_framework()
                if fw is not None:
                    return fw
        # A private function or method (`_get_email`) is a helper of views, not a view.
        if (self.kind.is_views and "django" in self.frameworks
                and not func.name.value.startswith("_")):
            params = func.params.params
            first = params[0].name.value if params else None
            if first == "self" and len(params) > 1:
                first = params[1].name.value
            if first == "request":
                return "django"
        if func.name.value in self.starlette_endpoints:
            return "starlette"
        return None

    def _route_framework(self) -> str | None:
        fws = self.frameworks
        for fw in ("fastapi", "ninja", "flask", "starlette"):
            if fw in fws:
                return fw
        return None

    @cached_property
    def starlette_endpoints(self) -> frozenset[str]:
        """Names of functions referenced as endpoints by `Route(...)`/`WebSocketRoute(...)`."""
        if self.module is None or "Route(" not in self.source:
            return frozenset()
        names: set[str] = set()
        for call in find_nodes(self.module, (cst.Call,), into_functions=True):
            assert isinstance(call, cst.Call)
            func = call.func
            called = (func.value if isinstance(func, cst.Name)
                      else func.attr.value if isinstance(func, cst.Attribute) else None)
            if called not in ("Route", "WebSocketRoute"):
                continue
            endpoint = None
            positional = [a for a in call.args if a.keyword is None]
            if len(positional) >= 2:
                endpoint = positional[1].value
            for arg in call.args:
                if arg.keyword is not None and arg.keyword.value == "endpoint":
                    endpoint = arg.value
            if isinstance(endpoint, cst.Name):
                names.add(endpoint.value)
        return frozenset(names)


def is_main_guard(test: cst.BaseExpression) -> bool:
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    left, comp = test.left, test.comparisons[0]
    if not isinstance(comp.operator, cst.Equal):
        return False
    sides = {type(left), type(comp.comparator)}
    if sides != {cst.Name, cst.SimpleString}:
        return False
    name = left if isinstance(left, cst.Name) else comp.comparator
    string = comp.comparator if isinstance(left, cst.Name) else left
    assert isinstance(name, cst.Name) and isinstance(string, cst.SimpleString)
    return name.value == "__name__" and string.evaluated_value == "__main__"
