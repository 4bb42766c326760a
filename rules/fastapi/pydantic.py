"""PYS404, PYS405: the Pydantic v2 rules, and what they share with the FastAPI rules.

`PydanticNames` and `model_of` know which classes of a module are Pydantic models and
which local names hold a model class or instance.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import libcst as cst

from rules.context import FileContext, bound_names, dotted_name
from rules.engine import Category, Example, Rule, Severity, register
from rules.nodes import is_false, is_true, keyword_arg
from rules.walker import find_nodes

MIGRATION_GUIDE = "https://docs.pydantic.dev/latest/migration/"


def pydantic_1(ctx: FileContext) -> bool:
    """Is the project known to run Pydantic 1 (its dependency files say so)? Its v1 API
    is then the right one, and the v2 names do not exist."""
    return ctx.versions.below("pydantic", "2")

# Bases whose subclasses are Pydantic models. `pydantic.v1.*` is deliberately absent: code
# on the v1 compatibility layer is supposed to call the v1 API.
MODEL_BASES = frozenset({"pydantic.BaseModel", "pydantic.main.BaseModel", "pydantic.RootModel",
                         "pydantic.generics.GenericModel"})
SETTINGS_BASES = frozenset({"pydantic.BaseSettings", "pydantic.env_settings.BaseSettings",
                            "pydantic_settings.BaseSettings",
                            "pydantic_settings.main.BaseSettings"})
VALIDATORS = frozenset({"pydantic.validator", "pydantic.class_validators.validator",
                        "pydantic.deprecated.class_validators.validator"})
ROOT_VALIDATORS = frozenset({"pydantic.root_validator", "pydantic.class_validators.root_validator",
                             "pydantic.deprecated.class_validators.root_validator"})
# Decorators whose function receives the class, like `@classmethod`.
CLASS_DECORATORS = VALIDATORS | ROOT_VALIDATORS | {"builtins.classmethod",
                                                   "pydantic.field_validator"}
FIELD = frozenset({"pydantic.Field", "pydantic.fields.Field"})
_FIELD_VALIDATOR = "pydantic.field_validator"

# Calls on a model class that return an instance of it.
CONSTRUCTORS = frozenset({"model_validate", "model_validate_json", "model_construct", "parse_obj",
                          "parse_raw", "from_orm", "construct"})
V1_METHODS = frozenset({"dict", "json", "parse_obj", "parse_raw", "from_orm", "copy"})
# Class methods only a Pydantic model has: calling one on a class is evidence it is a model.
PYDANTIC_CONSTRUCTORS = frozenset({"model_validate", "model_validate_json", "parse_obj",
                                   "parse_raw", "from_orm"})
_V1_CONSTRUCTORS = frozenset({"parse_obj", "parse_raw", "from_orm"})
_DUMP_KEYWORDS = frozenset({"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults",
                            "exclude_none"})
# v1 method -> (v2 method, keywords the v2 method takes alike, positional arguments allowed).
_METHOD_FIXES: dict[str, tuple[str, frozenset[str], int]] = {
    "dict": ("model_dump", _DUMP_KEYWORDS, 0),
    "json": ("model_dump_json", _DUMP_KEYWORDS | {"indent"}, 0),
    "copy": ("model_copy", frozenset({"update", "deep"}), 0),
    "parse_obj": ("model_validate", frozenset(), 1),
    "parse_raw": ("model_validate_json", frozenset(), 1),
    "from_orm": ("model_validate", frozenset(), 1),
}
# `.json()` on these receivers is an HTTP body, whatever the binding analysis says.
_HTTP_NAMES = frozenset({"r", "res", "resp", "rsp", "req"})

# `class Config` keys -> `ConfigDict` keys, for the keys that mean the same in v2.
_CONFIG_KEYS = {
    "orm_mode": "from_attributes",
    "allow_population_by_field_name": "populate_by_name",
    "anystr_strip_whitespace": "str_strip_whitespace",
    "anystr_lower": "str_to_lower",
    "anystr_upper": "str_to_upper",
    "min_anystr_length": "str_min_length",
    "max_anystr_length": "str_max_length",
    "validate_all": "validate_default",
    **{key: key for key in (
        "title", "extra", "frozen", "validate_assignment", "arbitrary_types_allowed",
        "use_enum_values", "allow_inf_nan", "alias_generator", "from_attributes",
        "populate_by_name", "str_strip_whitespace", "str_to_lower", "str_to_upper",
        "str_min_length", "str_max_length", "validate_default", "strict",
    )},
}
# Python `re` features the Rust regex engine of Pydantic v2 lacks.
_NOT_RUST_REGEX = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")


@dataclass(frozen=True, slots=True)
class Model:
    """A Pydantic model class of the module being checked."""

    name: str
    settings: bool  # a BaseSettings subclass: its config is `SettingsConfigDict`
    own: frozenset[str]  # methods it (or a model base in the module) defines itself


@dataclass(frozen=True, slots=True)
class Bound:
    """What a local name holds: a model class, or an instance of one."""

    model: Model
    instance: bool


@dataclass(slots=True)
class _Scope:
    is_class: bool
    names: dict[str, Bound | None] = field(default_factory=dict)


def model_of(node: cst.ClassDef, ctx: FileContext,
             known: Callable[[str], Model | None]) -> Model | None:
    """The class as a `Model` if a base is a Pydantic model (`known` resolves local names)."""
    settings = is_model = False
    own = {s.name.value for s in _class_body(node) if isinstance(s, cst.FunctionDef)}
    for arg in node.bases:
        base = arg.value.value if isinstance(arg.value, cst.Subscript) else arg.value
        qualified = ctx.qualified_name(base)
        parent = known(base.value) if isinstance(base, cst.Name) and qualified is None else None
        if qualified in MODEL_BASES:
            is_model = True
        elif qualified in SETTINGS_BASES:
            is_model = settings = True
        elif parent is not None:
            is_model = True
            settings |= parent.settings
            own |= parent.own
    return Model(node.name.value, settings, frozenset(own)) if is_model else None


def _class_body(node: cst.ClassDef) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    return node.body.body


def _small_statements(node: cst.ClassDef) -> list[cst.BaseSmallStatement]:
    """The simple statements of a class body, on their own lines or `class C: a = 1; b = 2`."""
    out: list[cst.BaseSmallStatement] = []
    for stmt in _class_body(node):
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.BaseSmallStatement):
            out.append(stmt)
    return out


def _keyword(arg: cst.Arg) -> str | None:
    return arg.keyword.value if arg.keyword is not None else None


_COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def _without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    if args and isinstance(args[-1].comma, cst.Comma):
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return args




class PydanticNames(Rule):
    """Base of rules that ask which local names hold a Pydantic model class or instance.

    Scopes follow Python's (module, class body, function, lambda); a name counts as a model
    only while every binding of it seen so far in its scope agrees, so `u = User()` in one
    branch and `u = httpx.get(url)` in the other leave `u` unknown. Subclasses overriding
    a visit/leave method here call `super()`.
    """

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._scopes: list[_Scope] = []
        self._classes: list[Model | None] = []  # the enclosing classes, as models or None
        self._module_models: dict[cst.ClassDef, Model | None] = {}

    def _lookup(self, name: str) -> Bound | None:
        last = len(self._scopes) - 1
        for i in range(last, -1, -1):
            scope = self._scopes[i]
            if scope.is_class and i != last:  # class bodies do not enclose their methods
                continue
            if name in scope.names:
                return scope.names[name]
        return None

    def imported_model(self, name: str) -> Model | None:
        """A model class `name` imported from elsewhere, when a subclass can tell (None
        here: an imported class is not known to be a model)."""
        return None

    def model_class(self, name: str) -> Model | None:
        bound = self._lookup(name)
        return bound.model if bound is not None and not bound.instance else None

    def _bind(self, name: str, bound: Bound | None) -> None:
        """Bind in the innermost scope; a name bound to different things is unknown."""
        names = self._scopes[-1].names
        names[name] = bound if names.get(name, bound) == bound else None

    def value_of(self, node: cst.BaseExpression | None) -> Bound | None:
        """What an expression evaluates to: `User(...)`, `User.model_validate(...)`, `u`."""
        if isinstance(node, cst.Name):
            return self._lookup(node.value)
        if not isinstance(node, cst.Call):
            return None
        func = node.func
        model = None
        if isinstance(func, cst.Name):
            model = self.model_class(func.value)
        elif (isinstance(func, cst.Attribute) and isinstance(func.value, cst.Name)
              and func.attr.value in CONSTRUCTORS):
            model = self.model_class(func.value.value)
            if model is None and func.attr.value in PYDANTIC_CONSTRUCTORS:
                model = self.imported_model(func.value.value)
        return Bound(model, instance=True) if model is not None else None

    def annotation_of(self, node: cst.Annotation | None) -> Bound | None:
        """`User`, `"User"`, `User | None` or `Optional[User]` -> an instance of User."""
        if node is None:
            return None
        ann = node.annotation
        if isinstance(ann, cst.BinaryOperation) and isinstance(ann.operator, cst.BitOr):
            if isinstance(ann.right, cst.Name) and ann.right.value == "None":
                ann = ann.left
        elif (isinstance(ann, cst.Subscript) and len(ann.slice) == 1
              and self.ctx.qualified_name(ann.value) == "typing.Optional"
              and isinstance(ann.slice[0].slice, cst.Index)):
            ann = ann.slice[0].slice.value
        name = None
        if isinstance(ann, cst.Name):
            name = ann.value
        elif isinstance(ann, cst.SimpleString) and str(ann.evaluated_value).isidentifier():
            name = str(ann.evaluated_value)
        model = self.model_class(name) if name is not None else None
        return Bound(model, instance=True) if model is not None else None

    def visit_Module(self, node: cst.Module) -> None:
        self._scopes.append(_Scope(is_class=False))
        for stmt in node.body:  # module-level models, in source order, before any use
            if isinstance(stmt, cst.ClassDef):
                model = model_of(stmt, self.ctx, self.model_class)
                self._module_models[stmt] = model
                self._bind(stmt.name.value, Bound(model, False) if model else None)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        if node in self._module_models:
            model = self._module_models[node]
        else:
            model = model_of(node, self.ctx, self.model_class)
            self._bind(node.name.value, Bound(model, False) if model else None)
        self._classes.append(model)
        self._scopes.append(_Scope(is_class=True))

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()
        self._scopes.pop()

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, None)
        owner = self.enclosing_model()
        self._scopes.append(_Scope(is_class=False))
        params = node.params
        positional = [*params.posonly_params, *params.params]
        for i, param in enumerate([*positional, *params.kwonly_params]):
            bound = self.annotation_of(param.annotation)
            if i == 0 and owner is not None and param in positional:
                bound = self._first_param(node, owner)
            self._bind(param.name.value, bound)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name.value, None)

    def _first_param(self, node: cst.FunctionDef, owner: Model) -> Bound | None:
        """`self` in a model's method is an instance; `cls` in a classmethod the class."""
        for dec in node.decorators:
            target = dec.decorator.func if isinstance(dec.decorator, cst.Call) else dec.decorator
            qualified = self.ctx.qualified_name(target)
            if qualified in CLASS_DECORATORS:
                return Bound(owner, instance=False)
            if qualified == "builtins.staticmethod":
                return None
        return Bound(owner, instance=True)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._scopes.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._scopes.append(_Scope(is_class=False))
        for param in find_nodes(node.params, (cst.Param,)):
            assert isinstance(param, cst.Param)
            self._bind(param.name.value, None)

    def leave_Lambda(self, original_node: cst.Lambda) -> None:
        self._scopes.pop()

    # Assignments bind after their value is visited: `u = u.dict()` reads the old `u`.
    def leave_Assign(self, original_node: cst.Assign) -> None:
        bound = self.value_of(original_node.value)
        for target in original_node.targets:
            names = bound_names(target.target)
            for name in names:
                self._bind(name, bound if isinstance(target.target, cst.Name) else None)

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        for name in bound_names(original_node.target):
            self._bind(name, self.annotation_of(original_node.annotation))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        self._forget(original_node.target)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        for name in bound_names(original_node.target):
            self._bind(name, self.value_of(original_node.value))

    def _forget(self, target: cst.BaseExpression | None) -> None:
        for name in bound_names(target) if target is not None else ():
            self._bind(name, None)

    def visit_For(self, node: cst.For) -> None:
        self._forget(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._forget(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._forget(node.name.name)

    def visit_Del(self, node: cst.Del) -> None:
        self._forget(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        bound = node.asname.name if node.asname is not None else node.name
        if isinstance(bound, cst.Name):
            self._bind(bound.value, None)

    def visit_MatchAs(self, node: cst.MatchAs) -> None:
        self._forget(node.name)

    def visit_MatchStar(self, node: cst.MatchStar) -> None:
        self._forget(node.name)

    # A comprehension's element is visited before its `for`: forget its names up front.
    def _forget_comprehension(self, node: cst.ListComp | cst.SetComp | cst.GeneratorExp
                              | cst.DictComp) -> None:
        comp: cst.CompFor | None = node.for_in
        while comp is not None:
            self._forget(comp.target)
            comp = comp.inner_for_in

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _forget_comprehension

    def enclosing_model(self) -> Model | None:
        """The model whose class body holds the node being visited directly, if any."""
        return self._classes[-1] if self._classes and self._direct_child_of_class() else None

    def _direct_child_of_class(self) -> bool:
        """Is the node being visited a statement of a class body?"""
        ancestors = self.ctx.ancestors
        return len(ancestors) >= 3 and isinstance(ancestors[-3], cst.ClassDef)


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
                new = self._validator_fix(func, dec)
                if new is None:
                    self.report(dec, message)
                else:
                    imports = () if isinstance(target, cst.Attribute) else (
                        "from pydantic import field_validator",)
                    self.report(dec, message, replace=(func, new), imports=imports)

    def _validator_fix(self, func: cst.FunctionDef, dec: cst.Decorator) -> cst.FunctionDef | None:
        """`@validator("x", pre=True)` -> `@field_validator("x", mode="before")` + `@classmethod`.

        None when v2 would call the function differently: it takes `values`/`field`/`config`
        (v2 passes a `ValidationInfo`), or uses `always=`/`each_item=` (no v2 keyword).
        """
        call = dec.decorator
        params = func.params
        if (not isinstance(call, cst.Call) or len(params.posonly_params) + len(params.params) != 2
                or params.kwonly_params or isinstance(params.star_arg, cst.Param)
                or params.star_kwarg is not None):
            return None
        args: list[cst.Arg] = []
        for arg in call.args:
            keyword = _keyword(arg)
            if keyword is None or keyword == "check_fields":
                args.append(arg)
            elif keyword == "pre" and is_true(arg.value):
                args.append(arg.with_changes(keyword=cst.Name("mode"),
                                             value=cst.SimpleString('"before"')))
            elif keyword != "allow_reuse" and not (keyword == "pre" and is_false(arg.value)):
                return None  # always=, each_item=, whole=, or a computed `pre=`
        name = call.func
        if isinstance(name, cst.Attribute):  # `@pydantic.validator`: no import needed
            new_func: cst.BaseExpression = name.with_changes(attr=cst.Name("field_validator"))
        elif self.ctx.imports.get("field_validator", _FIELD_VALIDATOR) == _FIELD_VALIDATOR:
            new_func = cst.Name("field_validator")
        else:
            return None  # the name is taken by something else
        new_dec = dec.with_changes(decorator=call.with_changes(
            func=new_func, args=_without_trailing_comma(args)))
        decorators: list[cst.Decorator] = []
        for d in func.decorators:
            decorators.append(new_dec if d is dec else d)
            if d is dec and not any(self.ctx.qualified_name(x.decorator) == "builtins.classmethod"
                                    for x in func.decorators):
                decorators.append(cst.Decorator(decorator=cst.Name("classmethod")))
        return func.with_changes(decorators=decorators)

    def _check_config(self, node: cst.ClassDef, owner: Model) -> None:
        config_dict = "SettingsConfigDict" if owner.settings else "ConfigDict"
        message = self._say("class Config:", f"model_config = {config_dict}(...)")
        new = None if owner.settings else self._config_fix(node)
        if new is None:
            self.report(node.name, message)
        else:
            self.report(node.name, message, replace=(node, new),
                        imports=("from pydantic import ConfigDict",))
        for small in _small_statements(node):
            if (isinstance(small, cst.Assign) and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == "orm_mode" and is_true(small.value)):
                self.report(small, self._say("orm_mode = True", "from_attributes = True"),
                            replace=(small.targets[0].target, cst.Name("from_attributes")))

    def _has_comment(self, node: cst.CSTNode) -> bool:
        """Would rewriting `node` lose a comment? (`#` in a string errs on the safe side.)"""
        module = self.ctx.module
        return module is None or "#" in module.code_for_node(node)

    def _config_fix(self, node: cst.ClassDef) -> cst.SimpleStatementLine | None:
        """`class Config:` -> `model_config = ConfigDict(...)`, if every statement is a plain
        `key = value` of a key v2 has, the class has no `model_config` and no comment is lost."""
        owner = self.ctx.ancestors[-3]
        assert isinstance(owner, cst.ClassDef)
        if node.bases or node.keywords or node.decorators or self._has_comment(node.body):
            return None
        if any(n.value == "model_config" for n in find_nodes(owner.body, (cst.Name,))):
            return None
        if self.ctx.imports.get("ConfigDict", "pydantic.ConfigDict") != "pydantic.ConfigDict":
            return None
        args: list[cst.Arg] = []
        for stmt in _class_body(node):
            small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if not isinstance(small, cst.Assign) or len(stmt.body) != 1:  # type: ignore[union-attr]
                return None
            target = small.targets[0].target
            if len(small.targets) != 1 or not isinstance(target, cst.Name):
                return None
            key = _CONFIG_KEYS.get(target.value)
            if key is None or key in {_keyword(a) for a in args}:
                return None
            args.append(keyword_arg(key, small.value).with_changes(comma=_COMMA))
        if not args:
            return None
        value = cst.Call(func=cst.Name("ConfigDict"), args=_without_trailing_comma(args))
        assign = cst.Assign(targets=[cst.AssignTarget(cst.Name("model_config"))], value=value)
        return cst.SimpleStatementLine(body=[assign], leading_lines=node.leading_lines)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in V1_METHODS:
            self._check_method(node, func, func.attr.value)
        elif any(_keyword(a) == "regex" for a in node.args) and (
                self.ctx.qualified_name(func) in FIELD):
            self._check_field_regex(node)

    def _check_field_regex(self, node: cst.Call) -> None:
        message = self._say("Field(regex=...)", "Field(pattern=...)")
        regex = next(a for a in node.args if _keyword(a) == "regex")
        text = regex.value.evaluated_value if isinstance(regex.value, cst.SimpleString) else ""
        if isinstance(text, str) and _NOT_RUST_REGEX.search(text):
            self.report(regex, message + "; lookarounds and backreferences need "
                        '`ConfigDict(regex_engine="python-re")`')
            return
        if any(_keyword(a) == "pattern" for a in node.args):
            self.report(regex, message)
            return
        self.report(regex, message,
                    replace=(regex, regex.with_changes(keyword=cst.Name("pattern"))))

    def _check_method(self, node: cst.Call, func: cst.Attribute, method: str) -> None:
        receiver = func.value
        if method == "copy" and not any(_keyword(a) == "update" for a in node.args):
            return
        if method == "json" and isinstance(receiver, cst.Name) and _is_http_name(receiver.value):
            return
        bound = self.value_of(receiver)
        if bound is None and method in _V1_CONSTRUCTORS and isinstance(receiver, cst.Name):
            model = self.imported_model(receiver.value)
            bound = Bound(model, instance=False) if model is not None else None
        if bound is None or method in bound.model.own:
            return
        new_method, keywords, positional = _METHOD_FIXES[method]
        old = f".{method}(update=...)" if method == "copy" else f".{method}()"
        new = f".{new_method}(update=...)" if method == "copy" else f".{new_method}()"
        if method == "from_orm":
            new = ".model_validate(obj, from_attributes=True)"
        message = self._say(old, new)
        args = list(node.args)
        if (any(a.star for a in args) or sum(_keyword(a) is None for a in args) != positional
                or any(_keyword(a) not in keywords for a in args if a.keyword is not None)):
            self.report(node, message)
            return
        if method == "from_orm":
            args = [args[0].with_changes(comma=_COMMA), keyword_arg("from_attributes", cst.Name("True"))]
        new_call = node.with_changes(func=func.with_changes(attr=cst.Name(new_method)), args=args)
        self.report(node, message, replace=(node, new_call))


def from_the_project(ctx: FileContext, name: str) -> bool:
    """Is `name` imported from the project's own modules: a relative import, or an
    absolute one from the package the file lives in (`app/api.py` importing
    `app.schemas`; `src/shop/api.py` importing `shop.models`)?"""
    target = ctx.imports.get(name)
    if target is None:
        return False
    if target.startswith("."):
        return True
    folders = PurePosixPath(ctx.path).parts[:-1]
    package = folders[1:2] if folders[:1] == ("src",) else folders[:1]
    return target.partition(".")[0] in package


def _is_http_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _HTTP_NAMES or "response" in lowered or "request" in lowered


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
        if not isinstance(container, (cst.Module, cst.IndentedBlock)):
            return None  # `if x: from pydantic import ...` on one line
        kept = [a for a in node.names if a not in moved]
        # The new last name ends like the old one did: no comma, or the trailing comma and
        # newline of a parenthesized import.
        kept[-1] = kept[-1].with_changes(comma=node.names[-1].comma)
        new_line = line.deep_replace(node, node.with_changes(names=kept))
        split = [new_line]
        for alias in moved:
            asname = alias.asname.name if alias.asname is not None else None
            suffix = f" as {asname.value}" if isinstance(asname, cst.Name) else ""
            split.append(cst.parse_statement(
                f"from pydantic_settings import BaseSettings{suffix}\n"))
        body: list[cst.BaseStatement] = []
        for stmt in container.body:
            body.extend(split if stmt is line else [stmt])  # type: ignore[list-item]
        return container, container.with_changes(body=body)
