"""PYS1xx rules of rules/general.py: every flags / never-flags item and every fix of the
PYS101, PYS102 and PYS105 rows of RULES.md, plus the precision calls the rules make."""

from __future__ import annotations

import pytest

from rules.context import FileContext
from rules.engine import Finding
from rules.general import (
    HardcodedSecret,
    SqlStringBuilding,
    identifier_words,
    is_secret_name,
    looks_real,
)
from tests.rules.lint import codes, fixed, lint

TEST_PATH = "tests/test_api.py"


def only(code: str, rule: str, path: str = "app.py") -> list[Finding]:
    return lint(code, path, select=rule)


def lines_of(code: str, rule: str, path: str = "app.py") -> list[int]:
    return [f.line for f in only(code, rule, path)]


def one(code: str, rule: str, path: str = "app.py") -> Finding:
    findings = only(code, rule, path)
    assert len(findings) == 1, [(f.line, f.message) for f in findings]
    return findings[0]


def fix_of(code: str, rule: str, path: str = "app.py") -> str:
    """The source after the single finding's fix, checked to parse and be clean for `rule`."""
    new = fixed(code, one(code, rule, path))
    assert only(new, rule, path) == [], new
    return new


def no_fix(code: str, rule: str, path: str = "app.py") -> None:
    findings = only(code, rule, path)
    assert findings, "expected a finding"
    assert all(f.fix is None for f in findings), [f.fix for f in findings]


# == PYS101 blocking-call-in-async: flags ===============================================


@pytest.mark.parametrize(
    ("imports", "call", "qualified"),
    [
        ("import time", "time.sleep(1)", "time.sleep"),
        ("import requests", "requests.get(url)", "requests.get"),
        ("import requests", "requests.post(url, json={})", "requests.post"),
        ("import requests", "requests.request('PUT', url)", "requests.request"),
        ("import requests", "requests.Session()", "requests.Session"),
        ("import urllib.request", "urllib.request.urlopen(url)", "urllib.request.urlopen"),
        ("import httpx", "httpx.get(url)", "httpx.get"),
        ("import httpx", "httpx.post(url)", "httpx.post"),
        ("import httpx", "httpx.put(url)", "httpx.put"),
        ("import httpx", "httpx.patch(url)", "httpx.patch"),
        ("import httpx", "httpx.delete(url)", "httpx.delete"),
        ("import httpx", "httpx.head(url)", "httpx.head"),
        ("import httpx", "httpx.options(url)", "httpx.options"),
        ("import httpx", "httpx.request('GET', url)", "httpx.request"),
        ("import httpx", "httpx.stream('GET', url)", "httpx.stream"),
        ("import httpx", "httpx.Client()", "httpx.Client"),
        ("import subprocess", "subprocess.run(['ls'])", "subprocess.run"),
        ("import subprocess", "subprocess.call(['ls'])", "subprocess.call"),
        ("import subprocess", "subprocess.check_call(['ls'])", "subprocess.check_call"),
        ("import subprocess", "subprocess.check_output(['ls'])", "subprocess.check_output"),
        ("import subprocess", "subprocess.Popen(['ls'])", "subprocess.Popen"),
        ("import os", "os.system('ls')", "os.system"),
        ("import socket", "socket.create_connection(('h', 1))", "socket.create_connection"),
    ],
)
def test_pys101_flags_each_blocking_call(imports: str, call: str, qualified: str) -> None:
    code = f"{imports}\n\n\nasync def handler(url):\n    return {call}\n"
    finding = one(code, "PYS101")
    assert finding.line == 5
    assert f"`{qualified}`" in finding.message


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from time import sleep as nap", "nap(1)"),
        ("from time import sleep", "sleep(1)"),
        ("import requests as r", "r.get(url)"),
        ("from requests import get", "get(url)"),
        ("import subprocess as sp", "sp.run(['ls'])"),
        ("from urllib.request import urlopen", "urlopen(url)"),
        ("from httpx import Client", "Client()"),
        ("from os import system", "system('ls')"),
    ],
)
def test_pys101_resolves_import_aliases(imports: str, call: str) -> None:
    code = f"{imports}\n\n\nasync def handler(url):\n    return {call}\n"
    assert lines_of(code, "PYS101") == [5]


def test_pys101_flags_import_inside_the_function() -> None:
    code = """\
        async def handler():
            import time
            time.sleep(1)
        """
    assert lines_of(code, "PYS101") == [3]


def test_pys101_flags_async_methods_comprehensions_and_nested_arguments() -> None:
    code = """\
        import time
        import requests


        class Client:
            async def fetch(self, url):
                return requests.get(url)


        async def many():
            return [time.sleep(1) for _ in range(3)]


        async def wrapped(url):
            return await process(requests.get(url))
        """
    assert lines_of(code, "PYS101") == [7, 11, 15]


def test_pys101_flags_every_blocking_call_of_a_function() -> None:
    code = """\
        import time
        import requests

        async def handler(url):
            time.sleep(1)
            requests.get(url)
        """
    assert lines_of(code, "PYS101") == [5, 6]


# == PYS101: never flags ================================================================


