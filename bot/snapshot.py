"""Fetching what a review needs from GitHub: the pull request's files and patches, the
contents of the changed files by blob sha, and the repository configuration and the
dependency files (for the framework versions) from the BASE commit. Raw GitHub JSON
stops here; the rest of the bot sees frozen dataclasses."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import gidgethub
from cachetools import LRUCache
from gidgethub.abc import GitHubAPI

from pystd.bot.diff import DiffError, FileChanges, patch_changes
from pystd.bot.github import GitHubError, describe_error, is_transient
from pystd.rules.config import CONFIG_FILES, ConfigError, PystdConfig, config_from_texts
from pystd.rules.runner import is_checkable
from pystd.rules.versions import VERSION_FILES, Versions, versions_from_texts

log = logging.getLogger(__name__)
_T = TypeVar("_T")

MAX_FILES = 3000  # GitHub lists at most 3000 files of a pull request (limits.json)
CHECKED_STATUSES = frozenset({"added", "modified", "renamed", "changed", "copied"})


@dataclass(frozen=True)
class ChangedFile:
    """One file of a pull request, as GitHub listed it."""

    path: str
    status: str
    sha: str | None
    changes: FileChanges | None  # None when GitHub omitted the patch (binary, huge diff)
    previous_path: str | None = None
    patch_error: str | None = None


@dataclass(frozen=True)
class PullRequestSnapshot:
    """The files of a pull request at one head sha."""

    owner: str
    repo: str
    number: int
    head_sha: str
    base_sha: str
    files: tuple[ChangedFile, ...]
    truncated: bool = False  # more than GitHub's 3000 listed files

    @property
    def checkable(self) -> tuple[ChangedFile, ...]:
        """Python and template files that were added, modified or renamed."""
        return tuple(
            f for f in self.files
            if f.status in CHECKED_STATUSES and f.sha and is_checkable(f.path)
        )


def changed_file(entry: dict[str, object]) -> ChangedFile:
    """A ChangedFile from one entry of GitHub's list-files answer."""
    path = str(entry["filename"])
    patch = entry.get("patch")
    changes, error = None, None
    if isinstance(patch, str):
        try:
            changes = patch_changes(path, patch)
        except DiffError as exc:
            error = str(exc)
    previous = entry.get("previous_filename")
    return ChangedFile(
        path=path, status=str(entry.get("status", "modified")),
        sha=str(entry["sha"]) if entry.get("sha") else None, changes=changes,
        previous_path=str(previous) if previous else None, patch_error=error,
    )


async def fetch_files(gh: GitHubAPI, owner: str, repo: str, number: int
                      ) -> tuple[tuple[ChangedFile, ...], bool]:
    """Every file of the pull request (100 per page), up to GitHub's 3000."""
    files: list[ChangedFile] = []
    url = "/repos/{owner}/{repo}/pulls/{number}/files?per_page=100"
    async for entry in gh.getiter(url, {"owner": owner, "repo": repo, "number": number}):
        files.append(changed_file(entry))
        if len(files) >= MAX_FILES:
            break
    return tuple(files), len(files) >= MAX_FILES


@dataclass(frozen=True)
class Unfetched:
    """Why a file's contents could not be fetched; `transient`: GitHub may serve it on a
    later attempt (no answer, 5xx, rate limit), as opposed to a 404 or a refusal."""

    reason: str
    transient: bool = False


class BlobCache:
    """File contents by blob sha, bounded by total bytes (a sha never changes content)."""

    def __init__(self, max_bytes: int) -> None:
        self._cache: LRUCache[str, bytes] = LRUCache(maxsize=max(max_bytes, 1), getsizeof=len)
        self.max_bytes = max_bytes

    def get(self, sha: str) -> bytes | None:
        return self._cache.get(sha)

    def put(self, sha: str, data: bytes) -> None:
        if 0 < len(data) <= self.max_bytes:
            self._cache[sha] = data


async def fetch_blobs(gh: GitHubAPI, owner: str, repo: str, files: Sequence[ChangedFile],
                      cache: BlobCache, concurrency: int) -> dict[str, bytes | Unfetched]:
    """Contents of `files` by path; a file that could not be fetched maps to why."""
    limit = asyncio.Semaphore(concurrency)

    async def one(f: ChangedFile) -> tuple[str, bytes | Unfetched]:
        assert f.sha is not None
        cached = cache.get(f.sha)
        if cached is not None:
            return f.path, cached
        async with limit:
            try:
                blob = await gh.getitem("/repos/{owner}/{repo}/git/blobs/{sha}",
                                        {"owner": owner, "repo": repo, "sha": f.sha})
            except gidgethub.HTTPException as exc:
                return f.path, Unfetched(
                    f"could not be fetched (GitHub answered {int(exc.status_code)})",
                    is_transient(exc))
            except GitHubError as exc:  # no answer, after retries
                return f.path, Unfetched(f"could not be fetched ({describe_error(exc)})", True)
        try:
            data = base64.b64decode(blob.get("content", ""), validate=False)
        except (binascii.Error, ValueError):
            return f.path, Unfetched("could not be decoded")
        cache.put(f.sha, data)
        return f.path, data

    return dict(await asyncio.gather(*(one(f) for f in files)))


