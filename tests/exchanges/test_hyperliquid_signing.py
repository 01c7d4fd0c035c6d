"""The fast HyperLiquid signer must produce ccxt's signature bytes for every action, key, vault and network.

ccxt is the reference: its own request builders (create_orders_request, cancel_orders_request, edit_orders_request)
make the actions, so prices, sizes and key order are exactly what ccxt would send, and its own sign_l1_action and
build_*_sig give the signatures to match. Actions that ccxt builds only inside methods that go to the network
(leverage, margin, schedule cancel, ...) are written here as those methods write them and signed by ccxt directly.
Keys are derived from fixed seeds, so every failure reproduces; none of them holds anything.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import pickle
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from types import MappingProxyType
from typing import Any

import ccxt  # type: ignore[import-untyped]
import coincurve
import msgpack  # type: ignore[import-untyped]
import pytest
from ccxt.static_dependencies.ethabi.abi import EncodingTypeError  # type: ignore[import-untyped]
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from elcaro.exchanges.hyperliquid.signing import (
    USER_SIGNED_ACTIONS,
    L1Signer,
    action_hash,
    keccak256,
    l1_signing_digest,
    to_checksum_address,
    user_signed_digest,
)
from elcaro.models.secret import Secret

SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
WALLET = "0x" + "5a" * 20  # ccxt's credential check wants a wallet address; signing never reads it
VAULT = "0x" + hashlib.sha256(b"elcaro test vault").digest()[:20].hex()
NONCE = 1_767_225_600_000  # 2026-01-01T00:00:00Z in ms, a realistic nonce
CLOIDS = ["0x" + hashlib.sha256(f"cloid-{i}".encode()).digest()[:16].hex() for i in range(4)]
HL_CHAIN_ID = "0x66eee"  # what ccxt puts in signatureChainId (Arbitrum Sepolia, 421614)

# Markets the way HyperLiquid's meta describes them; ccxt.parse_market turns them into its precision rules.
RAW_MARKETS = [
    {"name": "BTC", "szDecimals": "5", "markPx": "104250.0", "baseId": "0", "maxLeverage": "40"},
    {"name": "ETH", "szDecimals": "4", "markPx": "3874.5", "baseId": "1", "maxLeverage": "25"},
    {"name": "SOL", "szDecimals": "2", "markPx": "187.123", "baseId": "5", "maxLeverage": "20"},
    {"name": "kPEPE", "szDecimals": "0", "markPx": "0.012345", "baseId": "119", "maxLeverage": "10"},
]
BTC, ETH, SOL, KPEPE = "BTC/USDC:USDC", "ETH/USDC:USDC", "SOL/USDC:USDC", "KPEPE/USDC:USDC"


def seeded_key(seed: str) -> bytes:
    key = hashlib.sha256(f"elcaro hyperliquid signing test key {seed}".encode()).digest()
    assert 0 < int.from_bytes(key, "big") < SECP256K1_ORDER
    return key


KEYS = [seeded_key(str(i)) for i in range(32)]


def make_ccxt(key: bytes, *, is_mainnet: bool) -> Any:
    exchange = ccxt.hyperliquid({"privateKey": "0x" + key.hex(), "walletAddress": WALLET})
    exchange.set_sandbox_mode(not is_mainnet)
    exchange.set_markets([exchange.parse_market(dict(raw)) for raw in RAW_MARKETS])
    return exchange


@functools.cache
def shared_ccxt(*, is_mainnet: bool) -> Any:
    """One instance per network for property tests, which swap ``privateKey`` in: building one per example is slow."""
    return make_ccxt(KEYS[0], is_mainnet=is_mainnet)


def ccxt_vault(vault: str | None) -> str | None:
    # ccxt's public methods strip the 0x (format_vault_address) before sign_l1_action hex-decodes the rest.
    return None if vault is None else vault.removeprefix("0x")


def ccxt_address(key: bytes) -> str:
    address: str = ccxt.Exchange.eth_get_address_from_private_key("0x" + key.hex())
    return address


def to_signature_bytes(signature: Mapping[str, Any]) -> bytes:
    return bytes.fromhex(signature["r"][2:] + signature["s"][2:]) + bytes([signature["v"] - 27])


# ---------------------------------------------------------------------------------------------------------------
# L1 actions: a catalogue of realistic actions, each built and signed by ccxt.
# ---------------------------------------------------------------------------------------------------------------

Built = tuple[dict[str, Any], int, dict[str, Any]]
"""An action, its nonce and ccxt's signature of it."""


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Any, str | None], Built]


