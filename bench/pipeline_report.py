"""The pipeline benchmark's numbers (bench/pipeline.py): percentiles, the summary a run
writes as JSON, the timeline of one pull request, and the Markdown table with the targets.
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
from collections import Counter, defaultdict
from typing import Any

from bench.pipeline_calls import Answered, Attribution, Measured
from bench.pipeline_changes import OWNER, REPO, PullRequest, SourceFile
from pystd.bot.settings import Settings
from tests.github_fake import FakeGitHub

TARGET_ANSWER_P99_MS = 50.0
TARGET_COMPLETED_S = 2.0
TARGET_EXTRA_CALLS = 6  # API calls per pull request <= changed files + this


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def spread(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values) if values else math.nan,
            "max": max(values) if values else math.nan,
            "min": min(values) if values else math.nan}


def summarise(args: argparse.Namespace, settings: Settings, gh: FakeGitHub,
              pulls: list[PullRequest], attribute: Attribution, answered: list[Answered],
              m: Measured, sources: list[SourceFile]) -> dict[str, Any]:
    answers = m.answers
    requests = gh.requests[m.first_request:]
    calls: dict[int, Counter[str]] = defaultdict(Counter)
    unattributed: Counter[str] = Counter()
    for r in requests:
        pr, kind = attribute(r.method, r.path, r.query, r.json)
        if pr is None:
            unattributed[kind] += 1
        else:
            calls[pr.number][kind] += 1
    token_calls = unattributed.pop("token exchange", 0)
    per_pr = [sum(calls[p.number].values()) for p in pulls]
    kinds = sorted({k for c in calls.values() for k in c}, key=_kind_order)
    breakdown = {k: spread([float(calls[p.number][k]) for p in pulls]) for k in kinds}

    repo = gh.find_repository(OWNER, REPO)
    runs = {r.head_sha: r for r in (repo.check_runs.values() if repo else ())}
    done = [p for p in pulls if p.completed_at is not None and p.delivered_at is not None]
    to_complete = [p.completed_at - p.delivered_at for p in done]  # type: ignore[operator]
    waits = [p.created_at - p.delivered_at for p in done if p.created_at]  # type: ignore[operator]
    runs_for = [p.completed_at - p.created_at for p in done if p.created_at]  # type: ignore[operator]
    all_answers = answers["pull_request"] + answers["ping"]
    ms = [a * 1000 for a in all_answers]
    budget = len(sources) + TARGET_EXTRA_CALLS
    return {
        "python": sys.version.split()[0], "cpus": os.cpu_count(), "load_average": m.load,
        "corpus": str(args.corpus), "files": len(sources),
        "lines_per_pr": statistics.median(p.lines for p in pulls) if pulls else 0,
        "prs": len(pulls), "pings": args.pings, "latency_s": args.latency,
        "settings": {"engine_workers": settings.engine_workers,
                     "concurrent_jobs": settings.concurrent_jobs,
                     "blob_concurrency": settings.blob_concurrency,
                     "writes_per_minute": settings.writes_per_minute},
        "answer_ms": {"all": {"p50": percentile(ms, 50), "p99": percentile(ms, 99),
                              "max": max(ms, default=math.nan), "count": len(ms)},
                      **{kind: {"p50": percentile([a * 1000 for a in v], 50),
                                "p99": percentile([a * 1000 for a in v], 99),
                                "max": max((a * 1000 for a in v), default=math.nan),
                                "count": len(v)} for kind, v in answers.items()}},
        "answer_statuses": dict(m.statuses),
        "answers_ms": {kind: [round(a * 1000, 3) for a in v] for kind, v in answers.items()},
        "delivery_to_completed_s": spread(to_complete),
        "delivery_to_started_s": spread(waits),
        "started_to_completed_s": spread(runs_for),
        "completed": len(done),
        "deliveries_sent_s": m.sent_all - m.started,
        "wall_s": m.finished - m.started,
        "cpu_s": {"main_process": m.cpu_main, "engine_workers": m.cpu_workers},
        "api_calls_per_pr": {**spread([float(n) for n in per_pr]), "budget": budget},
        "api_calls_by_kind": breakdown,
        "token_exchanges": token_calls,
        "unattributed_calls": dict(unattributed),
        "timeline_ms": timeline(pulls, answered, args.latency),
        "conclusions": dict(Counter(runs[p.head_sha].conclusion or runs[p.head_sha].status
                                    for p in pulls if p.head_sha in runs)),
        "annotations_per_pr": spread([float(len(runs[p.head_sha].annotations))
                                      for p in pulls if p.head_sha in runs]),
        "review_comments_per_pr": spread([float(len(gh.review_comments(OWNER, REPO, p.number)))
                                          for p in pulls]),
        "violations": [f"{v.method} {v.path} {v.status}: {v.message[:200]}"
                       for v in gh.violations],
        "targets": {"answer_p99_ms": TARGET_ANSWER_P99_MS, "completed_s": TARGET_COMPLETED_S,
                    "api_calls_per_pr": budget},
    }


def _kind_order(kind: str) -> tuple[int, str]:
    order = ["check run: create", "pull: list files", "config: ", "blob",
             "pull: list review comments", "pull: create review", "check run: update"]
    for i, prefix in enumerate(order):
        if kind.startswith(prefix):
            return i, kind
    return len(order), kind


def timeline(pulls: list[PullRequest], answered: list[Answered], latency: float
             ) -> list[dict[str, Any]]:
    """Per kind of call, the median over pull requests of: calls, when the first one was
    sent (its answer time minus the fake's latency), when the last answer left, and the
    gap before the first one (since the previous calls' last answer: the bot's own time),
    in ms after the job started (its check-run POST was sent)."""
    rows: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for pr in pulls:
        if pr.created_at is None:
            continue
        start = pr.created_at - latency
        mine = [a for a in answered if a.pr == pr.number]
        spans = {}
        for kind in {a.kind for a in mine}:
            stamps = [a.at for a in mine if a.kind == kind]
            spans[kind] = (min(stamps) - latency - start, max(stamps) - start, len(stamps))
        for kind, (first, last, n) in spans.items():
            before = [end for other, (begin, end, _) in spans.items()
                      if other != kind and begin < first]
            row = rows[kind]
            row["calls"].append(float(n))
            row["first_sent"].append(first * 1000)
            row["last_answer"].append(last * 1000)
            row["gap_before"].append((first - max(before, default=0.0)) * 1000)
    out = []
    for kind in sorted(rows, key=lambda k: statistics.median(rows[k]["first_sent"])):
        out.append({"kind": kind, **{name: statistics.median(v)
                                     for name, v in rows[kind].items()}})
    return out


def _ms(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.1f}"


def _ok(passed: bool) -> str:
    return "yes" if passed else "**NO**"


def report(r: dict[str, Any]) -> str:
    s, a = r["settings"], r["answer_ms"]
    done, calls, budget = r["delivery_to_completed_s"], r["api_calls_per_pr"], r["targets"]
    rows = [
        ("Load", f"{r['prs']} pull requests x {r['files']} modified files "
                 f"(~{r['lines_per_pr']:,.0f} lines each), {r['pings']} pings, one delivery at "
                 f"a time; fake GitHub latency {r['latency_s'] * 1000:.0f} ms per call", ""),
        ("Bot settings", f"{s['engine_workers']} engine workers, {s['concurrent_jobs']} "
                         f"concurrent jobs, blob concurrency {s['blob_concurrency']}", ""),
        (f"Webhook answer p50 / p99 (all {a['all']['count']} deliveries)",
         f"{a['all']['p50']:.1f} / {a['all']['p99']:.1f} ms (max {a['all']['max']:.1f})",
         f"p99 < {budget['answer_p99_ms']:.0f} ms: "
         f"{_ok(a['all']['p99'] < budget['answer_p99_ms'])}"),
        ("... pull_request / ping p99; answers",
         f"{_ms(a['pull_request']['p99'])} / {_ms(a['ping']['p99'])} ms; " + ", ".join(
             f"{n} x {k}" for k, n in sorted(r["answer_statuses"].items())), ""),
        ("Delivery -> completed check run, median / max",
         f"{done['median']:.2f} / {done['max']:.2f} s ({r['completed']}/{r['prs']} completed)",
         f"< {budget['completed_s']:.0f} s: "
         f"{_ok(r['completed'] == r['prs'] and done['max'] < budget['completed_s'])}"),
        ("... delivery -> check run created (queue wait), median / max",
         f"{r['delivery_to_started_s']['median']:.2f} / "
         f"{r['delivery_to_started_s']['max']:.2f} s", ""),
        ("... created -> completed (the job), median / max",
         f"{r['started_to_completed_s']['median']:.2f} / "
         f"{r['started_to_completed_s']['max']:.2f} s", ""),
        ("All check runs completed after the first delivery",
         f"{r['wall_s']:.2f} s; CPU: {r['cpu_s']['main_process']:.2f} s in the bot's "
         f"process (bot, fake and client share it), {r['cpu_s']['engine_workers']:.2f} s "
         f"in the engine workers", ""),
        ("GitHub API calls per pull request, median / max",
         f"{calls['median']:.0f} / {calls['max']:.0f} (token exchanges apart)",
         f"<= {calls['budget']} ({r['files']} files + {TARGET_EXTRA_CALLS}): "
         f"{_ok(calls['max'] <= calls['budget'])}"),
        ("Installation token exchanges (whole run)", f"{r['token_exchanges']}", ""),
        ("Check runs", ", ".join(f"{n} {c}" for c, n in sorted(r["conclusions"].items()))
         + f"; {r['annotations_per_pr']['median']:.0f} annotations and "
           f"{r['review_comments_per_pr']['median']:.0f} review comments per PR (median)", ""),
        ("Requests GitHub would refuse", f"{len(r['violations'])}", ""),
    ]
    load = r["load_average"]
    out = [f"Python {r['python']}, {r['cpus']} CPUs, load average {load[0]:.2f} before and "
           f"{load[1]:.2f} after the measured part\n", "| Measure | Value | Target |",
           "|---|---|---|"]
    out += [f"| {x} | {y} | {z} |" for x, y, z in rows]
    out += ["", "| API call (per pull request) | Calls, median (max) | First sent | "
                "Last answer | Bot's time before |", "|---|---|---|---|---|"]
    by_kind = r["api_calls_by_kind"]
    times = {t["kind"]: t for t in r["timeline_ms"]}
    for kind in [*times, *(k for k in by_kind if k not in times)]:
        n, t = by_kind.get(kind, {"median": 0, "max": 0}), times.get(kind)
        when = (f"+{t['first_sent']:.0f} ms", f"+{t['last_answer']:.0f} ms",
                f"{t['gap_before']:.0f} ms") if t else ("", "", "")
        out.append(f"| {kind} | {n['median']:.0f} ({n['max']:.0f}) | " + " | ".join(when) + " |")
    out.append(f"| **total** | {calls['median']:.0f} ({calls['max']:.0f}) | | | |")
    out.append("\nTimes: medians over the pull requests, after the job started (its check-run "
               "POST was sent); \"first sent\" is the first answer minus the latency; "
               "\"bot's time before\" runs from the previous calls' last answer to this "
               "kind's first request (the engine's run shows before the review calls).")
    if r["unattributed_calls"]:
        out.append("Unattributed calls: " + ", ".join(
            f"{k} x{n}" for k, n in sorted(r["unattributed_calls"].items())))
    for violation in r["violations"][:5]:
        out.append(f"Refused: {violation}")
    return "\n".join(out)
