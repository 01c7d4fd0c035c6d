"""The wire rules, checked with plain HTTP: Bybit's envelope, paging, signatures, the time window, the admin guard."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from elcaro.exchanges.simulator import AccountConfig, RateLimitConfig, RunningSimulator, SimulatorConfig
from simulator.helpers import body, signed_headers


@pytest.fixture
def config(account: AccountConfig) -> SimulatorConfig:
    return SimulatorConfig(accounts=(account,), rate_limits=RateLimitConfig())  # Bybit's default limits


@pytest.fixture
async def http(simulator: RunningSimulator) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=simulator.url) as session:
        yield session


def _keys(account: AccountConfig) -> tuple[str, str]:
    return account.api_key, account.api_secret.get_secret_value()


async def _get(http: aiohttp.ClientSession, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any, Any]:
    async with http.get(path, headers=headers) as response:
        return response.status, await response.json(), response.headers


async def _post(http: aiohttp.ClientSession, path: str, data: str, headers: dict[str, str]) -> tuple[int, Any, Any]:
    async with http.post(path, data=data, headers=headers) as response:
        return response.status, await response.json(), response.headers


async def test_answers_come_in_bybits_envelope(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await _get(http, "/v5/market/tickers?category=linear&symbol=BTCUSDT")

    assert status == 200
    assert set(answer) == {"retCode", "retMsg", "result", "retExtInfo", "time"}
    assert (answer["retCode"], answer["retMsg"], answer["retExtInfo"]) == (0, "OK", {})
    assert abs(answer["time"] - time.time() * 1000) < 5000
    (row,) = answer["result"]["list"]
    assert (answer["result"]["category"], row["symbol"], row["lastPrice"]) == ("linear", "BTCUSDT", "60000.00")


async def test_refusals_keep_the_envelope_with_bybits_code(http: aiohttp.ClientSession) -> None:
    status, answer, _ = await _get(http, "/v5/market/orderbook?category=linear")
    assert (status, answer["retCode"], answer["result"]) == (200, 10001, {})

    status, answer, _ = await _get(http, "/v5/spot/anything")
    assert (status, answer["retCode"]) == (404, 10017)


async def test_lists_page_with_next_page_cursor(http: aiohttp.ClientSession) -> None:
    _, first, _ = await _get(http, "/v5/market/instruments-info?category=linear&limit=3")
    cursor = first["result"]["nextPageCursor"]
    _, second, _ = await _get(http, f"/v5/market/instruments-info?category=linear&limit=3&cursor={cursor}")

    symbols = [row["symbol"] for page in (first, second) for row in page["result"]["list"]]
    assert symbols == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT", "DOGEUSDT"]
    assert second["result"]["nextPageCursor"] == ""


async def test_get_signs_the_query_string_exactly_as_sent(http: aiohttp.ClientSession, account: AccountConfig) -> None:
    query = "accountType=UNIFIED&coin=USDT"
    headers = signed_headers(*_keys(account), query)

    _, answer, response_headers = await _get(http, f"/v5/account/wallet-balance?{query}", headers)
    assert answer["retCode"] == 0
    assert answer["result"]["list"][0]["coin"][0]["walletBalance"] == "10000"
    assert response_headers["X-Bapi-Limit"] == "50"
    assert response_headers["X-Bapi-Limit-Status"] == "49"

    _, answer, _ = await _get(http, "/v5/account/wallet-balance?coin=USDT&accountType=UNIFIED", headers)
    assert answer["retCode"] == 10004  # the same parameters in another order are another payload


async def test_post_signs_the_raw_body(http: aiohttp.ClientSession, account: AccountConfig) -> None:
    order = body({"category": "linear", "symbol": "BTCUSDT", "side": "Buy", "orderType": "Market", "qty": "0.01"})
    headers = signed_headers(*_keys(account), order)

    _, answer, _ = await _post(http, "/v5/order/create", order.replace(", ", ","), headers)
    assert answer["retCode"] == 10004

    _, answer, response_headers = await _post(http, "/v5/order/create", order, headers | {"X-BAPI-SIGN-TYPE": "2"})
    assert answer["retCode"] == 0 and answer["result"]["orderId"]
    assert response_headers["X-Bapi-Limit"] == "10"


async def test_the_signature_may_be_upper_case_but_not_another_type(
    http: aiohttp.ClientSession, account: AccountConfig
) -> None:
    query = "category=linear&settleCoin=USDT"
    headers = signed_headers(*_keys(account), query)
    upper = headers | {"X-BAPI-SIGN": headers["X-BAPI-SIGN"].upper()}

    assert (await _get(http, f"/v5/position/list?{query}", upper))[1]["retCode"] == 0
    rsa = headers | {"X-BAPI-SIGN-TYPE": "1"}
    assert (await _get(http, f"/v5/position/list?{query}", rsa))[1]["retCode"] == 10004


@pytest.mark.parametrize(
    ("age_ms", "recv_window", "code"),
    [
        (4_000, "5000", 0),
        (6_000, "5000", 10002),
        (6_000, "10000", 0),
        (-500, "5000", 0),
        (-1_500, "5000", 10002),  # more than a second ahead of the server
    ],
)
async def test_the_timestamp_must_fall_in_the_receive_window(
    http: aiohttp.ClientSession, account: AccountConfig, age_ms: int, recv_window: str, code: int
) -> None:
    query = "category=linear&settleCoin=USDT"
    stamp = time.time_ns() // 1_000_000 - age_ms
    headers = signed_headers(*_keys(account), query, timestamp=stamp, recv_window=recv_window)

    _, answer, _ = await _get(http, f"/v5/position/list?{query}", headers)

    assert answer["retCode"] == code


async def test_an_unknown_or_missing_key_is_10003(http: aiohttp.ClientSession, account: AccountConfig) -> None:
    query = "category=linear&settleCoin=USDT"
    headers = signed_headers("not-a-key", account.api_secret.get_secret_value(), query)

    assert (await _get(http, f"/v5/position/list?{query}", headers))[1]["retCode"] == 10003
    assert (await _get(http, f"/v5/position/list?{query}"))[1]["retCode"] == 10003


async def test_a_body_that_is_not_a_json_object_is_a_parameter_error(
    http: aiohttp.ClientSession, account: AccountConfig
) -> None:
    for payload in ("{not json", "[1, 2]"):
        _, answer, _ = await _post(http, "/v5/order/create", payload, signed_headers(*_keys(account), payload))
        assert answer["retCode"] == 10001


async def test_the_admin_api_wants_its_token(http: aiohttp.ClientSession, simulator: RunningSimulator) -> None:
    price = {"symbol": "BTCUSDT", "price": "61000"}
    async with http.post("/sim/admin/mark", json=price) as response:
        assert response.status == 401
    async with http.post("/sim/admin/mark", json=price, headers={"Authorization": "Bearer wrong"}) as response:
        assert response.status == 401
    bearer = {"Authorization": f"Bearer {simulator.admin_token}"}
    async with http.post("/sim/admin/mark", json=price | {"symbol": "NOPE"}, headers=bearer) as response:
        assert response.status == 400 and "Not supported symbols" in (await response.json())["error"]
    async with http.post("/sim/admin/mark", json=price, headers=bearer) as response:
        assert (await response.json())["markPrice"] == "61000.00"
