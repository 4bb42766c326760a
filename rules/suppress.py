"""Suppression comments: pystd's own and the ones other tools' users already wrote.

- `# noqa` (every rule), `# noqa: PYS101,PYS205`, and `# pystd: ignore-file`;
- `# noqa: S608` and the like: a ruff/flake8 code whose rule pystd also has (EQUIVALENTS)
  silences the pystd rule, so a line a team already judged is not raised again;
- bandit's `# nosec` (bare: every security rule; `# nosec B608`: only the equivalent);
- semgrep's `# nosemgrep` (bare: every rule on the line, as semgrep reads it;
  `# nosemgrep: <rule-id>`: the equivalent of a known semgrep rule id, else nothing);
- detect-secrets' `# pragma: allowlist secret` and gitleaks' `# gitleaks:allow`: PYS102.
"""

from __future__ import annotations

import re
import tokenize
from functools import cache
from io import StringIO

from pystd.rules.catalogue import all_rules
from pystd.rules.engine import Category

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*))?", re.I)
# Bandit: `# nosec`, `# nosec B608`, `# nosec: B105, B106`, `# nosec hardcoded_sql_expressions`.
_NOSEC = re.compile(r"#\s*nosec\b(?::?[ \t]*(?P<ids>[\w-]+(?:[ \t]*,[ \t]*[\w-]+)*))?", re.I)
# Semgrep: `# nosemgrep`, `# nosemgrep: python.django.security.audit.avoid-mark-safe...`.
_NOSEMGREP = re.compile(r"#\s*nosemgrep\b(?:[ \t]*:[ \t]*(?P<ids>[\w.\-]+(?:[ \t]*,[ \t]*"
                        r"[\w.\-]+)*))?", re.I)
_SECRET_ALLOWED = re.compile(r"#\s*(?:pragma:\s*allowlist[ \t]+secret|gitleaks:allow)\b", re.I)
_BANDIT_ID = re.compile(r"^B\d{3}$", re.I)
_MARKERS = ("noqa", "nosec", "nosemgrep", "allowlist", "gitleaks")
# A comment line of its own (`{# ... #}` in templates), so prose that mentions the
# directive, like this module's docstring, does not switch a file off.
_IGNORE_FILE = re.compile(r"^\s*\{?#\s*pystd:\s*ignore-file\b", re.I)
# Non-Python files (templates) carry the directives inside their own comment syntax,
# `{# noqa: PYS208 #}`, which the same patterns find.
ALL = frozenset({"*"})

# Other tools' codes for the same problem -> the pystd rule they silence. Sources: ruff's
# rule docs (flake8-bandit S, flake8-async ASYNC, flake8-blind-except BLE, flake8-print T20,
# FastAPI FAST, ruff RUF), bandit's test ids (B-codes and their plugin names), and
# semgrep-rules' ids (matched by their last dotted part).
EQUIVALENTS: dict[str, tuple[str, ...]] = {
    "PYS101": ("ASYNC101", "ASYNC102", "ASYNC210", "ASYNC211", "ASYNC212", "ASYNC220",
               "ASYNC221", "ASYNC222", "ASYNC230", "ASYNC251"),
    "PYS102": ("S105", "S106", "S107", "B105", "B106", "B107", "hardcoded_password_string",
               "hardcoded_password_funcarg", "hardcoded_password_default"),
    "PYS103": ("BLE001", "S110", "S112", "B110", "B112", "try_except_pass",
               "try_except_continue"),
    "PYS104": ("T201", "T203"),
    "PYS105": ("S608", "S611", "B608", "B611", "hardcoded_sql_expressions",
               "django_rawsql_used", "formatted-sql-query", "sqlalchemy-execute-raw-query",
               "avoid-raw-sql"),
    "PYS106": ("S308", "S704", "B308", "B703", "B704", "django_mark_safe",
               "markupsafe_markup_xss", "avoid-mark-safe", "render-template-string"),
    "PYS108": ("RUF006",),
    "PYS203": ("S610", "B610", "django_extra_used", "avoid-query-set-extra"),
    "PYS207": ("no-csrf-exempt",),
    "PYS301": ("S201", "B201", "flask_debug_true", "debug-enabled"),
    "PYS409": ("FAST002",),
}
_TO_PYSTD = {other.upper(): code for code, others in EQUIVALENTS.items() for other in others}