@pytest.mark.parametrize(
    "code",
    [
        # the same calls in plain `def`
        "import time\n\ndef handler():\n    time.sleep(1)\n",
        "import requests\n\ndef handler(u):\n    return requests.get(u)\n",
        # a nested plain def or lambda inside async code runs elsewhere
        "import time\n\nasync def outer():\n    def inner():\n        time.sleep(1)\n    return inner\n",
        "import requests\n\nasync def outer(u):\n    return lambda: requests.get(u)\n",
        # inside asyncio.to_thread(...) / run_in_executor(...) arguments
        "import asyncio, requests\n\nasync def f(u):\n    return await asyncio.to_thread(requests.get, u)\n",
        "import asyncio, time\n\nasync def f():\n    await asyncio.to_thread(time.sleep, 1)\n",
        "import asyncio, requests\n\nasync def f(u):\n"
        "    loop = asyncio.get_running_loop()\n"
        "    return await loop.run_in_executor(None, lambda: requests.get(u))\n",
        "import subprocess\n\nasync def f(loop):\n"
        "    return await loop.run_in_executor(None, subprocess.run, ['ls'])\n",
        "import anyio, requests\n\nasync def f(u):\n    return await anyio.to_thread.run_sync(requests.get, u)\n",
        "from asgiref.sync import sync_to_async\nimport requests\n\nasync def f(u):\n"
        "    return await sync_to_async(requests.get)(u)\n",
        "from starlette.concurrency import run_in_threadpool\nimport requests\n\nasync def f(u):\n"
        "    return await run_in_threadpool(requests.get, u)\n",
        # awaited calls
        "import asyncio\n\nasync def f():\n    await asyncio.sleep(1)\n",
        "import httpx\n\nasync def f(u):\n    async with httpx.AsyncClient() as c:\n        return await c.get(u)\n",
        # names that are not the blocking functions
        "async def f(session, u):\n    return await session.get(u)\n",
        "async def f(requests, u):\n    return requests.get(u)\n",
        "import time\n\nasync def f():\n    return time.time()\n",
        "import subprocess\n\nasync def f():\n    return subprocess.PIPE\n",
    ],
)
def test_pys101_never_flags(code: str) -> None:
    assert only(code, "PYS101") == []


def test_pys101_does_not_flag_requests_helpers_that_never_touch_the_network() -> None:
    code = """\
        import requests


        async def handler(url, response):
            auth = requests.auth.HTTPBasicAuth("user", "pw")
            quoted = requests.utils.quote(url)
            if response.status >= 500:
                raise requests.HTTPError("upstream failed")
            raise requests.exceptions.ConnectionError("down")
        """
    assert only(code, "PYS101") == []


def test_pys101_skips_test_files() -> None:
    code = "import time\n\nasync def test_it():\n    time.sleep(1)\n"
    assert only(code, "PYS101", TEST_PATH) == []


def test_pys101_prefilter_skips_files_without_async() -> None:
    code = "import time\n\ndef handler():\n    time.sleep(1)\n"
    assert only(code, "PYS101") == []


# == PYS101: fixes ======================================================================


def test_pys101_fix_time_sleep_becomes_awaited_asyncio_sleep() -> None:
    code = """\
        import time


        async def handler():
            time.sleep(0.5)
        """
    assert fix_of(code, "PYS101") == (
        "import time\nimport asyncio\n\n\nasync def handler():\n    await asyncio.sleep(0.5)\n"
    )


def test_pys101_fix_keeps_an_existing_asyncio_import_and_resolves_aliases() -> None:
    code = """\
        import asyncio
        from time import sleep as nap


        async def handler(delay):
            nap(delay)
        """
    new = fix_of(code, "PYS101")
    assert new.count("import asyncio") == 1
    assert "    await asyncio.sleep(delay)\n" in new


def test_pys101_fix_in_a_comprehension_of_async_code() -> None:
    code = """\
        import time


        async def handler():
            return [time.sleep(1) for _ in range(3)]
        """
    assert "[await asyncio.sleep(1) for _ in range(3)]" in fix_of(code, "PYS101")


def test_pys101_fix_fastapi_path_operation_without_await_becomes_def() -> None:
    code = """\
        import requests
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/users")
        async def users():
            return requests.get("http://users.internal").json()
        """
    new = fix_of(code, "PYS101")
    assert '@app.get("/users")\ndef users():\n' in new
    assert "requests.get" in new


def test_pys101_fix_fastapi_router_time_sleep_prefers_def_when_nothing_is_awaited() -> None:
    code = """\
        import time
        from fastapi import APIRouter

        router = APIRouter()


        @router.post("/jobs")
        async def create_job():
            time.sleep(1)
            return {}
        """
    new = fix_of(code, "PYS101")
    assert "def create_job():\n    time.sleep(1)\n" in new
    assert "async def" not in new


def test_pys101_fix_fastapi_path_operation_that_awaits_keeps_async() -> None:
    code = """\
        import asyncio
        import time
        from fastapi import FastAPI

        app = FastAPI()


        @app.get("/")
        async def index():
            time.sleep(1)
            await asyncio.sleep(0)
        """
    new = fix_of(code, "PYS101")
    assert "async def index():\n    await asyncio.sleep(1)\n" in new


def test_pys101_no_fix_for_other_blocking_calls_outside_fastapi() -> None:
    code = """\
        import requests


        async def handler(url):
            return requests.get(url)
        """
    no_fix(code, "PYS101")


def test_pys101_no_def_fix_for_an_async_function_that_is_not_a_path_operation() -> None:
    code = """\
        import requests
        from fastapi import FastAPI

        app = FastAPI()


        async def helper(url):
            return requests.get(url)
        """
    no_fix(code, "PYS101")


# == PYS102 hardcoded-secret: which names are secret ====================================


