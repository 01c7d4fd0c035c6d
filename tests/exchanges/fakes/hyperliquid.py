"""A HyperLiquid fake: ``/info`` queries and signed ``/exchange`` actions, each signature's signer recovered.

Every ``/exchange`` request is checked the way HyperLiquid checks it: the action's EIP-712 digest (the phantom agent
of an L1 action, or the user-signed struct) is rebuilt from the JSON as sent, the signer's address is recovered from
the signature with libsecp256k1 (coincurve), and anything not signed by the account's agent key is answered
"User or API Wallet ... does not exist". Orders fill at the mid price when they cross it, or rest; trigger orders
rest and never fire.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import coincurve
from aiohttp import web

from elcaro.exchanges.hyperliquid.signing import (
    USER_SIGNED_ACTIONS,
    action_hash,
    keccak256,
    l1_signing_digest,
    to_checksum_address,
    user_signed_digest,
)
from fakes.server import FakeVenue

T0 = 1_767_225_600_000


@dataclass
class Coin:
    name: str
    sz_decimals: int
    max_leverage: int
    mid: Decimal


@dataclass
class Account:
    wallet: str
    agent: str
    value: Decimal = Decimal(10_000)
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    cloids: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, str] = field(default_factory=dict)
    positions: dict[str, dict[str, Any]] = field(default_factory=dict)
    leverage: dict[str, dict[str, Any]] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)


def _s(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0.0"


def recover_signer(digest: bytes, signature: dict[str, Any]) -> str:
    raw = bytes.fromhex(signature["r"][2:].rjust(64, "0") + signature["s"][2:].rjust(64, "0"))
    raw += bytes([int(signature["v"]) - 27])
    public = coincurve.PublicKey.from_signature_and_message(raw, digest, hasher=None).format(compressed=False)
    return to_checksum_address("0x" + keccak256(public[1:])[-20:].hex())


class FakeHyperliquid(FakeVenue):
    """A wallet traded by one approved agent, on BTC and ETH perpetuals (testnet signatures unless told)."""

    def __init__(self, wallet: str, agent: str, *, is_mainnet: bool = False) -> None:
        super().__init__()
        self.account = Account(wallet.lower(), to_checksum_address(agent))
        self.is_mainnet = is_mainnet
        self.coins = [Coin("BTC", 5, 40, Decimal("30000")), Coin("ETH", 4, 25, Decimal("2000.5"))]
        self.actions: list[dict[str, Any]] = []
        """Every signed action received, signature checked or not."""
        self._oids = itertools.count(1000)
        self._clock = itertools.count(T0, 1000)
        self.app.router.add_post("/info", self._info)
        self.app.router.add_post("/exchange", self._exchange)
        self.app.router.add_get("/ws", self._stream)
        self._streams: dict[web.WebSocketResponse, set[str]] = {}
        self._subscribed: dict[str, asyncio.Event] = {}

    def coin(self, name: str) -> Coin:
        return next(coin for coin in self.coins if coin.name == name)

    # ------------------------------------------------------------------------------------------------ /ws

    async def subscribed(self, kind: str) -> None:
        """Wait until a client has subscribed to ``kind`` (trades, candle, l2Book, orderUpdates, userFills, ...)."""
        await self._subscribed.setdefault(kind, asyncio.Event()).wait()

    async def _stream(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        self._streams[socket] = set()
        async for frame in socket:
            message = json.loads(frame.data)
            if message.get("method") == "ping":
                await socket.send_json({"channel": "pong"})
                continue
            if message.get("method") != "subscribe":
                continue
            subscription = message["subscription"]
            kind = subscription["type"]
            await socket.send_json({"channel": "subscriptionResponse", "data": message})
            self._streams[socket].add(kind)
            first = self._first(subscription)
            if first is not None:
                await socket.send_json({"channel": kind, "data": first})
            self._subscribed.setdefault(kind, asyncio.Event()).set()
        self._streams.pop(socket, None)
        return socket

    def _first(self, subscription: dict[str, Any]) -> Any:
        """What HyperLiquid sends right after a subscription: data for market feeds, a snapshot for fills."""
        kind = subscription["type"]
        if kind == "trades":
            mid = self.coin(subscription["coin"]).mid
            return [
                {
                    "coin": subscription["coin"],
                    "side": "A",
                    "px": _s(mid),
                    "sz": "0.015",
                    "time": T0,
                    "hash": "0x" + "11" * 32,
                    "tid": 777,
                    "users": ["0x" + "22" * 20, "0x" + "33" * 20],
                }
            ]
        if kind == "candle":
            mid = self.coin(subscription["coin"]).mid
            return {
                "t": T0,
                "T": T0 + 59_999,
                "s": subscription["coin"],
                "i": subscription["interval"],
                "o": _s(mid),
                "c": _s(mid + 1),
                "h": _s(mid + 5),
                "l": _s(mid - 5),
                "v": "10.5",
                "n": 3,
            }
        if kind == "l2Book":
            return self._info_l2Book({"coin": subscription["coin"]})
        if kind == "userFills":
            return {"isSnapshot": True, "user": self.account.wallet, "fills": []}
        return None

    def _publish(self, kind: str, data: Any) -> None:
        for socket, kinds in self._streams.items():
            if kind in kinds:
                asyncio.get_running_loop().create_task(socket.send_json({"channel": kind, "data": data}))

    def _publish_order(self, oid: int) -> None:
        order = self.account.orders[oid]
        entry = {"order": order, "status": self.account.statuses[oid], "statusTimestamp": order["timestamp"] + 1}
        self._publish("orderUpdates", [entry])

    # ---------------------------------------------------------------------------------------------- /info

    async def _info(self, request: web.Request) -> web.Response:
        body = await request.json()
        handler = getattr(self, "_info_" + body["type"], None)
        if handler is None:
            return web.json_response({"error": f"unknown info type {body['type']}"}, status=422)
        if "user" in body and body["user"].lower() != self.account.wallet:
            return web.json_response(None)
        return web.json_response(handler(body))

    def _info_metaAndAssetCtxs(self, body: dict[str, Any]) -> Any:
        universe = [
            {"name": c.name, "szDecimals": c.sz_decimals, "maxLeverage": c.max_leverage, "marginTableId": 1}
            for c in self.coins
        ]
        contexts = [
            {
                "funding": "0.0000125",
                "openInterest": "1234.5",
                "prevDayPx": _s(c.mid - 100),
                "dayNtlVlm": "98765432.1",
                "premium": "0.0001",
                "oraclePx": _s(c.mid - 1),
                "markPx": _s(c.mid),
                "midPx": _s(c.mid),
                "impactPxs": [_s(c.mid - 1), _s(c.mid + 1)],
                "dayBaseVlm": "3456.78",
            }
            for c in self.coins
        ]
        return [{"universe": universe}, contexts]

    def _info_allMids(self, body: dict[str, Any]) -> Any:
        return {c.name: _s(c.mid) for c in self.coins}

    def _info_l2Book(self, body: dict[str, Any]) -> Any:
        mid = self.coin(body["coin"]).mid
        bids = [{"px": _s(mid - i - 1), "sz": _s(Decimal("0.5") * (i + 1)), "n": 1} for i in range(3)]
        asks = [{"px": _s(mid + i + 1), "sz": _s(Decimal("0.25") * (i + 1)), "n": 2} for i in range(3)]
        return {"coin": body["coin"], "time": T0, "levels": [bids, asks]}

    def _info_candleSnapshot(self, body: dict[str, Any]) -> Any:
        req = body["req"]
        mid, start, end = self.coin(req["coin"]).mid, req["startTime"], req["endTime"]
        step = {"1m": 60_000, "1h": 3_600_000}[req["interval"]]
        first = -(-start // step) * step
        return [
            {
                "t": t,
                "T": t + step - 1,
                "s": req["coin"],
                "i": req["interval"],
                "o": _s(mid),
                "c": _s(mid + 1),
                "h": _s(mid + 2),
                "l": _s(mid - 2),
                "v": "1.5",
                "n": 3,
            }
            for t in range(first, end, step)
        ]

    def _info_clearinghouseState(self, body: dict[str, Any]) -> Any:
        positions = []
        unrealized = Decimal(0)
        for name, position in self.account.positions.items():
            szi, entry, mid = Decimal(position["szi"]), Decimal(position["entryPx"]), self.coin(name).mid
            pnl = szi * (mid - entry)
            unrealized += pnl
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": name,
                        "szi": position["szi"],
                        "entryPx": position["entryPx"],
                        "positionValue": _s(abs(szi) * mid),
                        "unrealizedPnl": _s(pnl),
                        "returnOnEquity": "0.0",
                        "liquidationPx": _s(entry * Decimal("0.7")),
                        "marginUsed": _s(abs(szi) * mid / 10),
                        "maxLeverage": self.coin(name).max_leverage,
                        "leverage": self._leverage(name),
                        "cumFunding": {"allTime": "0.0", "sinceOpen": "0.0", "sinceChange": "0.0"},
                    },
                }
            )
        value = self.account.value + unrealized
        summary = {"accountValue": _s(value), "totalNtlPos": "0.0", "totalRawUsd": _s(value), "totalMarginUsed": "0.0"}
        return {
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": "0.0",
            "withdrawable": _s(value - Decimal(100) * len(positions)),
            "assetPositions": positions,
            "time": T0,
        }

    def _leverage(self, name: str) -> dict[str, Any]:
        return self.account.leverage.get(name, {"type": "cross", "value": 20})

    def _info_activeAssetData(self, body: dict[str, Any]) -> Any:
        return {
            "user": body["user"],
            "coin": body["coin"],
            "leverage": self._leverage(body["coin"]),
            "maxTradeSzs": ["1.0", "1.0"],
            "availableToTrade": ["1000.0", "1000.0"],
            "markPx": "30000.0",
        }

    def _info_frontendOpenOrders(self, body: dict[str, Any]) -> Any:
        return [o for oid, o in self.account.orders.items() if self.account.statuses[oid] == "open"]

    def _info_historicalOrders(self, body: dict[str, Any]) -> Any:
        return [
            {"order": o, "status": self.account.statuses[oid], "statusTimestamp": o["timestamp"] + 1}
            for oid, o in self.account.orders.items()
        ]

    def _info_orderStatus(self, body: dict[str, Any]) -> Any:
        oid = self._find(body["oid"])
        if oid is None:
            return {"status": "unknownOid"}
        order = self.account.orders[oid]
        return {
            "status": "order",
            "order": {"order": order, "status": self.account.statuses[oid], "statusTimestamp": order["timestamp"] + 1},
        }

    def _info_userFills(self, body: dict[str, Any]) -> Any:
        return self.account.fills[::-1]

    def _info_userFillsByTime(self, body: dict[str, Any]) -> Any:
        return [fill for fill in self.account.fills if fill["time"] >= body["startTime"]]

    def _find(self, key: Any) -> int | None:
        if isinstance(key, int):
            return key if key in self.account.orders else None
        return self.account.cloids.get(key)

    # ------------------------------------------------------------------------------------------ /exchange

    async def _exchange(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        action = body["action"]
        self.actions.append(action)
        if action["type"] in USER_SIGNED_ACTIONS:
            digest = user_signed_digest(action)
        else:
            connection = action_hash(action, body["nonce"], body.get("vaultAddress"), body.get("expiresAfter"))
            digest = l1_signing_digest(connection, is_mainnet=self.is_mainnet)
        signer = recover_signer(digest, body["signature"])
        if signer != self.account.agent:
            return web.json_response(
                {"status": "err", "response": f"User or API Wallet {signer.lower()} does not exist."}
            )
        handler = getattr(self, "_act_" + action["type"], None)
        if handler is None:
            return web.json_response({"status": "err", "response": f"unsupported action {action['type']}"})
        return web.json_response(handler(action))

    @staticmethod
    def _ok(kind: str, statuses: list[Any]) -> dict[str, Any]:
        return {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}

    def _act_order(self, action: dict[str, Any]) -> Any:
        statuses = []
        grouping = action["grouping"]
        for index, wire in enumerate(action["orders"]):
            child = grouping == "normalTpsl" and index > 0
            statuses.append(self._place(wire, grouping, child))
        return self._ok("order", statuses)

    def _place(self, wire: dict[str, Any], grouping: str, child: bool) -> Any:  # noqa: PLR0911 - one answer per rule
        coin = self.coins[wire["a"]]
        cloid = wire.get("c")
        if cloid is not None and self._find(cloid) is not None:
            return {"error": "Duplicate cloid: an order with this cloid was already placed."}
        size, px = Decimal(wire["s"]), Decimal(wire["p"])
        if size % Decimal(1).scaleb(-coin.sz_decimals) or (size <= 0 and grouping != "positionTpsl"):
            return {"error": f"Order has invalid size. asset={wire['a']}"}
        position = self.account.positions.get(coin.name)
        held = Decimal(position["szi"]) if position else Decimal(0)
        buy = wire["b"]
        if wire["r"] and not child and "trigger" not in wire["t"] and (not held or (held > 0) == buy):
            return {"error": f"Reduce only order would increase position. asset={wire['a']}"}
        leverage = Decimal(self._leverage(coin.name)["value"])
        if not wire["r"] and size * px / leverage > self.account.value:
            return {"error": f"Insufficient margin to place order. asset={wire['a']}"}
        oid = next(self._oids)
        trigger = wire["t"].get("trigger")
        order = {
            "coin": coin.name,
            "side": "B" if buy else "A",
            "limitPx": wire["p"],
            "sz": wire["s"],
            "oid": oid,
            "timestamp": next(self._clock),
            "triggerCondition": "N/A",
            "isTrigger": trigger is not None,
            "triggerPx": trigger["triggerPx"] if trigger else "0.0",
            "children": [],
            "isPositionTpsl": grouping == "positionTpsl",
            "reduceOnly": wire["r"],
            "orderType": ("Take Profit Market" if trigger["tpsl"] == "tp" else "Stop Market") if trigger else "Limit",
            "origSz": wire["s"],
            "tif": None if trigger else wire["t"]["limit"]["tif"],
            "cloid": cloid,
        }
        self.account.orders[oid] = order
        self.account.statuses[oid] = "open"
        if cloid is not None:
            self.account.cloids[cloid] = oid
        self._publish_order(oid)
        if trigger is not None:
            return (
                "waitingForFill"
                if child
                else ("waitingForTrigger" if grouping == "positionTpsl" else {"resting": {"oid": oid}})
            )
        tif = wire["t"]["limit"]["tif"]
        crosses = px >= coin.mid if buy else px <= coin.mid
        if crosses and tif == "Alo":
            self.account.statuses[oid] = "rejected"  # HyperLiquid keeps the refused order, cloid included
            return {"error": f"Post only order would have immediately matched, bbo was {coin.mid}. asset={wire['a']}"}
        if not crosses:
            if tif == "Ioc":
                self.account.statuses[oid] = "canceled"
                return {"error": "Order could not immediately match against any resting orders. asset=0"}
            return {"resting": {"oid": oid, "cloid": cloid} if cloid else {"oid": oid}}
        self._fill(order, coin, held)
        return {
            "filled": {"totalSz": wire["s"], "avgPx": _s(coin.mid), "oid": oid, **({"cloid": cloid} if cloid else {})}
        }

    def _fill(self, order: dict[str, Any], coin: Coin, held: Decimal) -> None:
        size, mid = Decimal(order["sz"]), coin.mid
        signed = size if order["side"] == "B" else -size
        closing = held and (held > 0) != (signed > 0)
        closed_pnl = Decimal(0)
        direction = "Open Long" if signed > 0 else "Open Short"
        if closing:
            entry = Decimal(self.account.positions[coin.name]["entryPx"])
            closed = min(abs(signed), abs(held))
            closed_pnl = (mid - entry) * closed * (1 if held > 0 else -1)
            direction = "Close Long" if held > 0 else "Close Short"
        fee = size * mid * Decimal("0.00045")
        self.account.fills.append(
            {
                "coin": coin.name,
                "px": _s(mid),
                "sz": order["sz"],
                "side": order["side"],
                "time": next(self._clock),
                "startPosition": _s(held),
                "dir": direction,
                "closedPnl": _s(closed_pnl),
                "hash": "0x" + "00" * 32,
                "oid": order["oid"],
                "crossed": True,
                "fee": _s(fee),
                "tid": next(self._oids),
                "feeToken": "USDC",
                **({"cloid": order["cloid"]} if order.get("cloid") else {}),
            }
        )
        self.account.statuses[order["oid"]] = "filled"
        order["sz"] = "0.0"
        new = held + signed
        if not new:
            self.account.positions.pop(coin.name, None)
        elif closing:
            self.account.positions[coin.name]["szi"] = _s(new)
        else:
            old = self.account.positions.get(coin.name)
            entry = mid if old is None else (Decimal(old["entryPx"]) * abs(held) + mid * size) / abs(new)
            self.account.positions[coin.name] = {"szi": _s(new), "entryPx": _s(entry)}
        self.account.value -= fee
        self._publish(
            "userFills", {"isSnapshot": False, "user": self.account.wallet, "fills": [self.account.fills[-1]]}
        )
        self._publish_order(order["oid"])
        state = self._info_clearinghouseState({"user": self.account.wallet})
        self._publish("clearinghouseState", {"dex": "", "user": self.account.wallet, "clearinghouseState": state})

    def _cancel(self, oid: int | None) -> Any:
        if oid is None or self.account.statuses.get(oid) != "open":
            return {"error": "Order was never placed, already canceled, or filled. asset=0"}
        self.account.statuses[oid] = "canceled"
        return "success"

    def _act_cancel(self, action: dict[str, Any]) -> Any:
        return self._ok("cancel", [self._cancel(self._find(c["o"])) for c in action["cancels"]])

    def _act_cancelByCloid(self, action: dict[str, Any]) -> Any:
        return self._ok("cancel", [self._cancel(self._find(c["cloid"])) for c in action["cancels"]])

    def _act_batchModify(self, action: dict[str, Any]) -> Any:
        statuses: list[Any] = []
        for modify in action["modifies"]:
            oid = self._find(modify["oid"])
            if oid is None or self.account.statuses[oid] != "open":
                statuses.append({"error": "Cannot modify canceled or filled order"})
                continue
            wire = modify["order"]
            order = self.account.orders[oid]
            order.update(limitPx=wire["p"], sz=wire["s"], origSz=wire["s"])
            if "trigger" in wire["t"]:
                order["triggerPx"] = wire["t"]["trigger"]["triggerPx"]
            statuses.append({"resting": {"oid": oid}})
        return self._ok("order", statuses)

    def _act_updateLeverage(self, action: dict[str, Any]) -> Any:
        coin = self.coins[action["asset"]]
        if action["leverage"] > coin.max_leverage:
            return {"status": "err", "response": "Invalid leverage value"}
        self.account.leverage[coin.name] = {
            "type": "cross" if action["isCross"] else "isolated",
            "value": action["leverage"],
        }
        return {"status": "ok", "response": {"type": "default"}}
