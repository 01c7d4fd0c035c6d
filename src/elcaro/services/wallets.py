"""A deposit address per user, derived deterministically from the platform's wallet seed.

The seed (32 random bytes) is made on first use and stored only encrypted with the master keyring,
bound to its name as associated data. A user's key is derived on demand and held in memory only:

    private key = first 32 bytes of HMAC-SHA512(seed, "elcaro/wallet/" || index as 8 bytes big-endian)
    address     = EIP-55 checksum of the last 20 bytes of keccak-256(uncompressed secp256k1 public key)

The derivation index is the user's id, so the same seed always gives every user the same address
(and a backup of the database plus the master key recovers every key). Addresses are stored in the
clear, as they are public; keys never are.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets

from coincurve import PublicKey
from Crypto.Hash import keccak

from elcaro.core.clock import now_ms
from elcaro.core.secrets import Keyring
from elcaro.models.errors import SecretError, ValidationError
from elcaro.services.users import require_user
from elcaro.storage import Database, UnitOfWork
from elcaro.storage.retrying import run_in_transaction

log = logging.getLogger(__name__)

WALLET_SEED = "wallet.seed"
_SEED_BYTES = 32
_DERIVATION_LABEL = b"elcaro/wallet/"
# The order of secp256k1's group: a private key is an integer in [1, N - 1].
_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def platform_secret_context(name: str) -> str:
    """Associated data of a platform secret's blob: it decrypts under that name only."""
    return f"platform_secret:{name}"


def keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def derive_private_key(seed: bytes, index: int) -> bytes:
    """The secp256k1 private key of derivation ``index`` (a user id), as 32 bytes."""
    if not 0 <= index < 2**64:
        raise ValidationError("a derivation index is 0 to 2**64 - 1", field="index")
    digest = hmac.new(seed, _DERIVATION_LABEL + index.to_bytes(8, "big"), hashlib.sha512).digest()
    key = digest[:32]
    if not 0 < int.from_bytes(key, "big") < _SECP256K1_N:  # about one chance in 2**128
        raise SecretError(f"derivation index {index} gives no valid key")
    return key


def address_of(private_key: bytes) -> str:
    """The EIP-55 checksummed EVM address of a secp256k1 private key."""
    public = PublicKey.from_secret(private_key).format(compressed=False)[1:]
    return to_checksum_address(keccak256(public)[-20:].hex())


def to_checksum_address(address: str) -> str:
    """EIP-55: each hex letter upper-case where the keccak-256 of the lower-case address has a nibble ≥ 8."""
    plain = address.lower().removeprefix("0x")
    if len(plain) != 40 or any(c not in "0123456789abcdef" for c in plain):
        raise ValidationError(f"not an EVM address: {address!r}", field="address")
    digest = keccak256(plain.encode()).hex()
    return "0x" + "".join(c.upper() if c.isalpha() and int(digest[i], 16) >= 8 else c for i, c in enumerate(plain))


def is_checksum_address(address: str) -> bool:
    try:
        return to_checksum_address(address) == address
    except ValidationError:
        return False


class WalletService:
    """Deposit addresses. Nothing here logs, returns or stores a key or the seed."""

    def __init__(self, database: Database, keyring: Keyring) -> None:
        self._db = database
        self._keyring = keyring

    async def address_for(self, user_id: int) -> str:
        """The user's address: the stored one, or derived and stored on first request."""
        async with self._db.transaction() as tx:
            stored = await tx.wallets.get(user_id)
        if stored is not None:
            return stored.address

        async def work(tx: UnitOfWork) -> str:
            await require_user(tx, user_id)
            seed = await self._seed(tx)
            address = address_of(derive_private_key(seed, user_id))
            record = await tx.wallets.add(user_id, address=address, derivation_index=user_id, now=now_ms())
            return record.address

        return await run_in_transaction(self._db, work)

    async def user_for_address(self, address: str) -> int | None:
        """Whose address this is (any capitalisation), for crediting a deposit; None when nobody's."""
        checksummed = to_checksum_address(address)
        async with self._db.transaction() as tx:
            stored = await tx.wallets.get_by_address(checksummed)
        return None if stored is None else stored.user_id

    async def _seed(self, tx: UnitOfWork) -> bytes:
        context = platform_secret_context(WALLET_SEED)
        stored = await tx.platform_secrets.get(WALLET_SEED)
        if stored is None:
            fresh = self._keyring.encrypt(secrets.token_bytes(_SEED_BYTES).hex(), context=context)
            # Two first requests may race: whichever seed was stored first is the one both use.
            stored = await tx.platform_secrets.add_if_absent(WALLET_SEED, fresh, now=now_ms())
            log.info("wallet seed created (stored encrypted under master key %s)", self._keyring.primary_id)
        return bytes.fromhex(self._keyring.decrypt(stored.value_enc, context=context))


async def reencrypt_platform_secrets(tx: UnitOfWork, keyring: Keyring) -> int:
    """Put every platform secret (the wallet seed) under the keyring's primary key; the count changed."""
    changed = 0
    for stored in await tx.platform_secrets.list():
        if keyring.is_current(stored.value_enc):
            continue
        context = platform_secret_context(stored.name)
        plain = keyring.decrypt(stored.value_enc, context=context)
        await tx.platform_secrets.replace(stored.name, keyring.encrypt(plain, context=context), now=now_ms())
        changed += 1
    return changed
