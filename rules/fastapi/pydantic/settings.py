"""PYS405 pydantic-basesettings-import: `BaseSettings` imported from where Pydantic 2 lacks it."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.fastapi.pydantic.models import MIGRATION_GUIDE, pydantic_1
from pystd.rules.walker import find_nodes

# Modules that exported `BaseSettings` in Pydantic v1.
_V1_SETTINGS_MODULES = frozenset({"pydantic", "pydantic.env_settings"})
_V1_SETTINGS = frozenset(f"{module}.BaseSettings" for module in _V1_SETTINGS_MODULES)


@register
class PydanticBaseSettingsImport(Rule):
    code = "PYS405"
    # The class moved package in Pydantic 2: the fix keeps what the code does.
    fix_safe = True
    name = "pydantic-basesettings-import"
    severity = Severity.ERROR
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "`from pydantic import BaseSettings` raises ImportError on Pydantic 2: a certain bug "
        "where Pydantic 2 is installed."
    )
    message = ("`BaseSettings` moved to the `pydantic-settings` package in Pydantic v2: "
               "import it from `pydantic_settings`")
    requires = ("BaseSettings",)

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return not pydantic_1(ctx)  # Pydantic 1 exports `BaseSettings` itself

    docs = f"""
## What it does
Flags `from pydantic import BaseSettings` (also aliased, and inside a multi-name import)
and `pydantic.BaseSettings` used through `import pydantic`. A compatibility import that
falls back between `pydantic_settings` and `pydantic` in one `try`/`except ImportError` is
left alone, and so is `from pydantic_settings import BaseSettings`.

## Why is this bad?
Pydantic v2 moved `BaseSettings` to the separate `pydantic-settings` distribution;
`from pydantic import BaseSettings` raises `PydanticImportError` at import time, so the
application does not start. See the Pydantic v2 migration guide ({MIGRATION_GUIDE}).

## Example
```python
from pydantic import BaseModel, BaseSettings
```

## Use instead
```python
from pydantic import BaseModel
from pydantic_settings import BaseSettings
```
(and add `pydantic-settings` to the project's dependencies).

## Fix
The import is rewritten: a lone `from pydantic import BaseSettings` imports from
`pydantic_settings`; in a multi-name import `BaseSettings` is split off into its own
`from pydantic_settings import BaseSettings` line, keeping any `as` alias.
`pydantic.BaseSettings` becomes `BaseSettings` plus that import.

## Versions
A project whose dependency files pin Pydantic below 2 gets no finding: Pydantic 1 exports
`BaseSettings` itself, and `pydantic_settings` does not exist for it. An unknown version
counts as current.

## Suppress
`# noqa: PYS405` on the line, in code that must keep running on Pydantic v1.
"""
    bad = (
        Example(
            """
            from pydantic import BaseSettings  # flagged


            class Settings(BaseSettings):
                debug: bool = False
            """,
            fixed="""
            from pydantic_settings import BaseSettings  # flagged


            class Settings(BaseSettings):
                debug: bool = False
            """,
        ),
        Example(
            """
            from pydantic import BaseModel, BaseSettings  # flagged


            class Settings(BaseSettings):
                debug: bool = False
            """,
            fixed="""
            from pydantic import BaseModel  # flagged
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):
                debug: bool = False
            """,
        ),
        Example(
            """
            import pydantic


            class Settings(pydantic.BaseSettings):  # flagged
                debug: bool = False
            """,
            fixed="""
            import pydantic
            from pydantic_settings import BaseSettings


            class Settings(BaseSettings):  # flagged
                debug: bool = False
            """,
        ),
    )
    good = (
        """
        from pydantic_settings import BaseSettings


        class Settings(BaseSettings):
            debug: bool = False
        """,
        """
        try:
            from pydantic_settings import BaseSettings
        except ImportError:
            from pydantic import BaseSettings
        """,
    )

    def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        if dotted_name(node.module) not in _V1_SETTINGS_MODULES:
            return
        moved = [a for a in node.names
                 if isinstance(a.name, cst.Name) and a.name.value == "BaseSettings"]
        if not moved or self._is_compat_fallback():
            return
        self.report(moved[0], replace=self._import_fix(node, moved))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "BaseSettings" or self.ctx.inside(cst.ImportFrom, cst.Import):
            return
        if self.ctx.qualified_name(node) not in _V1_SETTINGS:
            return
        if self.ctx.imports.get("BaseSettings", "pydantic_settings.BaseSettings") != (
                "pydantic_settings.BaseSettings"):
            self.report(node)  # the bare name is taken: no safe rewrite
            return
        self.report(node, replace=(node, cst.Name("BaseSettings")),
                    imports=("from pydantic_settings import BaseSettings",))

    def _is_compat_fallback(self) -> bool:
        """Inside a `try` that also imports from `pydantic_settings` (a v1/v2 shim)?"""
        try_node = self.ctx.inside(cst.Try)
        if try_node is None:
            return False
        return any(
            isinstance(n, cst.ImportFrom) and n.module is not None
            and (dotted_name(n.module) or "").startswith("pydantic_settings")
            for n in find_nodes(try_node, (cst.ImportFrom,))
        )

    def _import_fix(self, node: cst.ImportFrom, moved: list[cst.ImportAlias]
                    ) -> tuple[cst.CSTNode, cst.CSTNode] | None:
        """Point a lone import at `pydantic_settings`; split a multi-name one in two lines."""
        assert not isinstance(node.names, cst.ImportStar)
        if len(moved) == len(node.names):
            return node, node.with_changes(module=cst.Name("pydantic_settings"))
        ancestors = self.ctx.ancestors
        line, container = ancestors[-2], ancestors[-3]
        if (not isinstance(container, (cst.Module, cst.IndentedBlock))
                or not isinstance(line, cst.SimpleStatementLine)):
            return None  # `if x: from pydantic import ...` on one line
        kept = [a for a in node.names if a not in moved]
        # The new last name ends like the old one did: no comma, or the trailing comma and
        # newline of a parenthesized import.
        kept[-1] = kept[-1].with_changes(comma=node.names[-1].comma)
        new_line = line.with_changes(body=[
            node.with_changes(names=kept) if small is node else small for small in line.body])
        split: list[cst.BaseStatement] = [new_line]
        for alias in moved:
            asname = alias.asname.name if alias.asname is not None else None
            suffix = f" as {asname.value}" if isinstance(asname, cst.Name) else ""
            split.append(cst.parse_statement(
                f"from pydantic_settings import BaseSettings{suffix}\n"))
        body: list[cst.BaseStatement] = []
        for stmt in container.body:
            body.extend(split if stmt is line else [stmt])
        return container, container.with_changes(body=body)
