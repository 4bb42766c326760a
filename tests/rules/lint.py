"""Running the engine on a snippet, for rule tests."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import libcst as cst

from pystd.rules.catalogue import select_rules
from pystd.rules.engine import Finding
from pystd.rules.fixes import apply_fix
from pystd.rules.runner import check_source
from pystd.rules.versions import versions_from_texts


def lint(code: str, path: str = "app.py", select: str | None = None,
         requirements: str | None = None) -> list[Finding]:
    """Findings for `code` as file `path`; `select` narrows to one code or prefix;
    `requirements` is the project's requirements.txt (None: versions unknown)."""
    rules = select_rules([select] if select else ["ALL"])
    if requirements is not None:
        rules = replace(rules, versions=versions_from_texts({"requirements.txt": requirements}))
    result = check_source(path, textwrap.dedent(code), rules)
    assert result.skipped is None, result.skipped
    return list(result.findings)


def codes(code: str, path: str = "app.py", select: str | None = None) -> list[tuple[str, int]]:
    """(code, line) of every finding, in order."""
    return [(f.code, f.line) for f in lint(code, path, select)]


def fixed(code: str, finding: Finding) -> str:
    """The source with the finding's fix applied; asserts that it parses."""
    assert finding.fix is not None, f"{finding.code} offers no fix"
    new = apply_fix(textwrap.dedent(code), finding.fix)
    cst.parse_module(new)
    return new


# -- one rule over a snippet ---------------------------------------------------------------

def only(code: str, rule: str, path: str = "app.py") -> list[Finding]:
    """The findings of `rule` (a code or prefix) for `code` as file `path`."""
    return lint(code, path, select=rule)


def lines_of(code: str, rule: str, path: str = "app.py") -> list[int]:
    """The lines `rule` flags, in order."""
    return [f.line for f in only(code, rule, path)]


def one(code: str, rule: str, path: str = "app.py") -> Finding:
    """The single finding of `rule`; fails listing them when there are others or none."""
    findings = only(code, rule, path)
    assert len(findings) == 1, [(f.line, f.message) for f in findings]
    return findings[0]


def fix_of(code: str, rule: str, path: str = "app.py") -> str:
    """The source after the single finding's fix, checked to parse and be clean for
    `rule`."""
    new = fixed(code, one(code, rule, path))
    assert only(new, rule, path) == [], new
    return new


def no_fix(code: str, rule: str, path: str = "app.py") -> None:
    """`rule` flags `code` and offers no fix for any finding."""
    findings = only(code, rule, path)
    assert findings, "expected a finding"
    assert all(f.fix is None for f in findings), [f.fix for f in findings]
