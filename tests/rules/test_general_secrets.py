"""PYS102 hardcoded-secret: every flags / never-flags item and the fix of its RULES.md
row, plus the precision calls the rule makes."""

from __future__ import annotations

import pytest

from pystd.rules.context import FileContext
from pystd.rules.general import (
    HardcodedSecret,
    identifier_words,
    is_secret_name,
    looks_real,
)
from tests.rules.lint import codes, fix_of, fixed, lines_of, lint, no_fix, one, only

TEST_PATH = "tests/test_api.py"



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


def test_pys102_never_flags_rate_limits() -> None:
    """Survey (django-allauth 65.21.1): rate limits keyed by the action they limit."""
    code = """\
        RATE_LIMITS = {
            "change_password": "5/m/user",
            "reset_password": "20/m/ip,5/m/key",
            "login_token": "10 per minute;1000/hour",
        }
        THROTTLE_RATES = {"token": "100/day", "password": "10/5m"}
        """
    assert only(code, "PYS102", "allauth/account/app_settings.py") == []


@pytest.mark.parametrize("value", ["test", "Test", "dummy", "fake", "demo", "testing"])
def test_pys102_never_flags_sample_data_stand_ins(value: str) -> None:
    """Survey (flaskbb 2.0.2, `utils/populate.py`): `User(username=..., password="test")`
    creates sample users; the word is a stand-in, not a credential."""
    code = f'def create_test_data():\n    User(username="test1", password="{value}")\n'
    assert only(code, "PYS102", "flaskbb/utils/populate.py") == []


@pytest.mark.parametrize("call", [
    # survey, pretix 2026.8.0 `base/services/placeholders.py`: sample URLs for previews
    "eventreverse_absolute(event, 'presale:event.order.open', kwargs={'order': 'F8VVL', "
    "'secret': '6zzjnumtsx136ddy', 'hash': '98kusd8ofsj8dnkd'})",
    "reverse('password_reset_confirm', kwargs={'uidb64': uid, 'token': 'set-password'})",
    "reverse_lazy('order', kwargs={'secret': 'k3y-v4lue'})",
    "url_for('reset', token='set-password')",
    "request.url_for('order', secret='6zzjnumtsx136ddy')",
])
def test_pys102_never_flags_the_parts_of_a_url_being_built(call: str) -> None:
    assert only(f"def sample(event, uid, request):\n    return {call}\n", "PYS102") == []


@pytest.mark.parametrize("code", [
    "connect(password='hunter2', kwargs={'secret': 'k3y-v4lue'})\n",
    "reverse('order', args=[{'secret': 'k3y-v4lue'}])\n",  # not the URL's kwargs
    "client.get(url, headers={'X-API-Key': 'k3y-v4lue'})\n",
])
def test_pys102_still_flags_arguments_of_other_calls(code: str) -> None:
    assert len(only(code, "PYS102")) >= 1


@pytest.mark.parametrize("value", ["test-s3cr3t", "5/m/user-k3y", "20/m/ip,hunter2",
                                   "demo1234", "10 per fortnight"])
def test_pys102_still_flags_values_that_only_start_like_a_stand_in(value: str) -> None:
    assert lines_of(f'PASSWORD = "{value}"\n', "PYS102") == [1]


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


def test_pys102_fix_class_attribute_reads_the_environment_without_raising() -> None:
    """Config classes share a module (`DevConfig`, `ProdConfig`): a required read in one
    would raise at import for all of them."""
    code = """\
        class Config:
            SECRET_KEY = "d8f7a6s5d4f3"
        """
    new = fix_of(code, "PYS102")
    assert new.startswith("import os\n")
    assert '    SECRET_KEY = os.environ.get("SECRET_KEY")\n' in new


