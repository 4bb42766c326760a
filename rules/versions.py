"""Which versions of the frameworks a project uses, from its dependency files.

Version advice must fit the project: no Pydantic v2 API on a project pinned to Pydantic 1,
no `Annotated` dependencies before FastAPI 0.95, no `aget()` before Django 4.1. The pins
come from the files a project already has, read as text (never installed or run):

- `pyproject.toml`: `[project].dependencies` and `[tool.poetry.dependencies]`;
- `requirements*.txt` (`requirements/*.txt` too): PEP 508 lines;
- lock files, where a project has one: `poetry.lock`, `uv.lock` (TOML `[[package]]`
  tables) and `Pipfile.lock` (JSON): exact versions, which win over ranges.

A package nothing mentions, or a range that allows the current release, is "unknown":
rules then assume the current version. Only an explicit pin or upper bound below a
version makes `below()` true.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

#: Files read for versions, in the order they are read (a lock file's exact version wins).
VERSION_FILES = ("pyproject.toml", "requirements.txt", "requirements/base.txt",
                 "requirements/prod.txt", "requirements/production.txt", "poetry.lock",
                 "uv.lock", "Pipfile.lock")
LOCK_FILES = frozenset({"poetry.lock", "uv.lock", "Pipfile.lock"})
_HUGE = Version("99999")


@dataclass(frozen=True)
class Versions:
    """Known version constraints by canonical package name."""

    ranges: Mapping[str, SpecifierSet] = field(default_factory=dict)
    locked: Mapping[str, Version] = field(default_factory=dict)

    def below(self, package: str, version: str) -> bool:
        """True when the project is known to run `package` older than `version`: locked
        older, or every version its constraints allow is older."""
        name = canonicalize_name(package)
        bound = Version(version)
        if name in self.locked:
            return self.locked[name] < bound
        spec = self.ranges.get(name)
        if spec is None or not str(spec):
            return False
        # Versions at or above `bound` the spec could allow: the bound, the next minor and
        # major, and each version a clause names with its next micro (`==4.1.7`, `>4.1.0`).
        candidates = [bound, Version(f"{bound.major}.{bound.minor + 1}"),
                      Version(f"{bound.major + 1}"), _HUGE]
        for clause in spec:
            try:
                named = Version(clause.version.removesuffix(".*"))
            except InvalidVersion:
                continue
            if named >= bound:
                candidates += [named, Version(f"{named.major}.{named.minor}.{named.micro + 1}")]
        return not any(spec.contains(v, prereleases=True) for v in candidates)

    def at_least(self, package: str, version: str) -> bool:
        """True when the project is known to run `package` at `version` or newer."""
        name = canonicalize_name(package)
        bound = Version(version)
        if name in self.locked:
            return self.locked[name] >= bound
        lowest = _lower_bound(self.ranges.get(name, SpecifierSet()))
        return lowest is not None and lowest >= bound

    def __bool__(self) -> bool:
        return bool(self.ranges or self.locked)


def _lower_bound(spec: SpecifierSet) -> Version | None:
    """The lowest version `spec` allows, as far as its lower clauses say (None: none)."""
    lows = []
    for clause in spec:
        if clause.operator in (">=", ">", "==", "~=", "==="):
            try:
                lows.append(Version(clause.version.removesuffix(".*")))
            except InvalidVersion:
                continue
    return max(lows, default=None)


def versions_from_texts(texts: Mapping[str, str]) -> Versions:
    """Versions from dependency files by path (any of VERSION_FILES, or other
    `requirements*.txt`); unreadable files and lines are skipped."""
    ranges: dict[str, SpecifierSet] = {}
    locked: dict[str, Version] = {}
    for path, text in texts.items():
        name = path.rsplit("/", 1)[-1]
        if name in LOCK_FILES:
            locked.update(_locked(name, text))
            continue
        if name == "pyproject.toml":
            requirements = _pyproject(text)
        elif name.endswith(".txt"):
            requirements = _requirements_txt(text)
        else:
            continue
        for package, spec in requirements:
            ranges[package] = ranges[package] & spec if package in ranges else spec
    return Versions(ranges, locked)


def _parse(line: str) -> tuple[str, SpecifierSet] | None:
    try:
        req = Requirement(line)
    except InvalidRequirement:
        return None
    if req.url:
        return None
    return canonicalize_name(req.name), req.specifier


def _requirements_txt(text: str) -> Iterable[tuple[str, SpecifierSet]]:
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith(("#", "-")):
            continue
        parsed = _parse(line)
        if parsed is not None:
            yield parsed


def _pyproject(text: str) -> Iterable[tuple[str, SpecifierSet]]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return
    dependencies = _table(data, "project").get("dependencies")
    for line in dependencies if isinstance(dependencies, list) else ():
        if isinstance(line, str) and (parsed := _parse(line)) is not None:
            yield parsed
    poetry = _table(_table(_table(data, "tool"), "poetry"), "dependencies")
    for package, value in poetry.items():
        constraint = value.get("version") if isinstance(value, dict) else value
        if package.lower() == "python" or not isinstance(constraint, str):
            continue
        spec = _poetry_constraint(constraint)
        if spec is not None:
            yield canonicalize_name(package), spec


def _table(data: Mapping[str, object], key: str) -> Mapping[str, object]:
    """`data[key]` when it is a TOML table; empty when missing or of another type (valid
    TOML is not always the shape the packaging tools document)."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


_CARET = re.compile(r"^\^(\d+)(?:\.(\d+))?(?:\.(\d+))?$")
_TILDE = re.compile(r"^~(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


def _poetry_constraint(constraint: str) -> SpecifierSet | None:
    """Poetry's `^1.2`, `~1.2`, `1.2.*`, `*` and PEP 440 ranges as a SpecifierSet."""
    parts = []
    for piece in constraint.replace(" ", "").split(","):
        if piece in ("", "*"):
            continue
        if caret := _CARET.match(piece):
            major, minor, patch = (int(x) if x else 0 for x in caret.groups())
            upper = (f"{major + 1}" if major else f"0.{minor + 1}" if minor or not patch
                     else f"0.0.{patch + 1}")
            parts += [f">={major}.{minor}.{patch}", f"<{upper}"]
        elif tilde := _TILDE.match(piece):
            t_major, t_minor, t_patch = tilde.groups()
            upper = f"{t_major}.{int(t_minor) + 1}" if t_minor else f"{int(t_major) + 1}"
            parts += [f">={t_major}.{t_minor or 0}.{t_patch or 0}", f"<{upper}"]
        elif piece[0].isdigit():
            parts.append(f"=={piece}")
        else:
            parts.append(piece)
    try:
        return SpecifierSet(",".join(parts))
    except InvalidSpecifier:
        return None


def _locked(name: str, text: str) -> dict[str, Version]:
    out: dict[str, Version] = {}
    try:
        if name == "Pipfile.lock":
            data = json.loads(text)
            items = [(pkg, str(info.get("version", "")).lstrip("="))
                     for pkg, info in (data.get("default") or {}).items()
                     if isinstance(info, dict)]
        else:
            data = tomllib.loads(text)
            items = [(str(p.get("name", "")), str(p.get("version", "")))
                     for p in data.get("package", []) if isinstance(p, dict)]
    except (ValueError, tomllib.TOMLDecodeError, AttributeError):
        return out
    for package, version in items:
        try:
            out[canonicalize_name(package)] = Version(version)
        except InvalidVersion:
            continue
    return out
