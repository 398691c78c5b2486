"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP), with no Django imports.

Authenticator apps (FreeOTP, Google Authenticator, Aegis, 1Password...) all default to the same
profile: HMAC-SHA-1, 30-second steps, 6 digits, so that is what Beacon issues. The functions take
the digest and length anyway, because the RFC's own test vectors (Appendix B) use 8 digits and
SHA-256/512 too, and the tests check against them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, urlencode

STEP_S = 30
DIGITS = 6
# One step either side: a phone clock a little off, or a code typed just as it rolled over.
DRIFT_STEPS = 1
SECRET_BYTES = 20  # 160 bits, the key length RFC 4226 recommends for HMAC-SHA-1

Digest = Callable[..., Any]


def random_secret() -> str:
    """A new shared secret, base32 without padding (how authenticator apps expect to read it)."""
    return base64.b32encode(secrets.token_bytes(SECRET_BYTES)).decode("ascii").rstrip("=")


def secret_bytes(secret: str) -> bytes:
    """Decode a base32 secret; spaces and lower case (as people copy them) are accepted."""
    text = secret.replace(" ", "").upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def hotp(key: bytes, counter: int, *, digits: int = DIGITS, digest: Digest = hashlib.sha1) -> str:
    """RFC 4226 HOTP value of ``counter`` under ``key``, zero-padded to ``digits``."""
    mac = hmac.new(key, counter.to_bytes(8, "big"), digest).digest()
    offset = mac[-1] & 0x0F  # dynamic truncation (RFC 4226 section 5.3)
    code = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    return str(code % 10**digits).zfill(digits)


def step_at(unix_time: float, *, step: int = STEP_S) -> int:
    """The RFC 6238 time step ``T`` (T0 = 0) that ``unix_time`` falls in."""
    return int(unix_time // step)


def totp(
    key: bytes,
    unix_time: float,
    *,
    step: int = STEP_S,
    digits: int = DIGITS,
    digest: Digest = hashlib.sha1,
) -> str:
    """The code an authenticator shows at ``unix_time``."""
    return hotp(key, step_at(unix_time, step=step), digits=digits, digest=digest)


def matching_step(
    key: bytes, code: str, unix_time: float, *, drift: int = DRIFT_STEPS, after: int | None = None
) -> int | None:
    """The step whose code equals ``code`` within ``drift`` steps of now, newest first; None if
    none does. Steps at or before ``after`` (the last one accepted) never match: no replays."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    now = step_at(unix_time)
    for candidate in range(now + drift, now - drift - 1, -1):
        if after is not None and candidate <= after:
            continue
        # Constant-time comparison: how many digits matched must not show in the timing.
        if hmac.compare_digest(hotp(key, candidate), code):
            return candidate
    return None


def otpauth_uri(secret: str, *, account: str, issuer: str) -> str:
    """The ``otpauth://`` URI authenticator apps import (the de facto Key Uri Format)."""
    label = quote(f"{issuer}:{account}", safe=":@")
    query = urlencode(
        {
            "secret": secret,
            "issuer": issuer,
            "algorithm": "SHA1",
            "digits": DIGITS,
            "period": STEP_S,
        }
    )
    return f"otpauth://totp/{label}?{query}"
