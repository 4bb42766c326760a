"""Change-level rules: they see the whole change (every changed path with its status, the
new text of the files pystd checks, and the changed lines) instead of one file.

`pystd check --diff REF` and the GitHub App both build a `Change` and run these rules
after the per-file ones. A change rule anchors each finding on a changed line of a changed
file (so it can be an inline comment), or on a file's first line when the file itself is
the problem (an added `.env`).
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import io
import tokenize
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import ClassVar

import libcst as cst

from rules.context import FileContext, module_kind
from rules.engine import Example, Finding, Rule, RuleSet, Severity, register
from rules.suppress import is_suppressed, noqa_lines


@dataclass(frozen=True)
class ChangedPath:
    """One path of a change. `text` is the new content of files pystd reads (None for
    removed files and for files it does not read); `added` the changed lines (None: all);
    `old_text` the content before the change (None: added, or not known)."""

    path: str
    status: str  # added | modified | removed | renamed
    text: str | None = None
    added: frozenset[int] | None = None
    previous_path: str | None = None
    old_text: str | None = None


@dataclass(frozen=True)
class Change:
    files: tuple[ChangedPath, ...]
    # Folders known to exist in the repository after the change (for "apps with a
    # migrations/ package"); None when the caller does not know the tree.
    existing_dirs: frozenset[str] | None = None
    # PYS110's threshold: the repository's `max-handler-lines` (PystdConfig.max_handler_lines).
    max_handler_lines: int = 40

    def touches_tests(self) -> bool:
        return any(module_kind(f.path).is_test for f in self.files)

    def python_files(self) -> Iterator[ChangedPath]:
        for f in self.files:
            if f.text is not None and f.path.endswith(".py") and f.status != "removed":
                yield f


class ChangeContext:
    """What a change rule reports into."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self.findings: list[tuple[type[Rule], str, int, int, str]] = []


class ChangeRule(Rule):
    """Base class of rules over a whole change. Subclasses implement `check_change`."""

    file_kind: ClassVar[str] = "change"

    def __init__(self, ctx: ChangeContext) -> None:  # type: ignore[override]
        self.cctx = ctx

    def check_change(self, change: Change) -> None:
        raise NotImplementedError

    def report_line(self, path: str, line: int, message: str | None = None,
                    end_line: int | None = None) -> None:
        self.cctx.findings.append((type(self), path, line, end_line or line,
                                   message or self.message))


def check_change(change: Change, rules: RuleSet) -> tuple[Finding, ...]:
    """Every selected change rule over `change`; `# noqa` on the anchored line counts."""
    ctx = ChangeContext(change)
    for cls in rules:
        if cls.file_kind == "change" and issubclass(cls, ChangeRule):
            cls(ctx).check_change(change)
    texts = {f.path: f.text for f in change.files if f.text is not None}
    out = []
    for cls, path, line, end_line, message in ctx.findings:
        text = texts.get(path)
        if (text is not None and path.endswith(".py")
                and is_suppressed(cls.code, (line,), noqa_lines(text))):
            continue
        out.append(Finding(cls.code, cls.name, rules.severity_of(cls), path, line, 1,
                           end_line, 1, message))
    return tuple(sorted(out, key=lambda f: (f.path, f.line, f.code)))


# -- PYS901, PYS902 ------------------------------------------------------------------------

SECRET_FILE_PATTERNS = (".env", ".env.*", "*.pem", "id_rsa", "id_rsa.*", "id_ed25519",
                        "id_ecdsa", "id_dsa")
SECRET_FILE_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template",
                                   "id_rsa.pub", "id_ed25519.pub", "id_ecdsa.pub", "id_dsa.pub"})


