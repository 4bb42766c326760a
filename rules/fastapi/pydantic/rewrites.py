"""The Pydantic v2 spelling of v1 code, built for PYS404's fixes.

Each function returns the rewritten node, or None where v2 would behave differently (a
validator taking `values`, a `class Config` key v2 lacks, a comment that would be lost).
"""

from __future__ import annotations

import re

import libcst as cst

from pystd.rules.context import FileContext
from pystd.rules.fastapi.pydantic.models import class_body
from pystd.rules.nodes import is_false, is_true, keyword_arg
from pystd.rules.walker import find_nodes

_FIELD_VALIDATOR = "pydantic.field_validator"
_DUMP_KEYWORDS = frozenset({"include", "exclude", "by_alias", "exclude_unset", "exclude_defaults",
                            "exclude_none"})
# v1 method -> (v2 method, keywords the v2 method takes alike, positional arguments allowed).
METHOD_FIXES: dict[str, tuple[str, frozenset[str], int]] = {
    "dict": ("model_dump", _DUMP_KEYWORDS, 0),
    "json": ("model_dump_json", _DUMP_KEYWORDS | {"indent"}, 0),
    "copy": ("model_copy", frozenset({"update", "deep"}), 0),
    "parse_obj": ("model_validate", frozenset(), 1),
    "parse_raw": ("model_validate_json", frozenset(), 1),
    "from_orm": ("model_validate", frozenset(), 1),
}

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
NOT_RUST_REGEX = re.compile(r"\(\?<?[=!]|\(\?P=|\\[1-9]")

COMMA = cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))


def arg_keyword(arg: cst.Arg) -> str | None:
    """The keyword an argument is passed by, or None for a positional one."""
    return arg.keyword.value if arg.keyword is not None else None


def without_trailing_comma(args: list[cst.Arg]) -> list[cst.Arg]:
    """`args` with the last one's comma dropped (changed in place, and returned)."""
    if args and isinstance(args[-1].comma, cst.Comma):
        args[-1] = args[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)
    return args


def validator_fix(ctx: FileContext, func: cst.FunctionDef,
                  dec: cst.Decorator) -> cst.FunctionDef | None:
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
        keyword = arg_keyword(arg)
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
    elif ctx.imports.get("field_validator", _FIELD_VALIDATOR) == _FIELD_VALIDATOR:
        new_func = cst.Name("field_validator")
    else:
        return None  # the name is taken by something else
    new_dec = dec.with_changes(decorator=call.with_changes(
        func=new_func, args=without_trailing_comma(args)))
    decorators: list[cst.Decorator] = []
    for d in func.decorators:
        decorators.append(new_dec if d is dec else d)
        if d is dec and not any(ctx.qualified_name(x.decorator) == "builtins.classmethod"
                                for x in func.decorators):
            decorators.append(cst.Decorator(decorator=cst.Name("classmethod")))
    return func.with_changes(decorators=decorators)

def _has_comment(ctx: FileContext, node: cst.CSTNode) -> bool:
    """Would rewriting `node` lose a comment? (`#` in a string errs on the safe side.)"""
    module = ctx.module
    return module is None or "#" in module.code_for_node(node)

def config_fix(ctx: FileContext, node: cst.ClassDef) -> cst.SimpleStatementLine | None:
    """`class Config:` -> `model_config = ConfigDict(...)`, if every statement is a plain
    `key = value` of a key v2 has, the class has no `model_config` and no comment is lost."""
    owner = ctx.ancestors[-3]
    assert isinstance(owner, cst.ClassDef)
    if node.bases or node.keywords or node.decorators or _has_comment(ctx, node.body):
        return None
    if any(n.value == "model_config" for n in find_nodes(owner.body, (cst.Name,))):
        return None
    if ctx.imports.get("ConfigDict", "pydantic.ConfigDict") != "pydantic.ConfigDict":
        return None
    args: list[cst.Arg] = []
    for stmt in class_body(node):
        small = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
        if not isinstance(small, cst.Assign) or len(stmt.body) != 1:  # type: ignore[union-attr]
            return None
        target = small.targets[0].target
        if len(small.targets) != 1 or not isinstance(target, cst.Name):
            return None
        key = _CONFIG_KEYS.get(target.value)
        if key is None or key in {arg_keyword(a) for a in args}:
            return None
        args.append(keyword_arg(key, small.value).with_changes(comma=COMMA))
    if not args:
        return None
    value = cst.Call(func=cst.Name("ConfigDict"), args=without_trailing_comma(args))
    assign = cst.Assign(targets=[cst.AssignTarget(cst.Name("model_config"))], value=value)
    return cst.SimpleStatementLine(body=[assign], leading_lines=node.leading_lines)