@pytest.mark.parametrize(
    ("code", "line"),
    [
        ('import os\nif os.environ.get("DEBUG"):\n    SECRET_KEY = "d8f7a6s5d4f3"\n', 3),
        ('SECRET_KEY = "d8f7a6s5d4f3"\nSECRET_KEY = os.getenv("SECRET_KEY", SECRET_KEY)\n', 1),
        ('try:\n    from .local import *\nexcept ImportError:\n'
         '    API_TOKEN = "t0k3n-v4lue-9"\n', 4),
    ],
)
def test_pys102_fix_of_a_default_never_raises_at_import(code: str, line: int) -> None:
    [finding] = only(code, "PYS102")
    assert finding.line == line
    new = fixed(code, finding)
    assert 'os.environ.get("' in new
    assert 'os.environ["' not in new
    assert only(new, "PYS102") == []


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



def test_url_credentials_in_multiline_prose_are_not_flagged():
    code = (
        'HELP = """\n'
        "Connect with a URL such as postgres://app:hunter2@db.internal/app\n"
        'and never commit it.\n"""\n'
    )
    assert codes(code, select="PYS102") == []
    assert codes('DSN = "postgres://app:hunter2@db.internal/app"\n', select="PYS102") == [
        ("PYS102", 1)]


@pytest.mark.parametrize(
    "code",
    [
        # Pydantic and OpenAPI examples document the API (prefect, fastapi-users).
        'value = Field(default=..., examples=["sk-1234567890", {"username": "j", '
        '"password": "s3cr3tpass"}])\n',
        'RESPONSES = {200: {"content": {"application/json": {"example": {'
        '"access_token": "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9"}}}}}\n',
        'body = Body(openapi_examples={"ok": {"value": {"password": "hunter2hunter2"}}})\n',
    ],
)
def test_pys102_never_flags_documented_examples(code: str) -> None:
    assert lines_of(code, "PYS102") == []


def test_pys102_never_flags_a_translation_catalog() -> None:
    code = ('CY = {\n    "New value": "Gwerth newydd",\n    "No results found": "Heb ganfod",\n'
            '    "Password": "Cyfrinair",\n    "of": "o",\n    "Save changes": "Cadw",\n'
            '    "Submit": "Cyflwyno",\n    "Tables": "Tablau",\n    "Version": "Fersiwn",\n}\n')
    assert lines_of(code, "PYS102") == []


@pytest.mark.parametrize(
    ("code", "line"),
    [
        # A dict of settings with one phrase-like key is no catalog; a variable named
        # `example`, or a call that also passes `examples=`, is no documented example.
        ('CONFIG = {\n    "password": "hunter2hunter2",\n    "display name": "x",\n}\n', 2),
        ('CONFIG = {"password": "hunter2hunter2", "a b": 1, "c d": 2, "e f": 3, "g": 4,\n'
         '          "h": 5, "i": 6, "j": 7, "k": 8, "l": 9, "m": 10, "n": 11, "o": 12}\n', 1),
        ('example = {"password": "hunter2hunter2"}\n', 1),
        ('def connect():\n    return make(examples=1, password="hunter2hunter2")\n', 2),
    ],
)
def test_pys102_still_flags_secrets_next_to_those(code: str, line: int) -> None:
    assert lines_of(code, "PYS102") == [line]


def test_pys102_never_flags_keys_their_vendor_documents_as_public() -> None:
    """Survey (fief-server 0.27.0, `services/posthog.py:14`: `POSTHOG_API_KEY = "phc_..."`,
    a PostHog project key, write-only and meant for browsers)."""
    code = ('POSTHOG_API_KEY = "phc_OcwKamvVT5QCgASAkv6Sk1vnvBCovXCDKJPukNApioW"\n'
            'STRIPE_API_KEY = "pk_live_51Hh2kLxQ8vT3mN7pR4sW9yZ"\n'
            'stripe_api_key = "pk_test_51Hh2kLxQ8vT3mN7pR4sW9yZ"\n')
    assert only(code, "PYS102") == []


def test_pys102_still_flags_the_secret_keys_of_those_vendors() -> None:
    code = ('POSTHOG_API_KEY = "phx_OcwKamvVT5QCgASAkv6Sk1vnvBCovXCDKJPukNApioW"\n'
            'STRIPE_API_KEY = "sk_live_51Hh2kLxQ8vT3mN7pR4sW9yZ"\n')
    assert lines_of(code, "PYS102") == [1, 2]


