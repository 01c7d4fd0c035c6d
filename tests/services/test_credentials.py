import logging
import secrets
import subprocess
from pathlib import Path

import pytest

from elcaro.core.logging import setup_logging
from elcaro.core.secrets import Keyring, generate_key
from elcaro.models import Environment, Exchange, ExchangeKeys, Secret, Target, TelegramProfile
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.credentials import CredentialService
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

BYBIT_DEMO = Target(Exchange.BYBIT, Environment.DEMO)
HL_TESTNET = Target(Exchange.HYPERLIQUID, Environment.TESTNET)
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def token(length: int) -> str:
    return "".join(secrets.choice(ALNUM) for _ in range(length))


def bybit_keys() -> ExchangeKeys:
    return ExchangeKeys(api_key=Secret(token(18)), api_secret=Secret(token(36)))


@pytest.fixture
def service(database: Database) -> CredentialService:
    return CredentialService(database, Keyring([generate_key()]))


@pytest.fixture
async def user_id(database: Database) -> int:
    return (await UserService(database).register(TelegramProfile(77))).id


async def test_save_list_use_and_delete(service: CredentialService, user_id: int) -> None:
    keys = bybit_keys()
    info = await service.save(user_id, BYBIT_DEMO, keys)
    assert info.key_hint == keys.api_key.reveal()[-4:]  # type: ignore[union-attr]
    listed = await service.list_for_user(user_id)
    assert [(c.id, c.target, c.label) for c in listed] == [(info.id, BYBIT_DEMO, "main")]
    assert await service.keys_for(user_id, BYBIT_DEMO) == keys

    replacement = bybit_keys()
    again = await service.save(user_id, BYBIT_DEMO, replacement)
    assert again.id == info.id and await service.keys_for(user_id, BYBIT_DEMO) == replacement

    await service.delete(user_id, info.id)
    with pytest.raises(NotFoundError, match="no API keys for bybit:demo"):
        await service.keys_for(user_id, BYBIT_DEMO)
    with pytest.raises(NotFoundError):
        await service.delete(user_id, info.id)


async def test_hyperliquid_takes_a_private_key_and_wallet(service: CredentialService, user_id: int) -> None:
    private_key = "0x" + secrets.token_hex(32)
    wallet = "0x" + secrets.token_hex(20)
    info = await service.save(user_id, HL_TESTNET, ExchangeKeys(private_key=Secret(private_key), wallet_address=wallet))
    assert info.wallet_address == wallet and info.key_hint == wallet[-4:]
    loaded = await service.keys_for(user_id, HL_TESTNET)
    assert loaded.private_key == Secret(private_key[2:]) and loaded.api_key is None


@pytest.mark.parametrize(
    ("target", "keys", "message"),
    [
        (BYBIT_DEMO, ExchangeKeys(api_key=Secret("short"), api_secret=Secret(token(36))), "api_key: does not look"),
        (BYBIT_DEMO, ExchangeKeys(api_key=Secret(token(18)), api_secret=Secret("bad secret!")), "api_secret"),
        (BYBIT_DEMO, ExchangeKeys(private_key=Secret("0x" + "1" * 64)), "no private key"),
        (Target(Exchange.BINANCE, Environment.LIVE), ExchangeKeys(Secret(token(18)), Secret(token(36))), "64"),
        (HL_TESTNET, ExchangeKeys(private_key=Secret("0x" + "0" * 64), wallet_address="0x" + "1" * 40), "private"),
        (HL_TESTNET, ExchangeKeys(private_key=Secret("0x" + "1" * 64), wallet_address="0x123"), "wallet_address"),
        (Target(Exchange.BYBIT, Environment.PAPER), ExchangeKeys(Secret(token(18)), Secret(token(36))), "no keys"),
    ],
)
async def test_malformed_credentials_are_refused_and_nothing_is_stored(
    service: CredentialService, user_id: int, target: Target, keys: ExchangeKeys, message: str
) -> None:
    with pytest.raises(ValidationError, match=message) as caught:
        await service.save(user_id, target, keys)
    for secret in (keys.api_key, keys.api_secret, keys.private_key):
        if secret:
            assert secret.reveal() not in str(caught.value)
    assert await service.list_for_user(user_id) == []


async def test_unknown_user(service: CredentialService) -> None:
    with pytest.raises(NotFoundError, match="no user with id 404"):
        await service.save(404, BYBIT_DEMO, bybit_keys())


async def test_canary_secret_is_in_neither_database_nor_logs(
    service: CredentialService, user_id: int, database: Database, tmp_path: Path
) -> None:
    """Store a secret through the service, log heavily around it, then search every byte we wrote."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    log_file = tmp_path / "logs" / "elcaro.log"
    setup_logging("DEBUG", "text", log_file)
    canary = "Canary" + token(30)
    try:
        keys = ExchangeKeys(api_key=Secret(token(18)), api_secret=Secret(canary))
        await service.save(user_id, BYBIT_DEMO, keys)
        loaded = await service.keys_for(user_id, BYBIT_DEMO)
        logging.getLogger("elcaro.test").info("loaded keys %s; secret is %s", loaded, loaded.api_secret.reveal())  # type: ignore[union-attr]
        logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statement logging with parameters
        await service.save(user_id, BYBIT_DEMO, keys)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        for handler in list(root.handlers):
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)

    logged = log_file.read_text()
    assert "[REDACTED]" in logged and canary not in logged
    assert canary.encode() not in _database_bytes(database, tmp_path)


def _database_bytes(database: Database, tmp_path: Path) -> bytes:
    if database.dialect == "sqlite":
        path = Path(database.url.split("///", 1)[1])
        return b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    dump = tmp_path / "dump.sql"
    libpq_url = database.url.replace("+asyncpg", "")
    subprocess.run(["pg_dump", "--format=plain", "--file", str(dump), libpq_url], check=True)
    return dump.read_bytes()
