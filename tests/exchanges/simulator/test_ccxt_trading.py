"""Trading through ccxt's own Bybit client against the simulator, as against Bybit.

The account holds 10 000 USDT; BTC is marked at 60 000 (tick 0.10, step 0.001, minimum order value 5 USDT).
"""

from __future__ import annotations

import time
from typing import Any

import ccxt.async_support as ccxt
import pytest

from elcaro.exchanges.simulator import AccountConfig, RunningSimulator
from simulator.conftest import BTC
from simulator.helpers import Admin, held


async def test_markets_load_with_bybits_rules(exchange: Any) -> None:
    markets = await exchange.load_markets()

    assert set(markets) == {"BTC/USDT:USDT", "ETH/USDT:USDT", "SOL/USDT:USDT", "XRP/USDT:USDT", "DOGE/USDT:USDT"}
    btc = markets[BTC]
    assert (btc["id"], btc["type"], btc["linear"], btc["settle"]) == ("BTCUSDT", "swap", True, "USDT")
    assert (btc["precision"]["price"], btc["precision"]["amount"]) == (0.1, 0.001)
    assert (btc["limits"]["amount"]["min"], btc["limits"]["cost"]["min"], btc["limits"]["leverage"]["max"]) == (
        0.001,
        5,
        100,
    )


async def test_balance_is_the_starting_deposit_and_margin_is_held_by_a_position(exchange: Any) -> None:
    balance = await exchange.fetch_balance()
    assert (balance["USDT"]["total"], balance["USDT"]["free"]) == (10_000, 10_000)

    await exchange.create_order(BTC, "market", "buy", 0.01)  # 600 USDT at 10x: 60 held, 0.33 of fee paid

    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(9_999.67)
    assert balance["USDT"]["used"] == pytest.approx(60)


async def test_a_market_order_opens_a_long_at_the_mark(exchange: Any) -> None:
    order = await exchange.create_order(BTC, "market", "buy", 0.01, params={"clientOrderId": "open-long"})
    assert order["clientOrderId"] == "open-long"

    (position,) = await exchange.fetch_positions([BTC])
    assert (position["side"], position["contracts"], position["entryPrice"]) == ("long", 0.01, 60_000)
    filled = await exchange.fetch_order(order["id"], BTC, params={"acknowledged": True})
    assert (filled["status"], filled["filled"], filled["average"], filled["fee"]["cost"]) == (
        "closed",
        0.01,
        60_000,
        0.33,
    )


async def test_a_limit_order_rests_is_amended_and_canceled(exchange: Any) -> None:
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 55_000, params={"clientOrderId": "rest"})

    (resting,) = await exchange.fetch_open_orders(BTC)
    assert (resting["id"], resting["status"], resting["price"], resting["amount"]) == (
        placed["id"],
        "open",
        55_000,
        0.01,
    )

    await exchange.edit_order(placed["id"], BTC, "limit", "buy", 0.02, 54_000)
    amended = await exchange.fetch_open_order(placed["id"], BTC)
    assert (amended["price"], amended["amount"], amended["clientOrderId"]) == (54_000, 0.02, "rest")

    await exchange.cancel_order(placed["id"], BTC)
    assert await exchange.fetch_open_orders(BTC) == []
    (canceled,) = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert (canceled["id"], canceled["status"]) == (placed["id"], "canceled")


async def test_a_limit_order_fills_as_maker_when_the_market_reaches_it(exchange: Any, admin: Admin) -> None:
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 59_000)

    await admin.mark("BTCUSDT", "58900")

    filled = await exchange.fetch_order(placed["id"], BTC, params={"acknowledged": True})
    assert (filled["status"], filled["average"]) == ("closed", 59_000)
    (trade,) = await exchange.fetch_my_trades(BTC)
    assert (trade["order"], trade["takerOrMaker"], trade["fee"]["cost"]) == (placed["id"], "maker", 0.118)


