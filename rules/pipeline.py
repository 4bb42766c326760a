"""One analysis of many files, the same for `pystd check` and the GitHub App.

    outcome = await analyse(files, change, rules, run=SerialRunner())

The caller reads the files (from disk, from GitHub) and says how each changed; this
module does every step of the engine in order: it works out what the change rules need
of the whole change (Django models declared by the change, the folders a rule asks
about), has the runner check each file (the change rules' facts come from the same
parse), folds those facts back into the change, runs the change rules and hands back
everything found. A runner decides where the work happens: `SerialRunner` in this
process (tests, `--jobs 1`), `ProcessPoolRunner` in worker processes (`pystd check`),
and the App's engine pool (bot/engine_pool.py), which bounds and isolates each file.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from pystd.rules.catalogue import select_rules
from pystd.rules.change.base import Change, ChangedPath, ChangeRule, FileChange, check_change
from pystd.rules.change.base import wants_facts as _wants_facts
from pystd.rules.engine import Finding, RuleSet
from pystd.rules.runner import FileInput, FileResult, check_inputs, check_item, check_source

# Asked which of some folders exist after the change; answers with those that do.
FolderProbe = Callable[[tuple[str, ...]], Awaitable[frozenset[str]]]


class RunFailed(Exception):
    """A runner could not run the change rules (their task crashed or ran out of time):
    the file findings stand, and the outcome says why the change rules did not run."""


class Runner(Protocol):
    """Where the engine's work happens."""

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        """One result per input; a file whose analysis failed comes back `failed`."""
        ...

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        """The change rules over `change`; raises RunFailed when they could not run."""
        ...


class SerialRunner:
    """Everything in this process, one file after another (tests, `--jobs 1`)."""

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        return [check_item(i, rules) for i in inputs]

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        return check_change(change, rules)


@dataclass(frozen=True)
class ProcessPoolRunner(SerialRunner):
    """Each file a task in `jobs` worker processes (None: one per CPU) for the length of
    one analysis; a file that crashes its worker comes back failed. The change rules,
    which read facts the workers already worked out, run in this process."""

    jobs: int | None = None

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        return check_inputs(inputs, rules, self.jobs)


@dataclass(frozen=True)
class ChangeScope:
    """The files form one change (a pull request, `pystd check --diff`): the change rules
    run over all of them. `max_handler_lines` is the repository's setting (PYS110)."""

    max_handler_lines: int = 40


@dataclass(frozen=True)
class Outcome:
    """What one analysis found: a result per checked file (the runner's order), the change
    rules' findings, and why those did not run (None: they ran, or there was no change)."""

    files: tuple[FileResult, ...]
    change_findings: tuple[Finding, ...] = ()
    change_error: str | None = None
    # The text of each file of the change the rules read (not those whose own analysis
    # failed): what findings are placed and fingerprinted against.
    texts: Mapping[str, str] = field(default_factory=dict)

    def findings(self) -> list[Finding]:
        """The change rules' findings, then each file's."""
        return [*self.change_findings, *(f for r in self.files for f in r.findings)]

    def merged(self) -> list[FileResult]:
        """The file results with the change findings added to their files' (a result of
        its own for a path that was not checked), by path."""
        if not self.change_findings:
            return list(self.files)
        by_path = {r.path: r for r in self.files}
        for finding in self.change_findings:
            old = by_path.get(finding.path, FileResult(finding.path))
            by_path[finding.path] = replace(old, findings=(*old.findings, finding))
        return sorted(by_path.values(), key=lambda r: r.path)


