"""Single-use links (invitations, partnership requests): a random token goes out by email, only its
SHA-256 hash is stored, so a database copy never holds a usable link."""

from __future__ import annotations

import hashlib
import secrets


class HashedTokenMixin:
    """``new_token()`` for the email, ``hash_token()`` for the column that stores it."""

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)