@register
class EnvFileCommitted(ChangeRule):
    code = "PYS902"
    name = "env-file-committed"
    severity = Severity.ERROR
    message = "`{path}` holds secrets and must not be committed; add it to .gitignore"
    docs = """
## What it does
Flags a change that adds a `.env` or `.env.*` file (other than `.env.example`,
`.env.sample` or `.env.template`), a `*.pem` file or an SSH private key (`id_rsa`,
`id_ed25519` …).

## Why is this bad?
These files hold credentials. Once pushed they are in the repository's history for good —
every clone and fork has them — and deleting them in a later commit does not help: the
secrets must be rotated. The Twelve-Factor App keeps configuration in the environment,
and GitHub's own guidance is to never commit secrets (use secret scanning and a vault).

## Example
A pull request that adds `.env` with `DATABASE_URL=postgres://app:s3cret@db/app`.

## Use instead
Commit a `.env.example` with placeholder values, list `.env` in `.gitignore`, and load real
values from the environment or a secret manager.

## Suppress
This rule looks at file names, so there is no line to put `# noqa` on: ignore it in
`[tool.pystd]` (`ignore = ["PYS902"]`) if your repository really must hold such a file.
"""
    bad = ("# the change adds .env  # flagged\n",)
    good = ("# the change adds .env.example\n",)

    def check_change(self, change: Change) -> None:
        for f in change.files:
            if f.status != "added":
                continue
            name = PurePosixPath(f.path).name
            if name in SECRET_FILE_TEMPLATES:
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in SECRET_FILE_PATTERNS):
                self.report_line(f.path, 1, self.message.format(path=f.path))


@register
class HandlerChangeWithoutTests(ChangeRule):
    code = "PYS901"
    name = "handler-change-without-tests"
    severity = Severity.WARNING
    message = "This change edits request handlers ({handlers}) but no test file"
    docs = """
## What it does
Flags a change that adds or edits request handlers — Django views, Flask routes, FastAPI
and Ninja path operations, Starlette endpoints — and touches no test file (`test_*.py`,
`*_test.py`, `tests/`, `conftest.py`). It is reported once per change, on the first changed
handler.

## Why is this bad?
Handlers are where user input meets your code; a behaviour change there without a test is
how regressions ship. Every framework documents a test client for exactly this (Django's
`Client`, Flask's `test_client()`, FastAPI's `TestClient`), and the test pyramid puts the
cheap, fast checks next to the code they guard.

## Example
A pull request that changes `views.py`:
```python
def order_detail(request, pk):
    order = get_object_or_404(Order, pk=pk, owner=request.user)
    return render(request, "orders/detail.html", {"order": order})
```
and no file under `tests/`.

## Use instead
Add or update a test that exercises the handler through the framework's test client.

## Suppress
`# noqa: PYS901` on the handler's `def` line, or `ignore = ["PYS901"]` in `[tool.pystd]`.
"""
    bad = ("# the change edits a view and no test  # flagged\n",)
    good = ("# the change edits a view and tests/test_views.py\n",)

    def check_change(self, change: Change) -> None:
        if change.touches_tests():
            return
        changed: list[tuple[str, int, str]] = []
        for f in change.python_files():
            if module_kind(f.path).is_test:
                continue
            changed.extend(changed_handlers(f))
        if changed:
            path, line, _ = changed[0]
            names = ", ".join(f"`{name}`" for _, _, name in changed[:5])
            if len(changed) > 5:
                names += f" and {len(changed) - 5} more"
            self.report_line(path, line, self.message.format(handlers=names))


def changed_handlers(f: ChangedPath) -> list[tuple[str, int, str]]:
    """(path, def line, name) of handlers in `f` that the change added or edited."""
    assert f.text is not None
    if not any(word in f.text for word in ("request", "route", "@", "Route(")):
        return []
    try:
        module = cst.parse_module(f.text)
    except (cst.ParserSyntaxError, RecursionError, ValueError):
        return []
    ctx = FileContext(f.path, f.text, module)
    from libcst.metadata import MetadataWrapper, PositionProvider

    functions = [n for n in _functions(module.body)]
    candidates = [fn for fn in functions if ctx.handler_framework(fn) is not None]
    if not candidates:
        return []
    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    out = []
    for fn in candidates:
        rng = positions[fn]
        lines = range(rng.start.line, rng.end.line + 1)
        if f.added is None or any(n in f.added for n in lines):
            out.append((f.path, positions[fn.name].start.line, fn.name.value))
    return out


