"""What the simulator refuses, and the ccxt exception each refusal becomes (ccxt's own table for Bybit decides)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import ccxt.async_support as ccxt
import pytest

from elcaro.exchanges.simulator import AccountConfig
from simulator.conftest import BTC
from simulator.helpers import Admin, held


async def test_an_unknown_key_is_an_authentication_error(make_client: Callable[..., Any]) -> None:
    client = make_client(secrets.token_hex(9), secrets.token_hex(18))
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10003"):
            await client.fetch_balance()
    finally:
        await client.close()


async def test_a_wrong_secret_is_a_bad_signature(make_client: Callable[..., Any], account: AccountConfig) -> None:
    client = make_client(account.api_key, secrets.token_hex(18))
    try:
        with pytest.raises(ccxt.AuthenticationError, match="10004"):
            await client.create_order(BTC, "market", "buy", 0.01)
    finally:
        await client.close()


async def test_a_stale_timestamp_is_refused_before_the_signature_counts(exchange: Any) -> None:
    exchange.options["timeDifference"] = 6_000  # ccxt signs with a clock 6 s behind; the window is 5 s

    with pytest.raises(ccxt.InvalidNonce, match="10002"):
        await exchange.create_order(BTC, "market", "buy", 0.01)

    exchange.options["timeDifference"] = 0
    assert await held(exchange) == []


async def test_an_order_the_balance_cannot_carry_is_insufficient_funds(exchange: Any) -> None:
    await exchange.set_leverage(1, BTC)

    with pytest.raises(ccxt.InsufficientFunds, match="110007"):
        await exchange.create_order(BTC, "limit", "buy", 0.2, 59_000)  # 11 800 USDT at 1x against 10 000

    assert await exchange.fetch_open_orders(BTC) == []


async def test_a_quantity_under_the_minimum_is_refused_as_bybit_does(exchange: Any) -> None:
    await exchange.load_markets()
    request = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market"}

    # ccxt rounds the amount to the step itself and refuses what rounds to nothing before sending it.
    with pytest.raises(ccxt.InvalidOrder):
        await exchange.create_order(BTC, "market", "buy", 0.0004)
    # Sent as it is, Bybit's answer is a parameter error, which ccxt files under BadRequest.
    with pytest.raises(ccxt.BadRequest, match="minimum limit"):
        await exchange.privatePostV5OrderCreate(request | {"qty": "0.0005"})
    with pytest.raises(ccxt.BadRequest, match="qtyStep"):
        await exchange.privatePostV5OrderCreate(request | {"qty": "0.0015"})
    with pytest.raises(ccxt.BadRequest, match="maximum limit"):
        await exchange.privatePostV5OrderCreate(request | {"qty": "120"})  # maxMktOrderQty is 119


async def test_an_order_worth_less_than_five_usdt_is_an_invalid_order(exchange: Any) -> None:
    with pytest.raises(ccxt.InvalidOrder, match="110094"):
        await exchange.create_order("DOGE/USDT:USDT", "market", "buy", 10)  # 10 DOGE at 0.1: 1 USDT


async def test_unknown_symbols_and_other_categories(exchange: Any) -> None:
    with pytest.raises(ccxt.BadSymbol):
        await exchange.publicGetV5MarketTickers({"category": "linear", "symbol": "PEPEUSDT"})
    with pytest.raises(ccxt.BadRequest, match="category futures invalid"):
        await exchange.publicGetV5MarketTickers({"category": "futures"})
    # Bybit's other categories exist and are empty here: nothing is listed, held or traded in them.
    assert (await exchange.publicGetV5MarketTickers({"category": "spot"}))["result"]["list"] == []
    assert await exchange.fetch_positions(None, {"subType": "inverse"}) == []
    order = {"category": "spot", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"}
    with pytest.raises(ccxt.BadRequest, match="linear only"):
        await exchange.privatePostV5OrderCreate(order)


async def test_unknown_and_finished_orders_cannot_be_canceled(exchange: Any) -> None:
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await exchange.cancel_order("999", BTC)
    filled = await exchange.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.InvalidOrder, match="110008"):
        await exchange.cancel_order(filled["id"], BTC)
    resting = await exchange.create_order(BTC, "limit", "buy", 0.01, 50_000)
    await exchange.cancel_order(resting["id"], BTC)
    with pytest.raises(ccxt.InvalidOrder, match="110010"):
        await exchange.cancel_order(resting["id"], BTC)
    with pytest.raises(ccxt.OrderNotFound, match="110001"):
        await exchange.edit_order(resting["id"], BTC, "limit", "buy", 0.02, 50_000)


async def test_an_amendment_must_keep_the_order_valid_and_above_its_filled_quantity(
    exchange: Any, admin: Admin
) -> None:
    await admin.call("POST", "book", {"symbol": "BTCUSDT", "bids": [["59990", "1"]], "asks": [["60010", "0.01"]]})
    placed = await exchange.create_order(BTC, "limit", "buy", 0.05, 60_100, params={"clientOrderId": "part"})
    partial = await exchange.fetch_open_order(placed["id"], BTC)
    assert (partial["info"]["orderStatus"], partial["filled"], partial["remaining"]) == ("PartiallyFilled", 0.01, 0.04)
    amend = {"category": "linear", "symbol": "BTCUSDT", "orderLinkId": "part"}

    with pytest.raises(ccxt.InvalidOrder, match="110064"):
        await exchange.privatePostV5OrderAmend(amend | {"qty": "0.01"})
    with pytest.raises(ccxt.BadRequest, match="tickSize"):
        await exchange.privatePostV5OrderAmend(amend | {"price": "60000.05"})
    with pytest.raises(ccxt.BadRequest, match="unchanged"):
        await exchange.privatePostV5OrderAmend(amend)
    await exchange.privatePostV5OrderAmend(amend | {"qty": "0.03", "price": "59000"})

    amended = await exchange.fetch_open_order(placed["id"], BTC)
    assert (amended["amount"], amended["remaining"], amended["price"]) == (0.03, 0.02, 59_000)


async def test_hedge_mode_and_partial_tpsl_are_refused_not_pretended(exchange: Any) -> None:
    await exchange.create_order(BTC, "market", "buy", 0.01)
    with pytest.raises(ccxt.BadRequest, match="position idx"):
        await exchange.create_order(BTC, "market", "buy", 0.01, params={"positionIdx": 1})
    with pytest.raises(ccxt.BadRequest, match="tpslMode"):
        await exchange.create_order(
            BTC, "market", "sell", 0.01, None, {"stopLossPrice": 55_000, "takeProfitPrice": 65_000}
        )
