"""bench/queue.py runs end to end: the fake GitHub, `pystd serve --workers 0` and a
`pystd worker` in processes of their own, a small burst, nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_small_burst_is_measured_and_nothing_is_lost(tmp_path):
    out = tmp_path / "figures.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYSTD_")}
    subprocess.run([sys.executable, "-m", "bench.queue", "--deliveries", "6", "--prs", "2",
                    "--files", "2", "--workers", "1", "--stores", "sqlite", "--json",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True,
                   timeout=300)
    (figures,) = json.loads(out.read_text())
    assert (figures["accepted"], figures["lost"], figures["prs_without_completed_run"]) == (
        6, 0, 0)
    assert figures["processed"] + figures["coalesced"] == 6
    assert figures["processed"] >= 2  # each pull request reviewed at least once
