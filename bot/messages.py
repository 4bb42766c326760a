"""Every user-facing string of the bot and the CLI, so wording stays consistent and tests
assert on these constants."""

from __future__ import annotations

PROJECT_URL = "https://github.com/pystd-dev/pystd"
DOCS_URL = f"{PROJECT_URL}/blob/main/docs/rules.md"


def rule_docs_url(code: str, name: str) -> str:
    """Link to a rule's section in docs/rules.md (GitHub's heading anchors)."""
    return f"{DOCS_URL}#{code.lower()}-{name}"


# -- CLI ---------------------------------------------------------------------------------
CLI_NO_SUCH_PATH = "pystd: error: no such file or directory: {path}"
CLI_NOT_A_GIT_REPO = "pystd: error: --diff needs a git repository, and {path} is not inside one"
CLI_BAD_REF = "pystd: error: --diff {ref}: git cannot find that revision ({detail})"
CLI_UNKNOWN_CODE = "pystd: error: {option}: unknown rule code {code!r}"
CLI_UNKNOWN_RULE = "pystd: error: no rule {code!r}; `pystd rule` lists them"
CLI_CONFIG_ERROR = "pystd: error: {message}"
CLI_GIT_MISSING = "pystd: error: --diff needs git on PATH"
