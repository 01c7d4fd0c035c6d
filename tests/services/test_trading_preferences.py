"""A user's settings levels and targets, through the one service every interface uses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from elcaro.models import PositionSide, SettingsKey, SettingsScope, Target, TelegramProfile
from elcaro.models.errors import NotFoundError, ValidationError
from elcaro.services.trading_preferences import TradingPreferencesService
from elcaro.services.users import UserService
from elcaro.storage import Database

pytestmark = pytest.mark.db

GLOBAL = SettingsKey(SettingsScope.GLOBAL)
CORNIX = SettingsKey(SettingsScope.STRATEGY, strategy="cornix")
CORNIX_SHORT = SettingsKey(SettingsScope.STRATEGY_SIDE, strategy="cornix", side=PositionSide.SHORT)
PAPER = Target.parse("bybit:paper")


@pytest.fixture
async def user_id(database: Database) -> int:
    return (await UserService(database).register(TelegramProfile(11))).id


async def test_levels_merge_and_resolve_most_specific_first(database: Database, user_id: int) -> None:
    prefs = TradingPreferencesService(database)
    await prefs.update(user_id, GLOBAL, {"risk_pct": "2", "leverage": 3})
    await prefs.update(user_id, CORNIX, {"enabled": True, "leverage": 10})
    await prefs.update(user_id, CORNIX_SHORT, {"risk_pct": "0.5"})
    await prefs.update(user_id, GLOBAL, {"max_open_positions": 7})  # merges with what the level had

    short = await prefs.effective(user_id, PAPER, "cornix", PositionSide.SHORT)
    long = await prefs.effective(user_id, PAPER, "cornix", PositionSide.LONG)
    assert (short.enabled, short.leverage, short.risk_pct, short.max_open_positions) == (True, 10, Decimal("0.5"), 7)
    assert long.risk_pct == Decimal(2)
    assert not (await prefs.effective(user_id, PAPER, "elcaro", PositionSide.LONG)).enabled

    await prefs.clear(user_id, CORNIX_SHORT)
    assert (await prefs.effective(user_id, PAPER, "cornix", PositionSide.SHORT)).risk_pct == Decimal(2)


async def test_a_wrong_value_names_its_range_and_stores_nothing(database: Database, user_id: int) -> None:
    prefs = TradingPreferencesService(database)
    await prefs.update(user_id, GLOBAL, {"risk_pct": "2"})
    with pytest.raises(ValidationError, match=r"risk_pct must be between 0\.01 and 10, got 25"):
        await prefs.update(user_id, GLOBAL, {"risk_pct": "25", "leverage": 4})
    assert (await prefs.effective(user_id, PAPER, "x", PositionSide.LONG)).leverage != 4
    with pytest.raises(NotFoundError):
        await prefs.update(404, GLOBAL, {"risk_pct": "1"})


async def test_live_targets_need_an_explicit_opt_in(database: Database, user_id: int) -> None:
    prefs = TradingPreferencesService(database)
    await prefs.set_target(user_id, PAPER)
    await prefs.set_target(user_id, Target.parse("bybit:live"))
    await prefs.set_target(user_id, Target.parse("binance:live"), live_opt_in=True)
    targets = {str(t.target): t for t in await prefs.targets(user_id)}
    assert targets["bybit:live"].live_opt_in_at is None
    assert targets["binance:live"].live_opt_in_at is not None
    assert targets["bybit:paper"].enabled


async def test_pause(database: Database, user_id: int) -> None:
    prefs = TradingPreferencesService(database)
    await prefs.pause(user_id, True)
    assert (await UserService(database).get(user_id)).trading_paused
