"""PYS902: files that hold credentials added to the repository."""

from __future__ import annotations

import fnmatch
from pathlib import PurePosixPath

from pystd.rules.change.base import Change, ChangeRule
from pystd.rules.engine import Category, Severity, register

SECRET_FILE_PATTERNS = (".env", ".env.*", "*.pem", "id_rsa", "id_rsa.*", "id_ed25519",
                        "id_ecdsa", "id_dsa")
SECRET_FILE_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template",
                                   "id_rsa.pub", "id_ed25519.pub", "id_ecdsa.pub", "id_dsa.pub"})


@register
class EnvFileCommitted(ChangeRule):
    code = "PYS902"
    name = "env-file-committed"
    severity = Severity.WARNING
    category = Category.SECURITY
    default = True
    rationale = (
        "A committed `.env` or private key leaks credentials for good, but the rule sees only "
        "the file name: public certificates, test fixtures and local-default `.env` files are "
        "committed on purpose."
    )
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
    bad = (
        """
        # the change adds .env  # flagged
        """,
    )
    good = (
        """
        # the change adds .env.example
        """,
    )

    def check_change(self, change: Change) -> None:
        for f in change.files:
            if f.status != "added":
                continue
            name = PurePosixPath(f.path).name
            if name in SECRET_FILE_TEMPLATES:
                continue
            if any(fnmatch.fnmatchcase(name, p) for p in SECRET_FILE_PATTERNS):
                self.report_line(f.path, 1, self.message.format(path=f.path))