async def test_attached_take_profit_closes_the_position_on_the_mark(exchange: Any, admin: Admin) -> None:
    params = {
        "takeProfit": {"triggerPrice": 63_000},
        "stopLoss": {"triggerPrice": 58_000},
        "tpslMode": "Full",
        "tpTriggerBy": "MarkPrice",
        "slTriggerBy": "MarkPrice",
    }
    await exchange.create_order(BTC, "market", "buy", 0.01, params=params)
    (position,) = await exchange.fetch_positions([BTC])
    assert (position["takeProfitPrice"], position["stopLossPrice"]) == (63_000, 58_000)

    await admin.mark("BTCUSDT", "63100")

    assert await held(exchange) == []
    (closed,) = await exchange.fetch_positions_history([BTC])
    assert closed["info"]["avgExitPrice"] == "63100"
    assert float(closed["info"]["closedPnl"]) == pytest.approx(31 - 0.33 - 0.34705)
    (_, exit_order) = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert (exit_order["info"]["stopOrderType"], exit_order["info"]["createType"]) == (
        "TakeProfit",
        "CreateByTakeProfit",
    )


async def test_attached_stop_loss_closes_a_short(exchange: Any, admin: Admin) -> None:
    await exchange.create_order(BTC, "market", "sell", 0.01, params={"stopLoss": {"triggerPrice": 61_000}})

    await admin.mark("BTCUSDT", "61000")

    assert await held(exchange) == []
    (closed,) = await exchange.fetch_positions_history([BTC])
    assert (closed["info"]["side"], closed["info"]["avgEntryPrice"], closed["info"]["avgExitPrice"]) == (
        "Buy",
        "60000",
        "61000",
    )


async def test_trading_stop_sets_and_changes_the_positions_protection(exchange: Any, admin: Admin) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.01)
    stop: dict[str, Any] = {"category": "linear", "symbol": "BTCUSDT", "positionIdx": 0, "tpslMode": "Full"}

    await exchange.privatePostV5PositionTradingStop(stop | {"takeProfit": "65000", "tpTriggerBy": "MarkPrice"})
    await exchange.privatePostV5PositionTradingStop(stop | {"stopLoss": "59000", "slTriggerBy": "MarkPrice"})
    (position,) = await exchange.fetch_positions([BTC])
    assert (position["takeProfitPrice"], position["stopLossPrice"]) == (65_000, 59_000)

    await exchange.privatePostV5PositionTradingStop(stop | {"takeProfit": "64000", "stopLoss": "0"})
    (position,) = await exchange.fetch_positions([BTC])
    assert (position["takeProfitPrice"], position["stopLossPrice"]) == (64_000, 0)
    with pytest.raises(ccxt.ExchangeError, match="34040"):  # nothing changes: Bybit's "not modified"
        await exchange.privatePostV5PositionTradingStop(stop | {"takeProfit": "64000"})

    await admin.mark("BTCUSDT", "64000")
    assert await held(exchange) == []


async def test_ccxts_take_profit_and_stop_loss_order_go_to_the_position(exchange: Any) -> None:
    """ccxt sends both prices to the trading-stop endpoint; a zero amount keeps them whole-position."""
    await exchange.create_order(BTC, "market", "buy", 0.01)

    await exchange.create_order(BTC, "market", "sell", 0, None, {"takeProfitPrice": 66_000, "stopLossPrice": 57_000})

    (position,) = await exchange.fetch_positions([BTC])
    assert (position["takeProfitPrice"], position["stopLossPrice"]) == (66_000, 57_000)


async def test_reduce_only_closes_part_and_never_flips(exchange: Any) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.03)

    await exchange.create_order(BTC, "market", "sell", 0.01, params={"reduceOnly": True})
    (position,) = await exchange.fetch_positions([BTC])
    assert position["contracts"] == 0.02

    await exchange.create_order(BTC, "market", "sell", 0.05, params={"reduceOnly": True})
    assert await held(exchange) == []
    closes = await exchange.fetch_positions_history([BTC])
    assert sorted(float(close["info"]["closedSize"]) for close in closes) == [0.01, 0.02]
    with pytest.raises(ccxt.InvalidOrder, match="110017"):
        await exchange.create_order(BTC, "market", "sell", 0.01, params={"reduceOnly": True})


async def test_close_all_cancels_every_order_and_flattens(exchange: Any) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.02)
    await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000)
    await exchange.create_order("ETH/USDT:USDT", "limit", "buy", 0.1, 2_500)

    canceled = await exchange.cancel_all_orders()
    assert len(canceled) == 2
    await exchange.create_order(BTC, "market", "sell", 0.02, params={"reduceOnly": True})

    assert await exchange.fetch_open_orders() == []
    assert await held(exchange) == []


