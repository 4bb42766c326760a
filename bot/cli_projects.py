"""Which project's configuration each file of `pystd check` answers to.

`pystd check a/ b/` may name folders of different projects, and one project may hold
another (a monorepo's services, each with its own `[tool.pystd]`). As in ruff, every file
is judged by the configuration of its own project root: the nearest folder at or above it
whose pyproject.toml has a `[tool.pystd]` table, or that has .github/pystd.toml. A file
under no such folder answers to the root found for the path it was named by (its nearest
pyproject.toml, else the repository's root), as a single path always did. Files are then
grouped by root, and each group is checked with its own rules, exclusions, framework
versions, cache and paths. An explicit `--config FILE` applies to every file.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from pystd.bot.diff import FileChanges
from pystd.rules.engine import RuleSet

# With --diff, a changed path: its status, its path before a rename and its hunks.
Changed = tuple[Path, str, str | None, FileChanges | None]


def project_root(start: Path) -> Path:
    """The folder whose configuration applies to `start`: the nearest at or above it whose
    pyproject.toml has a `[tool.pystd]` table, or that has .github/pystd.toml (like ruff,
    a pyproject.toml without the table does not hide a parent's). The search stops at the
    repository's root; without any configuration, the nearest folder with a
    pyproject.toml (its dependency files give the versions), else the repository's root."""
    fallback: Path | None = None
    for folder in (start, *start.parents):
        if configures_pystd(folder):
            return folder
        if fallback is None and (folder / "pyproject.toml").is_file():
            fallback = folder
        if (folder / ".git").exists():
            return fallback or folder
    return fallback or start


def configures_pystd(folder: Path) -> bool:
    """Does `folder` hold a pystd configuration (a broken pyproject.toml counts: loading
    the configuration then says what is wrong with it)?"""
    if (folder / ".github/pystd.toml").is_file():
        return True
    pyproject = folder / "pyproject.toml"
    if not pyproject.is_file():
        return False
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8", errors="replace"))
    except tomllib.TOMLDecodeError:
        return True  # broken: let the configuration say so, here
    tool = data.get("tool")
    return isinstance(tool, dict) and "pystd" in tool


class RootFinder:
    """The project root of each file named under the command line's `paths`."""

    def __init__(self, paths: Sequence[Path], *, single: bool = False) -> None:
        self._named: list[tuple[Path, Path]] = []  # (resolved path, its root)
        for path in paths:
            resolved = path.resolve()
            self._named.append((resolved, project_root(
                resolved if resolved.is_dir() else resolved.parent)))
        # `--config FILE`: one configuration for all, read at the first path's root.
        self.single = single
        self._configures: dict[Path, bool] = {}

    @property
    def first(self) -> Path:
        return self._named[0][1]

    def root_of(self, file: Path) -> Path:
        """The nearest configured folder between `file` and the root of the path it was
        named by, else that root."""
        if self.single:
            return self.first
        resolved = file.resolve()
        root = next((r for p, r in self._named if p == resolved or p in resolved.parents),
                    self.first)
        for folder in resolved.parents:
            if folder == root or root not in folder.parents:
                return root
            known = self._configures.get(folder)
            if known is None:
                known = self._configures[folder] = configures_pystd(folder)
            if known:
                return folder
        return root


@dataclass
class Group:
    """Files that answer to one project root, in the order they were planned."""

    root: Path
    files: list[tuple[Path, frozenset[int] | None]] = field(default_factory=list)
    changed: list[Changed] | None = None


def group_by_root(files: Sequence[tuple[Path, frozenset[int] | None]],
                  changed: Sequence[Changed] | None,
                  root_of: Callable[[Path], Path], first: Path) -> list[Group]:
    """`files` (and with --diff every changed path) grouped by project root; the first
    path's root first, the others in the order their first file comes."""
    groups: dict[Path, Group] = {first: Group(first, changed=[] if changed is not None
                                              else None)}
    for path, lines in files:
        root = root_of(path)
        group = groups.setdefault(root, Group(root, changed=[] if changed is not None
                                              else None))
        group.files.append((path, lines))
    for item in changed or ():
        root = root_of(item[0])
        group = groups.setdefault(root, Group(root, changed=[]))
        assert group.changed is not None
        group.changed.append(item)
    return [g for g in groups.values() if g.files or g.changed or g.root == first]


def union(rule_sets: Sequence[RuleSet]) -> RuleSet:
    """One RuleSet for a report over several projects (SARIF's rule list): every rule any
    of them runs, each at the severity of the first project that runs it."""
    if len(rule_sets) == 1:
        return rule_sets[0]
    by_code: dict[str, type] = {}
    severities: dict = {}
    for rule_set in reversed(rule_sets):
        severities.update(rule_set.severities)
    for rule_set in rule_sets:
        for cls in rule_set:
            by_code.setdefault(cls.code, cls)
    named = None
    if all(r.named is not None for r in rule_sets):
        named = frozenset().union(*(r.named or frozenset() for r in rule_sets))
    return RuleSet(tuple(by_code[c] for c in sorted(by_code)), severities,
                   rule_sets[0].versions, named)
