"""Which of pystd's earlier comments a push fixed (pure: decided from the REST listing)."""

from __future__ import annotations

from pystd.bot.plans import marker
from pystd.bot.threads import fixed_comments, fixed_marker, graphql_endpoint, our_comments

FP1, FP2 = "1" * 16, "2" * 16


def listing() -> list[dict[str, object]]:
    return [
        {"id": 10, "path": "a.py", "body": "x " + marker(FP1)},
        {"id": 11, "path": "gone.py", "body": "y " + marker(FP2)},
        {"id": 12, "path": "a.py", "body": "a person's comment"},
        {"id": 13, "path": "a.py", "in_reply_to_id": 10, "body": "ok " + fixed_marker(FP1)},
        {"id": 14, "path": "a.py", "in_reply_to_id": 11, "body": "quoting " + marker(FP2)},
    ]


def test_only_pystd_comments_that_open_a_thread_count_and_replies_are_remembered():
    ours = our_comments(listing())
    assert [(c.id, c.fingerprint, c.replied) for c in ours] == [(10, FP1, True),
                                                                (11, FP2, False)]


def test_fixed_means_checked_and_gone_or_the_file_left_a_complete_listing():
    ours = our_comments(listing())
    assert [c.id for c in fixed_comments(ours, set(), {"a.py"}, {"a.py"})] == [10, 11]
    assert [c.id for c in fixed_comments(ours, {FP1}, {"a.py"}, {"a.py"})] == [11]
    # Unchecked (failed or excluded) and still in the pull request: nothing said.
    assert fixed_comments(ours, set(), set(), {"a.py", "gone.py"}) == []
    # Past GitHub's 3000 listed files, a missing file may just be unlisted.
    assert fixed_comments(ours, set(), set(), {"a.py"}, complete=False) == []


def test_graphql_endpoint_for_github_and_enterprise_server():
    assert graphql_endpoint("https://api.github.com") == "https://api.github.com/graphql"
    assert graphql_endpoint("https://ghe.example/api/v3/") == "https://ghe.example/api/graphql"
