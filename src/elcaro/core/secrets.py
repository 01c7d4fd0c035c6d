"""Encryption at rest for exchange credentials and wallet keys (AES-256-GCM).

A blob is ``version (1) | key id (4) | nonce (12) | ciphertext+tag``. The key id lets the keyring
hold several master keys at once, which is what makes rotation safe: the new key is added first,
every blob is re-encrypted in one database transaction, and only then is the old key dropped. A
crash at any point leaves every blob readable.

The ``context`` passed to encrypt/decrypt is bound as associated data (for example
``credential:api_secret``), so a blob copied into another column does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from elcaro.core.logging import register_secret
from elcaro.models.errors import SecretError

VERSION = 1
KEY_BYTES = 32
_NONCE_BYTES = 12
_KEY_ID_BYTES = 4
_HEADER = 1 + _KEY_ID_BYTES


def generate_key() -> str:
    """A new master key in its text form (url-safe base64 of 32 random bytes)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _decode_key(text: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(text.strip().encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise SecretError(
            f"a master key is {KEY_BYTES} bytes in url-safe base64 (44 characters); make one with "
            "`elcaro rotate-key` or leave ELCARO_MASTER_KEY unset to use a key file"
        )
    return raw


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"elcaro-master-key-id" + key).digest()[:_KEY_ID_BYTES]


class Keyring:
    """Master keys, the first of which encrypts; any of them decrypts what it encrypted."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise SecretError("no master key")
        decoded = [_decode_key(k) for k in keys]
        self._primary_id = _key_id(decoded[0])
        self._ciphers = {_key_id(k): AESGCM(k) for k in decoded}

    @property
    def primary_id(self) -> str:
        return self._primary_id.hex()

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        register_secret(plaintext)
        header = bytes([VERSION]) + self._primary_id
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._primary_id].encrypt(nonce, plaintext.encode(), header + context.encode())
        return header + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if len(blob) < _HEADER + _NONCE_BYTES + 16 or blob[0] != VERSION:
            raise SecretError("not an ElCaro secret blob (corrupt or from another version)")
        key_id = blob[1:_HEADER]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SecretError(f"secret was encrypted with master key {key_id.hex()}, which this keyring does not have")
        nonce = blob[_HEADER : _HEADER + _NONCE_BYTES]
        try:
            plaintext = cipher.decrypt(
                nonce, blob[_HEADER + _NONCE_BYTES :], blob[:_HEADER] + context.encode()
            ).decode()
        except InvalidTag:
            raise SecretError("secret failed authentication: tampered, or stored under another context") from None
        register_secret(plaintext)
        return plaintext

    def is_current(self, blob: bytes) -> bool:
        """True when ``blob`` is already encrypted with the primary key."""
        return blob[1:_HEADER] == self._primary_id


class KeyFile:
    """Master keys in a file readable by the owner only, one per line, primary first."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load_or_create(self) -> list[str]:
        if not self.path.exists():
            self.write([generate_key()])
        mode = stat.S_IMODE(self.path.stat().st_mode)
        if mode & 0o077:
            raise SecretError(f"master key file {self.path} is readable by others (mode {mode:o}); run chmod 600")
        keys = [line.strip() for line in self.path.read_text().splitlines() if line.strip()]
        if not keys:
            raise SecretError(f"master key file {self.path} is empty")
        return keys

    def write(self, keys: Sequence[str]) -> None:
        """Replace the file atomically; it never exists with looser permissions, even briefly."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write("\n".join(keys) + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise


def key_source(master_key: str | None, key_file: Path) -> tuple[list[str], KeyFile | None]:
    """The master keys in force: from ``ELCARO_MASTER_KEY`` when set, else from the key file.

    Returns the key file too when that is where the keys live, because only then can rotation
    write a new key by itself.
    """
    if master_key:
        keys = [k.strip() for k in master_key.split(",") if k.strip()]
        for key in keys:
            _decode_key(key)
        return keys, None
    file = KeyFile(key_file)
    return file.load_or_create(), file
