"""The server's logs: JSON lines with context fields, and never a credential."""

from __future__ import annotations

import io
import json
import logging

import pytest

from pystd.bot.logs import REDACTED, configure_logging, redact

TOKEN = "ghs_" + "A1b2C3d4" * 5  # shaped like an installation token; not a real one


@pytest.fixture
def log_lines():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    configure_logging("INFO", secrets=["the-webhook-secret-value"], stream=stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def test_a_line_is_one_json_object_with_the_context_fields(log_lines):
    logging.getLogger("pystd.bot.job").info("review completed", extra={
        "delivery_id": "d-1", "repository": "o/r", "pr": 7, "head_sha": "a" * 40,
        "duration_ms": 812, "findings": 3, "conclusion": "failure"})
    (line,) = log_lines()
    assert line["message"] == "review completed"
    assert (line["level"], line["logger"]) == ("INFO", "pystd.bot.job")
    assert line["pr"] == 7 and line["conclusion"] == "failure" and line["duration_ms"] == 812
    assert "time" in line


def test_credentials_never_reach_the_log(log_lines):
    log = logging.getLogger("pystd.bot.github")
    log.warning("calling with token %s", TOKEN)
    log.info("header", extra={"authorization": f"Bearer {TOKEN}"})
    try:
        raise RuntimeError("secret is the-webhook-secret-value")
    except RuntimeError:
        log.exception("failed")
    text = json.dumps(log_lines())
    assert TOKEN not in text and "the-webhook-secret-value" not in text
    assert text.count(REDACTED) >= 3


def test_pem_keys_and_jwts_are_redacted():
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiI0MiJ9.c2lnbmF0dXJlLXBhcnQ"
    assert redact(f"key={pem} jwt={jwt}") == f"key={REDACTED} jwt={REDACTED}"
    # A key escaped on its way into a JSON line is still found.
    assert "MIIEow" not in redact(json.dumps({"k": pem}))


def test_ordinary_words_are_left_alone():
    assert redact("token expired for installation 42", ["ab"]) == \
        "token expired for installation 42"