def orders(*order_list: dict[str, Any], builder: bool = False, **params: Any) -> Callable[[Any, str | None], Built]:
    def build(exchange: Any, vault: str | None) -> Built:
        if builder:
            exchange.options["approvedBuilderFee"] = True
        request_params = dict(params) if vault is None else {**params, "vaultAddress": vault}
        request = exchange.create_orders_request(copy.deepcopy(list(order_list)), request_params)
        return request["action"], request["nonce"], request["signature"]

    return build


def cancels(ids: list[str], symbol: str, **params: Any) -> Callable[[Any, str | None], Built]:
    def build(exchange: Any, vault: str | None) -> Built:
        request_params = dict(params) if vault is None else {**params, "vaultAddress": vault}
        request = exchange.cancel_orders_request(list(ids), symbol, copy.deepcopy(request_params))
        return request["action"], request["nonce"], request["signature"]

    return build


def edits(*order_list: dict[str, Any]) -> Callable[[Any, str | None], Built]:
    def build(exchange: Any, vault: str | None) -> Built:
        request_params = {} if vault is None else {"vaultAddress": vault}
        request = exchange.edit_orders_request(copy.deepcopy(list(order_list)), request_params)
        return request["action"], request["nonce"], request["signature"]

    return build


def signed_by_ccxt(action: dict[str, Any], nonce: int = NONCE) -> Callable[[Any, str | None], Built]:
    def build(exchange: Any, vault: str | None) -> Built:
        return action, nonce, exchange.sign_l1_action(copy.deepcopy(action), nonce, ccxt_vault(vault))

    return build


def order(symbol: str, kind: str, side: str, amount: Any, price: Any = None, **params: Any) -> dict[str, Any]:
    return {"symbol": symbol, "type": kind, "side": side, "amount": amount, "price": price, "params": params}


WIRE_ORDER = {"a": 1, "b": True, "p": "3874.5", "s": "0.25", "r": False, "t": {"limit": {"tif": "Gtc"}}}

