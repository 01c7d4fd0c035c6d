"""Schemathesis over the whole OpenAPI document, through a real uvicorn server on the real platform.

Every operation gets property-based requests (valid and invalid, from the document itself) as a logged-in
user, then every admin operation again as an admin. No answer may be a server error: a 500 never, and any
other 5xx only where the operation documents it (``503 not_configured``: the platform is not set up for it).

The server runs in the test's event loop (the platform's services live there); hypothesis and schemathesis's
blocking client run in a worker thread beside it. ``ELCARO_OPENAPI_EXAMPLES`` sets the examples per
operation (default 12).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from web_world import RELAXED, init_data

from elcaro.models import TelegramProfile, User
from elcaro.services.runtime import Runtime
from elcaro.web.app import API_PREFIX, create_app, serving

pytestmark = [pytest.mark.db, pytest.mark.slow]

EXAMPLES = int(os.environ.get("ELCARO_OPENAPI_EXAMPLES", "12"))
ADMIN_PREFIXES = (f"{API_PREFIX}/admin", f"{API_PREFIX}/engine")
LOCK_OUT = ("ban", "reject", "demote")
"""Admin operations on a user that would end the admin's own access if aimed at the admin."""


@dataclass
class Findings:
    server_errors: dict[str, str] = field(default_factory=dict)
    """``METHOD path status`` → one request that got it (as curl)."""
    answered: dict[str, set[int]] = field(default_factory=dict)

    def note(self, case: Any, response: requests.Response, headers: dict[str, str]) -> None:
        label = f"{case.method.upper()} {case.path}"
        self.answered.setdefault(label, set()).add(response.status_code)
        if response.status_code >= 500 and not _documented(case, response):
            key = f"{label} {response.status_code}"
            if key not in self.server_errors:
                self.server_errors[key] = f"{case.as_curl_command(headers=headers)}\n→ {response.text[:300]}"


def _documented(case: Any, response: requests.Response) -> bool:
    """A deliberate 5xx the operation's document promises (never a 500)."""
    if response.status_code == 500:
        return False
    responses = case.operation.definition.raw.get("responses", {})
    return str(response.status_code) in responses


def _explore(schema: Any, base_url: str, who: dict[str, tuple[User, str]]) -> Findings:
    findings = Findings()
    _, user_token = who["user"]
    admin, admin_token = who["admin"]
    operations = [result.ok() for result in schema.get_all_operations()]
    passes = [(op, user_token, None) for op in operations]
    passes += [(op, admin_token, admin.id) for op in operations if op.path.startswith(ADMIN_PREFIXES)]
    with requests.Session() as session:
        for operation, token, own_id in passes:
            strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE) | (
                operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE)
            )
            if own_id is not None and operation.path.endswith(LOCK_OUT):
                strategy = strategy.filter(lambda case, own=own_id: (case.path_parameters or {}).get("user_id") != own)
            _hammer(strategy, findings, session, base_url, {"Authorization": f"Bearer {token}"})
    return findings


def _hammer(
    strategy: Any, findings: Findings, session: requests.Session, base_url: str, headers: dict[str, str]
) -> None:
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case: Any) -> None:
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        findings.note(case, response, headers)

    check()


async def _person(runtime: Runtime, telegram_id: int, *, admin: bool = False) -> User:
    users = runtime.platform.users
    person = await users.register(TelegramProfile(telegram_id, username=f"t{telegram_id}"))
    person = await users.approve(person.id)
    person = await users.accept_terms(person.id)
    return await users.promote(person.id) if admin else person


async def test_openapi_finds_no_server_errors(runtime: Runtime) -> None:
    user = await _person(runtime, 5002)
    admin = await _person(runtime, 5003, admin=True)
    app = create_app(runtime, runtime.platform.settings, limits=RELAXED)
    async with serving(app, "127.0.0.1", 0) as url, httpx.AsyncClient(base_url=url) as client:
        document = (await client.get("/openapi.json")).json()
        who = {}
        for role, person in (("user", user), ("admin", admin)):
            answer = await client.post(
                "/api/v1/auth/telegram/mini-app", json={"init_data": init_data(person.telegram_id)}
            )
            who[role] = (person, answer.json()["access_token"])
        schema = schemathesis.openapi.from_dict(document)
        findings = await asyncio.to_thread(_explore, schema, url, who)
        still_mine = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {who['admin'][1]}"})
    assert findings.server_errors == {}, "\n\n".join(f"{k}\n{v}" for k, v in sorted(findings.server_errors.items()))
    # The tokens held for the whole run: every route that takes one answered something besides 401.
    logins = ("/mini-app", "/widget", "/refresh", "/logout")
    locked_out = [
        label
        for label, statuses in findings.answered.items()
        if label.split(" ")[1].startswith(API_PREFIX) and not label.endswith(logins) and statuses <= {401}
    ]
    assert locked_out == []
    assert still_mine.status_code == 200
