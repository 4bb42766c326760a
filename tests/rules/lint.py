"""Running the engine on a snippet, for rule tests."""

from __future__ import annotations

import textwrap
from dataclasses import replace

import libcst as cst

from rules.catalogue import select_rules
from rules.engine import Finding
from rules.fixes import apply_fix
from rules.runner import check_source
from rules.versions import versions_from_texts


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
