"""Secrets kept at rest encrypted (webhook signing secrets, provider keys): Fernet from the
`cryptography` package, under DATA_KEY, or a key derived from SECRET_KEY when none is set."""

from __future__ import annotations

import base64
import functools

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app


@functools.cache
def _fernet(data_key: str | None, secret_key: str) -> Fernet:
    if data_key:
        return Fernet(data_key.encode())
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"carnet data key").derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(derived))


def _current() -> Fernet:
    config = current_app.config
    return _fernet(config.get("DATA_KEY"), config["SECRET_KEY"])


def seal(plain: str) -> str:
    return _current().encrypt(plain.encode()).decode()


def unseal(sealed: str) -> str:
    """The plain secret; a ValueError when the key in force did not seal it."""
    try:
        return _current().decrypt(sealed.encode()).decode()
    except InvalidToken as exc:
        raise ValueError("this secret was sealed under another data key") from exc
