"""Crypto payments against a local fake of the Crypto Pay API that speaks its wire protocol on loopback.

The fake checks the ``Crypto-Pay-API-Token`` header, answers in Crypto Pay's ``{"ok", "result" | "error"}``
envelope, and signs its webhook bodies as Crypto Pay does (hex HMAC-SHA256 of the raw body keyed with
SHA-256 of the token), computed here independently of the client under test.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from elcaro.models import Secret, TelegramProfile
from elcaro.models.errors import NotFoundError, PermissionDeniedError, ValidationError
from elcaro.models.licence import LicenceTier
from elcaro.models.payment import PaymentMethod, PaymentProviderError, PaymentStatus
from elcaro.models.timeframe import DAY_MS
from elcaro.providers.crypto_pay import CryptoPayClient
from elcaro.services.licences import LicenceConfig, LicenceService
from elcaro.services.payments import PaymentConfig, PaymentService
from elcaro.services.users import UserService
from elcaro.storage import Database
from elcaro.trading.licence import LicenceRules, PriceList

T0 = 1_750_000_000_000
ELC = 100_000_000


class FakeCryptoPay:
    """``createInvoice`` and ``getInvoices`` of https://pay.crypt.bot/api, and the webhooks it would send."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.invoices: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, dict[str, str], Any]] = []
        self._next = 700
        self._updates = 0
        self.app = web.Application()
        self.app.router.add_post("/api/{method}", self._handle)
        self._server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return str(self._server.make_url("/api"))

    async def start(self) -> None:
        self._server = TestServer(self.app, host="127.0.0.1")
        await self._server.start_server()

    async def close(self) -> None:
        if self._server is not None:
            await self._server.close()

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append((request.match_info["method"], dict(request.headers), body))
        if request.headers.get("Crypto-Pay-API-Token") != self.token:
            return _error(401, "UNAUTHORIZED")
        method = request.match_info["method"]
        if method == "createInvoice":
            return self._create(body)
        if method == "getInvoices":
            wanted = str(body.get("invoice_ids", "")).split(",")
            return web.json_response(
                {"ok": True, "result": {"items": [self.invoices[i] for i in wanted if i in self.invoices]}}
            )
        return _error(405, "METHOD_NOT_FOUND")

    def _create(self, body: dict[str, Any]) -> web.Response:
        if body.get("asset") not in ("USDT", "TON", "BTC"):
            return _error(400, "ASSET_INVALID")
        if not isinstance(body.get("amount"), str) or Decimal(body["amount"]) <= 0:
            return _error(400, "AMOUNT_INVALID")
        self._next += 1
        invoice = {
            "invoice_id": self._next,
            "hash": secrets.token_hex(6),
            "currency_type": "crypto",
            "asset": body["asset"],
            "amount": body["amount"],
            "bot_invoice_url": f"https://t.me/CryptoBot?start=IV{self._next}",
            "mini_app_invoice_url": f"https://t.me/CryptoBot/app?startapp=invoice-IV{self._next}",
            "web_app_invoice_url": f"https://app.send.tg/invoices/IV{self._next}",
            "description": body.get("description"),
            "status": "active",
            "created_at": "2025-06-15T12:00:00.000Z",
            "allow_comments": body.get("allow_comments", True),
            "allow_anonymous": body.get("allow_anonymous", True),
            "payload": body.get("payload"),
        }
        self.invoices[str(self._next)] = invoice
        return web.json_response({"ok": True, "result": invoice})

    def paid(self, invoice_id: str, **changes: Any) -> bytes:
        """Mark the invoice paid and return the body of the webhook Crypto Pay sends for it."""
        invoice = self.invoices[invoice_id]
        invoice.update(status="paid", paid_asset=invoice["asset"], paid_amount=invoice["amount"], **changes)
        invoice["paid_at"] = "2025-06-15T12:05:00.000Z"
        self._updates += 1
        update = {
            "update_id": self._updates,
            "update_type": "invoice_paid",
            "request_date": "2025-06-15T12:05:01.000Z",
            "payload": invoice,
        }
        return json.dumps(update, separators=(",", ":")).encode()

    def sign(self, body: bytes) -> str:
        return hmac.new(hashlib.sha256(self.token.encode()).digest(), body, hashlib.sha256).hexdigest()


def _error(status: int, name: str) -> web.Response:
    return web.json_response({"ok": False, "error": {"code": status, "name": name}}, status=status)


