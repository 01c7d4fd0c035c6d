"""The service container: one object the interfaces hold to reach every use case.

Like freqtrade's RPC layer, the Telegram bot, the web app and the CLI all go through this, so a
rule lives in one place whichever interface a person uses.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from elcaro.core.config import Settings
from elcaro.core.secrets import Keyring, key_source
from elcaro.services.credentials import CredentialService
from elcaro.services.ledger import LedgerPolicy, LedgerService
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.services.market_data import MarketDataService
from elcaro.services.payments import PaymentConfig, PaymentService, crypto_client_from_settings
from elcaro.services.referrals import ReferralService
from elcaro.services.signal_sources import SignalSourcesService
from elcaro.services.trading_preferences import TradingPreferencesService
from elcaro.services.users import UserService
from elcaro.services.wallets import WalletService
from elcaro.storage import Database


def open_database(settings: Settings) -> Database:
    return Database(settings.resolved_database_url, sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms)


@dataclass(frozen=True, slots=True)
class Platform:
    settings: Settings
    database: Database
    keyring: Keyring
    users: UserService
    credentials: CredentialService
    market_data: MarketDataService
    signal_sources: SignalSourcesService
    preferences: TradingPreferencesService
    ledger: LedgerService
    wallets: WalletService
    referrals: ReferralService
    licences: LicenceService
    payments: PaymentService

    @classmethod
    @asynccontextmanager
    async def open(cls, settings: Settings) -> AsyncIterator[Platform]:
        """Connect to the database and load the master key; the schema must be migrated already."""
        master_key = settings.master_key.get_secret_value() if settings.master_key else None
        keys, _ = key_source(master_key, settings.resolved_master_key_file)
        database = open_database(settings)
        try:
            await database.require_current_schema()
            keyring = Keyring(keys)
            referrals = ReferralService.from_settings(database, settings)
            licences = LicenceService(database, LicenceConfig.from_settings(settings), referrals)
            yield cls(
                settings=settings,
                database=database,
                keyring=keyring,
                users=UserService(database, settings.admin_telegram_ids, signup_rewards=referrals),
                credentials=CredentialService(database, keyring),
                market_data=MarketDataService(database),
                signal_sources=SignalSourcesService(database, keyring),
                preferences=TradingPreferencesService(database),
                ledger=LedgerService(database, LedgerPolicy.from_settings(settings)),
                wallets=WalletService(database, keyring),
                referrals=referrals,
                licences=licences,
                payments=PaymentService(
                    database, licences, PaymentConfig.from_settings(settings), crypto_client_from_settings(settings)
                ),
            )
        finally:
            await database.close()
