import secrets
from pathlib import Path

import pytest

from elcaro.core.config import load_settings
from elcaro.core.secrets import Keyring, generate_key, key_source
from elcaro.models import Environment, Exchange, ExchangeKeys, Secret, SourceKind, Target, TelegramProfile
from elcaro.models.errors import ConfigError, SecretError
from elcaro.services.credentials import CredentialService
from elcaro.services.secrets import rotate_master_key
from elcaro.services.signal_sources import SignalSourcesService, webhook_secret_context
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

TARGETS = [Target(Exchange.BYBIT, Environment.DEMO), Target(Exchange.BYBIT, Environment.LIVE)]


async def store_keys(database: Database, keyring: Keyring) -> tuple[int, dict[Target, ExchangeKeys]]:
    user = await UserService(database).register(TelegramProfile(5))
    service = CredentialService(database, keyring)
    stored = {}
    for target in TARGETS:
        keys = ExchangeKeys(api_key=Secret(secrets.token_hex(9)), api_secret=Secret(secrets.token_hex(18)))
        await service.save(user.id, target, keys)
        stored[target] = keys
    return user.id, stored


async def test_rotation_with_a_key_file(database: Database, tmp_path: Path) -> None:
    key_file = tmp_path / "master.key"
    old_keys, _ = key_source(None, key_file)
    user_id, stored = await store_keys(database, Keyring(old_keys))
    webhook = await SignalSourcesService(database, Keyring(old_keys)).add_webhook("tv", strategy="tv_breakout")

    settings = load_settings(database_url=database.url, data_dir=tmp_path, master_key_file=key_file)
    result = await rotate_master_key(settings)

    assert result.reencrypted == len(TARGETS) + 1 and result.key_file_updated  # the webhook secret too
    new_keys, _ = key_source(None, key_file)
    assert len(new_keys) == 1 and new_keys != old_keys
    fresh = CredentialService(database, Keyring(new_keys))
    for target, keys in stored.items():
        assert await fresh.keys_for(user_id, target) == keys
    with pytest.raises(SecretError, match="does not have"):
        await CredentialService(database, Keyring(old_keys)).keys_for(user_id, TARGETS[0])
    async with database.transaction() as tx:
        assert (await tx.audit.list(subject="master_key"))[0].details["secrets"] == len(TARGETS) + 1
        stored_source = await tx.signal_sources.get(SourceKind.WEBHOOK, "tv")
    assert stored_source is not None and stored_source.secret_enc is not None
    context = webhook_secret_context("tv")
    assert Keyring(new_keys).decrypt(stored_source.secret_enc, context=context) == webhook.secret.reveal()


async def test_rotation_with_environment_keys(database: Database, tmp_path: Path) -> None:
    old, new = generate_key(), generate_key()
    user_id, stored = await store_keys(database, Keyring([old]))
    with pytest.raises(ConfigError, match="single key"):
        await rotate_master_key(load_settings(database_url=database.url, data_dir=tmp_path, master_key=old))

    result = await rotate_master_key(
        load_settings(database_url=database.url, data_dir=tmp_path, master_key=f"{new},{old}")
    )
    assert result.reencrypted == len(TARGETS) and not result.key_file_updated
    assert await CredentialService(database, Keyring([new])).keys_for(user_id, TARGETS[1]) == stored[TARGETS[1]]
    again = await rotate_master_key(
        load_settings(database_url=database.url, data_dir=tmp_path, master_key=f"{new},{old}")
    )
    assert again.reencrypted == 0
