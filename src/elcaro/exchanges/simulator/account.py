"""The account: wallet balance, account info, account-wide margin mode, fee rates, and the API key's own details.

Accounts are unified trading accounts (UTA 2.0, ``unifiedMarginStatus`` 6) holding USDT; ccxt asks
``/v5/user/query-api`` and ``/v5/account/info`` to learn that unless its options already say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from elcaro.exchanges.paper.pricing import money
from elcaro.exchanges.simulator import codes, render
from elcaro.exchanges.simulator.routing import Call, Route
from elcaro.exchanges.simulator.wire import SETTLE, BybitError, category, num, required, text
from elcaro.models import MarginMode
from elcaro.models.decimals import ZERO

_MARGIN_MODES: Final = {"ISOLATED_MARGIN": MarginMode.ISOLATED, "REGULAR_MARGIN": MarginMode.CROSS}
_CREATED_AT: Final = "2024-01-01T00:00:00Z"


def wallet_balance(call: Call) -> Mapping[str, Any]:
    account_type = required(call.params, "accountType")
    if account_type != "UNIFIED":
        raise BybitError(codes.PARAMS, f"accountType only support UNIFIED, got {account_type}")
    coins = (text(call.params, "coin") or SETTLE).split(",")
    engine = call.venue.engine
    balance = engine.balance(call.account_id)
    position_margin = sum(
        (money(p.qty * p.entry_price * p.contract_size / p.leverage, "up") for p in engine.positions(call.account_id)),
        ZERO,
    )
    entry = render.wallet(balance, position_margin)
    if SETTLE not in coins:
        entry["coin"] = []
    return {"list": [entry]}


def _margin_mode(call: Call) -> str:
    """UTA margin mode is account-wide; the paper venue keeps one per symbol, so isolated means all of them are."""
    modes = {call.venue.engine.margin_mode(call.account_id, market.symbol) for market in call.venue.markets.values()}
    return "ISOLATED_MARGIN" if modes == {MarginMode.ISOLATED} else "REGULAR_MARGIN"


def account_info(call: Call) -> Mapping[str, Any]:
    return {
        "marginMode": _margin_mode(call),
        "updatedTime": str(call.venue.engine.now()),
        "unifiedMarginStatus": 6,
        "dcpStatus": "OFF",
        "timeWindow": 10,
        "smpGroup": 0,
        "isMasterTrader": False,
        "spotHedgingStatus": "OFF",
    }


def set_margin_mode(call: Call) -> Mapping[str, Any]:
    """Every symbol at once, or none: a symbol with a position or open orders in the other mode refuses the switch
    (retCode 3400045 with the reasons, as Bybit answers a failed switch)."""
    wanted = required(call.params, "setMarginMode")
    mode = _MARGIN_MODES.get(wanted)
    if mode is None:
        raise BybitError(codes.PARAMS, f"setMarginMode {wanted} is not simulated (ISOLATED_MARGIN or REGULAR_MARGIN)")
    engine, account_id = call.venue.engine, call.account_id
    busy = {order.symbol for order in engine.open_orders(account_id)} | {p.symbol for p in engine.positions(account_id)}
    blocked = [
        call.venue.market_id(symbol) for symbol in sorted(busy) if engine.margin_mode(account_id, symbol) is not mode
    ]
    if blocked:
        reason = {"reasonCode": "3400070", "reasonMsg": f"open positions or orders on {', '.join(blocked)}"}
        raise BybitError(
            codes.SET_MARGIN_MODE_FAILED, codes.message(codes.SET_MARGIN_MODE_FAILED), result={"reasons": [reason]}
        )
    for market in call.venue.markets.values():
        engine.set_margin_mode(account_id, market.symbol, mode)
    return {"reasons": []}


def fee_rate(call: Call) -> Mapping[str, Any]:
    if not category(call.params):
        return {"list": []}
    symbol = text(call.params, "symbol")
    markets = [call.venue.market(symbol)] if symbol is not None else list(call.venue.markets.values())
    config = call.venue.engine.config
    rows = [
        {
            "symbol": market.id,
            "baseCoin": "",
            "takerFeeRate": num(config.taker_fee),
            "makerFeeRate": num(config.maker_fee),
        }
        for market in markets
    ]
    return {"list": rows}


def query_api(call: Call) -> Mapping[str, Any]:
    account = call.account
    return {
        "id": str(account.uid),
        "note": "elcaro simulator",
        "apiKey": account.api_key,
        "readOnly": 0,
        "secret": "",
        "permissions": {
            "ContractTrade": ["Order", "Position"],
            "Spot": [],
            "Wallet": ["AccountTransfer"],
            "Options": [],
            "Derivatives": [],
            "CopyTrading": [],
            "BlockTrade": [],
            "Exchange": [],
            "NFT": [],
            "Affiliate": [],
        },
        "ips": ["*"],
        "type": 1,
        "deadlineDay": -1,
        "expiredAt": "",
        "createdAt": _CREATED_AT,
        "unified": 0,
        "uta": 1,
        "userID": account.uid,
        "inviterID": 0,
        "vipLevel": "No VIP",
        "mktMakerLevel": "0",
        "affiliateID": 0,
        "rsaPublicKey": "",
        "isMaster": True,
        "parentUid": "0",
        "kycLevel": "LEVEL_DEFAULT",
        "kycRegion": "",
    }


ROUTES = (
    Route("GET", "/v5/account/wallet-balance", wallet_balance, signed=True),
    Route("GET", "/v5/account/info", account_info, signed=True),
    Route("POST", "/v5/account/set-margin-mode", set_margin_mode, signed=True),
    Route("GET", "/v5/account/fee-rate", fee_rate, signed=True),
    Route("GET", "/v5/user/query-api", query_api, signed=True),
)