SECRET_NAMES = [
    "secret", "password", "passwd", "token", "api_key", "apikey", "private_key",
    "secret_key", "client_secret", "SECRET_KEY", "db_password", "apiKey", "AUTH_TOKEN",
    "APIKey", "privateKey", "clientSecret", "JWT_SECRET_KEY", "EMAIL_HOST_PASSWORD",
    "password2", "X-API-Key", "api-key", "_secret", "__token", "Private-Key", "PrivateKey",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_pys102_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_pys102_prefilter_never_hides_a_secret_name(name: str) -> None:
    assert HardcodedSecret.applies(FileContext("app.py", f'{{"{name}": "x"}}', None))


@pytest.mark.parametrize(
    "name",
    [
        "token_url", "password_field", "PASSWORD_HASHERS", "TOKEN_EXPIRY", "csrf_token_name",
        "secret_santa", "PASSWORD_RESET_TIMEOUT", "AUTH_PASSWORD_VALIDATORS",
        "CSRF_COOKIE_NAME", "token_type", "SESSION_COOKIE_SECURE", "tokens", "secrets", "key",
        "public_key", "tokenizer", "passwords_match", "secretary", "AWS_SECRET_ACCESS_KEY", "",
    ],
)
def test_pys102_names_that_only_mention_the_word(name: str) -> None:
    assert not is_secret_name(name)


def test_identifier_words_splits_snake_kebab_and_camel_case() -> None:
    assert identifier_words("dbPassword2") == ("db", "password")
    assert identifier_words("X-API-Key") == ("x", "api", "key")
    assert identifier_words("OAuth2Token") == ("o", "auth", "token")
    assert identifier_words("__SECRET_KEY__") == ("secret", "key")


# == PYS102: flags ======================================================================


@pytest.mark.parametrize(
    "code",
    [
        'SECRET_KEY = "d8f7a6s5d4f3"\n',  # a name
        'db_password: str = "hunter2"\n',  # an annotated assignment
        'class Settings:\n    API_KEY = "k3y-v4lue"\n',  # a class attribute
        'class Client:\n    def __init__(self):\n        self.token = "t0k3n-v4lue"\n',  # attribute
        'settings.SECRET_KEY = "d8f7a6s5d4f3"\n',
        'CREDENTIALS = {"password": "hunter2"}\n',  # a dict key
        'HEADERS = {"X-API-Key": "k3y-v4lue"}\n',
        'client = connect(host="db", password="hunter2")\n',  # a keyword argument
        'app.config.update(SECRET_KEY="d8f7a6s5d4f3")\n',
        'config["SECRET_KEY"] = "d8f7a6s5d4f3"\n',  # config[...]
        'app.config["SECRET_KEY"] = "d8f7a6s5d4f3"\n',
        'os.environ["API_TOKEN"] = "t0k3n-v4lue"\n',
        'user, password = "admin", "hunter2"\n',  # unpacking
        'SECRET_KEY = b"d8f7a6s5d4f3"\n',  # bytes
        'SECRET_KEY = "d8f7a6" "s5d4f3"\n',  # implicit concatenation
        'app.secret_key = "super secret key"\n',  # a phrase, not a message
        'TOKEN = "Token 9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"\n',
        'PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----"\n',
    ],
)
def test_pys102_flags_a_literal_assigned_to_a_secret_name(code: str) -> None:
    assert lines_of(code, "PYS102") == [code.count("\n")]


def test_pys102_flags_django_database_password() -> None:
    code = """\
        DATABASES = {
            "default": {
                "ENGINE": "django.db.backends.postgresql",
                "USER": "app",
                "PASSWORD": "s3cr3t-pw",
            }
        }
        """
    assert lines_of(code, "PYS102", "settings.py") == [5]


@pytest.mark.parametrize(
    "code",
    [
        'DATABASE_URL = "postgres://app:s3cr3t@db.internal:5432/app"\n',
        'BROKER = "amqp://guest:hunter2@rabbit//"\n',
        'CACHE = "redis://:s3cr3t@cache:6379/0"\n',  # no user name
        'engine = create_engine("mysql+pymysql://root:hunter2@db/app")\n',  # anywhere
        'URL = f"postgres://app:s3cr3t@{host}/app"\n',  # literal part of an f-string
        'URL = "postgres://app:" "s3cr3t@db/app"\n',  # implicit concatenation
    ],
)
def test_pys102_flags_url_with_inline_credentials(code: str) -> None:
    finding = one(code, "PYS102")
    assert finding.line == 1
    assert "URL" in finding.message


def test_pys102_reports_a_secret_url_assigned_to_a_secret_name_once() -> None:
    finding = one('DB_PASSWORD = "postgres://app:hunter2@db/app"\n', "PYS102")
    assert "URL" in finding.message and finding.fix is None


@pytest.mark.parametrize(
    "code",
    [
        'SECRET_KEY = "d8f7a6s5d4f3"\n',
        'CREDENTIALS = {"password": "hunter2"}\n',
        'connect(password="hunter2")\n',
        'DATABASE_URL = "postgres://app:s3cr3t@db/app"\n',
        'PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEow\\n-----END RSA PRIVATE KEY-----"\n',
    ],
)
def test_pys102_message_never_contains_the_secret(code: str) -> None:
    message = one(code, "PYS102").message
    for secret in ("d8f7a6s5d4f3", "hunter2", "s3cr3t", "MIIEow"):
        assert secret not in message
    assert "\n" not in message


# == PYS102: never flags ================================================================


@pytest.mark.parametrize("value", ['""', "''", '"   "', 'b""'])
def test_pys102_never_flags_empty_strings(value: str) -> None:
    assert only(f"SECRET_KEY = {value}\npassword = {value}\n", "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'import os\n\nSECRET_KEY = os.environ["SECRET_KEY"]\n',
        'import os\n\nDB_PASSWORD = os.environ.get("DB_PASSWORD", "")\n',
        'import os\n\nAPI_TOKEN = os.getenv("API_TOKEN")\n',
        'from django.conf import settings\n\nTOKEN = settings.GITHUB_TOKEN\n',
        'import environ\n\nenv = environ.Env()\nSECRET_KEY = env("SECRET_KEY")\n',
        'from decouple import config\n\nSECRET_KEY = config("SECRET_KEY", default="")\n',
        'app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]\n',
        'connect(password=os.environ["DB_PASSWORD"])\n',
    ],
)
def test_pys102_never_flags_env_or_settings_reads(code: str) -> None:
    assert only(code, "PYS102") == []


@pytest.mark.parametrize(
    "value",
    [
        "<password>", "<your-api-key>", "${DB_PASSWORD}", "${TOKEN:-default}", "{{ secret }}",
        "$API_TOKEN", "{password}", "%s", "%(password)s", "***", "********", "xxx", "XXX",
        "xxxxxxxx", "...", "changeme", "CHANGE_ME", "change-this-secret",
        "your-secret-here", "YOUR_API_KEY", "sk_live_xxxxxxxxxxxx", "placeholder",
        "[REDACTED]", "example-token",
    ],
)
def test_pys102_never_flags_placeholders(value: str) -> None:
    assert only(f'SECRET_KEY = "{value}"\napi_key = "{value}"\n', "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'SECRET_KEY = f"{prefix}-key"\n',
        'SECRET_KEY = "a" + suffix\n',
        'SECRET_KEY = get_random_secret_key()\n',
        'password = None\n',
        'token = 12345\n',
        'password = ("x",)\n',
        'SECRET_KEY = os.environ.get("SECRET_KEY") or "fallback-key"\n',
    ],
)
def test_pys102_never_flags_f_strings_and_non_literals(code: str) -> None:
    assert only(code, "PYS102") == []


