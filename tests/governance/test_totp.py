"""RFC 6238 TOTP, checked against the RFC's own test vectors (Appendix B) and RFC 4226's HOTP ones."""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs, urlparse

import pytest

from governance import totp

SEED_SHA1 = b"12345678901234567890"
SEED_SHA256 = b"12345678901234567890123456789012"
SEED_SHA512 = b"1234567890123456789012345678901234567890123456789012345678901234"

# RFC 6238 Appendix B: (time, TOTP SHA-1, TOTP SHA-256, TOTP SHA-512), 8 digits, 30 s, T0 = 0.
RFC6238_VECTORS = [
    (59, "94287082", "46119246", "90693936"),
    (1111111109, "07081804", "68084774", "25091201"),
    (1111111111, "14050471", "67062674", "99943326"),
    (1234567890, "89005924", "91819424", "93441116"),
    (2000000000, "69279037", "90698825", "38618901"),
    (20000000000, "65353130", "77737706", "47863826"),
]

# RFC 4226 Appendix D: HOTP values for counters 0..9 with the same SHA-1 seed, 6 digits.
RFC4226_HOTP = [
    "755224",
    "287082",
    "359152",
    "969429",
    "338314",
    "254676",
    "287922",
    "162583",
    "399871",
    "520489",
]

pytestmark = pytest.mark.validation


@pytest.mark.parametrize(("unix_time", "sha1", "sha256", "sha512"), RFC6238_VECTORS)
def test_rfc6238_appendix_b_vectors(unix_time, sha1, sha256, sha512) -> None:
    assert totp.totp(SEED_SHA1, unix_time, digits=8) == sha1
    assert totp.totp(SEED_SHA256, unix_time, digits=8, digest=hashlib.sha256) == sha256
    assert totp.totp(SEED_SHA512, unix_time, digits=8, digest=hashlib.sha512) == sha512


@pytest.mark.parametrize(("counter", "expected"), list(enumerate(RFC4226_HOTP)))
def test_rfc4226_hotp_vectors(counter, expected) -> None:
    assert totp.hotp(SEED_SHA1, counter) == expected


def test_six_digit_codes_are_the_last_six_of_the_eight_digit_ones() -> None:
    # Authenticator apps show 6 digits: the same truncation, modulo 10**6.
    assert totp.totp(SEED_SHA1, 59) == "287082"  # RFC 4226 counter 1 == RFC 6238 T=1


def test_one_step_of_drift_is_accepted_either_side_and_two_are_not() -> None:
    now = 1_111_111_111.0
    step = totp.step_at(now)
    for offset in (-1, 0, 1):
        code = totp.hotp(SEED_SHA1, step + offset)
        assert totp.matching_step(SEED_SHA1, code, now) == step + offset
    for offset in (-2, 2):
        assert totp.matching_step(SEED_SHA1, totp.hotp(SEED_SHA1, step + offset), now) is None


def test_steps_at_or_before_the_last_used_one_never_match() -> None:
    now = 1_111_111_111.0
    step = totp.step_at(now)
    code = totp.hotp(SEED_SHA1, step)
    assert totp.matching_step(SEED_SHA1, code, now, after=step) is None
    assert totp.matching_step(SEED_SHA1, code, now, after=step - 1) == step


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "12 34 5x"])
def test_malformed_codes_never_match(code) -> None:
    assert totp.matching_step(SEED_SHA1, code, 59.0) is None


def test_secrets_are_160_bit_base32_and_decode_as_people_copy_them() -> None:
    secret = totp.random_secret()
    assert len(totp.secret_bytes(secret)) == 20
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4)).lower()
    assert totp.secret_bytes(spaced) == totp.secret_bytes(secret)
    assert secret != totp.random_secret()


def test_the_otpauth_uri_names_issuer_account_and_parameters() -> None:
    uri = totp.otpauth_uri("JBSWY3DPEHPK3PXP", account="dispatcher 1", issuer="Beacon")
    parsed = urlparse(uri)
    assert parsed.scheme == "otpauth" and parsed.netloc == "totp"
    assert parsed.path == "/Beacon:dispatcher%201"
    query = parse_qs(parsed.query)
    assert query == {
        "secret": ["JBSWY3DPEHPK3PXP"],
        "issuer": ["Beacon"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
