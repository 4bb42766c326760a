"""PYS102 in the default selection reports only what the code shows is a real credential
(docs/rules.md "Policy"); every other finding stays, for a team that chooses PYS102 by
code. The quiet kinds come from a blind judging of the default selection over eight
applications (0 useful of 12): test files, test-data factories, `__main__` self-tests,
maintainer scripts, documented defaults, sentinels and condition strings."""

from __future__ import annotations

import pytest

from pystd.rules.general.secrets.evidence import (
    is_local_host,
    is_provider_credential,
    looks_generated,
)
from tests.rules.lint import fixed, lines_of, lint


def default_lines(code: str, path: str) -> list[int]:
    """PYS102's lines when the repository sets nothing (`select = ["DEFAULT"]`)."""
    return [f.line for f in lint(code, path, select="DEFAULT") if f.code == "PYS102"]


# == quiet by default, reported when chosen by code ======================================

QUIET_BY_DEFAULT = [
    # a deliberately invalid key in a test
    pytest.param("tests/test_api_security.py",
                 'def test_key(client):\n'
                 '    client.get("/", headers={"x-api-key": "key<script>alert(1)</script>"})\n',
                 [2], id="test-invalid-key"),
    pytest.param("tests/test_api.py", 'API_TOKEN = "Kx7mP2qR9vT4wY8zB3nF6hJ1"\n', [1],
                 id="test-random-token"),
    # a test-only SECRET_KEY for override_settings
    pytest.param("app/tests/test_signing.py",
                 'from django.test import override_settings\n\n\n'
                 '@override_settings(SECRET_KEY="a8Fj3kL9mQ2xZ7vB4nR6tY1w")\n'
                 'def test_sign():\n    pass\n', [4], id="override-settings"),
    # test-data factories
    pytest.param("app/factories.py", 'class UserFactory:\n    password = "{PLAIN}toto"\n', [2],
                 id="factories-module"),
    pytest.param("app/users/data.py",
                 'import factory\n\n\nclass UserFactory(factory.django.DjangoModelFactory):\n'
                 '    password = "Qw7-Lm2x-Pz9kR4vT"\n', [5], id="factory-class"),
    pytest.param("app/users/management/commands/init.py",
                 'def populate_database():\n'
                 '    User.objects.create(username="admin", password="Adm1n-Pw-2024xyzQ")\n',
                 [2], id="populate-database"),
    pytest.param("misago/users/test.py",
                 'class UserTestCase(TestCase):\n    USER_PASSWORD = "Pass.123"\n', [2],
                 id="test-case-outside-tests"),
    # a self-test under `if __name__ == "__main__":`
    pytest.param("app/crypto/pin.py",
                 'if __name__ == "__main__":\n'
                 '    unlock(pin="4821", password="Zx81-Qp97-Lm42-Kd")\n', [2],
                 id="main-block"),
    # a maintainer script's throwaway local container
    pytest.param("scripts/load_dump.py",
                 'MONGO = "mongodb://admin:S3cretPw99@localhost:27017/app"\n', [1],
                 id="script-local-url"),
    pytest.param("extras/import_legacy.py", 'DB_PASSWORD = "Rk7vP2mQ9xL4wZ8t"\n', [1],
                 id="extras-folder"),
    pytest.param("app/settings.py", 'BROKER = "amqp://app:Rk7vP2mQ9xL4@rabbitmq:5672//"\n', [1],
                 id="compose-service-url"),
    # documented deliberate defaults
    pytest.param("app/geo.py",
                 'import logging\n# Shared default key; set geo.api_key in the config to use your own.\n'
                 'API_KEY = "4f6d8e2a9b1c3d5e7f8a0b2c4d6e8f0a"\n', [3],
                 id="documented-shared-default"),
    pytest.param("app/geo.py",
                 '# Shared default key; set geo.api_key in the config to use your own.\n'
                 'API_KEY = "4f6d8e2a9b1c3d5e7f8a0b2c4d6e8f0a"\n', [2],
                 id="documented-default-first-in-module"),
    pytest.param("app/geo.py",
                 'API_KEY = "4f6d8e2a9b1c3d5e7f8a0b2c4d6e8f0a"  # public key, shared by all\n',
                 [1], id="documented-default-trailing-comment"),
    pytest.param("app/geo.py",
                 'import logging\n\nAPI_KEY = "4f6d8e2a9b1c3d5e7f8a0b2c4d6e8f0a"\n\n\n'
                 'class Geocoder:\n    def __init__(self, config):\n'
                 '        self.api_key = config.get("geo_api_key", API_KEY)\n'
                 '        if self.api_key == API_KEY:\n'
                 '            logging.warning("using the shared default key")\n', [3],
                 id="default-overridden-from-config"),
    pytest.param("app/quickstart.py", 'DEFAULT_PASSWORD = "1234"\n', [1],
                 id="default-password-constant"),
    pytest.param("app/core.py", 'DEFAULT_API_KEY = "qN3x8Vb2Lk5Tz9Wc4Rm7"\n', [1],
                 id="named-default"),
    pytest.param("app/core.py", 'API_KEY = DEFAULT_API_KEY = "qN3x8Vb2Lk5Tz9Wc4Rm7"\n', [1],
                 id="bound-with-a-default-name"),
    # WRONG before: a sentinel, and a condition string under a secret-looking key
    pytest.param("app/config.py",
                 'DEFAULT_SECRET_KEY = "unset-9f8e7d6c5b4a3"\n\n\ndef check(key):\n'
                 '    if key == DEFAULT_SECRET_KEY:\n        raise SystemExit("set SECRET_KEY")\n',
                 [1], id="sentinel"),
    pytest.param("app/ui.py",
                 'VISIBLE_WHEN = {"sms_token": "sms_provider=ovh",\n'
                 '                "api_token": "auth_backend=ldap,provider_type=oauth2"}\n',
                 [1, 2], id="condition-strings"),
    # a typed stand-in in a CLI's CI mode (chainlit's cli/__init__.py)
    pytest.param("app/cli/__init__.py",
                 'import os\n\nos.environ["OPENAI_API_KEY"] = "sk-FAKE-OPENAI-API-KEY"\n', [3],
                 id="fake-openai-key"),
    # a short hand-typed value in application code
    pytest.param("app/db.py", 'connect(host="db.prod.internal", password="hunter2")\n', [1],
                 id="short-typed-password"),
]