def _functions(body: object) -> Iterator[cst.FunctionDef]:
    """Module-level functions and methods of module-level classes."""
    for stmt in body:  # type: ignore[attr-defined]
        if isinstance(stmt, cst.FunctionDef):
            yield stmt
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            yield from (s for s in stmt.body.body if isinstance(s, cst.FunctionDef))


# -- shared helpers of PYS110, PYS206, PYS411 --------------------------------------------

_PARSE_ERRORS = (cst.ParserSyntaxError, RecursionError, ValueError)


class _Parsed:
    """A parsed new text with its file context and node positions."""

    def __init__(self, f: ChangedPath, module: cst.Module) -> None:
        from libcst.metadata import MetadataWrapper, PositionProvider

        assert f.text is not None
        self.module = module
        self.lines = f.text.splitlines()
        self.ctx = FileContext(f.path, f.text, module)
        self.positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def start(self, node: cst.CSTNode) -> int:
        return self.positions[node].start.line

    def span(self, node: cst.CSTNode) -> range:
        rng = self.positions[node]
        return range(rng.start.line, rng.end.line + 1)


def _parse_new(f: ChangedPath) -> _Parsed | None:
    assert f.text is not None
    try:
        return _Parsed(f, cst.parse_module(f.text))
    except _PARSE_ERRORS:
        return None


def _parse_old(f: ChangedPath) -> cst.Module | None:
    """The module before the change: empty for an added file, None when not known."""
    if f.status == "added":
        return cst.parse_module("")
    if f.old_text is None:
        return None
    try:
        return cst.parse_module(f.old_text)
    except _PARSE_ERRORS:
        return None


def _on_added_line(f: ChangedPath, lines: range | int) -> bool:
    """Did the change add/edit one of `lines`? Unknown (`added` None) counts only for an
    added file — the quiet side for a modified file whose changed lines are not known."""
    if f.added is None:
        return f.status == "added"
    if isinstance(lines, int):
        return lines in f.added
    return any(n in f.added for n in lines)


def _source_files(change: Change, *words: str) -> Iterator[ChangedPath]:
    """Non-test Python files of the change whose new text holds one of `words`."""
    for f in change.python_files():
        assert f.text is not None
        if module_kind(f.path).is_test or not any(w in f.text for w in words):
            continue
        yield f


# -- PYS411 ------------------------------------------------------------------------------

MAX_APP_ROUTES = 15
APP_CLASSES = frozenset({"fastapi.FastAPI", "fastapi.applications.FastAPI", "flask.Flask",
                         "flask.app.Flask", "starlette.applications.Starlette"})
# `app.add_url_rule(...)` (Flask), `app.add_api_route(...)` (FastAPI), `app.add_route(...)`
# (Starlette/FastAPI) declare a route without a decorator.
ADD_ROUTE_METHODS = frozenset({"add_url_rule", "add_api_route", "add_route",
                               "add_websocket_route", "add_api_websocket_route"})
ROUTE_WORDS = ("@", *ADD_ROUTE_METHODS)


def _application_names(parsed: _Parsed) -> frozenset[str]:
    """Names bound in the module to `FastAPI(...)`/`Flask(...)`/`Starlette(...)`, plus
    `app` itself unless the module binds it to something else (`app = APIRouter()`)."""
    import libcst.matchers as m

    apps: set[str] = set()
    others: set[str] = set()
    for node in m.findall(parsed.module, m.Assign() | m.AnnAssign()):
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            value = node.value
        else:
            assert isinstance(node, cst.AnnAssign)
            targets, value = [node.target], node.value
        for target in targets:
            if not isinstance(target, cst.Name):
                continue
            if isinstance(value, cst.Call) and parsed.ctx.qualified_name(value.func) in APP_CLASSES:
                apps.add(target.value)
            else:
                others.add(target.value)
    if "app" not in others:
        apps.add("app")
    return frozenset(apps)


