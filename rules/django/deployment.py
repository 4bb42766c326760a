"""PYS201, PYS202: settings that must never reach production (Django deployment checklist).

Both rules read only the unconditional top-level statements of a production settings
module: an assignment under a module-level `if`/`try` depends on the environment (or on
`DEBUG`), which is what the catalog asks for, so it is left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import PurePosixPath

import libcst as cst

from pystd.rules.context import FileContext, ModuleKind
from pystd.rules.engine import Category, Example, Rule, Severity, register

# RULES.md: settings modules named `*dev*`/`*local*`/`*test*` are for development.
NON_PRODUCTION_WORDS = ("dev", "local", "test")
_WILDCARD_HOST = "*"
# `ALLOWED_HOSTS.append("*")`, `.insert(0, "*")`, `.extend(["*"])`.
_LIST_METHODS = frozenset({"append", "insert", "extend"})


def is_non_production_settings(kind: ModuleKind) -> bool:
    """Is the settings module named for development or tests?

    The file stem counts (`dev.py`, `local_settings.py`, `settings_test.py`), and so does
    every folder from the settings package down (`settings/local/base.py`); folders above
    it do not, so `devops/mysite/settings.py` is still production settings.
    """
    return any(word in name for name in _settings_names(kind) for word in NON_PRODUCTION_WORDS)


def _settings_names(kind: ModuleKind) -> list[str]:
    """The lower-cased file stem and the folders from the settings package down: the names
    that say what a settings module is for."""
    path = PurePosixPath(kind.path)
    names = [path.stem]
    folders = path.parts[:-1]
    for index in range(len(folders) - 1, -1, -1):
        if "settings" in folders[index].lower():
            names.extend(folders[index:])
            break
    return [name.lower() for name in names]


# Settings modules that are templates users copy and edit (weblate's
# `settings_example.py`, `settings_sample.py`, `settings.template.py`, `settings_dist.py`):
# their values are placeholders, never what a deployment runs. Whole words of the names
# (split at `_`, `-`, `.`), so django-split-settings' `components/templates.py`, which
# configures `TEMPLATES`, stays production settings.
_TEMPLATE_WORDS = frozenset({"example", "examples", "sample", "samples", "template", "tmpl",
                             "tpl", "dist", "skel", "skeleton"})
_NAME_WORDS = re.compile(r"[_.-]+")


def is_template_settings(kind: ModuleKind) -> bool:
    """Is the settings module a template to copy (`settings_example.py`,
    `settings/sample.py`, `settings_dist.py`)? The file stem and the folders of its
    settings package count, as for development settings."""
    return any(_TEMPLATE_WORDS.intersection(_NAME_WORDS.split(name))
               for name in _settings_names(kind))


# The shared module of a settings package that each deployment's module imports and then
# overrides (kiwitcms' `tcms/settings/common.py` says "override ... in product.py", whose
# `DEBUG = False` follows `from tcms.settings.common import *`): its values are defaults,
# and the module that says what production runs is another one.
_BASE_STEMS = frozenset({"base", "common", "default", "defaults", "shared", "core"})


def is_base_settings(kind: ModuleKind) -> bool:
    """Is the settings module the shared base of a settings package
    (`settings/base.py`, `settings/common.py`)? A lone `settings.py` never is."""
    path = PurePosixPath(kind.path)
    return (path.stem.lower() in _BASE_STEMS
            and any("settings" in folder.lower() for folder in path.parts[:-1]))


def holds_defaults(kind: ModuleKind) -> bool:
    """A settings template users copy, or the base a settings package's modules override:
    its DEBUG and ALLOWED_HOSTS are defaults that a deployment sets elsewhere."""
    return is_template_settings(kind) or is_base_settings(kind)


def production_settings(ctx: FileContext) -> bool:
    return ctx.kind.is_settings and not is_non_production_settings(ctx.kind)


def assigned_value(stmt: cst.BaseSmallStatement, name: str) -> cst.BaseExpression | None:
    """The value of `name = value` or `name: T = value`, else None."""
    if isinstance(stmt, cst.Assign):
        if any(isinstance(t.target, cst.Name) and t.target.value == name for t in stmt.targets):
            return stmt.value
    elif (
        isinstance(stmt, cst.AnnAssign)
        and isinstance(stmt.target, cst.Name)
        and stmt.target.value == name
    ):
        return stmt.value
    return None


_LOADERS = re.compile(r"\b(?:\w*Dynaconf|exec|include|load_settings)\(")


def last_override(module: cst.Module) -> int:
    """Index of the last top-level statement that loads other settings over this module's
    values: `from .local_settings import *` (in a `try` too), dynaconf's
    `DjangoDynaconf(__name__)` (pulpcore), `exec(...)` of an operator's file,
    django-split-settings' `include(...)`. A value set before it is a default a deployment
    replaces, so a finding on it is reported only where the rule is chosen by code. -1: none."""
    last = -1
    for index, stmt in enumerate(module.body):
        code = cst.Module([]).code_for_node(stmt)
        if _LOADERS.search(code) or re.search(r"^\s*from\s+\S+\s+import\s+\*", code, re.M):
            last = index
    return last


def top_level_indexed(module: cst.Module) -> Iterator[tuple[int, cst.BaseSmallStatement]]:
    """The small statements directly in the module body (not under `if`/`try`/`def`), with
    the index of the module statement holding each."""
    for index, stmt in enumerate(module.body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                yield index, small


# == PYS201 django-debug-true ==========================================================

# The catalog's fix, and the environment variable it reads.
DEBUG_FROM_ENV = 'os.environ.get("DJANGO_DEBUG") == "1"'


@register
class DebugTrue(Rule):
    code = "PYS201"
    name = "django-debug-true"
    severity = Severity.ERROR
    category = Category.SECURITY
    default = True
    rationale = (
        "`DEBUG = True` in a production settings module exposes settings and tracebacks to "
        "anyone; dev/local/test settings and environment reads are never flagged, and a "
        "template users copy (weblate's `settings_example.py`, the one wrong error of the "
        "second survey) only where chosen by code, as a warning: a finding is a hole."
    )
    message = "`DEBUG = True` in production settings shows tracebacks, settings and SQL to anyone"
    requires = ("DEBUG",)
    docs = """
