"""What `pystd check` shows: the code under each finding (--show-source) with the rule's
link, SARIF fixes that apply byte-exactly to CRLF files, the same findings whichever way
the path is spelt, and a progress bar only on a terminal."""

from __future__ import annotations

import json
import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pystd.bot import messages
from tests.bot.drivers import BLOCKING, run

ROOT = Path(__file__).resolve().parents[2]


def test_show_source_prints_the_flagged_code_with_carets_and_the_rule_link(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "--show-source", "--no-cache")
    assert code == 1
    lines = out.splitlines()
    at = lines.index("app.py:5:5: PYS101 [error] Blocking call `time.sleep` in async code "
                     "stalls the event loop")
    assert lines[at + 1: at + 7] == [
        "    |",
        "  4 | async def handler():",
        "  5 |     time.sleep(1)",
        "    |     ^^^^^^^^^^^^^",
        "    |",
        "    = help: " + messages.rule_docs_url("PYS101", "blocking-call-in-async"),
    ]


def test_rule_links_point_to_the_apps_pages_when_it_has_a_public_url(project, capsys,
                                                                     monkeypatch):
    monkeypatch.setenv("PYSTD_PUBLIC_URL", "https://pystd.example.com/")
    (project / "app.py").write_text(BLOCKING)
    _, out, _ = run(capsys, "check", "--show-source", "--no-cache")
    assert "= help: https://pystd.example.com/rules/PYS101" in out
    _, out, _ = run(capsys, "check", "--format", "sarif", "--no-cache")
    rules = json.loads(out)["runs"][0]["tool"]["driver"]["rules"]
    assert {r["id"]: r["helpUri"] for r in rules}["PYS101"] == (
        "https://pystd.example.com/rules/PYS101")


def test_in_colour_the_code_links_to_the_rule_page(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    _, out, _ = run(capsys, "check", "--color", "always", "--no-cache")
    url = messages.rule_docs_url("PYS101", "blocking-call-in-async")
    assert f"\x1b]8;;{url}\x1b\\" in out


CRLF = b'"""Doc."""\r\nimport time\r\n\r\n\r\nasync def handler():\r\n    time.sleep(1)\r\n'
CRLF_FIXED = (b'"""Doc."""\r\nimport time\r\nimport asyncio\r\n\r\n\r\nasync def handler():\r\n'
              b"    await asyncio.sleep(1)\r\n")


def apply_sarif_fix(data: bytes, fix: dict) -> bytes:
    """What a SARIF consumer does: replace code-point ranges of the file's text, last first."""
    text = data.decode("utf-8")
    (change,) = fix["artifactChanges"]
    for rep in sorted(change["replacements"], key=lambda r: -r["deletedRegion"]["charOffset"]):
        start, length = rep["deletedRegion"]["charOffset"], rep["deletedRegion"]["charLength"]
        text = text[:start] + rep["insertedContent"]["text"] + text[start + length:]
    return text.encode("utf-8")


def test_a_sarif_fix_applied_to_a_crlf_file_gives_the_right_bytes(project, capsys):
    (project / "app.py").write_bytes(CRLF)
    code, out, _ = run(capsys, "check", "--format", "sarif", "--no-cache")
    (result,) = json.loads(out)["runs"][0]["results"]
    assert code == 1
    assert apply_sarif_fix(CRLF, result["fixes"][0]) == CRLF_FIXED


def test_fix_rewrites_a_crlf_file_with_crlf_lines(project, capsys):
    (project / "views.py").write_bytes(
        b"from django.http import JsonResponse\r\n\r\nfrom shop.models import Product\r\n"
        b"\r\n\r\nasync def detail(request, pk):\r\n    product = Product.objects.get(pk=pk)\r\n"
        b"    return JsonResponse({'pk': product.pk})\r\n")
    code, _, _ = run(capsys, "check", "--fix", "--no-cache")
    assert code == 0
    assert (project / "views.py").read_bytes().split(b"\r\n")[6] == (
        b"    product = await Product.objects.aget(pk=pk)")
    assert b"\n" not in (project / "views.py").read_bytes().replace(b"\r\n", b"")


# -- the path as typed does not change the findings ------------------------------------------

@pytest.fixture
def shop(project: Path) -> Path:
    """A repository whose example project (with its own [tool.pystd]) is examples/shop."""
    (project / ".git").mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "outer"\n')
    shutil.copytree(ROOT / "examples" / "shop", project / "examples" / "shop")
    return project / "examples" / "shop"


def findings(out: str, prefix: str = "") -> list[tuple[str, str, int]]:
    return sorted((f["code"], prefix + f["path"], f["line"]) for f in json.loads(out))


def test_findings_do_not_depend_on_how_the_path_is_spelt(shop, capsys, monkeypatch):
    _, from_root, _ = run(capsys, "check", "examples/shop", "--format", "json", "--no-cache")
    _, dotted, _ = run(capsys, "check", "./examples/../examples/shop/", "--format", "json",
                       "--no-cache")
    monkeypatch.chdir(shop)
    _, inside, _ = run(capsys, "check", "--format", "json", "--no-cache")
    assert findings(inside, "examples/shop/") == findings(from_root) == findings(dotted)
    # The example's settings module keeps a hard-coded secret, which both spellings see.
    assert ("PYS102", "shop/settings.py") in {(c, p) for c, p, _ in findings(inside)}


def test_per_file_ignores_match_project_paths_from_anywhere(shop, capsys, monkeypatch):
    config = shop / "pyproject.toml"
    config.write_text(config.read_text() + 'per-file-ignores = { "shop/*" = ["PYS102"] }\n')
    _, from_root, _ = run(capsys, "check", "examples/shop", "--format", "json", "--no-cache")
    monkeypatch.chdir(shop)
    _, inside, _ = run(capsys, "check", "--format", "json", "--no-cache")
    assert findings(inside, "examples/shop/") == findings(from_root)
    assert "PYS102" not in {c for c, _, _ in findings(inside)}


# -- progress ----------------------------------------------------------------------------------

def test_no_progress_when_stderr_is_not_a_terminal(project, capsys):
    for i in range(3):
        (project / f"m{i}.py").write_text(BLOCKING)
    _, _, err = run(capsys, "check", "--jobs", "1", "--no-cache")
    assert err == ""


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_progress_shows_files_done_of_the_total_on_a_terminal(project):
    for i in range(3):
        (project / f"m{i}.py").write_text(BLOCKING)
    master, slave = pty.openpty()
    done = subprocess.Popen(  # stderr is a terminal, stdout a pipe
        [sys.executable, "-m", "pystd.bot.cli", "check", "--jobs", "1", "--no-cache"],
        cwd=project, stdout=subprocess.PIPE, stderr=slave,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        shown += chunk
    stdout, _ = done.communicate()
    os.close(master)
    assert done.returncode == 1
    assert b"3/3 files" in shown
    assert shown.endswith(b"\r\x1b[K")  # erased before the report
    assert b"3/3" not in stdout and b"PYS101" in stdout