def app_route_lines(parsed: _Parsed) -> list[int]:
    """First lines of the routes the module declares on its application object, in order."""
    from rules.context import ROUTE_METHODS

    apps = _application_names(parsed)

    def on_app(func: cst.BaseExpression, methods: frozenset[str]) -> bool:
        return (isinstance(func, cst.Attribute) and func.attr.value in methods
                and isinstance(func.value, cst.Name) and func.value.value in apps)

    lines: list[int] = []

    class Collect(cst.CSTVisitor):
        def visit_Decorator(self, node: cst.Decorator) -> bool:
            dec = node.decorator
            if isinstance(dec, cst.Call) and on_app(dec.func, ROUTE_METHODS):
                lines.append(parsed.start(node))
            return True

        def visit_Call(self, node: cst.Call) -> bool:
            if on_app(node.func, ADD_ROUTE_METHODS):
                lines.append(parsed.start(node))
            return True

    parsed.module.visit(Collect())
    return sorted(lines)


@register
class RoutesOnAppInLargeModule(ChangeRule):
    code = "PYS411"
    name = "routes-on-app-in-large-module"
    severity = Severity.INFO
    message = ("This change adds a route to a module that declares {count} routes on the "
               "application object; split them with `APIRouter`/Blueprints/Django apps")
    docs = """
## What it does
Flags a change that adds a route to a module which then declares more than 15 routes on
the application object itself: `@app.get(...)`/`@app.route(...)` (any HTTP-method
decorator) and `app.add_url_rule(...)`/`app.add_api_route(...)`/`app.add_route(...)`,
where `app` is the name `app` or any name the module binds to `FastAPI(...)`, `Flask(...)`
or `Starlette(...)`. Routes on an `APIRouter`, a `Blueprint` or a `Router` are not counted.
It is reported once per module, on the first route the change adds.

## Why is this bad?
A single module holding every endpoint grows into a file nobody can review, with every
feature's imports and helpers tangled together. FastAPI's "Bigger Applications" guide
splits path operations into `APIRouter`s, Flask's documentation organises larger
applications with Blueprints, and Django groups views into apps — each keeps a feature's
routes, dependencies and tests together.

## Example
A pull request that adds a sixteenth `@app.get(...)` to `main.py`:
```python
app = FastAPI()


@app.get("/orders/{order_id}")
async def read_order(order_id: int) -> Order: ...
```

## Use instead
```python
router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("/{order_id}")
async def read_order(order_id: int) -> Order: ...

# main.py
app.include_router(orders.router)
```

## Suppress
`# noqa: PYS411` on the first added route's line, or `ignore = ["PYS411"]` in
`[tool.pystd]`.
"""
    bad = ("# the change adds a 16th @app.get(...) route to main.py  # flagged\n",)
    good = ("# the change adds a route to an APIRouter in routers/orders.py\n",)

    def check_change(self, change: Change) -> None:
        for f in _source_files(change, *ROUTE_WORDS):
            parsed = _parse_new(f)
            if parsed is None:
                continue
            lines = app_route_lines(parsed)
            if len(lines) <= MAX_APP_ROUTES:
                continue
            added = [n for n in lines if _on_added_line(f, n)]
            if added:
                self.report_line(f.path, added[0], self.message.format(count=len(lines)))


# -- PYS206 ------------------------------------------------------------------------------

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model",
                         "django.contrib.gis.db.models.Model"})
FIELD_MODULES = ("django.db.models.", "django.contrib.gis.db.models.",
                 "django.contrib.postgres.fields.")
RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})


def model_app(path: str) -> str | None:
    """The app folder of a models module (`shop/models.py`, `shop/models/order.py` ->
    `shop`), or None for any other file and for a models module at the repository root."""
    p = PurePosixPath(path)
    folders = list(p.parts[:-1])
    if p.name != "models.py":
        if "models" not in folders:
            return None
        del folders[len(folders) - 1 - folders[::-1].index("models"):]
    return "/".join(folders) or None


