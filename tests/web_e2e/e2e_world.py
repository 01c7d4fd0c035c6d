"""The platform served on loopback for the browser: a seeded database, the local paper exchange, uvicorn.

``served_platform(directory)`` migrates a fresh SQLite database, opens the whole runtime (paper exchange
with prices that move only when a test moves them, position monitor, notifications), starts the strategy
engine idle for the admin pages, seeds a trader and an admin with positions, history and candles, and
serves the web app — API, websocket and the built dashboard — with uvicorn on 127.0.0.1.

``mini_app_init_data`` signs a Mini App payload exactly as Telegram does (written out here rather than
borrowed from the platform, so the test checks the server against the specification, not against itself).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from elcaro.core.config import Settings
from elcaro.core.secrets import generate_key
from elcaro.models import ExitReason, PositionSide, Target, TelegramProfile, Trade, User
from elcaro.services.engine.wiring import engine_config, running_engine
from elcaro.services.runtime import Runtime, open_runtime
from elcaro.web.app import create_app, serving
from elcaro.web.ratelimit import RateLimitPolicy, Rule

BOT_TOKEN = "424242:e2e-made-up-token-for-the-browser-tests"
TRADER_TG = 7001
ADMIN_TG = 7002
PAPER = "bybit:paper"
CANDLE_EXCHANGE = "binance"
CANDLE_SYMBOL = "BTC/USDT:USDT"
DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
BTC_CANDLES = DATA / "ohlcv" / "BTC_USDT-5m.csv"
STATIC_INDEX = Path(__file__).resolve().parents[2] / "src" / "elcaro" / "web" / "static" / "index.html"

RELAXED = RateLimitPolicy(
    login_per_ip=Rule(6000, 1000),
    login_per_user=Rule(6000, 1000),
    orders_per_ip=Rule(6000, 1000),
    orders_per_user=Rule(6000, 1000),
    webhook_per_ip=Rule(6000, 1000),
)
"""A browser run makes many requests from one address in a few seconds; the limits are tested elsewhere."""

_SIMULATOR_TOML = """\
# The paper market moves only when a test moves it (no synthetic walk), so every figure on screen is known.
[prices]
kind = "none"
"""


def mini_app_init_data(telegram_id: int, *, bot_token: str = BOT_TOKEN, first_name: str = "Alice") -> str:
    """``Telegram.WebApp.initData`` as Telegram signs it: HMAC-SHA-256 of the sorted ``key=value`` lines,
    keyed with HMAC-SHA-256("WebAppData", bot token)."""
    user = {"id": telegram_id, "first_name": first_name, "username": f"user{telegram_id}", "language_code": "en"}
    fields = {
        "query_id": "AAE" + uuid.uuid4().hex[:20],
        "user": json.dumps(user, separators=(",", ":")),
        "auth_date": str(int(time.time())),
    }
    check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
    secret = hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()
    fields["hash"] = hmac.new(secret, check.encode(), hashlib.sha256).hexdigest()
    return urlencode(fields)


@dataclass
class Served:
    url: str
    runtime: Runtime
    trader: User
    admin: User
    positions: dict[str, int]
    """Seeded open positions of the trader by base coin (``BTC``, ``ETH``)."""

    def move_price(self, market_id: str, price: str) -> None:
        """Move the local exchange's mark and last price (``BTCUSDT``), as the market would."""
        self.runtime.exchange.simulator.venue.set_price(market_id, Decimal(price))


def settings_for(directory: Path, **overrides: Any) -> Settings:
    simulator = directory / "simulator.toml"
    simulator.write_text(_SIMULATOR_TOML, encoding="utf-8")
    return Settings(
        data_dir=directory / "data",
        database_url=f"sqlite+aiosqlite:///{directory / 'e2e.db'}",
        master_key=generate_key(),
        simulator_port=0,
        simulator_config_file=simulator,
        telegram_bot_token=BOT_TOKEN,
        web_port=0,
        **overrides,
    )


async def _user(runtime: Runtime, telegram_id: int, name: str, *, admin: bool = False) -> User:
    users = runtime.platform.users
    user = await users.register(TelegramProfile(telegram_id, username=f"user{telegram_id}", first_name=name))
    user = await users.approve(user.id)
    if admin:
        user = await users.promote(user.id)
    return await users.accept_terms(user.id)