SCENARIOS = [
    Scenario("limit-gtc", orders(order(BTC, "limit", "buy", 0.0123, 104199.5))),
    Scenario("limit-ioc", orders(order(ETH, "limit", "sell", "1.2345", "3880.25", timeInForce="IOC"))),
    Scenario("limit-alo", orders(order(SOL, "limit", "buy", 12.5, 186.9, postOnly=True))),
    Scenario("limit-reduce-only", orders(order(ETH, "limit", "sell", 0.5, 3999, reduceOnly=True))),
    Scenario("limit-cloid", orders(order(BTC, "limit", "buy", 0.001, 99000, clientOrderId=CLOIDS[0]))),
    Scenario("market-buy", orders(order(BTC, "market", "buy", 0.01, 104250))),
    Scenario("market-sell-slippage", orders(order(SOL, "market", "sell", 3, 187.12, slippage="0.01"))),
    Scenario(
        "market-cloid-reduce", orders(order(ETH, "market", "sell", 2, 3874.5, reduceOnly=True, clientOrderId=CLOIDS[1]))
    ),
    Scenario(
        "stop-loss-market", orders(order(BTC, "market", "sell", 0.02, 98000, stopLossPrice=98000, reduceOnly=True))
    ),
    Scenario("stop-loss-limit", orders(order(ETH, "limit", "sell", 1, 3500, stopLossPrice="3510", reduceOnly=True))),
    Scenario("take-profit-limit", orders(order(SOL, "limit", "sell", 4, 210, takeProfitPrice=209.5, reduceOnly=True))),
    Scenario("trigger-price", orders(order(BTC, "market", "buy", 0.05, 110000, triggerPrice=109000))),
    Scenario("tiny-price", orders(order(KPEPE, "limit", "buy", 250000, 0.0123456))),
    Scenario(
        "normal-tpsl",
        orders(
            order(
                BTC,
                "limit",
                "buy",
                0.02,
                104000,
                stopLoss={"triggerPrice": 101000},
                takeProfit={"triggerPrice": 110000},
            )
        ),
    ),
    Scenario(
        "normal-tpsl-limit-legs",
        orders(
            order(
                ETH,
                "market",
                "sell",
                1.5,
                3874.5,
                stopLoss={"triggerPrice": "3990", "price": "4000", "type": "limit"},
                takeProfit={"triggerPrice": "3600", "price": "3590", "type": "limit"},
            )
        ),
    ),
    Scenario(
        "position-tpsl",
        orders(
            order(
                SOL,
                "limit",
                "buy",
                10,
                187,
                grouping="positionTpsl",
                stopLoss={"triggerPrice": 170},
                takeProfit={"triggerPrice": 220},
            )
        ),
    ),
    Scenario(
        "stop-loss-only-attached", orders(order(BTC, "limit", "sell", 0.01, 105000, stopLoss={"triggerPrice": 107000}))
    ),
    Scenario(
        "several-orders",
        orders(
            order(BTC, "limit", "buy", 0.001, 100000, clientOrderId=CLOIDS[0]),
            order(ETH, "limit", "sell", 0.3, 4000, clientOrderId=CLOIDS[1], postOnly=True),
            order(SOL, "market", "buy", 1, 187.1, clientOrderId=CLOIDS[2]),
            order(KPEPE, "limit", "sell", 100000, 0.0131, clientOrderId=CLOIDS[3], reduceOnly=True),
        ),
    ),
    Scenario("with-builder", orders(order(ETH, "limit", "buy", 0.1, 3800), builder=True)),
    Scenario("cancel", cancels(["123456789", "987654321012"], BTC)),
    Scenario("cancel-one", cancels(["42"], SOL)),
    Scenario("cancel-by-cloid", cancels([], ETH, clientOrderId=[CLOIDS[0], CLOIDS[2]])),
    Scenario(
        "batch-modify",
        edits(
            {**order(BTC, "limit", "buy", 0.002, 103000), "id": "4567890123"},
            {**order(ETH, "limit", "sell", 0.4, 3950, timeInForce="ALO"), "id": "4567890124"},
        ),
    ),
    Scenario("batch-modify-cloid", edits({**order(SOL, "limit", "buy", 2, 180, clientOrderId=CLOIDS[3]), "id": "77"})),
    Scenario("modify", signed_by_ccxt({"type": "modify", "oid": 4567890123, "order": WIRE_ORDER})),
    Scenario(
        "modify-by-cloid", signed_by_ccxt({"type": "modify", "oid": CLOIDS[1], "order": {**WIRE_ORDER, "c": CLOIDS[1]}})
    ),
    Scenario(
        "update-leverage-cross", signed_by_ccxt({"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 20})
    ),
    Scenario(
        "update-leverage-isolated",
        signed_by_ccxt({"type": "updateLeverage", "asset": 5, "isCross": False, "leverage": 3}),
    ),
    Scenario(
        "add-margin", signed_by_ccxt({"type": "updateIsolatedMargin", "asset": 1, "isBuy": True, "ntli": 25_500_000})
    ),
    Scenario(
        "reduce-margin", signed_by_ccxt({"type": "updateIsolatedMargin", "asset": 1, "isBuy": True, "ntli": -1_000_000})
    ),
    Scenario("schedule-cancel", signed_by_ccxt({"type": "scheduleCancel", "time": NONCE + 60_000})),
    Scenario(
        "twap",
        signed_by_ccxt({"type": "twapOrder", "twap": {"a": 0, "b": True, "s": "0.5", "r": False, "m": 30, "t": False}}),
    ),
    # ccxt's withdraw-from-vault puts the float amount straight into the action: msgpack float64 on both sides.
    Scenario(
        "vault-transfer-float",
        signed_by_ccxt({"type": "vaultTransfer", "vaultAddress": VAULT, "isDeposit": False, "usd": 12.75}),
    ),
    Scenario("noop", signed_by_ccxt({"type": "noop"}, nonce=NONCE + 1)),
]


@pytest.mark.parametrize("vault", [None, VAULT], ids=["own-account", "vault"])
@pytest.mark.parametrize("is_mainnet", [True, False], ids=["mainnet", "testnet"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_l1_signature_matches_ccxt(scenario: Scenario, is_mainnet: bool, vault: str | None) -> None:
    key = KEYS[SCENARIOS.index(scenario) % len(KEYS)]
    exchange = make_ccxt(key, is_mainnet=is_mainnet)
    action, nonce, expected = scenario.build(exchange, vault)

    signer = L1Signer(key.hex(), is_mainnet=is_mainnet)

    assert action_hash(action, nonce, vault) == bytes(exchange.action_hash(action, ccxt_vault(vault), nonce))
    assert signer.sign_l1_action(action, nonce, vault) == expected


def test_catalogue_covers_the_action_shapes_it_claims() -> None:
    """Guards the catalogue against a ccxt upgrade quietly building something else for these inputs."""
    exchange = make_ccxt(KEYS[0], is_mainnet=True)
    built = {s.name: s.build(exchange, None)[0] for s in SCENARIOS}

    def tif(name: str, index: int = 0) -> Any:
        return built[name]["orders"][index]["t"].get("limit", {}).get("tif")

    assert (tif("limit-gtc"), tif("limit-ioc"), tif("limit-alo"), tif("market-buy")) == ("Gtc", "Ioc", "Alo", "Ioc")
    assert built["limit-cloid"]["orders"][0]["c"] == CLOIDS[0]
    assert "c" not in built["limit-gtc"]["orders"][0]
    assert built["limit-reduce-only"]["orders"][0]["r"] is True
    assert built["stop-loss-market"]["orders"][0]["t"]["trigger"] == {
        "isMarket": True,
        "triggerPx": "98000",
        "tpsl": "sl",
    }
    assert built["take-profit-limit"]["orders"][0]["t"]["trigger"]["tpsl"] == "tp"
    assert built["normal-tpsl"]["grouping"] == "normalTpsl"
    assert len(built["normal-tpsl"]["orders"]) == 3
    assert built["position-tpsl"]["grouping"] == "positionTpsl"
    assert [o["s"] for o in built["position-tpsl"]["orders"]] == ["0", "0"]
    assert len(built["several-orders"]["orders"]) == 4
    assert set(built["with-builder"]) == {"type", "orders", "grouping", "builder"}
    assert built["cancel"] == {"type": "cancel", "cancels": [{"a": 0, "o": 123456789}, {"a": 0, "o": 987654321012}]}
    assert built["cancel-by-cloid"]["type"] == "cancelByCloid"
    assert built["batch-modify"]["type"] == "batchModify"
    assert list(built["limit-gtc"]) == ["type", "orders", "grouping"]
    assert list(built["limit-gtc"]["orders"][0]) == ["a", "b", "p", "s", "r", "t"]


@pytest.mark.parametrize("key", KEYS, ids=[f"key{i}" for i in range(len(KEYS))])
def test_many_keys_sign_like_ccxt_and_derive_its_address(key: bytes) -> None:
    is_mainnet = key[0] % 2 == 0  # spread the keys over both networks
    exchange = make_ccxt(key, is_mainnet=is_mainnet)
    request = exchange.create_orders_request(
        [order(BTC, "limit", "buy", 0.01, 104000, clientOrderId=CLOIDS[0], stopLoss={"triggerPrice": 100000})]
    )
    signer = L1Signer("0x" + key.hex(), is_mainnet=is_mainnet)

    assert signer.sign_l1_action(request["action"], request["nonce"]) == request["signature"]
    assert signer.address.lower() == ccxt_address(key)
    assert signer.address == to_checksum_address(signer.address.lower())


@pytest.mark.parametrize("expires_after", [NONCE + 5_000, 2**40, 2**44 - 1])
@pytest.mark.parametrize("vault", [None, VAULT])
def test_expires_after_matches_ccxt(vault: str | None, expires_after: int) -> None:
    key = KEYS[3]
    exchange = make_ccxt(key, is_mainnet=True)
    action = {"type": "cancel", "cancels": [{"a": 1, "o": 91_000_000_001}]}

    expected = exchange.sign_l1_action(action, NONCE, ccxt_vault(vault), expires_after)

    assert L1Signer(key, is_mainnet=True).sign_l1_action(action, NONCE, vault, expires_after) == expected


@pytest.mark.parametrize("form", [VAULT, VAULT[2:], VAULT.upper().replace("0X", "0x"), to_checksum_address(VAULT)])
def test_vault_address_in_any_spelling_signs_the_same(form: str) -> None:
    signer = L1Signer(KEYS[4], is_mainnet=False)
    action = {"type": "scheduleCancel", "time": NONCE}

    assert signer.sign_l1_action(action, NONCE, form) == signer.sign_l1_action(action, NONCE, VAULT)


def test_network_and_vault_change_the_signature() -> None:
    action = {"type": "noop"}
    mainnet = L1Signer(KEYS[5], is_mainnet=True).sign_l1_action(action, NONCE)
    testnet = L1Signer(KEYS[5], is_mainnet=False).sign_l1_action(action, NONCE)
    vault = L1Signer(KEYS[5], is_mainnet=True).sign_l1_action(action, NONCE, VAULT)
    assert len({mainnet["r"], testnet["r"], vault["r"]}) == 3


def test_action_hash_layout_follows_hyperliquid_sdk_outside_ccxts_nonce_range() -> None:
    """ccxt's hex nonce only works for 11 hex digits; the exchange reads 8 big-endian bytes, as done here."""
    action = {"type": "noop"}
    packed = msgpack.packb(action)
    assert action_hash(action, 7) == keccak256(packed + (7).to_bytes(8, "big") + b"\x00")
    assert action_hash(action, 2**63, VAULT, 2**64 - 1) == keccak256(
        packed + (2**63).to_bytes(8, "big") + b"\x01" + bytes.fromhex(VAULT[2:]) + b"\x00" + b"\xff" * 8
    )
    with pytest.raises(ValueError, match="Odd-length"):  # ccxt: "00000" + "07" is seven hex digits
        make_ccxt(KEYS[0], is_mainnet=True).action_hash(action, None, 7)


# ---------------------------------------------------------------------------------------------------------------
# Recovery: the signature must verify against the digest ccxt's own EIP-712 code computes.
# ---------------------------------------------------------------------------------------------------------------


def ccxt_l1_digest(exchange: Any, action: dict[str, Any], nonce: int, vault: str | None, *, is_mainnet: bool) -> bytes:
    connection_id = exchange.action_hash(action, ccxt_vault(vault), nonce)
    agent = exchange.construct_phantom_agent(connection_id, not is_mainnet)
    domain = {
        "chainId": 1337,
        "name": "Exchange",
        "verifyingContract": "0x0000000000000000000000000000000000000000",
        "version": "1",
    }
    types = {"Agent": [{"name": "source", "type": "string"}, {"name": "connectionId", "type": "bytes32"}]}
    message = exchange.eth_encode_structured_data(domain, types, agent)
    return bytes.fromhex(exchange.hash_message(message)[2:])


@pytest.mark.parametrize("is_mainnet", [True, False], ids=["mainnet", "testnet"])
@pytest.mark.parametrize("key", KEYS[:8], ids=[f"key{i}" for i in range(8)])
def test_signature_recovers_to_signer_address(key: bytes, is_mainnet: bool) -> None:
    exchange = make_ccxt(key, is_mainnet=is_mainnet)
    request = exchange.create_orders_request([order(ETH, "limit", "buy", 0.5, 3800, clientOrderId=CLOIDS[2])])
    action, nonce = request["action"], request["nonce"]
    signer = L1Signer(key, is_mainnet=is_mainnet)

    digest = ccxt_l1_digest(exchange, action, nonce, VAULT, is_mainnet=is_mainnet)
    signature = signer.sign_l1_action(action, nonce, VAULT)
    recovered = coincurve.PublicKey.from_signature_and_message(to_signature_bytes(signature), digest, hasher=None)

    assert digest == l1_signing_digest(action_hash(action, nonce, VAULT), is_mainnet=is_mainnet)
    assert to_checksum_address(keccak256(recovered.format(compressed=False)[1:])[-20:].hex()) == signer.address
    assert signature["v"] in (27, 28)
    assert int(signature["s"], 16) <= SECP256K1_ORDER // 2  # low s, as Ethereum and HyperLiquid require


# ---------------------------------------------------------------------------------------------------------------
# User-signed actions.
# ---------------------------------------------------------------------------------------------------------------

# ccxt has no builder for approveAgent; these are the field types of HyperLiquid's Python SDK.
APPROVE_AGENT_TYPES = {
    "HyperliquidTransaction:ApproveAgent": [
        {"name": "hyperliquidChain", "type": "string"},
        {"name": "agentAddress", "type": "address"},
        {"name": "agentName", "type": "string"},
        {"name": "nonce", "type": "uint64"},
    ]
}

USER = to_checksum_address("0x" + hashlib.sha256(b"elcaro test user").digest()[:20].hex())
SUB_ACCOUNT = "0x" + hashlib.sha256(b"elcaro test sub-account").digest()[:20].hex()


def user_action(action_type: str, chain: str, **fields: Any) -> dict[str, Any]:
    """An action the way ccxt assembles it for the wire: chain fields first, then the payload, then the type."""
    return {"hyperliquidChain": chain, "signatureChainId": HL_CHAIN_ID, **fields, "type": action_type}


def ccxt_user_signature(exchange: Any, action: dict[str, Any]) -> dict[str, Any]:
    builders = {
        "usdSend": exchange.build_usd_send_sig,
        "usdClassTransfer": exchange.build_usd_class_send_sig,
        "sendAsset": exchange.build_send_asset_sig,
        "withdraw3": exchange.build_withdraw_sig,
        "approveBuilderFee": exchange.build_approve_builder_fee_sig,
        "userDexAbstraction": exchange.build_user_dex_abstraction_sig,
        "userSetAbstraction": exchange.build_user_abstraction_sig,
    }
    payload = {k: v for k, v in action.items() if k not in ("type", "signatureChainId")}
    if action["type"] == "approveAgent":
        signature: dict[str, Any] = exchange.sign_user_signed_action(APPROVE_AGENT_TYPES, payload)
    else:
        signature = builders[action["type"]](payload)
    return signature


def user_actions(chain: str) -> list[dict[str, Any]]:
    return [
        user_action("usdSend", chain, destination=USER.lower(), amount="125.5", time=NONCE),
        user_action("usdClassTransfer", chain, amount="1000", toPerp=True, nonce=NONCE),
        user_action("usdClassTransfer", chain, amount=f"20.25 subaccount:{SUB_ACCOUNT[2:]}", toPerp=False, nonce=NONCE),
        user_action(
            "sendAsset",
            chain,
            destination=SUB_ACCOUNT,
            sourceDex="spot",
            destinationDex="",
            token="USDC:0x6d1e7cde53ba9467b783cb7c530ce054",
            amount="50",
            fromSubAccount="",
            nonce=NONCE,
        ),
        user_action("withdraw3", chain, destination=USER, amount="10.000001", time=NONCE),
        user_action("approveAgent", chain, agentAddress=SUB_ACCOUNT, agentName="elcaro-bot", nonce=NONCE),
        user_action("approveAgent", chain, agentAddress=USER, agentName="", nonce=NONCE),
        user_action("approveBuilderFee", chain, maxFeeRate="0.01%", builder=USER, nonce=NONCE),
        user_action("userDexAbstraction", chain, user=USER.lower(), enabled=True, nonce=NONCE),
        user_action("userSetAbstraction", chain, user=USER, abstraction="unifiedAccount", nonce=NONCE),
    ]


USER_CASES = [(chain == "Mainnet", a) for chain in ("Mainnet", "Testnet") for a in user_actions(chain)]


@pytest.mark.parametrize(
    ("is_mainnet", "action"),
    USER_CASES,
    ids=[f"{a['type']}-{a['hyperliquidChain']}-{i}" for i, (_, a) in enumerate(USER_CASES)],
)
def test_user_signed_signature_matches_ccxt(is_mainnet: bool, action: dict[str, Any]) -> None:
    key = KEYS[USER_CASES.index((is_mainnet, action)) % len(KEYS)]
    exchange = make_ccxt(key, is_mainnet=is_mainnet)

    signature = L1Signer(key, is_mainnet=is_mainnet).sign_user_signed_action(action)

    assert signature == ccxt_user_signature(exchange, action)


def test_every_user_signed_type_is_covered() -> None:
    assert {a["type"] for a in user_actions("Mainnet")} == USER_SIGNED_ACTIONS


def test_user_signed_action_for_the_other_network_is_refused() -> None:
    action = user_actions("Testnet")[1]
    with pytest.raises(ValueError, match="Testnet"):
        L1Signer(KEYS[0], is_mainnet=True).sign_user_signed_action(action)


def test_user_signed_chain_id_comes_from_the_action() -> None:
    action = user_actions("Mainnet")[1]
    other = {**action, "signatureChainId": "0xa4b1"}  # Arbitrum One
    assert user_signed_digest(other) != user_signed_digest(action)


def test_bad_checksum_is_refused_like_ccxt_refuses_it() -> None:
    wrong = "0x" + "".join(c.swapcase() if c.isalpha() else c for c in USER[2:])
    action = user_action("approveBuilderFee", "Mainnet", maxFeeRate="0.01%", builder=wrong, nonce=NONCE)
    exchange = make_ccxt(KEYS[0], is_mainnet=True)
    with pytest.raises(EncodingTypeError, match="checksum"):
        ccxt_user_signature(exchange, action)
    with pytest.raises(ValueError, match="checksum"):
        L1Signer(KEYS[0], is_mainnet=True).sign_user_signed_action(action)


@pytest.mark.parametrize(
    ("action", "error", "match"),
    [
        ({"type": "order", "hyperliquidChain": "Mainnet"}, ValueError, "not a user-signed"),
        (user_action("withdraw3", "Mainnet", destination=USER, amount="1"), ValueError, "'time'"),
        (user_action("withdraw3", "Mainnet", destination=USER, amount=1.5, time=NONCE), TypeError, "amount"),
        (user_action("usdClassTransfer", "Mainnet", amount="1", toPerp=1, nonce=NONCE), TypeError, "toPerp"),
        (user_action("usdClassTransfer", "Mainnet", amount="1", toPerp=True, nonce=-1), ValueError, "nonce"),
        (
            user_action("approveAgent", "Mainnet", agentAddress="0x1234", agentName="", nonce=NONCE),
            ValueError,
            "20-byte",
        ),
        (
            {**user_action("usdSend", "Mainnet", destination=USER, amount="1", time=NONCE), "signatureChainId": 421614},
            ValueError,
            "signatureChainId",
        ),
        (
            {**user_action("usdSend", "Mainnet", destination=USER, amount="1", time=NONCE), "signatureChainId": "0xzz"},
            ValueError,
            "not hex",
        ),
    ],
)
def test_malformed_user_signed_actions_raise(action: dict[str, Any], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        L1Signer(KEYS[0], is_mainnet=True).sign_user_signed_action(action)


# ---------------------------------------------------------------------------------------------------------------
# Keys and inputs.
# ---------------------------------------------------------------------------------------------------------------


def test_key_forms_agree() -> None:
    key = KEYS[7]
    forms: list[str | bytes | Secret] = [key, key.hex(), "0x" + key.hex(), "0X" + key.hex().upper(), Secret(key.hex())]
    addresses = {L1Signer(form, is_mainnet=True).address for form in forms}
    assert addresses == {to_checksum_address(ccxt_address(key))}


INVALID_KEYS: list[tuple[str, str | bytes]] = [
    ("empty", ""),
    ("prefix-only", "0x"),
    ("short", "ab" * 31),
    ("long", "ab" * 33),
    ("non-hex", "zz" + "ab" * 31),
    ("whitespace", " " + "ab" * 32),
    ("newline", "ab" * 32 + "\n"),
    ("zero", "00" * 32),
    ("group-order", f"{SECP256K1_ORDER:064x}"),
    ("above-order", "ff" * 32),
    ("bytes-short", b"\x01" * 31),
    ("bytes-zero", bytes(32)),
    ("hex-as-bytes", ("ab" * 32).encode()),
]


@pytest.mark.parametrize(("label", "bad"), INVALID_KEYS, ids=[label for label, _ in INVALID_KEYS])
def test_invalid_key_raises_value_error_without_echoing_it(label: str, bad: str | bytes) -> None:
    with pytest.raises(ValueError, match="private key") as caught:
        L1Signer(bad, is_mainnet=True)
    if len(bad) >= 8:
        shown = bad if isinstance(bad, str) else bad.hex()
        assert shown.strip() not in str(caught.value)


def test_key_of_the_wrong_type_raises_type_error() -> None:
    with pytest.raises(TypeError, match="private key"):
        L1Signer(int.from_bytes(KEYS[0], "big"), is_mainnet=True)  # type: ignore[arg-type]


def test_signer_never_shows_or_pickles_its_key() -> None:
    signer = L1Signer(KEYS[1], is_mainnet=False)
    assert KEYS[1].hex() not in repr(signer)
    assert signer.address in repr(signer)
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(signer)


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda s: s.sign_l1_action({"type": "noop"}, -1), ValueError, "nonce"),
        (lambda s: s.sign_l1_action({"type": "noop"}, 2**64), ValueError, "nonce"),
        (lambda s: s.sign_l1_action({"type": "noop"}, float(NONCE)), TypeError, "nonce"),
        (lambda s: s.sign_l1_action({"type": "noop"}, True), TypeError, "nonce"),
        (lambda s: s.sign_l1_action({"type": "noop"}, NONCE, "0x1234"), ValueError, "vault_address"),
        (lambda s: s.sign_l1_action({"type": "noop"}, NONCE, VAULT + "00"), ValueError, "vault_address"),
        (lambda s: s.sign_l1_action({"type": "noop"}, NONCE, None, -5), ValueError, "expires_after"),
        (lambda s: s.sign_l1_action({"type": "order", "p": Decimal("1.5")}, NONCE), TypeError, "as strings"),
    ],
)
def test_bad_l1_inputs_raise(call: Callable[[L1Signer], object], error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        call(L1Signer(KEYS[2], is_mainnet=True))


def test_read_only_mapping_signs_like_the_dict() -> None:
    signer = L1Signer(KEYS[2], is_mainnet=True)
    action = {"type": "updateLeverage", "asset": 0, "isCross": True, "leverage": 5}
    assert signer.sign_l1_action(MappingProxyType(action), NONCE) == signer.sign_l1_action(action, NONCE)


@pytest.mark.parametrize(
    "address",
    # The checksummed examples of EIP-55 itself.
    [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0xde709f2102306220921060314715629080e2fb77",
    ],
)
def test_checksum_address_matches_eip55_examples(address: str) -> None:
    assert to_checksum_address(address.lower()) == address
    assert to_checksum_address(address.upper().replace("0X", "0x")) == address


# ---------------------------------------------------------------------------------------------------------------
# Properties: random keys, nonces, prices, sizes and payloads against ccxt.
# ---------------------------------------------------------------------------------------------------------------

private_keys = st.integers(min_value=1, max_value=SECP256K1_ORDER - 1).map(lambda k: k.to_bytes(32, "big"))
# ccxt encodes the nonce as "00000" + hex: it agrees with the exchange (and this signer) for 11 hex digits only.
ccxt_nonces = st.integers(min_value=2**40, max_value=2**44 - 1)
addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
amounts = st.decimals(min_value=Decimal("0.000001"), max_value=Decimal(10_000_000), places=6)
PROPERTY_SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def raw_orders(draw: st.DrawFn) -> dict[str, Any]:
    """An order as a caller hands it to ccxt; ccxt then rounds price and size into the strings it signs."""
    market = draw(st.sampled_from(RAW_MARKETS))
    symbol = f"{market['name'].upper()}/USDC:USDC"
    mark = Decimal(market["markPx"])
    size_step = Decimal(1).scaleb(-int(market["szDecimals"]))

    def price() -> str:
        # Extra decimals on purpose, so that ccxt's 5-significant-digit rounding has work to do.
        return str(draw(st.decimals(min_value=mark / 5, max_value=mark * 5, places=10)))

    params: dict[str, Any] = {}
    kind = draw(st.sampled_from(["limit", "market"]))
    if kind == "limit":
        params["timeInForce"] = draw(st.sampled_from(["GTC", "IOC", "ALO"]))
    if draw(st.booleans()):
        params["reduceOnly"] = True
    trigger = draw(st.sampled_from([None, "stopLossPrice", "takeProfitPrice"]))
    if trigger is not None:
        params[trigger] = price()
    size = draw(st.decimals(min_value=size_step, max_value=size_step * 10**7, places=int(market["szDecimals"]) + 2))
    return order(symbol, kind, draw(st.sampled_from(["buy", "sell"])), str(size), price(), **params)


@PROPERTY_SETTINGS
@given(
    key=private_keys,
    nonce=ccxt_nonces,
    raw=st.lists(raw_orders(), min_size=1, max_size=4),
    with_cloids=st.booleans(),
    vault=st.none() | addresses,
    is_mainnet=st.booleans(),
)
def test_random_orders_sign_like_ccxt(
    *, key: bytes, nonce: int, raw: list[dict[str, Any]], with_cloids: bool, vault: str | None, is_mainnet: bool
) -> None:
    if with_cloids:
        for i, item in enumerate(raw):
            item["params"]["clientOrderId"] = CLOIDS[i]
    exchange = shared_ccxt(is_mainnet=is_mainnet)
    exchange.privateKey = "0x" + key.hex()
    action = exchange.create_orders_request(copy.deepcopy(raw))["action"]

    expected = exchange.sign_l1_action(action, nonce, ccxt_vault(vault))

    assert L1Signer(key, is_mainnet=is_mainnet).sign_l1_action(action, nonce, vault) == expected


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=20)
        | st.dictionaries(st.text(string.ascii_letters, max_size=12), children, max_size=20)
    ),
    max_leaves=60,
)


