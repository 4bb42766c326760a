"""Which path the engine judges a file by, and which path the report shows.

The rules read a file's path (a test file, a settings module, an `examples/` folder whose
secrets are fixtures), and so do `exclude` and `per-file-ignores`. If that path were the one
typed on the command line, `pystd check examples/shop` from a repository's root and
`pystd check` inside `examples/shop` would judge the same files differently. So the engine
is given each file's path relative to the project root (the folder whose configuration
applies, as the GitHub App uses the repository-relative path), and only the report speaks
in paths relative to the working directory, as users typed them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from pystd.rules.runner import FileResult


def relative(path: Path, base: Path) -> str:
    """`path` relative to `base` in POSIX form, or as given when it lies outside."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


class PathNames:
    """The engine's name (project-relative) and the report's name (cwd-relative) of each
    checked file."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.root, self.cwd = root, cwd
        self._shown: dict[str, str] = {}

    def engine(self, path: Path) -> str:
        shown = relative(path, self.cwd)
        name = relative(path, self.root)
        if name == path.as_posix():  # outside the project: named as typed
            name = shown
        self._shown[name] = shown
        return name

    def shown(self, name: str) -> str:
        return self._shown.get(name, name)

    def for_report(self, results: Sequence[FileResult]) -> list[FileResult]:
        """`results` with every path as the report shows it."""
        out = []
        for result in results:
            shown = self.shown(result.path)
            if shown == result.path:
                out.append(result)
                continue
            findings = tuple(replace(f, path=self.shown(f.path)) for f in result.findings)
            out.append(replace(result, path=shown, findings=findings))
        return out
