"""Licence rules: what each tier allows, what a licence costs, and what buying one does to those a user holds.

Pure decisions; the accounts services load the facts (a user's licences, the configured rules) and apply
the outcome.

What each tier allows:

- **trial**: every strategy, on demo and testnet targets only; once per user.
- **basic**: Bybit only, demo and live, the strategies the operator lists (``basic_strategies``).
- **premium**: every target and every strategy, except those the operator reserves for enterprise.
- **enterprise**: everything, plus the operator's extras (reserved strategies and named features).

Paper targets (the local simulator: no venue, no money) need no licence unless the operator says so
(``paper_free``), so anyone approved can try the platform. Admins need none: they operate it.

What a grant (a purchase, a promo code, an admin's grant) of ``tier`` does, given the licences active now:

- the **same tier** is active: that licence is extended from its current expiry;
- a **higher tier** than every active one: it starts now, and the time left on the active (lower)
  licences is converted into extra days of the new tier pro rata by monthly list price (10 days of
  basic at 25 ELC become 5 days of premium at 50); those licences end now. Nothing paid for is lost,
  and an upgrade cannot be used to buy the higher tier's days at the lower tier's price;
- a **lower tier** than one active: it starts now, as the issue asks, and the higher licence keeps
  running until its own expiry. Both count while both run (a user is never downgraded by a promo code
  or a cheaper purchase); the overlap is shown before a purchase (:class:`GrantPlan.overlap_ms`).

An expired licence stops new entries only: copy trading manages open positions without asking the
licence, so nothing already open is abandoned.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Protocol

from elcaro.models import Environment, Exchange, Target
from elcaro.models.errors import ValidationError
from elcaro.models.licence import PERIOD_DAYS, Licence, LicenceTier, Price, period_days
from elcaro.models.timeframe import DAY_MS


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str = ""
    """Why not, for the user (which licence would allow it)."""


class LicencePolicy(Protocol):
    def allows(self, user_id: int, strategy: str, target: Target) -> Decision: ...


class AllowAll:
    """Permissive: for tests and tools that exercise copy trading apart from licensing."""

    def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        return Decision(allowed=True)


ALLOW_ALL = AllowAll()

ALLOWED = Decision(allowed=True)
_TRIAL_ENVIRONMENTS = frozenset({Environment.PAPER, Environment.DEMO, Environment.TESTNET})
_BASIC_ENVIRONMENTS = frozenset({Environment.PAPER, Environment.DEMO, Environment.LIVE})


@dataclass(frozen=True, slots=True)
class LicenceRules:
    """The operator's choices: which strategies basic copies, what enterprise adds, whether paper is free."""

    basic_strategies: frozenset[str]
    enterprise_strategies: frozenset[str] = frozenset()
    """Strategies only enterprise may copy (premium gets every other one)."""
    enterprise_features: frozenset[str] = frozenset()
    """Named extras the interfaces unlock for enterprise (``LicenceService.has_feature``)."""
    paper_free: bool = True

    def allows(self, tier: LicenceTier, strategy: str, target: Target) -> Decision:
        """May a holder of ``tier`` copy ``strategy`` on ``target``? The refusal names the tier that would."""
        if strategy in self.enterprise_strategies and tier is not LicenceTier.ENTERPRISE:
            return Decision(False, f"strategy {strategy} needs the enterprise licence")
        if tier is LicenceTier.TRIAL:
            return _trial_allows(target)
        if tier is LicenceTier.BASIC:
            return self._basic_allows(strategy, target)
        return ALLOWED

    def _basic_allows(self, strategy: str, target: Target) -> Decision:
        if target.exchange is not Exchange.BYBIT:
            return Decision(False, f"the basic licence covers Bybit only; {target} needs premium")
        if target.environment not in _BASIC_ENVIRONMENTS:
            return Decision(False, f"the basic licence covers demo and live; {target} needs premium")
        if strategy not in self.basic_strategies:
            return Decision(False, f"the basic licence does not cover strategy {strategy}; it needs premium")
        return ALLOWED

    def features(self, tier: LicenceTier) -> frozenset[str]:
        return self.enterprise_features if tier is LicenceTier.ENTERPRISE else frozenset()


def _trial_allows(target: Target) -> Decision:
    if target.environment not in _TRIAL_ENVIRONMENTS:
        return Decision(False, f"the trial covers demo and testnet targets only; {target} needs basic or higher")
    return ALLOWED


