"""PYS201 django-debug-true and PYS202 django-allowed-hosts-wildcard: every flags /
never-flags item and fix of their RULES.md rows."""

from __future__ import annotations

import pytest

from pystd.rules.engine import Finding, Severity
from tests.rules import lint as shared
from tests.rules.lint import lint

SETTINGS = "mysite/settings.py"


def only(code: str, rule: str, path: str = SETTINGS) -> list[Finding]:
    return shared.only(code, rule, path)


def one(code: str, rule: str, path: str = SETTINGS) -> Finding:
    return shared.one(code, rule, path)


def fix_of(code: str, rule: str, path: str = SETTINGS) -> str:
    """The source after the single finding's fix, checked to be clean for `rule`."""
    return shared.fix_of(code, rule, path)


# Settings modules by each of RULES.md's three criteria.
SETTINGS_MODULES = [
    ("mysite/settings.py", ""),
    ("mysite/settings/production.py", ""),
    ("mysite/settings/__init__.py", ""),
    ("mysite/config.py", "INSTALLED_APPS = ['django.contrib.admin']\n"),
]
# Development and test settings: the file stem or a folder of the settings package says so.
NON_PRODUCTION = [
    "mysite/settings/dev.py",
    "mysite/settings/development.py",
    "mysite/settings/local.py",
    "mysite/local_settings.py",
    "mysite/settings_local.py",
    "mysite/settings/testing.py",
    "mysite/settings_test.py",
    "mysite/settings/Dev.py",
    "mysite/settings/local/base.py",
    "mysite/dev_settings/base.py",
]
INSTALLED = "INSTALLED_APPS = ['django.contrib.admin']\n"


# == PYS201 django-debug-true: flags ====================================================


@pytest.mark.parametrize(("path", "head"), SETTINGS_MODULES)
def test_debug_true_flagged_in_each_kind_of_settings_module(path: str, head: str) -> None:
    finding = one(head + "DEBUG = True\n", "PYS201", path)
    assert finding.line == head.count("\n") + 1
    assert finding.severity is Severity.ERROR
    assert finding.message == (
        "`DEBUG = True` in production settings shows tracebacks, settings and SQL to anyone"
    )


def test_debug_true_flagged_with_an_annotation() -> None:
    assert one("DEBUG: bool = True\n", "PYS201").line == 1


def test_debug_true_flagged_among_other_settings() -> None:
    code = "from pathlib import Path\n\nBASE_DIR = Path(__file__).parent\nDEBUG = True\n" \
           "ROOT_URLCONF = 'mysite.urls'\n"
    assert one(code, "PYS201").line == 4


def test_debug_true_flagged_when_a_folder_above_the_settings_package_says_dev() -> None:
    assert one("DEBUG = True\n", "PYS201", "devops/mysite/settings.py").line == 1


def test_debug_true_flagged_with_several_targets_but_no_fix() -> None:
    finding = one("DEBUG = TEMPLATE_DEBUG = True\n", "PYS201")
    assert finding.fix is None


# == PYS201: never flags =================================================================


@pytest.mark.parametrize("path", NON_PRODUCTION)
def test_debug_true_ignored_in_dev_local_and_test_settings(path: str) -> None:
    assert only(INSTALLED + "DEBUG = True\n", "PYS201", path) == []


@pytest.mark.parametrize(
    "value",
    [
        "env.bool('DEBUG')",
        "env.bool('DEBUG', default=True)",
        "os.environ.get('DJANGO_DEBUG') == '1'",
        "os.getenv('DEBUG', 'false').lower() == 'true'",
        "config('DEBUG', default=False, cast=bool)",
        "'DEBUG' in os.environ",
    ],
)
def test_debug_read_from_the_environment_is_ignored(value: str) -> None:
    code = "import os\n\nimport environ\n\nenv = environ.Env()\n" + f"DEBUG = {value}\n"
    assert only(code, "PYS201") == []


@pytest.mark.parametrize("value", ["False", "1", "'True'", "not False", "bool(1)"])
def test_only_a_literal_true_is_flagged(value: str) -> None:
    assert only(f"DEBUG = {value}\n", "PYS201") == []


@pytest.mark.parametrize(
    "code",
    [
        "if os.environ.get('ENV') == 'dev':\n    DEBUG = True\n",
        "try:\n    from .local import *\nexcept ImportError:\n    DEBUG = True\n",
        "class Dev(Configuration):\n    DEBUG = True\n",
        "def enable():\n    DEBUG = True\n    return DEBUG\n",
    ],
)
def test_conditional_or_nested_assignments_are_ignored(code: str) -> None:
    assert only("import os\n\n" + code, "PYS201") == []


