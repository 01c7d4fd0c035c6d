"""The venue-neutral protocol conformance suite, run against the paper adapter."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from conformance import CHECKS, Check, Venue, run_all

from elcaro.exchanges.paper import PaperEngine, PaperExchangeAdapter
from elcaro.exchanges.protocol import ExchangeAdapter
from paper.builders import ALICE, BTC, make_engine


class EngineDriver:
    def __init__(self, engine: PaperEngine) -> None:
        self._engine = engine

    async def set_price(self, symbol: str, price: D) -> None:
        self._engine.update_mark(symbol, price)


def paper_venue() -> Venue:
    engine, _ = make_engine()
    return Venue(PaperExchangeAdapter(engine, ALICE), EngineDriver(engine), BTC.symbol, D("30000"))


def test_the_paper_adapter_implements_the_protocol() -> None:
    assert isinstance(paper_venue().adapter, ExchangeAdapter)


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__.removeprefix("check_"))
async def test_conformance(check: Check) -> None:
    await check(paper_venue())


async def test_the_checks_run_one_after_another_on_one_account() -> None:
    await run_all(paper_venue())
