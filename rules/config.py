"""Repository configuration: `[tool.pystd]` in pyproject.toml, else `.github/pystd.toml`."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pystd.rules.catalogue import all_rules, select_rules
from pystd.rules.engine import (
    ALL,
    DEFAULT,
    Category,
    Finding,
    RuleSet,
    Severity,
    matches_code,
    matches_rule,
    selector,
)
from pystd.rules.versions import Versions

CONFIG_FILES = ("pyproject.toml", ".github/pystd.toml")


class ConfigError(Exception):
    """The configuration cannot be used; the message is one line for the user."""


CATEGORIES = ", ".join(c.value for c in Category)


def selector_problem(value: str) -> str | None:
    """Why a `select`/`ignore` entry names no rule (None: it is fine). One line."""
    canonical = selector(value)
    if canonical is None:
        if value.strip().upper().startswith("PYS"):
            return f"unknown rule code {value!r}"
        return f"unknown rule code or category {value!r} (categories: {CATEGORIES}; " \
               f"or {ALL}, {DEFAULT})"
    if canonical.startswith("PYS") and not any(matches_code(k, [canonical])
                                               for k in all_rules()):
        return f"unknown rule code {value!r}"
    return None


def _check_codes(values: list[str]) -> list[str]:
    for value in values:
        problem = selector_problem(value)
        if problem is not None:
            raise ValueError(problem)
    return values


class PystdConfig(BaseModel):
    """The policy a repository sets for pystd. Defaults live here and in config/defaults.toml."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    # DEFAULT: the rules on by default (docs/rules.md's policy table); "ALL", categories
    # and codes or prefixes opt in to more.
    select: list[str] = Field(default_factory=lambda: [DEFAULT])
    ignore: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    severity: dict[str, Severity] = Field(default_factory=dict)
    fail_on: Literal["error", "warning", "info", "never"] = Field("error", alias="fail-on")
    max_comments: Annotated[int, Field(ge=0, le=1000)] = Field(30, alias="max-comments")
    max_handler_lines: Annotated[int, Field(ge=1)] = Field(40, alias="max-handler-lines")
    # Path glob -> rules not reported in the files it matches (ruff's per-file-ignores):
    # `{ "*/migrations/*" = ["PYS105"], "scripts/*" = ["style"] }`.
    per_file_ignores: dict[str, list[str]] = Field(default_factory=dict,
                                                   alias="per-file-ignores")

    @field_validator("select", "ignore")
    @classmethod
    def _codes(cls, values: list[str]) -> list[str]:
        return _check_codes(values)

    @field_validator("per_file_ignores")
    @classmethod
    def _per_file_codes(cls, values: dict[str, list[str]]) -> dict[str, list[str]]:
        for codes in values.values():
            _check_codes(codes)
        return values

    @field_validator("severity")
    @classmethod
    def _severity_codes(cls, values: dict[str, Severity]) -> dict[str, Severity]:
        known = all_rules()
        for code in values:
            if code not in known:
                raise ValueError(f"unknown rule code {code!r}")
        return values

    def rule_set(self, select: list[str] | None = None, ignore: list[str] | None = None,
                 versions: Versions | None = None) -> RuleSet:
        """Rules chosen by this config and the command line: `select` given on the command
        line replaces the configuration's (so `--select ALL` opts in to every rule); the
        `ignore` lists of both apply. `versions`: the project's, from its dependency files."""
        rules = select_rules(self.select if select is None else select,
                             [*self.ignore, *(ignore or [])], self.severity)
        return rules if versions is None else replace(rules, versions=versions)

    def excludes(self, path: str) -> bool:
        """Is the repository-relative `path` excluded by an `exclude` glob?"""
        return any(path_matches(path, pattern) for pattern in self.exclude)

    def reports(self, finding: Finding, path: str) -> bool:
        """Is `finding` reported in the file at `path` (relative to the configuration's
        folder), or does a `per-file-ignores` entry leave it out?"""
        if not self.per_file_ignores:
            return True
        rule = all_rules().get(finding.code)
        for pattern, ignored in self.per_file_ignores.items():
            if rule is not None and path_matches(path, pattern) and matches_rule(
                    rule, [c for c in map(selector, ignored) if c is not None]):
                return False
        return True

    @property
    def gate(self) -> Severity | None:
        """The lowest severity that fails the check (None: never fail)."""
        return None if self.fail_on == "never" else Severity(self.fail_on)


def path_matches(path: str, pattern: str) -> bool:
    """Does a glob of the configuration match the relative `path`: the path itself, a
    folder above it, or one of its parts (`legacy`, `*/migrations/*`, `*_pb2.py`)?"""
    posix = PurePosixPath(path)
    pat = pattern.rstrip("/")
    if fnmatch.fnmatch(str(posix), pat) or fnmatch.fnmatch(str(posix), f"{pat}/*"):
        return True
    return any(fnmatch.fnmatch(part, pat) for part in posix.parts)


def parse_config(data: dict[str, Any], source: str = "configuration") -> PystdConfig:
    """Validate a `[tool.pystd]` table; any problem is one ConfigError line."""
    try:
        return PystdConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "tool.pystd"
        if err["type"] == "extra_forbidden":
            raise ConfigError(f"{source}: unknown key {where!r} in [tool.pystd]") from None
        message = str(err["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{source}: {where}: {message}") from None


def config_from_texts(texts: dict[str, str]) -> tuple[PystdConfig, str | None]:
    """Pick the configuration from file texts keyed by repository path.

    `pyproject.toml` wins when it has a `[tool.pystd]` table; else `.github/pystd.toml`
    (whose top level, or its own `[tool.pystd]`, is the table). Returns the config and
    the file it came from (None: defaults).
    """
    for name in CONFIG_FILES:
        text = texts.get(name)
        if text is None:
            continue
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{name}: invalid TOML: {exc}") from None
        tool = data.get("tool")
        table = tool.get("pystd") if isinstance(tool, dict) else None
        if table is None and name != "pyproject.toml":
            table = data
        if table is None:
            continue
        if not isinstance(table, dict):
            raise ConfigError(f"{name}: [tool.pystd] must be a table")
        return parse_config(table, name), name
    return PystdConfig(), None


def load_config(root: Path, explicit: Path | None = None) -> tuple[PystdConfig, str | None]:
    """Read the configuration of the project at `root` (or the `--config` file)."""
    if explicit is not None:
        try:
            text = explicit.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read config file {explicit}: {exc.strerror}") from None
        key = "pyproject.toml" if explicit.name == "pyproject.toml" else ".github/pystd.toml"
        try:
            config, _ = config_from_texts({key: text})
        except ConfigError as exc:  # name the file the user gave, not the key it was read as
            raise ConfigError(str(exc).replace(key, str(explicit), 1)) from None
        return config, str(explicit)
    texts = {}
    for name in CONFIG_FILES:
        path = root / name
        if path.is_file():
            texts[name] = path.read_text(encoding="utf-8", errors="replace")
    return config_from_texts(texts)
