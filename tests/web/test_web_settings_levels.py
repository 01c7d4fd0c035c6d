"""Settings at every level through the web API: what each level stores, how levels merge, whose they are."""

from __future__ import annotations

import pytest
from web_world import World

pytestmark = pytest.mark.db

SETTINGS = "/api/v1/me/settings"


async def test_each_level_reads_back_with_only_its_own_fields_and_merges_into_the_effective_settings(
    world: World,
) -> None:
    await world.user(3101)
    headers = await world.headers(3101)
    writes = [
        ("global", {}, {"risk_pct": "1", "leverage": 5}),
        ("exchange", {"exchange": "bybit"}, {"leverage": 3}),
        ("strategy", {"strategy": "cornix"}, {"risk_pct": "2"}),
        ("strategy_side", {"strategy": "cornix", "side": "short"}, {"risk_pct": "0.5"}),
    ]
    for scope, params, changes in writes:
        answer = await world.client.put(
            f"{SETTINGS}/{scope}", params=params, json={"changes": changes}, headers=headers
        )
        assert answer.status_code == 200, answer.text

    stored = (await world.client.get(SETTINGS, headers=headers)).json()
    levels = {
        (level["scope"], level["exchange"], level["strategy"], level["side"]): level["values"] for level in stored
    }
    assert levels == {
        ("global", None, None, None): {"risk_pct": "1", "leverage": 5},
        ("exchange", "bybit", None, None): {"leverage": 3},
        ("strategy", None, "cornix", None): {"risk_pct": "2"},
        ("strategy_side", None, "cornix", "short"): {"risk_pct": "0.5"},
    }

    async def effective(side: str, target: str = "bybit:paper") -> dict[str, object]:
        params = {"target": target, "strategy": "cornix", "side": side}
        answer = await world.client.get(f"{SETTINGS}/effective", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return answer.json()

    assert ((await effective("long"))["risk_pct"], (await effective("long"))["leverage"]) == ("2", 3)
    assert (await effective("short"))["risk_pct"] == "0.5"
    assert (await effective("long", "binance:paper"))["leverage"] == 5  # the exchange level is Bybit's only

    cleared = await world.client.delete(
        f"{SETTINGS}/strategy", params={"strategy": "cornix", "fields": ["risk_pct"]}, headers=headers
    )
    assert cleared.status_code == 200, cleared.text
    after = (await world.client.get(SETTINGS, headers=headers)).json()
    assert ("strategy", "cornix") not in {(level["scope"], level["strategy"]) for level in after}
    assert (await effective("long"))["risk_pct"] == "1"  # the global level applies again


async def test_a_refused_change_stores_nothing_and_another_user_sees_none_of_it(world: World) -> None:
    await world.user(3102)
    await world.user(3103)
    alice, bob = await world.headers(3102), await world.headers(3103)
    await world.client.put(f"{SETTINGS}/global", json={"changes": {"risk_pct": "1.5"}}, headers=alice)
    refused = await world.client.put(
        f"{SETTINGS}/global", json={"changes": {"risk_pct": "2", "leverage": 1000}}, headers=alice
    )
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "leverage"
    assert [level["values"] for level in (await world.client.get(SETTINGS, headers=alice)).json()] == [
        {"risk_pct": "1.5"}
    ]
    assert (await world.client.get(SETTINGS, headers=bob)).json() == []
    wrong_scope = await world.client.put(f"{SETTINGS}/planet", json={"changes": {"risk_pct": "1"}}, headers=alice)
    assert wrong_scope.status_code == 422 and wrong_scope.json()["error"]["field"] == "scope"
