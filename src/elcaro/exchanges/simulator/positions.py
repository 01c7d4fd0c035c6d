"""Positions: list, leverage, per-symbol margin mode, whole-position TP/SL (trading stop), closed PnL."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Final

from elcaro.exchanges.simulator import codes, render
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.venue import Market
from elcaro.exchanges.simulator.wire import (
    SETTLE,
    BybitError,
    category,
    decimal,
    integer,
    linear,
    listing,
    page,
    refusals,
    required,
    text,
    window,
)
from elcaro.models import MarginMode
from elcaro.models.errors import InsufficientFundsError

_TRADE_MODES: Final = {0: MarginMode.CROSS, 1: MarginMode.ISOLATED}


def _row(call: Call, market: Market) -> dict[str, Any]:
    engine = call.venue.engine
    position = engine.position(call.account_id, market.symbol)
    leverage = engine.leverage(call.account_id, market.symbol)
    return render.position(market, position, leverage, engine.now(), engine.config.maintenance_margin_rate)


def position_list(call: Call) -> Mapping[str, Any]:
    """One symbol's slot, empty or not; or every open position of a settle coin (or a base coin)."""
    params = call.params
    if not category(params):
        return listing([], "")
    symbol, base, settle = text(params, "symbol"), text(params, "baseCoin"), text(params, "settleCoin")
    if symbol is not None:
        markets = [call.venue.market(symbol)]
    elif base is not None or settle is not None:
        held = {position.symbol for position in call.venue.engine.positions(call.account_id)}
        markets = [
            market
            for market in call.venue.markets.values()
            if market.symbol in held and (base is None or market.instrument.base == base) and settle in (None, SETTLE)
        ]
    else:
        raise BybitError(
            codes.PARAMS, "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin"
        )
    chunk, cursor = page(markets, params, default=20, maximum=200)
    return listing([_row(call, market) for market in chunk], cursor)


def _leverage(params: Mapping[str, Any], market: Market) -> Decimal:
    buy, sell = decimal(params, "buyLeverage"), decimal(params, "sellLeverage")
    if buy is None or sell is None:
        raise BybitError(codes.PARAMS, "params error: buyLeverage and sellLeverage are required")
    if buy != sell:
        raise BybitError(codes.PARAMS, "params error: buy leverage must equal sell leverage in one-way mode")
    config = market.config
    if not 1 <= buy <= config.max_leverage or buy % config.leverage_step:
        raise BybitError(
            codes.PARAMS,
            f"leverage invalid: {buy} is not in 1..{config.max_leverage} in steps of {config.leverage_step}",
        )
    return buy


def set_leverage(call: Call) -> Mapping[str, Any]:
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    leverage = _leverage(call.params, market)
    engine = call.venue.engine
    if engine.leverage(call.account_id, market.symbol) == leverage:
        raise BybitError(codes.LEVERAGE_NOT_MODIFIED, codes.message(codes.LEVERAGE_NOT_MODIFIED))
    with refusals({InsufficientFundsError: codes.MARGIN_INSUFFICIENT}):
        engine.set_leverage(call.account_id, market.symbol, leverage)
    return {}


def switch_isolated(call: Call) -> Mapping[str, Any]:
    """Classic accounts' per-symbol margin mode, with the leverage to use; the paper venue keeps modes per symbol."""
    linear(call.params)
    market = call.venue.market(required(call.params, "symbol"))
    mode = _TRADE_MODES.get(integer(call.params, "tradeMode", -1))
    if mode is None:
        raise BybitError(codes.PARAMS, "params error: tradeMode must be 0 (cross) or 1 (isolated)")
    leverage = _leverage(call.params, market)
    engine = call.venue.engine
    if engine.margin_mode(call.account_id, market.symbol) is mode:
        raise BybitError(codes.MARGIN_MODE_NOT_MODIFIED, codes.message(codes.MARGIN_MODE_NOT_MODIFIED))
    with refusals():
        engine.set_margin_mode(call.account_id, market.symbol, mode)
    if engine.leverage(call.account_id, market.symbol) != leverage:
        with refusals({InsufficientFundsError: codes.MARGIN_INSUFFICIENT}):
            engine.set_leverage(call.account_id, market.symbol, leverage)
    return {}


def trading_stop(call: Call) -> Mapping[str, Any]:
    """Set, change (or with ``"0"`` remove) the whole position's TP and SL; 34040 when nothing changes."""
    params = call.params
    linear(params)
    market = call.venue.market(required(params, "symbol"))
    if text(params, "tpslMode", "Full") != "Full":
        raise BybitError(codes.PARAMS, "params error: only tpslMode Full is simulated")
    if decimal(params, "trailingStop"):
        raise BybitError(codes.PARAMS, "params error: trailing stops are not simulated")
    if integer(params, "positionIdx", 0) != 0:
        raise BybitError(codes.PARAMS, "position idx not match position mode")
    engine = call.venue.engine
    position = engine.position(call.account_id, market.symbol)
    if position is None:
        raise BybitError(codes.PARAMS, "can not set tp/sl/ts for zero position")
    take_profit, stop_loss = decimal(params, "takeProfit"), decimal(params, "stopLoss")
    tick = market.instrument.tick_size
    for name, level in (("takeProfit", take_profit), ("stopLoss", stop_loss)):
        if level and level % tick:
            raise BybitError(codes.PARAMS, f"{name} invalid: {level} is not a multiple of tickSize {tick}")
    after = (
        position.take_profit if take_profit is None else take_profit or None,
        position.stop_loss if stop_loss is None else stop_loss or None,
    )
    if after == (position.take_profit, position.stop_loss):
        raise BybitError(codes.TPSL_NOT_MODIFIED, codes.message(codes.TPSL_NOT_MODIFIED))
    with refusals():
        engine.set_position_protection(call.account_id, market.symbol, take_profit=take_profit, stop_loss=stop_loss)
    return {}


def closed_pnl(call: Call) -> Mapping[str, Any]:
    params = call.params
    if not category(params):
        return listing([], "")
    symbol = text(params, "symbol")
    wanted = call.venue.market(symbol).symbol if symbol is not None else None
    start, end = window(params, call.venue.engine.now())
    records = [
        record
        for record in call.venue.journal.closed_pnl(call.account_id)
        if (wanted is None or record.trade.symbol == wanted) and start <= record.trade.closed_at <= end
    ]
    chunk, cursor = page(records[::-1], params, default=50, maximum=100)
    engine = call.venue.engine
    rows = []
    for record in chunk:
        market = call.venue.markets[call.venue.market_id(record.trade.symbol)]
        rows.append(render.closed_pnl(market, record, engine.leverage(call.account_id, market.symbol)))
    return listing(rows, cursor)


ROUTES = (
    Route("GET", "/v5/position/list", position_list, signed=True),
    Route("POST", "/v5/position/set-leverage", set_leverage, signed=True),
    Route("POST", "/v5/position/switch-isolated", switch_isolated, signed=True),
    Route("POST", "/v5/position/trading-stop", trading_stop, signed=True),
    Route("GET", "/v5/position/closed-pnl", closed_pnl, signed=True),
)