async def fetch_config(gh: GitHubAPI, owner: str, repo: str, ref: str
                       ) -> tuple[PystdConfig, str | None, str | None]:
    """The repository's configuration at `ref` (the base commit).

    Returns (config, the file it came from, an error for the summary). A broken
    configuration never crashes the run: the defaults apply and the error is shown.
    """
    # Both candidates at once: one round trip instead of two when pyproject.toml has no
    # [tool.pystd] table (config_from_texts picks the right one).
    found = await asyncio.gather(*(_file_at(gh, owner, repo, name, ref) for name in CONFIG_FILES))
    texts = {name: text for name, text in zip(CONFIG_FILES, found, strict=True) if text is not None}
    return _config_of(texts)


def _config_of(texts: dict[str, str]) -> tuple[PystdConfig, str | None, str | None]:
    """(config, its file, the error for the summary): the defaults when it is broken."""
    try:
        config, source = config_from_texts(texts)
    except ConfigError as exc:
        return PystdConfig(), None, str(exc)
    return config, source, None


# `{/path*}` escapes each segment (`?`, `#`, `%`, spaces) and keeps the slashes between
# them; `{+path}` would send `?` and `#` raw, so GitHub would see another path.
CONTENTS_URL = "/repos/{owner}/{repo}/contents{/path*}{?ref}"


def path_segments(path: str) -> list[str]:
    """A repository path as URL segments for CONTENTS_URL."""
    return [part for part in path.split("/") if part]


MAX_FOLDER_PROBES = 8  # a pull request touching more apps' models than this is rare


async def existing_folders(gh: GitHubAPI, owner: str, repo: str, ref: str,
                           folders: Sequence[str]) -> frozenset[str]:
    """Which of `folders` exist at `ref`: the contents API lists a folder and answers 404
    for a missing one. A folder GitHub does not answer for counts as missing (the rules
    that ask stay quiet rather than guess)."""

    async def exists(path: str) -> bool:
        try:
            data = await gh.getitem(CONTENTS_URL, {"owner": owner, "repo": repo,
                                              "path": path_segments(path), "ref": ref})
        except gidgethub.BadRequest as exc:
            if int(exc.status_code) != 404:
                log.warning("cannot tell whether %s exists: %s", path, describe_error(exc))
            return False
        except (gidgethub.GitHubException, GitHubError, TimeoutError) as exc:  # after retries
            log.warning("cannot tell whether %s exists: %s", path, describe_error(exc))
            return False
        return isinstance(data, list)

    chosen = list(folders)[:MAX_FOLDER_PROBES]
    found = await asyncio.gather(*(exists(p) for p in chosen))
    return frozenset(p for p, yes in zip(chosen, found, strict=True) if yes)


MAX_VERSION_FILES = 6  # dependency files read per base commit, at most
# The contents API sends no content for a file above 1 MB: a lock file that large is skipped.
MAX_VERSION_FILE_BYTES = 1_000_000
_GITHUB_FAILURES = (gidgethub.GitHubException, GitHubError, TimeoutError)


@dataclass(frozen=True)
class BaseFiles:
    """What a review reads at the pull request's BASE commit: the configuration, the file
    it came from and why it could not be used, and the framework versions its dependency
    files pin (empty: unknown, and every rule assumes the current release)."""

    config: PystdConfig
    source: str | None = None
    error: str | None = None
    versions: Versions = field(default_factory=Versions)


