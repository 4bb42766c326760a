"""Patches -> changed lines, and the file before the change rebuilt from the patch."""

from __future__ import annotations

import difflib
import random

import pytest

from pystd.bot.diff import git_diff_changes, patch_changes


def edited(base: list[str], rng: random.Random, tag: int) -> list[str]:
    new = list(base)
    for _ in range(rng.randint(1, 6)):
        op, i = rng.choice("adm"), rng.randrange(len(new) + 1)
        if op == "a":
            new.insert(i, f"added {tag} {i}\n")
        elif new and i < len(new):
            if op == "d":
                del new[i]
            else:
                new[i] = f"changed {tag}\n"
    return new


@pytest.mark.parametrize("context", [0, 1, 3])
def test_old_text_is_rebuilt_exactly_from_new_text_and_patch(context):
    rng = random.Random(context)
    base = [f"line {i}\n" for i in range(60)]
    for trial in range(100):
        new = edited(base, rng, trial)
        diff = list(difflib.unified_diff(base, new, "a/f.py", "b/f.py", n=context))
        if not diff:
            continue
        changes = patch_changes("f.py", "".join(diff[2:]))
        assert changes.old_text("".join(new)) == "".join(base)


def test_old_text_is_none_when_the_patch_does_not_fit():
    changes = patch_changes("f.py", "@@ -1,2 +50,2 @@\n a\n-b\n+c\n")
    assert changes.old_text("x\n") is None


def test_git_diff_with_renames_and_added_files():
    diff = (
        "diff --git a/old.py b/new.py\nsimilarity index 90%\nrename from old.py\n"
        "rename to new.py\n--- a/old.py\n+++ b/new.py\n@@ -2 +2 @@\n-x = 1\n+x = 2\n"
        "diff --git a/added.py b/added.py\nnew file mode 100644\n--- /dev/null\n"
        "+++ b/added.py\n@@ -0,0 +1,2 @@\n+a = 1\n+b = 2\n"
    )
    changes = git_diff_changes(diff)
    assert changes["new.py"].status == "renamed"
    assert changes["new.py"].previous_path == "old.py"
    assert changes["new.py"].added == {2}
    assert (changes["added.py"].status, changes["added.py"].added) == ("added", {1, 2})


@pytest.mark.parametrize("odd", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\x85", "\u2028",
                                 "\u2029"])
def test_old_text_counts_newlines_only(odd):
    # str.splitlines breaks at these too; hunks count "\n" only.
    base = ['"""Models.' + odd + '"""\n'] + [f"line {i}\n" for i in range(10)]
    new = [*base[:5], "# a comment\n", *base[5:]]
    diff = "".join(difflib.unified_diff(base, new, "a/f.py", "b/f.py", n=3))
    changes = patch_changes("f.py", diff.split("\n", 2)[2])
    assert changes.added == {6}
    assert changes.old_text("".join(new)) == "".join(base)


def test_a_line_whose_only_change_is_a_comment_or_layout_is_not_a_changed_line():
    patch = ("@@ -1,5 +1,5 @@\n"
             "-x = requests.get(url)  # noqa: PYS101\n"
             "+x = requests.get(url)  # noqa: PYS102\n"
             "-y = f(a,b)\n"
             "+y = f(a, b)\n"
             "-z = 1\n"
             "+z = 2\n"
             " w = 3\n"
             "-\n"
             "+# a new comment\n")
    changes = patch_changes("app.py", patch)
    assert changes.added == {3}  # only z's value changed; a comment has no code
    assert changes.commentable == {1, 2, 3, 4, 5}


def test_a_moved_comment_does_not_hide_a_real_change_of_the_same_line():
    patch = "@@ -1,2 +1,2 @@\n-a = 1  # old\n-a = 1\n+a = 1  # new\n+a = 2\n"
    assert patch_changes("app.py", patch).added == {2}


def test_a_changed_opening_line_of_a_multi_line_string_is_a_changed_line():
    # The line alone does not tokenize (the string runs on): what follows the last token
    # read is code too, or `"""users` -> `f"""{table}` would pass for a cosmetic change.
    patch = ("@@ -1,3 +1,3 @@\n"
             " def rows(cursor, table):\n"
             '-    cursor.execute("""SELECT * FROM users\n'
             '+    cursor.execute(f"""SELECT * FROM {table}\n'
             '     WHERE id = 1""")\n')
    assert patch_changes("app.py", patch).added == {2}


def test_templates_fold_whitespace_only():
    patch = "@@ -1,2 +1,2 @@\n-<p>{{ x|safe }}</p>\n-{# a #}\n+    <p>{{ x|safe }}</p>\n+{# b #}\n"
    assert patch_changes("templates/a.html", patch).added == {2}
