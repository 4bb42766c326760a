"""What the bot posts, built from findings and diffs: placement on the diff, suggestions,
fingerprints across pushes, the comment cap, annotations and the check-run output."""

from __future__ import annotations

import pytest

from pystd.bot import messages
from pystd.bot.diff import patch_changes
from pystd.bot.plans import (
    Analysis,
    Skipped,
    annotation,
    annotation_batches,
    build_review,
    check_output,
    fingerprint,
    fingerprints,
    fingerprints_in,
    noqa_hint,
    offers_in,
)
from pystd.bot.suggestions import OfferKind, fix_diff, split_lines
from pystd.rules.config import PystdConfig
from pystd.rules.engine import Finding, Fix, Severity

# Lines 1-3 are context, 4-5 added, 6 context: the right side of one hunk.
PATCH = "@@ -1,4 +1,6 @@\n a\n b\n c\n+d\n+e\n f\n"
SOURCE = "a\nb\nc\nd\ne\nf\n"


def finding(line: int, end_line: int | None = None, *, fix: Fix | None = None,
            severity: Severity = Severity.ERROR, code: str = "PYS101") -> Finding:
    return Finding(code, "blocking-call-in-async", severity, "app.py", line, 5,
                   end_line or line, 10, "Blocking call", fix)


def review(findings, seen=frozenset(), max_comments=30):
    changes = {"app.py": patch_changes("app.py", PATCH)}
    return build_review(findings, changes, {"app.py": SOURCE}, set(seen), max_comments)


def test_patch_changes_separates_added_from_commentable_lines():
    changes = patch_changes("app.py", PATCH)
    assert changes.added == {4, 5}
    assert changes.commentable == {1, 2, 3, 4, 5, 6}


def test_patch_with_several_hunks_and_no_newline_marker():
    patch = ("@@ -1,2 +1,2 @@\n-x\n+y\n z\n@@ -10,2 +10,3 @@\n p\n+q\n r\n"
             "\\ No newline at end of file")
    changes = patch_changes("m.py", patch)
    assert changes.added == {1, 11}
    assert 5 not in changes.commentable


def test_comment_on_changed_line_with_a_suggestion():
    plan = review([finding(4, fix=Fix(4, 4, "D\n"))])
    (comment,) = plan.comments
    assert comment.payload() == {"path": "app.py", "line": 4, "side": "RIGHT",
                                 "body": comment.body}
    assert "```suggestion\nD\n```" in comment.body
    assert messages.rule_docs_url("PYS101", "blocking-call-in-async") in comment.body


def test_multiline_finding_gets_start_line():
    (comment,) = review([finding(4, 5)]).comments
    payload = comment.payload()
    assert (payload["start_line"], payload["line"], payload["start_side"]) == (4, 5, "RIGHT")


def test_fix_outside_the_hunk_is_not_suggested_but_still_commented():
    (comment,) = review([finding(4, fix=Fix(9, 9, "x\n"))]).comments
    assert "```suggestion" not in comment.body
    assert comment.line == 4


def test_fix_needing_an_import_says_so():
    (comment,) = review([finding(4, fix=Fix(4, 4, "D\n", ("import asyncio",), 1))]).comments
    assert "import asyncio" in comment.body


def test_finding_on_unchanged_line_is_not_commented():
    assert review([finding(2)]).comments == ()


def test_already_commented_findings_are_not_posted_again():
    first = review([finding(4)])
    seen = fingerprints_in(c.body for c in first.comments)
    again = review([finding(4)], seen=seen)
    assert again.comments == () and again.already_commented == 1
    assert not again.worth_posting


def test_fingerprint_ignores_line_number_and_whitespace():
    a = fingerprint(finding(4), "    time.sleep(1)")
    b = fingerprint(finding(40), "time.sleep(1)   ")
    assert a == b
    assert fingerprint(finding(4, code="PYS102"), "time.sleep(1)") != a


def test_comments_capped_errors_first_and_rest_counted_in_body():
    findings = [finding(4, severity=Severity.INFO, code="PYS000"), finding(5)]
    plan = review(findings, max_comments=1)
    assert [c.line for c in plan.comments] == [5]
    assert plan.not_commented == 1
    assert "1 more finding(s)" in plan.body


def test_annotation_columns_only_on_single_line_findings():
    assert annotation(finding(4))["start_column"] == 5
    multi = annotation(finding(4, 6))
    assert "start_column" not in multi and "end_column" not in multi
    assert annotation(finding(4))["annotation_level"] == "failure"
    assert annotation(finding(4, severity=Severity.INFO))["annotation_level"] == "notice"


def test_annotations_go_in_batches_of_50():
    batches = annotation_batches([{"n": i} for i in range(120)])
    assert [len(b) for b in batches] == [50, 50, 20]
    assert annotation_batches([]) == [[]]


@pytest.mark.parametrize(
    ("fail_on", "severity", "conclusion"),
    [("error", Severity.ERROR, "failure"), ("error", Severity.WARNING, "success"),
     ("warning", Severity.WARNING, "failure"), ("never", Severity.ERROR, "success")],
)
def test_conclusion_follows_fail_on(fail_on, severity, conclusion):
    config = PystdConfig.model_validate({"fail-on": fail_on})
    out = check_output(Analysis((finding(4, severity=severity),), files_checked=1), config)
    assert out.conclusion == conclusion


def test_title_and_summary_table_link_rules_and_list_skips():
    analysis = Analysis((finding(4), finding(5, severity=Severity.WARNING)),
                        (Skipped("img.py", "binary file"),), files_checked=1)
    out = check_output(analysis, PystdConfig())
    assert out.title == "1 error, 1 warning"
    assert "[PYS101 blocking-call-in-async](" in out.summary
    assert "`img.py`: binary file" in out.summary


