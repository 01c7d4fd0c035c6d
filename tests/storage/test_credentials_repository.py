from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text
from storage_builders import BINANCE_LIVE, BYBIT_DEMO, T0, add_user

from elcaro.models import CredentialInfo, Environment, Exchange, Target
from elcaro.models.errors import NotFoundError
from elcaro.storage import Database, EncryptedCredential, UnitOfWork

pytestmark = pytest.mark.db

HYPERLIQUID = Target(Exchange.HYPERLIQUID, Environment.TESTNET)


async def save(
    tx: UnitOfWork, user_id: int, target: Target = BYBIT_DEMO, label: str = "main", n: int = 1
) -> CredentialInfo:
    return await tx.credentials.upsert(
        user_id,
        target,
        label,
        api_key=b"key-cipher-%d" % n,
        api_secret=b"secret-cipher-%d" % n,
        private_key=None,
        wallet_address=None,
        key_hint=f"k{n:03d}",
        now=T0 + n,
    )


async def test_upsert_then_read_back(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        info = await save(tx, user_id)
        wallet = await tx.credentials.upsert(
            user_id,
            HYPERLIQUID,
            "agent",
            api_key=None,
            api_secret=None,
            private_key=b"\x00\xffprivate",
            wallet_address="0xAbC0000000000000000000000000000000000def",
            key_hint="0def",
            now=T0,
        )
    assert info == CredentialInfo(info.id, user_id, BYBIT_DEMO, "main", "k001", None, T0 + 1, None)
    async with database.transaction() as tx:
        stored = await tx.credentials.get(info.id)
        assert stored == EncryptedCredential(
            info.id, user_id, BYBIT_DEMO, "main", b"key-cipher-1", b"secret-cipher-1", None, None, "k001", T0 + 1, None
        )
        assert b"cipher" not in repr(stored).encode()
        assert (await tx.credentials.find(user_id, HYPERLIQUID)) == await tx.credentials.get(wallet.id)
        hl = await tx.credentials.get(wallet.id)
        assert hl is not None
        assert hl.private_key == b"\x00\xffprivate"
        assert hl.wallet_address == "0xAbC0000000000000000000000000000000000def"
        assert await tx.credentials.list_for_user(user_id) == [info, wallet]
        assert await tx.credentials.get(999) is None


async def test_saving_under_an_existing_label_replaces_the_keys(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        first = await save(tx, user_id, n=1)
        await tx.credentials.mark_verified(first.id, T0 + 10)
        assert (await tx.credentials.get(first.id)) is not None  # loaded into this session before the upsert
        second = await save(tx, user_id, n=2)
        stored = await tx.credentials.get(first.id)
    assert second.id == first.id
    assert second.key_hint == "k002"
    assert second.created_at == first.created_at
    assert second.last_verified_at is None  # new keys are unverified until checked again
    assert stored is not None
    assert (stored.api_key, stored.api_secret) == (b"key-cipher-2", b"secret-cipher-2")
    async with database.transaction() as tx:
        assert len(await tx.credentials.list_for_user(user_id)) == 1


async def test_labels_targets_and_users_keep_credentials_apart(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        other_user = await add_user(tx, 43)
        main = await save(tx, user_id, label="main", n=1)
        spare = await save(tx, user_id, label="spare", n=2)
        live = await save(tx, user_id, target=BINANCE_LIVE, n=3)
        theirs = await save(tx, other_user, n=4)
    async with database.transaction() as tx:
        assert [c.id for c in await tx.credentials.list_for_user(user_id)] == [main.id, spare.id, live.id]
        assert [c.id for c in await tx.credentials.all_encrypted()] == [main.id, spare.id, live.id, theirs.id]
        found = await tx.credentials.find(user_id, BYBIT_DEMO, "spare")
        assert found is not None
        assert found.id == spare.id
        first = await tx.credentials.find(user_id, BYBIT_DEMO)  # no label: the first one stored
        assert first is not None
        assert first.id == main.id
        assert await tx.credentials.find(user_id, BYBIT_DEMO, "nope") is None
        assert await tx.credentials.find(user_id, HYPERLIQUID) is None


async def test_concurrent_saves_under_one_label_leave_one_credential(database: Database, user_id: int) -> None:
    async def save_and_hold(n: int) -> int:
        async with database.transaction() as tx:
            info = await save(tx, user_id, n=n)
            await asyncio.sleep(0.05)  # keep the transaction open while the other one tries
            return info.id

    ids = await asyncio.gather(save_and_hold(1), save_and_hold(2))
    assert ids[0] == ids[1]
    async with database.transaction() as tx:
        assert len(await tx.credentials.all_encrypted()) == 1


async def test_credentials_of_an_unknown_user_are_refused_and_nothing_is_written(database: Database) -> None:
    async def save_for_nobody() -> None:
        async with database.transaction() as tx:
            real = await add_user(tx, 1)
            await save(tx, real)
            await save(tx, 999)

    with pytest.raises(NotFoundError, match="no user with id 999"):
        await save_for_nobody()
    async with database.transaction() as tx:
        assert await tx.credentials.all_encrypted() == []
        assert await tx.users.list() == []


async def test_rotation_verification_and_deletion(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        info = await save(tx, user_id)
        await tx.credentials.mark_verified(info.id, T0 + 100)
    async with database.transaction() as tx:
        await tx.credentials.set_encrypted(
            info.id, api_key=b"rotated-key", api_secret=b"rotated-secret", private_key=None
        )
    async with database.transaction() as tx:
        stored = await tx.credentials.get(info.id)
        assert stored is not None
        assert (stored.api_key, stored.api_secret) == (b"rotated-key", b"rotated-secret")
        assert stored.last_verified_at == T0 + 100  # same secrets under a new master key: still verified
        with pytest.raises(NotFoundError, match="no stored credentials with id 999"):
            await tx.credentials.mark_verified(999, T0)
        with pytest.raises(NotFoundError, match="no stored credentials with id 999"):
            await tx.credentials.set_encrypted(999, api_key=None, api_secret=None, private_key=None)
    async with database.transaction() as tx:
        assert await tx.credentials.delete(info.id)
        assert not await tx.credentials.delete(info.id)
        assert await tx.credentials.get(info.id) is None


async def test_credentials_go_with_their_user(database: Database, user_id: int) -> None:
    async with database.transaction() as tx:
        await save(tx, user_id)
    async with database.engine.begin() as connection:
        await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": user_id})
    async with database.transaction() as tx:
        assert await tx.credentials.all_encrypted() == []