## What it does
Flags `DEBUG = True` (also `DEBUG: bool = True`) at the top level of a Django settings
module — `settings.py`, a module in a `settings/` package, or any module that sets
`INSTALLED_APPS` — unless the module is named for development or tests: its file name or
a folder of its settings package contains `dev`, `local` or `test` (`settings/dev.py`,
`local_settings.py`, `settings/local/base.py`). By default, a value the module replaces
later is not reported (settings loaded over it: `from .local_settings import *`, dynaconf's
`DjangoDynaconf(__name__)`, `exec(...)`, `include(...)`): it is a default each deployment
sets. Nor is a settings module that is a template users copy and edit: its file name or a
folder of its settings package has the word `example`, `sample`, `template`, `dist` or
`tmpl` (split at `_`, `-`, `.`: weblate's `settings_example.py`, `settings.template.py`,
`settings/sample.py`; not `settings/components/templates.py`): its values are placeholders.
Nor is the shared base of a settings package (`settings/base.py`, `settings/common.py`,
`settings/defaults.py`), which each deployment's module imports and overrides (kiwitcms'
`settings/common.py` says so, and its `product.py` sets `DEBUG = False`). Select PYS201 by
code to have those reported too; a template's or a base's finding is then a warning,
never an error.

Only the literal `True` is flagged. Values read from the environment
(`DEBUG = env.bool("DEBUG")`, `DEBUG = os.environ.get("DEBUG") == "1"`) and assignments
under a module-level `if`/`try` are left alone.