@PROPERTY_SETTINGS
@given(value=json_values)
def test_msgpack_c_packer_matches_ccxts_vendored_packer(value: Any) -> None:
    assert msgpack.packb(value) == ccxt.Exchange.packb(value)


@PROPERTY_SETTINGS
@given(
    action=st.dictionaries(st.text(string.ascii_letters, min_size=1, max_size=12), json_values, min_size=1, max_size=8),
    nonce=ccxt_nonces,
    vault=st.none() | addresses,
    expires_after=st.none() | ccxt_nonces,
)
def test_random_payloads_hash_like_ccxt(
    action: dict[str, Any], nonce: int, vault: str | None, expires_after: int | None
) -> None:
    expected = bytes(shared_ccxt(is_mainnet=True).action_hash(action, ccxt_vault(vault), nonce, expires_after))
    assert action_hash(action, nonce, vault, expires_after) == expected


@PROPERTY_SETTINGS
@given(
    key=private_keys,
    nonce=ccxt_nonces,
    amount=amounts.map(str),
    to_perp=st.booleans(),
    destination=addresses,
    is_mainnet=st.booleans(),
)
def test_random_user_signed_actions_sign_like_ccxt(
    *, key: bytes, nonce: int, amount: str, to_perp: bool, destination: str, is_mainnet: bool
) -> None:
    chain = "Mainnet" if is_mainnet else "Testnet"
    exchange = shared_ccxt(is_mainnet=is_mainnet)
    exchange.privateKey = "0x" + key.hex()
    signer = L1Signer(key, is_mainnet=is_mainnet)

    for action in (
        user_action("usdClassTransfer", chain, amount=amount, toPerp=to_perp, nonce=nonce),
        user_action("withdraw3", chain, destination=destination, amount=amount, time=nonce),
        user_action("approveAgent", chain, agentAddress=destination, agentName=amount, nonce=nonce),
    ):
        assert signer.sign_user_signed_action(action) == ccxt_user_signature(exchange, action)
