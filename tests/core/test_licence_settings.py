"""Licence, payment and ELC settings: defaults, lists from the environment, and refusals that name the setting."""

import os
from decimal import Decimal
from pathlib import Path

import pytest

from elcaro.core.config import load_settings
from elcaro.models.errors import ConfigError
from elcaro.models.licence import LicenceTier
from elcaro.services.licences import LicenceConfig


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ELCARO_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_the_defaults_are_the_issues_prices_and_payments_are_off() -> None:
    settings = load_settings()
    config = LicenceConfig.from_settings(settings)
    elc = 100_000_000
    assert [config.prices.price(tier, 1).amount_minor for tier in LicenceTier if tier.is_paid] == [
        25 * elc,
        50 * elc,
        250 * elc,
    ]
    assert [config.prices.price(LicenceTier.PREMIUM, m).discount_pct for m in (1, 3, 6, 12)] == [0, 5, 10, 20]
    assert config.warn_days == (3, 1) and config.rules.paper_free
    assert settings.stars_per_elc is None and settings.crypto_pay_token is None
    assert settings.crypto_pay_url == "https://pay.crypt.bot/api"


def test_lists_and_numbers_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_LICENCE_BASIC_STRATEGIES", "scalper, oi")
    monkeypatch.setenv("ELCARO_LICENCE_ENTERPRISE_FEATURES", "")
    monkeypatch.setenv("ELCARO_ENGINE_UNIVERSE", " BTC/USDT:USDT ,ETH/USDT:USDT,")
    monkeypatch.setenv("ELCARO_LICENCE_WARN_DAYS", "1,7,3")
    monkeypatch.setenv("ELCARO_LICENCE_PRICE_BASIC", "19.99")
    monkeypatch.setenv("ELCARO_STARS_PER_ELC", "50")
    settings = load_settings()
    assert settings.licence_basic_strategies == ["scalper", "oi"]
    assert settings.licence_enterprise_features == []
    assert settings.engine_universe == ["BTC/USDT:USDT", "ETH/USDT:USDT"]
    assert settings.licence_warn_days == [7, 3, 1]
    assert LicenceConfig.from_settings(settings).prices.price(LicenceTier.BASIC, 1).amount_minor == 1_999_000_000
    assert settings.stars_per_elc == Decimal(50)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LICENCE_PRICE_PREMIUM", "0", "ELCARO_LICENCE_PRICE_PREMIUM: Input should be greater than 0"),
        (
            "LICENCE_PRICE_BASIC",
            "0.000000001",
            "ELCARO_LICENCE_PRICE_BASIC: Value error, ELC has at most 8 decimal places",
        ),
        (
            "LICENCE_PRICE_ENTERPRISE",
            "10000000001",
            "ELCARO_LICENCE_PRICE_ENTERPRISE: Value error, at most 9999999999.99999999 ELC",
        ),
        (
            "LEDGER_TRANSFER_FEE_FIXED",
            "0.123456789",
            "ELCARO_LEDGER_TRANSFER_FEE_FIXED: Value error, ELC has at most 8 decimal places",
        ),
        (
            "REFERRAL_SIGNUP_REWARD",
            "1.000000001",
            "ELCARO_REFERRAL_SIGNUP_REWARD: Value error, ELC has at most 8 decimal places",
        ),
        ("LICENCE_DISCOUNT_12M_PCT", "100", "ELCARO_LICENCE_DISCOUNT_12M_PCT: Input should be less than 100"),
        ("LICENCE_WARN_DAYS", "0", "ELCARO_LICENCE_WARN_DAYS: Value error, each warning is 1 to 90 days"),
        ("CRYPTO_PAY_URL", "http://pay.example.com/api", "ELCARO_CRYPTO_PAY_URL: Value error, use https://"),
        ("CRYPTO_PAY_ASSET", "usdt", "ELCARO_CRYPTO_PAY_ASSET: String should match pattern"),
    ],
)
def test_a_wrong_value_names_the_setting(monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str) -> None:
    monkeypatch.setenv(f"ELCARO_{name}", value)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert message in str(refused.value)


def test_the_provider_token_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELCARO_CRYPTO_PAY_TOKEN", "12345:AAsecretsecretsecret")
    settings = load_settings()
    assert settings.crypto_pay_token is not None
    assert "AAsecret" not in repr(settings) and "AAsecret" not in str(settings)