## Why is this bad?
With `DEBUG` on, every error page shows the full traceback, local variables, the
settings (with only some secrets masked) and the SQL that ran, and Django keeps every
query in memory. Django's deployment checklist
(docs.djangoproject.com/en/stable/howto/deployment/checklist/#debug) says "You must never
enable debug in production", and the `DEBUG` setting reference repeats "Never deploy a
site into production with DEBUG turned on." `manage.py check --deploy` warns about it
(security.W018), but only if someone runs it against the production settings.

## Example
```python
# mysite/settings.py
DEBUG = True
```

## Use instead
```python
# mysite/settings.py
import os

DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
```
and set `DJANGO_DEBUG=1` only on development machines, or keep `DEBUG = True` in a
`settings/dev.py` that imports the production settings.

## Fix
`DEBUG = True` becomes `DEBUG = os.environ.get("DJANGO_DEBUG") == "1"` (adding
`import os`), so debug is off unless the environment turns it on.

## Suppress
`# noqa: PYS201` on the line.
"""
    bad = (
        Example(
            """
            DEBUG = True  # flagged
            """,
            "mysite/settings.py",
            fixed="""
            import os
            DEBUG = os.environ.get("DJANGO_DEBUG") == "1"  # flagged
            """,
        ),
        Example(
            """
            from .base import *

            DEBUG: bool = True  # flagged
            """,
            "mysite/settings/production.py",
            fixed="""
            from .base import *
            import os

            DEBUG: bool = os.environ.get("DJANGO_DEBUG") == "1"  # flagged
            """,
        ),
        Example(
            """
            INSTALLED_APPS = ['django.contrib.admin']
            DEBUG = True  # flagged
            """,
            "mysite/config.py",
            fixed="""
            import os
            INSTALLED_APPS = ['django.contrib.admin']
            DEBUG = os.environ.get("DJANGO_DEBUG") == "1"  # flagged
            """,
        ),
    )
    good = (
        Example(
            """
            import os

            DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            import environ

            env = environ.Env()
            DEBUG = env.bool('DEBUG', default=False)
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            from .base import *

            DEBUG = True
            """,
            "mysite/settings/dev.py",
        ),
        Example(
            """
            DEBUG = True
            """,
            "mysite/local_settings.py",
        ),
        Example(
            """
            DEBUG = True
            """,
            "mysite/app.py",
        ),
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return production_settings(ctx)

    def visit_Module(self, node: cst.Module) -> None:
        override = last_override(node)
        template = holds_defaults(self.ctx.kind)
        # A template users copy or a base each deployment overrides is never a failed
        # gate: a warning, where chosen by code.
        severity = Severity.WARNING if template else None
        for index, stmt in top_level_indexed(node):
            evidence = index > override and not template
            value = assigned_value(stmt, "DEBUG")
            if not (isinstance(value, cst.Name) and value.value == "True"):
                continue
            if isinstance(stmt, cst.Assign) and len(stmt.targets) > 1:
                # `DEBUG = OTHER = True`: rewriting would change OTHER too
                self.report(stmt, evidence=evidence, severity=severity)
                continue
            new = cst.parse_expression(DEBUG_FROM_ENV)
            self.report(stmt, replace=(value, new), imports=("import os",),
                        evidence=evidence, severity=severity)


# == PYS202 django-allowed-hosts-wildcard ==============================================


def _wildcard(value: cst.BaseExpression) -> cst.SimpleString | None:
    return (
        value
        if isinstance(value, cst.SimpleString) and value.evaluated_value == _WILDCARD_HOST
        else None
    )


def _wildcard_element(value: cst.BaseExpression | None) -> cst.SimpleString | None:
    """The `"*"` element of a list, tuple or set display."""
    if isinstance(value, (cst.List, cst.Tuple, cst.Set)):
        for element in value.elements:
            if isinstance(element, cst.Element) and _wildcard(element.value) is not None:
                return element.value  # type: ignore[return-value]
    return None


def _allowed_hosts_wildcard(stmt: cst.BaseSmallStatement) -> cst.SimpleString | None:
    """The `"*"` a top-level statement puts into `ALLOWED_HOSTS`, if any."""
    value = assigned_value(stmt, "ALLOWED_HOSTS")
    if value is not None:
        # A bare `"*"` is iterated character by character by Django: a wildcard too.
        return _wildcard(value) or _wildcard_element(value)
    if (
        isinstance(stmt, cst.AugAssign)
        and isinstance(stmt.target, cst.Name)
        and stmt.target.value == "ALLOWED_HOSTS"
        and isinstance(stmt.operator, (cst.AddAssign, cst.BitOrAssign))
    ):
        return _wildcard_element(stmt.value)
    if not (isinstance(stmt, cst.Expr) and isinstance(stmt.value, cst.Call)):
        return None
    func = stmt.value.func
    if not (
        isinstance(func, cst.Attribute)
        and func.attr.value in _LIST_METHODS
        and isinstance(func.value, cst.Name)
        and func.value.value == "ALLOWED_HOSTS"
    ):
        return None
    for arg in stmt.value.args:
        if arg.keyword is not None or arg.star:
            continue
        value = arg.value
        found = _wildcard_element(value) if func.attr.value == "extend" else _wildcard(value)
        if found is not None:
            return found
    return None


@register
class AllowedHostsWildcard(Rule):
    code = "PYS202"
    name = "django-allowed-hosts-wildcard"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "A wildcard lets forged Host headers through, but it is a supported setup when a "
        "proxy or middleware validates the host (pretix serves organisers' custom domains "
        "this way, and Django's docs describe it), so a warning."
    )
    message = '`ALLOWED_HOSTS` contains `"*"`: any Host header is trusted, so it can be forged'
    requires = ("ALLOWED_HOSTS",)
    docs = """
## What it does
Flags a `"*"` in `ALLOWED_HOSTS` at the top level of a Django settings module (the same
modules as PYS201: `settings.py`, `settings/*.py`, a module that sets `INSTALLED_APPS`,
except those named `*dev*`/`*local*`/`*test*`):
- `ALLOWED_HOSTS = ["*"]` (a list, tuple or set display, or the bare string `"*"`);
- `ALLOWED_HOSTS += ["*"]`;
- `ALLOWED_HOSTS.append("*")`, `.insert(i, "*")`, `.extend([..., "*"])`.

By default, a value that the module itself replaces later is not reported: settings loaded
over it at the end (`from .local_settings import *`, dynaconf's `DjangoDynaconf(__name__)`
as pulpcore does, `exec(...)`, django-split-settings' `include(...)`) make it a default
that each deployment sets, and so is a settings template users copy
(`settings_example.py`, `settings_sample.py`, `settings_dist.py`, as for PYS201), and
so is the shared base of a settings package (`settings/base.py`, `settings/common.py`).
Select PYS202 by code to have those reported too.

Hosts read from the environment and assignments under a module-level `if`/`try` (such as
`if DEBUG:`) are left alone. A leading-dot subdomain pattern (`".example.com"`) is fine.

## Why is this bad?
Django builds absolute URLs — password-reset links, redirects, `build_absolute_uri()` —
from the request's `Host` header, which the client controls. `ALLOWED_HOSTS` is what stops a
forged header: Django's security guide ("Host header validation",
docs.djangoproject.com/en/stable/topics/security/#host-header-validation) explains how a
fake host poisons password-reset e-mails and caches, and the `ALLOWED_HOSTS` reference
(docs.djangoproject.com/en/stable/ref/settings/#allowed-hosts) warns that with `'*'` "you
are responsible to provide your own validation of the Host header". The deployment
checklist (docs.djangoproject.com/en/stable/howto/deployment/checklist/#allowed-hosts)
lists it among the settings to get right before going live.

## Example
```python
# mysite/settings.py
ALLOWED_HOSTS = ["*"]
```

## Use instead
```python
# mysite/settings.py
import os

ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
```
or list the domains: `ALLOWED_HOSTS = ["example.com", ".example.com"]`.

## Suppress
`# noqa: PYS202` on the line, when a proxy in front of Django validates the host.
"""
    bad = (
        Example(
            """
            ALLOWED_HOSTS = ["*"]  # flagged
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            ALLOWED_HOSTS = ('example.com', '*')  # flagged
            """,
            "mysite/settings/production.py",
        ),
        Example(
            """
            ALLOWED_HOSTS = ["example.com"]
            ALLOWED_HOSTS += ["*"]  # flagged
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            ALLOWED_HOSTS = []
            ALLOWED_HOSTS.append("*")  # flagged
            """,
            "mysite/settings.py",
        ),
    )
    good = (
        Example(
            """
            ALLOWED_HOSTS = ["example.com", ".example.com"]
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            import os

            ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")
            """,
            "mysite/settings.py",
        ),
        Example(
            """
            ALLOWED_HOSTS = ["*"]
            """,
            "mysite/settings/dev.py",
        ),
        Example(
            """
            ALLOWED_HOSTS = ["*"]
            """,
            "mysite/local_settings.py",
        ),
        Example(
            """
            DEBUG = False
            ALLOWED_HOSTS = ["example.com"]
            if DEBUG:
                ALLOWED_HOSTS = ["*"]
            """,
            "mysite/settings.py",
        ),
    )

    @classmethod
    def applies(cls, ctx: FileContext) -> bool:
        return production_settings(ctx)

    def visit_Module(self, node: cst.Module) -> None:
        override = last_override(node)
        template = holds_defaults(self.ctx.kind)
        for index, stmt in top_level_indexed(node):
            wildcard = _allowed_hosts_wildcard(stmt)
            if wildcard is not None:
                self.report(wildcard, evidence=index > override and not template)
