"""Keys, tokens and password hashes.

Access tokens are short-lived RS256 JWTs (PyJWT) carrying the user id (``sub``), the role and the
session (``sid``: the refresh-token family, so that logging out invalidates them at once). Refresh
tokens are opaque random strings; only their SHA-256 is stored. Passwords are hashed with Argon2id
(pwdlib), whose cost comes from the settings.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from promethium.api.errors import AuthenticationError
from promethium.api.settings import ApiSettings

__all__ = ["KeyPair", "PasswordHasher", "TokenService", "hash_refresh_token", "load_or_create_keys"]

PRIVATE_KEY_NAME = "jwt_private.pem"
PUBLIC_KEY_NAME = "jwt_public.pem"


@dataclass(frozen=True)
class KeyPair:
    """The parsed keys (parsing an RSA key costs ~0.1 s: done once, never per token)."""

    private_key: rsa.RSAPrivateKey
    public_key: rsa.RSAPublicKey
    public_pem: bytes
    kid: str


@lru_cache(maxsize=8)
def _pair(private_pem: bytes) -> KeyPair:
    key = serialization.load_pem_private_key(private_pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("the JWT signing key must be an RSA private key")
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return KeyPair(key, key.public_key(), public_pem, hashlib.sha256(public_pem).hexdigest()[:16])


def generate_private_key_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_or_create_keys(settings: ApiSettings) -> KeyPair:
    """The configured key, or the one in ``data_dir/keys`` (generated there, mode 0600, when absent)."""
    if settings.jwt_private_key_file is not None:
        return _pair(Path(settings.jwt_private_key_file).read_bytes())
    folder = settings.data_dir / "keys"
    private = folder / PRIVATE_KEY_NAME
    if not private.exists():
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        pem = generate_private_key_pem()
        tmp = folder / f".{PRIVATE_KEY_NAME}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
        try:
            os.link(tmp, private)  # atomic and never overwrites a key another worker just wrote
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        pair = _pair(private.read_bytes())
        (folder / PUBLIC_KEY_NAME).write_bytes(pair.public_pem)
        return pair
    return _pair(private.read_bytes())


class PasswordHasher:
    """Argon2id hashing with the configured cost, and a dummy hash to verify unknown users against."""

    def __init__(self, settings: ApiSettings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.argon2_time_cost,
                    memory_cost=settings.argon2_memory_cost_kib,
                    parallelism=settings.argon2_parallelism,
                ),
            )
        )
        self.dummy_hash = self._hash.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hash.hash(password)

    def verify(self, password: str, hashed: str | None) -> bool:
        """Verify ``password``; with ``hashed=None`` (no such user) the same work is done on a dummy."""
        try:
            ok = self._hash.verify(password, hashed or self.dummy_hash)
        except Exception:
            return False
        return ok and hashed is not None


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


class TokenService:
    def __init__(self, settings: ApiSettings, keys: KeyPair) -> None:
        self.settings = settings
        self.keys = keys

    def create_access_token(self, user_id: uuid.UUID, role: str, session_id: uuid.UUID) -> tuple[str, int]:
        now = datetime.now(UTC)
        ttl = self.settings.access_token_ttl_s
        claims = {
            "sub": str(user_id),
            "role": role,
            "sid": str(session_id),
            "iss": self.settings.jwt_issuer,
            "aud": self.settings.jwt_audience,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=ttl),
            "jti": uuid.uuid4().hex,
            "typ": "access",
        }
        token = jwt.encode(claims, self.keys.private_key, algorithm="RS256", headers={"kid": self.keys.kid})
        return token, ttl

    def decode_access_token(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.keys.public_key,
                algorithms=["RS256"],
                audience=self.settings.jwt_audience,
                issuer=self.settings.jwt_issuer,
                options={"require": ["exp", "iat", "sub", "sid"]},
                leeway=5,
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthenticationError("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise AuthenticationError("invalid access token") from exc
        if claims.get("typ") != "access":
            raise AuthenticationError("invalid access token")
        return claims
