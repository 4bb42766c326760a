"""PYS206: model fields changed without a migration."""

from __future__ import annotations

import ast
import contextlib
import io
import tokenize
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.change.base import (
    Change,
    ChangedPath,
    ChangeRule,
    Parsed,
    on_added_line,
    source_files,
)
from pystd.rules.context import FileContext, module_kind
from pystd.rules.engine import Category, Severity, register

MODEL_BASES = frozenset({"django.db.models.Model", "django.db.models.base.Model",
                         "django.contrib.gis.db.models.Model"})
FIELD_MODULES = ("django.db.models.", "django.contrib.gis.db.models.",
                 "django.contrib.postgres.fields.")
RELATION_FIELDS = frozenset({"ForeignKey", "OneToOneField", "ManyToManyField"})
# The packages the field modules are imported from (`from django.db import models`).
_FIELD_PACKAGES = ("django.db", "django.contrib.gis.db", "django.contrib.postgres")


def model_app(path: str) -> str | None:
    """The app folder of a models module (`shop/models.py`, `shop/models/order.py`,
    `shop/abstract_models.py` -> `shop`), or None for any other file and for a models
    module at the repository root. Abstract models (django-oscar keeps every field in
    `abstract_models.py`) reach the database through the app's concrete models."""
    p = PurePosixPath(path)
    folders = list(p.parts[:-1])
    if p.suffix != ".py":
        return None
    if not p.stem.endswith("models"):
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


def model_fields(parsed: Parsed
                 ) -> dict[tuple[str, str], tuple[str, cst.CSTNode, cst.ClassDef]]:
    """(model class, field name) -> (normalised value source, assignment, class) for every
    class-level field assignment in a `Model` subclass of the module."""
    module, ctx = parsed.module, parsed.ctx
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


def _definitions(parsed: Parsed) -> set[tuple[str, str, str]]:
    """(model class, field, normalised definition) of every field of the module."""
    return {(cls, name, src) for (cls, name), (src, _, _) in model_fields(parsed).items()}


def uses_django_models(text: str) -> bool:
    """Does a models module import Django's model fields at all? Only then can it hold a
    field PYS206 sees (`FIELD_MODULES`): a SQLAlchemy or Pydantic `models.py` cannot, and
    is worth no question to GitHub about its app's `migrations/` folder."""
    return any(package in text for package in _FIELD_PACKAGES)


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
    return any(f.path.startswith(prefix) and f.status in ("added", "renamed", "copied")
               for f in change.files)


def migration_folders_to_probe(change: Change) -> tuple[str, ...]:
    """`app/migrations` folders PYS206 needs to know about and the change cannot tell: the
    apps of changed models modules that the change adds no migration to. The App asks
    GitHub whether they exist at the head commit (a handful of calls, only for model
    changes) and passes the answer as `existing_dirs`."""
    apps = {model_app(f.path) for f in source_files(change, "models")
            if not module_kind(f.path).is_migration and uses_django_models(f.text or "")}
    return tuple(sorted(f"{app}/migrations" for app in apps
                        if app is not None and not _adds_migration(change, app)
                        and not _has_migrations(change, app)))


@register
class DjangoMissingMigration(ChangeRule):
    code = "PYS206"
    name = "django-missing-migration"
    severity = Severity.WARNING
    category = Category.CORRECTNESS
    default = True
    rationale = (
        "A model field changed without its migration is usually an oversight, but the "
        "migration may come in another commit or be generated at deploy time, so the change "
        "is flagged without failing the gate."
    )
    message = ("This change edits model fields of `{app}` but adds no migration; run "
               "`python manage.py makemigrations {app}` and commit it")
    docs = """
## What it does
Flags a change that adds, removes or edits a field assignment
(`name = models.CharField(...)`, `ForeignKey`, `OneToOneField`, `ManyToManyField`, any
`django.db.models.*Field`) in a `Model` subclass of an app's `models.py`, `models/`
package or `*_models.py` module (`abstract_models.py`) but adds no file under that app's
`migrations/` folder. Edits to methods,
properties, docstrings, comments or the layout of a field are not flagged, nor are apps
without a `migrations/` package, nor models modules that do not import Django's models
(a SQLAlchemy or Pydantic `models.py`: the App does not even ask GitHub about their app's
folders). It is reported once per app, on the first changed field.

Moving models is not a model change: when a change adds, removes or renames models
modules of an app (a `models.py` split into a `models/` package, as wger 2.1 did) and
every field of those modules is defined the same before and after, layout and comments
aside, nothing is reported. The App reads a removed module's text from its patch; when
GitHub left the patch out, the move cannot be seen and the fields count as new.

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
    bad = (
        """
        # the change adds a field to shop/models.py and no shop/migrations/ file  # flagged
        """,
    )
    good = (
        """
        # the change adds a field and shop/migrations/0002_order_paid_at.py
        """,
    )

    @classmethod
    def folders_needed(cls, change: Change) -> tuple[str, ...]:
        return migration_folders_to_probe(change)

    def check_change(self, change: Change) -> None:
        anchors: dict[str, tuple[str, int]] = {}
        for f in sorted(source_files(change, "models"), key=lambda f: f.path):
            app = model_app(f.path)
            if app is None or app in anchors or module_kind(f.path).is_migration:
                continue
            if not _has_migrations(change, app) or _adds_migration(change, app):
                continue
            line = self.facts(f)
            if isinstance(line, int):
                anchors[app] = (f.path, line)
        for app, (path, line) in anchors.items():
            if self._only_moved(change, app):
                continue
            label = PurePosixPath(app).name
            self.report_line(path, line, self.message.format(app=label))

    def _only_moved(self, change: Change, app: str) -> bool:
        """Did the change only move or reformat the app's fields (wger 2.1 split each
        `models.py` into a `models/` package): every field of the app's changed models
        modules, removed ones included, defined the same before and after? Only asked when
        a models module of the app was added, removed or renamed (the modules are parsed
        again here, rarely); not known, and so False, when a file's text before the change
        is unknown."""
        files = [f for f in change.files
                 if model_app(f.path) == app and not module_kind(f.path).is_migration]
        if all(f.status == "modified" for f in files):
            return False  # within one module the engine's facts already compared the fields
        before: set[tuple[str, str, str]] = set()
        after: set[tuple[str, str, str]] = set()
        for f in files:
            old = self.cctx.parsed_before(f)
            if old is None:
                return False
            before.update(_definitions(old))
            if f.status != "removed":
                new = self.cctx.parsed(f) if f.text is not None else None
                if new is None:
                    return False
                after.update(_definitions(new))
        return bool(before) and before == after

    def file_facts(self, f: ChangedPath) -> int | None:
        """The first line of a field the change adds, edits or removes in a models module."""
        if model_app(f.path) is None or module_kind(f.path).is_migration:
            return None
        parsed = self.cctx.parsed(f)
        if parsed is None:
            return None
        new = model_fields(parsed)
        before = self.cctx.parsed_before(f)
        if before is None:
            # Not known before: fields on changed lines count; removals cannot be seen.
            lines = [parsed.start(stmt, cls) for _, stmt, cls in new.values()
                     if on_added_line(f, parsed.span(stmt, cls))]
            return min(lines, default=None)
        old = model_fields(before)
        edited = [parsed.start(stmt, cls) for key, (src, stmt, cls) in new.items()
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
        lines = [parsed.start(classes[c].name, classes[c]) for c, _ in removed if c in classes]
        if lines:
            return min(lines)
        # The whole model went: the first changed line of the file, else its first line.
        return min(f.added, default=1) if f.added is not None else 1
