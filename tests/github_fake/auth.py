"""The GitHub App's key pair and GitHub's checks of an App JWT.

GitHub's rules for the JWT (docs "Generating a JSON Web Token (JWT) for a GitHub App"):
RS256, `iss` = the App's id (number or string), `exp` at most 10 minutes after now. Error
wording from real 401 answers: "'Expiration time' claim ('exp') is too far in the future"
(rocq-prover/bot#204), "... must be a numeric value representing the future time at which the
assertion expires" (sigmavirus24/github3.py#1050).
"""

from __future__ import annotations

import functools
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .rules import DOCS, GitHubError

MAX_JWT_LIFETIME = 10 * 60


@functools.cache
def app_private_key_pem() -> str:
    """One RSA key per test session (generating one takes tens of milliseconds)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def public_key_of(private_key_pem: str) -> Any:
    private = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
    return private.public_key()


def unauthorized(message: str) -> GitHubError:
    return GitHubError(401, {"message": message, "documentation_url": DOCS, "status": "401"})


def verify_app_jwt(token: str, public_key: Any, app_id: int, now: float) -> None:
    """Raise 401 unless `token` is a live JWT of this App signed with its key."""
    try:
        claims = jwt.decode(token, public_key, algorithms=["RS256"], options={
            "require": ["iat", "exp", "iss"], "verify_exp": False, "verify_iat": False,
            "verify_nbf": False})
    except jwt.PyJWTError as error:
        raise unauthorized("A JSON web token could not be decoded") from error
    if str(claims["iss"]) != str(app_id):
        raise unauthorized("A JSON web token could not be decoded")
    if not isinstance(claims["exp"], int | float) or claims["exp"] <= now:
        raise unauthorized("'Expiration time' claim ('exp') must be a numeric value "
                           "representing the future time at which the assertion expires")
    if claims["exp"] > now + MAX_JWT_LIFETIME:
        raise unauthorized("'Expiration time' claim ('exp') is too far in the future")
    if not isinstance(claims["iat"], int | float) or claims["iat"] > now + 60:
        raise unauthorized("'Issued at' claim ('iat') must be an Integer representing the "
                           "time that the assertion was issued")