@pytest.fixture
async def fake() -> AsyncIterator[FakeCryptoPay]:
    server = FakeCryptoPay(f"{secrets.randbelow(10**6)}:{secrets.token_urlsafe(24)}")
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def client(fake: FakeCryptoPay) -> CryptoPayClient:
    return CryptoPayClient(fake.url, Secret(fake.token))


# --- the client ---------------------------------------------------------------------------------------


async def test_create_invoice_speaks_the_wire_protocol(fake: FakeCryptoPay, client: CryptoPayClient) -> None:
    invoice = await client.create_invoice(
        asset="USDT",
        amount=Decimal("71.25"),
        description="basic, 3 months",
        payload="lic:1:basic:3:ab",
        expires_in_s=900,
    )
    assert (invoice.status, invoice.asset, invoice.amount, invoice.payload) == (
        "active",
        "USDT",
        Decimal("71.25"),
        "lic:1:basic:3:ab",
    )
    assert invoice.pay_url == f"https://t.me/CryptoBot?start=IV{invoice.invoice_id}"
    [(method, headers, body)] = fake.requests
    assert method == "createInvoice" and headers["Crypto-Pay-API-Token"] == fake.token
    assert body == {
        "currency_type": "crypto",
        "asset": "USDT",
        "amount": "71.25",
        "description": "basic, 3 months",
        "payload": "lic:1:basic:3:ab",
        "allow_comments": False,
        "allow_anonymous": True,
        "expires_in": 900,
    }
    assert await client.get_invoice(invoice.invoice_id) == invoice
    assert await client.get_invoice("1") is None
    assert fake.token not in repr(client)


async def test_refusals_and_an_unreachable_provider_are_clear_errors(fake: FakeCryptoPay) -> None:
    wrong = CryptoPayClient(fake.url, Secret("1:wrong"))
    with pytest.raises(PaymentProviderError, match="Crypto Pay refused createInvoice: UNAUTHORIZED") as refused:
        await wrong.create_invoice(asset="USDT", amount=Decimal(1), description="x", payload="p", expires_in_s=60)
    assert refused.value.code == "UNAUTHORIZED" and not refused.value.outcome_unknown
    client = CryptoPayClient(fake.url, Secret(fake.token))
    with pytest.raises(PaymentProviderError, match="ASSET_INVALID"):
        await client.create_invoice(asset="DOGE", amount=Decimal(1), description="x", payload="p", expires_in_s=60)
    await fake.close()
    with pytest.raises(PaymentProviderError, match="could not be reached for createInvoice"):
        await client.create_invoice(asset="USDT", amount=Decimal(1), description="x", payload="p", expires_in_s=60)


async def test_only_a_body_signed_with_the_token_passes(fake: FakeCryptoPay, client: CryptoPayClient) -> None:
    invoice = await client.create_invoice(asset="TON", amount=Decimal(3), description="x", payload="p", expires_in_s=60)
    body = fake.paid(invoice.invoice_id)
    client.verify(body, fake.sign(body))
    client.verify(body, fake.sign(body).upper())
    with pytest.raises(PermissionDeniedError, match="no crypto-pay-api-signature header"):
        client.verify(body, None)
    with pytest.raises(PermissionDeniedError, match="signature does not match"):
        client.verify(body + b" ", fake.sign(body))
    forger = FakeCryptoPay("1:not-the-token")
    with pytest.raises(PermissionDeniedError, match="signature does not match"):
        client.verify(body, forger.sign(body))
    with pytest.raises(PermissionDeniedError, match="signature does not match"):
        client.verify(body, "zz\u00e9")
    update = client.parse_update(body)
    assert (update.update_type, update.invoice.invoice_id, update.invoice.status) == (
        "invoice_paid",
        invoice.invoice_id,
        "paid",
    )


# --- the payment service ------------------------------------------------------------------------------


@dataclass
class Shop:
    database: Database
    users: UserService
    licences: LicenceService
    payments: PaymentService

    async def user(self, telegram_id: int) -> int:
        return (await self.users.approve((await self.users.register(TelegramProfile(telegram_id))).id)).id

    async def state(self, payment_id: int) -> tuple[PaymentStatus, int, int]:
        """The payment's status, its number of status changes, and how many licences exist."""
        async with self.database.transaction() as tx:
            payment = await tx.payments.get(payment_id)
            assert payment is not None
            events = len(await tx.payments.events(payment_id))
            licences = len(await tx.licences.for_user(payment.user_id))
        return payment.status, events, licences


