"""PYS304 flask-url-built-by-hand."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Rule, Severity, register
from pystd.rules.nodes import literal_string, string_pieces

REDIRECTS = frozenset({"flask.redirect", "flask.helpers.redirect", "werkzeug.redirect",
                       "werkzeug.utils.redirect"})

# A piece of a built string: its literal text, or None for an interpolated value.
_Piece = tuple[str | None, cst.BaseExpression | None]


@register
class FlaskUrlBuiltByHand(Rule):
    code = "PYS304"
    name = "flask-url-built-by-hand"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = "`url_for` over hand-built paths is a convention; a literal path works. Opt-in."
    message = 'URL path built by hand for `redirect()`: use `url_for("endpoint", **values)`'
    requires = ("redirect",)
    docs = """
## What it does
In a module that imports Flask, flags `redirect(...)` (`flask.redirect`, through import
aliases) whose target is a path starting with `/` built from values by an f-string
(`f"/users/{user_id}"`), `+` concatenation (`"/users/" + str(user_id)`) or `.format`
(`"/users/{}".format(user_id)`). Literal URLs (`redirect("/login")`), `url_for(...)`
targets, and external URLs (`f"https://{host}/..."`, `"//cdn" + ...`) are never flagged,
nor is a target whose start is not literal (`f"{base}/users"`).

## Why is this bad?
A hand-built path duplicates the route's URL rule: rename the route, add a Blueprint
`url_prefix`, or mount the application under a sub-path (`SCRIPT_NAME`, a reverse proxy
prefix) and the redirect silently points at a 404. Interpolated values are not escaped
either, so a name with `/`, `?` or `#` changes the target. Flask's Quickstart ("URL
Building", flask.palletsprojects.com/en/stable/quickstart/#url-building) gives exactly these
reasons for `url_for()`: URLs change in one place, special characters are escaped, and
paths stay correct when the application is not at the root; the `url_for` API docs
(flask.palletsprojects.com/en/stable/api/#flask.url_for) show building by endpoint name.

## Example
```python
@bp.post("/users")
def create_user():
    user = users.create(request.form)
    return redirect(f"/users/{user.id}")
```

## Use instead
```python
@bp.post("/users")
def create_user():
    user = users.create(request.form)
    return redirect(url_for("users.detail", user_id=user.id))
```

## Suppress
`# noqa: PYS304` on the line.
"""
    bad = (
        """
        from flask import redirect


        def saved(user_id):
            return redirect(f'/users/{user_id}')  # flagged
        """,
        """
        from flask import redirect


        def saved(user_id):
            return redirect('/users/' + str(user_id))  # flagged
        """,
        """
        import flask


        def saved(user_id):
            return flask.redirect('/users/{}'.format(user_id))  # flagged
        """,
    )
    good = (
        """
        from flask import redirect, url_for


        def saved(user_id):
            return redirect(url_for('users.detail', user_id=user_id))
        """,
        """
        from flask import redirect


        def logout():
            return redirect('/login')
        """,
        """
        from flask import redirect


        def docs(host, page):
            return redirect(f'https://{host}/docs/{page}')
        """,
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module("flask")

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            if func.attr.value != "redirect":
                return
        elif not isinstance(func, cst.Name):
            return
        if self.ctx.qualified_name(func) not in REDIRECTS:
            return
        target = _location(node)
        if target is not None and builds_path(target):
            self.report(target)


def _location(call: cst.Call) -> cst.BaseExpression | None:
    """`redirect(location, code=302, Response=None)`: the location argument."""
    for index, arg in enumerate(call.args):
        if arg.star:
            return None
        if arg.keyword is None and index == 0:
            return arg.value
        if arg.keyword is not None and arg.keyword.value == "location":
            return arg.value
    return None


def builds_path(node: cst.BaseExpression) -> bool:
    """Is `node` an f-string, `+` or `.format(...)` that puts values into a literal path
    starting with one `/`? Paths that interpolate a `url_for(...)` are left alone."""
    pieces = list(_pieces(node))
    if not pieces or not any(text is None for text, _ in pieces):
        return False  # a literal, or not a string we can read
    lead = ""
    for text, _ in pieces:
        if text is None:
            break
        lead += text
    if not lead.startswith("/") or lead.startswith("//"):
        return False
    return not any(_is_url_for(value) for text, value in pieces if text is None)


def _pieces(node: cst.BaseExpression) -> Iterator[_Piece]:
    """The literal texts and interpolated values of a built string, left to right.
    Yields nothing for expressions that are not string building."""
    if isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString)):
        yield from _literal_pieces(node)
    elif isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        operands: list[cst.BaseExpression] = []
        left: cst.BaseExpression = node
        while isinstance(left, cst.BinaryOperation) and isinstance(left.operator, cst.Add):
            operands.append(left.right)
            left = left.left
        operands.append(left)
        operands.reverse()
        if not _is_string(operands[0]):
            return  # `base + "/x"`: we cannot tell where it starts
        for operand in operands:
            if _is_string(operand):
                yield from _literal_pieces(operand)
            else:
                yield None, operand
    elif (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Attribute)
        and node.func.attr.value == "format"
        and node.args
        and _is_string(node.func.value)
    ):
        yield from _literal_pieces(node.func.value)
        for arg in node.args:
            yield None, arg.value


def _is_string(node: cst.BaseExpression) -> bool:
    return isinstance(node, (cst.SimpleString, cst.FormattedString, cst.ConcatenatedString))


def _literal_pieces(node: cst.BaseExpression) -> Iterator[_Piece]:
    for item in string_pieces(node):
        if isinstance(item, cst.FormattedString):
            for part in item.parts:
                if isinstance(part, cst.FormattedStringText):
                    yield part.value, None
                elif isinstance(part, cst.FormattedStringExpression):
                    yield None, part.expression
        else:
            text = literal_string(item)
            if text is None:  # bytes: not a URL we understand
                yield None, None
                return
            yield text, None


def _is_url_for(value: cst.BaseExpression | None) -> bool:
    if not isinstance(value, cst.Call):
        return False
    name = dotted_name(value.func) or ""
    return name == "url_for" or name.endswith(".url_for")
