"""`pystd check --fix`: safe fixes are applied in place, unsafe ones only with
--unsafe-fixes; fixes on the same lines go in over several passes; the fixed file parses
and its findings are gone; what --fix leaves is what is reported."""

from __future__ import annotations

import ast
import json

import pytest

from pystd.bot import messages
from tests.bot.drivers import BLOCKING, DJANGO_VIEW, run


def test_fix_applies_safe_fixes_in_place_and_reports_what_is_left(project, capsys):
    (project / "views.py").write_text(DJANGO_VIEW)
    (project / "app.py").write_text(BLOCKING)  # PYS101's fix may change behaviour: unsafe
    code, out, err = run(capsys, "check", "--fix", "--format", "json")
    fixed = (project / "views.py").read_text()
    # Two fixes on one line cannot go in one pass: the second waits for the next.
    assert "a = await Product.objects.aget(pk=pk); b = await Product.objects.acount()" in fixed
    assert (project / "app.py").read_text() == BLOCKING
    assert [f["code"] for f in json.loads(out)] == ["PYS101"]
    assert code == 1
    assert messages.CLI_FIXED.format(fixed=2, found=2, files="1 file", passes=2) in err
    assert messages.CLI_FIX_UNSAFE_HINT.format(count=1) in err
    # A second run finds nothing more to fix in views.py.
    code, out, _ = run(capsys, "check", "views.py", "--format", "json")
    assert (code, json.loads(out)) == (0, [])


def test_unsafe_fixes_are_applied_when_asked(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--fix", "--unsafe-fixes")
    assert code == 0
    text = (project / "app.py").read_text()
    assert "await asyncio.sleep(1)" in text and "import asyncio" in text
    ast.parse(text)
    assert "unsafe" not in err


def test_json_says_whether_a_fix_is_safe(project, capsys):
    (project / "views.py").write_text(DJANGO_VIEW)
    (project / "app.py").write_text(BLOCKING)
    _, out, _ = run(capsys, "check", "--format", "json")
    assert {(f["code"], f["fix"]["safe"]) for f in json.loads(out)} == {
        ("PYS205", True), ("PYS101", False)}


def test_unsafe_fixes_without_fix_change_no_file(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, _, _ = run(capsys, "check", "--unsafe-fixes")
    assert code == 1 and (project / "app.py").read_text() == BLOCKING


def test_fix_leaves_findings_a_per_file_ignore_hides_alone(project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.pystd]\nper-file-ignores = { "legacy/*" = ["PYS205"] }\n')
    (project / "legacy").mkdir()
    (project / "legacy" / "views.py").write_text(DJANGO_VIEW)
    code, _, _ = run(capsys, "check", "--fix")
    assert code == 0 and (project / "legacy" / "views.py").read_text() == DJANGO_VIEW


def test_fix_with_diff_is_refused(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, _, err = run(capsys, "check", "--fix", "--diff", "main")
    assert code == 2 and err.strip() == messages.CLI_FIX_WITH_DIFF


# -- every rule's bad examples as a project: fix them all ---------------------------------------

def example_project(root) -> int:
    """Every documented bad example of every rule, each in its own folder; returns how many."""
    from pystd.rules.catalogue import all_rules
    from pystd.rules.engine import example_of

    count = 0
    for rule in all_rules().values():
        for i, bad in enumerate(rule.bad):
            example = example_of(bad)
            path = root / f"{rule.code.lower()}_{i}" / example.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(example.code)
            count += 1
    return count


def parses(path) -> bool:
    try:
        ast.parse(path.read_text(), str(path))
    except SyntaxError:
        return False
    return True


def applicable(out: str, unsafe: bool) -> list[tuple[str, str]]:
    return [(f["path"], f["code"]) for f in json.loads(out)
            if f["fix"] is not None and (unsafe or f["fix"]["safe"])]


@pytest.mark.parametrize("unsafe", [False, True], ids=["safe", "unsafe"])
def test_fixing_every_bad_example_leaves_parsable_files_and_no_fix_to_apply(project, capsys,
                                                                            unsafe):
    assert example_project(project) > 50
    parsable = [p for p in project.rglob("*.py") if parses(p)]  # PYS000's example does not
    flags = ["--select", "ALL", "--jobs", "1", "--format", "json", "--no-cache"]
    _, before, _ = run(capsys, "check", *flags)
    wanted = applicable(before, unsafe)
    assert len(wanted) > (20 if unsafe else 4)
    _, _, err = run(capsys, "check", *flags, "--fix", *(["--unsafe-fixes"] if unsafe else []))
    assert messages.CLI_FIX_NOT_APPLIED.split("{")[0] not in err
    assert [p for p in parsable if not parses(p)] == []  # every file still parses
    _, after, _ = run(capsys, "check", *flags)
    assert applicable(after, unsafe) == []  # what could be fixed was
    left = {(f["path"], f["code"]) for f in json.loads(after)}
    assert len(left & set(wanted)) < len(wanted) // 4  # and most fixed findings are gone


def test_a_file_named_twice_is_checked_and_fixed_once(project, capsys):
    (project / "app.py").write_text(BLOCKING)
    code, out, _ = run(capsys, "check", "app.py", "./app.py", ".", "--format", "json")
    assert [f["code"] for f in json.loads(out)] == ["PYS101"]
    code, _, _ = run(capsys, "check", "app.py", "./app.py", "--fix", "--unsafe-fixes")
    text = (project / "app.py").read_text()
    assert code == 0 and text.count("await asyncio.sleep(1)") == 1
    assert text.count("import asyncio") == 1


def test_fix_keeps_a_symlink_and_the_files_mode(project, capsys):
    real = project / "real.py"
    real.write_text(BLOCKING)
    real.chmod(0o640)
    (project / "link.py").symlink_to(real)
    code, _, _ = run(capsys, "check", "link.py", "--fix", "--unsafe-fixes")
    assert code == 0 and (project / "link.py").is_symlink()
    assert "await asyncio.sleep(1)" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o640
    assert not list(project.glob(".*.pystd-fix"))
