"""The App's side of one analysis: the pull request's files fetched from GitHub, handed to
the analysis pipeline (rules/pipeline.py) in the engine's worker processes, and its outcome
read back as what the check run and the review are planned from (`Analysis`).

The pipeline does the engine's steps; this module only fetches (blobs by sha, the
folders a change rule asks about) and says what could not be fetched or checked.
"""

from __future__ import annotations

from gidgethub.abc import GitHubAPI

from pystd.bot import messages
from pystd.bot.engine_pool import Engine
from pystd.bot.plans import Analysis, Skipped
from pystd.bot.snapshot import (
    BlobCache,
    ChangedFile,
    PullRequestSnapshot,
    Unfetched,
    existing_folders,
    fetch_blobs,
)
from pystd.rules.config import PystdConfig
from pystd.rules.pipeline import ChangeScope, analyse
from pystd.rules.runner import FileInput
from pystd.rules.versions import Versions


async def analyse_pull_request(gh: GitHubAPI, snapshot: PullRequestSnapshot,
                               config: PystdConfig, versions: Versions | None, *,
                               engine: Engine, blobs: BlobCache, blob_concurrency: int
                               ) -> tuple[Analysis, dict[str, str]]:
    """Fetch the changed files and analyse them with the project's framework `versions`
    (None: unknown, all current); also the text of each file with findings (for
    fingerprints and suggestions)."""
    wanted = [f for f in snapshot.checkable if not config.excludes(f.path)]
    contents = await fetch_blobs(gh, snapshot.owner, snapshot.repo, wanted, blobs,
                                 blob_concurrency)
    skipped: list[Skipped] = []
    read: dict[str, bytes] = {}
    for f in wanted:
        data = contents.get(f.path)
        if isinstance(data, Unfetched) or data is None:
            lost = data or Unfetched("could not be fetched")
            skipped.append(Skipped(f.path, lost.reason, failed=True, transient=lost.transient))
            continue
        if f.changes is None:
            skipped.append(Skipped(f.path, messages.SKIP_NO_PATCH))
        read[f.path] = data
    files = [file_input(f, read.get(f.path)) for f in snapshot.files
             if not config.excludes(f.path)]

    async def folders(paths: tuple[str, ...]) -> frozenset[str]:
        return await existing_folders(gh, snapshot.owner, snapshot.repo, snapshot.head_sha,
                                      paths)

    outcome = await analyse(files, ChangeScope(config.max_handler_lines),
                            config.rule_set(versions=versions), run=engine, folders=folders)
    findings = list(outcome.change_findings)
    if outcome.change_error is not None:  # the file findings still stand; not a pass
        skipped.append(Skipped(messages.CHANGE_RULES_NOT_RUN, outcome.change_error,
                               failed=True))
    checked = 0
    for result in outcome.files:
        if result.skipped:
            skipped.append(Skipped(result.path, result.skipped, failed=result.failed))
            continue
        checked += 1
        findings.extend(result.findings)
    findings = [f for f in findings if config.reports(f, f.path)]  # per-file-ignores
    flagged = {f.path for f in findings}
    sources = {path: text for path, text in outcome.texts.items() if path in flagged}
    return Analysis(tuple(findings), tuple(skipped), files_checked=checked), sources


def file_input(f: ChangedFile, data: bytes | None) -> FileInput:
    """One file of the pull request for the pipeline (`data` None: not read); its text
    before the change is rebuilt from its patch (no extra API call), a removed file's
    too."""
    old = None
    if data is not None and f.changes is not None and f.status != "added":
        old = f.changes.old_text(data.decode("utf-8-sig", errors="replace"))
    elif f.status == "removed" and f.changes is not None and f.path.endswith(".py"):
        # A removed file's patch holds all of it: the change rules see what it defined
        # (PYS206 tells a models.py split into a package from new fields).
        old = f.changes.old_text("")
    return FileInput(f.path, data, f.changes.added if f.changes else None, f.status,
                     f.previous_path, old)
