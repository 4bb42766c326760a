"""Change-level rules: they see the whole change (every changed path with its status, the
new and old text of the files pystd checks, and the changed lines) instead of one file.

The analysis pipeline (rules/pipeline.py) builds the `Change` of `pystd check --diff REF`
and of the GitHub App, and runs these rules after the per-file ones; a rule declares what
else it needs (`ChangeRule.folders_needed`). A change rule anchors each finding on a changed line of a changed
file (so it can be an inline comment), or on a file's first line when the file itself is
the problem (an added `.env`).

- `base`: `Change`, `ChangedPath`, `ChangeRule`, `check_change` and shared parsing helpers
- `untested_handlers`: PYS901; `secret_files`: PYS902
- `fat_handlers`: PYS110; `migrations`: PYS206; `routes`: PYS411
"""

from __future__ import annotations

from pystd.rules.change import fat_handlers, migrations, routes, secret_files, untested_handlers
from pystd.rules.change.base import Change, ChangedPath, ChangeRule, check_change
from pystd.rules.change.migrations import migration_folders_to_probe

__all__ = ["Change", "ChangeRule", "ChangedPath", "check_change", "fat_handlers",
           "migration_folders_to_probe", "migrations", "routes", "secret_files",
           "untested_handlers"]
