"""Callers that are not people: webhook alerts (``POST /webhook/{source}``) and the crypto provider's
payment callback (``POST /payments/crypto/callback``). Both authenticate with their own secret, checked by
the service; neither takes a session.

Answers: 202 accepted (with what became of the alert), 401 wrong or missing secret, 404 unknown or
disabled source, 413 body too large, 422 not a JSON object; a well-signed alert that is stale or
malformed is stored as rejected for admins and answered 202 with ``outcome: rejected`` and the reason.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from elcaro.core.clock import now_ms
from elcaro.models.errors import ValidationError
from elcaro.providers.crypto_pay import SIGNATURE_HEADER
from elcaro.signals import WebhookSecretError
from elcaro.web.context import Svc, client_ip
from elcaro.web.errors import error_body
from elcaro.web.schemas.admin import IngestOut
from elcaro.web.schemas.common import UNSTORABLE, Model, error_responses, unstorable_text

router = APIRouter(tags=["inbound"])

MAX_BODY = 16 * 1024
"""A TradingView alert is a few hundred bytes; a provider callback a few kilobytes."""


class CallbackOut(Model):
    ok: bool = True
    payment_id: int | None = None
    replayed: bool = False


class _TooLargeError(Exception):
    pass


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise _TooLargeError
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _TooLargeError
    return body


@router.post("/webhook/{source}", response_model=IngestOut, status_code=202, responses={401: {}, 404: {}, 422: {}})
async def webhook(source: str, request: Request, svc: Svc) -> Any:
    """A TradingView-style alert (JSON object with the source's ``secret``) for webhook source ``source``."""
    svc.limits.webhook_ip.take(client_ip(request))
    try:
        raw = await _body(request)
    except _TooLargeError:
        return JSONResponse(error_body("too_large", f"at most {MAX_BODY} bytes"), status_code=413)
    try:
        payload = json.loads(raw)
    except ValueError:
        raise ValidationError("the body is not JSON", field="body") from None
    if not isinstance(payload, dict):
        raise ValidationError("the body is a JSON object", field="body")
    if unstorable_text(payload):
        raise ValidationError(UNSTORABLE, field="body")
    try:
        result = await svc.runtime.ingest.ingest_webhook(source[:64], payload, now_ms())
    except WebhookSecretError:
        return JSONResponse(error_body("bad_secret", "wrong or missing secret"), status_code=401)
    return IngestOut(outcome=result.outcome.value, signal_id=result.signal_id, reason=result.reason)


@router.post("/payments/crypto/callback", response_model=CallbackOut, responses=error_responses(503))
async def crypto_callback(request: Request, svc: Svc) -> Any:
    """The crypto provider's webhook: the raw body and its signature header go to the payment service as received."""
    svc.limits.webhook_ip.take(client_ip(request))
    try:
        raw = await _body(request)
    except _TooLargeError:
        return JSONResponse(error_body("too_large", f"at most {MAX_BODY} bytes"), status_code=413)
    result = await svc.runtime.platform.payments.crypto_callback(raw, request.headers.get(SIGNATURE_HEADER))
    if result is None:
        return CallbackOut()
    return CallbackOut(payment_id=result.payment.id, replayed=result.replayed)
