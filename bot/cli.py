"""The `pystd` command: `check` (the engine on local files), `rule` (rule docs), `serve`,
`worker` and `queue` (the GitHub App's processes and its job queue)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pystd.bot import messages
from pystd.bot.cli_cache import ResultCache, cache_dir, check_with_cache, fingerprint
from pystd.bot.cli_paths import PathNames, relative
from pystd.bot.cli_projects import Group, RootFinder, group_by_root, union
from pystd.bot.diff import DiffError, FileChanges, git_diff_changes
from pystd.bot.fixing import FixGroup, fix_projects
from pystd.bot.progress import Progress
from pystd.rules.catalogue import all_rules
from pystd.rules.config import ConfigError, PystdConfig, load_config, selector_problem
from pystd.rules.engine import Finding, RuleSet
from pystd.rules.pipeline import ChangeScope, SerialRunner, analyse
from pystd.rules.runner import FileInput, FileResult, check_inputs, discover, is_checkable
from pystd.rules.versions import VERSION_FILES, Versions, versions_from_texts

if TYPE_CHECKING:
    from pystd.bot.settings import Settings

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2


class UsageError(Exception):
    """A problem with the command line or its inputs; printed as one line, exit 2."""


def _count(value: str) -> int:
    """A whole number, 0 or more (argparse's type)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {value}")
    return number


def _codes(value: str) -> list[str]:
    return [c.strip() for c in value.split(",") if c.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pystd",
        description="Review Python backend code against the pystd standard "
        "(Django, Flask, FastAPI, Starlette, Django Ninja).",
    )
    parser.add_argument("--version", action="version",
                        version=f"pystd {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="check files or the lines changed since a git ref")
    check.add_argument("paths", nargs="*", type=Path, help="files or folders (default: .)")
    check.add_argument("--diff", metavar="REF",
                       help="only lines changed since `git merge-base REF HEAD`")
    check.add_argument("--format", choices=("text", "json", "github", "sarif"), default="text")
    check.add_argument("--select", type=_codes, metavar="RULES",
                       help="comma-separated rules to run instead of the configuration's "
                       "`select`: DEFAULT, ALL, categories (security,correctness,performance,"
                       "upgrade,style,structure), codes or prefixes (PYS1,PYS205)")
    check.add_argument("--ignore", type=_codes, metavar="RULES", default=[],
                       help="comma-separated categories, codes or prefixes to skip")
    check.add_argument("--config", type=Path, metavar="FILE",
                       help="a pyproject.toml or pystd.toml to read instead of the project's")
    check.add_argument("--jobs", type=_positive, default=None, metavar="N",
                       help="worker processes, 1 or more (default: number of CPUs)")
    check.add_argument("--exit-zero", action="store_true",
                       help="exit 0 even when findings reach the fail-on gate")
    check.add_argument("--output-file", type=Path, metavar="FILE",
                       help="write the report to FILE instead of standard output")
    check.add_argument("--statistics", action="store_true",
                       help="print a count of findings per rule instead of the findings")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    check.add_argument("--fix", action="store_true",
                       help="apply the safe fixes in place, then report what is left")
    check.add_argument("--unsafe-fixes", action="store_true",
                       help="with --fix, also apply the fixes that may change behaviour")
    check.add_argument("--show-source", action="store_true",
                       help="show the flagged lines of code under each finding")
    check.add_argument("--no-cache", action="store_true",
                       help="check every file again, neither reading nor writing the cache")
    check.add_argument("--cache-dir", type=Path, metavar="DIR",
                       help="where to keep the result cache (default: .pystd_cache in the "
                       "project root, or $PYSTD_CACHE_DIR)")
    rule = sub.add_parser("rule", help="list the rules, or show one rule's documentation")
    rule.add_argument("code", nargs="?", help="a rule code such as PYS205")
    rule.add_argument("--markdown", action="store_true",
                      help="print every rule's documentation as Markdown (docs/rules.md)")
    serve = sub.add_parser("serve", help="run the GitHub App's webhook server (settings: PYSTD_*)")
    serve.add_argument("--workers", type=_count, default=None, metavar="N",
                       help="review jobs run in this process at once (default: "
                       "PYSTD_CONCURRENT_JOBS; 0: only receive webhooks and queue them)")
    worker = sub.add_parser("worker", help="run reviews from the shared job queue "
                            "(PYSTD_QUEUE_URL), without receiving webhooks")
    worker.add_argument("--workers", type=_workers, default=None, metavar="N",
                        help="review jobs run at once (default: PYSTD_CONCURRENT_JOBS)")
    worker.add_argument("--port", type=_port, default=None, metavar="PORT",
                        help="serve /healthz and /metrics on this port (on PYSTD_HOST)")
    queue = sub.add_parser("queue", help="list the job queue, retry or cancel a job")
    queue_sub = queue.add_subparsers(dest="action", required=True)
    listing = queue_sub.add_parser("list", help="the newest jobs, with their state")
    listing.add_argument("--state", action="append", default=[],
                         choices=("waiting", "running", "done", "failed", "cancelled",
                                  "superseded"), help="only jobs in this state (repeatable)")
    for action, text in (("retry", "run a finished or failed job again"),
                         ("cancel", "cancel a waiting job")):
        queue_sub.add_parser(action, help=text).add_argument("job_id", type=int)
    return parser


def _positive(text: str, message: str = messages.CLI_BAD_JOBS) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(message.format(value=text))
    return value


def _workers(text: str) -> int:
    return _positive(text, messages.CLI_BAD_WORKERS)


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(messages.CLI_BAD_PORT.format(value=text))
    return int(text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("pystd")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    except BrokenPipeError:
        # `pystd check | head`: the reader has gone; say nothing more, as cat does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_CLEAN


def _run(args: argparse.Namespace) -> int:
    try:
        if args.command == "check":
            return run_check(args)
        if args.command == "serve":
            return run_serve(args.workers)
        if args.command == "worker":
            return run_worker(args.workers, args.port)
        if args.command == "queue":
            return run_queue(args.action, getattr(args, "job_id", None),
                             getattr(args, "state", []))
        return run_rule(args.code, markdown=args.markdown)
    except (UsageError, ConfigError) as exc:
        message = str(exc)
        if isinstance(exc, ConfigError):
            message = messages.CLI_CONFIG_ERROR.format(message=message)
        print(message, file=sys.stderr)
        return EXIT_ERROR


# -- pystd serve -------------------------------------------------------------------------

def _server_settings(command: str) -> Settings | None:
    """The settings of `pystd serve` or `pystd worker`, checked; None (after one line on
    stderr naming what is wrong) when they cannot start."""
    from pydantic import ValidationError

    from pystd.bot.settings import Settings, SettingsError
    from pystd.bot.store import store_for

    try:
        settings = Settings().with_stored_credentials()  # what /setup stored, if any
        settings.check()
        store_for(settings.queue_store_url)  # an unknown scheme is refused now
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "PYSTD_" + str(err["loc"][0]).upper() if err["loc"] else "settings"
        print(messages.SERVE_BAD_SETTING.format(name=name, reason=err["msg"]), file=sys.stderr)
        return None
    except SettingsError as exc:
        print(str(exc).replace("pystd serve", f"pystd {command}"), file=sys.stderr)
        return None
    except ValueError as exc:
        print(messages.QUEUE_BAD_URL.format(reason=exc), file=sys.stderr)
        return None
    return settings


def run_serve(workers: int | None = None) -> int:
    """Start the App; on a missing or bad setting (app id, private key, webhook secret, log
    level...), say which in one line and exit 2. SIGTERM drains and exits 0. Logs are JSON
    lines on stderr, never with a secret in them."""
    from pystd.bot import serve
    from pystd.bot.app import create_app
    from pystd.bot.logs import configure_logging

    settings = _server_settings("serve")
    if settings is None:
        return EXIT_ERROR
    configure_logging(settings.log_level, secrets=settings.secret_values())
    serve.run(create_app(settings, workers=workers), settings.host, settings.port)
    return EXIT_CLEAN


def run_worker(workers: int | None = None, port: int | None = None) -> int:
    """Run reviews from the shared queue; the same settings and exits as `serve`."""
    from pystd.bot import worker
    from pystd.bot.logs import configure_logging

    settings = _server_settings("worker")
    if settings is None:
        return EXIT_ERROR
    configure_logging(settings.log_level, secrets=settings.secret_values())
    worker.run(settings, workers or settings.concurrent_jobs, port)
    return EXIT_CLEAN


def run_queue(action: str, job_id: int | None, states: list[str]) -> int:
    """`pystd queue list | retry ID | cancel ID` on the store PYSTD_QUEUE_URL names."""
    from pystd.bot.queue_admin import close_cancelled_runs, queue_command
    from pystd.bot.settings import Settings, SettingsError

    settings = Settings()
    with contextlib.suppress(SettingsError):  # unreadable stored credentials: none
        settings = settings.with_stored_credentials()

    def err(line: str) -> None:
        print(line, file=sys.stderr)

    close = functools.partial(close_cancelled_runs, settings, err)
    return queue_command(settings.queue_store_url, settings.queue_timeout, action, job_id,
                         states, print, err, close if action == "cancel" else None)


# -- pystd rule --------------------------------------------------------------------------

def run_rule(code: str | None, *, markdown: bool = False) -> int:
    from pystd.rules.docs import one_line, rules_markdown

    rules = all_rules()
    if markdown:
        print(rules_markdown(), end="")
        return EXIT_CLEAN
    if code is None:
        for rule in rules.values():
            on = "on" if rule.default else "off"
            print(f"{rule.code}  {rule.name:<36} {rule.severity:<8} {rule.category:<12} {on:<4}"
                  f"{one_line(rule.message)}")
        return EXIT_CLEAN
    cls = rules.get(code.upper())
    if cls is None:
        raise UsageError(messages.CLI_UNKNOWN_RULE.format(code=code))
    on = "on by default" if cls.default else "off by default (opt in with `select`)"
    print(f"# {cls.code} {cls.name} ({cls.severity})\n\n{cls.message}\n\n"
          f"Category: {cls.category} · {on}. {cls.rationale}\n{cls.docs.rstrip()}")
    return EXIT_CLEAN


# -- pystd check -------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """What `check` will look at: the files, and for each the changed lines (None: all)."""

    files: list[tuple[Path, frozenset[int] | None]]
    # With --diff: every changed path (status, previous path, its hunks), for
    # change-level rules.
    changed: list[tuple[Path, str, str | None, FileChanges | None]] | None = None


def run_check(args: argparse.Namespace) -> int:
    from pystd.bot.formats import render  # keeps `pystd rule` light

    cwd = Path.cwd()
    for option, codes in (("--select", args.select or []), ("--ignore", args.ignore)):
        _validate_codes(option, codes)
    if args.fix and args.diff:
        raise UsageError(messages.CLI_FIX_WITH_DIFF)
    paths = args.paths or [Path(".")]
    for path in paths:
        if not path.exists():
            raise UsageError(messages.CLI_NO_SUCH_PATH.format(path=path))
    roots = RootFinder(paths, single=args.config is not None)
    plan = _plan_diff(args.diff, paths, cwd) if args.diff else _plan_all(paths, cwd)
    projects = [_project(group, args, cwd)
                for group in group_by_root(plan.files, plan.changed, roots.root_of, roots.first)]
    with Progress(sum(len(p.items) for p in projects)) as progress:
        for project in projects:
            runner = _CachedRunner(args.jobs, project.cache, progress)
            project.outcome = asyncio.run(analyse(
                project.items, project.change, project.rules, run=runner,
                folders=_local_folders(project.root)))
    for project in projects:
        for result in project.outcome.files:
            if result.failed:  # the analysis itself failed: the file was not judged
                print(messages.CLI_NOT_CHECKED.format(path=project.names.shown(result.path),
                                                      reason=result.skipped), file=sys.stderr)
        config = project.config
        project.results = project.outcome.merged()
        if config.per_file_ignores:  # (cheap to skip: most projects set none)
            project.results = [
                replace(r, findings=tuple(f for f in r.findings if config.reports(f, f.path)))
                for r in project.results]
    if args.fix:
        fixed = fix_projects([FixGroup(p.results, p.locate(cwd), p.rules, p.keeps,
                                       p.cache.store if p.cache is not None else None)
                              for p in projects], unsafe=args.unsafe_fixes)
        for project, results in zip(projects, fixed, strict=True):
            project.results = results
            if project.cache is not None:  # the fixed files' new text, as checked
                project.cache.save()
    results = [r for p in projects for r in p.names.for_report(p.results)]
    if len(projects) > 1:  # in the order the files were named, as for one project
        order = {relative(path, cwd): n for n, (path, _) in enumerate(plan.files)}
        results.sort(key=lambda r: order.get(r.path, len(order)))
    rules = union([p.rules for p in projects])
    color = args.color == "always" or (args.color == "auto" and sys.stdout.isatty()
                                       and "NO_COLOR" not in os.environ)
    if args.statistics:
        output = statistics(results, rules)
    else:
        output = render(results, args.format, rules=rules, read_source=_reader(cwd),
                        color=color and args.output_file is None,
                        show_source=args.show_source)
    if args.output_file is not None:
        try:
            args.output_file.write_text(output + "\n" if output else "", encoding="utf-8")
        except OSError as exc:
            raise UsageError(messages.CLI_BAD_OUTPUT_FILE.format(
                path=args.output_file, reason=exc.strerror)) from None
    elif output:
        print(output)
    if args.exit_zero:
        return EXIT_CLEAN
    return max(exit_code(p.results, p.config, p.rules) for p in projects)


@dataclass
class _Project:
    """One project root of the run: its configuration, rules, the engine's inputs and,
    once checked, its results (engine paths, relative to `root`)."""

    root: Path
    config: PystdConfig
    rules: RuleSet
    names: PathNames
    items: list[FileInput]
    change: ChangeScope | None
    cache: ResultCache | None
    outcome: Any = None
    results: list[FileResult] = field(default_factory=list)

    def locate(self, cwd: Path) -> Callable[[str], Path]:
        return lambda name: cwd / self.names.shown(name)

    def keeps(self, finding: Finding) -> bool:
        return self.config.reports(finding, finding.path)


def _project(group: Group, args: argparse.Namespace, cwd: Path) -> _Project:
    """The configuration, rules and engine inputs of one project root's files."""
    root = group.root
    config, _ = load_config(root, args.config)
    rules = config.rule_set(args.select, args.ignore, project_versions(root))
    names = PathNames(root, cwd)  # the engine judges project-relative paths
    items = []
    for path, changed in group.files:
        rel = names.engine(path)
        if config.excludes(rel):
            continue
        try:
            data = path.read_bytes()
        except OSError as exc:
            items.append(FileInput(rel, b"", changed))
            print(f"pystd: cannot read {names.shown(rel)}: {exc.strerror}", file=sys.stderr)
            continue
        items.append(FileInput(rel, data, changed))
    change = None
    if group.changed is not None:
        items = _in_change(items, Plan(group.files, group.changed), names.engine)
        change = ChangeScope(config.max_handler_lines)
    cache = None
    if not args.no_cache and group.changed is None:
        cache = ResultCache.load(cache_dir(args.cache_dir, root), fingerprint(rules, config))
    return _Project(root, config, rules, names, items, change, cache)


def statistics(results: Sequence[FileResult], rules: RuleSet) -> str:
    """One line per rule with findings: count, code, name, severity; most first."""
    counts: dict[str, int] = {}
    severities: dict[str, str] = {}
    names: dict[str, str] = {}
    for result in results:
        for finding in result.findings:
            counts[finding.code] = counts.get(finding.code, 0) + 1
            severities[finding.code], names[finding.code] = finding.severity.value, finding.name
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return "\n".join(f"{n:5}  {code}  {names[code]:<36} {severities[code]}" for code, n in rows)


def _in_change(items: list[FileInput], plan: Plan, name: Callable[[Path], str]
               ) -> list[FileInput]:
    """Every changed path of the diff for the pipeline (by its engine `name`, relative to
    the project root), those read with their bytes and changed lines, each with its status
    and its text before the change (rebuilt from the hunks)."""
    inputs = {i.path: i for i in items}
    out = []
    for path, status, previous, hunks in plan.changed or []:
        rel = name(path)
        item = inputs.pop(rel, None) or FileInput(rel, None)
        old = None
        if hunks is not None and item.data is not None and status != "added":
            old = hunks.old_text(item.data.decode("utf-8-sig", errors="replace"))
        out.append(replace(item, status=status, previous_path=previous, old_text=old))
    return [*out, *inputs.values()]


def _local_folders(root: Path) -> Callable[[tuple[str, ...]], Awaitable[frozenset[str]]]:
    """Which of the folders a change rule asks about (relative to the project root) exist
    in the working tree."""
    async def folders(paths: tuple[str, ...]) -> frozenset[str]:
        return frozenset(p for p in paths if (root / p).is_dir())

    return folders


class _CachedRunner(SerialRunner):
    """The pipeline's runner for `pystd check`: each file from the result cache when it
    holds it, else in `jobs` worker processes, with the progress bar advanced per file."""

    def __init__(self, jobs: int | None, cache: ResultCache | None, progress: Progress
                 ) -> None:
        self.jobs, self.cache, self.progress = jobs, cache, progress

    async def check_files(self, inputs: Sequence[FileInput], rules: RuleSet
                          ) -> list[FileResult]:
        total = len(inputs)

        def engine(todo: list[FileInput]) -> list[FileResult]:
            self.progress.advance(total - len(todo))  # the cached ones are done
            try:
                return check_inputs(todo, rules, self.jobs,
                                    on_result=lambda result: self.progress.advance())
            except Exception as exc:
                # Imported here: concurrent.futures costs 20 ms at every start otherwise.
                from concurrent.futures.process import BrokenProcessPool

                if isinstance(exc, BrokenProcessPool):
                    raise UsageError(messages.CLI_WORKER_CRASHED) from None
                raise

        return check_with_cache(list(inputs), self.cache, engine)


def exit_code(results: Sequence[FileResult], config: PystdConfig, rules: RuleSet) -> int:
    """1 when any finding is at or above the configured `fail-on` gate, else 0."""
    gate = config.gate
    if gate is None:
        return EXIT_CLEAN
    for result in results:
        for finding in result.findings:
            if finding.severity.rank >= gate.rank:
                return EXIT_FINDINGS
    return EXIT_CLEAN


def _validate_codes(option: str, codes: list[str]) -> None:
    for code in codes:
        problem = selector_problem(code)
        if problem is None:
            continue
        if code.upper().startswith("PYS"):
            raise UsageError(messages.CLI_UNKNOWN_CODE.format(option=option, code=code.upper()))
        raise UsageError(messages.CLI_UNKNOWN_SELECTOR.format(option=option, problem=problem))


def project_versions(root: Path) -> Versions:
    """The framework versions pinned by the dependency files of the project at `root`
    (those of VERSION_FILES it has); a file that cannot be read leaves its versions
    unknown, as in the App."""
    texts = {}
    for name in VERSION_FILES:
        path = root / name
        try:
            if path.is_file():
                texts[name] = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
    return versions_from_texts(texts)


def _plan_all(paths: list[Path], cwd: Path) -> Plan:
    return Plan([(p, None) for p in discover(paths, cwd)])


def _git(args: list[str], cwd: Path) -> str:
    git = shutil.which("git")
    if git is None:
        raise UsageError(messages.CLI_GIT_MISSING)
    # A fixed git binary with arguments we build; a ref is never taken as an option
    # (`_plan_diff` refuses refs starting with "-").
    done = subprocess.run(  # noqa: S603
        [git, *args], cwd=cwd, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout


def _plan_diff(ref: str, paths: list[Path], cwd: Path) -> Plan:
    """Files under `paths` changed since `git merge-base REF HEAD`, with their added lines
    (committed, staged or not), plus untracked files, which count as wholly new."""
    if ref.startswith("-"):
        raise UsageError(messages.CLI_BAD_REF.format(ref=ref, detail="not a revision"))
    first = paths[0].resolve()
    where = first if first.is_dir() else first.parent
    try:
        top = Path(_git(["rev-parse", "--show-toplevel"], where).strip())
    except subprocess.CalledProcessError:
        raise UsageError(messages.CLI_NOT_A_GIT_REPO.format(path=where)) from None
    try:
        base = _git(["merge-base", ref, "HEAD"], top).strip()
    except subprocess.CalledProcessError as exc:
        detail = (exc.stderr or "").strip().splitlines()
        raise UsageError(messages.CLI_BAD_REF.format(
            ref=ref, detail=detail[-1] if detail else "no merge base")) from None
    diff = _git(["diff", "--no-color", "--no-ext-diff", "--find-renames", "-U0",
                 "--diff-filter=AMR", base, "--"], top)
    try:
        changes = git_diff_changes(diff)
    except DiffError as exc:
        raise UsageError(f"pystd: error: {exc}") from None
    untracked = _git(["ls-files", "--others", "--exclude-standard", "-z"], top).split("\0")
    wanted = [p.resolve() for p in paths]
    files: list[tuple[Path, frozenset[int] | None]] = []
    for rel, change in sorted(changes.items()):
        files.append((top / rel, change.added))
    new_files = sorted(filter(None, untracked))
    files.extend((top / rel, None) for rel in new_files)

    def inside(path: Path) -> bool:
        return any(path == w or w in path.parents for w in wanted)

    chosen = [
        (path, changed) for path, changed in files
        if is_checkable(path.relative_to(top).as_posix()) and path.is_file() and inside(path)
    ]
    everything: list[tuple[Path, str, str | None, FileChanges | None]] = [
        (top / rel, c.status, c.previous_path, c) for rel, c in sorted(changes.items())]
    everything += [(top / rel, "added", None, None) for rel in new_files]
    return Plan(chosen, [item for item in everything if inside(item[0])])


def _reader(cwd: Path) -> Callable[[str], str | None]:
    def read(path: str) -> str | None:
        # Bytes decoded as the engine decodes them: line endings kept (read_text would
        # turn CRLF into LF, and SARIF offsets counted on that text corrupt a CRLF file).
        try:
            return (cwd / path).read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None

    return read


if __name__ == "__main__":
    raise SystemExit(main())
