"""Deposit addresses: deterministic per user, EIP-55, from a seed that is stored only encrypted."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from coincurve import PrivateKey
from Crypto.Hash import keccak
from ledger_checks import MakeUser
from sqlalchemy import text

from elcaro.core.config import load_settings
from elcaro.core.secrets import Keyring, generate_key, key_source
from elcaro.models.errors import NotFoundError, SecretError, ValidationError
from elcaro.services.secrets import rotate_master_key
from elcaro.services.wallets import (
    WALLET_SEED,
    WalletService,
    address_of,
    derive_private_key,
    is_checksum_address,
    platform_secret_context,
    to_checksum_address,
)
from elcaro.storage import Database


def test_eip55_reference_vectors() -> None:
    # The examples of EIP-55 itself.
    for address in (
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
    ):
        assert to_checksum_address(address.lower()) == address
        assert is_checksum_address(address)
        assert not is_checksum_address(address.lower()) and not is_checksum_address(address.upper())
    with pytest.raises(ValidationError, match="not an EVM address"):
        to_checksum_address("0x1234")


def test_a_known_private_key_gives_its_known_address() -> None:
    # Private key 1 is the generator point; its address is well known.
    assert address_of((1).to_bytes(32, "big")) == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"


def test_derivation_is_hmac_sha512_of_the_index() -> None:
    seed = bytes(range(32))
    key = derive_private_key(seed, 7)
    assert key == hmac.new(seed, b"elcaro/wallet/" + (7).to_bytes(8, "big"), hashlib.sha512).digest()[:32]
    assert derive_private_key(seed, 7) == key and derive_private_key(seed, 8) != key
    public = PrivateKey(key).public_key.format(compressed=False)[1:]
    assert address_of(key) == to_checksum_address(keccak.new(digest_bits=256, data=public).digest()[-20:].hex())
    with pytest.raises(ValidationError):
        derive_private_key(seed, -1)


@pytest.mark.db
async def test_each_user_gets_one_stable_address(database: Database, make_user: MakeUser) -> None:
    keyring = Keyring([generate_key()])
    wallets = WalletService(database, keyring)
    alice, bob = await make_user(), await make_user()
    first = await wallets.address_for(alice)
    assert is_checksum_address(first)
    assert await wallets.address_for(alice) == first
    assert await WalletService(database, keyring).address_for(alice) == first  # stored, and derivable again
    assert await wallets.address_for(bob) != first
    assert await wallets.user_for_address(first.lower()) == alice
    assert await wallets.user_for_address("0x" + "00" * 20) is None
    with pytest.raises(NotFoundError, match="no user with id 999"):
        await wallets.address_for(999)


@pytest.mark.db
async def test_the_seed_is_encrypted_at_rest_and_derives_the_stored_addresses(
    database: Database, make_user: MakeUser
) -> None:
    keyring = Keyring([generate_key()])
    user = await make_user()
    address = await WalletService(database, keyring).address_for(user)
    async with database.engine.connect() as connection:
        rows = (await connection.execute(text("SELECT name, value_enc FROM platform_secrets"))).all()
        wallet_columns = (await connection.execute(text("SELECT * FROM wallets"))).keys()
    assert [name for name, _ in rows] == [WALLET_SEED]
    blob = bytes(rows[0][1])
    seed_hex = keyring.decrypt(blob, context=platform_secret_context(WALLET_SEED))
    assert len(seed_hex) == 64 and seed_hex.encode() not in blob and bytes.fromhex(seed_hex) not in blob
    assert address_of(derive_private_key(bytes.fromhex(seed_hex), user)) == address
    assert set(wallet_columns) == {"user_id", "address", "derivation_index", "created_at"}  # no key material
    with pytest.raises(SecretError):  # bound to its name: the blob is useless anywhere else
        keyring.decrypt(blob, context="platform_secret:something.else")
    with pytest.raises(SecretError):  # and useless without the master key
        await WalletService(database, Keyring([generate_key()])).address_for(await make_user())


@pytest.mark.db
async def test_rotating_the_master_key_re_encrypts_the_seed(
    database: Database, make_user: MakeUser, tmp_path: Path
) -> None:
    key_file = tmp_path / "master.key"
    old_keys, _ = key_source(None, key_file)
    user = await make_user()
    address = await WalletService(database, Keyring(old_keys)).address_for(user)

    settings = load_settings(database_url=database.url, data_dir=tmp_path, master_key_file=key_file)
    result = await rotate_master_key(settings)
    assert result.reencrypted == 1

    new_keys, _ = key_source(None, key_file)
    other = await make_user()
    fresh = WalletService(database, Keyring(new_keys))
    assert await fresh.address_for(user) == address
    assert is_checksum_address(await fresh.address_for(other))  # the seed decrypts under the new key
    with pytest.raises(SecretError, match="does not have"):
        await WalletService(database, Keyring(old_keys)).address_for(await make_user())