def test_nothing_analysable_is_neutral():
    out = check_output(Analysis((), (Skipped("a.py", "binary file"),)), PystdConfig())
    assert out.conclusion == "neutral"
    assert out.title == messages.CHECK_TITLE_NOTHING


def test_summary_never_exceeds_githubs_limit():
    skipped = tuple(Skipped("x" * 400 + f"{i}.py", "binary file") for i in range(300))
    out = check_output(Analysis((), skipped, files_checked=1), PystdConfig())
    assert len(out.summary) <= 65535


def test_a_file_that_could_not_be_checked_is_never_a_pass():
    broken = Skipped("deep.py", "too deeply nested to analyse", failed=True)
    alone = check_output(Analysis((), (broken,), files_checked=3), PystdConfig())
    assert alone.conclusion == "neutral"
    assert alone.title == messages.CHECK_TITLE_NOT_CHECKED.format(count=1)
    assert "`deep.py`: too deeply nested to analyse" in alone.summary


def test_findings_elsewhere_still_fail_when_a_file_could_not_be_checked():
    broken = Skipped("deep.py", "the analysis crashed", failed=True)
    output = check_output(Analysis((finding(4),), (broken,), files_checked=1), PystdConfig())
    assert output.conclusion == "failure"


def test_files_with_nothing_to_check_do_not_hold_back_a_pass():
    binary = Skipped("logo.py", "binary file")
    assert check_output(Analysis((), (binary,), files_checked=2),
                        PystdConfig()).conclusion == "success"


# -- offers that never break code, and fingerprints that do not collide ---------------------

PARAMS_PATCH = "@@ -0,0 +1,5 @@\n+def f(\n+    a=1,\n+    b=2,\n+):\n+    return a + b\n"


def params_review(source: str, seen: dict[str, OfferKind] | None = None):
    changes = {"app.py": patch_changes("app.py", PARAMS_PATCH)}
    fix = Fix(3, 3, "    b,\n")  # b loses its default: valid only once a has none
    found = Finding("PYS409", "fastapi-depends-not-annotated", Severity.INFO, "app.py", 3, 5,
                    3, 8, "b", fix)
    return build_review([found], changes, {"app.py": source}, seen or {}, 30)


def test_a_fix_not_valid_alone_is_shown_then_suggested_once_it_is():
    source = "def f(\n    a=1,\n    b=2,\n):\n    return a + b\n"
    (first,) = params_review(source).comments
    assert "```suggestion" not in first.body and "```diff" in first.body
    offered = offers_in([first.body])
    assert set(offered.values()) == {OfferKind.PENDING}
    assert params_review(source, offered).comments == ()  # still not valid: not repeated
    now_valid = source.replace("a=1", "a")
    (again,) = params_review(now_valid, offered).comments
    assert "```suggestion\n    b,\n```" in again.body
    assert params_review(now_valid, offers_in([first.body, again.body])).comments == ()


def test_fingerprints_tell_identical_lines_apart_and_survive_moves():
    source = ("async def a():\n    time.sleep(1)\n    time.sleep(1)\n\n\n"
              "async def b():\n    time.sleep(1)\n")
    prints = fingerprints([finding(2), finding(3), finding(7)], {"app.py": source})
    assert len(set(prints)) == 3
    moved = "import time\n\n" + source
    assert fingerprints([finding(4), finding(5), finding(9)], {"app.py": moved}) == prints


def test_template_findings_suggest_a_template_noqa():
    assert noqa_hint("shop/templates/shop/a.html", "PYS208") == "{# noqa: PYS208 #}"
    assert noqa_hint("shop/views.py", "PYS208") == "# noqa: PYS208"


def test_an_edited_signature_keeps_its_body_findings_fingerprints():
    source = "async def a(x):\n    time.sleep(1)\n"
    edited = "async def a(x, y=2):\n    time.sleep(1)\n"
    assert fingerprints([finding(2)], {"app.py": source}) == fingerprints(
        [finding(2)], {"app.py": edited})


def test_a_fix_shown_as_a_diff_shows_only_what_changes_with_its_import():
    lines = split_lines("from x import y\n\n\n@api.get('/b')\ndef f():\n    pass\n")
    fix = Fix(4, 4, "@api.get('/b')\n@paginate\n", ("from n import paginate",), 2)
    assert fix_diff(lines, fix, "a.py") == (
        "--- a/a.py\n+++ b/a.py\n"
        "@@ -1,2 +1,3 @@\n from x import y\n+from n import paginate\n \n"
        "@@ -4,2 +5,3 @@\n @api.get('/b')\n+@paginate\n def f():\n")


def test_a_file_in_syntax_this_python_cannot_compile_keeps_its_suggestions():
    source = "type Pair = tuple[int, int]\na = 1\n"  # Python 3.12 syntax
    changes = {"app.py": patch_changes("app.py", "@@ -0,0 +1,2 @@\n+type Pair = tuple[int, int]\n+a = 1\n")}
    found = finding(2, fix=Fix(2, 2, "a = 2\n"))
    (comment,) = build_review([found], changes, {"app.py": source}, set(), 30).comments
    assert "```suggestion\na = 2\n```" in comment.body


def test_a_pull_request_past_githubs_3000_files_is_never_a_pass():
    clean = check_output(Analysis((), (), files_checked=3000, truncated=True), PystdConfig())
    assert (clean.conclusion, clean.title) == ("neutral", messages.CHECK_TITLE_TRUNCATED)
    failing = check_output(Analysis((finding(4),), (), files_checked=3000, truncated=True),
                           PystdConfig())
    assert failing.conclusion == "failure"