@dataclass(frozen=True, slots=True)
class Standing:
    """One user's licences as they stand at a moment: the policy's facts about them."""

    user_id: int
    active: tuple[Licence, ...] = ()
    """Licences active at the moment, highest tier first."""
    latest: Licence | None = None
    """The licence that ended last, when none is active: to say when it expired."""
    admin: bool = False

    @classmethod
    def of(cls, user_id: int, licences: Iterable[Licence], now: int, *, admin: bool = False) -> Standing:
        mine = [licence for licence in licences if licence.user_id == user_id]
        active = sorted((lic for lic in mine if lic.is_active(now)), key=lambda lic: -lic.tier.rank)
        ended = [lic for lic in mine if not lic.is_active(now) and lic.starts_at <= now]
        latest = max(
            ended, key=lambda lic: (min(lic.expires_at, lic.revoked_at or lic.expires_at), lic.id), default=None
        )
        return cls(user_id, tuple(active), None if active else latest, admin)

    @property
    def tier(self) -> LicenceTier | None:
        """The highest tier active."""
        return self.active[0].tier if self.active else None

    def decide(self, rules: LicenceRules, strategy: str, target: Target) -> Decision:
        if rules.paper_free and target.environment is Environment.PAPER:
            return ALLOWED
        if self.admin:
            return ALLOWED
        if not self.active:
            return Decision(False, self._no_licence())
        refusals = []
        for licence in self.active:
            decision = rules.allows(licence.tier, strategy, target)
            if decision.allowed:
                return decision
            refusals.append(decision)
        return refusals[0]  # the highest tier's reason: the one closest to allowing it

    def _no_licence(self) -> str:
        latest = self.latest
        if latest is None:
            return "no licence: start the trial or buy a licence to copy signals"
        if latest.revoked:
            return f"the {latest.tier} licence was revoked; buy a licence to copy signals again"
        return f"the {latest.tier} licence expired; renew it to take new entries (open positions are still managed)"


class LicenceBook:
    """The licence policy over a snapshot of standings taken at one moment (copy trading's gates ask it)."""

    def __init__(self, rules: LicenceRules, standings: Iterable[Standing]) -> None:
        self._rules = rules
        self._standings = {standing.user_id: standing for standing in standings}

    def allows(self, user_id: int, strategy: str, target: Target) -> Decision:
        standing = self._standings.get(user_id) or Standing(user_id)
        return standing.decide(self._rules, strategy, target)


@dataclass(frozen=True, slots=True)
class PriceList:
    """Monthly prices (ELC minor units) of the paid tiers and the discount for each period."""

    monthly_minor: Mapping[LicenceTier, int]
    discount_pct: Mapping[int, Decimal] = field(default_factory=lambda: {1: Decimal(0)})

    def __post_init__(self) -> None:
        for tier in LicenceTier:
            if tier.is_paid and self.monthly_minor.get(tier, 0) <= 0:
                raise ValidationError(f"the {tier} licence needs a positive monthly price", field="monthly_minor")
        for months, pct in self.discount_pct.items():
            period_days(months)
            if not Decimal(0) <= pct < Decimal(100):
                raise ValidationError(
                    f"a discount is 0 to under 100 %, got {pct} for {months} months", field="discount"
                )

    def monthly(self, tier: LicenceTier) -> int:
        """The monthly list price; 0 for the trial."""
        return self.monthly_minor[tier] if tier.is_paid else 0

    def price(self, tier: LicenceTier, months: int) -> Price:
        """Rounded down to the minor unit: a discount is never smaller than stated."""
        if not tier.is_paid:
            raise ValidationError("the trial is not sold", field="tier")
        days = period_days(months)
        pct = self.discount_pct.get(months, Decimal(0))
        list_minor = self.monthly(tier) * months
        amount = (Decimal(list_minor) * (100 - pct) / 100).to_integral_value(rounding=ROUND_DOWN)
        return Price(tier, months, days, list_minor, pct, int(amount))

    def all(self) -> list[Price]:
        return [self.price(tier, months) for tier in LicenceTier if tier.is_paid for months in PERIOD_DAYS]


@dataclass(frozen=True, slots=True)
class GrantPlan:
    """What a grant of ``tier`` for ``days`` does: extend a licence, or start one and end others."""

    tier: LicenceTier
    days: int
    extend: Licence | None
    """The active licence of the same tier whose expiry moves to ``expires_at``."""
    ends: tuple[Licence, ...]
    """Lower-tier licences that end now, their time converted into ``credit_ms``."""
    starts_at: int
    expires_at: int
    credit_ms: int = 0
    overlap_ms: int = 0
    """Time the new (lower-tier) licence runs alongside a higher one still active."""


def plan_grant(active: Iterable[Licence], tier: LicenceTier, days: int, now: int, prices: PriceList) -> GrantPlan:
    """Apply the extension rules of this module's docstring to the licences ``active`` at ``now``."""
    if days < 1:
        raise ValidationError(f"a licence is granted for at least 1 day, got {days}", field="days")
    active = [licence for licence in active if licence.is_active(now)]
    length = days * DAY_MS
    same = next((licence for licence in active if licence.tier is tier), None)
    if same is not None:
        return GrantPlan(tier, days, same, (), same.starts_at, same.expires_at + length)
    higher = [licence for licence in active if licence.tier.rank > tier.rank]
    if higher:
        overlap = min(length, max(licence.expires_at for licence in higher) - now)
        return GrantPlan(tier, days, None, (), now, now + length, overlap_ms=overlap)
    price = prices.monthly(tier)
    credit = (
        sum(licence.remaining_ms(now) * prices.monthly(licence.tier) for licence in active) // price if price else 0
    )
    return GrantPlan(tier, days, None, tuple(active), now, now + length + credit, credit_ms=credit)
