"""Admins' licence, promo code and payment routes: what they change is what the user then sees; users are
refused; a wrong value is a 422 naming its field."""

from __future__ import annotations

from typing import Any

import pytest
from web_world import World

pytestmark = pytest.mark.db

DAY_MS = 86_400_000
ADMIN = "/api/v1/admin"


async def _people(world: World, admin_id: int, user_id: int) -> tuple[dict[str, str], dict[str, str], int]:
    await world.user(admin_id, admin=True)
    user = await world.user(user_id)
    return await world.headers(admin_id), await world.headers(user_id), user.id


async def test_grant_extend_and_revoke_a_licence(world: World) -> None:
    admin, headers, user_id = await _people(world, 7001, 7002)
    post = world.client.post

    granted = await post(
        f"{ADMIN}/users/{user_id}/licences", json={"tier": "basic", "days": 30, "reason": "beta"}, headers=admin
    )
    assert granted.status_code == 201, granted.text
    licence = granted.json()
    assert licence["tier"] == "basic" and licence["source"] == "admin"
    assert licence["expires_at"] - licence["starts_at"] == 30 * DAY_MS
    current = (await world.client.get("/api/v1/licences/current", headers=headers)).json()
    assert current["tier"] == "basic" and current["expires_at"] == licence["expires_at"]

    extended = await post(
        f"{ADMIN}/users/{user_id}/licences/extend", json={"days": 10, "reason": "sorry"}, headers=admin
    )
    assert extended.status_code == 200, extended.text
    assert extended.json()["id"] == licence["id"]
    assert extended.json()["expires_at"] == licence["expires_at"] + 10 * DAY_MS

    revoked = await post(f"{ADMIN}/users/{user_id}/licences/revoke", json={"reason": "chargeback"}, headers=admin)
    assert revoked.status_code == 200, revoked.text
    assert [item["id"] for item in revoked.json()] == [licence["id"]] and revoked.json()[0]["revoked_at"] is not None
    assert (await world.client.get("/api/v1/licences/current", headers=headers)).json()["tier"] is None

    overview = (await world.client.get(f"{ADMIN}/users/{user_id}/licences", headers=admin)).json()
    assert overview["current"]["tier"] is None
    assert [item["id"] for item in overview["history"]] == [licence["id"]]

    nothing_active = await post(
        f"{ADMIN}/users/{user_id}/licences/extend", json={"days": 1, "reason": "x"}, headers=admin
    )
    assert nothing_active.status_code == 404
    nobody = await post(
        f"{ADMIN}/users/999999/licences", json={"tier": "basic", "days": 1, "reason": "x"}, headers=admin
    )
    assert nobody.status_code == 404
    assert (await world.client.get(f"{ADMIN}/users/999999/licences", headers=admin)).status_code == 404


async def test_promo_codes_are_created_listed_and_redeemed(world: World) -> None:
    admin, headers, _ = await _people(world, 7011, 7012)
    made = await world.client.post(
        f"{ADMIN}/promos", json={"code": "spring-24", "tier": "premium", "days": 14, "max_uses": 2}, headers=admin
    )
    assert made.status_code == 201, made.text
    assert made.json()["code"] == "SPRING-24" and made.json()["uses"] == 0
    again = await world.client.post(
        f"{ADMIN}/promos", json={"code": "SPRING-24", "tier": "basic", "days": 1, "max_uses": 1}, headers=admin
    )
    assert again.status_code == 409

    redeemed = await world.client.post("/api/v1/licences/promo", json={"code": "spring-24"}, headers=headers)
    assert redeemed.status_code == 200, redeemed.text
    assert redeemed.json()["tier"] == "premium" and redeemed.json()["source"] == "promo"
    listed = (await world.client.get(f"{ADMIN}/promos", headers=admin)).json()
    assert [(p["code"], p["uses"], p["max_uses"]) for p in listed] == [("SPRING-24", 1, 2)]


