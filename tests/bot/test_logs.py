"""The server's logs: JSON lines with context fields, and never a credential."""

from __future__ import annotations

import io
import json
import logging

import pytest

from pystd.bot.logs import REDACTED, JsonLogFormatter, configure_logging, redact

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


def test_secrets_learnt_later_are_scrubbed_by_formatters_made_before(log_lines,
                                                                      app_private_key_pem):
    from pystd.bot.logs import learn_secrets

    log = logging.getLogger("pystd.bot.setup")
    key_line = app_private_key_pem.splitlines()[3]
    log.info("before: %s", "a-secret-learnt-later")
    learn_secrets(["a-secret-learnt-later", app_private_key_pem, None, ""])
    log.info("after: %s", "a-secret-learnt-later")
    log.info("a line of the key", extra={"detail": f"x{key_line}y"})
    log.info("the whole key: %s", app_private_key_pem)
    lines = log_lines()
    assert "a-secret-learnt-later" in lines[0]["message"]  # nothing is scrubbed back in time
    text = json.dumps(lines[1:])
    assert "a-secret-learnt-later" not in text and key_line not in text
    assert lines[2]["detail"] == f"x{REDACTED}y"


def test_a_key_given_with_escaped_newlines_is_scrubbed_line_by_line(app_private_key_pem):
    from pystd.bot.logs import secret_forms

    escaped = app_private_key_pem.replace("\n", "\\n")  # as PYSTD_PRIVATE_KEY carries it
    body = [line for line in app_private_key_pem.splitlines()[1:-1] if len(line) >= 16]
    assert secret_forms(escaped)[1:] == body and body
    assert redact(f"got {body[0]} here", secret_forms(escaped)) == f"got {REDACTED} here"


def test_a_key_read_from_its_file_is_scrubbed_too(tmp_path, app_private_key_pem):
    from pystd.bot.settings import Settings

    key = tmp_path / "app.pem"
    key.write_text(app_private_key_pem)
    settings = Settings(app_id=1, private_key_path=key, webhook_secret="the-hook-secret",
                        _env_file=None)
    assert settings.secret_values() == ["the-hook-secret", app_private_key_pem]
    line = app_private_key_pem.splitlines()[1]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonLogFormatter(settings.secret_values()))
    handler.emit(logging.makeLogRecord({"msg": f"key line {line}"}))
    assert json.loads(stream.getvalue())["message"] == f"key line {REDACTED}"
