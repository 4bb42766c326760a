"""PYS303 flask-request-json."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.flask.application import Shadowing

REQUEST_OBJECTS = frozenset({"flask.request", "flask.globals.request"})
# Nodes that, holding the attribute in one of these fields, write or delete it.
_STORE_FIELDS: dict[type[cst.CSTNode], str] = {
    cst.AssignTarget: "target",
    cst.AnnAssign: "target",
    cst.AugAssign: "target",
    cst.Del: "target",
    cst.For: "target",
    cst.CompFor: "target",
    cst.AsName: "name",
}
_UNPACKING = (cst.Element, cst.StarredElement, cst.Tuple, cst.List)


@register
class FlaskRequestJson(Rule):
    code = "PYS303"
    # The property calls get_json(): the fix keeps what the code does.
    fix_safe = True
    name = "flask-request-json"
    severity = Severity.INFO
    category = Category.STYLE
    default = False
    rationale = (
        "`request.json` and `request.get_json()` behave the same since Flask 2.1 (issue #9), "
        "so the choice is style. Opt-in."
    )
    message = "Read the JSON body with `{name}.get_json()` rather than the `{name}.json` property"
    requires = (".json",)
    docs = """
## What it does
In a module that imports Flask, flags reads of the `request.json` attribute, where
`request` is Flask's request object resolved through import aliases
(`from flask import request as req; req.json`, `flask.request.json`). Calls of
`request.get_json(...)`, assignments to the attribute, and `.json` on anything else
(`response.json`, `self.request.json`, `resp.json()`) are never flagged.

## Why is this bad?
`request.json` reads like a plain field but parses the body and can abort the request:
Werkzeug documents the property as calling `get_json()` with default arguments, which
raises 415 Unsupported Media Type when the request is not `application/json` and 400 Bad
Request when the body is not valid JSON (Werkzeug 2.1 and 2.3 changelogs;
`Request.get_json` in the Flask API docs, flask.palletsprojects.com/en/stable/api/).
Writing `request.get_json()` keeps the parse visible at the one place it happens, and is
where the choices go when a handler needs them: `get_json(silent=True)` to answer a
missing or malformed body itself, `force=True` for clients that omit the header. One
spelling across the codebase makes that easy to review.

This is a matter of style, not of behaviour: the property is `get_json()` with default
arguments (Werkzeug's `Request.json`), so on every Flask version both spellings give the
same result and raise the same errors on the same requests. Code that reads `request.json`
loses nothing by it; the rule is for teams that want one spelling.

## Example
```python
@bp.post("/users")
def create_user():
    name = request.json["name"]
```

## Use instead
```python
@bp.post("/users")
def create_user():
    payload = request.get_json()
    name = payload["name"]
```

## Fix
`request.json` -> `request.get_json()` (same behaviour: the property calls it).

## Versions
The property has called `get_json()` with default arguments in every Flask release
(Flask 1.x's `JSONMixin`, Werkzeug's `Request` since 2.0); what Flask 2.1 changed is how
both react to a request that is not JSON (`None` before, an error since). No version makes
the two spellings behave differently, so the rule reads no dependency pins.

## Suppress
`# noqa: PYS303` on the line.
"""
    bad = (
        Example(
            """
            from flask import request


            def create():
                return request.json['name']  # flagged
            """,
            fixed="""
            from flask import request


            def create():
                return request.get_json()['name']  # flagged
            """,
        ),
        Example(
            """
            from flask import request as req


            def create():
                data = req.json  # flagged
                return data
            """,
            fixed="""
            from flask import request as req


            def create():
                data = req.get_json()  # flagged
                return data
            """,
        ),
        Example(
            """
            import flask


            def create():
                return flask.request.json.get('name')  # flagged
            """,
            fixed="""
            import flask


            def create():
                return flask.request.get_json().get('name')  # flagged
            """,
        ),
    )
    good = (
        """
        from flask import request


        def create():
            return request.get_json(silent=True)
        """,
        """
        import requests
        from flask import request


        def proxy(url):
            response = requests.post(url, json=request.get_json(), timeout=5)
            return response.json
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        self._shadowed = Shadowing()

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return ctx.imports_module("flask")

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value != "json":
            return
        ctx = self.ctx
        if ctx.qualified_name(node.value) not in REQUEST_OBJECTS:
            return
        parent = ctx.parent
        if isinstance(parent, cst.Call) and parent.func is node:
            return  # `request.json()` is not Flask's API: someone else's object
        name = dotted_name(node.value) or "request"
        if self._stored() or self._shadowed(ctx, name.split(".")[0]):
            return
        call = cst.Call(
            func=node.with_changes(attr=cst.Name("get_json"), lpar=[], rpar=[]),
            lpar=node.lpar,
            rpar=node.rpar,
        )
        self.report(node, self.message.format(name=name), replace=(node, call))

    def _stored(self) -> bool:
        """Is the attribute being visited written or deleted rather than read?"""
        ancestors = self.ctx.ancestors
        child = ancestors[-1]
        for index in range(len(ancestors) - 2, -1, -1):
            holder = ancestors[index]
            if isinstance(holder, _UNPACKING):  # `request.json, x = ...`
                child = holder
                continue
            field = _STORE_FIELDS.get(type(holder))
            return field is not None and getattr(holder, field) is child
        return False
