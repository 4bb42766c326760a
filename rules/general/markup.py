"""PYS106 unsafe-markup: values marked as safe HTML without escaping."""

from __future__ import annotations

import libcst as cst

from pystd.rules.context import FileContext, dotted_name
from pystd.rules.engine import Category, Example, Rule, Severity, register
from pystd.rules.general.strings import string_pieces, string_value

# `django.utils.html` re-exports `mark_safe`; both spellings are in use.
MARK_SAFE = frozenset({"django.utils.safestring.mark_safe", "django.utils.html.mark_safe"})
# Calls that declare their argument safe HTML, through import aliases.
SAFE_MARKERS = MARK_SAFE | frozenset({
    "django.utils.safestring.SafeString",
    "django.utils.safestring.SafeText",
    "markupsafe.Markup",
    "flask.Markup",
    "jinja2.Markup",
})
RENDER_TEMPLATE_STRING = frozenset({"flask.render_template_string"})
FORMAT_HTML = frozenset({"django.utils.html.format_html"})
# Arguments that are already escaped HTML: marking them safe changes nothing.
ESCAPING_CALLS = frozenset({
    "django.utils.html.escape", "django.utils.html.conditional_escape",
    "django.utils.html.format_html", "django.utils.html.format_html_join",
    "django.utils.html.json_script", "django.template.loader.render_to_string",
    "django.shortcuts.render_to_string", "markupsafe.escape", "markupsafe.Markup.escape",
    "flask.escape", "flask.render_template", "html.escape",
    # attribute lists whose values are escaped: Django's `flatatt`, WTForms' `html_params`
    "django.forms.utils.flatatt", "wtforms.widgets.html_params",
    "wtforms.widgets.core.html_params",
    "django.contrib.auth.password_validation.password_validators_help_text_html",
    # HTML sanitizers: what they return keeps only allowed tags and attributes
    "nh3.clean", "bleach.clean",
})
# Template loaders: `env.get_template(name).render(...)` is a rendered template, escaped
# by the engine (Jinja environments of web frameworks autoescape, Django templates always).
TEMPLATE_LOADERS = frozenset({"get_template", "select_template", "get_or_select_template"})
TEMPLATE_RENDERERS = frozenset({"render", "render_async"})
# Characters a JSON or text value must not carry into HTML unescaped (`str.maketrans`
# tables that replace them, as `htmlsafe_json_dumps` does, make the text safe).
HTML_SPECIAL = frozenset({"<", ">", "&"})
FORMAT_HTML_IMPORT = "from django.utils.html import format_html"
# Translation functions (any module: projects wrap them, `from app.i18n import _`): of a
# literal they return the translators' text, with no value in it.
GETTEXT_FUNCTIONS = frozenset({"gettext", "gettext_lazy", "ugettext", "ugettext_lazy",
                               "pgettext", "pgettext_lazy", "lazy_gettext", "lazy_pgettext",
                               "_", "_lazy"})
NUMBER_CALLS = frozenset({"builtins.int", "builtins.float", "builtins.len", "builtins.ord",
                          "builtins.bool", "builtins.round", "builtins.abs"})
# What a value can hold, for `_kind`: text without values in it, a number, a template
# loaded by name (whose `.render()` is text), or anything.
_TEXT, _NUMBER, _TEMPLATE, _UNSAFE = "text", "number", "template", "unsafe"
_MAX_DEPTH = 30  # nesting followed; deeper values count as unsafe


