"""The ccxt HyperLiquid instance the adapter drives: fast signing hooked in, no builder fee, no referrer.

Two of ccxt's HyperLiquid behaviours are switched off on purpose:

- **Builder fee and referral.** Before its first order, cancel or modify, ccxt runs ``initialize_client``: it signs
  an ``approveBuilderFee`` for ccxt's builder address (0.01%, or 0% with ``builderFee`` off, which still attaches
  the builder), then sends ``setReferrer`` with ccxt's code, and once the approval has gone through every order
  action carries ``"builder": {"b": ..., "f": ...}``. Users here pay no builder fee and trade under no referrer, so
  ``initialize_client`` does nothing: ``approvedBuilderFee`` never becomes true, no ``builder`` field is ever signed,
  and no approve or refer action is ever sent. (It also asked ``userAbstraction``, only for ccxt's fetch_balance,
  which the adapter does not use.)
- **Signing.** ``sign_l1_action`` (every order, cancel, modify and leverage change) is replaced by
  :class:`~elcaro.exchanges.hyperliquid.signing.L1Signer`: the same signature bytes, tens of microseconds instead of
  milliseconds. It is the one method ccxt calls to sign an L1 action, so the request ccxt builds around the
  signature is byte for byte what stock ccxt sends.
"""

from __future__ import annotations

from typing import Any

import ccxt.pro  # type: ignore[import-untyped]

from elcaro.exchanges.ccxt.errors import VenueError, VenueErrors, remember_response
from elcaro.exchanges.ccxt.urls import rebase_urls
from elcaro.exchanges.hyperliquid.signing import L1Signer, Signature
from elcaro.models import Environment
from elcaro.models.errors import (
    AuthenticationError,
    InsufficientFundsError,
    InvalidOrderError,
    OrderNotFoundError,
    RateLimitedError,
)

TIMEOUT_MS = 10_000
MARKET_SLIPPAGE = "0.05"
"""A market order is an IOC limit this far through the mid price (ccxt's default, HyperLiquid's UI's too)."""


class ElcaroHyperliquid(ccxt.pro.hyperliquid):  # type: ignore[misc]
    """ccxt's HyperLiquid with L1 signing by ``signer`` (when given), no set-up actions, and responses remembered."""

    def __init__(self, config: dict[str, Any], signer: L1Signer | None = None) -> None:
        super().__init__(config)
        self.elcaro_signer = signer

    def sign_l1_action(
        self,
        action: Any,
        nonce: Any,
        vaultAdress: Any = None,
        expiresAfter: Any = None,
    ) -> Signature | Any:
        if self.elcaro_signer is None:
            return super().sign_l1_action(action, nonce, vaultAdress, expiresAfter)
        return self.elcaro_signer.sign_l1_action(action, nonce, vaultAdress, expiresAfter)

    async def initialize_client(self) -> bool:
        """ccxt's builder-fee approval, referral and abstraction query: none of them (see the module docstring)."""
        return True

    def handle_errors(
        self,
        code: int,
        reason: str,
        url: str,
        method: str,
        headers: Any,
        body: str,
        response: Any,
        request_headers: Any,
        request_body: Any,
    ) -> Any:
        remember_response(code, headers, response)
        return super().handle_errors(code, reason, url, method, headers, body, response, request_headers, request_body)


def options() -> dict[str, Any]:
    return {
        # Perpetuals only: one metaAndAssetCtxs request at load instead of three (spot meta, HIP-3 dexes).
        "fetchMarkets": {"types": ["swap"]},
        "defaultSlippage": MARKET_SLIPPAGE,
        # Beside initialize_client doing nothing: ccxt attaches its builder to orders only once this is true, and
        # sends setReferrer only while refSet is false.
        "approvedBuilderFee": False,
        "refSet": True,
    }


def create_exchange(
    environment: Environment,
    *,
    private_key: str | None,
    wallet_address: str | None,
    base_url: str | None = None,
    fast_signing: bool = True,
) -> ElcaroHyperliquid:
    """A HyperLiquid instance: the agent key signs, ``wallet_address`` (the main wallet) is the account queried.

    ``fast_signing=False`` keeps ccxt's own signing, for the comparisons in tests and benchmarks.
    """
    is_mainnet = environment is Environment.LIVE
    config: dict[str, Any] = {"enableRateLimit": False, "timeout": TIMEOUT_MS, "options": options()}
    signer = None
    if private_key is not None and wallet_address is not None:
        config |= {"privateKey": private_key, "walletAddress": wallet_address}
        signer = L1Signer(private_key, is_mainnet=is_mainnet) if fast_signing else None
    exchange = ElcaroHyperliquid(config, signer)
    exchange.has = {**exchange.has, "fetchCurrencies": False}
    exchange.set_sandbox_mode(not is_mainnet)
    if base_url is not None:
        exchange.urls["api"] = rebase_urls(exchange.urls["api"], base_url)
    return exchange


def _read(body: Any) -> VenueError:
    """HyperLiquid has no error codes: ``{"status":"err","response":"..."}`` or an ``error`` among order statuses."""
    if not isinstance(body, dict):
        return VenueError(None, None)
    if body.get("status") == "err":
        return VenueError(None, str(body.get("response")))
    if body.get("status") == "unknownOid":
        return VenueError(None, "unknown order")
    response = body.get("response")
    data = response.get("data") if isinstance(response, dict) else None
    statuses = data.get("statuses") if isinstance(data, dict) else None
    for status in statuses or []:
        if isinstance(status, dict) and "error" in status:
            return VenueError(None, str(status["error"]))
    return VenueError(None, None)


def is_duplicate(message: str | None) -> bool:
    """HyperLiquid refuses a cloid it already has with an error naming the cloid as a duplicate."""
    text = (message or "").lower()
    return "duplicate" in text and "cloid" in text


ERRORS = VenueErrors(
    venue="hyperliquid",
    read=_read,
    # HyperLiquid's own texts, for what ccxt files under a class that misleads a trader (or under none).
    messages=(
        ("User or API Wallet", AuthenticationError),  # the agent key is not approved for this wallet
        ("Insufficient margin", InsufficientFundsError),
        ("Too many cumulative requests", RateLimitedError),
        ("Order was never placed, already canceled, or filled", OrderNotFoundError),
        ("unknown order", OrderNotFoundError),
        ("Order has invalid size", InvalidOrderError),
        ("Order has invalid price", InvalidOrderError),
        ("Price must be divisible by tick size", InvalidOrderError),
        ("Invalid leverage", InvalidOrderError),
        ("Cannot switch leverage type", InvalidOrderError),
    ),
)