def equivalent(other: str) -> str | None:
    """The pystd code another tool's code or rule id stands for (semgrep ids by their last
    dotted part: `python.flask.security.audit.debug-enabled.debug-enabled`)."""
    key = other.strip().upper()
    return _TO_PYSTD.get(key) or _TO_PYSTD.get(key.rsplit(".", 1)[-1])


@cache
def security_codes() -> frozenset[str]:
    """What a bare `# nosec` silences: every rule of the security category."""
    return frozenset(c for c, r in all_rules().items() if r.category is Category.SECURITY)


def ignores_file(source: str) -> bool:
    """`# pystd: ignore-file` anywhere in the first 5 lines."""
    head = source.split("\n", 5)[:5]
    return any(_IGNORE_FILE.search(line) for line in head)


def noqa_lines(source: str, *, python: bool = True) -> dict[int, frozenset[str]]:
    """Line -> suppressed pystd codes (`{"*"}` for a bare `# noqa` or `# nosemgrep`).

    For Python, only real comments count (a `# noqa` inside a string does not), found
    with the tokenizer; lines that do not tokenize fall back to a text scan.
    """
    lowered = source.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return {}
    out: dict[int, frozenset[str]] = {}
    comments: list[tuple[int, str]] = []
    if python:
        try:
            for tok in tokenize.generate_tokens(StringIO(source).readline):
                if tok.type == tokenize.COMMENT:
                    comments.append((tok.start[0], tok.string))
        except (tokenize.TokenError, SyntaxError, IndentationError):
            comments = list(enumerate(source.splitlines(), start=1))
    else:
        comments = list(enumerate(source.splitlines(), start=1))
    for lineno, text in comments:
        codes = comment_codes(text)
        if codes is not None:
            known = out.get(lineno)
            out[lineno] = codes if known is None else (ALL if ALL in (known, codes)
                                                       else known | codes)
    return out


def comment_codes(text: str) -> frozenset[str] | None:
    """The pystd codes one comment silences (ALL for every rule, None: not a suppression)."""
    found: set[str] = set()
    marked = False
    for match in _NOQA.finditer(text):
        marked = True
        codes = match.group("codes")
        if not codes:
            return ALL
        found.update(_pystd_codes(codes.split(",")))
    for match in _NOSEMGREP.finditer(text):
        marked = True
        ids = match.group("ids")
        if not ids:
            return ALL
        found.update(c for c in map(equivalent, ids.split(",")) if c is not None)
    for match in _NOSEC.finditer(text):
        marked = True
        ids = [i for i in re.split(r"[\s,]+", match.group("ids") or "") if i]
        tests = [i for i in ids if _BANDIT_ID.match(i) or equivalent(i) is not None]
        if not tests:  # `# nosec` or `# nosec -- reviewed`: every security rule
            found.update(security_codes())
        found.update(c for c in map(equivalent, tests) if c is not None)
    if _SECRET_ALLOWED.search(text):
        marked = True
        found.add("PYS102")
    return frozenset(found) if marked else None


def _pystd_codes(codes: list[str]) -> set[str]:
    out = set()
    for raw in codes:
        code = raw.strip().upper()
        out.add(code)
        other = equivalent(code)
        if other is not None:
            out.add(other)
    return out


def is_suppressed(code: str, lines: tuple[int, ...], noqa: dict[int, frozenset[str]]) -> bool:
    for line in lines:
        codes = noqa.get(line)
        if codes is not None and (codes is ALL or "*" in codes or code in codes):
            return True
    return False
