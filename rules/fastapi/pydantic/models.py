"""Which classes of a module are Pydantic models, and the names PYS404/PYS405 share.

`model_of` reads a class's bases; `pydantic_1` and `from_the_project` read what the
project says about Pydantic and where a name comes from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext

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

# Calls on a model class that return an instance of it.
CONSTRUCTORS = frozenset({"model_validate", "model_validate_json", "model_construct", "parse_obj",
                          "parse_raw", "from_orm", "construct"})
V1_METHODS = frozenset({"dict", "json", "parse_obj", "parse_raw", "from_orm", "copy"})
# Class methods only a Pydantic model has: calling one on a class is evidence it is a model.
PYDANTIC_CONSTRUCTORS = frozenset({"model_validate", "model_validate_json", "parse_obj",
                                   "parse_raw", "from_orm"})
V1_CONSTRUCTORS = frozenset({"parse_obj", "parse_raw", "from_orm"})


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



def model_of(node: cst.ClassDef, ctx: FileContext,
             known: Callable[[str], Model | None]) -> Model | None:
    """The class as a `Model` if a base is a Pydantic model (`known` resolves local names)."""
    settings = is_model = False
    own = {s.name.value for s in class_body(node) if isinstance(s, cst.FunctionDef)}
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


def class_body(node: cst.ClassDef) -> Sequence[cst.BaseStatement | cst.BaseSmallStatement]:
    """The statements of a class body."""
    return node.body.body


def small_statements(node: cst.ClassDef) -> list[cst.BaseSmallStatement]:
    """The simple statements of a class body, on their own lines or `class C: a = 1; b = 2`."""
    out: list[cst.BaseSmallStatement] = []
    for stmt in class_body(node):
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        elif isinstance(stmt, cst.BaseSmallStatement):
            out.append(stmt)
    return out


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
