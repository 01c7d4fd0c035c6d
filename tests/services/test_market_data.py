"""The candle store through the service: real files in, any timeframe out."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from elcaro.exchanges.paper import PaperEngine, PaperExchangeAdapter
from elcaro.marketdata import read_candles, resample
from elcaro.models import Instrument
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.market_data import MarketDataService
from elcaro.storage import Database

pytestmark = pytest.mark.db

OHLCV = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "ohlcv"
BTC = "BTC/USDT:USDT"


@pytest.fixture
def service(database: Database) -> MarketDataService:
    return MarketDataService(database)


async def test_import_a_real_file_and_read_it_at_higher_timeframes(service: MarketDataService) -> None:
    path = OHLCV / "BTC_USDT-5m.csv"
    report = await service.import_csv(path, exchange="bybit", symbol=BTC, timeframe="5m")
    assert report.stored == 10_999 and report.health.is_healthy and report.health.missing == 0

    original = list(read_candles(path))
    assert await service.candles("bybit", BTC, "5m") == original
    hourly = await service.candles("bybit", BTC, "1h")
    assert hourly == list(resample(original, "5m", "1h").candles)
    since = hourly[10].timestamp + 1  # mid-bar: the next whole bar onwards
    assert (await service.candles("bybit", BTC, "4h", since=since))[0].timestamp > since
    assert (await service.health("bybit", BTC, "5m")).present == 10_999


async def test_gaps_in_a_real_file_are_reported(service: MarketDataService) -> None:
    report = await service.import_csv(OHLCV / "ADA_BTC-5m.csv", exchange="binance", symbol="ADA/BTC", timeframe="5m")
    assert report.health.missing == 40 and not report.health.is_healthy


async def test_a_bad_file_stores_nothing(service: MarketDataService, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n300000,1,2,0.5,oops,10\n")
    with pytest.raises(ValidationError, match=r"bad\.csv:3"):
        await service.import_csv(bad, exchange="bybit", symbol=BTC, timeframe="5m")
    with pytest.raises(NotFoundError, match="stored: none"):
        await service.candles("bybit", BTC, "1h")


async def test_a_timeframe_that_cannot_be_built_is_refused(service: MarketDataService) -> None:
    await service.import_csv(OHLCV / "XRP_USDT_USDT-1h.csv", exchange="bybit", symbol="XRP/USDT:USDT", timeframe="1h")
    with pytest.raises(NotFoundError, match=r"no 5m candles .* \(stored: 1h\)"):
        await service.candles("bybit", "XRP/USDT:USDT", "5m")


async def test_import_from_a_venue_pages_through_its_candles(service: MarketDataService) -> None:
    candles = list(read_candles(OHLCV / "BTC_USDT-5m.csv"))[:250]
    instrument = Instrument(BTC, "BTC", "USDT", "USDT", Decimal("0.1"), Decimal("0.001"), Decimal("0.001"))
    engine = PaperEngine([instrument], clock=lambda: candles[-1].timestamp)
    for candle in candles:
        engine.apply_candle(BTC, candle, timeframe="5m")
    engine.open_account("reader")
    venue = PaperExchangeAdapter(engine, "reader")

    start, end = candles[20].timestamp, candles[200].timestamp
    report = await service.import_from(
        venue, exchange="bybit", symbol=BTC, timeframe="5m", since=start, until=end, page=37
    )
    assert report.stored == 180 and report.health.is_healthy
    assert await service.candles("bybit", BTC, "5m") == candles[20:200]
