"""Which names look secret, and which string values are real credentials (for PYS102).

Pure predicates over a name and a value: placeholders, descriptions, messages, rates,
hashes and other strings that are not secrets, and the entropy test for a real one.
"""

from __future__ import annotations

import math
import re
from collections import Counter

from pystd.rules.general.strings import (
    identifier_words,
)

# A name is secret-looking when its LAST word is one of these, or its last two words are
# one of the pairs: `db_password`, `AUTH_TOKEN`, `apiKey`, `JWT_SECRET_KEY` match, while
# `token_url`, `password_field`, `PASSWORD_HASHERS`, `csrf_token_name` do not.
SECRET_WORDS = frozenset({"secret", "password", "passwd", "token", "apikey", "privatekey",
                          "secretkey", "clientsecret"})
SECRET_PAIRS = frozenset({("api", "key"), ("private", "key"), ("secret", "key")})
# Values that name a scheme, header, field or type rather than being a secret.
NON_SECRET_VALUES = frozenset({
    "bearer", "basic", "digest", "token", "jwt", "oauth", "oauth2", "password", "passwd",
    "pass", "pwd", "secret", "api_key", "apikey", "api-key", "authorization", "access_token",
    "refresh_token", "id_token", "csrftoken", "csrfmiddlewaretoken", "client_credentials",
    "string", "str", "text", "hidden", "none", "null", "undefined", "true", "false",
    "required", "optional", "hs256", "rs256",
    # stand-ins for sample data: `User(username="test1", password="test")`
    "test", "testing", "dummy", "fake", "demo",
})
_PLACEHOLDER_MARKERS = ("changeme", "change_me", "change-me", "changethis", "change-this",
                        "change_this", "replaceme", "replace_me", "replace-me", "placeholder",
                        "redacted", "example", "your", "xxxx", "****")
_PLACEHOLDER_SHAPE = re.compile(
    r"<.*>|\[.*\]|\$\{.*\}|\{\{.*\}\}|\{[^{}]*\}|\$[A-Za-z_]\w*|%[sdr]|%\(\w+\)[sdr]"
    r"|[xX*.#?_\-\s]+",
    re.S,
)
# `"5/m/user"`, `"100/day"`, `"10 per minute;1000/hour"`: a rate limit, as django-allauth's
# `RATE_LIMITS = {"reset_password": "20/m/ip,5/m/key"}` (an action's name, not a field).
_RATE = (r"\d+\s*(?:/|per)\s*\d*\s*(?:s|sec|second|m|min|minute|h|hr|hour|d|day|w|week|month"
         r"|y|year)s?(?:/\w+)?")
_RATE_LIMIT = re.compile(rf"{_RATE}(?:\s*[,;]\s*{_RATE})*", re.I)
# `OPENAI_API_KEY`, `IDENT`: the name of a variable or token kind, not its value.
_CONSTANT_VALUE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+|[A-Z][A-Z_]*")
# `"audio.tts.openai.api_key"`, `"services.db.password"`: a dotted configuration path
# (lower-case identifiers, as settings loaders and i18n catalogs key their values).
_CONFIG_PATH = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)+")
# `"ckan.tests.factories:APIToken"`: an import reference (`module.path:attribute`), which
# names code, not a credential.
_IMPORT_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
# Words of a description (`"ClickHouse Cloud password"`, `"Stripe API key"`).
_DESCRIPTION_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*[,;)]?|\(?[A-Za-z]+")
_DESCRIBED_THINGS = frozenset({"key", "keys", "token", "tokens", "secret", "secrets",
                               "password", "passwords", "passphrase", "credential",
                               "credentials", "api", "pin", "login"})
_REGEX_MARKERS = ("\\w", "\\d", "\\s", "\\b", "(?", "[^", ".*", ".+")
_HEADER_NAME = re.compile(r"[xX]-[A-Za-z0-9-]+")
# `next_token`, `NextToken`, `aws_secret_access_key`: an identifier of two or more words
# names a field; it is not a credential.
_FIELD_NAME = re.compile(r"[A-Za-z]+(?:_[A-Za-z]+)*")
# Keys that can name a credential field: identifiers and header names, not
# `"AWS::SecretsManager::Secret"` or `"Enter your password"`.
KEY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*")
MIN_SECRET_LENGTH = 3  # `"0"`, `"e"`: a counter or a lexer token
_HASH_PREFIXES = ("pbkdf2_", "argon2", "bcrypt", "scrypt", "$2a$", "$2b$", "$2y$", "sha1$",
                  "md5$", "$argon2")
_KEY_FILE_SUFFIXES = (".pem", ".key", ".crt", ".cer", ".p12", ".pfx", ".jks", ".json",
                      ".txt", ".env")
# Words that make a value with spaces a message or a label, not a passphrase.
_MESSAGE_WORDS = frozenset({
    "invalid", "incorrect", "wrong", "required", "missing", "must", "enter", "your", "is",
    "are", "not", "too", "please", "field", "should", "cannot", "does", "expired", "reset",
    "forgot", "confirm", "new", "old", "current", "the", "a", "an", "for", "of", "to",
})
# In test files only values that look like real credentials are flagged.
CREDENTIAL_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-",
                       "sk_live_", "rk_live_", "xoxb-", "xoxp-", "xoxa-", "xapp-", "AKIA",
                       "ASIA", "AIza", "sk-ant-", "sk-proj-", "SG.", "shpat_", "npm_",
                       "pypi-")