def _normalised(code: str) -> str:
    """`code` without comments, layout, trailing commas or quote style, so that those
    edits compare equal."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(f"({code})").readline))
    except (tokenize.TokenError, SyntaxError):
        return code
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT,
            tokenize.DEDENT, tokenize.ENDMARKER}
    kept = [t for t in tokens if t.type not in skip]
    out: list[str] = []
    for i, tok in enumerate(kept):
        after = kept[i + 1].string if i + 1 < len(kept) else ""
        if tok.string == "," and after in (")", "]", "}"):
            continue  # `f(a,)` is `f(a)`
        text = tok.string
        if tok.type == tokenize.STRING:
            # 'x' is "x"; an f-string is compared as written.
            with contextlib.suppress(ValueError, SyntaxError):
                text = repr(ast.literal_eval(text))
        out.append(text)
    return " ".join(out)


def _is_field_call(ctx: FileContext, value: cst.BaseExpression | None) -> bool:
    if not isinstance(value, cst.Call):
        return False
    qn = ctx.qualified_name(value.func)
    if qn is None or not qn.startswith(FIELD_MODULES):
        return False
    last = qn.rsplit(".", 1)[-1]
    return last.endswith("Field") or last in RELATION_FIELDS


def model_fields(module: cst.Module, path: str
                 ) -> dict[tuple[str, str], tuple[str, cst.CSTNode, cst.ClassDef]]:
    """(model class, field name) -> (normalised value source, assignment, class) for every
    class-level field assignment in a `Model` subclass of the module."""
    ctx = FileContext(path, "", module)
    models: set[str] = set()
    out: dict[tuple[str, str], tuple[str, cst.CSTNode, cst.ClassDef]] = {}
    for stmt in module.body:
        if not isinstance(stmt, cst.ClassDef):
            continue
        is_model = any(
            ctx.qualified_name(b.value) in MODEL_BASES
            or (isinstance(b.value, cst.Name) and b.value.value in models)
            for b in stmt.bases
        )
        if not is_model or not isinstance(stmt.body, cst.IndentedBlock):
            continue
        models.add(stmt.name.value)
        for line in stmt.body.body:
            if not isinstance(line, cst.SimpleStatementLine):
                continue
            for small in line.body:
                if isinstance(small, cst.Assign):
                    targets = [t.target for t in small.targets]
                    value: cst.BaseExpression | None = small.value
                elif isinstance(small, cst.AnnAssign):
                    targets, value = [small.target], small.value
                else:
                    continue
                if value is None or not _is_field_call(ctx, value):
                    continue
                source = _normalised(module.code_for_node(value))
                for target in targets:
                    if isinstance(target, cst.Name):
                        out[(stmt.name.value, target.value)] = (source, line, stmt)
    return out


def _has_migrations(change: Change, app: str) -> bool:
    """Is `app` known to have a `migrations/` package? Unknown counts as no (quiet)."""
    if change.existing_dirs is not None and f"{app}/migrations" in {
            d.rstrip("/") for d in change.existing_dirs}:
        return True
    prefix = f"{app}/migrations/"
    return any(f.path.startswith(prefix) or (f.previous_path or "").startswith(prefix)
               for f in change.files)


def _adds_migration(change: Change, app: str) -> bool:
    prefix = f"{app}/migrations/"
    return any(f.path.startswith(prefix) and f.status in ("added", "renamed")
               for f in change.files)


def migration_folders_to_probe(change: Change) -> tuple[str, ...]:
    """`app/migrations` folders PYS206 needs to know about and the change cannot tell: the
    apps of changed models modules that the change adds no migration to. The App asks
    GitHub whether they exist at the head commit (a handful of calls, only for model
    changes) and passes the answer as `existing_dirs`."""
    apps = {model_app(f.path) for f in _source_files(change, "models")
            if not module_kind(f.path).is_migration}
    return tuple(sorted(f"{app}/migrations" for app in apps
                        if app is not None and not _adds_migration(change, app)
                        and not _has_migrations(change, app)))


@register
class DjangoMissingMigration(ChangeRule):
    code = "PYS206"
    name = "django-missing-migration"
    severity = Severity.ERROR
    message = ("This change edits model fields of `{app}` but adds no migration; run "
               "`python manage.py makemigrations {app}` and commit it")
    docs = """
