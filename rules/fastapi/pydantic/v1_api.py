"""PYS404 pydantic-v1-api: the Pydantic v1 API in code that runs on Pydantic 2.

What a name holds comes from `PydanticNames`; the v2 rewrites from `rewrites`.
"""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.engine import Category, Example, Severity, register
from pystd.rules.fastapi.pydantic.models import (
    FIELD,
    MIGRATION_GUIDE,
    ROOT_VALIDATORS,
    V1_CONSTRUCTORS,
    V1_METHODS,
    VALIDATORS,
    Bound,
    Model,
    from_the_project,
    pydantic_1,
    small_statements,
)
from pystd.rules.fastapi.pydantic.names import PydanticNames
from pystd.rules.fastapi.pydantic.rewrites import (
    COMMA,
    METHOD_FIXES,
    NOT_RUST_REGEX,
    arg_keyword,
    config_fix,
    validator_fix,
)
from pystd.rules.nodes import is_true, keyword_arg

# `.json()` on these receivers is an HTTP body, whatever the binding analysis says.
_HTTP_NAMES = frozenset({"r", "res", "resp", "rsp", "req"})


@register
class PydanticV1Api(PydanticNames):
    code = "PYS404"
    name = "pydantic-v1-api"
    severity = Severity.WARNING
    category = Category.UPGRADE
    default = False
    rationale = (
        "Pydantic v1 API still works on v2 with a deprecation warning, and is the right API "
        "on Pydantic 1 (lnbits and opal-server pin it: all 89 survey findings there); migrate "
        "when the team upgrades. Opt-in."
    )
    message = "`{old}` is Pydantic v1 API: use `{new}`"
    # With Pydantic 2 known, also modules that only use models imported from the project.
    requires = ("pydantic", ".parse_obj(", ".parse_raw(", ".from_orm(", ".model_validate")
    docs = f"""
## What it does
In modules importing pydantic, flags the Pydantic v1 API: `@validator`/`@root_validator`,
`class Config:` inside a `BaseModel` subclass, `orm_mode = True` in it, `Field(regex=…)`,
and `.dict()`/`.json()`/`.parse_obj()`/`.parse_raw()`/`.from_orm()`/`.copy(update=…)`
called on a model class defined in the module, or on a local name bound from one
(`u = User(...)`, `u = User.model_validate(...)`, a parameter annotated `u: User`, `self`
in a model's method). `.json()` on anything else — `response.json()`, `r.json()`,
`request.json()` — is never flagged, and neither are models from `pydantic.v1`.

## Why is this bad?
Pydantic v2 renamed these APIs; the old names are deprecated shims that warn and will be
removed in v3, and some of them silently do nothing: v2 ignores `orm_mode` (it warns and
`from_attributes` stays off), and `regex=` is gone from `Field`. See the Pydantic v2
migration guide ({MIGRATION_GUIDE}).

## Example
```python
class User(BaseModel):
    name: str = Field(regex="^[a-z]+$")

    class Config:
        orm_mode = True

    @validator("name")
    def strip(cls, v):
        return v.strip()

user = User.parse_obj(data)
payload = user.dict()
```

## Use instead
```python
class User(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    name: str = Field(pattern="^[a-z]+$")

    @field_validator("name")
    @classmethod
    def strip(cls, v):
        return v.strip()

user = User.model_validate(data)
payload = user.model_dump()
```

## Fix
`@validator("x")` -> `@field_validator("x")` + `@classmethod` (and the import), when the
function takes only `(cls, v)`; `pre=True` becomes `mode="before"`; no fix with `always=`
or `each_item=`. `Field(regex=` -> `Field(pattern=` (not for patterns with lookarounds or
backreferences, which v2's Rust regex engine rejects). `.dict()` -> `.model_dump()`,
`.json()` -> `.model_dump_json()` (v2's JSON is compact: no spaces after `,` and `:`),
`.parse_obj(` -> `.model_validate(`, `.parse_raw(` -> `.model_validate_json(`,
`.from_orm(x)` -> `.model_validate(x, from_attributes=True)`, `.copy(update=` ->
`.model_copy(update=`, each only with arguments v2 takes alike. `orm_mode = True` ->
`from_attributes = True`. A `class Config:` made only of plain assignments of known keys
becomes `model_config = ConfigDict(...)`.

## Versions
A project whose dependency files pin Pydantic below 2 (`pydantic<2`, `pydantic==1.10.13`,
`pydantic = "^1.10"`, a lock file) gets no finding: there the v1 API is the only one. An
unknown version counts as current.

Where the files say Pydantic 2 or newer (a lower bound of 2, or a locked 2.x), a class
imported from the project's own modules (a relative import, or the package the file lives
in) counts as a model once the code calls a Pydantic-only class method on it: so
`UserOut.from_orm(row)` and `User.parse_obj(data)` are flagged in a router that never
imports pydantic, and so is `.dict()` on `u = User.model_validate(data)`. A class that is
only constructed (`User(...)`) is not known to be a model, and is left alone.

## Suppress
`# noqa: PYS404` on the line, e.g. for a method of your own that happens to be named `dict`.
"""
    bad = (
        Example(
            """
            from pydantic import BaseModel, validator


            class User(BaseModel):
                name: str

                @validator("name")  # flagged
                def strip(cls, v):
                    return v.strip()
            """,
            fixed="""
            from pydantic import BaseModel, validator
            from pydantic import field_validator


            class User(BaseModel):
                name: str

                @field_validator("name")  # flagged
                @classmethod
                def strip(cls, v):
                    return v.strip()
            """,
        ),
        """
        from pydantic import BaseModel, root_validator


        class Span(BaseModel):
            start: int
            end: int

            @root_validator  # flagged
            def ordered(cls, values):
                return values
        """,
        Example(
            """
            from pydantic import BaseModel


            class User(BaseModel):
                name: str

                class Config:  # flagged
                    orm_mode = True  # flagged
            """,
            fixed="""
            from pydantic import BaseModel


            class User(BaseModel):
                name: str

                class Config:  # flagged
                    from_attributes = True  # flagged
            """,
        ),
        Example(
            """
            from pydantic import BaseModel, Field


            class User(BaseModel):
                name: str = Field(regex="^[a-z]+$")  # flagged
            """,
            fixed="""
            from pydantic import BaseModel, Field


            class User(BaseModel):
                name: str = Field(pattern="^[a-z]+$")  # flagged
            """,
        ),
        Example(
            """
            import pydantic


            class User(pydantic.BaseModel):
                name: str


            def load(data: dict) -> dict:
                user = User.parse_obj(data)  # flagged
                return user.dict()  # flagged
            """,
            fixed="""
            import pydantic


            class User(pydantic.BaseModel):
                name: str


            def load(data: dict) -> dict:
                user = User.model_validate(data)  # flagged
                return user.model_dump()  # flagged
            """,
        ),
        Example(
            """
            from pydantic import BaseModel


            class User(BaseModel):
                name: str


            def render(user: User) -> str:
                return user.json()  # flagged
            """,
            fixed="""
            from pydantic import BaseModel


            class User(BaseModel):
                name: str


            def render(user: User) -> str:
                return user.model_dump_json()  # flagged
            """,
        ),
        Example(
            """
            from pydantic import BaseModel


            class User(BaseModel):
                name: str


            def rename(user: User, name: str) -> User:
                return user.copy(update={"name": name})  # flagged
            """,
            fixed="""
            from pydantic import BaseModel


            class User(BaseModel):
                name: str


            def rename(user: User, name: str) -> User:
                return user.model_copy(update={"name": name})  # flagged
            """,
        ),
    )
    good = (
        """
        from pydantic import BaseModel, ConfigDict, field_validator


        class User(BaseModel):
            model_config = ConfigDict(from_attributes=True)
            name: str

            @field_validator("name")
            @classmethod
            def strip(cls, v: str) -> str:
                return v.strip()
        """,
        """
        import httpx
        import pydantic


        class User(pydantic.BaseModel):
            name: str


        def fetch(url: str) -> User:
            response = httpx.get(url, timeout=5)
            return User.model_validate(response.json())
        """,
        """
        from pydantic import BaseModel


        class User(BaseModel):
            name: str


        def show(payload, user: User) -> tuple:
            return payload.dict(), user.model_dump(), user.copy()
        """,
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        # On Pydantic 1 the v1 API is the only API there is.
        if pydantic_1(ctx):
            return False
        return ctx.imports_module("pydantic", "pydantic_settings") or (
            ctx.versions.at_least("pydantic", "2")
            and any(from_the_project(ctx, name) for name in ctx.imports))

    def imported_model(self, name: str) -> Model | None:
        """With Pydantic 2 known, a class imported from the project's own modules on which
        the code calls a Pydantic-only class method (`User.parse_obj(...)`,
        `User.model_validate(...)`) is a model: v2 is the only Pydantic there."""
        if (not self.ctx.versions.at_least("pydantic", "2") or not from_the_project(self.ctx, name)
                or self.ctx.rebinds(name)):
            return None
        return Model(name, settings=False, own=frozenset())

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        owner = self.enclosing_model()
        if node.name.value == "Config" and owner is not None:
            self._check_config(node, owner)
        super().visit_ClassDef(node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._check_decorators(node)
        super().visit_FunctionDef(node)

    def _say(self, old: str, new: str) -> str:
        return self.message.format(old=old, new=new)

    def _check_decorators(self, func: cst.FunctionDef) -> None:
        for dec in func.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            qualified = self.ctx.qualified_name(target)
            if qualified in ROOT_VALIDATORS:
                self.report(dec, self._say("@root_validator", "@model_validator"))
            elif qualified in VALIDATORS:
                message = self._say("@validator", "@field_validator` with `@classmethod")
                new = validator_fix(self.ctx, func, dec)
                if new is None:
                    self.report(dec, message)
                else:
                    imports = () if isinstance(target, cst.Attribute) else (
                        "from pydantic import field_validator",)
                    self.report(dec, message, replace=(func, new), imports=imports)


    def _check_config(self, node: cst.ClassDef, owner: Model) -> None:
        config_dict = "SettingsConfigDict" if owner.settings else "ConfigDict"
        message = self._say("class Config:", f"model_config = {config_dict}(...)")
        new = None if owner.settings else config_fix(self.ctx, node)
        if new is None:
            self.report(node.name, message)
        else:
            self.report(node.name, message, replace=(node, new),
                        imports=("from pydantic import ConfigDict",))
        for small in small_statements(node):
            if (isinstance(small, cst.Assign) and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "orm_mode" and is_true(small.value)):
                self.report(small, self._say("orm_mode = True", "from_attributes = True"),
                            replace=(small.targets[0].target, cst.Name("from_attributes")))


    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in V1_METHODS:
            self._check_method(node, func, func.attr.value)
        elif any(arg_keyword(a) == "regex" for a in node.args) and (
                self.ctx.qualified_name(func) in FIELD):
            self._check_field_regex(node)

    def _check_field_regex(self, node: cst.Call) -> None:
        message = self._say("Field(regex=...)", "Field(pattern=...)")
        regex = next(a for a in node.args if arg_keyword(a) == "regex")
        text = regex.value.evaluated_value if isinstance(regex.value, cst.SimpleString) else ""
        if isinstance(text, str) and NOT_RUST_REGEX.search(text):
            self.report(regex, message + "; lookarounds and backreferences need "
                        '`ConfigDict(regex_engine="python-re")`')
            return
        if any(arg_keyword(a) == "pattern" for a in node.args):
            self.report(regex, message)
            return
        self.report(regex, message,
                    replace=(regex, regex.with_changes(keyword=cst.Name("pattern"))))

    def _check_method(self, node: cst.Call, func: cst.Attribute, method: str) -> None:
        receiver = func.value
        if method == "copy" and not any(arg_keyword(a) == "update" for a in node.args):
            return
        if method == "json" and isinstance(receiver, cst.Name) and _is_http_name(receiver.value):
            return
        bound = self.value_of(receiver)
        if bound is None and method in V1_CONSTRUCTORS and isinstance(receiver, cst.Name):
            model = self.imported_model(receiver.value)
            bound = Bound(model, instance=False) if model is not None else None
        if bound is None or method in bound.model.own:
            return
        new_method, keywords, positional = METHOD_FIXES[method]
        old = f".{method}(update=...)" if method == "copy" else f".{method}()"
        new = f".{new_method}(update=...)" if method == "copy" else f".{new_method}()"
        if method == "from_orm":
            new = ".model_validate(obj, from_attributes=True)"
        message = self._say(old, new)
        args = list(node.args)
        if (any(a.star for a in args) or sum(arg_keyword(a) is None for a in args) != positional
                or any(arg_keyword(a) not in keywords for a in args if a.keyword is not None)):
            self.report(node, message)
            return
        if method == "from_orm":
            args = [args[0].with_changes(comma=COMMA), keyword_arg("from_attributes", cst.Name("True"))]
        new_call = node.with_changes(func=func.with_changes(attr=cst.Name(new_method)), args=args)
        self.report(node, message, replace=(node, new_call))


def _is_http_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _HTTP_NAMES or "response" in lowered or "request" in lowered