def test_pys102_never_flags_names_that_only_mention_the_word() -> None:
    code = """\
        TOKEN_URL = "https://auth.example.com/oauth/token"
        token_url = "https://auth.example.com/token"
        password_field = "pw"
        PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        TOKEN_EXPIRY = "3600"
        csrf_token_name = "csrf"
        secret_santa = "bob"
        STRIPE_PUBLIC_KEY = "pk_live_51Habc"
        """
    assert only(code, "PYS102") == []


def test_pys102_never_flags_django_settings_that_mention_passwords_and_tokens() -> None:
    code = """\
        import os

        SECRET_KEY = os.environ["DJANGO_SECRET_KEY"]
        PASSWORD_RESET_TIMEOUT = 259200
        AUTH_PASSWORD_VALIDATORS = [
            {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
        ]
        PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
        CSRF_COOKIE_NAME = "csrftoken"
        CSRF_HEADER_NAME = "HTTP_X_CSRFTOKEN"
        SESSION_COOKIE_SECURE = True
        REST_FRAMEWORK = {"DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.TokenAuthentication"]}
        """
    assert only(code, "PYS102", "settings.py") == []


def test_pys102_never_flags_form_and_model_fields() -> None:
    code = """\
        from django import forms


        class LoginForm(forms.Form):
            username = forms.CharField()
            password = forms.CharField(widget=forms.PasswordInput, label="Password")
            token = forms.CharField(required=False, help_text="Your API token")
        """
    assert only(code, "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'token_type = "bearer"\n',
        'TOKEN = "Bearer"\n',
        'AUTH_SCHEME_TOKEN = "basic"\n',
        'password = "password"\n',
        'FIELD = {"password": "password"}\n',
        'secret = "secret"\n',
        'token = "token"\n',
        'header_token = "Authorization"\n',
        'API_KEY = "X-API-Key"\n',
        'ACCESS_TOKEN = "access_token"\n',
        'CSRF_TOKEN = "csrfmiddlewaretoken"\n',
        'SCHEMA = {"password": "string"}\n',
        'render(input_type="password", password="hidden")\n',
        'token = {"token": "jwt"}\n',
    ],
)
def test_pys102_never_flags_known_non_secret_words(code: str) -> None:
    assert only(code, "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'ERRORS = {"password": "Invalid password"}\n',  # messages and labels
        'ERRORS = {"password": "This field is required."}\n',
        'LABELS = {"password": "Password:"}\n',
        'PRIVATE_KEY = "keys/private.pem"\n',  # a file holding the secret
        'SECRET = "/run/secrets/app_secret"\n',
        'CLIENT_SECRET = "client_secret.json"\n',
        'hashed_password = "pbkdf2_sha256$600000$salt$hash="\n',  # a stored hash
        'password = "$2b$12$KIXQ5PZ1s1LQY8aWQ0aS1e"\n',
        'API_KEY = "OPENAI_API_KEY"\n',  # the name of the variable holding it
        'TOKEN = "https://example.com/token"\n',  # a URL without credentials
    ],
)
def test_pys102_never_flags_values_that_cannot_be_the_secret(code: str) -> None:
    assert only(code, "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'next_token = "0"\n_token = "e"\nPASSWORD = "pw"\n',  # too short to be a secret
        'PAGINATION = {"input_token": "next_token", "output_token": "NextToken"}\n',
        'SECRET_KEY = "AWSSecretKey"\nAPI_KEY = "aws_secret_access_key"\n',  # field names
        'identifier_token = r"[^\\W\\d]\\w*"\n',  # a regular expression
        'SEMICOLON_TOKEN = ";"\nARROW_TOKEN = "=>"\n',  # lexer punctuation
        'TOKEN = "IDENT"\nEOF_TOKEN = "EOF"\n',  # token kinds
        'pad_token = "[PAD]"\neos_token = "</s>"\nbos_token = "<|endoftext|>"\n',  # ML tokens
        'HASHES = {"AWS::SecretsManager::Secret": "c85175a4ebcce361"}\n',  # not a field name
        'PROMPTS = {"Enter your password": "k3y-v4lue"}\n',
        'api_key = "\\N{KEY}"\n',
    ],
)
def test_pys102_never_flags_tokens_that_are_not_credentials(code: str) -> None:
    assert only(code, "PYS102") == []


def test_pys102_reads_values_with_invalid_escapes() -> None:
    assert lines_of('PASSWORD = "hunter\\q2"\n', "PYS102") == [1]


def test_pys102_never_flags_enum_members() -> None:
    code = """\
        from enum import Enum
        from django.db import models


        class Grant(str, Enum):
            PASSWORD = "pw"
            TOKEN = "tok"


        class Kind(models.TextChoices):
            API_KEY = "ak", "API key"
        """
    assert only(code, "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'DSN = "postgres://user:password@localhost/db"\n',
        'DSN = "postgres://user:pass@localhost/db"\n',
        'DSN = "postgres://user:${DB_PASSWORD}@db/app"\n',
        'DSN = "postgres://user:<password>@db/app"\n',
        'DSN = "postgres://%s:%s@%s/%s"\n',
        'DSN = "postgres://{}:{}@{}/{}"\n',
        'DSN = "postgres://{user}:{password}@{host}/db"\n',
        'DSN = f"postgres://{user}:{password}@{host}/db"\n',
        'DSN = "postgres://user:***@db/app"\n',
        'DSN = "postgres://app@db/app"\n',
        'DSN = "https://github.com/org/repo"\n',
        'EMAIL = "mailto:someone@example.com"\n',
        'def connect():\n    """Connect to postgres://user:s3cr3t@host/db (an example)."""\n',
    ],
)
def test_pys102_never_flags_urls_without_real_credentials(code: str) -> None:
    assert only(code, "PYS102") == []