## What it does
Flags a change that adds, removes or edits a field assignment
(`name = models.CharField(...)`, `ForeignKey`, `OneToOneField`, `ManyToManyField`, any
`django.db.models.*Field`) in a `Model` subclass of an app's `models.py` (or `models/`
package) but adds no file under that app's `migrations/` folder. Edits to methods,
properties, docstrings, comments or the layout of a field are not flagged, nor are apps
without a `migrations/` package. It is reported once per app, on the first changed field.

## Why is this bad?
Django's migrations are how a model change reaches the database: without one, the code
and the schema disagree and the deploy fails at the first query on the new column (or
silently keeps an old constraint). Django's documentation asks you to run
`makemigrations` whenever you change models and to commit the migration files with the
change, so every environment applies the same schema change.

## Example
A pull request that changes `shop/models.py`:
```python
class Order(models.Model):
    reference = models.CharField(max_length=32)
    paid_at = models.DateTimeField(null=True)
```
and adds nothing under `shop/migrations/`.

## Use instead
Run `python manage.py makemigrations shop`, review the generated
`shop/migrations/00xx_order_paid_at.py` and commit it with the model change.

## Suppress
`# noqa: PYS206` on the flagged field's line, or `ignore = ["PYS206"]` in `[tool.pystd]`.
"""
    bad = ("# the change adds a field to shop/models.py and no shop/migrations/ file"
           "  # flagged\n",)
    good = ("# the change adds a field and shop/migrations/0002_order_paid_at.py\n",)

    def check_change(self, change: Change) -> None:
        anchors: dict[str, tuple[str, int]] = {}
        for f in sorted(_source_files(change, "models"), key=lambda f: f.path):
            app = model_app(f.path)
            if app is None or app in anchors or module_kind(f.path).is_migration:
                continue
            if not _has_migrations(change, app) or _adds_migration(change, app):
                continue
            line = self._first_changed_field(f)
            if line is not None:
                anchors[app] = (f.path, line)
        for app, (path, line) in anchors.items():
            label = PurePosixPath(app).name
            self.report_line(path, line, self.message.format(app=label))

    @staticmethod
    def _first_changed_field(f: ChangedPath) -> int | None:
        parsed = _parse_new(f)
        if parsed is None:
            return None
        new = model_fields(parsed.module, f.path)
        old_module = _parse_old(f)
        if old_module is None:
            # Not known before: fields on changed lines count; removals cannot be seen.
            lines = [parsed.start(stmt) for _, stmt, _ in new.values()
                     if _on_added_line(f, parsed.span(stmt))]
            return min(lines, default=None)
        old = model_fields(old_module, f.previous_path or f.path)
        edited = [parsed.start(stmt) for key, (src, stmt, _) in new.items()
                  if key not in old or old[key][0] != src]
        if edited:
            return min(edited)
        removed = [key for key in old if key not in new]
        if not removed:
            return None
        classes = {cls.name.value: cls for _, _, cls in new.values()}
        for node in parsed.module.body:
            if isinstance(node, cst.ClassDef):
                classes.setdefault(node.name.value, node)
        lines = [parsed.start(classes[c].name) for c, _ in removed if c in classes]
        if lines:
            return min(lines)
        # The whole model went: the first changed line of the file, else its first line.
        return min(f.added, default=1) if f.added is not None else 1


# -- PYS110 ------------------------------------------------------------------------------

HANDLER_WORDS = ("request", "route", "@", "Route(")


def _is_docstring(stmt: cst.BaseStatement) -> bool:
    return (isinstance(stmt, cst.SimpleStatementLine) and len(stmt.body) == 1
            and isinstance(stmt.body[0], cst.Expr)
            and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString)))


def handler_size(fn: cst.FunctionDef, lines: list[str],
                 span: Callable[[cst.CSTNode], range]) -> int:
    """Lines' worth of statements in `fn`'s body: non-blank lines that are not only a
    comment, without the docstring. `span(node)` gives a node's line range."""
    body = fn.body
    if isinstance(body, cst.SimpleStatementSuite):
        return 1
    stmts = list(body.body)
    if stmts and _is_docstring(stmts[0]):
        stmts = stmts[1:]
    counted: set[int] = set()
    for stmt in stmts:
        for n in span(stmt):
            text = lines[n - 1].strip() if 0 < n <= len(lines) else ""
            if text and not text.startswith("#"):
                counted.add(n)
    return len(counted)


