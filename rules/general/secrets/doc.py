"""The documentation of PYS102 hardcoded-secret (docs/rules.md is generated from it): what
it flags, what the default selection reports, and why. Kept apart from the rule's code so
each module stays readable."""

from __future__ import annotations

DOCS = """
## What it does
Flags a non-empty string literal assigned to a secret-looking name: a variable, attribute,
class attribute, dict key, keyword argument or `config["..."]` item whose name ends with
`secret`, `password`, `passwd`, `token`, `api_key`/`apikey`, `private_key`, `secret_key` or
`client_secret` (any case, `snake_case` or `camelCase`: `DB_PASSWORD`, `apiKey`,
`AUTH_TOKEN`). Also flags any URL literal with inline credentials,
`postgres://user:s3cr3t@db.internal/app`.

Names that only mention the word (`token_url`, `password_field`, `PASSWORD_HASHERS`,
`TOKEN_EXPIRY`) are not secrets, nor are values that cannot be one: empty strings,
environment or settings reads, placeholders (`"<token>"`, `"${DB_PASSWORD}"`, `"***"`,
`"xxx"`, `"changeme"`, `"your-api-key-here"`), scheme and field names (`"bearer"`,
`"basic"`, `"password"`), sample-data stand-ins (`"test"`, `"dummy"`), messages,
descriptions of the field (`"ClickHouse Cloud password"`, `"Stripe API key"`), names of
settings (`"audio.tts.openai.api_key"`, `"OPENAI_API_KEY"`), rate
limits (`"5/m/user"`, `"100/day"`), file paths and password hashes, nor the arguments of a
URL builder (`reverse("confirm", kwargs={"token": "set-password"})`, `url_for(...)`),
which are parts of a URL, nor documented examples (`Field(examples=[...])`,
`openapi_examples=`, an OpenAPI `"example": {...}`) and translation tables (a dict whose
keys are phrases for a quarter or more, where `"Password"` is a label). In test files only
values that look like real credentials are flagged (`ghp_…`, `sk_live_…`, long random
strings), never fixtures like `"secret"` or `"test-token"`; the same holds in example and
demo code (an `example/`, `examples/`, `demo/` or `demos/` folder), whose logins are
published stand-ins. Keys that their vendor documents as public are not secrets either:
PostHog project keys (`phc_…`) and Stripe publishable keys (`pk_live_…`, `pk_test_…`).
Rows of sample data (dicts with the same keys in a list or tuple display, such as pretix's
sample orders for previews) are data, not a credential written once.

## What the default selection reports
Most literals under a secret-looking name are stand-ins: a deliberately invalid token in a
test, a test-only `SECRET_KEY` for `override_settings`, a factory's `"{PLAIN}toto"`, a
self-test's PIN under `if __name__ == "__main__":`, a maintainer script's
`mongodb://user:pass@localhost/...` for a throwaway container, a documented shared default
key, `DEFAULT_PASSWORD = "1234"`, a sentinel the app refuses to start with, a
`"sms_provider=ovh"` condition under a `*_token` key. A blind judging of the default
selection over eight applications found none of 12 such findings useful. So without
configuration PYS102 reports a value only with evidence that it is a real credential:

- **a provider's key format**, anywhere, tests included (a live key in a test is still a
  leak): AWS `AKIA`/`ASIA` + 16, GitHub `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_`/`github_pat_`,
  GitLab `glpat-`, Slack `xox[abposr]-`, Stripe `sk_live_`/`rk_live_`, Google `AIza` + 35,
  SendGrid `SG.`, OpenAI-like `sk-` + 32, a PEM private key; a body that spells
  `fake`, `example`, `dummy`... (`AKIAIOSFODNN7EXAMPLE`) is no key;
- **a generated-looking value in application code**: 16 characters or more, no spaces,
  random (two character classes and 3.5 bits of entropy per character, or 4 bits), not a
  placeholder, a `key=value` condition, markup or lower-case words (`"reallyhardtoguess"`,
  `"build-time-secret-key"`, `"super secret key"`: flaskbb's and pretix's stand-ins).
  Django's `django-insecure-` prefix is skipped: startproject's generated key is reported.
  Application code is not a test file, a test-data module (`factories.py`, `fixtures.py`,
  `seed.py`), a factory_boy `*Factory` class or `*TestCase` class, a test-data helper
  (`populate_database`, `create_sample_users`), a `scripts/`, `script/`, `extras/`,
  `tools/`, `bin/`, `dev/`, example, demo, sample or docs folder, a migration, nor a
  `__main__` block. A value whose constant is named as a default or stand-in
  (`DEFAULT_*`, `DUMMY_*`, `FAKE_*`, `EXAMPLE_*`, `TEST_*`, `*_PLACEHOLDER`), or whose
  comment (on its line or right above) calls it a default, shared, public, sample or
  placeholder value, or that the module passes as the fallback of a configuration read
  (`config.get("api_key", API_KEY)`, `os.getenv("TOKEN", TOKEN)`, `default=API_KEY`: a
  default the application replaces), is not evidence either;
- **a URL with inline credentials** for a host that is not local (not `localhost`,
  loopback, `*.local`, a documentation domain, nor a name without a dot such as a
  docker-compose service `db`, `mongo`, `redis`) and a password that is not a stand-in
  (`guest:guest`, `postgres:postgres`, `pass`).

Select PYS102 by code, category or `ALL` and every finding above is reported, as before.

## Why is this bad?
A secret in the source is in every clone, fork, CI log and backup of the repository, and
it cannot be rotated without a deploy. OWASP's Secrets Management Cheat Sheet and the
Twelve-Factor App ("III. Config": store config in the environment) both say to keep
credentials out of code; Django's deployment checklist says the same of `SECRET_KEY`.

## Example
```python
SECRET_KEY = "django-insecure-9x!k2m@4q7zrw3e8t5y1u6i0o2p4a7s9d3f6g8h1j4k7l0z"
DATABASE_URL = "postgres://app:hunter2@db.internal/app"
```

## Use instead
```python
SECRET_KEY = os.environ["SECRET_KEY"]
DATABASE_URL = os.environ["DATABASE_URL"]
```
or a settings object (pydantic-settings `BaseSettings`, `django-environ`) fed by the
environment or a secret manager.

## Fix
An unconditional module-level `NAME = "..."` becomes `NAME = os.environ["NAME"]` (adding
`import os`; the environment variable is named in upper case). Where the literal is a
default — a class attribute, a value in an `if`/`try` branch, or a name assigned again
in the module — it becomes `os.environ.get("NAME")`, which never raises at import and
never keeps the secret as its default. The finding message never repeats the value.

## Suppress
`# noqa: PYS102` on the line, for a value you know is public (a client-side analytics key).
"""
