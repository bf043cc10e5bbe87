"""Front-ends' signing secrets, encrypted at rest.

Verifying an HS256 signature needs the secret itself (a hash of it would not do), so it is kept
encrypted with a key from the settings: a copy of the database alone does not let anyone sign
end-user tokens.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Encrypts and decrypts front-end secrets with one Fernet key (AES-128-CBC + HMAC)."""

    def __init__(self, key: str) -> None:
        self._fernet = Fernet(key.encode())

    def seal(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str) -> str | None:
        """The secret, or None when it was sealed with another key (the key was changed)."""
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            return None