def _function_sizes(module: cst.Module, text: str) -> dict[tuple[str | None, str], int]:
    """(class or None, name) -> size of every module-level function and method."""
    from libcst.metadata import MetadataWrapper, PositionProvider

    positions = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)

    def span(node: cst.CSTNode) -> range:
        rng = positions[node]
        return range(rng.start.line, rng.end.line + 1)

    lines = text.splitlines()
    return {key: handler_size(fn, lines, span) for key, fn in _keyed_functions(module)}


def _keyed_functions(module: cst.Module
                     ) -> Iterator[tuple[tuple[str | None, str], cst.FunctionDef]]:
    """Module-level functions and methods of module-level classes, keyed by (class, name)."""
    for stmt in module.body:
        if isinstance(stmt, cst.FunctionDef):
            yield (None, stmt.name.value), stmt
        elif isinstance(stmt, cst.ClassDef) and isinstance(stmt.body, cst.IndentedBlock):
            for s in stmt.body.body:
                if isinstance(s, cst.FunctionDef):
                    yield (stmt.name.value, s.name.value), s


@register
class FatHandler(ChangeRule):
    code = "PYS110"
    name = "fat-handler"
    severity = Severity.INFO
    message = ("Handler `{handler}` has {size} lines of statements (more than {limit}); keep "
               "handlers thin and move the logic to a service function")
    docs = """
## What it does
Flags a request handler (a Django view, a Flask route, a FastAPI or Ninja path operation,
a Starlette endpoint) that this change adds, or grows, to more than `max-handler-lines`
lines of statements (40 by default; set it in `[tool.pystd]`). The size is the number of
non-blank lines of the body that are not only a comment, without the docstring. Handlers
the change does not grow are not flagged.

## Why is this bad?
A handler should translate HTTP to a call and back: parse input, call the domain, shape
the response. Business logic inside it cannot be reused from a task, a command or
another endpoint, and can only be tested through the test client. Django's "fat models,
thin views" advice, the service layer of Cosmic Python (Architecture Patterns with
Python) and FastAPI's dependency-injected services all keep the logic out of the handler.

## Example
```python
@app.post("/orders")
def create_order(payload: OrderIn, db: Session = Depends(get_db)) -> OrderOut:
    # 60 lines: validate stock, price the cart, apply coupons, charge, e-mail, ...
    ...
```

## Use instead
```python
@app.post("/orders")
def create_order(payload: OrderIn, orders: OrderService = Depends()) -> OrderOut:
    return orders.place(payload)
```

## Suppress
`# noqa: PYS110` on the handler's `def` line, `max-handler-lines = 60` or
`ignore = ["PYS110"]` in `[tool.pystd]`.
"""
    bad = ("# the change grows a view to 60 lines of statements  # flagged\n",)
    good = ("# the change adds a 10-line view that calls a service\n",)

    def check_change(self, change: Change) -> None:
        limit = change.max_handler_lines
        for f in _source_files(change, "def"):
            assert f.text is not None
            if not any(word in f.text for word in HANDLER_WORDS):
                continue
            parsed = _parse_new(f)
            if parsed is None:
                continue
            candidates = [(key, fn) for key, fn in _keyed_functions(parsed.module)
                          if parsed.ctx.handler_framework(fn) is not None]
            big = [(key, fn, size) for key, fn in candidates
                   if (size := handler_size(fn, parsed.lines, parsed.span)) > limit]
            if not big:
                continue
            old_module = _parse_old(f)
            old = (None if old_module is None
                   else _function_sizes(old_module, f.old_text or ""))
            for key, fn, size in big:
                def_line = parsed.start(fn.name)
                if old is None:
                    grew = _on_added_line(f, def_line)
                else:
                    grew = key not in old or old[key] < size
                if grew:
                    self.report_line(f.path, def_line, self.message.format(
                        handler=fn.name.value, size=size, limit=limit))


__all__ = ["Change", "ChangeRule", "ChangedPath", "Example", "check_change",
           "migration_folders_to_probe"]