async def test_executions_and_closed_pnl_are_reported(exchange: Any, admin: Admin) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.01)
    await admin.mark("BTCUSDT", "61000")
    await exchange.create_order(BTC, "market", "sell", 0.01, params={"reduceOnly": True})

    trades = await exchange.fetch_my_trades(BTC)
    assert [(trade["side"], trade["price"]) for trade in trades] == [("buy", 60_000), ("sell", 61_000)]
    (closed,) = await exchange.fetch_positions_history([BTC])
    info = closed["info"]
    assert (info["closedSize"], info["avgEntryPrice"], info["avgExitPrice"]) == ("0.010", "60000", "61000")
    assert (info["openFee"], info["closeFee"], info["closedPnl"]) == ("0.33", "0.3355", "9.3345")


async def test_leverage_is_set_and_setting_it_again_is_not_modified(exchange: Any) -> None:
    await exchange.set_leverage(20, BTC)

    with pytest.raises(ccxt.BadRequest, match="110043"):
        await exchange.set_leverage(20, BTC)
    with pytest.raises(ccxt.BadRequest, match="10001"):
        await exchange.set_leverage(101, BTC)
    await exchange.create_order(BTC, "market", "buy", 0.01)
    (position,) = await exchange.fetch_positions([BTC])
    assert (position["leverage"], position["initialMargin"]) == (20, 30)


async def test_margin_mode_is_account_wide_and_refused_with_a_position_in_the_other_mode(exchange: Any) -> None:
    await exchange.set_margin_mode("isolated")
    await exchange.create_order(BTC, "market", "buy", 0.01)
    (position,) = await exchange.fetch_positions([BTC])
    assert position["info"]["tradeMode"] == 1
    info = await exchange.privateGetV5AccountInfo()
    assert info["result"]["marginMode"] == "ISOLATED_MARGIN"

    with pytest.raises(ccxt.ExchangeError, match="3400045"):
        await exchange.set_margin_mode("cross")
    await exchange.set_margin_mode("isolated")  # already so: no error


async def test_a_conditional_order_waits_for_its_trigger(exchange: Any, admin: Admin) -> None:
    params = {"triggerPrice": 61_000, "triggerDirection": "ascending", "clientOrderId": "breakout"}
    placed = await exchange.create_order(BTC, "market", "buy", 0.01, params=params)
    (waiting,) = await exchange.fetch_open_orders(BTC)
    assert (waiting["info"]["orderStatus"], waiting["info"]["stopOrderType"], waiting["triggerPrice"]) == (
        "Untriggered",
        "Stop",
        61_000,
    )
    with pytest.raises(ccxt.InvalidOrder, match="110093"):
        await exchange.create_order(BTC, "market", "sell", 0.01, params={"triggerPrice": 61_000, "triggerDirection": 2})

    await admin.mark("BTCUSDT", "61000")

    fired = await exchange.fetch_order(placed["id"], BTC, params={"acknowledged": True})
    assert (fired["status"], fired["average"]) == ("closed", 61_000)
    (position,) = await exchange.fetch_positions([BTC])
    assert position["contracts"] == 0.01


async def test_a_canceled_conditional_order_is_deactivated(exchange: Any) -> None:
    params = {"triggerPrice": 58_000, "triggerDirection": "descending"}
    placed = await exchange.create_order(BTC, "limit", "sell", 0.01, 57_900, params=params)

    canceled = await exchange.cancel_all_orders(BTC, params={"orderFilter": "StopOrder"})

    assert [order["id"] for order in canceled] == [placed["id"]]
    (ended,) = await exchange.fetch_canceled_and_closed_orders(BTC)
    assert (ended["info"]["orderStatus"], ended["status"]) == ("Deactivated", "canceled")


async def test_a_post_only_order_that_would_take_is_cancelled(exchange: Any) -> None:
    placed = await exchange.create_order(BTC, "limit", "buy", 0.01, 60_100, params={"postOnly": True})

    order = await exchange.fetch_order(placed["id"], BTC, params={"acknowledged": True})

    assert (order["status"], order["info"]["rejectReason"]) == ("canceled", "EC_PostOnlyWillTakeLiquidity")
    assert await held(exchange) == []


