"""Licence rules: what each tier allows, prices, and what a grant does to the licences a user holds."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from trading_builders import settings, signal

from elcaro.models import Target
from elcaro.models.errors import ValidationError
from elcaro.models.licence import Licence, LicenceSource, LicenceTier
from elcaro.models.timeframe import DAY_MS
from elcaro.trading.gates import GateCode, GateSnapshot, check_gates
from elcaro.trading.licence import LicenceBook, LicenceRules, PriceList, Standing, plan_grant

NOW = 1_750_000_000_000
ELC = 100_000_000
RULES = LicenceRules(basic_strategies=frozenset({"elcaro", "scalper"}), enterprise_strategies=frozenset({"vip"}))
PRICES = PriceList(
    {LicenceTier.BASIC: 25 * ELC, LicenceTier.PREMIUM: 50 * ELC, LicenceTier.ENTERPRISE: 250 * ELC},
    {1: Decimal(0), 3: Decimal(5), 6: Decimal(10), 12: Decimal(20)},
)
T = Target.parse
EVERY_TARGET = [
    T(text)
    for text in (
        "bybit:paper",
        "bybit:demo",
        "bybit:testnet",
        "bybit:live",
        "binance:paper",
        "binance:testnet",
        "binance:live",
        "hyperliquid:paper",
        "hyperliquid:testnet",
        "hyperliquid:live",
    )
]


def licence(
    tier: LicenceTier, *, days: float = 30, start: int = NOW - DAY_MS, ident: int = 1, user: int = 7, **changes: object
) -> Licence:
    fields: dict[str, object] = {
        "id": ident,
        "user_id": user,
        "tier": tier,
        "source": LicenceSource.PURCHASE,
        "starts_at": start,
        "expires_at": start + int(days * DAY_MS),
        "created_at": start,
        "updated_at": start,
    }
    fields.update(changes)
    return Licence(**fields)  # type: ignore[arg-type]


def allowed(tier: LicenceTier, strategy: str, target: Target) -> bool:
    return RULES.allows(tier, strategy, target).allowed


def test_the_trial_allows_every_strategy_on_demo_and_testnet_targets_only() -> None:
    for target in EVERY_TARGET:
        expected = target.environment.value in ("paper", "demo", "testnet")
        assert allowed(LicenceTier.TRIAL, "anything", target) is expected, target
    refusal = RULES.allows(LicenceTier.TRIAL, "elcaro", T("bybit:live"))
    assert refusal.reason == "the trial covers demo and testnet targets only; bybit:live needs basic or higher"


def test_basic_allows_its_strategies_on_bybit_demo_and_live() -> None:
    for target in EVERY_TARGET:
        expected = target.exchange.value == "bybit" and target.environment.value in ("paper", "demo", "live")
        assert allowed(LicenceTier.BASIC, "elcaro", target) is expected, target
    assert not allowed(LicenceTier.BASIC, "fibonacci", T("bybit:live"))
    assert RULES.allows(LicenceTier.BASIC, "fibonacci", T("bybit:live")).reason == (
        "the basic licence does not cover strategy fibonacci; it needs premium"
    )
    assert RULES.allows(LicenceTier.BASIC, "elcaro", T("binance:live")).reason == (
        "the basic licence covers Bybit only; binance:live needs premium"
    )


def test_premium_allows_everything_but_what_the_operator_reserves_for_enterprise() -> None:
    for target in EVERY_TARGET:
        assert allowed(LicenceTier.PREMIUM, "fibonacci", target)
        assert allowed(LicenceTier.ENTERPRISE, "fibonacci", target)
        assert allowed(LicenceTier.ENTERPRISE, "vip", target)
        assert not allowed(LicenceTier.PREMIUM, "vip", target)
    assert RULES.allows(LicenceTier.BASIC, "vip", T("bybit:live")).reason == "strategy vip needs the enterprise licence"


def test_enterprise_features_are_the_operators_extras() -> None:
    rules = LicenceRules(frozenset(), enterprise_features=frozenset({"api", "priority"}))
    assert rules.features(LicenceTier.ENTERPRISE) == {"api", "priority"}
    assert rules.features(LicenceTier.PREMIUM) == frozenset()


def test_without_a_licence_only_paper_is_free_and_the_reason_says_what_to_do() -> None:
    book = LicenceBook(RULES, [Standing(7)])
    assert book.allows(7, "elcaro", T("bybit:paper")).allowed
    refusal = book.allows(7, "elcaro", T("bybit:demo"))
    assert not refusal.allowed
    assert refusal.reason == "no licence: start the trial or buy a licence to copy signals"
    assert not book.allows(8, "elcaro", T("bybit:demo")).allowed  # a user the snapshot does not know
    strict = LicenceBook(LicenceRules(frozenset(), paper_free=False), [Standing(7)])
    assert not strict.allows(7, "elcaro", T("bybit:paper")).allowed


def test_admins_need_no_licence() -> None:
    book = LicenceBook(RULES, [Standing(7, admin=True)])
    assert all(book.allows(7, "vip", target).allowed for target in EVERY_TARGET)


def test_an_expired_or_revoked_licence_allows_nothing_and_says_so() -> None:
    expired = Standing.of(7, [licence(LicenceTier.PREMIUM, days=0.5)], NOW)
    assert expired.active == () and expired.latest is not None
    refusal = expired.decide(RULES, "elcaro", T("bybit:live"))
    assert refusal.reason == (
        "the premium licence expired; renew it to take new entries (open positions are still managed)"
    )
    revoked = Standing.of(7, [licence(LicenceTier.PREMIUM, revoked_at=NOW - 1, revoke_reason="abuse")], NOW)
    assert revoked.decide(RULES, "elcaro", T("bybit:live")).reason.startswith("the premium licence was revoked")
    future = Standing.of(7, [licence(LicenceTier.PREMIUM, start=NOW + DAY_MS)], NOW)
    assert not future.decide(RULES, "elcaro", T("bybit:live")).allowed


def test_the_gate_refuses_an_expired_licence_with_its_reason() -> None:
    book = LicenceBook(RULES, [Standing.of(7, [licence(LicenceTier.BASIC, days=0.5)], NOW)])
    snapshot = GateSnapshot(
        now=NOW,
        global_paused=False,
        user_paused=False,
        user_may_trade=True,
        has_credentials=True,
        live_opted_in=True,
        open_positions=1,
        position_symbols=frozenset({"ETH/USDT:USDT"}),
        open_order_symbols=frozenset(),
        last_closed_at={},
        day_start_equity=Decimal(1000),
        loss_today=Decimal(0),
    )
    blocked = check_gates(signal(strategy="elcaro"), settings(), T("bybit:live"), 7, snapshot, book)
    assert blocked is not None and blocked.code is GateCode.LICENCE
    assert "basic licence expired" in blocked.message


def test_licences_held_together_allow_what_either_allows() -> None:
    held = [licence(LicenceTier.BASIC, ident=1), licence(LicenceTier.TRIAL, ident=2)]
    standing = Standing.of(7, held, NOW)
    assert standing.tier is LicenceTier.BASIC
    assert standing.decide(RULES, "fibonacci", T("binance:testnet")).allowed  # the trial's
    assert standing.decide(RULES, "elcaro", T("bybit:live")).allowed  # basic's
    refusal = standing.decide(RULES, "fibonacci", T("binance:live"))
    assert refusal.reason.startswith("the basic licence covers Bybit only")  # the higher tier's reason


def test_prices_take_the_periods_discount() -> None:
    assert [(p.months, p.days, p.amount_minor) for p in PRICES.all() if p.tier is LicenceTier.BASIC] == [
        (1, 30, 25 * ELC),
        (3, 90, 7125 * ELC // 100),
        (6, 180, 135 * ELC),
        (12, 365, 240 * ELC),
    ]
    assert PRICES.price(LicenceTier.ENTERPRISE, 12).amount_minor == 2400 * ELC
    with pytest.raises(ValidationError, match="1, 3, 6, 12 months, got 2"):
        PRICES.price(LicenceTier.BASIC, 2)
    with pytest.raises(ValidationError, match="trial is not sold"):
        PRICES.price(LicenceTier.TRIAL, 1)
    with pytest.raises(ValidationError, match="positive monthly price"):
        PriceList({LicenceTier.BASIC: 1, LicenceTier.PREMIUM: 0, LicenceTier.ENTERPRISE: 1})
    with pytest.raises(ValidationError, match="0 to under 100"):
        PriceList({tier: 1 for tier in LicenceTier if tier.is_paid}, {3: Decimal(100)})


@given(
    monthly=st.integers(min_value=1, max_value=10**15),
    months=st.sampled_from([1, 3, 6, 12]),
    pct=st.decimals(min_value=0, max_value=Decimal("99.99"), places=2),
)
def test_a_discounted_price_is_never_more_than_the_discount_says(monthly: int, months: int, pct: Decimal) -> None:
    prices = PriceList({tier: monthly for tier in LicenceTier if tier.is_paid}, {months: pct})
    price = prices.price(LicenceTier.BASIC, months)
    exact = Decimal(monthly * months) * (100 - pct) / 100
    assert price.list_minor == monthly * months
    assert 0 <= exact - price.amount_minor < 1


def test_the_same_tier_extends_from_the_current_expiry() -> None:
    current = licence(LicenceTier.PREMIUM, days=10)
    plan = plan_grant([current], LicenceTier.PREMIUM, 30, NOW, PRICES)
    assert plan.extend == current and plan.ends == ()
    assert plan.expires_at == current.expires_at + 30 * DAY_MS


def test_a_higher_tier_starts_now_with_the_lower_tiers_time_converted_by_price() -> None:
    basic = licence(LicenceTier.BASIC, days=11)  # started a day ago: 10 days left, worth 5 days of premium
    plan = plan_grant([basic], LicenceTier.PREMIUM, 30, NOW, PRICES)
    assert plan.extend is None and plan.ends == (basic,)
    assert plan.starts_at == NOW
    assert plan.credit_ms == 5 * DAY_MS
    assert plan.expires_at == NOW + 35 * DAY_MS


def test_a_trial_converts_to_nothing_when_a_paid_tier_is_bought() -> None:
    plan = plan_grant([licence(LicenceTier.TRIAL, days=7)], LicenceTier.BASIC, 30, NOW, PRICES)
    assert plan.credit_ms == 0 and plan.expires_at == NOW + 30 * DAY_MS and len(plan.ends) == 1


def test_a_lower_tier_starts_now_and_the_higher_keeps_running() -> None:
    premium = licence(LicenceTier.PREMIUM, days=11)
    plan = plan_grant([premium], LicenceTier.BASIC, 30, NOW, PRICES)
    assert plan.extend is None and plan.ends == ()
    assert (plan.starts_at, plan.expires_at) == (NOW, NOW + 30 * DAY_MS)
    assert plan.overlap_ms == 10 * DAY_MS


def test_without_an_active_licence_a_grant_starts_now() -> None:
    old = licence(LicenceTier.PREMIUM, days=0.5)
    plan = plan_grant([old], LicenceTier.PREMIUM, 30, NOW, PRICES)
    assert plan.extend is None and (plan.starts_at, plan.expires_at) == (NOW, NOW + 30 * DAY_MS)
    with pytest.raises(ValidationError, match="at least 1 day"):
        plan_grant([], LicenceTier.BASIC, 0, NOW, PRICES)


@given(
    left_ms=st.integers(min_value=1, max_value=400 * DAY_MS),
    lower=st.sampled_from([LicenceTier.BASIC, LicenceTier.PREMIUM]),
    monthly=st.lists(st.integers(min_value=1, max_value=10**12), min_size=3, max_size=3).map(sorted),
)
def test_an_upgrade_never_gives_more_than_the_remaining_time_was_worth(
    left_ms: int, lower: LicenceTier, monthly: list[int]
) -> None:
    tiers = [LicenceTier.BASIC, LicenceTier.PREMIUM, LicenceTier.ENTERPRISE]
    prices = PriceList(dict(zip(tiers, monthly, strict=True)))
    held = licence(lower, start=NOW - 1, days=0, expires_at=NOW + left_ms)
    plan = plan_grant([held], LicenceTier.ENTERPRISE, 1, NOW, prices)
    worth = left_ms * prices.monthly(lower)
    assert plan.credit_ms * prices.monthly(LicenceTier.ENTERPRISE) <= worth
    assert worth - plan.credit_ms * prices.monthly(LicenceTier.ENTERPRISE) < prices.monthly(LicenceTier.ENTERPRISE)
