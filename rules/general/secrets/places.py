"""Where a string sits, for PYS102: sample rows, documented examples, message catalogs,
enum members, URL builders and fixture files, where a secret-looking value is no secret.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.general.secrets.values import ENUM_BASE_SUFFIXES, EXAMPLE_FOLDERS, KEY_NAME
from pystd.rules.general.strings import split_camel_case

_WORDS_ONLY = re.compile(r"[a-z]+(?:[\s_-]+[a-z]+)*")


def words_only(value: str) -> bool:
    """`"reallyhardtoguess"`, `"build-time-secret-key"`, `"super secret key"`: lower-case
    words, no digits or capitals — a stand-in a project ships for the operator to replace
    (flaskbb's default config, pretix's build settings), not a generated credential. Such a
    value is reported only where PYS102 is chosen by code."""
    return _WORDS_ONLY.fullmatch(value.strip()) is not None


def is_sample_row(node: cst.Dict, ctx: FileContext) -> bool:
    """Is the dict one of several rows of a list or tuple display, each with the same
    keys (pretix's sample orders for previews)? A credential is written once; a value that
    varies from row to row is data."""
    parent = ctx.parent
    holder = ctx.ancestors[-3] if len(ctx.ancestors) >= 3 else None
    if not (isinstance(parent, cst.Element) and isinstance(holder, (cst.List, cst.Tuple))):
        return False
    rows = [el.value for el in holder.elements if isinstance(el.value, cst.Dict)]
    return len(rows) >= 2 and len({_keys(row) for row in rows}) == 1


def _keys(node: cst.Dict) -> frozenset[str | None]:
    return frozenset(key_name(el.key) for el in node.elements if isinstance(el, cst.DictElement))


def fixtures_only(ctx: FileContext) -> bool:
    """Test files and example or demo code: only real-looking credentials are flagged."""
    return ctx.kind.is_test or not EXAMPLE_FOLDERS.isdisjoint(
        PurePosixPath(ctx.kind.path).parts[:-1])


def builds_url(call: cst.Call) -> bool:
    """`reverse(...)`, `reverse_lazy(...)`, `url_for(...)`, `request.url_for(...)` and
    project wrappers named like them (`eventreverse_absolute`): their arguments are parts
    of a URL, which travels in the clear, not a credential the code holds."""
    func = call.func
    name = func.value if isinstance(func, cst.Name) else (
        func.attr.value if isinstance(func, cst.Attribute) else "")
    return "reverse" in name or name in _URL_BUILDERS


_URL_BUILDERS = frozenset({"url_for", "url_path_for", "build_absolute_uri"})


# Keyword arguments and dict keys whose values document an example (Pydantic's
# `Field(examples=...)`, FastAPI's `Body(openapi_examples=...)`, an OpenAPI response's
# `"example": {...}`): what they hold is shown to readers of the API docs, not used.
_EXAMPLE_KEYS = frozenset({"example", "examples", "openapi_examples"})


def in_documented_example(ctx: FileContext) -> bool:
    for node in reversed(ctx.ancestors[:-1]):
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            return False
        if (isinstance(node, cst.Arg) and node.keyword is not None
                and node.keyword.value in _EXAMPLE_KEYS):
            return True
        if (isinstance(node, cst.DictElement) and isinstance(node.key, cst.SimpleString)
                and node.key.raw_value in _EXAMPLE_KEYS):
            return True
    return False


def is_message_catalog(node: cst.Dict) -> bool:
    """A dict whose string keys are phrases (`"No results found"`) for a quarter or more:
    a table of UI messages and their translations, where `"Password"` is a label, not a
    field (piccolo-admin's catalogs: 35 phrases of 74 keys)."""
    keys = [e.key.raw_value for e in node.elements
            if isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)]
    phrases = sum(1 for k in keys if " " in k.strip())
    return phrases >= 3 and 4 * phrases >= len(keys)


def enclosing_class(ctx: FileContext) -> cst.ClassDef | None:
    """The class whose body holds the node being visited (not through a function)."""
    for node in reversed(ctx.ancestors):
        if isinstance(node, (cst.FunctionDef, cst.Lambda)):
            return None
        if isinstance(node, cst.ClassDef):
            return node
    return None


def is_enum(node: cst.ClassDef) -> bool:
    for base in node.bases:
        name = dotted_name(base.value)
        if name is not None and name.endswith(ENUM_BASE_SUFFIXES):
            return True
    return False


def key_name(node: cst.BaseExpression) -> str | None:
    """A string key that can name a field (`"password"`, `"X-API-Key"`), read from the
    source without evaluating it: dict keys are many, secret-looking ones few."""
    if not isinstance(node, cst.SimpleString) or "b" in node.prefix.lower():
        return None
    key = node.raw_value
    return key if KEY_NAME.fullmatch(key) else None


def env_name(name: str) -> str:
    """The environment variable for a Python name: `apiKey` -> `API_KEY`."""
    return split_camel_case(name).upper()


def is_bytes(node: cst.BaseExpression) -> bool:
    """`os.environ` holds `str`; a bytes literal gets no fix."""
    if isinstance(node, cst.ConcatenatedString):
        return is_bytes(node.left)
    return isinstance(node, cst.SimpleString) and "b" in node.prefix.lower()


def shorten(name: str, limit: int = 40) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"
