"""The simulator's configuration: loopback only, checked rates, TOML, and errors that name the setting."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from elcaro.exchanges.simulator import Apply, ReplayPrices, SimulatorConfig
from elcaro.models.errors import ConfigError


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "localhost", "example.com", "::"])  # noqa: S104
def test_only_a_loopback_address_is_accepted(host: str) -> None:
    with pytest.raises(ConfigError, match=r"host: .*loopback"):
        SimulatorConfig.from_dict({"host": host})


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1"])
def test_loopback_addresses_are_accepted(host: str) -> None:
    assert SimulatorConfig.from_dict({"host": host}).host == host


def test_the_defaults_are_bybits_usdt_perpetuals() -> None:
    config = SimulatorConfig()
    btc = next(item for item in config.instruments if item.market_id == "BTCUSDT")
    assert (btc.tick_size, btc.qty_step, btc.min_qty, btc.min_notional, btc.max_leverage) == (
        Decimal("0.10"),
        Decimal("0.001"),
        Decimal("0.001"),
        Decimal(5),
        Decimal(100),
    )
    assert [item.market_id for item in config.instruments] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"]
    assert (config.host, config.port, config.prices.kind) == ("127.0.0.1", 0, "none")


def test_fault_rates_must_be_probabilities_that_fit_together() -> None:
    with pytest.raises(ConfigError, match="add up to more than 1"):
        SimulatorConfig.from_dict({"faults": {"rules": [{"errors": {"10016": 0.6}, "http_5xx_rate": 0.5}]}})
    with pytest.raises(ConfigError, match=r"faults\.rules\.0\.timeout_rate"):
        SimulatorConfig.from_dict({"faults": {"rules": [{"timeout_rate": 1.5}]}})
    with pytest.raises(ConfigError, match="drop_apply"):
        SimulatorConfig.from_dict({"faults": {"rules": [{"drop_rate": 0.1, "drop_apply": "later"}]}})


def test_unknown_keys_and_duplicate_keys_are_errors_that_never_show_a_secret() -> None:
    with pytest.raises(ConfigError, match="prot: Extra inputs"):
        SimulatorConfig.from_dict({"prot": 8080})
    account = {"api_key": "k1", "api_secret": "very-secret-value"}
    with pytest.raises(ConfigError, match="every api_key must be unique") as error:
        SimulatorConfig.from_dict({"accounts": [account, account]})
    assert "very-secret-value" not in str(error.value)


def test_replay_files_must_name_configured_instruments(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown instruments: PEPEUSDT"):
        SimulatorConfig.from_dict({"prices": {"kind": "replay", "files": {"PEPEUSDT": str(tmp_path / "p.csv")}}})


def test_a_toml_file_configures_everything(tmp_path: Path) -> None:
    path = tmp_path / "simulator.toml"
    path.write_text(
        """
port = 18080
admin_token = "admin-token-for-tests"

[[accounts]]
api_key = "key-1"
api_secret = "secret-1"
balance = "2500"

[prices]
kind = "replay"
files = { BTCUSDT = "btc.csv" }
bars_per_second = 20

[fees]
taker = "0.0006"

[rate_limits.per_ip]
paths = ["*"]
requests = 100
per_seconds = 1

[[faults.rules]]
path = "/v5/order/*"
errors = { 10016 = 0.01 }
timeout_rate = 0.02
timeout_apply = "before"
latency = { kind = "lognormal", ms = 20, sigma = 0.4 }
""",
        encoding="utf-8",
    )

    config = SimulatorConfig.from_toml(path)

    assert (config.port, config.accounts[0].balance, config.fees.taker) == (18080, Decimal(2500), Decimal("0.0006"))
    assert isinstance(config.prices, ReplayPrices) and config.prices.files == {"BTCUSDT": Path("btc.csv")}
    (rule,) = config.faults.rules
    assert (rule.errors, rule.timeout_apply, rule.latency and rule.latency.kind) == (
        {10016: 0.01},
        Apply.BEFORE,
        "lognormal",
    )
    assert config.rate_limits.per_ip.requests == 100
    assert config.admin_token is not None and str(config.admin_token) == "**********"