DEMO_LOGIN = ('USERNAME = "piccolo"\nPASSWORD = "piccolo123"\n\n\n'
              'def populate():\n'
              '    User(username="john", password="john123", admin=True).save()\n')


@pytest.mark.parametrize("path", ["piccolo_admin/example/tables.py", "examples/app.py",
                                  "demo/seed.py", "src/demos/shop/users.py"])
def test_pys102_example_code_is_held_to_the_test_file_standard(path: str) -> None:
    """Survey (piccolo-admin 1.14.0, `example/tables.py:52, 369`): the demo app's logins
    (piccolo/piccolo123, john/john123) are published stand-ins; only a real-looking
    credential is flagged there, as in test files."""
    assert only(DEMO_LOGIN, "PYS102", path) == []
    real = 'GITHUB_TOKEN = "ghp_4Yb7Qm2Lx9Tz6Wc1Vn8Rk3Ps5Hd0Jf7Ga2Ue"\n'
    assert lines_of(real, "PYS102", path) == [1]
    url = 'DATABASE_URL = "postgres://app:s3cr3t@db/app"\n'
    assert only(url, "PYS102", path) == []


@pytest.mark.parametrize("path", ["app/tables.py", "example.py", "examples_api/tables.py"])
def test_pys102_still_flags_demo_looking_logins_outside_example_folders(path: str) -> None:
    assert lines_of(DEMO_LOGIN, "PYS102", path) == [2, 6]


# == PYS102: descriptions and configuration keys are not secrets =========================


@pytest.mark.parametrize(
    "code",
    [
        'FIELDS = {"password": "ClickHouse Cloud password"}\n',
        'FIELDS = {"api_key": "Stripe API key"}\n',
        'Option(name="token", api_token="GitLab personal access token")\n',
        'ENV_KEYS = {"OPENAI_API_KEY": "audio.tts.openai.api_key"}\n',
        'SETTINGS = {"password": "services.clickhouse.password"}\n',
        'ENV = {"secret_key": "DJANGO_SECRET_KEY"}\n',
    ],
)
def test_pys102_never_flags_descriptions_or_configuration_keys(code: str) -> None:
    assert lines_of(code, "PYS102") == []


@pytest.mark.parametrize(
    "code",
    [
        'app.secret_key = "super secret key"\n',  # Flask's tutorial passphrase
        'PASSWORD = "correct horse battery staple"\n',
        'FIELDS = {"password": "Hunter2 Hunter3"}\n',
        'TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.SflKxwRJSMeKKF2QT4fwpMeJf36"\n',
    ],
)
def test_pys102_still_flags_secrets_that_look_like_those(code: str) -> None:
    assert lines_of(code, "PYS102") == [1]


# -- what the default selection leaves out ----------------------------------------------------

def default_lines(code: str, path: str = "app.py") -> list[int]:
    return [f.line for f in lint(code, path, select="DEFAULT") if f.code == "PYS102"]


def test_pys102_rows_of_sample_data_are_not_credentials() -> None:
    # pretix's placeholder previews: one "secret" per sample order.
    code = """\
        SAMPLES = [
            {"code": "F8VVL", "secret": "6zzjnumtsx136ddy", "hash": "abcdefghi"},
            {"code": "HIDHK", "secret": "98kusd8ofsj8dnkd", "hash": "jklmnopqr"},
        ]
        ONE = [{"code": "F8VVL", "secret": "6zzjnumtsx136ddy"}]
        """
    assert lines_of(code, "PYS102") == [5]


@pytest.mark.parametrize("value", ["reallyhardtoguess", "build-time-secret-key",
                                   "super secret key"])
def test_pys102_a_phrase_is_reported_only_when_the_rule_is_chosen(value: str) -> None:
    code = f'WTF_CSRF_SECRET_KEY = "{value}"\n'
    assert default_lines(code, "configs/default.py") == []
    assert lines_of(code, "PYS102", "configs/default.py") == [1]


def test_pys102_a_generated_value_is_reported_by_default() -> None:
    code = 'SECRET_KEY = "k9#2mQx!v7Lr0pZ8e4Tn"\n'
    assert default_lines(code, "mysite/settings.py") == [1]