async def test_a_declared_payment_is_approved_once_and_another_rejected(world: World) -> None:
    admin, headers, user_id = await _people(world, 7021, 7022)

    async def declare(reference: str) -> dict[str, Any]:
        body = {"tier": "basic", "months": 1, "amount": "25", "currency": "usdt", "reference": reference}
        answer = await world.client.post("/api/v1/payments/manual", json=body, headers=headers)
        assert answer.status_code == 201, answer.text
        declared: dict[str, Any] = answer.json()
        return declared

    first, second = await declare("tx 0xabc"), await declare("tx 0xdef")
    pending = (await world.client.get(f"{ADMIN}/payments/pending", headers=admin)).json()
    assert [(p["id"], p["user_id"], p["status"]) for p in pending] == [
        (first["id"], user_id, "pending"),
        (second["id"], user_id, "pending"),
    ]

    approved = await world.client.post(f"{ADMIN}/payments/{first['id']}/approve", json={"note": "seen"}, headers=admin)
    assert approved.status_code == 200, approved.text
    review = approved.json()
    assert review["payment"]["status"] == "paid" and review["licence"]["tier"] == "basic"
    assert review["payment"]["licence_id"] == review["licence"]["id"]
    assert [(e["from_status"], e["to_status"]) for e in review["events"]] == [(None, "pending"), ("pending", "paid")]
    assert (await world.client.get("/api/v1/licences/current", headers=headers)).json()["tier"] == "basic"
    twice = await world.client.post(f"{ADMIN}/payments/{first['id']}/approve", json={}, headers=admin)
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "conflict"

    rejected = await world.client.post(
        f"{ADMIN}/payments/{second['id']}/reject", json={"reason": "no such transfer"}, headers=admin
    )
    assert rejected.status_code == 200, rejected.text
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "no such transfer"
    mine = (await world.client.get(f"/api/v1/payments/{second['id']}", headers=headers)).json()
    assert mine["status"] == "rejected" and mine["reason"] == "no such transfer"  # the payer sees why
    assert (
        await world.client.post(f"{ADMIN}/payments/{second['id']}/reject", json={"reason": "x"}, headers=admin)
    ).status_code == 409

    assert (await world.client.get(f"{ADMIN}/payments/pending", headers=admin)).json() == []
    everything = (await world.client.get(f"{ADMIN}/payments", headers=admin)).json()
    assert [p["id"] for p in everything] == [second["id"], first["id"]]
    one = (await world.client.get(f"{ADMIN}/payments/{second['id']}", headers=admin)).json()
    assert [e["to_status"] for e in one["events"]] == ["pending", "rejected"] and one["licence"] is None
    assert (await world.client.get(f"{ADMIN}/payments/999999", headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/users/{user}/licences", {"tier": "gold", "days": 30, "reason": "x"}, "tier"),
        ("/users/{user}/licences", {"tier": "basic", "days": 0, "reason": "x"}, "days"),
        ("/users/{user}/licences", {"tier": "basic", "days": 30, "reason": ""}, "reason"),
        ("/users/{user}/licences", {"tier": "basic", "days": 30}, "reason"),
        ("/users/{user}/licences", {"tier": "basic", "days": 30, "reason": "x", "extra": 1}, "extra"),
        ("/users/{user}/licences/extend", {"days": 99999, "reason": "x"}, "days"),
        ("/users/{user}/licences/revoke", {"reason": "x" * 501}, "reason"),
        ("/promos", {"code": "x", "tier": "basic", "days": 1, "max_uses": 1}, "code"),
        ("/promos", {"code": "bad code!", "tier": "basic", "days": 1, "max_uses": 1}, "code"),
        ("/promos", {"code": "GOOD", "tier": "gold", "days": 1, "max_uses": 1}, "tier"),
        ("/promos", {"code": "GOOD", "tier": "basic", "days": 1, "max_uses": 0}, "max_uses"),
        ("/promos", {"code": "GOOD", "tier": "basic", "days": 1, "max_uses": 1, "valid_until": 1}, "valid_until"),
        ("/payments/{payment}/reject", {"reason": "   "}, "reason"),
        ("/payments/{payment}/approve", {"note": "x" * 501}, "note"),
    ],
)
async def test_a_wrong_value_is_refused_naming_its_field(
    world: World, path: str, body: dict[str, Any], field: str
) -> None:
    admin, headers, user_id = await _people(world, 7031, 7032)
    declared = await world.client.post(
        "/api/v1/payments/manual",
        json={"tier": "basic", "months": 1, "amount": "25", "currency": "USDT", "reference": "tx 1"},
        headers=headers,
    )
    url = ADMIN + path.format(user=user_id, payment=declared.json()["id"])
    answer = await world.client.post(url, json=body, headers=admin)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["field"] == field


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/users/{user}/licences", None),
        ("POST", "/users/{user}/licences", {"tier": "enterprise", "days": 3650, "reason": "me"}),
        ("POST", "/users/{user}/licences/extend", {"days": 3650, "reason": "me"}),
        ("POST", "/users/{user}/licences/revoke", {"reason": "me"}),
        ("GET", "/promos", None),
        ("POST", "/promos", {"code": "FREE4ME", "tier": "enterprise", "days": 3650, "max_uses": 1}),
        ("GET", "/payments", None),
        ("GET", "/payments/pending", None),
        ("GET", "/payments/{payment}", None),
        ("POST", "/payments/{payment}/approve", {}),
        ("POST", "/payments/{payment}/reject", {"reason": "me"}),
    ],
)
async def test_users_are_refused(world: World, method: str, path: str, body: dict[str, Any] | None) -> None:
    _, headers, user_id = await _people(world, 7041, 7042)
    declared = await world.client.post(
        "/api/v1/payments/manual",
        json={"tier": "basic", "months": 1, "amount": "25", "currency": "USDT", "reference": "tx 1"},
        headers=headers,
    )
    url = ADMIN + path.format(user=user_id, payment=declared.json()["id"])
    answer = await world.client.request(method, url, json=body, headers=headers)
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "forbidden"
    mine = (await world.client.get(f"/api/v1/payments/{declared.json()['id']}", headers=headers)).json()
    assert mine["status"] == "pending"  # nothing changed
    assert (await world.client.get("/api/v1/licences/current", headers=headers)).json()["tier"] is None