@register
class UnsafeMarkup(Rule):
    code = "PYS106"
    name = "unsafe-markup"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = False
    rationale = (
        "`mark_safe`/`Markup` of a variable is usually markup the project built on purpose: "
        "93 findings on the tuning projects, about 2 of 14 read worth a comment, and wagtail "
        "had checked 23 such lines (`# noqa: S308`). Opt-in, and an error only with evidence "
        "that untrusted data reaches it."
    )
    message = "`{call}` of a non-literal value bypasses HTML escaping (XSS)"
    format_message = ("`format_html` of a pre-formatted string escapes nothing; pass the "
                      "values as its arguments")
    requires = ("mark_safe", "SafeString", "SafeText", "Markup", "render_template_string",
                "format_html")
    docs = """
## What it does
Flags calls that declare a value safe HTML or a template source when the value is not a
string literal: Django's `mark_safe(...)`/`SafeString(...)`, `Markup(...)` from
markupsafe or Flask, and Flask's `render_template_string(...)`. Also flags Django's
`format_html` called with a string already formatted by an f-string, `.format(...)` or
`%`, which leaves nothing for it to escape.

Arguments with no unescaped value in them are not flagged: literals (`mark_safe("<br>")`),
translated literals (`mark_safe(_("<b>Note</b>"))`), a literal repeated
(`mark_safe("&nbsp;" * depth)`), values already escaped (`mark_safe(format_html(...))`,
`Markup(escape(x))`, `mark_safe(render_to_string(...))`, `mark_safe(flatatt(attrs))`, a
template loaded by name and rendered, `Markup(env.get_template(name).render(ctx))`), HTML
sanitized by `nh3.clean`/`bleach.clean`, text passed through a module-level
`str.maketrans` table that replaces `<`, `>` and `&` (`json.dumps(data).translate(T)`), and
f-strings, `+`, `%`, `.format(...)` and `"".join(...)` built only from these, numbers and
local names assigned only these (`mark_safe(f"<i>{escape(name)}</i>")`). Nor is
`format_html("<b>{}</b>", value)`.

## Why is this bad?
Autoescaping is what keeps user data from becoming markup. `mark_safe` and `Markup` turn it
off for their argument: Django's documentation warns that `mark_safe` "should not be used
on user input", Flask's security page ("Cross-Site Scripting") says the same of `Markup`,
and a template built from a value with `render_template_string` lets that value inject
template code (server-side template injection). OWASP's Cross Site Scripting Prevention
Cheat Sheet: escape output by its context, don't mark untrusted data as safe.

## Example
```python
return mark_safe(f"<b>{user.name}</b>")
```

## Use instead
```python
return format_html("<b>{}</b>", user.name)
```
`format_html` escapes each argument; in Flask/Jinja pass values to a template, or
`Markup("<b>{}</b>").format(name)`.

## Fix
`mark_safe(f"<b>{x}</b>")` becomes `format_html("<b>{}</b>", x)` (adding
`from django.utils.html import format_html`) when the f-string's placeholders have no
format spec or conversion.

## Suppress
`# noqa: PYS106` on the line, for a value you know is already escaped HTML.
"""
    bad = (
        Example(
            """
            from django.utils.safestring import mark_safe


            def badge(user):
                return mark_safe(f'<b>{user.name}</b>')  # flagged
            """,
            fixed="""
            from django.utils.safestring import mark_safe
            from django.utils.html import format_html


            def badge(user):
                return format_html('<b>{}</b>', user.name)  # flagged
            """,
        ),
        """
        from markupsafe import Markup


        def badge(name):
            return Markup('<b>' + name + '</b>')  # flagged
        """,
        """
        from flask import render_template_string, request


        def page():
            return render_template_string(request.args['t'])  # flagged
        """,
        """
        from django.utils.html import format_html


        def link(url):
            return format_html(f'<a href="{url}">x</a>')  # flagged
        """,
    )
    good = (
        """
        from django.utils.safestring import mark_safe

        BR = mark_safe('<br>')
        """,
        """
        from django.utils.html import format_html


        def badge(user):
            return format_html('<b>{}</b>', user.name)
        """,
        """
        from markupsafe import Markup


        def badge(name):
            return Markup('<b>{}</b>').format(name)
        """,
        """
        from flask import render_template_string


        def page(name):
            return render_template_string('<p>{{ name }}</p>', name=name)
        """,
    )

    def __init__(self, ctx: FileContext) -> None:
        super().__init__(ctx)
        # (scope id, name) -> what every assignment to the name so far holds (`_kind`).
        self._names: dict[tuple[int, str], str] = {}
        # Names bound to a dict display: changed in place, they hold anything.
        self._dicts: set[tuple[int, str]] = set()
        # Module-level `str.maketrans({...})` tables that replace `<`, `>` and `&`.
        self._escape_tables: set[str] = set()

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if self._dicts:
            self._forget_changed_dicts(node)
        if isinstance(func, cst.Name):
            if func.value not in self.ctx.imports:  # `from ... import mark_safe as safe`
                return
        elif not isinstance(func, cst.Attribute) or func.attr.value not in _SHORT_NAMES:
            return
        qualified = self.ctx.qualified_name(func)
        if qualified is None:
            return
        short = qualified.rsplit(".", 1)[-1]
        arg = _first_argument(node)
        if arg is None:
            return
        if qualified in FORMAT_HTML:
            if _pre_formatted(arg):
                self.report(node, self.format_message)
            return
        if qualified not in SAFE_MARKERS and qualified not in RENDER_TEMPLATE_STRING:
            return
        if self._kind(arg) != _UNSAFE:
            return
        message = self.message.format(call=short)
        new = _format_html_call(node, arg) if qualified in MARK_SAFE else None
        if new is None:
            self.report(node, message)
        else:
            self.report(node, message, replace=(node, new), imports=(FORMAT_HTML_IMPORT,))

    # -- what a value holds -------------------------------------------------------------

    def _kind(self, expr: cst.BaseExpression, depth: int = 0) -> str:
        """`_TEXT` for text with no unescaped value in it, `_NUMBER` for a number, else
        `_UNSAFE`: literals, translated literals, escaping calls and numbers, combined by
        f-strings, `+`, `*`, `%`, `.format(...)`, `"".join(...)`, `x if c else y`."""
        if depth > _MAX_DEPTH:
            return _UNSAFE
        deeper = depth + 1
        if isinstance(expr, (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)):
            for piece in string_pieces(expr):
                if isinstance(piece, cst.FormattedString):
                    if any(isinstance(part, cst.FormattedStringExpression)
                           and self._kind(part.expression, deeper) == _UNSAFE
                           for part in piece.parts):
                        return _UNSAFE
                elif not isinstance(piece, cst.SimpleString):
                    return _UNSAFE
            return _TEXT
        if isinstance(expr, (cst.Integer, cst.Float)):
            return _NUMBER
        if isinstance(expr, cst.Name):
            if expr.value in ("True", "False", "None"):
                return _NUMBER
            return self._bound(expr.value)
        if isinstance(expr, (cst.Tuple, cst.Dict)):  # the values of `%`: "%(a)s" % {...}
            return _TEXT if self._all_safe(expr, deeper) else _UNSAFE
        if isinstance(expr, cst.IfExp):
            return _combine(self._kind(expr.body, deeper), self._kind(expr.orelse, deeper))
        if isinstance(expr, cst.BinaryOperation):
            return self._operation_kind(expr, deeper)
        if isinstance(expr, cst.Call):
            return self._call_kind(expr, deeper)
        if isinstance(expr, cst.Await) and isinstance(expr.expression, cst.Call):
            return self._call_kind(expr.expression, deeper)  # await tpl.render_async(...)
        return _UNSAFE

    def _operation_kind(self, expr: cst.BinaryOperation, depth: int) -> str:
        left = self._kind(expr.left, depth)
        operator = expr.operator
        if isinstance(operator, cst.Modulo) and left == _TEXT:  # "<b>%s</b>" % (a, b)
            return _TEXT if self._kind(expr.right, depth) != _UNSAFE else _UNSAFE
        right = self._kind(expr.right, depth)
        if isinstance(operator, cst.Multiply) and _TEXT in (left, right):
            return _TEXT  # "&nbsp;" * depth: the count must be a number or `*` raises
        if isinstance(operator, cst.Add):
            return _combine(left, right)
        return _NUMBER if left == right == _NUMBER else _UNSAFE

    def _call_kind(self, call: cst.Call, depth: int) -> str:
        func = call.func
        qualified = self.ctx.qualified_name(func)
        if qualified in ESCAPING_CALLS:
            return _TEXT
        if qualified in NUMBER_CALLS:
            return _NUMBER
        name = func.value if isinstance(func, cst.Name) else (
            func.attr.value if isinstance(func, cst.Attribute) else None)
        if name in GETTEXT_FUNCTIONS:  # `_("...")` of literals only
            return _TEXT if call.args and all(
                not arg.star and arg.keyword is None and _is_literal(arg.value)
                for arg in call.args) else _UNSAFE
        if name in TEMPLATE_LOADERS and _is_literal_or_name(call):
            return _TEMPLATE  # env.get_template("widget.html"), get_template(self.template)
        if isinstance(func, cst.Attribute) and name in TEMPLATE_RENDERERS:
            return _TEXT if self._kind(func.value, depth) == _TEMPLATE else _UNSAFE
        if (name == "translate" and len(call.args) == 1 and not call.args[0].star
                and isinstance(call.args[0].value, cst.Name)
                and call.args[0].value.value in self._escape_tables):
            return _TEXT  # json_dumps(data).translate(_JSON_HTML_ESCAPES)
        if not isinstance(func, cst.Attribute) or self._kind(func.value, depth) != _TEXT:
            return _UNSAFE
        if any(arg.star for arg in call.args):
            return _UNSAFE
        if name == "format":  # "<b>{}</b>".format(escape(x))
            ok = all(self._kind(arg.value, depth) != _UNSAFE for arg in call.args)
            return _TEXT if ok else _UNSAFE
        if name == "join" and len(call.args) == 1:  # "".join("<li>" + escape(x) ... )
            items = call.args[0].value
            if isinstance(items, (cst.GeneratorExp, cst.ListComp, cst.SetComp)):
                return _TEXT if self._kind(items.elt, depth) != _UNSAFE else _UNSAFE
            if isinstance(items, (cst.List, cst.Tuple, cst.Set)):
                return _TEXT if self._all_safe(items, depth) else _UNSAFE
        return _UNSAFE

    def _all_safe(self, display: cst.BaseExpression, depth: int) -> bool:
        if isinstance(display, cst.Dict):
            return all(isinstance(el, cst.DictElement) and self._kind(el.value, depth) != _UNSAFE
                       for el in display.elements)
        elements = getattr(display, "elements", ())
        return all(isinstance(el, cst.Element) and self._kind(el.value, depth) != _UNSAFE
                   for el in elements)

    # -- local names ----------------------------------------------------------------------

    def _scope(self) -> int:
        """The function or class whose names an assignment binds (0: the module)."""
        for node in reversed(self.ctx.ancestors):
            if isinstance(node, (cst.FunctionDef, cst.Lambda, cst.ClassDef)):
                return id(node)
        return 0

    def _bound(self, name: str) -> str:
        """What every assignment to `name` seen so far held: in this function, else at
        module level. Parameters and unassigned names are `_UNSAFE`."""
        kind = self._names.get((self._scope(), name))
        if kind is None:
            kind = self._names.get((0, name), _UNSAFE)
        return kind

    def _bind(self, target: cst.BaseExpression, kind: str) -> None:
        if isinstance(target, cst.Name):
            key = (self._scope(), target.value)
            before = self._names.get(key)
            self._names[key] = kind if before is None else _combine(before, kind)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind(element.value, _UNSAFE)
        elif isinstance(target, cst.StarredElement):
            self._bind(target.value, _UNSAFE)
        elif isinstance(target, cst.Subscript) and isinstance(target.value, cst.Name):
            self._names[(self._scope(), target.value.value)] = _UNSAFE  # d["k"] = value

    def _forget_changed_dicts(self, call: cst.Call) -> None:
        """A dict changed by a method (`d.update(...)`) or passed to a call holds anything."""
        scope = self._scope()
        func = call.func
        names = [arg.value for arg in call.args]
        if isinstance(func, cst.Attribute):
            names.append(func.value)
        for name in names:
            if isinstance(name, cst.Name) and (scope, name.value) in self._dicts:
                self._names[(scope, name.value)] = _UNSAFE

    def leave_Assign(self, original_node: cst.Assign) -> None:
        value = original_node.value
        kind = self._kind(value)
        if self._scope() == 0 and _is_escape_table(value):
            for target in original_node.targets:
                if isinstance(target.target, cst.Name):
                    self._escape_tables.add(target.target.value)
        for target in original_node.targets:
            self._bind(target.target, kind)
            if isinstance(value, cst.Dict) and isinstance(target.target, cst.Name):
                self._dicts.add((self._scope(), target.target.value))

    def leave_AnnAssign(self, original_node: cst.AnnAssign) -> None:
        if original_node.value is not None:
            self._bind(original_node.target, self._kind(original_node.value))

    def leave_AugAssign(self, original_node: cst.AugAssign) -> None:
        target = original_node.target
        if isinstance(target, cst.Name) and isinstance(original_node.operator, cst.AddAssign):
            before = self._names.get((self._scope(), target.value), _UNSAFE)
            self._names[(self._scope(), target.value)] = _combine(
                before, self._kind(original_node.value))
        else:
            self._bind(target, _UNSAFE)

    def leave_NamedExpr(self, original_node: cst.NamedExpr) -> None:
        self._bind(original_node.target, self._kind(original_node.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind_parameters(node.params)

    def visit_Lambda(self, node: cst.Lambda) -> None:
        self._bind_parameters(node.params)

    def _bind_parameters(self, params: cst.Parameters) -> None:
        """Parameters hide module-level names of the same spelling."""
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            self._bind(param.name, _UNSAFE)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._bind(star.name, _UNSAFE)

    def visit_For(self, node: cst.For) -> None:
        self._bind(node.target, _UNSAFE)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind(node.target, _UNSAFE)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind(node.asname.name, _UNSAFE)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._bind(node.name.name, _UNSAFE)


def _combine(a: str, b: str) -> str:
    """What a value that is one of two kinds (or both, added) holds."""
    if a == b:
        return a
    if _UNSAFE in (a, b) or _TEMPLATE in (a, b):
        return _UNSAFE
    return _TEXT


def _is_literal_or_name(call: cst.Call) -> bool:
    """A template loaded by name: `get_template("a.html")`, `get_template(self.template)`,
    not from a string of template source (that is `Template(...)`/`from_string`)."""
    return bool(call.args) and all(
        not arg.star and isinstance(arg.value, (cst.SimpleString, cst.Name, cst.Attribute,
                                                cst.List, cst.Tuple))
        for arg in call.args)


def _is_escape_table(value: cst.BaseExpression) -> bool:
    """`str.maketrans({"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", ...})`: a table
    replacing every HTML special character by text that has none."""
    if not (isinstance(value, cst.Call) and dotted_name(value.func) == "str.maketrans"
            and len(value.args) == 1 and isinstance(value.args[0].value, cst.Dict)):
        return False
    replaced = set()
    for element in value.args[0].value.elements:
        if not isinstance(element, cst.DictElement):
            return False
        key, new = string_value(element.key), string_value(element.value)
        if key is None or new is None or not HTML_SPECIAL.isdisjoint(new):
            return False
        replaced.add(key)
    return HTML_SPECIAL.issubset(replaced)


_SHORT_NAMES = frozenset(
    q.rsplit(".", 1)[1] for q in SAFE_MARKERS | RENDER_TEMPLATE_STRING | FORMAT_HTML
)


def _first_argument(call: cst.Call) -> cst.BaseExpression | None:
    if not call.args:
        return None
    first = call.args[0]
    if first.star:
        return None
    return first.value


def _is_literal(node: cst.BaseExpression) -> bool:
    """A string literal: plain, implicitly concatenated, or an f-string without values."""
    for piece in string_pieces(node):
        if isinstance(piece, cst.FormattedString):
            if any(isinstance(p, cst.FormattedStringExpression) for p in piece.parts):
                return False
        elif not isinstance(piece, cst.SimpleString):
            return False
    return True


def _pre_formatted(node: cst.BaseExpression) -> bool:
    """An f-string with values, `"...".format(...)` or `"..." % ...`."""
    if isinstance(node, (cst.FormattedString, cst.ConcatenatedString)):
        return not _is_literal(node)
    if isinstance(node, cst.Call):
        func = node.func
        return (isinstance(func, cst.Attribute) and func.attr.value == "format"
                and _is_literal(func.value))
    return (isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Modulo)
            and _is_literal(node.left))


_UNSAFE_AS_ARGUMENT = (cst.NamedExpr, cst.Lambda, cst.Yield, cst.StarredElement)


def _format_html_call(call: cst.Call, arg: cst.BaseExpression) -> cst.Call | None:
    """`mark_safe(f"<b>{x}</b>")` -> `format_html("<b>{}</b>", x)`, or None when the
    f-string is not simple (format spec, conversion, `=`, nested f-strings)."""
    if len(call.args) != 1 or call.args[0].keyword is not None:
        return None
    if not isinstance(arg, cst.FormattedString):
        return None
    prefix = arg.prefix.lower().replace("f", "")
    if prefix not in ("", "r"):
        return None
    template = ""
    values: list[cst.BaseExpression] = []
    for part in arg.parts:
        if isinstance(part, cst.FormattedStringText):
            template += part.value  # braces stay escaped as `{{`/`}}`, as format_html wants
            continue
        assert isinstance(part, cst.FormattedStringExpression)
        if (part.conversion is not None or part.format_spec is not None
                or part.equal is not None or isinstance(part.expression, _UNSAFE_AS_ARGUMENT)):
            return None
        template += "{}"
        values.append(part.expression)
    quote = arg.start[len(arg.prefix):]
    literal = cst.SimpleString(f"{prefix}{quote}{template}{arg.end}")
    args = [cst.Arg(literal, comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))]
    for i, value in enumerate(values):
        last = i == len(values) - 1
        args.append(cst.Arg(value, comma=cst.MaybeSentinel.DEFAULT if last
                            else cst.Comma(whitespace_after=cst.SimpleWhitespace(" "))))
    return call.with_changes(func=cst.Name("format_html"), args=args)

