"""What moves the market between requests: the seeded synthetic walk, candle replay from CSV, and funding."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from elcaro.exchanges.simulator import AccountConfig, ReplayPrices, SimulatorConfig, SyntheticPrices
from elcaro.exchanges.simulator.app import Service
from elcaro.exchanges.simulator.driver import ReplayDriver, SyntheticDriver, drive
from elcaro.exchanges.simulator.venue import Venue
from elcaro.marketdata.csv_io import write_candles
from elcaro.models import Order, OrderType, Side
from elcaro.models.market import Candle
from elcaro.models.timeframe import HOUR_MS

BTC = "BTC/USDT:USDT"
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def _service(config: SimulatorConfig) -> Service:
    return Service(config, Venue.create(config), "token")


def _walk(seed: int, steps: int) -> list[Decimal | None]:
    service = _service(SimulatorConfig(prices=SyntheticPrices(seed=seed, volatility=0.01)))
    driver = SyntheticDriver(service, SyntheticPrices(seed=seed, volatility=0.01))
    prices = []
    for _ in range(steps):
        driver.step()
        prices.append(service.venue.engine.mark_price(BTC))
    return prices


def test_the_synthetic_walk_repeats_for_a_seed_and_records_bars() -> None:
    first = _walk(5, 20)

    assert first == _walk(5, 20)
    assert first != _walk(6, 20)
    assert len(set(first)) > 10
    assert all(price is not None and price % Decimal("0.1") == 0 for price in first)


def test_a_restore_moves_the_walk_to_the_restored_venue(tmp_path: Path) -> None:
    config = SimulatorConfig(prices=SyntheticPrices(seed=1))
    service = _service(config)
    driver = SyntheticDriver(service, SyntheticPrices(seed=1))
    driver.step()
    snapshot = service.venue.snapshot()
    old = service.venue

    service.restore(snapshot)
    driver.step()

    assert service.venue is not old
    assert service.venue.engine.mark_price(BTC) != old.engine.mark_price(BTC)  # the new venue moved, not the old


def _candles(path: Path, closes: list[str], step_ms: int) -> Path:
    rows = [
        Candle(T0 + n * step_ms, Decimal(close), Decimal(close) + 50, Decimal(close) - 50, Decimal(close), Decimal(3))
        for n, close in enumerate(closes)
    ]
    write_candles(path, rows)
    return path


async def test_a_replay_walks_every_bar_on_the_bars_clock_and_fires_orders_inside_them(tmp_path: Path) -> None:
    account = AccountConfig(api_key="replay-key", api_secret="replay-secret")
    prices = ReplayPrices(files={"BTCUSDT": _candles(tmp_path / "btc.csv", ["60000", "60500", "61000"], 60_000)})
    service = _service(SimulatorConfig(accounts=(account,), prices=prices.model_copy(update={"bars_per_second": 1000})))
    engine = service.venue.engine
    driver = ReplayDriver(service, prices)
    assert driver.step()  # the first bar gives the market its first price
    engine.place_order(
        account.account_id, Order("sell", BTC, Side.SELL, OrderType.LIMIT, Decimal("0.01"), Decimal(60_460))
    )

    await drive(service)  # the rest of the file

    assert engine.now() == T0 + 3 * 60_000
    assert [candle.close for candle in engine.candles(BTC, "1m")] == [Decimal(60_000), Decimal(60_500), Decimal(61_000)]
    assert engine.get_order(account.account_id, "sell").avg_fill_price == Decimal(60_460)  # in the second bar
    assert [bar.timestamp for bar in service.venue.bars.minutes(BTC)] == [T0, T0 + 60_000, T0 + 120_000]


async def test_funding_is_charged_at_each_boundary_the_clock_passes(tmp_path: Path) -> None:
    account = AccountConfig(api_key="funding-key", api_secret="funding-secret")
    path = _candles(tmp_path / "btc.csv", ["60000"] * 10, HOUR_MS)
    prices = ReplayPrices(files={"BTCUSDT": path}, timeframe="1h", bars_per_second=1000)
    service = _service(SimulatorConfig(accounts=(account,), prices=prices))
    driver = ReplayDriver(service, prices)
    driver.step()
    engine = service.venue.engine
    engine.place_order(account.account_id, Order("long", BTC, Side.BUY, OrderType.MARKET, Decimal("0.5")))
    wallet = engine.balance(account.account_id).wallet

    await drive(service)  # 9 more hours: the clock passes 08:00 once

    (paid,) = service.venue.journal.funding(BTC)
    assert (paid.rate, paid.timestamp) == (Decimal("0.0001"), T0 + 8 * HOUR_MS)
    assert engine.balance(account.account_id).wallet == wallet - Decimal("3")  # 0.01 % of 30 000
