"""PYS409 fastapi-depends-not-annotated."""

from __future__ import annotations

import ast

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Severity, register
from pystd.rules.fastapi.path_operations import PathOperationRule, param_function
from pystd.rules.nodes import keyword
from pystd.rules.walker import find_nodes

# The parameter functions of the RULES.md row; Body/Cookie/Form/File/Security are left to a
# later revision of the row.
CHECKED = frozenset({"Depends", "Query", "Path", "Header"})
ANNOTATED = frozenset({"typing.Annotated", "typing_extensions.Annotated"})
_IMPORT = "from typing import Annotated"
_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _without(args: list[cst.Arg], index: int) -> list[cst.Arg]:
    """`args` without the one at `index`; the new last argument loses its trailing comma
    unless the call had one."""
    removed = args[index]
    out = args[:index] + args[index + 1:]
    if out and index == len(args) - 1:
        out[-1] = out[-1].with_changes(comma=removed.comma)
    return out


def valid_replacement(params: cst.Parameters, group: str, old: cst.Param,
                      new: cst.Param) -> bool:
    """Is the parameter list still valid Python with `old` replaced by `new`? A parameter
    that loses its default may now follow one that has a default."""
    try:
        changed = params.with_changes(**{group: [
            new if p is old else p for p in getattr(params, group)]})
    except cst.CSTValidationError:
        return False
    text = cst.Module(body=[]).code_for_node(changed)
    try:
        compile(f"def _(\n{text}\n): pass\n", "<fix>", "exec", ast.PyCF_ONLY_AST,
                dont_inherit=True)
    except (SyntaxError, ValueError):
        return False
    return True


# The first FastAPI release that reads `Annotated[..., Depends(...)]` (its release notes).
ANNOTATED_SINCE = "0.95"