@pytest.mark.parametrize(("path", "code", "lines"), QUIET_BY_DEFAULT)
def test_pys102_without_evidence_is_quiet_by_default_but_reported_by_code(
        path: str, code: str, lines: list[int]) -> None:
    assert default_lines(code, path) == []
    assert lines_of(code, "PYS102", path) == lines


def test_pys102_fix_is_kept_for_a_finding_reported_by_code() -> None:
    code = 'DB_PASSWORD = "Rk7vP2mQ9xL4wZ8t"\n'
    [finding] = [f for f in lint(code, "extras/import_legacy.py", select="PYS102")]
    assert fixed(code, finding) == 'import os\nDB_PASSWORD = os.environ["DB_PASSWORD"]\n'


# == reported by default: the evidence ===================================================

PROVIDER_KEYS = [
    "AKIAZ3MQ7XKV2HN4PLQ6",
    "ASIAZ3MQ7XKV2HN4PLQ6",
    "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue",
    "gho_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue",
    "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ",
    "glpat-Xy7Qm2Lx9Tz6Wc1Vn8Rk",
    "xoxb-1234567890-abcdefghij",
    "xoxs-1234567890-abcdefghij",
    "sk-4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue",
    "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
    "AIzaSyD4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7G",
    "SG.Yb7Qm2Lx9Tz6Wc1Vn8Rk3.Ps5Hd0Jf7Ga2UeXq4Lz8Mn",
    "sk-proj-4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue",
    "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEA\\n-----END RSA PRIVATE KEY-----",
]


@pytest.mark.parametrize("value", PROVIDER_KEYS)
@pytest.mark.parametrize("path", ["app/client.py", "tests/test_client.py",
                                  "app/factories.py", "scripts/deploy.py"])
def test_pys102_a_provider_format_is_reported_by_default_anywhere(value: str, path: str) -> None:
    """A live key in a test, a factory or a script is still a leak."""
    assert default_lines(f'API_TOKEN = "{value}"\n', path) == [1]
    assert default_lines(f'DEFAULT_API_TOKEN = "{value}"\n', path) == [1]


@pytest.mark.parametrize("value", ["AKIAIOSFODNN7EXAMPLE", "sk-FAKE-OPENAI-API-KEY",
                                   "ghp_fake0123456789abcdef", "sk_live_xxxxxxxxxxxxxxxxxx",
                                   "glpat-dummydummydummydummy"])
def test_pys102_a_provider_prefix_on_a_stand_in_is_no_evidence(value: str) -> None:
    assert not is_provider_credential(value)


def test_pys102_a_random_key_in_application_config_is_reported_by_default() -> None:
    code = 'API_KEY = "Vb2Lk5Tz9Wc4Rm7qN3x8Pd6Hs1Jf0Ga4Ue8Yt2Mw"\n'
    assert len("Vb2Lk5Tz9Wc4Rm7qN3x8Pd6Hs1Jf0Ga4Ue8Yt2Mw") == 40
    assert default_lines(code, "app/config.py") == [1]


DJANGO_SETTINGS = '''\
"""Django settings for mysite project."""

# Quick-start development settings - unsuitable for production
# See https://docs.djangoproject.com/en/5.0/howto/deployment/checklist/

# SECURITY WARNING: keep the secret key used in production secret!
SECRET_KEY = "django-insecure-9x!k2m@4q7zrw3e8t5y1u6i0o2p4a7s9d3f6g8h1j4k7l0z2x5c8v"

# SECURITY WARNING: don't run with debug turned on in production!
DEBUG = True
'''


