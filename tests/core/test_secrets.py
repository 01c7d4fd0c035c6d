import os
import stat
from pathlib import Path

import pytest

from elcaro.core.secrets import KeyFile, Keyring, generate_key, key_source
from elcaro.models.errors import SecretError


def test_round_trip_and_context_binding() -> None:
    ring = Keyring([generate_key()])
    blob = ring.encrypt("api-secret-value", context="credential:api_secret")
    assert b"api-secret-value" not in blob
    assert ring.decrypt(blob, context="credential:api_secret") == "api-secret-value"
    assert ring.encrypt("same", context="c") != ring.encrypt("same", context="c")  # fresh nonce every time
    with pytest.raises(SecretError, match="another context"):
        ring.decrypt(blob, context="credential:api_key")


def test_tampering_is_detected() -> None:
    ring = Keyring([generate_key()])
    blob = bytearray(ring.encrypt("value", context="c"))
    blob[-1] ^= 1
    with pytest.raises(SecretError, match="tampered"):
        ring.decrypt(bytes(blob), context="c")
    with pytest.raises(SecretError, match="not an ElCaro secret"):
        ring.decrypt(b"short", context="c")


def test_several_keys_decrypt_and_the_first_encrypts() -> None:
    old, new = generate_key(), generate_key()
    old_blob = Keyring([old]).encrypt("value", context="c")
    both = Keyring([new, old])
    assert both.decrypt(old_blob, context="c") == "value"
    assert not both.is_current(old_blob)
    assert both.is_current(both.encrypt("value", context="c"))
    with pytest.raises(SecretError, match="does not have"):
        Keyring([new]).decrypt(old_blob, context="c")


def test_malformed_keys_are_refused() -> None:
    with pytest.raises(SecretError, match="32 bytes"):
        Keyring(["short"])
    with pytest.raises(SecretError, match="no master key"):
        Keyring([])


def test_key_file_is_created_owner_only_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "master.key"
    keys, file = key_source(None, path)
    assert file is not None and path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key_source(None, path)[0] == keys
    os.chmod(path, 0o644)
    with pytest.raises(SecretError, match="chmod 600"):
        KeyFile(path).load_or_create()


def test_environment_keys_win_over_the_file(tmp_path: Path) -> None:
    key = generate_key()
    keys, file = key_source(f" {key} , {generate_key()}", tmp_path / "master.key")
    assert keys[0] == key and len(keys) == 2 and file is None
    assert not (tmp_path / "master.key").exists()
