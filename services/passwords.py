"""Staff passwords: Argon2id hashes, a minimum length and a common-password check.

No composition rules (NCSC and NIST advice: they push people to predictable patterns);
length and refusing the passwords attackers try first matter more.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import FrozenSet, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256  # hashing a megabyte-long "password" is a cheap denial of service
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "data" / "common_passwords.txt"

_hasher = PasswordHasher()  # argon2-cffi's defaults are Argon2id with RFC 9106 parameters


class PasswordRejected(ValueError):
    """A password the policy refuses; the message says why in plain English."""


@lru_cache(maxsize=1)
def common_passwords() -> FrozenSet[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def policy_problem(password: str, email: Optional[str] = None) -> Optional[str]:
    """Why this password is refused, or None if it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"The password must be at least {MIN_LENGTH} characters long."
    if len(password) > MAX_LENGTH:
        return f"The password must be at most {MAX_LENGTH} characters long."
    lowered = password.lower()
    if lowered in common_passwords() or len(set(password)) <= 2:
        return "That password is too common or too easy to guess. Please choose another."
    if email and lowered == email.lower():
        return "The password must not be your e-mail address."
    return None


def hash_password(password: str, email: Optional[str] = None) -> str:
    """An Argon2id hash of a password the policy accepts (raises PasswordRejected otherwise)."""
    problem = policy_problem(password, email)
    if problem:
        raise PasswordRejected(problem)
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """True if the password matches; never raises for a wrong password or a damaged hash."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verifying against this when the account does not exist keeps the timing the same,
# so the response time does not tell an attacker which e-mail addresses have accounts.
DUMMY_HASH = _hasher.hash("not a real password, only for timing")
