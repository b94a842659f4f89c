"""Application-level encryption for identity fields and biometric objects.

One 32-byte master key (FIELDCHECK_DATA_KEY) is split with HKDF into an AES-GCM key for
ciphertext and an HMAC key for lookup indexes, so equal values can be found without being
readable. Every ciphertext is bound to a context (the column or object key) through AES-GCM's
associated data, so a value copied into another row or object fails to decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import Dialect, Engine

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A ciphertext was altered, moved to another context, or made with another key."""


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fieldcheck/" + purpose).derive(master)


class DataCipher:
    """AES-GCM encryption and HMAC indexes derived from one master key."""

    def __init__(self, master_key: bytes) -> None:
        self._aead = AESGCM(_derive(master_key, b"aes-gcm"))
        self._index_key = _derive(master_key, b"hmac-index")

    def encrypt(self, plaintext: bytes, *, context: str) -> bytes:
        """Encrypt bytes bound to a context such as 'beneficiary.phone' or an object key."""
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def decrypt(self, token: bytes, *, context: str) -> bytes:
        """Decrypt what encrypt() made for the same context."""
        if token[:1] != FORMAT_V1 or len(token) < 1 + NONCE_BYTES + 16:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = token[1 : 1 + NONCE_BYTES], token[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc

    def index(self, value: str) -> str:
        """A keyed hash for equality lookups of a secret value."""
        return hmac.new(self._index_key, value.encode(), hashlib.sha256).hexdigest()


def bind(engine: Engine, cipher: DataCipher) -> None:
    """Give an engine's encrypted columns their cipher, so models need no app context to read or write."""
    engine.dialect.fieldcheck_cipher = cipher


def bound(dialect: Dialect) -> DataCipher:
    """The cipher bound to the engine a column value travels through."""
    try:
        return dialect.fieldcheck_cipher
    except AttributeError:
        raise RuntimeError("no cipher bound to this engine: use server.crypto.bind(engine, cipher)") from None