async def _seed_history(runtime: Runtime, user: User) -> None:
    """A month of closed trades (wins and losses on two strategies) for the history, statistics and curve."""
    day = 86_400_000
    today = datetime.now(UTC).replace(hour=9, minute=30, second=0, microsecond=0)
    start = int(today.timestamp() * 1000) - 25 * day  # the last month: "this month" and "all time" both show it
    rows = [
        ("BTC/USDT:USDT", PositionSide.LONG, "0.010", "60000", "61200", ExitReason.TAKE_PROFIT, "scryptomera"),
        ("ETH/USDT:USDT", PositionSide.SHORT, "0.50", "3100", "3160", ExitReason.STOP_LOSS, "scryptomera"),
        ("SOL/USDT:USDT", PositionSide.LONG, "5.0", "140", "151.5", ExitReason.TAKE_PROFIT, "manual"),
        ("BTC/USDT:USDT", PositionSide.SHORT, "0.020", "62000", "61400", ExitReason.TRAILING_STOP, "scryptomera"),
        ("XRP/USDT:USDT", PositionSide.LONG, "1000", "0.52", "0.505", ExitReason.STOP_LOSS, "manual"),
        ("ETH/USDT:USDT", PositionSide.LONG, "0.40", "3050", "3190", ExitReason.TAKE_PROFIT, "scryptomera"),
        ("SOL/USDT:USDT", PositionSide.SHORT, "4.0", "155", "149", ExitReason.MANUAL, "manual"),
        ("BTC/USDT:USDT", PositionSide.LONG, "0.015", "60500", "60100", ExitReason.STOP_LOSS, "scryptomera"),
    ]
    async with runtime.platform.database.transaction() as tx:
        for index, (symbol, side, qty, entry, exit_, reason, strategy) in enumerate(rows):
            opened = start + index * 3 * day
            trade = Trade(
                target=Target.parse(PAPER),
                symbol=symbol,
                side=side,
                qty=Decimal(qty),
                entry_price=Decimal(entry),
                exit_price=Decimal(exit_),
                opened_at=opened,
                closed_at=opened + day // 3,
                exit_reason=reason,
                strategy=strategy,
                fees=(Decimal(qty) * Decimal(entry) * Decimal("0.0011")).quantize(Decimal("0.0001")),
                user_id=user.id,
            )
            await tx.trades.add(trade)


async def _open_positions(client: httpx.AsyncClient, headers: dict[str, str]) -> dict[str, int]:
    enabled = await client.put(f"/api/v1/me/targets/{PAPER}", json={"enabled": True}, headers=headers)
    enabled.raise_for_status()
    opened: dict[str, int] = {}
    for coin, side, qty in (("BTC", "long", "0.010"), ("ETH", "short", "0.20")):
        placed = await client.post(
            "/api/v1/trading/manual",
            json={"symbol": f"{coin}USDT", "side": side, "qty": qty, "target": PAPER, "intent": uuid.uuid4().hex},
            headers=headers,
        )
        assert placed.status_code == 201, placed.text
        position_id = placed.json()["position_id"]
        assert position_id is not None, placed.text
        opened[coin] = position_id
    return opened


async def _login(client: httpx.AsyncClient, telegram_id: int) -> dict[str, str]:
    answer = await client.post("/api/v1/auth/telegram/mini-app", json={"init_data": mini_app_init_data(telegram_id)})
    assert answer.status_code == 200, answer.text
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@contextlib.asynccontextmanager
async def served_platform(directory: Path, *, port: int = 0) -> AsyncIterator[Served]:
    """The seeded platform and its web app on ``127.0.0.1:port`` (0: any free port) until the block ends."""
    settings = settings_for(directory)
    async with open_runtime(settings) as runtime:
        trader = await _user(runtime, TRADER_TG, "Alice")
        admin = await _user(runtime, ADMIN_TG, "Olga", admin=True)
        await runtime.platform.market_data.import_csv(
            BTC_CANDLES, exchange=CANDLE_EXCHANGE, symbol=CANDLE_SYMBOL, timeframe="5m"
        )
        await _seed_history(runtime, trader)
        config = engine_config(settings, user_id=admin.id, target=PAPER)
        async with running_engine(runtime, config, settings.data_dir, start=False) as engine:
            app = create_app(runtime, settings, engine=engine, limits=RELAXED)
            async with serving(app, "127.0.0.1", port) as url, httpx.AsyncClient(base_url=url) as client:
                positions = await _open_positions(client, await _login(client, TRADER_TG))
                yield Served(url=url, runtime=runtime, trader=trader, admin=admin, positions=positions)
