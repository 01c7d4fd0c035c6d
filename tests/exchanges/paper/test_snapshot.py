"""A snapshot carries everything an account has; a restored engine carries on exactly where it was."""

from __future__ import annotations

import json
from decimal import Decimal as D
from typing import Any

import pytest

from elcaro.exchanges.paper import LimitFill, ManualClock, PaperConfig, PaperEngine
from elcaro.models import MarginMode, Side
from elcaro.models.errors import ValidationError
from paper.builders import ALICE, BOB, BTC, ETH, START_MS, limit, make_engine, market, stop


def busy_engine() -> tuple[PaperEngine, ManualClock]:
    """Two accounts with positions, TP/SL, resting and stop orders, history, fees, funding and settings."""
    engine, clock = make_engine(config=PaperConfig(slippage_bps=D("2"), limit_fill=LimitFill.THROUGH))
    engine.open_account(BOB, D("5000.5"))
    engine.update_mark(BTC.symbol, D("30000"))
    engine.update_mark(ETH.symbol, D("2000.10"))
    engine.set_leverage(ALICE, BTC.symbol, D("7.5"))
    engine.set_margin_mode(BOB, ETH.symbol, MarginMode.CROSS)
    engine.place_order(ALICE, market("a1", Side.BUY, "0.3", take_profit="33000"))
    clock.advance(1_000)
    engine.place_order(ALICE, market("a2", Side.SELL, "0.1"))
    engine.place_order(ALICE, limit("a3", Side.BUY, "0.05", "29000.0"))
    engine.place_order(ALICE, stop("a4", Side.SELL, "0.2", "28000", reduce_only=True))
    engine.place_order(BOB, market("b1", Side.SELL, "1.50", symbol=ETH.symbol, stop_loss="2100.00"))
    engine.apply_funding(ETH.symbol, D("0.0001"))
    engine.place_order(BOB, limit("b2", Side.SELL, "0.5", "2050", symbol=ETH.symbol))
    engine.cancel_order(BOB, "b2")
    clock.advance(1_000)
    return engine, clock


def round_trip(snapshot: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(snapshot))


def test_a_snapshot_is_json_and_restores_to_the_same_state() -> None:
    engine, clock = busy_engine()
    snapshot = engine.snapshot()
    restored = PaperEngine.restore(round_trip(snapshot), clock=clock)

    assert restored.snapshot() == snapshot
    for account in (ALICE, BOB):
        assert restored.balance(account) == engine.balance(account)
        assert restored.positions(account) == engine.positions(account)
        assert restored.open_orders(account) == engine.open_orders(account)
        assert restored.order_history(account) == engine.order_history(account)
        assert restored.fills(account) == engine.fills(account)
        assert restored.closed_pnl(account) == engine.closed_pnl(account)
    assert restored.leverage(ALICE, BTC.symbol) == D("7.5")
    assert restored.margin_mode(BOB, ETH.symbol) is MarginMode.CROSS
    assert restored.config == engine.config and restored.instruments == engine.instruments
    assert str(restored.open_orders(ALICE)[0].price) == "29000.0"  # exactly as written, trailing zero and all


def test_a_restored_engine_behaves_like_the_original() -> None:
    engine, clock = busy_engine()
    restored = PaperEngine.restore(round_trip(engine.snapshot()), clock=clock)
    for twin in (engine, restored):
        twin.update_mark(BTC.symbol, D("28999.9"))
        twin.update_mark(BTC.symbol, D("27000"))
        twin.update_mark(ETH.symbol, D("2100.00"))
        twin.place_order(ALICE, market("after", Side.SELL, "0.05"))
    assert restored.snapshot() == engine.snapshot()
    assert restored.get_order(ALICE, "after").exchange_order_id == engine.get_order(ALICE, "after").exchange_order_id


def test_broken_snapshots_are_refused() -> None:
    engine, _ = busy_engine()
    snapshot = round_trip(engine.snapshot())
    with pytest.raises(ValidationError, match="unknown snapshot format"):
        PaperEngine.restore({**snapshot, "format": 99})
    bad_money = round_trip(snapshot)
    bad_money["accounts"][0]["wallet"] = "lots"
    with pytest.raises(ValidationError, match="not a number: 'lots'"):
        PaperEngine.restore(bad_money)
    bad_count = {**snapshot, "next_id": True}
    with pytest.raises(ValidationError, match="expected int"):
        PaperEngine.restore(bad_count)
    missing = round_trip(snapshot)
    del missing["accounts"][0]["orders"]["a1"]["order"]["side"]
    with pytest.raises(ValidationError, match="Order lacks 'side'"):
        PaperEngine.restore(missing)


def test_the_start_time_survives_in_the_records() -> None:
    engine, clock = busy_engine()
    restored = PaperEngine.restore(round_trip(engine.snapshot()), clock=clock)
    assert restored.get_order(ALICE, "a1").created_at == START_MS
