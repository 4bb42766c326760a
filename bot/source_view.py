"""The code under a finding in `pystd check --show-source`, as ruff shows it:

    app.py:5:5: PYS101 [error] Blocking call `time.sleep` in async code stalls the event loop
      |
    4 | async def handler():
    5 |     time.sleep(1)
      |     ^^^^^^^^^^^^^
      |
      = help: https://github.com/pystd-dev/pystd/blob/main/docs/rules.md#pys101-...

One line of context above the flagged lines, carets under the flagged columns, and the
link to the rule's page (the App's `/rules/PYSxxx` when PYSTD_PUBLIC_URL is set).
"""

from __future__ import annotations

import os

from pystd.bot.messages import TEXT_RULE_LINK, rule_docs_url
from pystd.rules.engine import Finding

CONTEXT = 1  # lines shown above the finding
MAX_LINES = 6  # flagged lines shown at most; the rest is elided


def docs_url(finding: Finding) -> str:
    """The rule page of `finding`: the App's when PYSTD_PUBLIC_URL is set."""
    return rule_docs_url(finding.code, finding.name, os.environ.get("PYSTD_PUBLIC_URL"))


def source_block(finding: Finding, lines: list[str] | None) -> list[str]:
    """The lines to print under a finding: its code (when the file could be read), then the
    rule's link."""
    out: list[str] = []
    if lines and 1 <= finding.line <= len(lines):
        first = max(1, finding.line - CONTEXT)
        last = min(finding.end_line, finding.line + MAX_LINES - 1, len(lines))
        width = len(str(last))
        gutter = " " * width + " |"
        out.append(gutter)
        for number in range(first, last + 1):
            text = lines[number - 1].rstrip("\r\n").expandtabs(1)
            out.append(f"{number:>{width}} | {text}".rstrip())
            if number == finding.line:
                start = finding.column
                end = finding.end_column if finding.end_line == finding.line else len(text)
                carets = "^" * max(1, end - start + 1)
                out.append(f"{gutter} {' ' * (start - 1)}{carets}")
        if finding.end_line > last:
            out.append(f"{gutter} ...")
        out.append(gutter)
        out.append(" " * width + " " + TEXT_RULE_LINK.format(url=docs_url(finding)))
    else:
        out.append(TEXT_RULE_LINK.format(url=docs_url(finding)))
    return ["  " + line for line in out]


def hyperlink(text: str, url: str) -> str:
    """`text` as a terminal hyperlink (OSC 8), for colour output only: terminals that do
    not know it show the text."""
    return f"\x1b]8;;{url}\x1b\\{text}\x1b]8;;\x1b\\"