@pytest.mark.parametrize("path", ["mysite/app.py", "mysite/views.py", "mysite/conf.py"])
def test_debug_true_ignored_outside_settings_modules(path: str) -> None:
    assert only("DEBUG = True\n", "PYS201", path) == []


def test_other_names_are_ignored() -> None:
    assert only("TEMPLATE_DEBUG = True\nDEBUG_TOOLBAR = True\n", "PYS201") == []


# == PYS201: fix ========================================================================


def test_debug_fix_reads_the_environment_and_imports_os() -> None:
    finding = one("DEBUG = True\n", "PYS201")
    assert finding.fix is not None
    assert finding.fix.replacement == 'DEBUG = os.environ.get("DJANGO_DEBUG") == "1"\n'
    assert finding.fix.imports == ("import os",)
    assert fix_of("DEBUG = True\n", "PYS201") == \
        'import os\nDEBUG = os.environ.get("DJANGO_DEBUG") == "1"\n'


def test_debug_fix_puts_the_import_after_the_existing_ones() -> None:
    code = '"""Settings."""\n\nfrom pathlib import Path\n\nBASE_DIR = Path(__file__).parent\n' \
           "DEBUG = True\n"
    assert fix_of(code, "PYS201") == (
        '"""Settings."""\n\nfrom pathlib import Path\nimport os\n\n'
        'BASE_DIR = Path(__file__).parent\nDEBUG = os.environ.get("DJANGO_DEBUG") == "1"\n'
    )


def test_debug_fix_does_not_import_os_twice() -> None:
    finding = one("import os\n\nDEBUG = True\n", "PYS201")
    assert finding.fix is not None and finding.fix.imports == ()


def test_debug_fix_keeps_the_annotation_and_comment() -> None:
    new = fix_of("import os\n\nDEBUG: bool = True  # for now\n", "PYS201")
    assert new.endswith('DEBUG: bool = os.environ.get("DJANGO_DEBUG") == "1"  # for now\n')


# == PYS202 django-allowed-hosts-wildcard: flags ========================================


@pytest.mark.parametrize(
    "statement",
    [
        'ALLOWED_HOSTS = ["*"]',
        "ALLOWED_HOSTS = ('*',)",
        'ALLOWED_HOSTS = {"*"}',
        'ALLOWED_HOSTS = ["example.com", "*"]',
        'ALLOWED_HOSTS = [*BASE_HOSTS, "*"]',
        'ALLOWED_HOSTS = "*"',
        'ALLOWED_HOSTS: list[str] = ["*"]',
        'ALLOWED_HOSTS += ["*"]',
        'ALLOWED_HOSTS |= {"*"}',
        'ALLOWED_HOSTS.append("*")',
        'ALLOWED_HOSTS.insert(0, "*")',
        'ALLOWED_HOSTS.extend(["localhost", "*"])',
    ],
)
def test_allowed_hosts_wildcard_flagged(statement: str) -> None:
    finding = one(f"BASE_HOSTS = []\n{statement}\n", "PYS202")
    assert finding.line == 2
    assert statement[finding.column - 1 : finding.end_column] in ('"*"', "'*'")
    assert finding.severity is Severity.WARNING
    assert finding.message == (
        '`ALLOWED_HOSTS` contains `"*"`: any Host header is trusted, so it can be forged'
    )


@pytest.mark.parametrize(("path", "head"), SETTINGS_MODULES)
def test_allowed_hosts_wildcard_flagged_in_each_kind_of_settings_module(
    path: str, head: str
) -> None:
    assert len(only(head + 'ALLOWED_HOSTS = ["*"]\n', "PYS202", path)) == 1


def test_allowed_hosts_wildcard_flagged_once_per_statement() -> None:
    assert len(only('ALLOWED_HOSTS = ["*", "*"]\n', "PYS202")) == 1


# == PYS202: never flags ================================================================


@pytest.mark.parametrize("path", NON_PRODUCTION)
def test_allowed_hosts_wildcard_ignored_in_dev_local_and_test_settings(path: str) -> None:
    assert only(INSTALLED + 'ALLOWED_HOSTS = ["*"]\n', "PYS202", path) == []


@pytest.mark.parametrize(
    "statement",
    [
        'ALLOWED_HOSTS = ["example.com", ".example.com"]',
        'ALLOWED_HOSTS = ["*.example.com"]',
        'ALLOWED_HOSTS = os.environ["DJANGO_ALLOWED_HOSTS"].split(",")',
        'ALLOWED_HOSTS = os.environ.get("DJANGO_ALLOWED_HOSTS", "*").split(",")',
        'ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["*"])',
        'ALLOWED_HOSTS = ["*"] if DEBUG else ["example.com"]',
        'ALLOWED_HOSTS = [["*"]]',
        'ALLOWED_HOSTS.remove("*")',
        'HOSTS = ["*"]',
        'CORS_ALLOWED_ORIGINS = ["*"]',
    ],
)
def test_allowed_hosts_without_a_literal_wildcard_is_ignored(statement: str) -> None:
    assert only(f"import os\n\n{statement}\n", "PYS202") == []


