"""The analysis pipeline (rules/pipeline.py): the steps both the CLI and the App take,
whatever runner does the work."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from pystd.rules.catalogue import select_rules
from pystd.rules.change import Change
from pystd.rules.engine import Finding, RuleSet
from pystd.rules.pipeline import (
    ChangeScope,
    Outcome,
    ProcessPoolRunner,
    RunFailed,
    Runner,
    SerialRunner,
    analyse,
)
from pystd.rules.runner import FileInput, FileResult

MODELS = ("from django.db import models\n\n\nclass Order(models.Model):\n"
          "    reference = models.CharField(max_length=64)\n")
OLD_MODELS = MODELS.replace("64", "32")
BLOCKING = b"import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def run(files: Sequence[FileInput], rules: RuleSet, *, change: ChangeScope | None = None,
        runner: Runner | None = None, folders: dict[str, bool] | None = None,
        asked: list[tuple[str, ...]] | None = None) -> Outcome:
    async def probe(paths: tuple[str, ...]) -> frozenset[str]:
        if asked is not None:
            asked.append(paths)
        return frozenset(p for p in paths if (folders or {}).get(p))

    return asyncio.run(analyse(files, change, rules, run=runner or SerialRunner(),
                               folders=probe))


def models_change(**kwargs: object) -> Outcome:
    files = [FileInput("shop/models.py", MODELS.encode(), frozenset({5}), "modified",
                       None, OLD_MODELS)]
    return run(files, select_rules(["PYS206"]), change=ChangeScope(), **kwargs)  # type: ignore[arg-type]


def test_a_change_rule_gets_the_folders_it_asks_for():
    asked: list[tuple[str, ...]] = []
    outcome = models_change(folders={"shop/migrations": True}, asked=asked)
    assert asked == [("shop/migrations",)]
    assert [(f.code, f.path, f.line) for f in outcome.findings()] == [
        ("PYS206", "shop/models.py", 5)]
    assert all(f.whole_change for f in outcome.change_findings)


def test_a_folder_that_does_not_exist_keeps_the_change_rule_quiet():
    assert models_change(folders={}).findings() == []


def test_nothing_is_asked_when_no_selected_rule_needs_folders():
    asked: list[tuple[str, ...]] = []
    files = [FileInput("shop/models.py", MODELS.encode(), None, "modified", None, OLD_MODELS)]
    run(files, select_rules(["PYS901", "PYS902"]), change=ChangeScope(), asked=asked)
    assert asked == []


def test_without_a_change_no_change_rule_runs():
    files = [FileInput(".env", None, None, "added"), FileInput("app.py", BLOCKING)]
    outcome = run(files, select_rules(), change=None)
    assert [r.path for r in outcome.files] == ["app.py"]
    assert {f.code for f in outcome.findings()} == {"PYS101"}


def test_paths_without_data_count_for_the_change_only():
    files = [FileInput(".env", None, None, "added"), FileInput("app.py", BLOCKING)]
    outcome = run(files, select_rules(), change=ChangeScope())
    assert [r.path for r in outcome.files] == ["app.py"]
    assert [(f.code, f.path) for f in outcome.change_findings] == [("PYS902", ".env")]
    merged = {r.path: [f.code for f in r.findings] for r in outcome.merged()}
    assert merged[".env"] == ["PYS902"] and "PYS101" in merged["app.py"]


class FailingChange(SerialRunner):
    """The change rules' task dies; the file tasks run as usual."""

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        raise RunFailed("the change rules ran out of time")


def test_change_rules_that_cannot_run_leave_the_file_findings_standing():
    files = [FileInput(".env", None, None, "added"), FileInput("app.py", BLOCKING)]
    outcome = run(files, select_rules(), change=ChangeScope(), runner=FailingChange())
    assert outcome.change_error == "the change rules ran out of time"
    assert outcome.change_findings == ()
    assert "PYS101" in {f.code for f in outcome.findings()}


class FailingFile(SerialRunner):
    """The analysis of `bad.py` fails (a crashed worker)."""

    def __init__(self) -> None:
        self.seen: Change | None = None

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        results = await super().check_files([i for i in inputs if i.path != "bad.py"], rules)
        return [*results, FileResult("bad.py", skipped="crashed", failed=True)]

    async def check_change(self, change: Change, rules: RuleSet) -> tuple[Finding, ...]:
        self.seen = change
        return await super().check_change(change, rules)


def test_a_file_whose_analysis_failed_is_not_read_by_the_change_rules():
    runner = FailingFile()
    files = [FileInput("bad.py", b"x = 1\n", None, "added"), FileInput("app.py", BLOCKING)]
    outcome = run(files, select_rules(), change=ChangeScope(), runner=runner)
    assert runner.seen is not None
    assert {c.path: c.text is not None for c in runner.seen.files} == {
        "bad.py": False, "app.py": True}
    assert set(outcome.texts) == {"app.py"}


@pytest.mark.parametrize("runner", [SerialRunner(), ProcessPoolRunner(2)],
                         ids=["serial", "process-pool"])
def test_every_runner_finds_the_same(runner: Runner):
    files = [FileInput(f"app{i}.py", BLOCKING, None, "added") for i in range(3)]
    files.append(FileInput(".env", None, None, "added"))
    outcome = run(files, select_rules(), change=ChangeScope(), runner=runner)
    assert sorted((f.code, f.path) for f in outcome.findings()) == [
        *[("PYS101", f"app{i}.py") for i in range(3)], ("PYS902", ".env")]