def test_pys102_prefilter_is_case_insensitive_and_cheap() -> None:
    def applies(source: str) -> bool:
        return HardcodedSecret.applies(FileContext("app.py", source, None))

    for source in ('ApiKey = "x"', 'PASSWD = "x"', 'apikey = "x"', 'privateKey = "x"',
                   'Secret = "x"', 'u = "redis://:p@h"', 'H = {"X-API-Key": "x"}',
                   'API_KEY = "x"', 'RSA_PRIVATE_KEY = "x"', 'AuthToken = "x"'):
        assert applies(source), source
    assert not applies('name = "value"\ncount = 3\n')


# == PYS102: test files flag only values that look real =================================


@pytest.mark.parametrize(
    "value",
    [
        "secret", "test", "dummy", "fake-api-key-value", "hunter2", "s3cr3t", "password123",
        "test-token-0123456789abcdef", "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        "django-insecure-8f7a6s5d4f3g2h1j0k9l8m7n6", "correcthorsebatterystaple",
        "CorrectHorseBatteryStaple", "user1234567890abcdefgh", "ghp_fake0123456789abcdef",
    ],
)
def test_pys102_test_files_skip_test_looking_values(value: str) -> None:
    code = f'API_TOKEN = "{value}"\nclient.login(username="u", password="{value}")\n'
    assert only(code, "PYS102", TEST_PATH) == []


@pytest.mark.parametrize(
    "value",
    [
        "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue",
        "github_pat_11ABCDEFG0aBcDeFgHiJkL_mNoPqRsTuVwXyZ",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "AKIAIOSFODNN7EXAMPL3",
        "xoxb-1234567890-abcdefghij",
        "9f8a7c6b5d4e3f2a1b0c9d8e7f6a5b4c",
        "Kx7mP2qR9vT4wY8zB3nF6hJ1",
    ],
)
def test_pys102_test_files_flag_real_looking_values(value: str) -> None:
    assert looks_real(value)
    assert lines_of(f'API_TOKEN = "{value}"\n', "PYS102", TEST_PATH) == [1]


@pytest.mark.parametrize("path", ["tests/test_api.py", "app/api_test.py", "conftest.py",
                                  "tests/factories.py"])
def test_pys102_runs_on_every_kind_of_test_file(path: str) -> None:
    code = 'TOKEN = "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue"\nPASSWORD = "hunter2"\n'
    assert lines_of(code, "PYS102", path) == [1]


def test_pys102_test_files_flag_urls_only_with_real_looking_passwords() -> None:
    code = """\
        LOCAL = "postgres://app:s3cret@localhost/test"
        PROD = "postgres://app:Kx7mP2qR9vT4wY8zB3nF6hJ1@db.prod.internal/app"
        """
    assert lines_of(code, "PYS102", TEST_PATH) == [2]


# == PYS102: fix ========================================================================


def test_pys102_fix_module_level_name_reads_the_environment() -> None:
    code = 'DEBUG = False\nSECRET_KEY = "d8f7a6s5d4f3"\n'
    assert fix_of(code, "PYS102") == (
        'import os\nDEBUG = False\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
    )


def test_pys102_fix_keeps_an_existing_os_import() -> None:
    code = """\
        \"\"\"Settings.\"\"\"
        import os

        SECRET_KEY = "d8f7a6s5d4f3"
        """
    assert fix_of(code, "PYS102") == (
        '"""Settings."""\nimport os\n\nSECRET_KEY = os.environ["SECRET_KEY"]\n'
    )


def test_pys102_fix_class_attribute() -> None:
    code = """\
        class Config:
            SECRET_KEY = "d8f7a6s5d4f3"
        """
    new = fix_of(code, "PYS102")
    assert new.startswith("import os\n")
    assert '    SECRET_KEY = os.environ["SECRET_KEY"]\n' in new


@pytest.mark.parametrize(
    ("name", "env"), [("db_password", "DB_PASSWORD"), ("apiKey", "API_KEY")]
)
def test_pys102_fix_names_the_variable_in_upper_snake_case(name: str, env: str) -> None:
    assert f'{name} = os.environ["{env}"]' in fix_of(f'{name} = "hunter2"\n', "PYS102")


@pytest.mark.parametrize(
    "code",
    [
        'def connect():\n    password = "hunter2"\n',  # inside a function
        'CREDENTIALS = {"password": "hunter2"}\n',
        'connect(password="hunter2")\n',
        'settings.SECRET_KEY = "d8f7a6s5d4f3"\n',
        'config["SECRET_KEY"] = "d8f7a6s5d4f3"\n',
        'SECRET_KEY: str = "d8f7a6s5d4f3"\n',
        'A = SECRET_KEY = "d8f7a6s5d4f3"\n',
        'SECRET_KEY = b"d8f7a6s5d4f3"\n',
        'DATABASE_URL = "postgres://app:s3cr3t@db/app"\n',
    ],
)
def test_pys102_no_fix_outside_simple_name_assignments(code: str) -> None:
    no_fix(code, "PYS102")


def test_pys102_no_fix_in_test_files() -> None:
    no_fix('TOKEN = "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue"\n', "PYS102", TEST_PATH)


# == PYS105 sql-string-building: flags ==================================================