@pytest.mark.parametrize(
    "code",
    [
        'if DEBUG:\n    ALLOWED_HOSTS = ["*"]\n',
        'try:\n    from .hosts import ALLOWED_HOSTS\nexcept ImportError:\n    ALLOWED_HOSTS = ["*"]\n',
    ],
)
def test_conditional_wildcards_are_ignored(code: str) -> None:
    assert only("DEBUG = False\n" + code, "PYS202") == []


def test_allowed_hosts_wildcard_ignored_outside_settings_modules() -> None:
    assert only('ALLOWED_HOSTS = ["*"]\n', "PYS202", "mysite/app.py") == []


def test_allowed_hosts_has_no_fix() -> None:
    assert one('ALLOWED_HOSTS = ["*"]\n', "PYS202").fix is None


# -- defaults that the settings module replaces later ---------------------------------------

def default_codes(code: str, path: str = SETTINGS) -> list[tuple[str, int]]:
    return [(f.code, f.line) for f in lint(code, path, select="DEFAULT")
            if f.code in ("PYS201", "PYS202")]


@pytest.mark.parametrize("loader", [
    "from dynaconf import DjangoDynaconf\n\nsettings = DjangoDynaconf(__name__)\n",  # pulpcore
    "try:\n    from .local_settings import *\nexcept ImportError:\n    pass\n",
    "exec(open('/etc/mysite/settings.py').read())\n",
    "from split_settings.tools import include\n\ninclude('components/*.py')\n",
])
def test_values_loaded_over_later_are_defaults(loader: str) -> None:
    code = f'DEBUG = True\nALLOWED_HOSTS = ["*"]\n\n{loader}'
    assert default_codes(code) == []
    # chosen by code, each rule still says what it sees
    assert [f.line for f in only(code, "PYS201")] == [1]
    assert [f.line for f in only(code, "PYS202")] == [2]


def test_values_set_after_the_loaded_settings_are_this_modules_own() -> None:
    code = 'from .base import *\n\nDEBUG = True\nALLOWED_HOSTS = ["*"]\n'
    assert default_codes(code, "mysite/settings/production.py") == [("PYS201", 3),
                                                                     ("PYS202", 4)]


# -- settings templates users copy (weblate's settings_example.py) -------------------------

TEMPLATES = [
    "weblate/settings_example.py",
    "mysite/settings_sample.py",
    "mysite/sample_settings.py",
    "mysite/settings.template.py",
    "mysite/settings_dist.py",
    "mysite/settings/example.py",
    "mysite/settings_examples/base.py",
    # the shared base a settings package's deployment modules import and override
    "tcms/settings/common.py",
    "mysite/settings/base.py",
    "config/settings/defaults.py",
]
TEMPLATE_CODE = INSTALLED + 'DEBUG = True\nALLOWED_HOSTS = ["*"]\n'


@pytest.mark.parametrize("path", TEMPLATES)
def test_a_settings_template_is_quiet_by_default(path: str) -> None:
    assert default_codes(TEMPLATE_CODE, path) == []


@pytest.mark.parametrize("path", TEMPLATES)
def test_a_settings_template_chosen_by_code_is_a_warning_never_an_error(path: str) -> None:
    debug = one(TEMPLATE_CODE, "PYS201", path)
    assert (debug.line, debug.severity) == (2, Severity.WARNING)
    hosts = one(TEMPLATE_CODE, "PYS202", path)
    assert (hosts.line, hosts.severity) == (3, Severity.WARNING)


@pytest.mark.parametrize("path", [
    "mysite/settings.py",
    "mysite/settings/production.py",
    "distribution/settings.py",       # a folder above the settings package
    "templates_app/settings.py",
    "mysite/settings/distributed.py",  # `dist` only as a whole word
    "mysite/settings/components/templates.py",  # django-split-settings: it sets TEMPLATES
    "base/settings.py",                # a lone settings.py in a folder named base
    "mysite/settings/product.py",      # the module that overrides the base
])
def test_production_settings_stay_an_error_by_default(path: str) -> None:
    assert default_codes(TEMPLATE_CODE, path) == [("PYS201", 2), ("PYS202", 3)]
    assert one(TEMPLATE_CODE, "PYS201", path).severity is Severity.ERROR