def test_pys102_a_generated_django_secret_key_is_reported_by_default() -> None:
    assert default_lines(DJANGO_SETTINGS, "mysite/settings.py") == [7]


@pytest.mark.parametrize("url", [
    "postgres://app:Kx7mP2qR9v@db.prod.example-corp.com/app",
    "mongodb://svc:Rk7vP2mQ9xL4wZ8t@10.0.3.12:27017/app",
    "redis://:Kx7mP2qR9vT4@cache.internal:6379/0",
])
def test_pys102_a_url_with_a_password_for_a_remote_host_is_reported_by_default(url: str) -> None:
    assert default_lines(f'DATABASE_URL = "{url}"\n', "app/settings.py") == [1]


@pytest.mark.parametrize("url", [
    "postgres://postgres:postgres@db.prod.example-corp.com/app",  # password = user
    "amqp://guest:guest@broker.example-corp.com//",
    "postgres://app:s3cr3tpw@db/app",  # a compose service
    "postgres://app:s3cr3tpw@127.0.0.1/app",
    "postgres://app:s3cr3tpw@box.local/app",
    "postgres://app:s3cr3tpw@db.example.com/app",  # a documentation host
])
def test_pys102_a_url_for_a_local_host_or_with_a_stand_in_is_quiet_by_default(url: str) -> None:
    code = f'DATABASE_URL = "{url}"\n'
    assert default_lines(code, "app/settings.py") == []
    assert lines_of(code, "PYS102", "app/settings.py") == [1]


# == the predicates ======================================================================

@pytest.mark.parametrize("value", [
    "57558043c53943d5d1e96a9ad425b0eb85532ee6", "k9#2mQx!v7Lr0pZ8e4Tn",
    "1znyfpwp*_#!r0#l248lht*6)_0b+504n*2-8cxf(2u)fhi0f^",
    "django-insecure-9x!k2m@4q7zrw3e8t5y1u6i0o2p4a7s9d3f6g8h1j4k7l0z2x5c8v",
])
def test_looks_generated(value: str) -> None:
    assert looks_generated(value)


@pytest.mark.parametrize("value", [
    "sms_provider=ovh", "auth_backend=ldap,provider_type=oauth2", "{PLAIN}toto", "Pass.123",
    "key<script>alert(1)</script>", "build-time-secret-key", "aaaaaaaaaaaaaaaaaaaa1",
    "my-test-api-key-0123456", "django-insecure-changeme", "<your-secret-key-here>",
])
def test_looks_generated_rejects_typed_values(value: str) -> None:
    assert not looks_generated(value)


@pytest.mark.parametrize(("host", "local"), [
    ("localhost", True), ("127.0.0.1", True), ("[::1]", True), ("db", True), ("mongo", True),
    ("box.local", True), ("api.example.com", True), ("db.prod.internal", False),
    ("10.0.3.12", False), ("{host}", False), ("db.acme.io", False),
])
def test_is_local_host(host: str, local: bool) -> None:
    assert is_local_host(host) is local


def test_pys102_never_flags_an_import_reference() -> None:
    """Survey (ckan 2.12.0, `cli/generate.py:232`): a table of factories by name, whose
    `"api-token"` entry names a class; not a credential, whatever the selection."""
    code = '_factories = {"api-token": "ckan.tests.factories:APIToken"}\n'
    assert lines_of(code, "PYS102", "ckan/cli/generate.py") == []


@pytest.mark.parametrize("code", [
    'DEFAULT_API_KEY = "Vb2Lk5Tz9Wc4Rm7qN3x8"\n',
    'DUMMY_TOKEN = "Vb2Lk5Tz9Wc4Rm7qN3x8"\n',
    'FAKE_PASSWORD = "Vb2Lk5Tz9Wc4Rm7qN3x8"\n',
    'EXAMPLE_SECRET = "Vb2Lk5Tz9Wc4Rm7qN3x8"\n',
    'TEST_API_KEY = "Vb2Lk5Tz9Wc4Rm7qN3x8"\n',
    'DEFAULT_CREDENTIALS = {"password": "Vb2Lk5Tz9Wc4Rm7qN3x8"}\n',  # the dict's name
])
def test_pys102_a_constant_named_as_a_default_is_quiet_by_default(code: str) -> None:
    assert default_lines(code, "app/core.py") == []
    assert lines_of(code, "PYS102", "app/core.py") == [1]
    same_value = code.replace("DEFAULT_", "").replace("DUMMY_", "").replace("FAKE_", "")
    same_value = same_value.replace("EXAMPLE_", "").replace("TEST_", "")
    assert default_lines(same_value, "app/core.py") == [1]