@pytest.mark.parametrize(
    ("sql", "how"),
    [
        ('f"SELECT * FROM users WHERE id = {uid}"', "an f-string"),
        ('"SELECT * FROM users WHERE id = {}".format(uid)', "`.format()`"),
        ('"SELECT * FROM users WHERE id = {id}".format(id=uid)', "`.format()`"),
        ('"SELECT * FROM users WHERE id = %s" % uid', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = %s" % (uid,)', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = %(id)s" % {"id": uid}', "`%` formatting"),
        ('"SELECT * FROM users WHERE id = " + str(uid)', "`+` concatenation"),
        ('"SELECT * FROM users WHERE id = " + uid + " LIMIT 1"', "`+` concatenation"),
        ('"SELECT * FROM users " f"WHERE id = {uid}"', "an f-string"),
    ],
)
def test_pys105_flags_each_way_of_building_sql(sql: str, how: str) -> None:
    code = f"def find(cursor, uid):\n    cursor.execute({sql})\n"
    finding = one(code, "PYS105")
    assert finding.line == 2
    assert how in finding.message and "`cursor.execute`" in finding.message


@pytest.mark.parametrize(
    "call",
    [
        'cursor.execute(f"DELETE FROM t WHERE id = {x}")',
        'cursor.executemany(f"INSERT INTO {x} VALUES (%s)", rows)',
        'cursor.execute(sql=f"DELETE FROM t WHERE id = {x}")',
        'self.cursor.execute(f"DELETE FROM t WHERE id = {x}")',
        'connection.cursor().execute(f"DELETE FROM t WHERE id = {x}")',
        'conn.execute(f"DELETE FROM t WHERE id = {x}")',
        'connection.execute(f"DELETE FROM t WHERE id = {x}")',
        'session.execute(f"DELETE FROM t WHERE id = {x}")',
        'db.session.execute(f"DELETE FROM t WHERE id = {x}")',
        'get_db().execute(f"DELETE FROM t WHERE id = {x}")',
        'await conn.execute(f"DELETE FROM t WHERE id = {x}")',
    ],
)
def test_pys105_flags_database_execute_calls(call: str) -> None:
    code = f"async def run(cursor, conn, connection, session, db, self, x, rows):\n    {call}\n"
    assert lines_of(code, "PYS105") == [2]


def test_pys105_flags_any_execute_in_a_module_using_a_database_library() -> None:
    code = """\
        import sqlite3


        def find(c, name):
            c.execute(f"select * from users where name = '{name}'")
        """
    assert lines_of(code, "PYS105") == [5]


def test_pys105_flags_django_cursor_from_django_db() -> None:
    code = """\
        from django.db import connection


        def find(name):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM auth_user WHERE username = '%s'" % name)
                return cursor.fetchall()
        """
    assert lines_of(code, "PYS105") == [6]


def test_pys105_flags_model_objects_raw() -> None:
    code = """\
        from app.models import User


        def find(name):
            a = User.objects.raw(f"SELECT * FROM app_user WHERE name = '{name}'")
            b = User.objects.using("replica").raw("SELECT * FROM app_user WHERE id = " + name)
            c = User._default_manager.raw(raw_query="SELECT %s" % name)
            return a, b, c
        """
    assert lines_of(code, "PYS105") == [5, 6, 7]


def test_pys105_flags_rawsql() -> None:
    code = """\
        from django.db.models import expressions
        from django.db.models.expressions import RawSQL


        def annotate(qs, col):
            qs = qs.annotate(v=RawSQL(f"SELECT {col} FROM t", ()))
            return qs.annotate(w=expressions.RawSQL(sql="SELECT %s" % col, params=()))
        """
    assert lines_of(code, "PYS105") == [6, 7]


def test_pys105_flags_extra_where_and_select() -> None:
    code = """\
        from app.models import Entry


        def search(term, col):
            return Entry.objects.filter(live=True).extra(
                where=[f"headline LIKE '%{term}%'", "live = 1"],
                select={"n": "SELECT count(*) FROM t WHERE c = " + col, "one": "1"},
            )
        """
    assert lines_of(code, "PYS105") == [6, 7]


def test_pys105_flags_extra_on_a_queryset_variable_in_a_django_module() -> None:
    code = """\
        from django.db import models


        def search(qs, term):
            return qs.extra(where=["headline = '%s'" % term])
        """
    assert lines_of(code, "PYS105") == [5]


@pytest.mark.parametrize(
    ("imports", "call"),
    [
        ("from sqlalchemy import text", 'text(f"SELECT * FROM t WHERE id = {x}")'),
        ("import sqlalchemy as sa", 'sa.text("SELECT * FROM t WHERE id = " + x)'),
        ("from sqlalchemy.sql import text as sql_text", 'sql_text("SELECT %s" % x)'),
        ("import sqlalchemy", 'sqlalchemy.sql.expression.text("SELECT {}".format(x))'),
        ("from sqlmodel import text", 'text(f"SELECT {x}")'),
    ],
)
def test_pys105_flags_sqlalchemy_text(imports: str, call: str) -> None:
    code = f"{imports}\n\n\ndef run(session, x):\n    return session.execute({call})\n"
    finding = one(code, "PYS105")
    assert finding.line == 5 and "`text()`" in finding.message


def test_pys105_flags_a_name_built_earlier_in_the_function() -> None:
    code = """\
        def find(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            cursor.execute(sql)
        """
    finding = one(code, "PYS105")
    assert finding.line == 3
    assert "an f-string (in `sql`)" in finding.message


def test_pys105_flags_names_built_by_augmented_concatenation() -> None:
    code = """\
        def find(cursor, uid, name):
            sql = "SELECT * FROM users WHERE 1 = 1"
            if uid:
                sql += f" AND id = {uid}"
            cursor.execute(sql)

        def search(cursor, name):
            query = "SELECT * FROM users WHERE name = "
            query += name
            cursor.execute(query)
        """
    assert lines_of(code, "PYS105") == [5, 10]


def test_pys105_flags_names_through_copies_and_keyword_sql() -> None:
    code = """\
        def find(cursor, uid):
            base = "SELECT * FROM users WHERE id = %s" % uid
            sql = base
            cursor.execute(sql=sql)
        """
    assert lines_of(code, "PYS105") == [4]


# == PYS105: never flags ================================================================


@pytest.mark.parametrize(
    "call",
    [
        'cursor.execute("SELECT * FROM users")',
        'cursor.execute("SELECT * FROM users "\n                   "WHERE active")',
        'cursor.execute(f"SELECT * FROM users")',
        'cursor.execute("SELECT * FROM users WHERE id = %s", (uid,))',
        'cursor.execute("SELECT * FROM users WHERE id = %(id)s", {"id": uid})',
        'cursor.executemany("INSERT INTO t VALUES (%s, %s)", rows)',
        'cursor.execute(sql="SELECT 1")',
        'cursor.execute("SELECT * FROM users LIMIT %d" % 10)',
        'cursor.execute("SELECT %s, %s" % ("a", 1))',
        'cursor.execute("SELECT %(n)s" % {"n": 1})',
        'cursor.execute("SELECT {} FROM t".format("id"))',
        'cursor.execute("SELECT * FROM users " + "WHERE active")',
        'User.objects.raw("SELECT * FROM app_user WHERE id = %s", [uid])',
        'User.objects.raw(f"SELECT * FROM app_user")',
    ],
)
def test_pys105_never_flags_literal_or_parameterized_sql(call: str) -> None:
    code = f"def find(cursor, uid, rows, User):\n    {call}\n"
    assert only(code, "PYS105") == []


@pytest.mark.parametrize(
    "body",
    [
        # UPPER_CASE constants, numbers and quoted identifiers cannot carry SQL
        'cursor.execute(f"SELECT * FROM {TABLE} WHERE id = %s", (uid,))',
        'cursor.execute("SELECT * FROM " + TABLE + " WHERE id = %s", (uid,))',
        'cursor.execute(f"SELECT * FROM {settings.USERS_TABLE}")',
        'cursor.execute(f"SELECT * FROM {User._meta.db_table} WHERE id = %s", [uid])',
        'cursor.execute(f"SELECT * FROM users LIMIT {int(limit)}")',
        'cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")',
        # placeholder lists for IN (...)
        'cursor.execute(f"SELECT * FROM t WHERE id IN ({\', \'.join([\'%s\'] * len(ids))})", ids)',
        'cursor.execute("SELECT * FROM t WHERE id IN (" + ",".join("%s" for _ in ids) + ")", ids)',
        # psycopg's safe composition
        'cursor.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table)))',
    ],
)
def test_pys105_never_flags_values_that_cannot_carry_sql(body: str) -> None:
    code = f"TABLE = 'users'\n\n\ndef find(cursor, uid, limit, ids, table, connection):\n    {body}\n"
    assert only(code, "PYS105") == []


def test_pys105_never_flags_local_literals_and_placeholder_lists() -> None:
    code = """\
        def find(cursor, ids, active):
            base = "SELECT * FROM users"
            marks = ", ".join(["%s"] * len(ids))
            sql = f"{base} WHERE id IN ({marks})"
            if active:
                sql += " AND active"
            cursor.execute(sql, ids)
        """
    assert only(code, "PYS105") == []


@pytest.mark.parametrize(
    "code",
    [
        # not a database: no DB-looking receiver and no database import
        'def run(executor, job):\n    executor.execute(f"job-{job}")\n',
        'def run(self, x):\n    self.execute(f"SELECT {x}")\n',
        # a database import, but the text is not SQL (GraphQL)
        'import sqlite3\n\ndef run(schema, uid):\n    schema.execute(f"query {{ user(id: {uid}) {{ name }} }}")\n',
        # not sqlalchemy's text(), not a manager's raw()
        'from app.i18n import text\n\ndef f(x):\n    return text(f"SELECT {x}")\n',
        'def f(image, x):\n    return image.raw(f"SELECT {x}")\n',
        'def f(df, x):\n    return df.extra(where=[f"a = {x}"])\n',
        # two unknown names: nothing says either holds values
        'def run(cursor, query, where):\n    cursor.execute(query + where)\n',
        'def run(cursor, query, params):\n    cursor.execute(query % params)\n',
    ],
)
def test_pys105_never_flags_other_executes_and_unknown_strings(code: str) -> None:
    assert only(code, "PYS105") == []


def test_pys105_name_tracking_follows_rebinding_and_scopes() -> None:
    code = """\
        def build(uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            return sql

        def run(cursor, queries):
            cursor.execute(sql)

        def rebound(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            sql = "SELECT * FROM users"
            cursor.execute(sql)

        def looped(cursor, uid, queries):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            for sql in queries:
                cursor.execute(sql)

        def unpacked(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            sql, params = build_query(uid)
            cursor.execute(sql, params)

        def walrus(cursor, uid):
            sql = f"SELECT * FROM users WHERE id = {uid}"
            if (sql := load_query("by_id")):
                cursor.execute(sql, (uid,))
        """
    assert only(code, "PYS105") == []


def test_pys105_flags_a_name_bound_by_walrus() -> None:
    code = """\
        def find(cursor, uid):
            if (sql := f"SELECT * FROM users WHERE id = {uid}"):
                cursor.execute(sql)
        """
    assert lines_of(code, "PYS105") == [3]


def test_pys105_skips_test_files() -> None:
    code = 'def test_it(cursor, x):\n    cursor.execute(f"SELECT {x}")\n'
    assert only(code, "PYS105", TEST_PATH) == []


def test_pys105_prefilter() -> None:
    assert "execute" in SqlStringBuilding.requires
    assert only('def f(x):\n    return f"SELECT * FROM t WHERE id = {x}"\n', "PYS105") == []


# == PYS105: fix ========================================================================


def test_pys105_fix_simple_f_string_becomes_parameters() -> None:
    code = """\
        def find(cursor, uid):
            cursor.execute(f"SELECT * FROM users WHERE id = {uid}")
        """
    assert fix_of(code, "PYS105") == (
        "def find(cursor, uid):\n"
        '    cursor.execute("SELECT * FROM users WHERE id = %s", (uid,))\n'
    )


def test_pys105_fix_drops_quotes_around_placeholders() -> None:
    code = """\
        def rename(cursor, user, name):
            cursor.execute(f"UPDATE users SET name = '{name}' WHERE id = {user.id}")
        """
    assert '"UPDATE users SET name = %s WHERE id = %s", (name, user.id)' in fix_of(
        code, "PYS105"
    )


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('f"SELECT * FROM t WHERE a = {row[\'a\']} AND b <= {b}"',
         '"SELECT * FROM t WHERE a = %s AND b <= %s", (row[\'a\'], b)'),
        ('f"SELECT * FROM t WHERE name LIKE {pattern} LIMIT {n} OFFSET {m}"',
         '"SELECT * FROM t WHERE name LIKE %s LIMIT %s OFFSET %s", (pattern, n, m)'),
        ('f"SELECT \'{{}}\'::json FROM t WHERE id={uid}"',
         '"SELECT \'{}\'::json FROM t WHERE id=%s", (uid,)'),
        ("f'SELECT * FROM t WHERE id = {uid}'", "'SELECT * FROM t WHERE id = %s', (uid,)"),
        ('F"""SELECT *\n        FROM t\n        WHERE id = {uid}"""',
         '"""SELECT *\n        FROM t\n        WHERE id = %s""", (uid,)'),
    ],
)
def test_pys105_fix_variants(sql: str, expected: str) -> None:
    code = f"def find(cursor, uid, row, b, pattern, n, m):\n    cursor.execute({sql})\n"
    assert f"cursor.execute({expected})" in fix_of(code, "PYS105")