async def test_market_data_follows_the_admin_market(exchange: Any, admin: Admin, simulator: RunningSimulator) -> None:
    start = 1_700_000_040_000  # on a minute boundary
    for minute, close in enumerate(("60100", "60300", "60200")):
        body = {"symbol": "BTCUSDT", "timeframe": "1m", "timestamp": start + minute * 60_000}
        await admin.call("POST", "candle", body | {"open": "60000", "high": "60400", "low": "59900", "close": close})

    candles = await exchange.fetch_ohlcv(BTC, "1m", since=start, limit=3)
    assert [candle[4] for candle in candles] == [60_100, 60_300, 60_200]
    ticker = await exchange.fetch_ticker(BTC)
    assert (ticker["last"], ticker["bid"], ticker["ask"]) == (60_200, 60_200, 60_200)

    book = {"symbol": "BTCUSDT", "bids": [["60190", "1.5"]], "asks": [["60210", "0.2"], ["60220", "3"]]}
    await admin.call("POST", "book", book)
    order_book = await exchange.fetch_order_book(BTC, 50)
    assert (order_book["bids"], order_book["asks"]) == ([[60_190, 1.5]], [[60_210, 0.2], [60_220, 3]])
    await exchange.create_order(BTC, "market", "buy", 0.3)  # walks the book: 0.2 at 60 210, 0.1 at 60 220
    (position,) = await exchange.fetch_positions([BTC])
    assert position["entryPrice"] == pytest.approx(60_213.333333)


async def test_funding_and_open_interest(exchange: Any, admin: Admin) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.5)

    await admin.call("POST", "funding", {"symbol": "BTCUSDT", "rate": "0.0002"})

    (rate,) = await exchange.fetch_funding_rate_history(BTC)
    assert rate["fundingRate"] == 0.0002
    assert (await exchange.fetch_funding_rate(BTC))["fundingRate"] == 0.0002
    assert (await exchange.fetch_open_interest(BTC))["openInterestAmount"] == 0.5
    balance = await exchange.fetch_balance()
    assert balance["USDT"]["total"] == pytest.approx(10_000 - 16.5 - 6)  # taker fee, then 0.02 % of 30 000


async def test_ccxt_with_its_own_defaults_asks_the_account_type_and_the_server_time(
    simulator: RunningSimulator, account: AccountConfig
) -> None:
    client = ccxt.bybit({"apiKey": account.api_key, "secret": account.api_secret.get_secret_value()})
    client.options |= {"fetchMarkets": {"types": ["linear"]}, "adjustForTimeDifference": True}
    client.has["fetchCurrencies"] = False
    client.urls["api"] = dict.fromkeys(client.urls["api"], simulator.url)
    client.timeout_on_exit = 0
    try:
        assert abs(await client.fetch_time() - time.time() * 1000) < 5000
        balance = await client.fetch_balance({"type": "swap"})  # /v5/user/query-api and /v5/account/info first

        assert balance["USDT"]["total"] == 10_000
        assert (client.options["enableUnifiedAccount"], client.options["unifiedMarginStatus"]) == (True, 6)
    finally:
        await client.close()


async def test_a_symbol_switches_margin_mode_with_its_leverage_as_on_a_classic_account(exchange: Any) -> None:
    switch = {"category": "linear", "symbol": "BTCUSDT", "tradeMode": 1, "buyLeverage": "5", "sellLeverage": "5"}

    await exchange.privatePostV5PositionSwitchIsolated(switch)
    with pytest.raises(ccxt.MarginModeAlreadySet, match="110026"):
        await exchange.privatePostV5PositionSwitchIsolated(switch)

    await exchange.create_order(BTC, "market", "buy", 0.01)
    (position,) = await exchange.fetch_positions([BTC])
    assert (position["info"]["tradeMode"], position["leverage"]) == (1, 5)
    info = await exchange.privateGetV5AccountInfo()
    assert info["result"]["marginMode"] == "REGULAR_MARGIN"  # the other symbols are still cross


async def test_the_admin_api_deposits_and_withdraws(exchange: Any, admin: Admin, account: AccountConfig) -> None:
    assert await admin.call("POST", "deposit", {"api_key": account.api_key, "amount": "500"}) == {
        "wallet": "10500",
        "available": "10500",
    }
    await admin.call("POST", "deposit", {"api_key": account.api_key, "amount": "-2000"})

    assert (await exchange.fetch_balance())["USDT"]["total"] == 8_500