# Keys their vendor documents as public, made to ship in browsers and apps: PostHog project
# API keys (`phc_`; personal keys are `phx_`), Stripe publishable keys (`pk_live_`,
# `pk_test_`; secret keys are `sk_`).
PUBLIC_KEY_PREFIXES = ("phc_", "pk_live_", "pk_test_")
# Folders of example and demo code, run to show the package: their logins are published
# stand-ins (piccolo-admin's `example/` app logs in as piccolo/piccolo123).
EXAMPLE_FOLDERS = frozenset({"example", "examples", "demo", "demos"})
_TEST_MARKERS = ("test", "fake", "dummy", "mock", "sample", "fixture", "example",
                 "insecure")
# A long random-looking value that also spells one of these was typed by a person.
_TYPED_MARKERS = (*_TEST_MARKERS, "invalid", "wrong", "foo", "bar", "secret", "passw",
                  "token", "qwerty", "abc", "123", "xyz")
URL_CREDENTIALS = re.compile(
    r"\b[a-z][a-z0-9+.\-]*://(?P<user>[^\s:/@\x00]*):(?P<password>[^\s/@\x00]+)@", re.I
)
# Cheap per-file prefilter: the lower-cased text of a file with a secret-looking name or a
# URL contains one of these (`apiKey` -> `apikey`, `X-API-Key` -> `api-key`).
PREFILTER_WORDS = ("secret", "passw", "token", "api_key", "apikey", "api-key", "private_key",
                   "privatekey", "private-key", "://")
ENUM_BASE_SUFFIXES = ("Enum", "Choices", "Flag")


def is_secret_name(name: str) -> bool:
    words = identifier_words(name)
    if not words:
        return False
    return words[-1] in SECRET_WORDS or (len(words) >= 2 and words[-2:] in SECRET_PAIRS)


def is_placeholder(value: str) -> bool:
    """Empty, a template reference or an obvious stand-in: `<token>`, `${DB_PASSWORD}`,
    `{{ secret }}`, `***`, `xxx`, `changeme`, `your-api-key-here`."""
    text = value.strip()
    if not text or _PLACEHOLDER_SHAPE.fullmatch(text) or "${" in text or "{{" in text:
        return True
    lowered = text.lower()
    return any(marker in lowered for marker in _PLACEHOLDER_MARKERS)


def _is_message(value: str) -> bool:
    if "-----BEGIN" in value:
        return False
    if any(ch.isspace() for ch in value.strip()):
        words = value.lower().split()
        return value.rstrip()[-1] in ".!?:" or not _MESSAGE_WORDS.isdisjoint(words)
    return value.endswith(":")


def _is_description(value: str, name: str) -> bool:
    """`"ClickHouse Cloud password"`, `"Stripe API key"`: words naming what belongs in the
    field (a help text, a form label, a settings schema), not the secret. A capitalised
    word and the name's own word (or `key`, `token`, ...) must both be there:
    `"super secret key"` is the passphrase Flask's tutorial ships, and stays a finding."""
    words = value.split()
    if len(words) < 2 or not all(_DESCRIPTION_WORD.fullmatch(w) for w in words):
        return False
    lowered = {w.strip(",;()").lower() for w in words}
    named = bool(lowered & (_DESCRIBED_THINGS | set(identifier_words(name))))
    return named and any(w[0].isupper() for w in words)


def is_non_secret_value(value: str, name: str) -> bool:
    """A value that cannot be the secret itself, whatever the name says (see RULES.md)."""
    if is_placeholder(value):
        return True
    text = value.strip()
    lowered = text.lower()
    if lowered in NON_SECRET_VALUES or "://" in text or _is_message(text):
        return True
    if (_is_description(text, name) or _CONFIG_PATH.fullmatch(text)
            or _IMPORT_REFERENCE.fullmatch(text)):
        return True
    if len(text) <= 64 and identifier_words(text) == identifier_words(name):  # `TOKEN = "token"`
        return True
    if len(text) < MIN_SECRET_LENGTH:
        return True
    if (_CONSTANT_VALUE.fullmatch(text) or _HEADER_NAME.fullmatch(text)
            or _RATE_LIMIT.fullmatch(text)):
        return True
    if _FIELD_NAME.fullmatch(text) and len(identifier_words(text)) >= 2:
        return True
    if not any(ch.isalnum() for ch in text) or any(m in text for m in _REGEX_MARKERS):
        return True  # punctuation (a lexer token), or a regular expression
    if lowered.startswith(_HASH_PREFIXES):  # a password hash is meant to be stored
        return True
    if text.startswith(PUBLIC_KEY_PREFIXES):  # POSTHOG_API_KEY = "phc_..."
        return True
    return lowered.endswith(_KEY_FILE_SUFFIXES) or (
        text.startswith(("/", "./", "../", "~/")) and text.count("/") >= 2
    )


def entropy(value: str) -> float:
    """Shannon entropy of the value's characters, in bits per character."""
    size = len(value)
    return -sum(n / size * math.log2(n / size) for n in Counter(value).values())


def looks_real(value: str) -> bool:
    """Does a value in a test file look like a real credential rather than a fixture?

    Known provider formats (`ghp_…`, `sk_live_…`, `AKIA…`), private keys, and 20+ character
    random-looking strings mixing character classes; `"secret"`, `"test-token"`, short
    values and anything spelling test/fake/dummy/example are fixtures.
    """
    lowered = value.lower()
    if any(marker in lowered for marker in _TEST_MARKERS):
        return False
    if value.startswith(CREDENTIAL_PREFIXES) and len(value) >= 16:
        return True
    if "PRIVATE KEY-----" in value:
        return True
    if len(value) < 20 or any(ch.isspace() for ch in value):
        return False
    if any(marker in lowered for marker in _TYPED_MARKERS):
        return False
    classes = (any(c.islower() for c in value) + any(c.isupper() for c in value)
               + any(c.isdigit() for c in value))
    return classes >= 2 and entropy(value) >= 3.6