def test_pys105_fix_keeps_a_multi_line_call_layout() -> None:
    code = """\
        def find(cursor, uid):
            cursor.execute(
                f"SELECT * FROM users WHERE id = {uid}",
            )
        """
    assert '        "SELECT * FROM users WHERE id = %s", (uid,),\n    )\n' in fix_of(code, "PYS105")


@pytest.mark.parametrize(
    ("imports", "receiver", "mark"),
    [
        ("import sqlite3", "conn", "?"),
        ("import sqlite3", "db", "?"),
        ("import aiosqlite", "cursor", "?"),
        ("import psycopg2", "conn", "%s"),
        ("from django.db import connection", "cursor", "%s"),
        ("import pymysql", "connection", "%s"),
    ],
)
def test_pys105_fix_uses_the_driver_paramstyle(imports: str, receiver: str, mark: str) -> None:
    code = (f"{imports}\n\n\ndef find({receiver}, uid):\n"
            f'    {receiver}.execute(f"SELECT * FROM t WHERE id = {{uid}}")\n')
    assert f'{receiver}.execute("SELECT * FROM t WHERE id = {mark}", (uid,))' in fix_of(
        code, "PYS105"
    )


@pytest.mark.parametrize(
    "call",
    [
        # format spec, conversion, debug `=`, a call in the placeholder
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid:d}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid!r}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid=}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid.strip()}")',
        # an identifier position, not a value
        'cursor.execute(f"SELECT * FROM {table}")',
        'cursor.execute(f"SELECT * FROM t ORDER BY {column}")',
        'cursor.execute(f"SELECT * FROM t WHERE id = {schema}.id")',
        'cursor.execute(f"SELECT * FROM t WHERE id IN ({ids})")',
        # inside a longer SQL string, or partly quoted
        "cursor.execute(f\"SELECT * FROM t WHERE name = 'Mr {name}'\")",
        "cursor.execute(f\"SELECT * FROM t WHERE name = '{first} {name}'\")",
        'cursor.execute(f"SELECT * FROM t WHERE name = \\"{name}\\"")',
        # a literal % in the SQL
        "cursor.execute(f\"SELECT * FROM t WHERE name LIKE '%{name}%'\")",
        "cursor.execute(f\"SELECT * FROM t WHERE a LIKE 'x%' AND id = {uid}\")",
        # not a plain single-argument f-string execute
        'cursor.execute(f"SELECT * FROM t WHERE id = {uid}", ())',
        'cursor.executemany(f"INSERT INTO t VALUES ({uid})", rows)',
        'cursor.execute(rf"SELECT * FROM t WHERE id = {uid}")',
        'cursor.execute("SELECT * FROM t WHERE id = " + uid)',
        'cursor.execute("SELECT * FROM t WHERE id = {}".format(uid))',
    ],
)
def test_pys105_no_fix_when_the_rewrite_is_not_safe(call: str) -> None:
    code = f"def find(cursor, uid, table, column, schema, ids, name, first, rows):\n    {call}\n"
    no_fix(code, "PYS105")