async def fetch_base_files(gh: GitHubAPI, owner: str, repo: str, ref: str) -> BaseFiles:
    """The configuration and the framework versions at `ref` (the base commit).

    One listing of the root folder (and of `requirements/` when it exists) tells which of
    CONFIG_FILES and VERSION_FILES are there; only those are fetched, `pyproject.toml` once
    for both. A dependency file that cannot be fetched leaves its versions unknown; it
    never fails the run. When the listing itself fails, the configuration is fetched as
    `fetch_config` does and the versions stay unknown.
    """
    try:
        root = await _folder(gh, owner, repo, "", ref)
    except _GITHUB_FAILURES as exc:
        log.warning("base commit not listed; configuration fetched file by file", extra={
            "repository": f"{owner}/{repo}", "base_sha": ref, "error": describe_error(exc)})
        config, source, error = await fetch_config(gh, owner, repo, ref)
        return BaseFiles(config, source, error)
    present = dict(root)
    subfolders = sorted({p.rpartition("/")[0] for p in VERSION_FILES if "/" in p}
                        & {p for p, size in root.items() if size is None})
    listings = [_or_nothing(_folder(gh, owner, repo, folder, ref), {}, "dependency folder",
                            owner, repo, folder, ref) for folder in subfolders]
    for listing in await asyncio.gather(*listings):
        present.update(listing)
    config_names = [n for n in CONFIG_FILES if _exists(n, present)]
    version_names = [n for n in VERSION_FILES if n not in CONFIG_FILES
                     and _exists(n, present)][:MAX_VERSION_FILES]
    config_texts, version_texts = await asyncio.gather(
        asyncio.gather(*(_file_at(gh, owner, repo, n, ref) for n in config_names)),
        asyncio.gather(*(_or_nothing(_file_at(gh, owner, repo, n, ref), None, "dependency file",
                                     owner, repo, n, ref) for n in version_names)))
    texts = {n: t for n, t in zip(config_names, config_texts, strict=True) if t is not None}
    dependencies = {n: t for n, t in zip(version_names, version_texts, strict=True)
                    if t is not None}
    dependencies.update((n, t) for n, t in texts.items() if n in VERSION_FILES)
    return BaseFiles(*_config_of(texts), versions_from_texts(dependencies))


def _exists(path: str, present: dict[str, int | None]) -> bool:
    """Is `path` a file in the listings (a folder for its parent, when that was not
    listed: `.github/pystd.toml` is worth a fetch when `.github` exists)?"""
    if path in present:
        size = present[path]
        return size is not None and size <= MAX_VERSION_FILE_BYTES
    parent = path.rpartition("/")[0]
    return bool(parent) and present.get(parent, 0) is None and not any(
        p.startswith(f"{parent}/") for p in present)


async def _folder(gh: GitHubAPI, owner: str, repo: str, path: str, ref: str
                  ) -> dict[str, int | None]:
    """The entries of a folder at `ref`: path -> size for files, None for folders. A
    missing folder (or an empty repository's root) is empty."""
    try:
        data = await gh.getitem(CONTENTS_URL, {"owner": owner, "repo": repo,
                                              "path": path_segments(path), "ref": ref})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return {}
        raise
    if not isinstance(data, list):
        return {}
    out: dict[str, int | None] = {}
    for entry in data:
        if isinstance(entry, dict) and isinstance(entry.get("path"), str):
            size = entry.get("size")
            out[entry["path"]] = (int(size) if isinstance(size, int) else 0) if entry.get(
                "type") == "file" else None
    return out


async def _or_nothing(fetch: Awaitable[_T], nothing: _T, what: str, owner: str, repo: str,
                      path: str, ref: str) -> _T:
    """`fetch`'s answer, or `nothing` when GitHub does not give one: a dependency file or
    folder it cannot serve leaves those versions unknown, never fails the run."""
    try:
        return await fetch
    except _GITHUB_FAILURES as exc:
        log.warning("%s not read; its versions are unknown", what, extra={
            "repository": f"{owner}/{repo}", "base_sha": ref, "path": path,
            "error": describe_error(exc)})
        return nothing


async def _file_at(gh: GitHubAPI, owner: str, repo: str, path: str, ref: str) -> str | None:
    try:
        data = await gh.getitem(CONTENTS_URL, {"owner": owner, "repo": repo,
                                              "path": path_segments(path), "ref": ref})
    except gidgethub.BadRequest as exc:
        if int(exc.status_code) == 404:
            return None
        raise
    if not isinstance(data, dict) or data.get("type", "file") != "file":
        return None
    try:
        return base64.b64decode(data.get("content", "")).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None


async def fetch_compare_files(gh: GitHubAPI, owner: str, repo: str, base: str, head: str
                              ) -> tuple[tuple[ChangedFile, ...], bool]:
    """The files changed between two commits (a merge group's base and head)."""
    data = await gh.getitem("/repos/{owner}/{repo}/compare/{basehead}",
                            {"owner": owner, "repo": repo, "basehead": f"{base}...{head}"})
    entries = data.get("files") or []
    files = tuple(changed_file(e) for e in entries[:MAX_FILES])
    return files, len(entries) >= MAX_FILES