@register
class DependsNotAnnotated(PathOperationRule):
    code = "PYS409"
    # FastAPI reads both spellings alike: the fix keeps what the code does.
    fix_safe = True
    name = "fastapi-depends-not-annotated"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "`Annotated` against `= Depends()` is house style; both work (771 findings in the "
        "async survey, all by projects that chose the older style). Opt-in."
    )
    message = "Parameter `{param}` uses `= {function}(...)`: declare it with `Annotated[...]`"
    requires = ("Depends(", "Query(", "Path(", "Header(")
    docs = """
## What it does
Flags a FastAPI path operation parameter whose default is `Depends(...)`, `Query(...)`,
`Path(...)` or `Header(...)` (from `fastapi`, through aliases) instead of the same call
inside `Annotated[...]`, in a module that already declares parameters with `Annotated`:
some parameter of some function is annotated `Annotated[...]`, or the module names such a
type (`DB = Annotated[Session, Depends(get_db)]`). A module written `= Depends(...)`
throughout follows a house style that FastAPI still supports, and is left alone.
Parameters already declared with `Annotated[...]` are never flagged, and neither are the
parameters of functions that are not path operations.

## Why is this bad?
With the call as the default, the function signature lies: called directly (in a test, a
script, another function) `db` is a `Depends` object and `q` a `Query` object rather than a
session or a string, and type checkers cannot tell. The metadata also cannot be shared:
`Annotated[Session, Depends(get_db)]` can be given a name (`DB = Annotated[...]`) and reused
by every path operation. FastAPI recommends `Annotated` since 0.95 — see "Query Parameters
and String Validations", section "Advantages of Annotated"
(fastapi.tiangolo.com/tutorial/query-params-str-validations/), and "Dependencies"
(fastapi.tiangolo.com/tutorial/dependencies/), which says to prefer the `Annotated`
version.

## Example
```python
@router.get("/items")
def list_items(db: Session = Depends(get_db), q: str | None = Query(None, max_length=50)):
    ...
```

## Use instead
```python
@router.get("/items")
def list_items(
    db: Annotated[Session, Depends(get_db)],
    q: Annotated[str | None, Query(max_length=50)] = None,
):
    ...
```

## Versions
FastAPI reads `Annotated` parameters from 0.95 on: a project whose dependency files pin
FastAPI below 0.95 (`fastapi<0.95`, `fastapi==0.88.0`, a lock file) gets no finding. An
unknown version counts as current.

## Fix
`db: Session = Depends(get_db)` becomes `db: Annotated[Session, Depends(get_db)]`, and
`q: str = Query(None, max_length=50)` becomes `q: Annotated[str, Query(max_length=50)] = None`
(the default moves out of the call; `...` means required and is dropped), adding
`from typing import Annotated` when missing. The fix is offered only when the parameter has
a type annotation and the new parameter list is valid Python: a parameter that loses its
default may not follow one that keeps a default, so in
`def f(q: str = Query(None), db: Session = Depends(get_db))` only `q` gets a fix at first;
fixing it makes the fix for `db` valid.

## Suppress
`# noqa: PYS409` on the parameter's line.
"""
    bad = (
        Example(
            """
            from typing import Annotated

            from fastapi import APIRouter, Depends, Header, Query

            router = APIRouter(tags=["items"])


            def get_db() -> str:
                return "db"


            def get_user(db: Annotated[str, Depends(get_db)]) -> str:
                return db


            @router.get("/items")
            def list_items(
                db: str = Depends(get_db),  # flagged
                q: str = Query(None, max_length=50),  # flagged
                agent: str = Header(...),  # flagged
            ) -> list[str]:
                return [db, q, agent]
            """,
            fixed="""
            from typing import Annotated

            from fastapi import APIRouter, Depends, Header, Query

            router = APIRouter(tags=["items"])


            def get_db() -> str:
                return "db"


            def get_user(db: Annotated[str, Depends(get_db)]) -> str:
                return db


            @router.get("/items")
            def list_items(
                db: Annotated[str, Depends(get_db)],  # flagged
                q: Annotated[str, Query(max_length=50)] = None,  # flagged
                agent: str = Header(...),  # flagged
            ) -> list[str]:
                return [db, q, agent]
            """,
        ),
    )
    good = (
        """
        from typing import Annotated

        from fastapi import APIRouter, Depends, Query

        router = APIRouter(tags=["items"])


        def get_db() -> str:
            return "db"


        @router.get("/items")
        def list_items(
            db: Annotated[str, Depends(get_db)],
            q: Annotated[str | None, Query(max_length=50)] = None,
        ) -> list[str]:
            return [db, q or ""]
        """,
        """
        from fastapi import APIRouter, Depends

        router = APIRouter(tags=["items"])


        def get_db() -> str:
            return "db"


        @router.get("/items")
        def list_items(db: str = Depends(get_db)) -> list[str]:
            return [db]
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._house_style: bool | None = None

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        # FastAPI reads `Annotated` parameters from 0.95 on: older releases cannot follow
        # the advice.
        return super().applies(ctx) and not ctx.versions.below("fastapi", ANNOTATED_SINCE)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.apps.path_operation(node) is None or not self._module_uses_annotated():
            return
        params = node.params
        for group in ("posonly_params", "params", "kwonly_params"):
            for param in getattr(params, group):
                function = param_function(self.ctx, param.default)
                if function not in CHECKED or self._is_annotated(param):
                    continue
                message = self.message.format(param=param.name.value, function=function)
                new = self._fix(param, function)
                if new is None or not valid_replacement(params, group, param, new):
                    self.report(param, message)
                    continue
                imports = () if self.ctx.imports.get("Annotated") in ANNOTATED else (_IMPORT,)
                self.report(param, message, replace=(param, new), imports=imports)

    def _is_annotated(self, param: cst.Param) -> bool:
        annotation = param.annotation.annotation if param.annotation is not None else None
        return annotation is not None and self._is_annotated_type(annotation)

    def _is_annotated_type(self, node: cst.BaseExpression) -> bool:
        return isinstance(node, cst.Subscript) and (
            self.ctx.qualified_name(node.value) in ANNOTATED)

    def _module_uses_annotated(self) -> bool:
        """Is `Annotated[...]` already this module's way to declare parameters: some
        parameter of some function is annotated with it, or the module names one
        (`DB = Annotated[Session, Depends(get_db)]`)? Where it is not, `= Depends(...)` is
        the house style, and asking for the other spelling is noise."""
        if self._house_style is None:
            module = self.ctx.module
            self._house_style = module is not None and (
                any(isinstance(stmt, cst.SimpleStatementLine) and any(
                    isinstance(small, (cst.Assign, cst.AnnAssign, cst.TypeAlias))
                    and small.value is not None and self._is_annotated_type(small.value)
                    for small in stmt.body) for stmt in module.body)
                or any(isinstance(param, cst.Param) and self._is_annotated(param)
                       for param in find_nodes(module, (cst.Param,), into_functions=True)))
        return self._house_style

    def _fix(self, param: cst.Param, function: str) -> cst.Param | None:
        """`x: T = F(default, ...)` -> `x: Annotated[T, F(...)] = default`."""
        call = param.default
        if (param.annotation is None or not isinstance(call, cst.Call)
                or any(arg.star for arg in call.args)):
            return None
        bound = self.ctx.imports.get("Annotated")
        if (bound is not None and bound not in ANNOTATED) or (
                bound is None and "Annotated" in self.apps.bindings):
            return None  # the name means something else here
        args = list(call.args)
        default: cst.BaseExpression | None = None
        if function != "Depends":  # Query/Path/Header: the first argument is the default
            index = next((i for i, a in enumerate(args) if a.keyword is None), None)
            if index is None:
                given = keyword(call, "default")
                index = args.index(given) if given is not None else None
            if index is not None:
                default = args[index].value
                args = _without(args, index)
                if isinstance(default, cst.Ellipsis):
                    default = None  # `Query(...)`: required, as without a default
        annotated = cst.Subscript(value=cst.Name("Annotated"), slice=[
            cst.SubscriptElement(cst.Index(param.annotation.annotation), comma=_COMMA),
            cst.SubscriptElement(cst.Index(call.with_changes(args=args))),
        ])
        annotation = param.annotation.with_changes(annotation=annotated)
        if default is None:
            return param.with_changes(annotation=annotation, default=None,
                                      equal=cst.MaybeSentinel.DEFAULT)
        return param.with_changes(annotation=annotation, default=default)
