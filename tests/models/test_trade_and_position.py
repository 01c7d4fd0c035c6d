from decimal import Decimal as D

import pytest

from elcaro.models import Environment, Exchange, ExitReason, Position, PositionSide, Target, Trade
from elcaro.models.errors import ValidationError

DEMO = Target(Exchange.BYBIT, Environment.DEMO)


def trade(side: PositionSide, entry: str, exit_: str, fees: str = "0", funding: str = "0") -> Trade:
    return Trade(
        DEMO,
        "ETH/USDT:USDT",
        side,
        D("2"),
        D(entry),
        D(exit_),
        1,
        2,
        ExitReason.TAKE_PROFIT,
        fees=D(fees),
        funding=D(funding),
    )


def test_pnl_is_exact_in_both_directions() -> None:
    assert trade(PositionSide.LONG, "3000.10", "3100.35", fees="1.2").net_pnl == D("199.30")
    assert trade(PositionSide.SHORT, "3000.10", "3100.35", funding="0.5").net_pnl == D("-200.00")
    assert trade(PositionSide.SHORT, "0.3", "0.1").gross_pnl == D("0.4")


def test_trade_rules() -> None:
    with pytest.raises(ValidationError, match="close before it opens"):
        Trade(DEMO, "X", PositionSide.LONG, D(1), D(1), D(1), 5, 4, ExitReason.MANUAL)
    assert trade(PositionSide.LONG, "1", "2", fees="-0.5").net_pnl == D("2.5")  # a maker rebate adds


def test_position_pnl_and_notional() -> None:
    pos = Position("BTC/USDT:USDT", PositionSide.SHORT, D("0.5"), D("60000"), mark_price=D("59000"))
    assert pos.pnl_at(D("59000")) == D("500.0")
    assert pos.notional == D("29500.0")
    with pytest.raises(ValidationError):
        Position("BTC/USDT:USDT", PositionSide.SHORT, D("0"), D("60000"))


def test_targets_know_their_environments() -> None:
    assert Target.parse("Bybit:Demo") == DEMO
    assert str(DEMO) == "bybit:demo" and DEMO.needs_credentials
    assert not Target.parse("binance:paper").needs_credentials
    with pytest.raises(ValidationError, match="binance has no demo environment"):
        Target(Exchange.BINANCE, Environment.DEMO)
    with pytest.raises(ValidationError, match="unknown target"):
        Target.parse("kraken:live")
