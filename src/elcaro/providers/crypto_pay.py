"""Crypto Pay API (@CryptoBot): invoices created over HTTPS, payment webhooks verified by their signature.

The wire protocol, as the provider documents it (help.crypt.bot/crypto-pay-api):

- a request is ``POST {base}/{method}`` with a JSON body and the app's token in the header
  ``Crypto-Pay-API-Token``; the base is ``https://pay.crypt.bot/api`` (``testnet-pay.crypt.bot`` for the
  test network);
- an answer is ``{"ok": true, "result": …}`` or ``{"ok": false, "error": {"code": 400, "name": "…"}}``;
- a webhook is a POST of ``{"update_id", "update_type": "invoice_paid", "request_date", "payload": <Invoice>}``
  whose header ``crypto-pay-api-signature`` is the hex HMAC-SHA256 of the raw body, keyed with the SHA-256
  of the token. It is checked on the bytes as received: parsing and re-serialising would change them.

Amounts travel as decimal strings and are read as exact ``Decimal``. The token is a :class:`Secret`: it is
registered with the log scrubber and appears in no message, ``repr`` or log line.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from elcaro.core.logging import register_secret
from elcaro.models import Secret
from elcaro.models.errors import PermissionDeniedError, ValidationError
from elcaro.models.payment import PaymentProviderError

log = logging.getLogger(__name__)

PROVIDER = "crypto_pay"
TOKEN_HEADER = "Crypto-Pay-API-Token"  # noqa: S105 - a header name, not a secret
SIGNATURE_HEADER = "crypto-pay-api-signature"
INVOICE_PAID = "invoice_paid"
MAX_PAYLOAD = 4096
"""The provider keeps at most 4 KB of an invoice's payload."""


@dataclass(frozen=True, slots=True)
class ProviderInvoice:
    """The fields of a Crypto Pay ``Invoice`` the platform uses."""

    invoice_id: str
    status: str
    """``active``, ``paid`` or ``expired``."""
    asset: str | None
    amount: Decimal
    pay_url: str
    payload: str | None


@dataclass(frozen=True, slots=True)
class WebhookUpdate:
    update_id: int
    update_type: str
    invoice: ProviderInvoice


def signature_of(token: Secret, raw_body: bytes) -> str:
    """The hex signature Crypto Pay puts on ``raw_body``: HMAC-SHA256 keyed with SHA-256(token)."""
    key = hashlib.sha256(token.reveal().encode()).digest()
    return hmac.new(key, raw_body, hashlib.sha256).hexdigest()


class CryptoPayClient:
    """One app's client. ``transport`` lets a caller route requests elsewhere (httpx's own hook)."""

    def __init__(
        self,
        base_url: str,
        token: Secret,
        *,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        if not token:
            raise ValidationError("the Crypto Pay token is empty", field="crypto_pay_token")
        register_secret(token.reveal())
        self._token = token
        self._base_url = base_url.rstrip("/") + "/"
        self._timeout_s = timeout_s
        self._transport = transport

    def __repr__(self) -> str:
        return f"CryptoPayClient({self._base_url!r})"

    async def create_invoice(
        self, *, asset: str, amount: Decimal, description: str, payload: str, expires_in_s: int
    ) -> ProviderInvoice:
        """``createInvoice`` for ``amount`` of a crypto ``asset``; ``payload`` comes back with the paid webhook."""
        if len(payload.encode()) > MAX_PAYLOAD:
            raise ValidationError(f"at most {MAX_PAYLOAD} bytes", field="payload")
        body = {
            "currency_type": "crypto",
            "asset": asset,
            "amount": f"{amount:f}",
            "description": description[:1024],
            "payload": payload,
            "allow_comments": False,
            "allow_anonymous": True,
            "expires_in": expires_in_s,
        }
        return _invoice(await self._call("createInvoice", body))

    async def get_invoice(self, invoice_id: str) -> ProviderInvoice | None:
        """``getInvoices`` for one id: to reconcile a payment whose webhook never came."""
        result = await self._call("getInvoices", {"invoice_ids": invoice_id})
        items = result.get("items", []) if isinstance(result, dict) else result
        invoices = [_invoice(item) for item in items]
        return next((invoice for invoice in invoices if invoice.invoice_id == invoice_id), None)

    def verify(self, raw_body: bytes, signature: str | None) -> None:
        """Refuse a webhook body whose signature is missing or wrong (compared in constant time)."""
        if not signature or not signature.strip():
            raise PermissionDeniedError(f"the callback has no {SIGNATURE_HEADER} header: refused")
        expected = signature_of(self._token, raw_body).encode()
        given = signature.strip().lower().encode("ascii", "replace")
        if not hmac.compare_digest(expected, given):
            raise PermissionDeniedError("the callback's signature does not match its body: refused")

    def parse_update(self, raw_body: bytes) -> WebhookUpdate:
        """A verified webhook body as a :class:`WebhookUpdate`; ValidationError when it is not one."""
        try:
            data = json.loads(raw_body)
            return WebhookUpdate(int(data["update_id"]), str(data["update_type"]), _invoice(data["payload"]))
        except (ValueError, KeyError, TypeError) as error:
            raise ValidationError(f"not a Crypto Pay update ({type(error).__name__})", field="body") from None

    async def _call(self, method: str, body: dict[str, Any]) -> Any:
        # A client per request: invoices are rare, and nothing is left open for the platform to close.
        client = httpx.AsyncClient(
            base_url=self._base_url,
            headers={TOKEN_HEADER: self._token.reveal()},
            timeout=self._timeout_s,
            transport=self._transport,
            follow_redirects=False,
        )
        try:
            async with client:
                response = await client.post(method, json=body)
        except httpx.TimeoutException as error:
            raise PaymentProviderError(
                f"Crypto Pay did not answer {method} in time ({type(error).__name__}); the outcome is unknown",
                provider=PROVIDER,
                outcome_unknown=True,
            ) from None
        except httpx.HTTPError as error:
            raise PaymentProviderError(
                f"Crypto Pay could not be reached for {method} ({type(error).__name__})", provider=PROVIDER
            ) from None
        try:
            answer = response.json()
        except ValueError:
            raise PaymentProviderError(
                f"Crypto Pay answered {method} with HTTP {response.status_code} and no JSON", provider=PROVIDER
            ) from None
        if not isinstance(answer, dict) or not answer.get("ok"):
            refusal = answer.get("error", {}) if isinstance(answer, dict) else {}
            name = str(refusal.get("name") or f"HTTP_{response.status_code}")
            raise PaymentProviderError(f"Crypto Pay refused {method}: {name}", provider=PROVIDER, code=name)
        return answer.get("result")


def _invoice(data: Any) -> ProviderInvoice:
    try:
        amount = Decimal(str(data["amount"]))
        if not amount.is_finite():
            raise ValueError("amount")
        return ProviderInvoice(
            invoice_id=str(data["invoice_id"]),
            status=str(data["status"]),
            asset=data.get("asset"),
            amount=amount,
            pay_url=str(data.get("bot_invoice_url") or data.get("pay_url") or ""),
            payload=data.get("payload"),
        )
    except (KeyError, TypeError, ValueError, InvalidOperation) as error:
        raise PaymentProviderError(
            f"Crypto Pay sent an invoice the platform cannot read ({type(error).__name__})", provider=PROVIDER
        ) from None