@pytest.fixture
def shop(database: Database, client: CryptoPayClient) -> Shop:
    prices = PriceList({LicenceTier.BASIC: 25 * ELC, LicenceTier.PREMIUM: 50 * ELC, LicenceTier.ENTERPRISE: 250 * ELC})
    licences = LicenceService(database, LicenceConfig(LicenceRules(frozenset()), prices), clock=lambda: T0)
    config = PaymentConfig(crypto_asset="USDT", crypto_asset_per_elc=Decimal("1.1"), crypto_invoice_ttl_s=900)
    payments = PaymentService(database, licences, config, client, clock=lambda: T0)
    return Shop(database, UserService(database), licences, payments)


@pytest.mark.db
async def test_a_signed_callback_grants_the_licence_once(fake: FakeCryptoPay, shop: Shop) -> None:
    user = await shop.user(77)
    invoice = await shop.payments.crypto_invoice(user, "premium", 1)
    assert (invoice.asset, invoice.amount) == ("USDT", Decimal(55))
    payment = await shop.payments.get(invoice.payment_id)
    assert (payment.method, payment.status, payment.external_id, payment.reference) == (
        PaymentMethod.CRYPTO,
        PaymentStatus.PENDING,
        invoice.invoice_id,
        invoice.pay_url,
    )
    body = fake.paid(invoice.invoice_id)

    result = await shop.payments.crypto_callback(body, fake.sign(body))
    assert result is not None and not result.replayed and result.licence is not None
    assert result.payment.status is PaymentStatus.PAID
    assert (result.licence.tier, result.licence.expires_at) == (LicenceTier.PREMIUM, T0 + 30 * DAY_MS)
    assert await shop.state(payment.id) == (PaymentStatus.PAID, 2, 1)

    replay = await shop.payments.crypto_callback(body, fake.sign(body))
    assert replay is not None and replay.replayed and replay.payment == result.payment
    assert await shop.state(payment.id) == (PaymentStatus.PAID, 2, 1)


@pytest.mark.db
async def test_a_forged_or_unsigned_callback_is_refused_and_nothing_is_written(fake: FakeCryptoPay, shop: Shop) -> None:
    user = await shop.user(78)
    invoice = await shop.payments.crypto_invoice(user, "basic", 1)
    body = fake.paid(invoice.invoice_id)
    before = await shop.state(invoice.payment_id)
    with pytest.raises(PermissionDeniedError, match="signature does not match"):
        await shop.payments.crypto_callback(body, FakeCryptoPay("9:forger").sign(body))
    with pytest.raises(PermissionDeniedError, match="no crypto-pay-api-signature"):
        await shop.payments.crypto_callback(body, None)
    tampered = body.replace(b'"amount":"27.5"', b'"amount":"0.01"')
    assert tampered != body
    with pytest.raises(PermissionDeniedError):
        await shop.payments.crypto_callback(tampered, fake.sign(body))
    assert await shop.state(invoice.payment_id) == before == (PaymentStatus.PENDING, 1, 0)


@pytest.mark.db
async def test_a_signed_callback_that_does_not_match_the_payment_is_refused(fake: FakeCryptoPay, shop: Shop) -> None:
    user = await shop.user(79)
    invoice = await shop.payments.crypto_invoice(user, "basic", 1)
    underpaid = fake.paid(invoice.invoice_id, amount="1")
    with pytest.raises(ValidationError, match=r"the invoice is for 1 USDT, the payment for 27\.5 USDT"):
        await shop.payments.crypto_callback(underpaid, fake.sign(underpaid))
    strange = fake.paid(invoice.invoice_id, payload="lic:99999:basic:1:0000")
    with pytest.raises(NotFoundError, match="names no payment"):
        await shop.payments.crypto_callback(strange, fake.sign(strange))
    assert await shop.state(invoice.payment_id) == (PaymentStatus.PENDING, 1, 0)

    other = json.dumps(
        {"update_id": 99, "update_type": "check_activated", "payload": fake.invoices[invoice.invoice_id]}
    )
    assert await shop.payments.crypto_callback(other.encode(), fake.sign(other.encode())) is None
    with pytest.raises(ValidationError, match="not a Crypto Pay update"):
        await shop.payments.crypto_callback(b"[]", fake.sign(b"[]"))


@pytest.mark.db
async def test_a_refused_invoice_leaves_a_failed_payment_with_the_reason(fake: FakeCryptoPay, shop: Shop) -> None:
    user = await shop.user(80)
    fake.token = "1:rotated"  # the platform's token no longer works
    with pytest.raises(PaymentProviderError, match="UNAUTHORIZED"):
        await shop.payments.crypto_invoice(user, "basic", 1)
    [payment] = await shop.payments.payments_for(user)
    assert payment.status is PaymentStatus.FAILED and "UNAUTHORIZED" in (payment.reason or "")