@pytest.mark.parametrize(
    "code",
    [
        # a name built earlier: the suggestion only rewrites the call line
        'def f(cursor, uid):\n    sql = f"SELECT {uid}"\n    cursor.execute(sql)\n',
        # ORM sessions and engines are not DB-API
        'from sqlalchemy.orm import Session\n\ndef f(session, uid):\n'
        '    session.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        'import psycopg2\n\ndef f(engine, uid):\n'
        '    engine.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # asyncpg numbers its parameters ($1)
        'import asyncpg\n\nasync def f(conn, uid):\n'
        '    await conn.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # the paramstyle is unknown: a connection of an unnamed driver
        'def f(db, uid):\n    db.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # two paramstyles in one module
        'import sqlite3\nimport psycopg2\n\ndef f(cursor, uid):\n'
        '    cursor.execute(f"SELECT * FROM t WHERE id = {uid}")\n',
        # a literal ? under the qmark paramstyle
        "import sqlite3\n\ndef f(cursor, uid):\n"
        "    cursor.execute(f\"SELECT '?' FROM t WHERE id = {uid}\")\n",
    ],
)
def test_pys105_no_fix_for_other_receivers_or_paramstyles(code: str) -> None:
    no_fix(code, "PYS105")


def test_url_credentials_in_multiline_prose_are_not_flagged():
    code = (
        'HELP = """\n'
        "Connect with a URL such as postgres://app:hunter2@db.internal/app\n"
        'and never commit it.\n"""\n'
    )
    assert codes(code, select="PYS102") == []
    assert codes('DSN = "postgres://app:hunter2@db.internal/app"\n', select="PYS102") == [
        ("PYS102", 1)]