async def analyse(files: Sequence[FileInput], change: ChangeScope | None, rules: RuleSet,
                  *, run: Runner, folders: FolderProbe | None = None) -> Outcome:
    """Every selected rule over `files`. With `change`, the files are one change: the
    paths without data (removed, not Python, unreadable) count for the change rules too,
    which then run over the whole of it; `folders` answers the rules that ask which
    folders exist (None: not known)."""
    checked = [f for f in files if f.data is not None]
    if change is None:
        return Outcome(tuple(await run.check_files([_task(f) for f in checked], rules)))
    whole = _change(files, change)
    tasks = _with_facts_wanted(checked, whole, rules)
    results, existing = await _gather(run.check_files(tasks, rules),
                                      _probe(whole, rules, folders))
    # A file whose own analysis failed is not handed to the change rules either: they
    # would parse it again and fail the same way, taking every finding with them.
    failed = {r.path for r in results if r.failed}
    whole = replace(
        whole, existing_dirs=existing,
        facts={r.path: r.facts for r in results if r.facts is not None},
        files=tuple(replace(c, text=None, old_text=None) if c.path in failed else c
                    for c in whole.files))
    texts = {c.path: c.text for c in whole.files if c.text is not None}
    try:
        found = await run.check_change(whole, rules)
    except RunFailed as exc:
        return Outcome(tuple(results), (), str(exc), texts)
    return Outcome(tuple(results), tuple(found), None, texts)


def _task(f: FileInput, how: FileChange | None = None) -> FileInput:
    """What a worker gets of a file: the bytes, the changed lines and, when a change rule
    wants facts of it, how it changed (nothing else travels to the worker)."""
    return FileInput(f.path, f.data, f.changed, change=how)


def _change(files: Sequence[FileInput], scope: ChangeScope) -> Change:
    """The whole change as the change rules see it (the folders are not known yet)."""
    paths = tuple(
        ChangedPath(f.path, f.status,
                    None if f.data is None else f.data.decode("utf-8-sig", errors="replace"),
                    f.changed, f.previous_path, f.old_text)
        for f in files)
    return Change(paths, max_handler_lines=scope.max_handler_lines)


def _with_facts_wanted(checked: Sequence[FileInput], change: Change, rules: RuleSet
                       ) -> list[FileInput]:
    """The worker tasks, each with how its file changed when a selected change rule has
    facts to work out of it, and with the Django models of the change's models modules
    when a selected rule reads them (it names its reader as `change_models_of`)."""
    readers = {reader for cls in rules if (reader := getattr(cls, "change_models_of", None))}
    if not _wants_facts(rules) and not readers:
        return [_task(f) for f in checked]
    models = tuple(model for read in readers for model in read(change))
    how = {c.path: FileChange(c.status, c.previous_path, c.old_text, change.max_handler_lines,
                              models)
           for c in change.files}
    return [_task(f, how.get(f.path)) for f in checked]


def folders_to_probe(change: Change, rules: RuleSet) -> tuple[str, ...]:
    """The folders the selected change rules ask about (`ChangeRule.folders_needed`)."""
    wanted: set[str] = set()
    for cls in rules:
        if issubclass(cls, ChangeRule):
            wanted.update(cls.folders_needed(change))
    return tuple(sorted(wanted))


async def _probe(change: Change, rules: RuleSet, folders: FolderProbe | None
                 ) -> frozenset[str] | None:
    probe = folders_to_probe(change, rules) if folders is not None else ()
    if not probe:
        return None
    assert folders is not None
    return await folders(probe)


async def _gather(files: Awaitable[list[FileResult]],
                  probe: Awaitable[frozenset[str] | None]
                  ) -> tuple[list[FileResult], frozenset[str] | None]:
    """Both at once: the folder question goes to GitHub while the workers parse."""
    results, existing = await asyncio.gather(files, probe)
    return results, existing


# A few lines that wake the parser and the rules' common paths (imports, a view, a model).
_WARM_UP = b"""from django.db import models
from django.http import JsonResponse


class Item(models.Model):
    name = models.CharField(max_length=10)


def show(request, pk):
    return JsonResponse({"name": Item.objects.get(pk=pk).name})
"""


def warm_up() -> int:
    """Import every rule module and run every rule over a small file once: an engine
    process does this when it starts, so a review does not pay for it. Returns the number
    of rules loaded."""
    rules = select_rules()
    check_source("app/views.py", _WARM_UP, rules)
    return len(rules.rules)
